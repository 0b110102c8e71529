"""Explain a change: which members of which dimensions drove a metric from its baseline.

Additive metrics (sums, differences of sums, balances) split exactly: each member's change
adds up to the total change. Ratio metrics (gross margin = gross profit / revenue) split into a
rate effect (the member's own ratio moved) and a mix effect (weight moved between members with
different ratios); per member, rate + mix add up to the total change too. Across dimensions,
the member that carries the change on its own and explains the largest share of it is named
and drilled into, level by level, while a single slice keeps explaining most of the change;
the other dimensions are ranked by how much more of the change their top member explains than
its weight would suggest ("lift"). A driver is called dominant only when it explains at least half
of the change and clearly more than its weight — so a metric that moves evenly everywhere gets
"no single driver", not an invented story. A member that was already large is still named when
it carries most of the change and moved unlike the rest (one customer +203万 of a +200万 rise,
the others offsetting −3万): `lead` is that member, `offset` what the others did against it.

A change is also set against the same comparison a year earlier (`seasonal`): when last year's
move went the same way, or the Spring Festival falls in one period and not the other,
`seasonal_sentence` says so. `explanation_text` is the drivers and that note in words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

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
DISTINCT_MOVE = 0.05  # a member's relative change differs from the rest's by 5 points or more
SEASONAL_SIMILAR = 0.5  # last year's relative move was at least half of this year's, same way
NEAR_TIE = 0.05  # two members' shares of the change within 5 points: as good as tied

# The first day of the Spring Festival (春节), a calendar fact: activity in China dips around
# it, and it moves between January and February, so month-on-month comparisons around it
# mislead. Beyond this table no festival note is given (the year-earlier check still runs).
SPRING_FESTIVAL = {
    2015: date(2015, 2, 19),
    2016: date(2016, 2, 8),
    2017: date(2017, 1, 28),
    2018: date(2018, 2, 16),
    2019: date(2019, 2, 5),
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
    2032: date(2032, 2, 11),
    2033: date(2033, 1, 31),
    2034: date(2034, 2, 19),
    2035: date(2035, 2, 8),
}


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
class Seasonal:
    """The same comparison a year earlier (e.g. 2024-02 vs 2024-01 for 2025-02 vs 2025-01),
    and the Spring Festival if it falls in one period of this comparison but not the other."""

    current_range: TimeRange
    baseline_range: TimeRange
    current: float | None
    baseline: float | None
    festival: date | None = None  # the Spring Festival, when only one of the periods has it
    festival_in: TimeRange | None = None  # the period that has it

    @property
    def change(self) -> float | None:
        if self.current is None or self.baseline is None:
            return None
        return self.current - self.baseline

    def relative(self, kind: str) -> float | None:
        """Last year's move: in points for a ratio, relative to its base otherwise."""
        if self.change is None:
            return None
        if kind == "ratio":
            return self.change
        return self.change / abs(self.baseline) if self.baseline else None


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
    # The drilled dimension first, then by the lift of their top member.
    ranked_dimensions: list[str] = field(default_factory=list)
    path: list[Driver] = field(default_factory=list)  # the drill into the dominant slice
    queries: list[SemanticQuery] = field(default_factory=list)
    seasonal: Seasonal | None = None
    # English names of members by dimension (the model's), for an English explanation.
    names: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def change(self) -> float | None:
        if self.current is None or self.baseline is None:
            return None
        return self.current - self.baseline

    @property
    def dominant(self) -> Driver | None:
        """The first driver, if it stands out: most of the change, and either more than its
        weight with a change of its own far outside how the other members moved, or — for a
        member that was already large — a move unlike the rest's (it rose, they did not)."""
        if not self.path:
            return None
        top = self.path[0]
        surprising = (
            top.share >= DOMINANT_SHARE
            and top.lift >= DOMINANT_LIFT
            and abs(top.surprise) >= DOMINANT_SURPRISE
        )
        if surprising or _concentrated(top, self.kind, self.change, self.baseline):
            return top
        return None

    @property
    def lead(self) -> Driver | None:
        """The member to name: the deepest slice of the drill that still carries most of
        the change, when the change is concentrated there."""
        if self.dominant is None:
            return None
        return [d for d in self.path if d.share >= DOMINANT_SHARE][-1]

    @property
    def others(self) -> float | None:
        """What everything outside `lead` did, net; against the change's sign it offset."""
        if self.lead is None or self.change is None:
            return None
        return self.change - self.lead.contribution

    @property
    def offset(self) -> bool:
        """Did the rest move against the change (the lead explains more than all of it)?"""
        others = self.others
        return others is not None and self.change is not None and others * self.change < 0

    def largest(self, n: int = 3) -> list[Driver]:
        """The members with the largest contributions in absolute terms, across dimensions
        (each dimension's biggest), whatever their direction."""
        best = [max(ds, key=lambda d: abs(d.contribution)) for ds in self.by_dimension.values()]
        best.sort(key=lambda d: abs(d.contribution), reverse=True)
        return best[:n]

    @property
    def seasonal_move(self) -> bool:
        """Did the same comparison a year earlier move the same way, at least half as much?"""
        if self.seasonal is None or self.change is None or self.baseline is None:
            return False
        last = self.seasonal.relative(self.kind)
        if last is None:
            return False
        now = self.change if self.kind == "ratio" else self.change / abs(self.baseline or 1)
        return now * last > 0 and abs(last) >= SEASONAL_SIMILAR * abs(now)

    def top_drivers(self, n: int = 8) -> list[Driver]:
        """The strongest members across dimensions, in the direction of the change."""
        sign = -1 if (self.change or 0) < 0 else 1
        best = [drivers[0] for drivers in self.by_dimension.values() if drivers]
        best.sort(key=lambda d: (d.lift, sign * d.contribution), reverse=True)
        return best[:n]


