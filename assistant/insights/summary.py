"""The executive summary (经营概况): a KPI pack with MoM, YoY and budget, top movers, the
alerts that fired, and a short narrative — one object for the chat answer and the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from assistant.formatting import format_points, format_value
from assistant.present import period_name
from semantic_layer import knowledge
from semantic_layer.compiler import compile_for, compile_query
from semantic_layer.query import Compare, SemanticQuery, TimeRange

if TYPE_CHECKING:
    from assistant.api import Assistant


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
    balance: bool = False  # a snapshot (semi-additive): read at the period's end

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


def usable_kpis(assistant: Assistant, window: TimeRange | None = None) -> list[str]:
    """The headline metrics this assistant can show for `window`: the role may see them,
    they have dates (for a period), and each one runs on this data — one broken metric
    leaves the pack, it does not sink the summary."""
    from semantic_layer.errors import CockpitError

    model = assistant.model
    all_time = window is None or window.start.year <= 1900
    out = []
    for name in knowledge.kpis(model):
        if not all_time and name in assistant.context.undated:
            continue
        probe = SemanticQuery(metrics=[name], time_range=window)
        if assistant._out_of_scope(probe, "en") is not None:
            continue
        try:
            assistant.engine.execute(compile_for(assistant.engine, model, probe).ast)
        except CockpitError as err:
            if err.code == "query_timeout":
                raise  # the question's time is up: not a metric to leave out
            continue
        out.append(name)
    return out


def build_summary(assistant: Assistant, window: TimeRange) -> Summary:
    """The KPI pack for `window`: values, previous period, last year, budget, movers, alerts."""
    model = assistant.model
    kpis = usable_kpis(assistant, window)
    if not kpis:
        from semantic_layer.errors import QueryError

        raise QueryError("no_kpis")
    # All the data has no previous period and no year before: nothing to compare with.
    all_time = window.start.year <= 1900
    compare = Compare.none if all_time else Compare.previous_period
    previous = SemanticQuery(metrics=kpis, time_range=window, compare=compare)
    last_year = SemanticQuery(metrics=kpis, time_range=window, compare=Compare.yoy)
    with_budget = [k for k in kpis if k in assistant.catalog.budget_of and not all_time]
    queries = [previous] if all_time else [previous, last_year]
    now = _values(assistant, previous)
    year = {} if all_time else _values(assistant, last_year)
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
            """A KPI's number; a metric whose value is text (the max of a label column) has
            none, and leaves the narrative rather than breaking the summary."""
            try:
                return None if row.get(key) is None else float(row[key])
            except (TypeError, ValueError):
                return None

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
                metric.semi_additive,
            )
        )
    summary = Summary(window, previous_window, pack, queries=queries)
    summary.movers = _movers(assistant, window, queries)
    summary.alerts = _alerts(assistant, window)
    return summary


def _movers(assistant: Assistant, window: TimeRange, queries: list) -> list[Mover]:
    """The members whose headline metric (the model's first KPI) moved most against the
    previous period, along that metric's usual breakdowns."""
    movers = []
    model = assistant.model
    headline = knowledge.kpis(model)[:1]
    if not headline or model.metric(headline[0]).unit not in ("yuan", "count", "units"):
        return movers  # movers are amounts that add up; a rate's members do not
    metric = headline[0]
    counts = {name: len(values) for name, values in assistant.lexicon.values.items()}
    for dim in knowledge.breakdowns(model, metric, counts):
        query = SemanticQuery(
            metrics=[metric],
            dimensions=[dim],
            time_range=window,
            compare=Compare.previous_period,
        )
        queries.append(query)
        for row in assistant.engine.execute(
            compile_for(assistant.engine, assistant.model, query).ast
        ).records():
            if row[f"{metric}__change"] is None:
                continue
            movers.append(
                Mover(
                    dim,
                    str(row[dim]),
                    float(row[f"{metric}__change"]),
                    float(row[metric] or 0),
                    float(row[f"{metric}__compare"] or 0),
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
    """A KPI's change: +1.2个百分点 / -0.4 pp for a rate, +12.3% otherwise; never "-0.0"."""
    if value is None:
        return "—"
    if unit == "percent":
        return format_points(value, lang)
    rounded = round(value * 100, 1)
    return "0.0%" if rounded == 0 else f"{rounded:+.1f}%"


def _move(kpi: Kpi, against: float | None, lang: str) -> str:
    """The change against `against`: in percent, or — when the base is zero or negative, where
    a percentage means nothing (−98万 → −614万 is not "−526.8%") — in the metric's unit."""
    if kpi.unit != "percent" and kpi.value is not None and against is not None and against <= 0:
        change = kpi.value - against
        text = format_value(change, kpi.unit, lang, compact=True)
        text = f"+{text}" if change > 0 else text
        if against < 0:
            text += "，基数为负" if lang == "zh" else " from a negative base"
        return text
    return _pct(kpi.change(against), kpi.unit, lang)


def _narrative(summary: Summary, lang: str) -> str:
    """A few sentences over whatever the KPI pack holds: the headline metric with its
    comparisons, then rates, other amounts and balances — from the metrics' own labels and
    units, so any model's pack reads as well as the demo's."""
    zh = lang == "zh"
    period = period_name(summary.window, lang)
    sentences = []
    pack = [k for k in summary.kpis if k.value is not None]
    if pack:
        head = pack[0]
        name = head.label_zh if zh else head.label_en
        value = format_value(head.value, head.unit, lang, compact=True)
        mom = _move(head, head.previous, lang)
        yoy = _move(head, head.last_year, lang)
        text = (
            f"{period}{name} {value}，环比 {mom}，同比 {yoy}"
            if zh
            else f"{name} for {period} was {value}, {mom} on the previous period and {yoy} "
            "year over year"
        )
        if head.attainment is not None:
            text += (
                f"，预算完成率 {head.attainment:.1%}"
                if zh
                else f", {head.attainment:.1%} of budget"
            )
        sentences.append(text + ("。" if zh else "."))
    rates = [k for k in pack[1:] if k.unit in ("percent", "ratio")]
    balances = [k for k in pack[1:] if k.balance and k not in rates]
    amounts = [k for k in pack[1:] if k not in rates and k not in balances]
    for group, prefix in ((rates, ("", "")), (amounts, ("", "")), (balances, ("期末", "closing "))):
        parts = []
        for kpi in group:
            name = kpi.label_zh if zh else kpi.label_en
            value = format_value(kpi.value, kpi.unit, lang, compact=True)
            if kpi.attainment is not None and group is amounts:
                extra = (
                    f"预算执行率 {kpi.attainment:.0%}" if zh else f"{kpi.attainment:.0%} of budget"
                )
            else:
                change = _move(kpi, kpi.previous, lang)
                extra = f"环比 {change}" if zh else f"{change} on the previous period"
            parts.append(
                f"{prefix[0]}{name} {value}（{extra}）"
                if zh
                else f"{prefix[1]}{name} {value} ({extra})"
            )
        if parts:
            joined = "; ".join(parts)  # the first letter up, the rest as written (¥12.19M)
            sentences.append(
                "，".join(parts) + "。" if zh else joined[:1].upper() + joined[1:] + "."
            )
    if summary.movers:
        top = summary.movers[0]
        head = summary.kpis[0]
        change = format_value(top.change, head.unit, lang, compact=True)
        change = f"+{change}" if top.change > 0 else change
        sentences.append(
            f"{head.label_zh}变化最大的是「{top.member}」（{change}）。"
            if zh
            else f"The biggest mover in {head.label_en.lower()} was {top.member} ({change})."
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
