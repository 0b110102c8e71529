"""Alerts (智能预警): evaluate the model's alert rules for a period and say what fired.

A rule lives in the semantic-layer YAML (`alerts:`): a metric, optional scope filters, a
threshold (`gross_margin < 0.28`) or a change against the previous period or the same period
last year (`change: yoy, op: "<", value: -0.15`), a grain, optional per-member dimensions
(per customer), a severity and an owner role. Each rule becomes one `SemanticQuery` by the
rule's grain, compiled like any question — so an alert reads exactly the number a user would
get by asking — and the rows that break the rule become `FiredAlert` values.

    fired = evaluate_alerts(model, engine, date(2025, 3, 31))
    fired[0].message_zh  # "毛利率低于警戒线：2025年3月 毛利率 26.9%，低于 28.0%"
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from assistant.formatting import format_value
from semantic_layer.compiler import add_months, compile_for
from semantic_layer.engine import Engine
from semantic_layer.members import read_members
from semantic_layer.model import Alert, Grain, Label, SemanticModel
from semantic_layer.query import Compare, DimensionRef, Filter, SemanticQuery, TimeRange

SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
}
OP_WORDS = {
    "<": ("低于", "below"),
    "<=": ("不高于", "at or below"),
    ">": ("高于", "above"),
    ">=": ("不低于", "at or above"),
    "=": ("等于", "equal to"),
}
CHANGE_WORDS = {
    "yoy": ("同比", "year over year"),
    "mom": ("环比", "on the previous period"),
}
MONTHS_EN = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


@dataclass(frozen=True)
class FiredAlert:
    """One rule broken in one period (and, for per-member rules, by one member)."""

    rule: str
    label: Label
    severity: str  # info | warning | critical
    metric: str
    period_start: date
    period_end: date  # exclusive
    dimensions: tuple[str, ...]  # the rule's per-member dimensions, () for a company-wide rule
    member: tuple[str, ...]  # the member's values, one per dimension ("市场部", "市场推广")
    value: float  # the metric, or its relative change for a change rule
    threshold: float
    op: str
    change: str | None  # None, "mom" or "yoy"
    owner_role: str | None
    message_zh: str
    message_en: str
    query: SemanticQuery  # the query that reproduces the value (one period, the rule's scope)

    def message(self, lang: str = "zh") -> str:
        return self.message_zh if lang == "zh" else self.message_en


# --- periods ------------------------------------------------------------------------------
def period_bounds(day: date, grain: Grain | str = Grain.month) -> tuple[date, date]:
    """The period of `grain` containing `day`: (first day, first day after). Weeks are ISO."""
    grain = Grain(grain)
    if grain is Grain.day:
        return day, day + timedelta(days=1)
    if grain is Grain.week:
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    months = {Grain.month: 1, Grain.quarter: 3, Grain.year: 12}[grain]
    start = date(day.year, (day.month - 1) // months * months + 1, 1)
    return start, add_months(start, months)


def period_label(start: date, grain: Grain | str, lang: str) -> str:
    """2025年3月 / Mar 2025; 2025年第1季度 / Q1 2025; 2025年 / 2025; weeks and days by date."""
    grain = Grain(grain)
    zh = lang == "zh"
    if grain is Grain.month:
        return (
            f"{start.year}年{start.month}月" if zh else f"{MONTHS_EN[start.month - 1]} {start.year}"
        )
    if grain is Grain.quarter:
        quarter = (start.month - 1) // 3 + 1
        return f"{start.year}年第{quarter}季度" if zh else f"Q{quarter} {start.year}"
    if grain is Grain.year:
        return f"{start.year}年" if zh else str(start.year)
    if grain is Grain.week:
        return f"{start.isoformat()}当周" if zh else f"week of {start.isoformat()}"
    return start.isoformat()


def english_names(
    model: SemanticModel, engine: Engine, dimension: str, values: Iterable[object]
) -> dict[str, str]:
    """English names of dimension values (市场部 → Marketing) from the model's value labels
    or its English-name column; values without one keep their own name. The column is read
    through the compiler's listing, as every member list is (a role's rows, the role's view)."""
    dim = model.dimension(dimension)
    wanted = sorted({str(v) for v in values})
    names = {v: dim.value_labels[v] for v in wanted if v in dim.value_labels}
    missing = [v for v in wanted if v not in names]
    if missing and dim.value_label_en and dim.table and dim.expr:
        rows = read_members(model, engine, dimension, english=True, values=missing)
        names.update({str(row[0]): str(row[1]) for row in rows if len(row) > 1 and row[1]})
    return names


# --- evaluation ---------------------------------------------------------------------------
def evaluate_alerts(
    model: SemanticModel, engine: Engine, as_of: date, period: str = "month"
) -> list[FiredAlert]:
    """Every rule of grain `period`, evaluated for the period containing `as_of` (the whole
    calendar month by default; a balance at its last snapshot in it). Worst first."""
    start, end = period_bounds(as_of, period)
    return _evaluate(model, engine, [a for a in model.alerts if a.grain == period], start, end)


def alerts_history(
    model: SemanticModel, engine: Engine, start: date, end: date, period: str = "month"
) -> list[FiredAlert]:
    """What the rules of grain `period` fired in every period from the one containing `start`
    to the one containing `end`, oldest first (one query per rule for the whole span)."""
    first, _ = period_bounds(start, period)
    _, last = period_bounds(end, period)
    fired = _evaluate(model, engine, [a for a in model.alerts if a.grain == period], first, last)
    return sorted(fired, key=lambda f: f.period_start)


