"""The executive summary (经营概况): a KPI pack with MoM, YoY and budget, top movers, the
alerts that fired, and a short narrative — one object for the chat answer and the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from assistant.formatting import format_value
from assistant.present import describe_range
from semantic_layer.compiler import compile_for, compile_query
from semantic_layer.query import Compare, SemanticQuery, TimeRange

if TYPE_CHECKING:
    from assistant.api import Assistant

KPIS = [
    "revenue",
    "gross_margin",
    "expenses",
    "operating_profit",
    "collections",
    "overdue_ar",
    "operating_cash_flow",
]
MOVER_DIMENSIONS = ["region", "product_line", "channel"]


@dataclass(frozen=True)
class Kpi:
    metric: str
    label_zh: str
    label_en: str
    unit: str
    higher_is_better: bool
    value: float | None
    previous: float | None  # the previous period of the same length
    last_year: float | None  # the same period a year earlier
    budget: float | None = None

    def change(self, against: float | None) -> float | None:
        if self.value is None or against is None:
            return None
        if self.unit == "percent":
            return self.value - against  # percentage points
        return (self.value - against) / abs(against) if against else None

    @property
    def attainment(self) -> float | None:
        if self.value is None or not self.budget:
            return None
        return self.value / self.budget


@dataclass(frozen=True)
class Mover:
    dimension: str
    member: str
    change: float
    current: float
    previous: float


@dataclass
class Summary:
    window: TimeRange
    previous_window: TimeRange | None
    kpis: list[Kpi]
    movers: list[Mover] = field(default_factory=list)
    alerts: list[Any] = field(default_factory=list)
    queries: list[SemanticQuery] = field(default_factory=list)

    def narrative(self, lang: str) -> str:
        return _narrative(self, lang)


def _values(assistant: Assistant, query: SemanticQuery) -> dict[str, Any]:
    return assistant.engine.execute(
        compile_for(assistant.engine, assistant.model, query).ast
    ).records()[0]


def build_summary(assistant: Assistant, window: TimeRange) -> Summary:
    """The KPI pack for `window`: values, previous period, last year, budget, movers, alerts."""
    model = assistant.model
    kpis = [k for k in KPIS if k in model.metric_map]
    previous = SemanticQuery(metrics=kpis, time_range=window, compare=Compare.previous_period)
    last_year = SemanticQuery(metrics=kpis, time_range=window, compare=Compare.yoy)
    with_budget = [k for k in kpis if k in assistant.catalog.budget_of]
    queries = [previous, last_year]
    now = _values(assistant, previous)
    year = _values(assistant, last_year)
    budget: dict[str, Any] = {}
    if with_budget:
        budget_query = SemanticQuery(metrics=with_budget, time_range=window, compare=Compare.budget)
        queries.append(budget_query)
        budget = _values(assistant, budget_query)
    previous_window = compile_query(model, previous).comparison_range
    pack = []
    for name in kpis:
        metric = model.metric(name)

        def number(row: dict[str, Any], key: str) -> float | None:
            return None if row.get(key) is None else float(row[key])

        pack.append(
            Kpi(
                name,
                metric.label.zh,
                metric.label.en,
                metric.unit,
                metric.higher_is_better,
                number(now, name),
                number(now, f"{name}__compare"),
                number(year, f"{name}__compare"),
                number(budget, f"{name}__compare") if name in with_budget else None,
            )
        )
    summary = Summary(window, previous_window, pack, queries=queries)
    summary.movers = _movers(assistant, window, queries)
    summary.alerts = _alerts(assistant, window)
    return summary


def _movers(assistant: Assistant, window: TimeRange, queries: list) -> list[Mover]:
    """The members whose revenue moved most against the previous period."""
    movers = []
    for dim in MOVER_DIMENSIONS:
        if dim not in assistant.model.dimension_map:
            continue
        query = SemanticQuery(
            metrics=["revenue"],
            dimensions=[dim],
            time_range=window,
            compare=Compare.previous_period,
        )
        queries.append(query)
        for row in assistant.engine.execute(
            compile_for(assistant.engine, assistant.model, query).ast
        ).records():
            if row["revenue__change"] is None:
                continue
            movers.append(
                Mover(
                    dim,
                    str(row[dim]),
                    float(row["revenue__change"]),
                    float(row["revenue"] or 0),
                    float(row["revenue__compare"] or 0),
                )
            )
    movers.sort(key=lambda m: abs(m.change), reverse=True)
    return movers[:5]


def _alerts(assistant: Assistant, window: TimeRange) -> list[Any]:
    """Alert rules that fire at the end of the window (if the alerts module is present)."""
    try:
        from assistant.insights.alerts import evaluate_alerts
    except ImportError:
        return []
    as_of = window.end - timedelta(days=1)
    try:
        return list(evaluate_alerts(assistant.model, assistant.engine, as_of))
    except Exception:  # an alert rule must never break the summary
        return []


def _pct(value: float | None, unit: str, lang: str) -> str:
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value * 100:+.1f}{'个百分点' if lang == 'zh' else ' pts'}"
    return f"{value * 100:+.1f}%"


def _narrative(summary: Summary, lang: str) -> str:
    zh = lang == "zh"
    by = {k.metric: k for k in summary.kpis}
    period = describe_range(summary.window, lang).split("（")[0].split(" (")[0]
    sentences = []
    revenue, margin = by.get("revenue"), by.get("gross_margin")
    if revenue and revenue.value is not None:
        text = (
            f"{period}营业收入 {format_value(revenue.value, 'yuan', lang, compact=True)}，"
            f"环比 {_pct(revenue.change(revenue.previous), 'yuan', lang)}，"
            f"同比 {_pct(revenue.change(revenue.last_year), 'yuan', lang)}"
            if zh
            else f"Revenue for {period} was {format_value(revenue.value, 'yuan', lang, compact=True)}, "
            f"{_pct(revenue.change(revenue.previous), 'yuan', lang)} on the previous period and "
            f"{_pct(revenue.change(revenue.last_year), 'yuan', lang)} year over year"
        )
        if revenue.attainment is not None:
            text += (
                f"，预算完成率 {revenue.attainment:.1%}"
                if zh
                else f", {revenue.attainment:.1%} of budget"
            )
        sentences.append(text + ("。" if zh else "."))
    if margin and margin.value is not None:
        sentences.append(
            f"毛利率 {margin.value:.1%}（环比 {_pct(margin.change(margin.previous), 'percent', lang)}）。"
            if zh
            else f"Gross margin was {margin.value:.1%} ({_pct(margin.change(margin.previous), 'percent', lang)} "
            "on the previous period)."
        )
    profit, expenses = by.get("operating_profit"), by.get("expenses")
    if profit and profit.value is not None and expenses and expenses.value is not None:
        usage = expenses.attainment
        sentences.append(
            f"费用 {format_value(expenses.value, 'yuan', lang, compact=True)}"
            + (f"（预算执行率 {usage:.0%}）" if usage is not None else "")
            + f"，营业利润 {format_value(profit.value, 'yuan', lang, compact=True)}。"
            if zh
            else f"Expenses were {format_value(expenses.value, 'yuan', lang, compact=True)}"
            + (f" ({usage:.0%} of budget)" if usage is not None else "")
            + f"; operating profit {format_value(profit.value, 'yuan', lang, compact=True)}."
        )
    collections, overdue = by.get("collections"), by.get("overdue_ar")
    if collections and collections.value is not None and overdue and overdue.value is not None:
        sentences.append(
            f"回款 {format_value(collections.value, 'yuan', lang, compact=True)}，"
            f"期末逾期应收 {format_value(overdue.value, 'yuan', lang, compact=True)}"
            f"（环比 {_pct(overdue.change(overdue.previous), 'yuan', lang)}）。"
            if zh
            else f"Collections were {format_value(collections.value, 'yuan', lang, compact=True)}; overdue "
            f"receivables ended at {format_value(overdue.value, 'yuan', lang, compact=True)} "
            f"({_pct(overdue.change(overdue.previous), 'yuan', lang)} on the previous period)."
        )
    if summary.movers:
        top = summary.movers[0]
        sentences.append(
            f"收入变化最大的是「{top.member}」（{format_value(top.change, 'yuan', lang, compact=True)}）。"
            if zh
            else f"The biggest revenue mover was {top.member} ({format_value(top.change, 'yuan', lang, compact=True)})."
        )
    if summary.alerts:
        names = [
            getattr(a, "message_zh" if zh else "message_en", str(a)) for a in summary.alerts[:2]
        ]
        sentences.append(
            ("预警：" if zh else "Alerts: ")
            + ("；".join(names) if zh else "; ".join(names))
            + ("。" if zh else ".")
        )
    return "".join(sentences) if zh else " ".join(sentences)