def _concentrated(driver: Driver, kind: str, change: float | None, baseline: float | None) -> bool:
    """Most of the change, and a move of its own unlike the rest's. For a ratio: clearly
    more of the change than its weight. For an amount: its relative change and the rest's
    differ (+44% against −3%), so a big member that merely moved with everyone is not it."""
    if driver.share < DOMINANT_SHARE:
        return False
    if kind == "ratio":
        return driver.lift >= DOMINANT_LIFT
    if change is None or baseline is None or driver.baseline is None:
        return False
    rest_base = baseline - driver.baseline
    if driver.baseline <= 0 or rest_base <= 0:
        return True  # a new member (or nothing else before) carrying most of the change
    own = driver.contribution / driver.baseline
    rest = (change - driver.contribution) / rest_base
    gap = abs(own - rest)
    return gap >= DISTINCT_MOVE and gap >= 0.5 * max(abs(own), abs(rest))


def _choose(level: dict[str, list[Driver]], concentrated: Callable[[Driver], bool]) -> str:
    """The dimension to name (and drill into): among those whose top member carries the change
    on its own, the one whose member explains the largest share of it — a product line −382万
    (84%) before a channel −256万 (56%) of a −455万 fall, whatever their weights. Within NEAR_TIE
    of that share, the change concentrated in the smaller slice wins (a customer +203万 before
    its region +204万). When no member carries the change, the largest lift."""
    carrying = [d for d in level if concentrated(level[d][0])]
    if not carrying:
        return max(level, key=lambda d: level[d][0].lift)
    most = max(level[d][0].share for d in carrying)
    close = [d for d in carrying if level[d][0].share >= most - NEAR_TIE]
    return min(close, key=lambda d: (level[d][0].weight, -level[d][0].share))


def spring_festival(window: TimeRange) -> date | None:
    """The Spring Festival's first day if it falls in `window` (a calendar fact, not data)."""
    for year in range(window.start.year, (window.end.year) + 1):
        day = SPRING_FESTIVAL.get(year)
        if day is not None and window.start <= day < window.end:
            return day
    return None


