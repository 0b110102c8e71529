"""`compile_query`: a SemanticQuery becomes one SQL statement, built as a sqlglot AST.

How numbers stay correct by construction:
- each fact table is aggregated on its own (one CTE per fact and date column), walking joins
  only from the many side to the one side, so no join can multiply rows (no fan-out);
- facts are then combined on the shared dimension keys, never joined row to row;
- derived metrics are computed from aggregates, with every division guarded against zero;
- balances (semi-additive metrics) take the last snapshot inside each period, never a sum;
- comparisons aggregate the same facts over the shifted period and join on shifted keys;
- user values enter the AST only as literals.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlglot import exp

from semantic_layer.catalog import Catalog, Leaf, catalog
from semantic_layer.errors import QueryError, closest
from semantic_layer.expressions import PERIOD_DAYS, parse_expr
from semantic_layer.model import Agg, Grain, Label, SemanticModel
from semantic_layer.query import (
    Compare,
    DimensionRef,
    Filter,
    Intent,
    SemanticQuery,
    TimeRange,
)
from semantic_layer.snapshots import SnapshotLookup

COMPARE_LABELS = {
    Compare.yoy: Label(zh="去年同期", en="same period last year"),
    Compare.mom: Label(zh="上月", en="previous month"),
    Compare.qoq: Label(zh="上季度", en="previous quarter"),
    Compare.previous_period: Label(zh="上期", en="previous period"),
    Compare.budget: Label(zh="预算", en="budget"),
}
SHARE_UNITS = {"yuan", "count", "units"}
ADDITIVE_AGGS = {Agg.sum, Agg.count, Agg.count_distinct}


@dataclass(frozen=True)
class Shift:
    """How far back the comparison period lies: whole months (exact) or days."""

    amount: int
    unit: str  # "month" or "day"

    def back(self, day: date) -> date:
        if self.unit == "day":
            return day - timedelta(days=self.amount)
        return add_months(day, -self.amount)

    def forward(self, day: date) -> date:
        if self.unit == "day":
            return day + timedelta(days=self.amount)
        return add_months(day, self.amount)

    def forward_sql(self, node: exp.Expression) -> exp.Expression:
        return exp.DateAdd(
            this=node.copy(), expression=exp.Literal.number(self.amount), unit=exp.var(self.unit)
        )


def add_months(day: date, months: int) -> date:
    """Calendar month arithmetic that clamps to the month's last day, like SQL intervals."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def truncate(day: date, grain: Grain) -> date:
    """The first day of `day`'s period, as SQL's date_trunc (weeks start on Monday)."""
    match grain:
        case Grain.day:
            return day
        case Grain.week:
            return day - timedelta(days=day.weekday())
        case Grain.month:
            return day.replace(day=1)
        case Grain.quarter:
            return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        case Grain.year:
            return date(day.year, 1, 1)
    raise AssertionError(grain)


GRAIN_SHIFT = {
    Grain.day: Shift(1, "day"),
    Grain.week: Shift(7, "day"),
    Grain.month: Shift(1, "month"),
    Grain.quarter: Shift(3, "month"),
    Grain.year: Shift(12, "month"),
}


@dataclass(frozen=True)
class OutputColumn:
    """A column of the result and what it means, so charts and narratives need no guessing."""

    name: str
    kind: str  # dimension | metric | compare | change | change_pct | share
    source: str  # the metric or dimension it belongs to
    label: Label
    unit: str | None = None
    grain: Grain | None = None
    format: str | None = None  # the metric's display format, for full-precision display


@dataclass(frozen=True)
class CompiledQuery:
    """The compiled statement with everything needed to run, explain and present it."""

    query: SemanticQuery
    ast: exp.Select
    columns: tuple[OutputColumn, ...]
    comparison_range: TimeRange | None = None
    dialect: str = "duckdb"
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def sql(self) -> str:
        return self.ast.sql(dialect=self.dialect, pretty=True)

    def to_sql(self, dialect: str, pretty: bool = True) -> str:
        """The same statement in another SQL dialect (trino, spark, snowflake, postgres…)."""
        return self.ast.sql(dialect=dialect, pretty=pretty)


def compile_query(
    model: SemanticModel,
    query: SemanticQuery,
    dialect: str = "duckdb",
    snapshots: SnapshotLookup | None = None,
) -> CompiledQuery:
    """Compile `query` against `model`; raises `QueryError` when it cannot be answered exactly.

    `snapshots` (usually `engine.snapshots`) tells which snapshot dates the balance tables
    hold, so balances name their dates as literals; without it they use a MAX subquery."""
    if not query.metrics:
        from semantic_layer.listing import compile_listing

        compiled = compile_listing(model, query, dialect)
    else:
        if query.define:
            model = with_definitions(model, query)
        compiled = _Compiler(model, query, dialect, snapshots).compile()
    if model.role_sources:
        resolve_roles(model, compiled.ast)
    return compiled


def role_view(model: SemanticModel, alias: str) -> exp.Subquery:
    """A role dimension's rows: `(SELECT * FROM <table> WHERE <its where>) AS <alias>`.

    Joined on the table's keys, it brings one row per key — the party in that role — where
    the whole table would bring one per role and multiply every fact it meets."""
    table, condition = model.role_sources[alias]
    inner = exp.select(exp.Star()).from_(exp.to_table(table), copy=False)
    inner.where(parse_expr(condition), copy=False)
    return exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias)))


