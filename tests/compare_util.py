"""Compare a compiled query's result with a hand-written check query's result.

The check query names its columns after the compiled result's columns (that is the explicit
mapping); every column it produces must exist in the compiled result, so a typo cannot make a
column silently drop out of the comparison.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from semantic_layer.engine import Result

REL_TOL = 1e-6
ABS_TOL = 1e-9


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def values_equal(actual: Any, expected: Any) -> bool:
    """None == None; numbers within a relative tolerance; everything else exactly."""
    if actual is None or expected is None:
        return actual is None and expected is None
    if _is_number(actual) and _is_number(expected):
        return math.isclose(float(actual), float(expected), rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if isinstance(actual, datetime) or isinstance(expected, datetime):
        # Time keys must be DATEs on both sides, not timestamps.
        return type(actual) is type(expected) and actual == expected
    if isinstance(actual, date) and isinstance(expected, date):
        return actual == expected
    return type(actual) is type(expected) and actual == expected


def _sort_key(row: dict[str, Any], keys: Sequence[str]) -> tuple:
    return tuple(
        (row[k] is None, str(type(row[k])), row[k] if row[k] is not None else 0) for k in keys
    )


def assert_same_result(
    actual: Result,
    expected: Result,
    keys: Sequence[str],
    *,
    ordered: bool = False,
    allow_null: bool = False,
) -> None:
    """Assert both results hold the same rows (by key) and the same values (with tolerance)."""
    assert expected.rows, "the hand-written check query returned no rows: the case is vacuous"
    assert actual.rows, "the compiled query returned no rows"
    missing = [n for n in expected.names if n not in actual.names]
    assert not missing, f"compiled result lacks columns {missing}; it has {actual.names}"
    assert all(k in expected.names for k in keys), f"check query must return the keys {keys}"
    names = expected.names
    got = [{n: r[n] for n in names} for r in actual.records()]
    want = expected.records()
    if not ordered:
        got.sort(key=lambda r: _sort_key(r, keys))
        want.sort(key=lambda r: _sort_key(r, keys))
    assert len(got) == len(want), (
        f"row count differs: compiled {len(got)}, expected {len(want)}\n"
        f"compiled keys: {[tuple(r[k] for k in keys) for r in got][:20]}\n"
        f"expected keys: {[tuple(r[k] for k in keys) for r in want][:20]}"
    )
    problems: list[str] = []
    for index, (g, w) in enumerate(zip(got, want, strict=True)):
        for name in names:
            if not values_equal(g[name], w[name]):
                where = {k: w[k] for k in keys}
                problems.append(
                    f"row {index} {where}: {name} compiled={g[name]!r} expected={w[name]!r}"
                )
    assert not problems, f"{len(problems)} value(s) differ:\n" + "\n".join(problems[:25])
    if not allow_null:
        nulls = [f"row {i} column {n}" for i, g in enumerate(got) for n in names if g[n] is None]
        assert not nulls, "unexpected NULLs in the result: " + ", ".join(nulls[:10])