def _year_earlier(window: TimeRange) -> TimeRange:
    def back(day: date) -> date:
        try:
            return day.replace(year=day.year - 1)
        except ValueError:  # 29 February
            return day.replace(year=day.year - 1, day=28)

    return TimeRange(start=back(window.start), end=back(window.end))


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
        change = current - baseline

        def concentrated(driver: Driver) -> bool:
            """Against the rest of the company at the top; deeper, against its siblings in
            the slice (a store's two shelves that both rose 60% are no finding)."""
            if not path or self.kind == "ratio":
                return _concentrated(driver, self.kind, change, baseline)
            parent = path[-1]
            return _concentrated(driver, self.kind, parent.contribution, parent.baseline)

        for _depth in range(DRILL_LEVELS):
            if not level:
                break
            best = _choose(level, concentrated)
            top = level[best][0]
            if path and not concentrated(top):
                break  # a deeper slice must still explain most of the change, on its own
            path.append(top)
            if not concentrated(top):
                break
            used.add(best)
            filters = [*filters, Filter(dimension=best, op="=", values=[top.member])]
            level = {}
            for dim in self.dimensions(used):
                if drivers := self.drivers(dim, filters, now, before):
                    level[dim] = drivers
        if path:  # the named driver's dimension first: the waterfall shows the split it is in
            ranked.sort(key=lambda d: d != path[0].dimension)
        return replace(
            result,
            by_dimension=by_dimension,
            ranked_dimensions=ranked,
            path=path,
            queries=self.queries,
            seasonal=self.seasonal(q.time_range, baseline_range),
        )

    def seasonal(self, current: TimeRange, baseline: TimeRange) -> Seasonal | None:
        """The same two periods a year earlier, from the data (not for a year-over-year
        comparison: it is one already), and the Spring Festival when it falls in only one of
        the two periods."""
        if current.start.year <= 1901:
            return None
        festival, festival_in = None, None
        now_day, before_day = spring_festival(current), spring_festival(baseline)
        if (now_day is None) != (before_day is None):  # 1月 vs 2月 around it, or a year apart
            festival = now_day or before_day
            festival_in = current if now_day else baseline
        then, before = _year_earlier(current), _year_earlier(baseline)
        if self.query.compare is Compare.yoy:  # already against a year earlier
            return Seasonal(then, before, None, None, festival, festival_in)
        values = []
        for window in (then, before):
            query = SemanticQuery(metrics=self.parts, filters=self.query.filters, time_range=window)
            self.queries.append(query)
            row = self.engine.execute(compile_for(self.engine, self.model, query).ast).records()
            parts = {p: _num(row[0][p]) if row else None for p in self.parts}
            values.append(
                None if any(v is None for v in parts.values()) else self.value(parts)  # type: ignore[arg-type]
            )
        return Seasonal(then, before, values[0], values[1], festival, festival_in)


def explain(
    model: SemanticModel, catalog: Catalog, engine: Engine, query: SemanticQuery
) -> Explanation:
    """Decompose the change of `query.metrics[0]` between its period and the baseline."""
    if query.compare in (Compare.none, Compare.budget):
        query = query.model_copy(update={"compare": Compare.previous_period})
    return _Explainer(model, catalog, engine, query).explain()


# --- in words ------------------------------------------------------------------------------


def _signed(value: float, unit: str, lang: str) -> str:
    """+203.08万 / -¥33.4K; a ratio's change in points (+1.2个百分点 / -0.4 pp)."""
    from assistant.formatting import format_points, format_value

    if unit in ("percent", "ratio"):
        return format_points(value, lang)
    text = format_value(value, unit, lang, compact=True)
    return f"+{text}" if value > 0 and not text.startswith("+") else text


def _share(share: float) -> str:
    return f"{share:.0%}"


def member_text(result: Explanation, driver: Driver, lang: str) -> Any:
    """A driver's member as a reader of `lang` names it: East for 华东 in English."""
    if lang != "en":
        return driver.member
    return result.names.get(driver.dimension, {}).get(str(driver.member), driver.member)


def _member_name(result: Explanation, model: SemanticModel, driver: Driver, lang: str) -> str:
    label = model.dimension(driver.dimension).label.get(lang)
    member = member_text(result, driver, lang)
    return f"{label}「{member}」" if lang == "zh" else f"{label} {member}"