def resolve_roles(model: SemanticModel, ast: exp.Expression) -> exp.Expression:
    """Every role alias the statement reads as a table becomes the role's filtered rows, so
    the condition travels inside the join (and row security still sees the real table)."""
    roles = {alias.lower(): alias for alias in model.role_sources}
    ctes = {cte.alias_or_name.lower() for cte in ast.find_all(exp.CTE)}
    for table in list(ast.find_all(exp.Table)):
        name = table.name.lower()
        if name in roles and name not in ctes and not isinstance(table.parent, exp.Column):
            view = role_view(model, roles[name])
            if table.alias and table.alias.lower() != name:
                view.set("alias", exp.TableAlias(this=exp.to_identifier(table.alias)))
            table.replace(view)
    return ast


def with_definitions(model: SemanticModel, query: SemanticQuery) -> SemanticModel:
    """`model` plus the metrics `query` defines for itself, as derived metrics — checked like
    the model's own (every name a metric, no cycle, arithmetic only); `QueryError` if not."""
    if not query.define:
        return model
    key = (id(model), tuple(d.model_dump_json() for d in query.define))
    cached = _DEFINED.get(key)
    if cached is not None and cached[0] is model:
        return cached[1]  # the same object each time: its catalog is built once
    from semantic_layer.model import Label, Metric, MetricKind

    added = []
    known = set(model.metric_map)
    for definition in query.define:
        if definition.name in known:
            raise QueryError("definition_clash", name=definition.name)
        names = {c.name for c in parse_expr(definition.expr).find_all(exp.Column)}
        unknown = sorted(names - known)
        if unknown:
            raise QueryError("definition_unknown", name=definition.label, refs=", ".join(unknown))
        added.append(
            Metric(
                name=definition.name,
                label=Label(zh=definition.label, en=definition.label),
                description=Label(
                    zh=f"问题中定义：{definition.expr}",
                    en=f"Defined in the question: {definition.expr}",
                ),
                kind=MetricKind.derived,
                expr=definition.expr,
                unit=definition.unit,
            )
        )
        known.add(definition.name)
    fields = {name: getattr(model, name) for name in type(model).model_fields}
    fields["metrics"] = [*model.metrics, *added]
    extended = type(model)(**fields)
    _DEFINED[key] = (model, extended)
    while len(_DEFINED) > 64:
        _DEFINED.pop(next(iter(_DEFINED)))
    return extended


_DEFINED: dict[tuple[int, tuple[str, ...]], tuple[SemanticModel, SemanticModel]] = {}


def compile_for(engine: Any, model: SemanticModel, query: SemanticQuery) -> CompiledQuery:
    """`compile_query` for the engine that will run it: its dialect and its snapshot dates."""
    return compile_query(
        model, query, dialect=engine.dialect, snapshots=getattr(engine, "snapshots", None)
    )


def _date(day: date) -> exp.Expression:
    return exp.cast(exp.Literal.string(day.isoformat()), exp.DataType.Type.DATE)


ALL_TIME = date(1900, 1, 1)  # a window starting here means "all the data there is"


def _within(node: exp.Expression, window: TimeRange) -> list[exp.Expression]:
    """start <= node, node < end: the half-open range every period in a SemanticQuery is.

    A window over all time keeps rows without a date too (a fact table whose date column is
    empty still has facts: "how many claims" must count them), and only cuts what lies after
    its end (the as-of date)."""
    if window.start <= ALL_TIME:
        return [
            exp.or_(
                exp.Is(this=node.copy(), expression=exp.Null()),
                exp.LT(this=node.copy(), expression=_date(window.end)),
            )
        ]
    return [
        exp.GTE(this=node.copy(), expression=_date(window.start)),
        exp.LT(this=node.copy(), expression=_date(window.end)),
    ]


def _trunc(node: exp.Expression, grain: Grain | None) -> exp.Expression:
    if grain is None:
        return exp.cast(node, exp.DataType.Type.DATE)
    truncated = exp.DateTrunc(this=node, unit=exp.Literal.string(grain.value))
    return exp.cast(truncated, exp.DataType.Type.DATE)


def _literal(value: object, kind: str) -> exp.Expression:
    """A user value as a typed SQL literal (never spliced into SQL text)."""
    if kind == "time":
        return _date(value if isinstance(value, date) else date.fromisoformat(str(value)))
    if kind == "number" or isinstance(value, bool):
        return exp.Literal.number(float(value) if not isinstance(value, int) else value)
    if isinstance(value, int | float):
        return exp.Literal.string(str(value))
    return exp.Literal.string(str(value))


def _wrap(node: exp.Expression) -> exp.Expression:
    """Parenthesise a compound expression before it becomes an operand of another."""
    atomic = (exp.Column, exp.Literal, exp.Func, exp.Paren, exp.Cast, exp.Window)
    return node if isinstance(node, atomic) else exp.paren(node)


def _safe_division(node: exp.Expression) -> exp.Expression:
    """a / b → CAST(a AS DOUBLE) / NULLIF(b, 0): no divide-by-zero, no integer division."""

    def fix(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Div):
            numerator = exp.cast(_wrap(n.this.copy()), exp.DataType.Type.DOUBLE)
            denominator = exp.Nullif(this=n.expression.copy(), expression=exp.Literal.number(0))
            return exp.Div(this=numerator, expression=denominator)
        return n

    return node.transform(fix)


