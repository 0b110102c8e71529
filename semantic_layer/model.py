"""Types of the semantic layer (指标中心): tables, joins, dimensions, metrics, roles, alerts.

These are the shapes a model YAML file is validated into. They are frozen pydantic models so
that a loaded model can be shared by the compiler, the parser and the UI without anyone
changing it behind their backs. Cross-references (a join naming a table, a derived metric
naming other metrics) are checked by `validate.py`, which reports every problem at once.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

IDENT = r"^[A-Za-z_][A-Za-z0-9_]*$"


class Frozen(BaseModel):
    """Base for every model type: immutable, and unknown keys are errors (typos surface)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Grain(StrEnum):
    """Time grains a time dimension can be truncated to; weeks are ISO weeks (Monday first)."""

    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


GRAIN_ORDER = [Grain.day, Grain.week, Grain.month, Grain.quarter, Grain.year]


def check_arity(op: str, values: list) -> None:
    """How many values a filter operator takes (shared by query filters and alert scopes)."""
    if not values:
        raise ValueError("a filter needs at least one value")
    if op == "between" and len(values) != 2:
        raise ValueError("`between` takes exactly two values")
    if op not in ("in", "not_in", "between") and len(values) != 1:
        raise ValueError(f"`{op}` takes exactly one value")


class Label(Frozen):
    """A name in both languages the product speaks."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class Table(Frozen):
    """A physical table. `time_column` is its natural date, used when none is said."""

    name: str = Field(pattern=IDENT)
    primary_key: list[str] = Field(default_factory=list)
    time_column: str | None = None
    label: Label | None = None
    description: str | None = None


class Join(Frozen):
    """A many-to-one relationship: each row of `from_table` matches at most one row of `to`.

    The compiler only ever walks joins in this direction, which is what rules out fan-out.
    """

    from_table: str = Field(alias="from")
    to: str
    on: list[tuple[str, str]]
    # Every row of `from_table` has its match (no orphan keys; `cockpit check` verifies it):
    # the compiler may then use an inner join, which the database runs much faster.
    required: bool = False

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _yaml_on(cls, data: object) -> object:
        # YAML 1.1 reads the bare key `on` as the boolean True; accept it as meant.
        if isinstance(data, dict) and True in data:
            data = {("on" if k is True else k): v for k, v in data.items()}
        return data

    @field_validator("on", mode="before")
    @classmethod
    def _keys(cls, value: object) -> object:
        # `on: customer_id` is shorthand for `on: [[customer_id, customer_id]]`.
        if isinstance(value, str):
            return [(value, value)]
        if isinstance(value, list):
            return [(v, v) if isinstance(v, str) else v for v in value]
        return value


class DimensionSource(Frozen):
    """Where a conformed dimension lives on one more table (e.g. product_line on budgets)."""

    table: str
    expr: str


class Dimension(Frozen):
    """Something to group or filter by: a column or expression on a table."""

    name: str = Field(pattern=IDENT)
    label: Label
    type: Literal["category", "time", "number"] = "category"
    table: str | None = None
    expr: str | None = None
    sources: list[DimensionSource] = Field(default_factory=list)
    synonyms: list[str] = Field(default_factory=list)
    description: str | None = None
    parent: str | None = None
    # English names of the values, for questions asked in English: a column of the same
    # table (regions.region_name_en) and/or a fixed map for values without one (渠道).
    value_label_en: str | None = None
    value_labels: dict[str, str] = Field(default_factory=dict)
    # Other words people use for a value: 电商 → 线上, e-comm, online.
    value_synonyms: dict[str, list[str]] = Field(default_factory=dict)
    grains: list[Grain] = Field(default_factory=lambda: list(GRAIN_ORDER))
    # How people write any member, "{}" standing for it: ["{}区", "{} region"] read 华东区 and
    # "East region" as 华东 / East. Forms are tried on the stored value and its English name.
    value_forms: list[str] = Field(default_factory=list)
    # True for `metric_time`: the dimension that means "each metric's own date".
    metric_time: bool = False
    # An entity in a role: only the rows of `table` meeting this condition are joined
    # (`party_role_code = 'AG'`: the agent of each agreement), so a table holding several
    # parties per agreement joins one row per agreement — its own alias, see `role_table`.
    where: str | None = None

    @model_validator(mode="after")
    def _source(self) -> Dimension:
        if not self.metric_time and (self.table is None or self.expr is None):
            raise ValueError("a dimension needs `table` and `expr` (or `metric_time: true`)")
        if self.where is not None and (self.sources or self.metric_time):
            raise ValueError("a dimension with `where` (a role) reads one table: remove `sources`")
        return self

    @property
    def role_table(self) -> str | None:
        """The alias a role dimension's rows join under (`agreement_party_role__agent`): a
        node of its own in the join graph, read as the table filtered by `where`."""
        return f"{self.table}__{self.name}" if self.where is not None else None

    @cached_property
    def role_reads(self) -> list[str]:
        """Tables besides `table` a role dimension's `expr` names (`party.party_name`: the
        name of the party in the role, one join on from the role's row)."""
        if self.where is None or self.table is None or self.expr is None:
            return []
        from sqlglot.errors import ParseError

        from semantic_layer.expressions import parse_expr, qualify, tables_of

        try:
            return sorted(tables_of(qualify(parse_expr(self.expr), self.table)) - {self.table})
        except ParseError:
            return []  # reported by validation as a bad expression

    @cached_property
    def role_aliases(self) -> dict[str, str]:
        """A role dimension's aliases and the stored tables they read: the role's rows
        (`agreement_party_role__agent`) and any table its `expr` reaches from them
        (`party__agent`). Empty for other dimensions."""
        if self.role_table is None or self.table is None:
            return {}
        out = {self.role_table: self.table}
        out.update({f"{t}__{self.name}": t for t in self.role_reads})
        return out

    def physical(self, table: str) -> str:
        """The stored table behind one of this dimension's source tables (its role alias)."""
        return self.role_aliases.get(table, table)

    @cached_property
    def all_sources(self) -> list[DimensionSource]:
        """The main table/expression first, then the extra conformed sources (a role
        dimension's one source is its `role_table`, or the alias of the table its `expr`
        reaches from there, with the expression written over the aliases)."""
        if self.table is None or self.expr is None:
            return list(self.sources)
        if self.role_table is None:
            return [DimensionSource(table=self.table, expr=self.expr), *self.sources]
        if not self.role_reads:
            return [DimensionSource(table=self.role_table, expr=self.expr)]
        from sqlglot import exp

        from semantic_layer.expressions import parse_expr, qualify

        alias = {t: a for a, t in self.role_aliases.items()}

        def rename(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column) and node.table in alias:
                return exp.column(node.name, table=alias[node.table])
            return node

        text = qualify(parse_expr(self.expr), self.table).transform(rename).sql("duckdb")
        return [DimensionSource(table=alias[self.role_reads[0]], expr=text)]


