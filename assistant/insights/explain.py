"""Explain a change: which members of which dimensions drove a metric from its baseline.

Additive metrics (sums, differences of sums, balances) split exactly: each member's change
adds up to the total change. Ratio metrics (gross margin = gross profit / revenue) split into a
rate effect (the member's own ratio moved) and a mix effect (weight moved between members with
different ratios); per member, rate + mix add up to the total change too. Dimensions are then
ranked by how much more of the change their top member explains than its weight would suggest
("lift"), and the best one is drilled into, level by level, while a single slice keeps
explaining most of the change. A driver is called dominant only when it explains at least half
of the change and clearly more than its weight — so a metric that moves evenly everywhere gets
"no single driver", not an invented story.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sqlglot import exp

from semantic_layer.compiler import compile_for, compile_query
from semantic_layer.expressions import parse_expr
from semantic_layer.model import MetricKind, SemanticModel
from semantic_layer.query import Compare, DimensionRef, Filter, SemanticQuery, TimeRange

if TYPE_CHECKING:
    from semantic_layer.catalog import Catalog
    from semantic_layer.engine import Engine

DOMINANT_SHARE = 0.5  # explains at least half of the change…
DOMINANT_LIFT = 0.3  # …and at least 30 points more than its weight
MAX_MEMBERS = 2000  # dimensions with more members than this are not scanned
DRILL_LEVELS = 3
DOMINANT_SURPRISE = 3.0  # robust z-score of the member's own change among its peers


@dataclass(frozen=True)
class Driver:
    """One member's part in the change."""

    dimension: str
    member: str
    baseline: float | None
    current: float | None
    contribution: float  # in the metric's unit (percentage points for ratios)
    share: float  # contribution / total change
    weight: float  # the member's weight in the baseline (denominator or value share)
    rate_effect: float | None = None
    mix_effect: float | None = None
    filters: tuple[tuple[str, str], ...] = ()  # the slice it belongs to (drill path)
    surprise: float = 0.0  # robust z of its own change among its dimension's members

    @property
    def lift(self) -> float:
        return self.share - self.weight


@dataclass(frozen=True)
class Explanation:
    metric: str
    kind: str  # additive | ratio | opaque
    current_range: TimeRange
    baseline_range: TimeRange
    compare: Compare
    current: float | None
    baseline: float | None
    by_dimension: dict[str, list[Driver]] = field(default_factory=dict)
    ranked_dimensions: list[str] = field(default_factory=list)
    path: list[Driver] = field(default_factory=list)  # the drill into the dominant slice
    queries: list[SemanticQuery] = field(default_factory=list)

    @property
    def change(self) -> float | None:
        if self.current is None or self.baseline is None:
            return None
        return self.current - self.baseline

    @property
    def dominant(self) -> Driver | None:
        """The first driver, if it stands out: most of the change, more than its weight, and
        a change of its own far outside how the other members moved."""
        if not self.path:
            return None
        top = self.path[0]
        dominant = (
            top.share >= DOMINANT_SHARE
            and top.lift >= DOMINANT_LIFT
            and abs(top.surprise) >= DOMINANT_SURPRISE
        )
        return top if dominant else None

    def top_drivers(self, n: int = 8) -> list[Driver]:
        """The strongest members across dimensions, in the direction of the change."""
        sign = -1 if (self.change or 0) < 0 else 1
        best = [drivers[0] for drivers in self.by_dimension.values() if drivers]
        best.sort(key=lambda d: (d.lift, sign * d.contribution), reverse=True)
        return best[:n]