def _and(conditions: list[exp.Expression]) -> exp.Expression | None:
    return exp.and_(*conditions, copy=False) if conditions else None


# Builders below pass ASTs (never strings) and copy=False: sqlglot's string builders re-parse
# and deep-copy on every call, which made compiling a query cost milliseconds.
def _select(*projections: exp.Expression, source: str) -> exp.Select:
    return exp.Select(expressions=list(projections)).from_(exp.to_table(source), copy=False)


def _join(
    select: exp.Select,
    table: str,
    on: exp.Expression | None,
    required: bool = False,
    alias: str | None = None,
) -> None:
    source = exp.to_table(table)
    if alias is not None:
        source.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    if on is None:
        select.append("joins", exp.Join(this=source, kind="CROSS"))
    elif required:  # no orphans: an inner join gives the same rows, and the optimiser more room
        select.append("joins", exp.Join(this=source, on=on))
    else:
        select.append("joins", exp.Join(this=source, on=on, side="LEFT"))


def _walk_joins(select: exp.Select, joins: list) -> None:
    """Join each table of the path on its keys (`Join.on` pairs)."""
    for join in joins:
        condition = _and(
            [
                exp.EQ(
                    this=exp.column(left, table=join.from_table),
                    expression=exp.column(right, table=join.to),
                )
                for left, right in join.on
            ]
        )
        _join(select, join.to, condition, join.required)


def _reads(node: exp.Expression, table: str) -> bool:
    """Whether an expression reads a column of `table`."""
    return any(column.table == table for column in node.find_all(exp.Column))


def _label_join(
    joins: list, keys: list[tuple[str, exp.Expression]], group, where: list[exp.Expression]
):
    """The join that only fetches labels — a table at the end of the join path, read by the
    breakdown's keys and by nothing else (no condition: filter, period or snapshot; no
    measure; no further join) — when the measures can be added up in parts (sum, count, min,
    max); else None."""
    if not keys or any(
        leaf.metric.agg not in (Agg.sum, Agg.count, Agg.min, Agg.max) for leaf in group.leaves
    ):
        return None
    measured = set().union(*(leaf.tables for leaf in group.leaves))
    for join in joins:
        table = join.to
        if (
            table in measured
            or any(j.from_table == table for j in joins)
            or any(_reads(condition, table) for condition in where)
        ):
            continue
        reading = [node for _key, node in keys if _reads(node, table)]
        if reading and all(
            all(column.table == table for column in node.find_all(exp.Column)) for node in reading
        ):
            return join
    return None


@dataclass
class _Group:
    """Leaves aggregated together: same fact table, same date column, same additivity."""

    leaves: list[Leaf]

    @property
    def base(self) -> str:
        return self.leaves[0].table

    @property
    def time(self) -> exp.Expression:
        return self.leaves[0].time

    @property
    def semi_additive(self) -> bool:
        return self.leaves[0].metric.semi_additive