class MetricKind(StrEnum):
    simple = "simple"
    derived = "derived"


class Agg(StrEnum):
    sum = "sum"
    count = "count"
    count_distinct = "count_distinct"
    avg = "avg"
    min = "min"
    max = "max"


class Metric(Frozen):
    """A governed metric with one agreed definition (口径).

    simple:  `agg` over `expr` on `table`, optionally restricted by a fixed `filter`, dated by
             `time` (a column of `table` or of a table it joins to). `semi_additive: true` makes
             it a balance: the value at the last snapshot inside each period, never a sum over time.
    derived: `expr` over other metric names (and `period_days`); division is made safe.
    """

    name: str = Field(pattern=IDENT)
    label: Label
    kind: MetricKind = MetricKind.simple
    synonyms: list[str] = Field(default_factory=list)
    description: Label | None = None
    unit: Literal["yuan", "percent", "count", "days", "units", "ratio"] = "yuan"
    # A Python format spec for full-precision display (",.2f", ".1%"); compact displays use
    # 万/亿 whatever it says.
    format: str | None = None
    table: str | None = None
    agg: Agg | None = None
    expr: str
    filter: str | None = None
    time: str | None = None
    semi_additive: bool = False
    # Whether a rise is good news (revenue) or bad (expenses); used by charts and alerts.
    higher_is_better: bool = True
    budget: str | None = None

    @field_validator("format")
    @classmethod
    def _format(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                format(1234.5, value)
            except ValueError as err:
                raise ValueError(f"not a number format: {value!r} ({err})") from None
        return value

    @model_validator(mode="after")
    def _shape(self) -> Metric:
        if self.kind is MetricKind.simple:
            missing = [f for f in ("table", "agg", "time") if getattr(self, f) is None]
            if missing:
                raise ValueError(f"a simple metric needs {', '.join(missing)}")
        else:
            extra = [f for f in ("table", "agg", "filter", "time") if getattr(self, f) is not None]
            if extra or self.semi_additive:
                remove = ", ".join(extra) or "semi_additive"
                raise ValueError(f"a derived metric takes only `expr`; remove {remove}")
        return self


class RowFilter(Frozen):
    """A role's row-level restriction on a dimension (region in 华东; category not in 工资薪酬).

    It applies to every table that can reach the dimension. `elsewhere` says what happens to
    fact tables that cannot: "deny" (fail closed: the role sees none of their rows) or "allow".
    """

    dimension: str
    op: Literal["in", "not_in"] = "in"
    values: list[str | int | float] = Field(min_length=1)
    elsewhere: Literal["deny", "allow"] = "deny"


class Role(Frozen):
    """Who may see what: row filters, masked dimensions (values replaced by stable pseudonyms)
    and metrics the role may not see at all. Enforced on the SQL itself (`security.py`)."""

    name: str = Field(pattern=IDENT)
    label: Label | None = None
    row_filters: list[RowFilter] = Field(default_factory=list)
    masked_dimensions: list[str] = Field(default_factory=list)
    denied_metrics: list[str] = Field(default_factory=list)
    # Further columns that read as NULL ("products.unit_cost"), for data a denied metric's
    # own columns do not cover but that would let it be rebuilt.
    masked_columns: list[str] = Field(default_factory=list)

    def title(self, lang: str) -> str:
        """The role as people read it: its label, else its identifier."""
        return self.label.get(lang) if self.label else self.name


class Alert(Frozen):
    """A rule on a metric (智能预警): a threshold, or a change against the previous period.

    Threshold: `metric op value` (gross_margin < 0.28). Change: with `change: mom|yoy` the rule
    reads the relative change instead, as a fraction (`change: yoy, op: "<", value: -0.1` fires
    when the metric fell more than 10% on the same period last year). `filters` narrow the
    scope (only 市场部); `dimensions` evaluate the rule once per member (per customer), and
    `grain` is the period it is evaluated over. `owner_role` names the role that should act.
    """

    class Scope(Frozen):
        """A scope condition, shaped like a query filter: {dimension, op, values}."""

        dimension: str
        op: Literal["=", "!=", "in", "not_in", ">", ">=", "<", "<=", "between", "contains"] = "="
        values: list[str | int | float | date]

        @field_validator("values", mode="before")
        @classmethod
        def _listify(cls, value: object) -> object:
            return value if isinstance(value, list | tuple) else [value]

        @model_validator(mode="after")
        def _arity(self) -> Alert.Scope:
            check_arity(self.op, self.values)
            return self

    name: str = Field(pattern=IDENT)
    label: Label | None = None
    description: Label | None = None
    metric: str
    filters: list[Alert.Scope] = Field(default_factory=list)
    change: Literal["mom", "yoy"] | None = None
    op: Literal[">", ">=", "<", "<=", "="]
    value: float
    grain: Grain = Grain.month
    dimensions: list[str] = Field(default_factory=list)
    severity: Literal["info", "warning", "critical"] = "warning"
    owner_role: str | None = None


def _patterns(patterns: list[str]) -> list[str]:
    """Regular expressions from a model file must compile (and are matched lowercased)."""
    import re

    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as err:
            raise ValueError(f"not a regular expression: {pattern!r} ({err})") from None
    return patterns


class _Worded(Frozen):
    """Words (regular expressions on the lowercased question) that stand for metrics."""

    patterns: list[str] = Field(min_length=1)
    metrics: list[str] = Field(min_length=1)

    @field_validator("patterns")
    @classmethod
    def _compile(cls, value: list[str]) -> list[str]:
        return _patterns(value)


class Implied(_Worded):
    """Words that imply a metric when none is named: 卖了多少 → revenue, "spent" → expenses.

    `metrics` in order of preference: the first that reaches everything else the question
    names is used (买了 → revenue, but from a supplier → purchases)."""


class Lacking(Frozen):
    """A concept people ask for that the model deliberately does not define (净利润), and the
    metrics to offer instead. Asked for, it is refused with those as suggestions."""

    patterns: list[str] = Field(min_length=1)
    label: Label
    suggest: list[str] = Field(default_factory=list)

    @field_validator("patterns")
    @classmethod
    def _compile(cls, value: list[str]) -> list[str]:
        return _patterns(value)


class MetricGroup(_Worded):
    """Metrics asked for together by one word: "账龄" / "aging" → every aging bucket.

    `whole`: metrics that a named member of the group narrows ("90天以上的应收" is the 90+
    bucket, not the whole receivables balance)."""

    whole: list[str] = Field(default_factory=list)


class Topic(_Worded):
    """A subject asked about as a whole, answered as a small pack: "回款情况" / "how are
    collections doing" → the amount and the rate, each beside the period before, rather than
    one figure. The pack's metrics come first, in this order; others named with it follow."""


class Knowledge(Frozen):
    """What the product needs to know about the business, declared in the model — never in
    code. Every part is optional; what is missing is derived from the model itself
    (`semantic_layer/knowledge.py`)."""

    # The period a question without time words covers: all data (default), or a calendar
    # window relative to the as-of date.
    default_period: Literal["all", "this_year", "this_quarter", "this_month"] = "all"
    kpis: list[str] = Field(default_factory=list)  # the summary's and welcome cards' metrics
    # Dimensions "why", anomalies and the summary's movers try first; per metric, with "*"
    # for any metric not listed.
    breakdowns: dict[str, list[str]] = Field(default_factory=dict)
    board_filters: list[str] = Field(default_factory=list)  # the board's shared filters
    implies: list[Implied] = Field(default_factory=list)
    lacks: list[Lacking] = Field(default_factory=list)
    groups: list[MetricGroup] = Field(default_factory=list)
    topics: list[Topic] = Field(default_factory=list)  # "回款情况" → a pack, not one figure
    # Words fuzzy matching must never turn into one another (应收/应付, inflow/outflow).
    siblings: list[list[str]] = Field(default_factory=list)
    examples: list[Label] = Field(default_factory=list)  # example questions, zh and en


class SemanticModel(Frozen):
    """A whole model: what the compiler, the parser and the UI all read."""

    name: str = Field(pattern=IDENT)
    label: Label | None = None
    as_of: date | None = None
    currency: str = "CNY"
    tables: list[Table] = Field(default_factory=list)
    joins: list[Join] = Field(default_factory=list)
    dimensions: list[Dimension] = Field(default_factory=list)
    metrics: list[Metric] = Field(default_factory=list)
    roles: list[Role] = Field(default_factory=list)
    alerts: list[Alert] = Field(default_factory=list)
    knowledge: Knowledge = Field(default_factory=Knowledge)
    # The joins that reach each role dimension's rows (`Dimension.where`): the model's joins
    # into the role's table, re-aimed at its `role_table`. Derived, never written: kept apart
    # so that a join the data shows is not many-to-one (several parties per agreement) can be
    # left out of `joins` while the role, which joins one row per key, still reaches.
    role_joins: list[Join] = Field(default_factory=list, exclude=True, repr=False)

    @model_validator(mode="after")
    def _role_joins(self) -> SemanticModel:
        if self.role_joins or not any(d.where for d in self.dimensions):
            return self
        found = []
        for dim in self.dimensions:
            if dim.role_table is None:
                continue
            found += [
                Join(from_table=join.from_table, to=dim.role_table, on=join.on)
                for join in self.joins
                if join.to == dim.table
            ]
            found += [
                Join(from_table=dim.role_table, to=f"{join.to}__{dim.name}", on=join.on)
                for join in self.joins
                if join.from_table == dim.table and join.to in dim.role_reads
            ]
        object.__setattr__(self, "role_joins", found)  # frozen: set once, while validating
        return self

    @cached_property
    def role_sources(self) -> dict[str, tuple[str, str]]:
        """Every role alias: the stored table it reads and the condition its rows meet, as
        SQL over that table. The role's rows meet `where`; a table reached from them (the
        party) keeps the rows some row in the role points to."""
        from sqlglot import exp

        from semantic_layer.expressions import parse_expr, qualify

        out: dict[str, tuple[str, str]] = {}
        for dim in self.dimensions:
            if dim.role_table is None or dim.table is None or dim.where is None:
                continue
            where = qualify(parse_expr(dim.where), dim.table)
            out[dim.role_table] = (dim.table, where.sql("duckdb"))
            for join in self.role_joins:
                if join.from_table != dim.role_table:
                    continue
                table = dim.physical(join.to)
                mine = [exp.column(b, table=table) for _, b in join.on]
                theirs = [exp.column(a, table=dim.table) for a, _ in join.on]
                inner = exp.select(*theirs).from_(dim.table).where(where.copy())
                key = mine[0] if len(mine) == 1 else exp.Tuple(expressions=mine)
                out[join.to] = (table, key.isin(query=inner).sql("duckdb"))
        return out

    @field_validator("dimensions")
    @classmethod
    def _metric_time(cls, dimensions: list[Dimension]) -> list[Dimension]:
        """Every model can be split by time: `metric_time` (each metric's own date) exists
        even when the file does not declare it."""
        if any(d.metric_time for d in dimensions):
            return dimensions
        if any(d.name == "metric_time" for d in dimensions):
            return dimensions  # the name is taken by the model's own dimension: leave it
        own = Dimension(
            name="metric_time",
            label=Label(zh="时间", en="Time"),
            type="time",
            metric_time=True,
            synonyms=["日期", "期间", "date", "period"],
        )
        return [*dimensions, own]  # last: the file's own dimensions keep their positions

    @cached_property
    def table_map(self) -> dict[str, Table]:
        return {t.name: t for t in self.tables}

    @cached_property
    def dimension_map(self) -> dict[str, Dimension]:
        return {d.name: d for d in self.dimensions}

    @cached_property
    def metric_map(self) -> dict[str, Metric]:
        return {m.name: m for m in self.metrics}

    def metric(self, name: str) -> Metric:
        return self.metric_map[name]

    def dimension(self, name: str) -> Dimension:
        return self.dimension_map[name]