def _with_surprise(drivers: list[Driver], kind: str) -> list[Driver]:
    """How unusual each member's own change is: robust z (median/MAD) among its peers."""
    import statistics

    def own_change(d: Driver) -> float:
        if d.baseline is None or d.current is None:
            return 0.0
        if kind == "ratio":
            return d.current - d.baseline
        return (d.current - d.baseline) / abs(d.baseline) if d.baseline else 1.0

    peers = [own_change(d) for d in drivers if d.weight >= 0.01] or [own_change(d) for d in drivers]
    middle = statistics.median(peers)
    spread = statistics.median(abs(x - middle) for x in peers) * 1.4826
    floor = 0.01 if kind == "ratio" else 0.02  # do not call 1-point wiggles surprising
    scale = max(spread, floor)
    return [replace(d, surprise=(own_change(d) - middle) / scale) for d in drivers]


def _num(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def decomposition(model: SemanticModel, metric: str) -> tuple[str, list[str]]:
    """How a metric splits: ("additive", [metric]) or ("ratio", [numerator, denominator])."""
    definition = model.metric(metric)
    if definition.kind is MetricKind.simple:
        additive = definition.agg is not None and definition.agg.value in ("sum", "count")
        return ("additive" if additive else "opaque"), [metric]
    node = parse_expr(definition.expr)
    if isinstance(node, exp.Div) and all(
        isinstance(side, exp.Column) and side.name in model.metric_map
        for side in (node.this, node.expression)
    ):
        return "ratio", [node.this.name, node.expression.name]
    linear = all(isinstance(n, exp.Add | exp.Sub | exp.Column | exp.Paren) for n in node.walk())
    if linear and all(
        decomposition(model, c.name)[0] == "additive" for c in node.find_all(exp.Column)
    ):
        return "additive", [metric]
    return "opaque", [metric]


class _Explainer:
    def __init__(
        self, model: SemanticModel, catalog: Catalog, engine: Engine, query: SemanticQuery
    ) -> None:
        self.model = model
        self.catalog = catalog
        self.engine = engine
        self.query = query
        self.metric = query.metrics[0]
        self.kind, self.parts = decomposition(model, self.metric)
        self.queries: list[SemanticQuery] = []

    def _run(self, dims: list[str], filters: list[Filter]) -> list[dict]:
        q = self.query
        query = SemanticQuery(
            metrics=self.parts,
            dimensions=[DimensionRef(name=d) for d in dims],
            filters=[*q.filters, *filters],
            time_range=q.time_range,
            compare=q.compare,
        )
        self.queries.append(query)
        compiled = compile_for(self.engine, self.model, query)
        rows = self.engine.execute(compiled.ast).records()
        if not dims or compiled.comparison_range is None:
            return rows
        # The comparison joins onto this period's members; members only in the baseline (a
        # customer who stopped buying) must count too, or the split would not add up.
        baseline = query.model_copy(
            update={"time_range": compiled.comparison_range, "compare": Compare.none}
        )
        seen = {tuple(r[d] for d in dims) for r in rows}
        compiled = compile_for(self.engine, self.model, baseline)
        for row in self.engine.execute(compiled.ast).records():
            if tuple(row[d] for d in dims) not in seen:
                rows.append(
                    {
                        **{d: row[d] for d in dims},
                        **{p: None for p in self.parts},
                        **{f"{p}__compare": row[p] for p in self.parts},
                    }
                )
        return rows

    def totals(self) -> tuple[dict[str, float], dict[str, float]]:
        row = self._run([], [])[0]
        current = {p: _num(row[p]) or 0.0 for p in self.parts}
        baseline = {p: _num(row[f"{p}__compare"]) or 0.0 for p in self.parts}
        return current, baseline

    def value(self, parts: dict[str, float]) -> float | None:
        if self.kind == "ratio":
            num, den = self.parts
            return parts[num] / parts[den] if parts[den] else None
        return parts[self.parts[0]]

    def drivers(self, dim: str, filters: list[Filter], now: dict, before: dict) -> list[Driver]:
        """Each member's contribution to the company-level change (exact, adds up)."""
        rows = self._run([dim], filters)
        if len(rows) > MAX_MEMBERS:
            return []
        total_change = (self.value(now) or 0) - (self.value(before) or 0)
        slice_key = tuple((f.dimension, str(f.values[0])) for f in filters)
        out = []
        for row in rows:
            member = str(row[dim])
            cur = {p: _num(row[p]) or 0.0 for p in self.parts}
            base = {p: _num(row[f"{p}__compare"]) or 0.0 for p in self.parts}
            if self.kind == "ratio":
                num, den = self.parts
                r_all_0 = self.value(before) or 0.0
                w0 = base[den] / before[den] if before[den] else 0.0
                w1 = cur[den] / now[den] if now[den] else 0.0
                r0 = base[num] / base[den] if base[den] else r_all_0
                r1 = cur[num] / cur[den] if cur[den] else r0
                rate = w1 * (r1 - r0)
                mix = (w1 - w0) * (r0 - r_all_0)
                contribution, weight = rate + mix, w0
                shown_base = r0 if base[den] else None
                shown_cur = r1 if cur[den] else None
            else:
                part = self.parts[0]
                contribution = cur[part] - base[part]
                weight = base[part] / before[part] if before[part] else 0.0
                rate = mix = None
                shown_base, shown_cur = base[part], cur[part]
            share = contribution / total_change if total_change else 0.0
            out.append(
                Driver(
                    dim,
                    member,
                    shown_base,
                    shown_cur,
                    contribution,
                    share,
                    weight,
                    rate,
                    mix,
                    slice_key,
                )
            )
        if sum(1 for d in out if d.current or d.baseline) < 2:
            return []  # one member (已完成 for revenue, the customer's own region): no split
        out = _with_surprise(out, self.kind)
        sign = -1 if total_change < 0 else 1
        out.sort(key=lambda d: sign * d.contribution, reverse=True)
        return out

    def dimensions(self, exclude: set[str]) -> list[str]:
        names = []
        for dim in self.model.dimensions:
            if dim.type != "category" or dim.name in exclude:
                continue
            if all(self.catalog.reaches(p, dim.name) for p in self.parts):
                names.append(dim.name)
        return names

    def explain(self) -> Explanation:
        q = self.query
        now, before = self.totals()
        current, baseline = self.value(now), self.value(before)
        assert q.time_range is not None
        compiled = compile_query(self.model, self.queries[0])
        baseline_range = compiled.comparison_range or q.time_range
        result = Explanation(
            self.metric, self.kind, q.time_range, baseline_range, q.compare, current, baseline
        )
        if self.kind == "opaque" or current is None or baseline is None or current == baseline:
            return replace(result, queries=self.queries)
        filtered = {f.dimension for f in q.filters}
        level: dict[str, list[Driver]] = {}
        for dim in self.dimensions(filtered):
            if drivers := self.drivers(dim, [], now, before):
                level[dim] = drivers
        by_dimension = dict(level)
        ranked = sorted(level, key=lambda d: level[d][0].lift, reverse=True)
        path: list[Driver] = []
        filters: list[Filter] = []
        used = set(filtered)
        for _depth in range(DRILL_LEVELS):
            if not level:
                break
            best = max(level, key=lambda d: level[d][0].lift)
            top = level[best][0]
            if path and top.share < DOMINANT_SHARE:
                break  # a deeper slice must still explain most of the change
            path.append(top)
            if top.share < DOMINANT_SHARE or top.lift < DOMINANT_LIFT:
                break
            used.add(best)
            filters = [*filters, Filter(dimension=best, op="=", values=[top.member])]
            level = {}
            for dim in self.dimensions(used):
                if drivers := self.drivers(dim, filters, now, before):
                    level[dim] = drivers
        return replace(
            result,
            by_dimension=by_dimension,
            ranked_dimensions=ranked,
            path=path,
            queries=self.queries,
        )


def explain(
    model: SemanticModel, catalog: Catalog, engine: Engine, query: SemanticQuery
) -> Explanation:
    """Decompose the change of `query.metrics[0]` between its period and the baseline."""
    if query.compare in (Compare.none, Compare.budget):
        query = query.model_copy(update={"compare": Compare.previous_period})
    return _Explainer(model, catalog, engine, query).explain()
