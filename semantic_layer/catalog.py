"""Resolved view of a model: metrics as qualified SQL ASTs and which dimensions reach them.

The compiler, the question parser and the UI all ask the same questions of a model ("what
does revenue read?", "can expenses be split by region?"); this answers them once per model.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlglot import exp

from semantic_layer.expressions import PERIOD_DAYS, columns_of, parse_expr, qualify, tables_of
from semantic_layer.graph import JoinGraph
from semantic_layer.model import Dimension, Metric, MetricKind, SemanticModel


@dataclass(frozen=True)
class Leaf:
    """A simple metric made concrete: what to aggregate, over which rows, dated by what."""

    metric: Metric
    table: str
    expr: exp.Expression
    filter: exp.Expression | None
    time: exp.Expression
    tables: frozenset[str]

    @property
    def name(self) -> str:
        return self.metric.name

    @property
    def source_key(self) -> tuple[str, str, bool]:
        """Leaves with the same key are aggregated in one pass over the same fact rows."""
        return (self.table, self.time.sql(), self.metric.semi_additive)


@dataclass(frozen=True)
class DimensionUse:
    """How a dimension is read from one fact table: the expression and the tables it needs."""

    dimension: Dimension
    expr: exp.Expression
    table: str


class Catalog:
    """Per-model resolution of metrics and dimensions, computed lazily and cached."""

    def __init__(self, model: SemanticModel) -> None:
        self.model = model
        self.graph = JoinGraph(model)
        self._leaf: dict[str, Leaf] = {}
        self._leaves: dict[str, tuple[str, ...]] = {}

    def leaf(self, name: str) -> Leaf:
        if name not in self._leaf:
            metric = self.model.metric(name)
            assert metric.table is not None and metric.time is not None
            expr = qualify(parse_expr(metric.expr), metric.table)
            flt = qualify(parse_expr(metric.filter), metric.table) if metric.filter else None
            time = qualify(parse_expr(metric.time), metric.table)
            used = tables_of(expr) | tables_of(time) | (tables_of(flt) if flt else set())
            self._leaf[name] = Leaf(metric, metric.table, expr, flt, time, frozenset(used))
        return self._leaf[name]

    def derived_expr(self, name: str) -> exp.Expression:
        return parse_expr(self.model.metric(name).expr)

    def leaves(self, name: str) -> tuple[str, ...]:
        """The simple metrics a metric is computed from, in first-use order."""
        if name not in self._leaves:
            metric = self.model.metric(name)
            if metric.kind is MetricKind.simple:
                found: tuple[str, ...] = (name,)
            else:
                names: dict[str, None] = {}
                for column in columns_of(self.derived_expr(name)):
                    if column.name != PERIOD_DAYS:
                        names.update(dict.fromkeys(self.leaves(column.name)))
                found = tuple(names)
            self._leaves[name] = found
        return self._leaves[name]

    def uses_period_days(self, name: str) -> bool:
        metric = self.model.metric(name)
        if metric.kind is MetricKind.simple:
            return False
        return any(
            c.name == PERIOD_DAYS or self.uses_period_days(c.name)
            for c in columns_of(self.derived_expr(name))
        )

    def dimension_use(self, dimension: str, base: str) -> DimensionUse | None:
        """Read `dimension` from fact table `base` by the shortest join path, if one exists."""
        dim = self.model.dimension(dimension)
        best: tuple[int, DimensionUse] | None = None
        for source in dim.all_sources:
            distance = self.graph.distance(base, source.table)
            if distance is not None and (best is None or distance < best[0]):
                use = DimensionUse(
                    dim, qualify(parse_expr(source.expr), source.table), source.table
                )
                best = (distance, use)
        return best[1] if best else None

    def reaches(self, metric: str, dimension: str) -> bool:
        """Whether every fact the metric is computed from can be split by the dimension."""
        dim = self.model.dimension(dimension)
        if dim.metric_time:
            return True
        return all(
            self.dimension_use(dimension, self.leaf(leaf).table) is not None
            for leaf in self.leaves(metric)
        )

    def allowed_dimensions(self, metric: str) -> list[str]:
        return [d.name for d in self.model.dimensions if self.reaches(metric, d.name)]

    @cached_property
    def budget_of(self) -> dict[str, str]:
        return {m.name: m.budget for m in self.model.metrics if m.budget}


_CATALOGS: dict[int, tuple[SemanticModel, Catalog]] = {}


def catalog(model: SemanticModel) -> Catalog:
    """The catalog of a model, built once (models are immutable, so it never goes stale)."""
    entry = _CATALOGS.get(id(model))
    if entry is None or entry[0] is not model:
        entry = (model, Catalog(model))
        _CATALOGS[id(model)] = entry
    return entry[1]