def driver_sentence(result: Explanation, model: SemanticModel, lang: str) -> str:
    """Who moved the metric, by absolute contribution with its share of the change: the one
    member that carries it (and whether the rest offset it), or the largest few."""
    zh = lang == "zh"
    change = result.change
    if change is None or result.kind == "opaque" or not change:
        return ""
    unit = model.metric(result.metric).unit
    lead = result.lead
    if lead is not None:
        chain = " × ".join(
            _member_name(result, model, d, lang)
            for d in result.path[: result.path.index(lead) + 1]
            if d.share >= DOMINANT_SHARE
        )
        text = (
            f"主要原因：{chain} {_signed(lead.contribution, unit, lang)}，"
            f"占变化的{_share(lead.share)}"
            if zh
            else f"Main driver: {chain}, "
            f"{_signed(lead.contribution, unit, lang)}, {_share(lead.share)} of the change"
        )
        others = result.others or 0.0
        if result.offset:
            text += (
                f"；其余成员合计 {_signed(others, unit, lang)}，抵消了一部分"
                if zh
                else f"; the rest together moved {_signed(others, unit, lang)}, offsetting part of it"
            )
        elif abs(others) > 1e-9 * max(1.0, abs(change)):
            text += (
                f"；其余成员合计 {_signed(others, unit, lang)}"
                if zh
                else f"; the rest together {_signed(others, unit, lang)}"
            )
        text += "。" if zh else "."
        if lead.rate_effect is not None and lead.mix_effect is not None:
            rate, mix = _signed(lead.rate_effect, unit, lang), _signed(lead.mix_effect, unit, lang)
            text += (
                f"其中费率（自身比率变化）效应 {rate}，结构（占比变化）效应 {mix}。"
                if zh
                else f" Rate effect {rate}, mix effect {mix}."
            )
        return text
    largest = result.largest(3)
    if not largest:
        return ""
    # Its weight beside its share: a member with half the change and half the base moved
    # with everyone else.
    listed = [
        _member_name(result, model, d, lang)
        + ("" if zh else " ")
        + _signed(d.contribution, unit, lang)
        + (
            f"（占变化的{_share(d.share)}，基期占比{_share(d.weight)}）"
            if zh
            else f" ({_share(d.share)} of the change, {_share(d.weight)} of the baseline)"
        )
        for d in largest
    ]
    return (
        f"没有单一的主导因素；贡献最大的是：{'、'.join(listed)}。"
        if zh
        else f"No single dominant driver; the largest parts: {', '.join(listed)}."
    )


def seasonal_sentence(result: Explanation, model: SemanticModel, lang: str) -> str:
    """A note when the move may be seasonal: the same comparison a year earlier moved the same
    way, or the Spring Festival falls in one of the two periods."""
    from assistant.formatting import format_value
    from assistant.present import period_name

    seasonal = result.seasonal
    if seasonal is None or result.change is None:
        return ""
    zh = lang == "zh"
    metric = model.metric(result.metric)
    parts = []
    if result.seasonal_move:
        assert seasonal.change is not None
        then = period_name(seasonal.current_range, lang)
        before = period_name(seasonal.baseline_range, lang)
        up = seasonal.change > 0
        relative = seasonal.relative(result.kind)
        if result.kind == "ratio" or metric.unit in ("percent", "ratio"):
            size = _signed(seasonal.change, metric.unit, lang).lstrip("+-")
        elif seasonal.baseline is not None and seasonal.baseline > 0 and relative is not None:
            size = format_value(abs(relative), "percent", lang)
        else:
            size = _signed(abs(seasonal.change), metric.unit, lang).lstrip("+")
        parts.append(
            f"去年同期（{then}对比{before}）{metric.label.zh}同样{'上升' if up else '下降'}"
            f" {size}，这一变化可能部分是季节性的"
            if zh
            else f"a year earlier ({then} vs {before}) {metric.label.en} also went "
            f"{'up' if up else 'down'} {size}, so part of this move may be seasonal"
        )
    if seasonal.festival is not None and seasonal.festival_in is not None:
        day = seasonal.festival
        other = (
            result.baseline_range
            if seasonal.festival_in == result.current_range
            else result.current_range
        )
        inside = period_name(seasonal.festival_in.model_copy(update={"label": None}), lang)
        outside = period_name(other.model_copy(update={"label": None}), lang)
        parts.append(
            f"{day.year}年春节（{day.month}月{day.day}日）在{inside}，{outside}没有春节，"
            "两期的可比性受影响"
            if zh
            else f"the Spring Festival ({day:%b} {day.day}, {day.year}) falls in {inside} but "
            f"not in {outside}, which affects the comparison"
        )
    if not parts:
        return ""
    if zh:
        return "季节性：" + "；".join(parts) + "。"
    text = "; ".join(parts)
    return "Seasonality: " + text + "."


def explanation_text(result: Explanation, model: SemanticModel, lang: str) -> str:
    """The drivers and the seasonal note, as the why-answer's closing sentences."""
    sentences = [driver_sentence(result, model, lang), seasonal_sentence(result, model, lang)]
    return ("" if lang == "zh" else " ").join(s for s in sentences if s)
