"""Insights as `Answer`s: the explanation of a change, and the executive summary."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from assistant.answer import Answer, Suggestion
from assistant.charts import SCHEMA
from assistant.formatting import format_points, format_value
from assistant.insights.explain import (
    Driver,
    Explanation,
    explain,
    explanation_text,
    member_text,
)
from assistant.present import describe_range, period_name, restatement, scope_text
from semantic_layer.compiler import OutputColumn, compile_for
from semantic_layer.model import Label
from semantic_layer.query import Compare, SemanticQuery

if TYPE_CHECKING:
    from assistant.api import Assistant

BASELINE_WORDS = {
    Compare.mom: ("上月", "the previous month"),
    Compare.qoq: ("上季度", "the previous quarter"),
    Compare.yoy: ("去年同期", "the same period last year"),
    Compare.previous_period: ("上期", "the previous period"),
}


def _amount(value: float | None, unit: str, lang: str, change: bool = False) -> str:
    """A readable amount; a change of a ratio is said in percentage points."""
    if value is None:
        return "—"
    if unit == "percent" and change:
        return format_points(value, lang)  # 个百分点 / pp, never "-0.0"
    text = format_value(value, unit, lang, compact=True)
    return f"+{text}" if change and value > 0 else text


def _in(period: str) -> str:
    """ "in Mar 2025 ", but "last month " (a relative period takes no preposition)."""
    return f"{period} " if re.match(r"(last|this|next|the)\b", period) else f"in {period} "


def explain_answer(
    assistant: Assistant,
    query: SemanticQuery,
    question: str,
    lang: str,
    timings: dict[str, float],
) -> Answer:
    """Why did a metric move: the change, its top drivers, a waterfall and drill-downs."""
    started = time.perf_counter()
    result = explain(assistant.model, assistant.catalog, assistant.engine, query)
    result = replace(result, names=assistant.lexicon.english)  # members read in English
    timings["execute"] = time.perf_counter() - started
    started = time.perf_counter()
    metric = assistant.model.metric(result.metric)
    unit = metric.unit
    zh = lang == "zh"
    yoy = _yoy_change(assistant, query) if result.compare is not Compare.yoy else None
    period = period_name(result.current_range, lang)  # 2025年3月 / Mar 2025, as typed or not
    words = BASELINE_WORDS.get(result.compare, BASELINE_WORDS[Compare.previous_period])[
        0 if zh else 1
    ]
    label = result.current_range.label
    if label and not re.search(r"\d", label):
        # Asked with a relative word (上个月, last month): "比上月" would name the period itself,
        # so the baseline is named by its dates (比2025年10月).
        words = period_name(result.baseline_range.model_copy(update={"label": None}), lang)
    # The filters (asked, or kept from the question before) are said with the period: the
    # change explained is 华东's, not the company's.
    period += scope_text(query, assistant.model, lang, assistant.lexicon.english)
    change = result.change
    if change is None or result.kind == "opaque":
        narrative = (
            f"{period}{metric.label.zh}为 {_amount(result.current, unit, lang)}，对比{words} "
            f"{_amount(result.baseline, unit, lang)}。该指标无法按维度拆解变化。"
            if zh
            else f"{metric.label.en} was {_amount(result.current, unit, lang)} in {period} vs "
            f"{_amount(result.baseline, unit, lang)} for {words}; its change cannot be split by dimension."
        )
    else:
        up = change > 0
        verb = ("上升" if up else "下降") if zh else ("up" if up else "down")
        lines = [
            f"{period}{metric.label.zh}为 {_amount(result.current, unit, lang)}，比{words}"
            f"（{_amount(result.baseline, unit, lang)}）{verb} {_amount(abs(change), unit, lang, True).lstrip('+')}。"
            if zh
            else f"{metric.label.en} {_in(period)}was {_amount(result.current, unit, lang)}, {verb} "
            f"{_amount(abs(change), unit, lang, True).lstrip('+')} from {words} "
            f"({_amount(result.baseline, unit, lang)})."
        ]
        if yoy is not None:
            lines.append(
                f"同比变化 {_amount(yoy, unit, lang, True)}。"
                if zh
                else f"Year over year: {_amount(yoy, unit, lang, True)}."
            )
        if not result.top_drivers(1):
            lines.append(
                "该范围内只有一个成员，无法再按维度拆分。"
                if zh
                else "Only one member is in scope, so there is nothing to split by."
            )
        else:
            # The member that carries the change (even if others offset it), its share, the
            # rest's net; or the largest parts — and the seasonal note (issue 16/17).
            lines.append(explanation_text(result, assistant.model, lang))
        narrative = "".join(lines) if zh else " ".join(lines)
    drivers = result.top_drivers(10)
    if result.path:
        drivers = [*result.path, *[d for d in drivers if d not in result.path]][:10]
    columns = (
        OutputColumn("dimension", "dimension", "dimension", Label(zh="维度", en="Dimension")),
        OutputColumn("member", "dimension", "member", Label(zh="成员", en="Member")),
        OutputColumn(
            "baseline",
            "compare",
            result.metric,
            Label(zh=words, en=words[:1].upper() + words[1:]),
            unit,
        ),
        OutputColumn("current", "metric", result.metric, metric.label, unit),
        OutputColumn(
            "contribution", "change", result.metric, Label(zh="贡献", en="Contribution"), unit
        ),
        OutputColumn(
            "share", "share", result.metric, Label(zh="占变化", en="Share of change"), "percent"
        ),
    )
    rows = [
        (
            assistant.model.dimension(d.dimension).label.get(lang)
            + ("（下钻）" if zh and d.filters else " (drill)" if d.filters else ""),
            member_text(result, d, lang),
            d.baseline,
            d.current,
            d.contribution,
            d.share,
        )
        for d in drivers
    ]
    suggestions = _drill_suggestions(assistant, result, query, lang)
    compiled = (
        compile_for(assistant.engine, assistant.model, result.queries[0])
        if result.queries
        else None
    )
    answer = Answer(
        question=question,
        status="ok",
        lang=lang,
        query=query,
        sql=compiled.sql if compiled else None,
        columns=columns,
        rows=rows,
        interpretation=_interpretation(assistant, result, lang),
        narrative=narrative,
        chart=_waterfall(assistant, result, drivers, lang, _explained(assistant, query, result)),
        suggestions=tuple(Suggestion(s) for s in suggestions),
        timings=timings,
        restatement=_explained(assistant, query, result),
    )
    timings["present"] = time.perf_counter() - started
    return answer


def _explained(assistant: Assistant, query: SemanticQuery, result: Explanation) -> dict[str, str]:
    """What an explanation computed, in one line per language: metric · filters · period ·
    the period it is compared with · what drove the change ("90天以上逾期 · 今年 · 对比2024年 ·
    变化归因")."""
    plain = query.model_copy(
        update={"compare": Compare.none, "dimensions": [], "order_by": [], "limit": None}
    )
    line = restatement(plain, assistant.model, assistant.lexicon.english)
    baseline = result.baseline_range.model_copy(update={"label": None})  # by the calendar
    for lang in line:
        zh = lang == "zh"
        against = period_name(baseline, lang)
        line[lang] += (
            f" · 对比{against} · 变化归因" if zh else f" · vs {against} · what drove the change"
        )
    return line


def _yoy_change(assistant: Assistant, query: SemanticQuery) -> float | None:
    yoy = query.model_copy(update={"compare": Compare.yoy, "dimensions": [], "intent": "lookup"})
    row = assistant.engine.execute(
        compile_for(assistant.engine, assistant.model, yoy).ast
    ).records()[0]
    metric = query.metrics[0]
    return None if row.get(f"{metric}__change") is None else float(row[f"{metric}__change"])


def _interpretation(assistant: Assistant, result: Explanation, lang: str) -> str:
    metric = assistant.model.metric(result.metric)
    zh = lang == "zh"
    method = {
        "ratio": (
            "比率指标：每个成员的贡献 = 费率效应 + 结构效应，合计等于总变化",
            "ratio metric: each member's contribution = rate effect + mix effect; they add up to the change",
        ),
        "additive": (
            "可加指标：各成员的变化合计等于总变化",
            "additive metric: members' changes add up to the total change",
        ),
        "opaque": ("该指标不可按维度拆解", "this metric cannot be split by dimension"),
    }[result.kind][0 if zh else 1]
    definition = metric.description.get(lang) if metric.description else ""
    return "\n".join(
        [
            f"{'指标' if zh else 'Metric'}: {metric.label.get(lang)} — {definition}",
            f"{'期间' if zh else 'Period'}: {describe_range(result.current_range, lang)}",
            f"{'基期' if zh else 'Baseline'}: {describe_range(result.baseline_range, lang)}",
            f"{'方法' if zh else 'Method'}: {method}",
        ]
    )


def _drill_suggestions(
    assistant: Assistant, result: Explanation, query: SemanticQuery, lang: str
) -> list[str]:
    metric = assistant.model.metric(result.metric).label.get(lang)
    label = query.time_range.label if query.time_range and query.time_range.label else ""
    if lang != "zh" and label and re.search(r"[\u4e00-\u9fff]", label):
        # One language per answer: the period in English words, else its dates.
        label = describe_range(query.time_range, lang).split(" (")[0]
    out = []
    members = [d for d in result.path if d.share >= 0.5] or result.top_drivers(1)
    # A member that cannot be asked for by name (no value, a yes/no flag) suggests nothing.
    members = [d for d in members if str(d.member) not in ("None", "True", "False", "")]
    if members:
        top = members[-1]
        dims = [d for d in result.ranked_dimensions if d != top.dimension][:2]
        for dim in dims:
            dim_label = assistant.model.dimension(dim).label.get(lang)
            out.append(
                f"{label}{top.member}各{dim_label}的{metric}"
                if lang == "zh"
                else f"{metric} by {dim_label.lower()} for {top.member} {label}".strip()
            )
    out.append(f"{label}{metric}同比" if lang == "zh" else f"{metric} {label} year over year")
    return out[:3]


def _waterfall(
    assistant: Assistant,
    result: Explanation,
    drivers: list[Driver],
    lang: str,
    explained: dict[str, str] | None = None,
) -> dict[str, Any] | None:
    """Baseline → the biggest contributions of the best dimension → current; the subtitle is
    what was explained (`explained`, the answer's restatement) after the metric."""
    if result.change is None or not result.ranked_dimensions:
        return None
    best = result.ranked_dimensions[0]
    members = result.by_dimension.get(best, [])[:6]
    other = result.change - sum(d.contribution for d in members)
    zh = lang == "zh"
    steps = [("基期" if zh else "Baseline", result.baseline or 0.0, "total")]
    steps += [
        (member_text(result, d, lang), d.contribution, "up" if d.contribution >= 0 else "down")
        for d in members
    ]
    if abs(other) > 1e-12:
        steps.append(("其他" if zh else "Other", other, "up" if other >= 0 else "down"))
    values, running = [], 0.0
    for name, amount, kind in steps:
        start = 0.0 if kind == "total" else running
        end = amount if kind == "total" else running + amount
        running = end
        values.append({"step": name, "start": start, "end": end, "kind": kind})
    values.append(
        {
            "step": "本期" if zh else "Current",
            "start": 0.0,
            "end": result.current or 0.0,
            "kind": "total",
        }
    )
    floor, top = _waterfall_axis(values)
    for value in values:
        if value["kind"] == "total":
            value["start"] = floor
    unit = assistant.model.metric(result.metric).unit
    title = assistant.model.dimension(best).label.get(lang)
    text = f"{assistant.model.metric(result.metric).label.get(lang)}: " + (
        "按" + title + "拆解" if zh else f"by {title.lower()}"
    )
    subtitle = " · ".join((explained or {}).get(lang, "").split(" · ")[1:])
    return {
        "$schema": SCHEMA,  # the Vega-Lite the app ships (a v5 spec is warned about)
        "title": {"text": text, "subtitle": subtitle} if subtitle else text,
        "data": {"values": values},
        "mark": {"type": "bar"},
        "encoding": {
            "x": {
                "field": "step",
                "type": "nominal",
                "sort": None,
                "title": None,
                "axis": {"labelAngle": 0, "labelLimit": 120},
            },
            "y": {
                "field": "start",
                "type": "quantitative",
                "title": None,
                "scale": {"zero": floor == 0.0, "domain": [floor, top]},
                **({"axis": {"format": "%"}} if unit == "percent" else {}),
            },
            "y2": {"field": "end"},
            "color": {
                "field": "kind",
                "type": "nominal",
                "legend": None,
                "scale": {
                    "domain": ["total", "up", "down"],
                    "range": ["#4c78a8", "#54a24b", "#e45756"],
                },
            },
        },
        "config": {"font": "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"},
    }


def _waterfall_axis(values: list[dict[str, Any]]) -> tuple[float, float]:
    """The value axis of a waterfall: from 0 when the change is a good part of the level, else
    from a little under the lowest step — a 2.4-point drop on a 29% margin drawn from 0 is a
    sliver nobody can read. The totals' bars start at the axis floor."""
    levels = [v["end"] for v in values] + [v["start"] for v in values if v["kind"] != "total"]
    low, high = min(levels), max(levels)
    span = high - low
    pad = span * 0.15 if span else abs(high) * 0.05 or 1.0
    if low <= 0 or span >= 0.5 * high:
        return min(0.0, low - (pad if low < 0 else 0.0)), high + pad
    return max(0.0, low - 2 * pad), high + pad


def summary_answer(
    assistant: Assistant,
    query: SemanticQuery,
    question: str,
    lang: str,
    timings: dict[str, float],
    notes: list[str],
) -> Answer:
    """The executive summary: the KPI pack as columns, the story as the narrative."""
    from dataclasses import replace

    from assistant.insights.summary import build_summary

    assert query.time_range is not None
    started = time.perf_counter()
    summary = build_summary(assistant, query.time_range)
    timings["insights"] = time.perf_counter() - started
    from semantic_layer import knowledge

    shown = {k.metric for k in summary.kpis}
    left_out = [m for m in knowledge.kpis(assistant.model) if m not in shown]
    if left_out:
        names = [assistant.model.metric(m).label.get(lang) for m in left_out]
        notes = [
            *notes,
            "未包含（当前角色无权查看或该期间无数据）：" + "、".join(names)
            if lang == "zh"
            else "Left out (not visible to this role, or no data for the period): "
            + ", ".join(names),
        ]
    all_time = query.time_range.start.year <= 1900
    pack = query.model_copy(
        update={
            "metrics": [k.metric for k in summary.kpis],
            "compare": Compare.none if all_time else Compare.previous_period,
        }
    )
    answer = assistant.run(pack, question, lang, timings, notes, plain=True)
    if answer.status != "ok":
        return answer
    extra = []
    for alert in summary.alerts:
        extra.append(getattr(alert, "message_zh" if lang == "zh" else "message_en", str(alert)))
    return replace(
        answer,
        narrative=summary.narrative(lang),
        notes=(*answer.notes, *extra),
        suggestions=tuple(Suggestion(s) for s in _summary_followups(assistant, lang, summary)),
    )


def _summary_followups(assistant: Assistant, lang: str, summary: Any) -> list[str]:
    """Next questions after a summary, from the model's own headline metric and breakdowns."""
    from semantic_layer import knowledge

    model = assistant.model
    # "Why" only for a dated metric over a real period: all time has nothing to compare with.
    kpis = [k.metric for k in summary.kpis if k.metric not in assistant.context.undated]
    kpis = kpis or [k.metric for k in summary.kpis] or knowledge.kpis(model)
    if not kpis:
        return []
    name = model.metric(kpis[0]).label.get(lang)
    out = []
    window = summary.window
    if window.start.year > 1900:
        period = describe_range(window, lang).split("（")[0].split(" (")[0]
        out.append(
            f"为什么{period}{name}变化了"
            if lang == "zh"
            else f"why did {name.lower()} change in {period}"
        )
    counts = {d: len(v) for d, v in assistant.lexicon.values.items()}
    for dim in knowledge.breakdowns(model, kpis[0], counts, limit=1):
        label = model.dimension(dim).label.get(lang)
        out.append(f"各{label}的{name}" if lang == "zh" else f"{name.lower()} by {label.lower()}")
    if summary.alerts:
        out.append("有哪些预警" if lang == "zh" else "which alerts fired")
    return out


def anomaly_answer(assistant: Assistant, question: str, lang: str) -> Answer:
    """ "最近有什么异常?": flagged months with severity and a one-line reason each."""
    from assistant.insights.anomalies import scan_anomalies
    from assistant.understand.rules import parse

    started = time.perf_counter()
    p = parse(question, assistant.lexicon, assistant.as_of)
    metrics = [m for m in p.metrics if m in assistant.model.metric_map] or None
    found = scan_anomalies(assistant.model, assistant.engine, assistant.as_of, metrics=metrics)
    if p.times:
        window = p.times[0].range
        found = [a for a in found if window.start <= a.period < window.end]
    timings = {"execute": time.perf_counter() - started}
    zh = lang == "zh"
    columns = (
        OutputColumn("period", "dimension", "period", Label(zh="月份", en="Month")),
        OutputColumn("metric", "dimension", "metric", Label(zh="指标", en="Metric")),
        OutputColumn("member", "dimension", "member", Label(zh="范围", en="Scope")),
        OutputColumn("severity", "dimension", "severity", Label(zh="严重程度", en="Severity")),
        OutputColumn("reason", "dimension", "reason", Label(zh="说明", en="Reason")),
    )
    role = assistant.engine.role
    if role is not None and role.row_filters:
        # Computed through the role's row filters: "the company" would overstate it.
        whole = f"{role.label.zh}可见范围" if zh else f"all {role.label.en} sees"
    else:
        whole = "全公司" if zh else "company"
    rows = [
        (
            a.period,
            a.label.get(lang),
            a.member or whole,
            a.severity,
            a.reason_zh if zh else a.reason_en,
        )
        for a in found
    ]
    if rows:
        worst = found[0]
        narrative = (
            f"发现 {len(rows)} 处异常，最显著的是：{worst.reason_zh}"
            if zh
            else f"{len(rows)} anomalies found; the most notable: {worst.reason_en}"
        )
    else:
        narrative = "所选范围内没有发现异常。" if zh else "No anomalies in the period asked about."
    interpretation = (
        "方法：逐月与季节性预期值比较（同月历史水平 × 稳健增长率），以中位数/MAD 计算稳健 z 分数，|z| ≥ 3.5 记为异常。"
        if zh
        else "Method: each month against its seasonal expectation (same month's level × robust growth); "
        "robust z-score from median/MAD; |z| ≥ 3.5 is flagged."
    )
    window = p.times[0].range if p.times else None
    return Answer(
        question=question,
        status="ok",
        lang=lang,
        columns=columns,
        rows=rows,
        narrative=narrative,
        interpretation=interpretation,
        timings=timings,
        suggestions=tuple(Suggestion(s) for s in _anomaly_followups(found, lang)),
        restatement=_scanned(assistant, metrics, window),
    )


def _scanned(assistant: Assistant, metrics: list[str] | None, window: Any) -> dict[str, str]:
    """What an anomaly scan computed, in one line per language: the metrics (those named, else
    the ones the model watches) · the months scanned · the method ("营业收入 · 今年 · 逐月对比
    季节性预期（异常扫描）")."""
    from semantic_layer import knowledge

    names = metrics or knowledge.watched(assistant.model)
    out = {}
    for lang in ("zh", "en"):
        zh = lang == "zh"
        labels = [assistant.model.metric(m).label.get(lang) for m in names]
        if len(labels) > 3:  # the table names each; the line says how many
            what = f"{len(labels)} 个关注指标" if zh else f"{len(labels)} watched metrics"
        else:
            what = ("、" if zh else ", ").join(labels)
        if window is not None:
            months = period_name(window, lang)
        else:  # the scan's own span: the last 24 whole months up to the as-of date
            months = (
                f"截至 {assistant.as_of} 的近24个月" if zh else f"24 months to {assistant.as_of}"
            )
        how = "逐月对比季节性预期（异常扫描）" if zh else "each month vs its seasonal expectation"
        out[lang] = " · ".join(part for part in (what, months, how) if part)
    return out


def _anomaly_followups(found: list[Any], lang: str) -> list[str]:
    """ "Why" about the most notable anomaly found (for its month), then the alerts."""
    out = []
    if found:
        worst = found[0]
        name = worst.label.get(lang)
        up = worst.value > worst.expected
        month = worst.period
        if lang == "zh":
            out.append(f"为什么{month.year}年{month.month}月{name}{'上升' if up else '下降'}了")
        else:
            when = f"{month:%B} {month.year}"
            out.append(f"why did {name.lower()} {'rise' if up else 'drop'} in {when}")
    out.append("有哪些预警" if lang == "zh" else "which alerts fired")
    return out


def alerts_answer(assistant: Assistant, question: str, lang: str) -> Answer:
    """ "有什么预警?": the alert rules firing for the as-of month, worst first."""
    from assistant.insights.alerts import evaluate_alerts
    from assistant.understand.rules import parse

    started = time.perf_counter()
    p = parse(question, assistant.lexicon, assistant.as_of)
    from datetime import timedelta

    as_of = (p.times[0].range.end - timedelta(days=1)) if p.times else assistant.as_of
    fired = evaluate_alerts(assistant.model, assistant.engine, as_of)
    zh = lang == "zh"
    columns = (
        OutputColumn("severity", "dimension", "severity", Label(zh="严重程度", en="Severity")),
        OutputColumn("rule", "dimension", "rule", Label(zh="预警", en="Alert")),
        OutputColumn("message", "dimension", "message", Label(zh="说明", en="Message")),
    )
    rows = [(a.severity, a.label.get(lang) if a.label else a.rule, a.message(lang)) for a in fired]
    critical = sum(1 for a in fired if a.severity == "critical")
    narrative = (
        (
            f"截至 {as_of} 共 {len(rows)} 条预警，其中严重 {critical} 条。"
            if rows
            else f"截至 {as_of} 没有触发的预警。"
        )
        if zh
        else (
            f"{len(rows)} alerts as of {as_of}, {critical} critical."
            if rows
            else f"No alerts fired as of {as_of}."
        )
    )
    return Answer(
        question=question,
        status="ok",
        lang=lang,
        columns=columns,
        rows=rows,
        narrative=narrative,
        timings={"execute": time.perf_counter() - started},
        restatement={
            "zh": f"预警规则（{len(assistant.model.alerts)} 条） · 截至 {as_of}",
            "en": f"Alert rules ({len(assistant.model.alerts)}) · as of {as_of}",
        },
        interpretation=(
            "预警规则定义在语义模型的 alerts 部分。"
            if zh
            else "Alert rules are defined in the semantic model's alerts section."
        ),
    )
