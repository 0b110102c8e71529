"""`SemanticQuery`: the one contract between understanding a question and computing its answer.

The rule parser and the LLM parser only ever produce this; the compiler only ever consumes
it. It is JSON-serialisable and shown to the user as the interpretation of their question.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator, model_validator

from semantic_layer.model import Frozen, Grain, check_arity

FilterOp = Literal["=", "!=", "in", "not_in", ">", ">=", "<", "<=", "between", "contains"]
HavingOp = Literal["=", "!=", ">", ">=", "<", "<="]
Value = str | int | float | date


class Compare(StrEnum):
    none = "none"
    yoy = "yoy"
    mom = "mom"
    qoq = "qoq"
    previous_period = "previous_period"
    budget = "budget"


class Intent(StrEnum):
    lookup = "lookup"
    trend = "trend"
    breakdown = "breakdown"
    rank = "rank"
    compare = "compare"
    share = "share"
    explain = "explain"
    summary = "summary"


class DimensionRef(Frozen):
    """A dimension with an optional time grain, written `name` or `name:grain`."""

    name: str
    grain: Grain | None = None

    @classmethod
    def parse(cls, text: str) -> DimensionRef:
        name, _, grain = text.partition(":")
        return cls(name=name.strip(), grain=Grain(grain.strip()) if grain else None)

    @property
    def key(self) -> str:
        """The result column name: `region`, `metric_time__month`."""
        return f"{self.name}__{self.grain.value}" if self.grain else self.name

    def __str__(self) -> str:
        return f"{self.name}:{self.grain.value}" if self.grain else self.name


class Filter(Frozen):
    """A condition on a dimension; values are always bound as SQL literals, never spliced."""

    dimension: str
    op: FilterOp = "="
    values: list[Value]

    @field_validator("values", mode="before")
    @classmethod
    def _listify(cls, value: object) -> object:
        return value if isinstance(value, list | tuple) else [value]

    @model_validator(mode="after")
    def _arity(self) -> Filter:
        check_arity(self.op, self.values)
        return self


class Having(Frozen):
    """A condition on a metric's value after aggregation, e.g. gross_margin < 0.2."""

    metric: str
    op: HavingOp
    value: float


class TimeRange(Frozen):
    """Absolute dates, `end` exclusive; `label` keeps the user's words (e.g. "去年")."""

    start: date
    end: date
    label: str | None = None

    @model_validator(mode="after")
    def _order(self) -> TimeRange:
        if self.end <= self.start:
            raise ValueError("time_range.end must be after start (end is exclusive)")
        return self

    @property
    def days(self) -> int:
        return (self.end - self.start).days


class OrderBy(Frozen):
    """Sort by a metric, a comparison column (`revenue__change_pct`) or a dimension key."""

    field: str
    desc: bool = True


class Definition(Frozen):
    """A metric defined in the question itself ("loss ratio is total loss divided by
    premium"): a derived metric over the model's metrics, compiled like the model's own
    (divisions guarded against zero), and shown in the 口径 as defined in the question."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1, max_length=80)
    expr: str = Field(min_length=1, max_length=500)  # metric names, + - * /, numbers, ( )
    unit: Literal["yuan", "percent", "count", "days", "units", "ratio"] = "yuan"

    @field_validator("expr")
    @classmethod
    def _arithmetic(cls, value: str) -> str:
        # Only names, numbers, arithmetic and parentheses: no function, no SQL.
        import re

        if not re.fullmatch(r"[A-Za-z0-9_\s+\-*/().]+", value):
            raise ValueError("a defined metric is arithmetic over metric names only")
        return value


class SemanticQuery(Frozen):
    """What to compute: metrics by dimensions, filtered, in a period, maybe compared."""

    # Empty only for a listing: the members of `dimensions` ("list all stores").
    metrics: list[str] = Field(default_factory=list)
    # Metrics the question defines for itself (used by name in `metrics`).
    define: list[Definition] = Field(default_factory=list, max_length=5)
    dimensions: list[DimensionRef] = Field(default_factory=list)
    filters: list[Filter] = Field(default_factory=list)
    having: list[Having] = Field(default_factory=list)
    time_range: TimeRange | None = None
    compare: Compare = Compare.none
    order_by: list[OrderBy] = Field(default_factory=list)
    limit: int | None = Field(default=None, ge=1)
    intent: Intent = Intent.lookup
    # "今年收入超过500万的客户有几个": one number, how many rows the breakdown has after
    # `having`, reported under the model's metric that counts those members (its name here).
    count_rows_as: str | None = None
    # With compare previous_period: the comparison period is this many months earlier
    # ("今年比前年": 24; "12月底比6月底", a balance: 6), not the adjacent one.
    compare_months: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _something(self) -> SemanticQuery:
        if not self.metrics and not self.dimensions:
            raise ValueError("a query needs a metric, or dimensions to list")
        if not self.metrics and (self.having or self.compare is not Compare.none):
            raise ValueError("a listing (no metric) has no conditions on metrics or comparison")
        if self.count_rows_as is not None and (
            not self.dimensions or not self.metrics or self.compare is not Compare.none
        ):
            raise ValueError("counting rows needs metrics and dimensions, and no comparison")
        if self.compare_months is not None and self.compare is not Compare.previous_period:
            raise ValueError("compare_months goes with compare: previous_period")
        return self

    @field_validator("dimensions", mode="before")
    @classmethod
    def _dims(cls, value: object) -> object:
        # Accept the compact string form used in YAML, JSON and tests: "metric_time:month".
        if isinstance(value, list):
            return [DimensionRef.parse(v) if isinstance(v, str) else v for v in value]
        return value