class _Compiler:
    def __init__(
        self,
        model: SemanticModel,
        query: SemanticQuery,
        dialect: str,
        snapshots: SnapshotLookup | None = None,
    ) -> None:
        self.model = model
        self.query = query
        self.dialect = dialect
        self.snapshots = snapshots
        self.cat: Catalog = catalog(model)
        self.metrics = list(dict.fromkeys([*query.metrics, *(h.metric for h in query.having)]))
        self.dims = list(query.dimensions)
        self.time_ref = next(
            (
                d
                for d in self.dims
                if d.name in model.dimension_map and model.dimension(d.name).metric_time
            ),
            None,
        )
        self.shift: Shift | None = None
        self._shifting = False
        self.compare_range: TimeRange | None = None

    # --- checks ---------------------------------------------------------------------------
    def check(self) -> None:
        for name in self.metrics:
            if name not in self.model.metric_map:
                raise QueryError("unknown_metric", self._metric_suggestions(name), name=name)
        dim_names = list(self.model.dimension_map)
        refs = [*self.dims, *(DimensionRef(name=f.dimension) for f in self.query.filters)]
        for ref in refs:
            if ref.name not in self.model.dimension_map:
                raise QueryError("unknown_dimension", closest(ref.name, dim_names), name=ref.name)
            dim = self.model.dimension(ref.name)
            if ref.grain is not None and dim.type != "time":
                raise QueryError("bad_grain", dimension=ref.name, grain=ref.grain.value)
        checked = list(self.metrics)
        if self.query.compare is Compare.budget:
            # The budget is compared row by row, so it must reach the same breakdown and filters.
            checked += [self.cat.budget_of[m] for m in self.metrics if m in self.cat.budget_of]
        for metric in checked:
            for ref in refs:
                if not self.cat.reaches(metric, ref.name):
                    self._unreachable(metric, ref.name)
        q = self.query
        needs_period = any(self.cat.uses_period_days(m) for m in self.metrics)
        has_period = q.time_range is not None or (
            self.time_ref is not None and self.time_ref.grain is not None
        )
        if needs_period and not has_period:
            metric = next(m for m in self.metrics if self.cat.uses_period_days(m))
            label = self.model.metric(metric).label
            raise QueryError("needs_period", metric_label=label.zh, metric_label_en=label.en)
        if q.compare is Compare.budget:
            if not any(m in self.cat.budget_of for m in self.metrics):
                label = self.model.metric(self.metrics[0]).label
                raise QueryError("no_budget", metric_label=label.zh, metric_label_en=label.en)
        elif q.compare is not Compare.none:
            if q.time_range is None and (self.time_ref is None or self.time_ref.grain is None):
                label = self.model.metric(self.metrics[0]).label
                raise QueryError("needs_period", metric_label=label.zh, metric_label_en=label.en)
            self.shift = self._shift()
            if q.time_range is not None:
                self.compare_range = TimeRange(
                    start=self.shift.back(q.time_range.start),
                    end=self.shift.back(q.time_range.end),
                    label=self._compare_label().zh,
                )

    def _metric_suggestions(self, word: str) -> list[str]:
        """Metric names for a word that may be a name, label or synonym (毛利率 → gross_margin)."""
        words: dict[str, str] = {}
        for metric in self.model.metrics:
            for alias in (metric.name, metric.label.zh, metric.label.en, *metric.synonyms):
                words.setdefault(alias.lower(), metric.name)
        found = [words[w] for w in closest(word.lower(), words)]
        return list(dict.fromkeys(found))

    def _unreachable(self, metric: str, dimension: str) -> None:
        m = self.model.metric(metric)
        d = self.model.dimension(dimension)
        allowed = [self.model.dimension(n) for n in self.cat.allowed_dimensions(metric)]
        # The useful suggestion is a metric that *can* be split this way (费用 by 部门).
        related = [
            other.name
            for other in self.model.metrics
            if other.name != metric and self.cat.reaches(other.name, dimension)
        ]
        labels = [self.model.metric(n).label for n in related[:3]]
        raise QueryError(
            "unreachable_dimension",
            related_metrics=related[:3],
            related="、".join(x.zh for x in labels) or "无",
            related_en=", ".join(x.en for x in labels) or "none",
            metric_label=m.label.zh,
            metric_label_en=m.label.en,
            dimension_label=d.label.zh,
            dimension_label_en=d.label.en,
            allowed="、".join(a.label.zh for a in allowed),
            allowed_en=", ".join(a.label.en for a in allowed),
        )

    def _compare_label(self) -> Label:
        """去年同期, 上月…; a comparison `compare_months` back is named by its distance."""
        months = self.query.compare_months
        if months is None:
            return COMPARE_LABELS[self.query.compare]
        if months % 12 == 0:
            return Label(zh=f"{months // 12}年前", en=f"{months // 12} years earlier")
        return Label(zh=f"{months}个月前", en=f"{months} months earlier")

    def _shift(self) -> Shift:
        compare = self.query.compare
        if self.query.compare_months is not None:
            return Shift(self.query.compare_months, "month")
        if compare is Compare.yoy:
            return Shift(12, "month")
        if compare is Compare.mom:
            return Shift(1, "month")
        if compare is Compare.qoq:
            return Shift(3, "month")
        if self.time_ref is not None and self.time_ref.grain is not None:
            return GRAIN_SHIFT[self.time_ref.grain]
        window = self.query.time_range
        assert window is not None
        if window.start.day == 1:
            months = (
                (window.end.year - window.start.year) * 12 + window.end.month - window.start.month
            )
            return Shift(months + (1 if window.end.day != 1 else 0), "month")
        return Shift(window.days, "day")

    # --- fact groups ----------------------------------------------------------------------
    def groups(self) -> list[_Group]:
        leaves: dict[str, None] = {}
        for metric in self.metrics:
            leaves.update(dict.fromkeys(self.cat.leaves(metric)))
            budget = self.cat.budget_of.get(metric)
            if self.query.compare is Compare.budget and budget:
                leaves.update(dict.fromkeys(self.cat.leaves(budget)))
        grouped: dict[tuple[str, str, bool], _Group] = {}
        for name in leaves:
            leaf = self.cat.leaf(name)
            grouped.setdefault(leaf.source_key, _Group([])).leaves.append(leaf)
        return list(grouped.values())

    def _dimension_expr(self, ref: DimensionRef, group: _Group, time: exp.Expression):
        """The key expression of a dimension in one fact group, and the table it needs."""
        dim = self.model.dimension(ref.name)
        if dim.metric_time:
            return _trunc(time, ref.grain if ref.grain else None), None
        use = self.cat.dimension_use(ref.name, group.base)
        assert use is not None  # reachability was checked
        node = use.expr
        if dim.type == "time":
            # Only the metric's own date moves with a comparison; other dates (when a customer
            # was created) describe who is counted and must stay the same in both periods.
            if self._shifting and node == group.time:
                node = self.shift.forward_sql(node)
            return _trunc(node, ref.grain), use.table
        return node.copy(), use.table

    def _filter_expr(self, flt: Filter, key: exp.Expression) -> exp.Expression:
        kind = self.model.dimension(flt.dimension).type
        try:
            values = [_literal(v, kind) for v in flt.values]
        except (TypeError, ValueError):
            raise QueryError(
                "bad_filter_value", dimension=flt.dimension, value=", ".join(map(str, flt.values))
            ) from None
        key = key.copy()
        match flt.op:
            case "=":
                return exp.EQ(this=key, expression=values[0])
            case "!=":
                return exp.NEQ(this=key, expression=values[0])
            case ">":
                return exp.GT(this=key, expression=values[0])
            case ">=":
                return exp.GTE(this=key, expression=values[0])
            case "<":
                return exp.LT(this=key, expression=values[0])
            case "<=":
                return exp.LTE(this=key, expression=values[0])
            case "in":
                return exp.In(this=key, expressions=values)
            case "not_in":
                return exp.Not(this=exp.In(this=key, expressions=values))
            case "between":
                return exp.Between(this=key, low=values[0], high=values[1])
            case "contains":
                position = exp.StrPosition(
                    this=exp.cast(key, exp.DataType.Type.VARCHAR),
                    substr=exp.Literal.string(str(flt.values[0])),
                )
                return exp.GT(this=position, expression=exp.Literal.number(0))
        raise AssertionError(flt.op)

    def _window(self, compare: bool) -> TimeRange | None:
        return self.compare_range if compare else self.query.time_range

    def fact_select(
        self, group: _Group, compare: bool, window: TimeRange | None | bool = True
    ) -> exp.Select:
        """One aggregate over one fact table: dimension keys and the group's leaf metrics.

        `window`: the dates to aggregate; True for the query's (or the comparison's) own."""
        self._shifting = compare and self.shift is not None
        raw_time = group.time
        time = self.shift.forward_sql(raw_time) if self._shifting else raw_time
        tables: set[str] = set()
        keys: list[tuple[str, exp.Expression]] = []
        for ref in self.dims:
            node, table = self._dimension_expr(ref, group, time)
            keys.append((ref.key, node))
            if table:
                tables.add(table)
        where: list[exp.Expression] = []
        for flt in self.query.filters:
            node, table = self._dimension_expr(DimensionRef(name=flt.dimension), group, time)
            where.append(self._filter_expr(flt, node))
            if table:
                tables.add(table)
        if window is True:
            window = self._window(compare)
        snapshot = self._snapshot_literals(group, window, compare) if group.semi_additive else None
        if snapshot is not None:
            where.append(snapshot)  # the dates themselves lie inside the window
        elif window is not None:
            where += _within(raw_time, window)
        filters = {leaf.filter.sql() if leaf.filter else None for leaf in group.leaves}
        common = group.leaves[0].filter if len(filters) == 1 else None
        if common is not None:
            where.append(common.copy())
        aggregates = []
        for leaf in group.leaves:
            tables |= leaf.tables
            aggregates.append(
                exp.alias_(self._aggregate(leaf, common is None), leaf.name, copy=False)
            )
        if group.semi_additive and snapshot is None:
            where.append(self._last_snapshot(group, window, time, raw_time))
        joins = self._joins(group.base, tables)
        label = (
            None
            if snapshot is not None or group.semi_additive
            else _label_join(joins, keys, group, where)
        )
        if label is not None:
            return self._aggregate_before_label(group, keys, aggregates, joins, label, where)
        select = _select(
            *(exp.alias_(node, key, copy=False) for key, node in keys),
            *aggregates,
            source=group.base,
        )
        _walk_joins(select, joins)
        condition = _and(where)
        if condition is not None:
            select.where(condition, copy=False)
        if keys:
            select.group_by(*(node.copy() for _key, node in keys), copy=False)
        return select

    def _aggregate_before_label(
        self,
        group: _Group,
        keys: list[tuple[str, exp.Expression]],
        aggregates: list[exp.Expression],
        joins: list,
        label,
        where: list[exp.Expression],
    ) -> exp.Select:
        """Aggregate the facts by the join key, then look up the label: "revenue by region"
        sums order lines by orders.region_id (a handful of groups) and joins regions to
        those, instead of joining every fact row to regions first — half the time at scale
        10. The join is many-to-one, so each key has at most one label and the partial sums
        (counts, minima, maxima) add up to the same figures."""
        inner_keys = [(key, node) for key, node in keys if not _reads(node, label.to)] + [
            (f"__key{i}", exp.column(left, table=label.from_table))
            for i, (left, _right) in enumerate(label.on)
        ]
        inner = _select(
            *(exp.alias_(node, key, copy=False) for key, node in inner_keys),
            *aggregates,
            source=group.base,
        )
        _walk_joins(inner, [join for join in joins if join is not label])
        condition = _and(where)
        if condition is not None:
            inner.where(condition, copy=False)
        inner.group_by(*(node.copy() for _key, node in inner_keys), copy=False)
        partial = "__partial"
        outer_keys = [
            (key, node if _reads(node, label.to) else exp.column(key, table=partial))
            for key, node in keys
        ]
        combine = {Agg.sum: exp.Sum, Agg.count: exp.Sum, Agg.min: exp.Min, Agg.max: exp.Max}
        totals = []
        for leaf in group.leaves:
            total: exp.Expression = combine[leaf.metric.agg](
                this=exp.column(leaf.name, table=partial)
            )
            if leaf.metric.agg is Agg.count:  # a count stays a whole number of its own type
                total = exp.cast(total, exp.DataType.Type.BIGINT)
            totals.append(exp.alias_(total, leaf.name, copy=False))
        outer = exp.Select(
            expressions=[
                *(exp.alias_(node, key, copy=False) for key, node in outer_keys),
                *totals,
            ]
        ).from_(
            exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(partial))),
            copy=False,
        )
        on = _and(
            [
                exp.EQ(
                    this=exp.column(f"__key{i}", table=partial),
                    expression=exp.column(right, table=label.to),
                )
                for i, (_left, right) in enumerate(label.on)
            ]
        )
        _join(outer, label.to, on, label.required)
        outer.group_by(*(node.copy() for _key, node in outer_keys), copy=False)
        return outer

    def _shared_scan(self, group: _Group) -> TimeRange | None | bool:
        """The dates one scan must cover to serve both periods of a comparison, or False.

        Month-over-month by month reads 13 months once instead of 12 months twice: every
        period's total is then its own, and the comparison is the total of the period `shift`
        earlier. That holds only when the shift moves whole periods (a month by months, a day
        by days) and the windows start and end on period boundaries; None means no window."""
        ref = self.time_ref
        if group.semi_additive or ref is None or ref.grain is None:
            return False
        assert self.shift is not None
        span = {Grain.month: 1, Grain.quarter: 3, Grain.year: 12}.get(ref.grain)
        if span is not None:
            if self.shift.unit != "month" or self.shift.amount % span:
                return False
        elif self.shift.unit != "day" or self.shift.amount % (7 if ref.grain is Grain.week else 1):
            return False
        # Any other date (a second time key, a date filter) would move with the shift too.
        refs = [*self.dims, *(DimensionRef(name=f.dimension) for f in self.query.filters)]
        others = [r for r in refs if r is not ref]
        if any(self.model.dimension(r.name).type == "time" for r in others):
            return False
        now, before = self.query.time_range, self.compare_range
        if now is None or before is None:
            return None
        bounds = (now.start, now.end, before.start, before.end)
        if any(truncate(day, ref.grain) != day for day in bounds) or before.end < now.start:
            return False
        return TimeRange(start=before.start, end=now.end, label=now.label)

    def _split_scan(
        self, name: str, group: _Group, window: TimeRange | None
    ) -> list[tuple[str, exp.Select]]:
        """One aggregate over both periods, and the current period cut from it; the
        comparison joins the scan itself on the shifted period key (see `_key_match`)."""
        assert self.time_ref is not None
        key = self.time_ref.key
        names = [ref.key for ref in self.dims] + [leaf.name for leaf in group.leaves]
        scan = self.fact_select(group, compare=False, window=window)
        current = _select(*map(exp.column, names), source=f"{name}_scan")
        if self.query.time_range is not None:
            current.where(_and(_within(exp.column(key), self.query.time_range)), copy=False)
        return [(f"{name}_scan", scan), (name, current)]

    def _aggregate(self, leaf: Leaf, own_filter: bool) -> exp.Expression:
        value = leaf.expr.copy()
        if own_filter and leaf.filter is not None:
            value = exp.Case(ifs=[exp.If(this=leaf.filter.copy(), true=value)])
        agg = leaf.metric.agg
        if agg is Agg.count_distinct:
            return exp.Count(this=exp.Distinct(expressions=[value]))
        return {
            Agg.sum: exp.Sum,
            Agg.count: exp.Count,
            Agg.avg: exp.Avg,
            Agg.min: exp.Min,
            Agg.max: exp.Max,
        }[agg](this=value)

    def _last_snapshot(
        self, group: _Group, window: TimeRange | None, time: exp.Expression, raw: exp.Expression
    ) -> exp.Expression:
        """raw_time IN (the last snapshot date inside each period of the window)."""
        sub = _select(exp.Max(this=raw.copy()), source=group.base)
        if window is not None:
            sub.where(_and(_within(raw, window)), copy=False)
        if self.time_ref is not None and self.time_ref.grain is not None:
            sub.group_by(_trunc(time.copy(), self.time_ref.grain), copy=False)
        return raw.copy().isin(query=sub)

    def _snapshot_literals(
        self, group: _Group, window: TimeRange | None, compare: bool
    ) -> exp.Expression | None:
        """raw_time IN (the last snapshot date of each period), the dates written out.

        Same dates as `_last_snapshot` finds: inside the window, grouped by the (shifted)
        period; None when the dates are not known."""
        dates = self.snapshots(group.base, group.time) if self.snapshots else None
        if dates is None:
            return None
        if window is not None:
            dates = [d for d in dates if window.start <= d < window.end]
        grain = self.time_ref.grain if self.time_ref is not None else None
        last: dict[date | None, date] = {}
        for day in dates:
            moved = self.shift.forward(day) if compare and self.shift is not None else day
            period = truncate(moved, grain) if grain is not None else None
            last[period] = max(last.get(period, day), day)
        chosen = sorted(last.values())
        if not chosen:
            return exp.false()
        raw = group.time.copy()
        if len(chosen) == 1:
            return exp.EQ(this=raw, expression=_date(chosen[0]))
        return exp.In(this=raw, expressions=[_date(d) for d in chosen])

    def _joins(self, base: str, tables: set[str]):
        paths = self.cat.graph.paths_from(base)
        joins: dict[tuple[str, str], object] = {}
        for table in sorted(tables - {base}, key=lambda t: (len(paths[t].joins), t)):
            for join in paths[table].joins:
                joins.setdefault((join.from_table, join.to), join)
        return list(joins.values())

    # --- the final statement --------------------------------------------------------------
    def compile(self) -> CompiledQuery:
        self.check()
        groups = self.groups()
        q = self.query
        ctes: list[tuple[str, exp.Select]] = []
        where_leaf: dict[tuple[str, bool], str] = {}
        current: list[str] = []
        joined_ctes: list[str] = []
        shared_scans: dict[str, str] = {}  # comparison → the scan it is read from
        for index, group in enumerate(groups):
            name = f"f{index}"
            shared = self._shared_scan(group) if self.shift is not None else False
            if shared is not False:
                ctes += self._split_scan(name, group, shared)
                shared_scans[f"{name}_cmp"] = f"{name}_scan"
            else:
                ctes.append((name, self.fact_select(group, compare=False)))
                if self.shift is not None:
                    ctes.append((f"{name}_cmp", self.fact_select(group, compare=True)))
            current.append(name)
            joined_ctes.append(name)
            for leaf in group.leaves:
                where_leaf[(leaf.name, False)] = name
            if self.shift is not None:
                joined_ctes.append(f"{name}_cmp")
                for leaf in group.leaves:
                    where_leaf[(leaf.name, True)] = f"{name}_cmp"
        keys = [ref.key for ref in self.dims]
        if keys and len(current) > 1:
            union: exp.Expression = _select(*map(exp.column, keys), source=current[0])
            for name in current[1:]:
                union = exp.union(
                    union, _select(*map(exp.column, keys), source=name), distinct=True, copy=False
                )
            ctes.append(("dim_keys", union))
            driver = "dim_keys"
        else:
            driver = current[0]
        self.driver = driver
        self.where_leaf = where_leaf

        columns: list[OutputColumn] = []
        projections: list[exp.Expression] = []
        for ref in self.dims:
            dim = self.model.dimension(ref.name)
            projections.append(exp.alias_(exp.column(ref.key, table=driver), ref.key, copy=False))
            columns.append(OutputColumn(ref.key, "dimension", ref.name, dim.label, grain=ref.grain))
        share_partition = [
            exp.column(ref.key, table=driver)
            for ref in self.dims
            if self.model.dimension(ref.name).type == "time"
        ]
        for name in self.metrics:
            metric = self.model.metric(name)
            current_value = self.metric_expr(name, compare=False)
            projections.append(exp.alias_(current_value, name, copy=False))
            columns.append(
                OutputColumn(name, "metric", name, metric.label, metric.unit, format=metric.format)
            )
            compare_value = None
            if self.shift is not None:
                compare_value = self.metric_expr(name, compare=True)
            elif q.compare is Compare.budget and name in self.cat.budget_of:
                compare_value = self.metric_expr(self.cat.budget_of[name], compare=False)
            if compare_value is not None:
                tag = self._compare_label()
                projections.append(exp.alias_(compare_value, f"{name}__compare", copy=False))
                columns += [
                    OutputColumn(
                        f"{name}__compare",
                        "compare",
                        name,
                        Label(
                            zh=f"{metric.label.zh}（{tag.zh}）", en=f"{metric.label.en} ({tag.en})"
                        ),
                        metric.unit,
                        format=metric.format,
                    ),
                    OutputColumn(
                        f"{name}__change",
                        "change",
                        name,
                        Label(zh=f"{metric.label.zh}增减", en=f"{metric.label.en} change"),
                        metric.unit,
                        format=metric.format,
                    ),
                    OutputColumn(
                        f"{name}__change_pct",
                        "change_pct",
                        name,
                        Label(zh=f"{metric.label.zh}变化率", en=f"{metric.label.en} change %"),
                        "percent",
                        format=".1%",
                    ),
                ]
            if q.intent is Intent.share and metric.unit in SHARE_UNITS and self.dims:
                total = exp.Window(
                    this=exp.Sum(this=current_value.copy()),
                    partition_by=[p.copy() for p in share_partition] or None,
                )
                share = _safe_division(exp.Div(this=current_value.copy(), expression=total))
                projections.append(exp.alias_(share, f"{name}__share", copy=False))
                columns.append(
                    OutputColumn(
                        f"{name}__share",
                        "share",
                        name,
                        Label(zh=f"{metric.label.zh}占比", en=f"{metric.label.en} share"),
                        "percent",
                        format=".1%",
                    )
                )

        result = _select(*projections, source=driver)
        joined = {driver}
        for name in joined_ctes:
            if name in joined:
                continue
            joined.add(name)
            scan = shared_scans.get(name)
            if keys:
                on = _and(
                    [self._key_match(k, driver, name, shifted=scan is not None) for k in keys]
                )
                _join(result, scan or name, on, alias=name if scan else None)
            else:
                _join(result, name, None)
        ctes.append(("result", result))

        outer = _select(*(self._outer_column(c) for c in columns), source="result")
        having = [self._having(h.metric, h.op, h.value) for h in q.having]
        if having:
            outer.where(_and(having), copy=False)
        if self.dims or q.order_by:  # one row needs no sort
            outer.order_by(*self._order(columns), copy=False)
        if q.limit is not None:
            outer.limit(q.limit, copy=False)
        if q.count_rows_as is not None:
            ctes.append(("counted", outer))
            outer, columns = self._count_rows("counted", q.count_rows_as)
        for name, select in ctes:
            outer.with_(name, as_=select, copy=False)
        return CompiledQuery(
            query=q,
            ast=outer,
            columns=tuple(columns),
            comparison_range=self.compare_range,
            dialect=self.dialect,
        )

    def _count_rows(self, rows: str, name: str) -> tuple[exp.Select, list[OutputColumn]]:
        """One number: how many rows the CTE `rows` has (the members meeting the conditions),
        named after the model's metric that counts those members."""
        if name not in self.model.metric_map:
            raise QueryError("unknown_metric", self._metric_suggestions(name), name=name)
        metric = self.model.metric(name)
        counted = _select(exp.alias_(exp.Count(this=exp.Star()), name, copy=False), source=rows)
        members = [self.model.dimension(d.name).label for d in self.dims]
        label = Label(
            zh="满足条件的" + "、".join(m.zh for m in members) + "数",
            en=", ".join(m.en for m in members) + " meeting the condition",
        )
        column = OutputColumn(name, "metric", name, label, "count", format=metric.format)
        return counted, [column]

    def _key_match(self, key: str, driver: str, name: str, shifted: bool) -> exp.Expression:
        """driver.key = name.key; for a shared scan the period key is moved forward by the
        shift, so each period meets the period `shift` before it (and only that one)."""
        other: exp.Expression = exp.column(key, table=name)
        if shifted and self.time_ref is not None and key == self.time_ref.key:
            assert self.shift is not None
            other = _trunc(self.shift.forward_sql(other), None)
        return exp.NullSafeEQ(this=exp.column(key, table=driver), expression=other)

    @staticmethod
    def _outer_column(column: OutputColumn) -> exp.Expression:
        """Change columns are derived from the current and comparison values by name."""
        if column.kind not in ("change", "change_pct"):
            return exp.column(column.name)
        current = exp.column(column.source)
        previous = exp.column(f"{column.source}__compare")
        change = exp.Sub(this=current, expression=previous)
        if column.kind == "change":
            return exp.alias_(change, column.name, copy=False)
        pct = _safe_division(exp.Div(this=exp.paren(change), expression=exp.Abs(this=previous)))
        return exp.alias_(pct, column.name, copy=False)

    def metric_expr(self, name: str, compare: bool) -> exp.Expression:
        """The value of a metric from the joined aggregates; derived metrics expand inline."""
        metric = self.model.metric(name)
        if metric.kind == "simple":
            return exp.column(name, table=self.where_leaf[(name, compare)])

        def substitute(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column):
                if node.name == PERIOD_DAYS:
                    return self.period_days(compare)
                value = self.metric_expr(node.name, compare)
                if self.model.metric(node.name).agg in ADDITIVE_AGGS:
                    # No rows means zero for a sum or a count: net cash flow of a month with
                    # inflows but no outflows is the inflow, not unknown.
                    value = exp.Coalesce(this=value, expressions=[exp.Literal.number(0)])
                return _wrap(value)
            return node

        return _safe_division(self.cat.derived_expr(name).transform(substitute))

    def period_days(self, compare: bool) -> exp.Expression:
        """Days in the period each row reports on (for DSO/DIO): grain ∩ time range."""
        window = self._window(compare)
        if self.time_ref is not None and self.time_ref.grain is not None:
            start: exp.Expression = exp.column(self.time_ref.key, table=self.driver)
            if compare and self.shift is not None:
                start = exp.DateSub(
                    this=start,
                    expression=exp.Literal.number(self.shift.amount),
                    unit=exp.var(self.shift.unit),
                )
            step = GRAIN_SHIFT[self.time_ref.grain]
            end: exp.Expression = step.forward_sql(start)
            if window is not None:
                start = exp.Greatest(this=start, expressions=[_date(window.start)])
                end = exp.Least(this=end, expressions=[_date(window.end)])
            return exp.DateDiff(this=end, expression=start, unit=exp.var("DAY"))
        assert window is not None
        if window.start <= ALL_TIME:
            # "Per day" over all the data has no period to divide by (not the days since 1900).
            raise QueryError("period_days_all_time")
        return exp.Literal.number(window.days)

    def _having(self, metric: str, op: str, value: float) -> exp.Expression:
        ops = {"=": exp.EQ, "!=": exp.NEQ, ">": exp.GT, ">=": exp.GTE, "<": exp.LT, "<=": exp.LTE}
        return ops[op](this=exp.column(metric), expression=exp.Literal.number(value))

    def _order(self, columns: list[OutputColumn]) -> list[exp.Ordered]:
        names = {c.name for c in columns}
        by_dimension = {ref.name: ref.key for ref in self.dims}
        order: list[exp.Ordered] = []
        for item in self.query.order_by:
            name = by_dimension.get(item.field, item.field)
            if name not in names:
                raise QueryError("unknown_order_field", closest(name, names), name=item.field)
            order.append(exp.Ordered(this=exp.column(name), desc=item.desc, nulls_first=False))
        if not order:
            order = self._default_order()
        used = {o.this.name for o in order}
        order += [
            exp.Ordered(this=exp.column(ref.key), nulls_first=False)
            for ref in self.dims
            if ref.key not in used
        ]
        return order

    def _default_order(self) -> list[exp.Ordered]:
        """Time ascending for trends; otherwise biggest first, which is what rankings expect."""
        q = self.query
        time_keys = [r.key for r in self.dims if self.model.dimension(r.name).type == "time"]
        order = [exp.Ordered(this=exp.column(k), nulls_first=False) for k in time_keys]
        has_categories = len(time_keys) < len(self.dims)
        if has_categories or not self.dims or q.limit is not None or q.intent is Intent.rank:
            order.append(
                exp.Ordered(this=exp.column(self.metrics[0]), desc=True, nulls_first=False)
            )
        if q.limit is not None and time_keys and not has_categories:
            # "top 3 months": rank by the metric, not by date.
            order = order[len(time_keys) :]
        return order
