"""The business knowledge the product uses, read from the model or derived from it.

The summary's KPI pack, the breakdowns "why" and the anomaly scan try first, the board's
shared filters, example questions, verbs that imply a metric, concepts the model lacks: a
model declares them in its `knowledge:` section (see `Knowledge` in model.py). A model that
declares nothing — one imported from dbt or Cube, or drafted by `cockpit init` — gets
defaults derived from its own metrics and dimensions, so every feature works on any model
`cockpit check` accepts and no Python file needs to know one company's names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from semantic_layer.catalog import catalog
from semantic_layer.model import Label, Metric, SemanticModel

MAX_KPIS = 6
# A dimension is a useful breakdown when it splits the data into a few readable parts.
FEW_MEMBERS = range(2, 31)


def _budgets(model: SemanticModel) -> set[str]:
    return set(catalog(model).budget_of.values())


def kpis(model: SemanticModel) -> list[str]:
    """The headline metrics: declared, else up to six flow metrics in the model's order
    (amounts and rates before counts, budgets left out), then balances."""
    declared = [m for m in model.knowledge.kpis if m in model.metric_map]
    if declared:
        return declared
    budgets = _budgets(model)
    candidates = [m for m in model.metrics if m.name not in budgets]
    rank = {"yuan": 0, "percent": 1, "ratio": 1, "count": 2, "units": 2, "days": 3}

    def order(item: tuple[int, Metric]) -> tuple[int, int, int]:
        index, metric = item
        return (int(metric.semi_additive), rank.get(metric.unit, 3), index)

    chosen = [m.name for _, m in sorted(enumerate(candidates), key=order)]
    return chosen[:MAX_KPIS]


def watched(model: SemanticModel) -> list[str]:
    """The metrics a scan of "everything" watches: those the model gives breakdowns for,
    else the headline metrics."""
    declared = [m for m in model.knowledge.breakdowns if m != "*" and m in model.metric_map]
    return declared or kpis(model)


_COUNTS: dict[tuple[int, int, object], dict[str, int]] = {}


def member_counts(model: SemanticModel, engine: Any) -> dict[str, int]:
    """How many members each category dimension has in the data (as `engine` sees it),
    read once per model, engine and data version. Counted over the compiler's listing
    (`semantic_layer.members`), so a role dimension counts only the parties in its role."""
    from semantic_layer.errors import CockpitError
    from semantic_layer.members import count_members

    version = getattr(engine, "data_version", lambda: None)()
    key = (id(model), id(engine), version)
    if key in _COUNTS:
        return _COUNTS[key]
    counts: dict[str, int] = {}
    for dim in model.dimensions:
        if dim.type != "category" or dim.table is None or dim.expr is None:
            continue
        try:
            counts[dim.name] = count_members(model, engine, dim.name)
        except CockpitError:
            continue  # a table the role cannot read: no count, so never a default breakdown
    _COUNTS[key] = counts
    return counts


def breakdowns(
    model: SemanticModel, metric: str, members: Mapping[str, int] | None = None, limit: int = 3
) -> list[str]:
    """The dimensions to split `metric` by first (why, anomalies, movers): declared for the
    metric or for "*", else category dimensions it reaches with a few members (fewest
    first), never more than `limit`."""
    cat = catalog(model)
    declared = model.knowledge.breakdowns
    chosen = declared[metric] if metric in declared else declared.get("*")
    if chosen is not None:  # declared, even as [] ("company totals only")
        return [d for d in chosen if d in model.dimension_map and cat.reaches(metric, d)][:limit]
    options = []
    for dim in model.dimensions:
        if dim.type != "category" or dim.metric_time or not cat.reaches(metric, dim.name):
            continue
        count = (members or {}).get(dim.name)
        if members is not None and (count is None or count not in FEW_MEMBERS):
            continue
        options.append((count or 0, dim.name))
    return [name for _, name in sorted(options)][:limit]


def board_filters(model: SemanticModel, members: Mapping[str, int] | None = None) -> list[str]:
    """The dimensions a whole board (or push, or report) can be filtered by: declared, else
    the category dimension with a few members that the most headline metrics reach."""
    declared = [d for d in model.knowledge.board_filters if d in model.dimension_map]
    if declared:
        return declared
    cat = catalog(model)
    headline = kpis(model)
    best: tuple[int, int, str] | None = None
    for dim in model.dimensions:
        if dim.type != "category" or dim.metric_time:
            continue
        count = (members or {}).get(dim.name)
        if members is not None and (count is None or count not in FEW_MEMBERS):
            continue
        reach = sum(cat.reaches(m, dim.name) for m in headline)
        if reach and (best is None or (reach, -(count or 0)) > best[:2]):
            best = (reach, -(count or 0), dim.name)
    return [best[2]] if best else []


def examples(model: SemanticModel, members: Mapping[str, int] | None = None) -> list[Label]:
    """Example questions: declared, else built from real metric and dimension labels."""
    if model.knowledge.examples:
        return list(model.knowledge.examples)
    out: list[Label] = []
    for metric in kpis(model)[:3]:
        label = model.metric(metric).label
        dims = breakdowns(model, metric, members, limit=1)
        if dims:
            dim = model.dimension(dims[0]).label
            out.append(Label(zh=f"各{dim.zh}的{label.zh}", en=f"{label.en} by {dim.en.lower()}"))
        else:
            out.append(Label(zh=f"{label.zh}按月趋势", en=f"{label.en} by month"))
    return out


@dataclass(frozen=True)
class Window:
    """The default period of a question without time words."""

    start: date | None  # None: all data
    label: Label


def default_window(model: SemanticModel, as_of: date) -> Window:
    """What "no time words" means for a flow metric in this model (balances are always
    the latest snapshot)."""
    period = model.knowledge.default_period
    if period == "this_year":
        return Window(date(as_of.year, 1, 1), Label(zh="今年", en="this year"))
    if period == "this_quarter":
        start = date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1)
        return Window(start, Label(zh="本季度", en="this quarter"))
    if period == "this_month":
        return Window(date(as_of.year, as_of.month, 1), Label(zh="本月", en="this month"))
    return Window(None, Label(zh="全部时间", en="all time"))


def compiled(patterns: list[str]) -> re.Pattern[str]:
    """One pattern for a list of a model's regular expressions (written in lower case: the
    text they are matched against is lowercased; a pattern itself is never lowercased, which
    would turn \\D into \\d)."""
    return re.compile("|".join(f"(?:{p})" for p in patterns))
