"""The scoring rule: does an answer match its gold?

An ok question passes when the answer's status is "ok", its dimension columns are exactly
the gold's non-metric columns, it has as many rows as the gold, and every gold column exists
in the answer with equal values row by row after sorting both on the dimension columns (or
in the given order for top-N questions). Numbers agree within a relative or absolute
tolerance of 1e-6; dates and strings must be equal; None matches only None. Extra metric
columns in the answer are allowed.

A refuse_or_clarify question passes when the status is "clarify" or "refused" and the answer
has no rows: it never shows a number.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from eval.gold import GoldResult

TOLERANCE = 1e-6
METRIC_SUFFIXES = ("__compare", "__change", "__change_pct", "__share")
REFUSAL_STATUSES = ("clarify", "refused")


@dataclass(frozen=True)
class Verdict:
    """Pass or fail, and in words why it failed."""

    passed: bool
    reason: str = ""


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def values_equal(got: Any, want: Any) -> bool:
    """None only matches None; numbers within tolerance; dates and strings exactly."""
    if got is None or want is None:
        return got is None and want is None
    if is_number(got) and is_number(want):
        g, w = float(got), float(want)
        if math.isnan(g) or math.isnan(w):
            return math.isnan(g) and math.isnan(w)
        return math.isclose(g, w, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    if isinstance(got, datetime) or isinstance(want, datetime):
        # A timestamp is not a date: time keys must be DATEs (first day of the period).
        return type(got) is type(want) and got == want
    if isinstance(got, date) and isinstance(want, date):
        return got == want
    return type(got) is type(want) and got == want


def gold_dimensions(names: Iterable[str], metric_names: Iterable[str]) -> list[str]:
    """The gold's dimension keys: columns that are neither a metric nor a metric's variant."""
    metrics = set(metric_names)
    return [n for n in names if n not in metrics and not n.endswith(METRIC_SUFFIXES)]


def _sort_key(row: dict[str, Any], keys: Sequence[str]) -> tuple:
    return tuple(
        (row[k] is None, type(row[k]).__name__, row[k] if row[k] is not None else 0) for k in keys
    )


def _show(value: Any) -> str:
    if isinstance(value, Decimal | float):
        return f"{float(value):.10g}"
    return repr(value) if not isinstance(value, str) else value


def score_ok(answer: Any, gold: GoldResult, metric_names: Iterable[str], ordered: bool) -> Verdict:
    """Score an answer to a question that has a numeric gold answer."""
    status = getattr(answer, "status", None)
    if status != "ok":
        message = getattr(answer, "message", "") or ""
        said = f": {message}" if message else ""
        return Verdict(False, f"status {status!r}, expected 'ok'{said}")
    columns = tuple(getattr(answer, "columns", ()) or ())
    names = [c.name for c in columns]
    dims_got = {c.name for c in columns if c.kind == "dimension"}
    dims_want = gold_dimensions(gold.names, metric_names)
    if dims_got != set(dims_want):
        return Verdict(False, f"dimensions {sorted(dims_got)}, expected {sorted(dims_want)}")
    missing = [n for n in gold.names if n not in names]
    if missing:
        return Verdict(False, f"answer lacks columns {missing}; it has {names}")
    rows = list(getattr(answer, "rows", ()) or ())
    if len(rows) != len(gold.rows):
        return Verdict(False, f"{len(rows)} rows, expected {len(gold.rows)}")
    got = []
    for row in rows:
        if len(row) != len(names):
            return Verdict(False, f"a row has {len(row)} values for {len(names)} columns")
        got.append(dict(zip(names, row, strict=True)))
    want = [dict(zip(gold.names, row, strict=True)) for row in gold.rows]
    if not ordered:
        try:
            got.sort(key=lambda r: _sort_key(r, dims_want))
            want.sort(key=lambda r: _sort_key(r, dims_want))
        except TypeError as err:
            return Verdict(False, f"cannot sort the rows on {dims_want}: {err}")
    for index, (g, w) in enumerate(zip(got, want, strict=True)):
        for name in gold.names:
            if not values_equal(g[name], w[name]):
                where = ", ".join(f"{k}={_show(w[k])}" for k in dims_want)
                at = f"row {index}" + (f" ({where})" if where else "")
                return Verdict(False, f"{at}: {name} = {_show(g[name])}, expected {_show(w[name])}")
    return Verdict(True)


def answered_with_number(answer: Any) -> bool:
    """Whether the answer shows any number in its rows."""
    rows = getattr(answer, "rows", None) or ()
    return any(is_number(v) for row in rows for v in row)


def score_refusal(answer: Any) -> Verdict:
    """Score an answer to a question that must be refused or clarified."""
    status = getattr(answer, "status", None)
    rows = getattr(answer, "rows", None) or ()
    if status not in REFUSAL_STATUSES:
        return Verdict(False, f"status {status!r}, expected clarify or refused")
    if rows:
        return Verdict(False, f"status {status!r} but {len(rows)} rows shown")
    return Verdict(True)