def rule_query(rule: Alert, start: date, end: date) -> SemanticQuery:
    """The query a rule reads: its metric by the rule's grain (and members) over a window."""
    compare = Compare.none
    if rule.change == "yoy":
        compare = Compare.yoy
    elif rule.change == "mom":
        # "The previous period" of the rule's grain: the month before, the quarter before.
        compare = Compare.mom if rule.grain is Grain.month else Compare.previous_period
    return SemanticQuery(
        metrics=[rule.metric],
        dimensions=[DimensionRef(name="metric_time", grain=rule.grain)]
        + [DimensionRef(name=d) for d in rule.dimensions],
        filters=[Filter(**f.model_dump()) for f in rule.filters],
        time_range=TimeRange(start=start, end=end),
        compare=compare,
    )


def _evaluate(
    model: SemanticModel, engine: Engine, rules: list[Alert], start: date, end: date
) -> list[FiredAlert]:
    fired: list[tuple[tuple, FiredAlert]] = []
    for order, rule in enumerate(rules):
        query = rule_query(rule, start, end)
        result = engine.execute(compile_for(engine, model, query).ast)
        column = f"{rule.metric}__change_pct" if rule.change else rule.metric
        time_key = query.dimensions[0].key
        hits = []
        for record in result.records():
            value = record[column]
            if value is not None and OPS[rule.op](float(value), rule.value):
                member = tuple(str(record[d]) for d in rule.dimensions)
                hits.append((as_date(record[time_key]), member, float(value)))
        english = {
            d: english_names(model, engine, d, {h[1][i] for h in hits})
            for i, d in enumerate(rule.dimensions)
        }
        for period_start, member, value in hits:
            alert = _fired(model, rule, period_start, member, value, english)
            # Worst first: by severity, rule order, then how far past the threshold.
            distance = -abs(value - rule.value)
            fired.append(((SEVERITY_RANK[rule.severity], order, distance), alert))
    return [alert for _key, alert in sorted(fired, key=lambda pair: pair[0])]


def _fired(
    model: SemanticModel,
    rule: Alert,
    period_start: date,
    member: tuple[str, ...],
    value: float,
    english: dict[str, dict[str, str]],
) -> FiredAlert:
    _, period_end = period_bounds(period_start, rule.grain)
    member_filters = [
        Filter(dimension=d, op="=", values=[v])
        for d, v in zip(rule.dimensions, member, strict=True)
    ]
    query = rule_query(rule, period_start, period_end)
    query = query.model_copy(update={"filters": [*query.filters, *member_filters]})
    when = {lang: period_label(period_start, rule.grain, lang) for lang in ("zh", "en")}
    scope = {
        lang: [_scope_text(model, f, lang) for f in rule.filters]
        + [
            _member_text(model, d, v, english.get(d, {}), lang, len(member) > 1)
            for d, v in zip(rule.dimensions, member, strict=True)
        ]
        for lang in ("zh", "en")
    }
    return FiredAlert(
        rule=rule.name,
        label=rule.label or model.metric(rule.metric).label,
        severity=rule.severity,
        metric=rule.metric,
        period_start=period_start,
        period_end=period_end,
        dimensions=tuple(rule.dimensions),
        member=member,
        value=value,
        threshold=rule.value,
        op=rule.op,
        change=rule.change,
        owner_role=rule.owner_role,
        message_zh=_message(model, rule, value, when["zh"], scope["zh"], "zh"),
        message_en=_message(model, rule, value, when["en"], scope["en"], "en"),
        query=query,
    )


def _message(
    model: SemanticModel, rule: Alert, value: float, when: str, scope: list[str], lang: str
) -> str:
    """One line: the rule's label, then period, scope, metric, value and the line it crossed."""
    metric = model.metric(rule.metric)
    label = (rule.label or metric.label).get(lang)
    if rule.change:
        shown, limit = _signed_percent(value), _signed_percent(rule.value)
    else:
        shown = format_value(value, metric.unit, lang, compact=True)
        limit = "0" if rule.value == 0 else format_value(rule.value, metric.unit, lang, True)
    word_zh, word_en = OP_WORDS[rule.op]
    if lang == "zh":
        who = " / ".join(scope) + " " if scope else ""
        change = CHANGE_WORDS[rule.change][0] if rule.change else ""
        return f"{label}：{when} {who}{metric.label.zh}{change} {shown}，{word_zh} {limit}"
    who = f" for {' / '.join(scope)}" if scope else ""
    change = f" changed {shown} {CHANGE_WORDS[rule.change][1]}" if rule.change else f" {shown}"
    return f"{label}: {metric.label.en}{who}{change} in {when}, {word_en} {limit}"


def _scope_text(model: SemanticModel, scope: Alert.Scope, lang: str) -> str:
    """电商 (E-commerce) for `channel = 电商`; 渠道 != 电商 for other conditions."""
    dim = model.dimension(scope.dimension)
    names = [str(v) if lang == "zh" else dim.value_labels.get(str(v), str(v)) for v in scope.values]
    values = ("、" if lang == "zh" else ", ").join(names)
    if scope.op in ("=", "in"):
        return values
    return f"{dim.label.get(lang)} {scope.op} {values}"


def _member_text(
    model: SemanticModel, dimension: str, value: str, english: dict[str, str], lang: str, many: bool
) -> str:
    """市场部 in Chinese; in English the English name, with the dimension's name when a rule has
    several (Department Marketing / Expense category Marketing would otherwise read twice)."""
    if lang == "zh":
        return value
    name = english.get(value, value)
    return f"{model.dimension(dimension).label.en} {name}" if many else name


def _signed_percent(fraction: float) -> str:
    return f"{fraction * 100:+.1f}%"


def as_date(value: object) -> date:
    """A date from what a database returns for one (date, datetime or ISO text)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
