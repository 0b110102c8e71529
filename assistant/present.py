"""Presentation: the interpretation (what we understood, with 口径 and dates) and the narrative
(the answer in words, with readable numbers). Charts are in `charts.py`.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from assistant.formatting import format_change_pct, format_points, format_value, period_label
from semantic_layer.compiler import SHARE_UNITS, CompiledQuery, OutputColumn
from semantic_layer.model import Label, SemanticModel
from semantic_layer.query import Compare, Filter, Having, Intent, SemanticQuery, TimeRange

COMPARE_WORDS = {
    Compare.yoy: ("同比", "year over year"),
    Compare.mom: ("环比上月", "vs the previous month"),
    Compare.qoq: ("环比上季度", "vs the previous quarter"),
    Compare.previous_period: ("环比上期", "vs the previous period"),
    Compare.budget: ("对比预算", "vs budget"),
}
GRAIN_ZH = {"day": "日", "week": "周", "month": "月", "quarter": "季度", "year": "年"}
OPS = {
    "=": "=",
    "!=": "≠",
    "in": "∈",
    "not_in": "∉",
    ">": ">",
    ">=": "≥",
    "<": "<",
    "<=": "≤",
    "between": "between",
    "contains": "∋",
}


def window_grain(window: TimeRange) -> str | None:
    """The calendar unit a window is exactly one of: "month" for 2025-03-01..2025-04-01,
    "quarter", "year", "day" — None for any other span."""
    start, end = window.start, window.end
    if end - start == timedelta(days=1):
        return "day"
    if start.day != 1 or end.day != 1:
        return None
    months = (end.year - start.year) * 12 + end.month - start.month
    if months == 1:
        return "month"
    if months == 3 and start.month % 3 == 1:
        return "quarter"
    if months == 12 and start.month == 1:
        return "year"
    return None


def period_name(window: TimeRange | None, lang: str) -> str:
    """How a sentence names a period: its words if the user gave them (上月, 2025年), else the
    calendar unit it is (2025年3月 / Mar 2025, 2025年Q4 / 2025 Q4), else its dates."""
    grain = window_grain(window) if window is not None else None
    if window is not None and grain is not None and re.search(r"\d{4}", window.label or ""):
        # Dates as typed ("december 2025", "2025-12"): the calendar's own name, Dec 2025.
        return period_label(window.start, grain, lang)
    return describe_range(window, lang).split("（")[0].split(" (")[0]


def describe_range(window: TimeRange | None, lang: str) -> str:
    """The period with its dates: 上月（2025-11-01 – 2025-11-30）; an unnamed whole month,
    quarter or year is named as the calendar names it: 2025年3月（2025-03-01 – 2025-03-31）."""
    if window is None:
        return "全部期间" if lang == "zh" else "all periods"
    last = window.end - timedelta(days=1)
    if window.start <= date(1901, 1, 1):
        return f"截至 {last}" if lang == "zh" else f"as of {last}"
    span = f"{window.start} – {last}"
    label = window.label
    grain = window_grain(window)
    if label and lang != "zh" and re.search(r"[\u4e00-\u9fff]", label):
        label = _english_label(label) or ""  # one language per answer: 上月 → last month
    elif label and lang == "zh" and re.search(r"[A-Za-z]", label):
        label = _CHINESE.get(label.strip().lower(), "")  # this year → 今年; else its dates
    if grain is not None and not label:
        label = period_label(window.start, grain, lang)
        if grain == "day":
            return label
    return (
        f"{label}（{span}）" if label and lang == "zh" else (f"{label} ({span})" if label else span)
    )


# Period words the product writes itself, in English ("Baseline: last month", not 上月).
_PERIOD_EN = {
    "本月": "this month",
    "上月": "last month",
    "上个月": "last month",
    "本季度": "this quarter",
    "上季度": "last quarter",
    "今年": "this year",
    "去年": "last year",
    "上期": "the previous period",
    "去年同期": "the same period last year",
    "全部时间": "all time",
    "全部期间": "all periods",
}


_CHINESE = {en: zh for zh, en in reversed(_PERIOD_EN.items())}


def _english_label(label: str) -> str | None:
    """上月 → last month; 2025年 → 2025; 2025年3月 → March 2025; 2025年Q3 → Q3 2025."""
    label = label.strip()
    if label in _PERIOD_EN:
        return _PERIOD_EN[label]
    if m := re.fullmatch(r"(\d{4})年", label):
        return m.group(1)
    if m := re.fullmatch(r"(\d{4})年(\d{1,2})月", label):
        return f"{date(2000, int(m.group(2)), 1):%B} {m.group(1)}"
    if m := re.fullmatch(r"(\d{4})年?[Qq]([1-4])", label):
        return f"Q{m.group(2)} {m.group(1)}"
    return None


Members = dict[str, dict[str, str]]  # dimension → {stored value: its English name}


def _member(
    dimension: str, value: Any, model: SemanticModel, lang: str, members: Members | None
) -> str:
    """A filter's member as the reader names it: in English by the answer's English names,
    else the model's `value_labels`, else as stored."""
    if lang == "zh":
        return str(value)
    names = (members or {}).get(dimension) or {}
    if str(value) in names:
        return names[str(value)]
    dim = model.dimension_map.get(dimension)
    return dim.value_labels.get(str(value), str(value)) if dim is not None else str(value)


def _filter_text(f: Filter, model: SemanticModel, lang: str, members: Members | None = None) -> str:
    """区域 = 华东 / Region = East China: in English, members by their English names."""
    label = model.dimension(f.dimension).label.get(lang)
    shown = [_member(f.dimension, v, model, lang, members) for v in f.values]
    return f"{label} {OPS[f.op]} {('、' if lang == 'zh' else ', ').join(shown)}"


def threshold(value: float, unit: str | None, lang: str) -> str:
    """A condition's number as the metric shows its values, without trailing zeros: 500万,
    ¥5M, 30%, 1,000 — never 5e+06."""
    text = format_value(value, unit, lang, compact=True)
    # 500.00万 → 500万, 1,234.50万 → 1,234.5万, 30.0% → 30%
    return re.sub(r"\.(?!\d)", "", re.sub(r"(\.\d*?)0+(?!\d)", r"\1", text))


def _metric_of(name: str, model: SemanticModel, query: SemanticQuery) -> tuple[Any, str | None]:
    """A metric's label and unit: the model's, or a metric the question defined."""
    if name in model.metric_map:
        metric = model.metric(name)
        return metric.label, metric.unit
    for d in query.define:
        if d.name == name:
            return Label(zh=d.label, en=d.label), d.unit
    return Label(zh=name, en=name), None


def having_text(h: Having, model: SemanticModel, query: SemanticQuery, lang: str) -> str:
    """营业收入 > 500万 / Revenue > ¥5M: a condition on a metric's value."""
    label, unit = _metric_of(h.metric, model, query)
    return f"{label.get(lang)} {OPS[h.op]} {threshold(h.value, unit, lang)}"


def scope_parts(
    query: SemanticQuery, model: SemanticModel, lang: str, members: Members | None = None
) -> list[str]:
    """What an answer is limited to, as a sentence says it: "区域：华东", "渠道：不含电商",
    "营业收入 > 500万" / "Region: East", "Channel: excluding E-commerce" — its filters (asked
    or kept from the question before) and its conditions on metric values."""
    zh = lang == "zh"
    out = []
    for f in query.filters:
        dim = model.dimension_map.get(f.dimension)
        if dim is None:
            continue
        label = dim.label.get(lang)
        names = ("、" if zh else ", ").join(
            _member(f.dimension, v, model, lang, members) for v in f.values
        )
        if f.op in ("=", "in"):
            out.append(f"{label}：{names}" if zh else f"{label}: {names}")
        elif f.op in ("!=", "not_in"):
            out.append(f"{label}：不含{names}" if zh else f"{label}: excluding {names}")
        elif f.op == "contains":
            out.append(f"{label}：含「{names}」" if zh else f"{label}: containing '{names}'")
        else:
            out.append(f"{label} {OPS[f.op]} {names}")
    out += [having_text(h, model, query, lang) for h in query.having]
    return out


def scope_text(
    query: SemanticQuery | None,
    model: SemanticModel | None,
    lang: str,
    members: Members | None = None,
) -> str:
    """The scope in brackets, for a sentence: "（区域：华东；营业收入 > 500万）" / " (Region:
    East; Revenue > ¥5M)"; empty for an unfiltered answer."""
    if query is None or model is None:
        return ""
    parts = scope_parts(query, model, lang, members)
    if not parts:
        return ""
    return f"（{'；'.join(parts)}）" if lang == "zh" else f" ({'; '.join(parts)})"


def interpretation(
    query: SemanticQuery,
    model: SemanticModel,
    compiled: CompiledQuery | None,
    lang: str,
    notes: list[str],
    members: Members | None = None,
) -> str:
    """Restate what was computed: metrics and their 口径, breakdown, filters, dates, comparison."""
    zh = lang == "zh"
    lines = []
    for name in query.metrics:
        metric = model.metric(name)
        definition = metric.description.get(lang) if metric.description else ""
        lines.append(f"{'指标' if zh else 'Metric'}: {metric.label.get(lang)} — {definition}")
    if query.dimensions:
        dims = []
        for ref in query.dimensions:
            label = model.dimension(ref.name).label.get(lang)
            dims.append(
                f"{label}（按{GRAIN_ZH[ref.grain.value]}）"
                if ref.grain and zh
                else f"{label} ({ref.grain.value})"
                if ref.grain
                else label
            )
        lines.append(("按: " if zh else "By: ") + ("、".join(dims) if zh else ", ".join(dims)))
    if query.filters:
        joined = "；".join if zh else "; ".join
        lines.append(
            ("筛选: " if zh else "Filter: ")
            + joined(_filter_text(f, model, lang, members) for f in query.filters)
        )
    lines.append(("期间: " if zh else "Period: ") + describe_range(query.time_range, lang))
    if query.compare is not Compare.none:
        words = COMPARE_WORDS[query.compare][0 if zh else 1]
        if compiled is not None and compiled.comparison_range is not None:
            words += " — " + describe_range(compiled.comparison_range, lang).split("（")[-1].split(
                " ("
            )[-1].rstrip("）)")
        lines.append(("对比: " if zh else "Compared: ") + words)
    if query.having:
        conditions = ", ".join(having_text(h, model, query, lang) for h in query.having)
        lines.append(("条件: " if zh else "Condition: ") + conditions)
    if query.limit:
        order = query.order_by[0] if query.order_by else None
        high = order is None or order.desc
        lines.append(
            (f"取前 {query.limit} 名（从高到低）" if high else f"取后 {query.limit} 名（从低到高）")
            if zh
            else f"{'Top' if high else 'Bottom'} {query.limit} ({'highest' if high else 'lowest'} first)"
        )
    lines += notes
    return "\n".join(lines)


def _fmt(value: Any, column: OutputColumn, lang: str) -> str:
    return format_value(value, column.unit, lang, compact=True)


_GRAIN_WORDS = {
    "day": ("日期", "day", "天"),
    "week": ("周", "week", "周"),
    "month": ("月份", "month", "个月"),
    "quarter": ("季度", "quarter", "个季度"),
    "year": ("年份", "year", "个年份"),
}


def _dim_label(column: OutputColumn, lang: str) -> str:
    """A key's name; a time key by its grain (月份 / month), not the time dimension's name."""
    if column.grain is not None and column.grain.value in _GRAIN_WORDS:
        words = _GRAIN_WORDS[column.grain.value]
        return words[0] if lang == "zh" else words[1]
    return column.label.get(lang)


def _dims_label(dims: list[OutputColumn], lang: str) -> str:
    """区域×渠道组合 / region × channel combinations — what one row of several keys is."""
    labels = [_dim_label(d, lang) for d in dims]
    if lang == "zh":
        return "×".join(labels) + ("组合" if len(dims) > 1 else "")
    return " × ".join(label.lower() for label in labels)


def _members(dims: list[OutputColumn], rows: list[tuple], names: list[str], lang: str) -> str:
    """For several keys: how many members each has — "7 个区域、3 个渠道" / "7 regions, 3 channels"."""
    counts = [len({row[names.index(d.name)] for row in rows}) for d in dims]

    def zh_count(n: int, d: OutputColumn) -> str:
        if d.grain is not None and d.grain.value in _GRAIN_WORDS:
            return f"{n} {_GRAIN_WORDS[d.grain.value][2]}"
        return f"{n} 个{d.label.get(lang)}"

    if lang == "zh":
        return "、".join(zh_count(n, d) for n, d in zip(counts, dims, strict=True))
    return ", ".join(
        f"{n} {_dim_label(d, lang).lower()}{'' if n == 1 else 's'}"
        for n, d in zip(counts, dims, strict=True)
    )


def _listing(
    dims: list[OutputColumn], rows: list[tuple], lang: str, scope: list[str] | None = None
) -> str:
    """ "共 7 个区域：东北、华东、华中…" — a listing's sentence (the table has them all); pairs
    of keys are counted as pairs: "共 21 个区域×渠道组合（7 个区域、3 个渠道）：华东 / 直销…";
    a filtered listing starts with its scope: "区域：华东，共 12 个客户：…"."""
    zh = lang == "zh"
    if scope:
        lead = "；".join(scope) + "，" if zh else "; ".join(scope) + " — "
        return lead + _listing(dims, rows, lang)
    names = [d.name for d in dims]
    label = _dims_label(dims, lang) if dims else ""
    shown = [
        " / ".join(_key(v, d, lang) for v, d in zip(row, dims, strict=False)) for row in rows[:8]
    ]
    more = "…" if len(rows) > 8 else ""
    members = f"（{_members(dims, rows, names, lang)}）" if zh and len(dims) > 1 else ""
    if zh:
        return f"共 {len(rows)} 个{label}{members}：{'、'.join(shown)}{more}。"
    if len(dims) > 1:
        plural = "combination" if len(rows) == 1 else "combinations"
        members = f" ({_members(dims, rows, names, lang)})"
        return f"{len(rows)} {label} {plural}{members}: {', '.join(shown)}{more}."
    return f"{len(rows)} {label}{'' if len(rows) == 1 else 's'}: {', '.join(shown)}{more}."


def narrative(
    query: SemanticQuery,
    model: SemanticModel,
    columns: tuple[OutputColumn, ...],
    rows: list[tuple],
    lang: str,
    members: Members | None = None,
) -> str:
    """The answer in one or two sentences, in the question's language. Periods read as people
    name them (2025年3月, 2025年Q4), several keys are counted as combinations, a rate moves in
    percentage points and a change on a negative base is said in amounts, not percent. What
    the answer is limited to — its filters, asked or kept from the question before, and its
    conditions on values — is said beside the period: "今年（区域：华东），营业收入为…".
    `members`: English names of members, for an English sentence."""
    zh = lang == "zh"
    scope = scope_text(query, model, lang, members)
    if not rows:
        return f"没有符合条件{scope}的数据。" if zh else f"No data matches the question{scope}."
    names = [c.name for c in columns]
    dims = [c for c in columns if c.kind == "dimension"]
    metrics = [c for c in columns if c.kind == "metric"]
    if not metrics:
        return _listing(dims, rows, lang, scope_parts(query, model, lang, members))
    period = period_name(query.time_range, lang) + scope

    def cell(row: tuple, name: str) -> Any:
        return row[names.index(name)]

    if not dims:
        row = rows[0]
        parts = []
        for metric in metrics:
            text = f"{metric.label.get(lang)}{'为' if zh else ': '}{_fmt(cell(row, metric.name), metric, lang)}"
            if f"{metric.name}__change_pct" in names:
                text += _change_text(row, names, metric, query.compare, lang)
            parts.append(text)
        joined = "，".join(parts) if zh else "; ".join(parts)
        return f"{period}{'，' if zh else ': '}{joined}{'。' if zh else '.'}"

    metric = metrics[0]
    key = dims[0]

    def name_of(row: tuple) -> str:
        return " / ".join(_key(cell(row, d.name), d, lang) for d in dims)

    values = [(name_of(r), cell(r, metric.name)) for r in rows]
    present = [(k, v) for k, v in values if v is not None]
    if not present:
        return f"没有符合条件{scope}的数据。" if zh else f"No data matches the question{scope}."
    label = metric.label.get(lang)
    if key.grain is not None and len(dims) == 1:
        first, last = present[0], present[-1]
        if len(present) == 1:  # one period: no "from … to" the same month
            return (
                f"{first[0]}{scope}，{label}为 {_fmt(first[1], metric, lang)}。"
                if zh
                else f"{label} in {first[0]}{scope}: {_fmt(first[1], metric, lang)}."
            )
        peak = max(present, key=lambda kv: kv[1])
        if zh:
            return (
                f"{first[0]}至{last[0]}{scope}，{label}从 {_fmt(first[1], metric, lang)}"
                f" 变为 {_fmt(last[1], metric, lang)}；最高在 {peak[0]}"
                f"（{_fmt(peak[1], metric, lang)}）。"
            )
        return (
            f"From {first[0]} to {last[0]}{scope}, {label} went from "
            f"{_fmt(first[1], metric, lang)} to {_fmt(last[1], metric, lang)}; the peak was "
            f"{peak[0]} ({_fmt(peak[1], metric, lang)})."
        )
    ordered = sorted(present, key=lambda kv: kv[1], reverse=True)
    top, bottom = ordered[0], ordered[-1]
    count = len(present)
    if count == 1:
        return (
            f"{period}{top[0]}的{label}为 {_fmt(top[1], metric, lang)}。"
            if zh
            else f"{label} for {top[0]}, {period}: {_fmt(top[1], metric, lang)}."
        )

    def moved(row: tuple) -> str:
        return _change_brief(row, names, metric, query.compare, lang)

    if query.limit and query.order_by:
        listed = [
            f"{name_of(r)}（{_fmt(cell(r, metric.name), metric, lang)}{moved(r)}）"
            if zh
            else f"{name_of(r)} ({_fmt(cell(r, metric.name), metric, lang)}{moved(r)})"
            for r in rows
            if cell(r, metric.name) is not None
        ]
        return (
            (f"{period}{label}排名：" + "、".join(listed) + "。")
            if zh
            else (f"{label}, {period}: " + ", ".join(listed) + ".")
        )
    with_values = [r for r in rows if cell(r, metric.name) is not None]
    if len(dims) > 1:
        what = (
            f"共 {count} 个{_dims_label(dims, lang)}（{_members(dims, with_values, names, lang)}）"
            if zh
            else f"{count} {_dims_label(dims, lang)} combinations "
            f"({_members(dims, with_values, names, lang)})"
        )
    else:
        what = (
            f"共 {count} 个{key.label.get(lang)}"
            if zh
            else f"{count} {key.label.get(lang).lower()} values"
        )
    share = f"{metric.name}__share"
    top_row = next(r for r in rows if name_of(r) == top[0])
    bottom_row = next(r for r in rows if name_of(r) == bottom[0])
    top_share = moved(top_row)
    if share in names:  # said beside the member it belongs to
        value = cell(top_row, share)
        top_share += (
            f"，占比 {format_value(value, 'percent', lang)}"
            if zh
            else f", {format_value(value, 'percent', lang)} of the total"
        )
    text = (
        f"{period}{what}，{label}最高的是 {top[0]}"
        f"（{_fmt(top[1], metric, lang)}{top_share}），最低的是 {bottom[0]}"
        f"（{_fmt(bottom[1], metric, lang)}{moved(bottom_row)}）"
        if zh
        else f"{period}: {what}; the highest {label} is "
        f"{top[0]} ({_fmt(top[1], metric, lang)}{top_share}), the lowest {bottom[0]} "
        f"({_fmt(bottom[1], metric, lang)}{moved(bottom_row)})"
    )
    return text + ("。" if zh else ".")


def _change_brief(row, names, metric: OutputColumn, compare: Compare, lang: str) -> str:
    """A member's change beside its value in a breakdown or ranking: "，同比 +17.9%",
    "，对比预算完成 95.0%", "，环比上月 -1.2个百分点"; empty when nothing is compared."""
    if compare is Compare.none or f"{metric.name}__change" not in names:
        return ""
    zh = lang == "zh"
    words = COMPARE_WORDS[compare][0 if zh else 1]
    prev = row[names.index(f"{metric.name}__compare")]
    change = row[names.index(f"{metric.name}__change")]
    if compare is Compare.budget:
        value = row[names.index(metric.name)]
        attained = None if not prev or value is None else float(value) / float(prev)
        done = format_value(attained, "percent", lang)
        return f"，完成预算 {done}" if zh else f", {done} of budget"
    if metric.unit == "percent":
        moved = format_points(change, lang)
    elif prev is not None and float(prev) <= 0 and change is not None:
        moved = ("+" if float(change) > 0 else "") + _fmt(change, metric, lang)
    else:
        moved = format_change_pct(row[names.index(f"{metric.name}__change_pct")])
    return f"，{words} {moved}" if zh else f", {moved} {words}"


def _change_text(row, names, metric: OutputColumn, compare: Compare, lang: str) -> str:
    """ ", 环比上月下降 2.4 个百分点" for a rate; "增长 12.0%（对比期 …）" for an amount; an
    amount whose comparison is zero or negative is said in money, not percent (−98万 → −614万
    is a fall of 516万, not "−526.8%")."""
    zh = lang == "zh"
    pct = row[names.index(f"{metric.name}__change_pct")]
    change = row[names.index(f"{metric.name}__change")]
    prev = row[names.index(f"{metric.name}__compare")]
    if pct is None and change is None:
        return "（无对比期数据）" if zh else " (no comparison data)"
    words = COMPARE_WORDS[compare][0 if zh else 1]
    if compare is Compare.budget:
        attained = None if not prev else float(row[names.index(metric.name)]) / float(prev)
        return (
            f"，预算 {_fmt(prev, metric, lang)}，完成 {format_value(attained, 'percent', lang)}"
            if zh
            else f" (budget {_fmt(prev, metric, lang)}, "
            f"{format_value(attained, 'percent', lang)} attained)"
        )
    if metric.unit == "percent":
        points = round(float(change or 0) * 100, 1)
        if points == 0:  # never "-0.0 个百分点"
            return f"，{words}持平（0.0 个百分点）" if zh else f", flat {words} (0.0 pp)"
        return (
            f"，{words}{'上升' if points > 0 else '下降'} {abs(points):.1f} 个百分点"
            if zh
            else f", {'up' if points > 0 else 'down'} {abs(points):.1f} pp {words}"
        )
    if prev is not None and float(prev) <= 0 and change is not None:
        amount = _fmt(abs(float(change)), metric, lang)
        up = float(change) >= 0
        basis = (
            ("基数为负，不计算百分比" if float(prev) < 0 else "基数为零，不计算百分比")
            if zh
            else ("a negative base, so no percentage" if float(prev) < 0 else "a zero base")
        )
        return (
            f"，{words}{'增加' if up else '减少'} {amount}（对比期 {_fmt(prev, metric, lang)}，{basis}）"
            if zh
            else f", {'up' if up else 'down'} {amount} {words} (from {_fmt(prev, metric, lang)}; "
            f"{basis})"
        )
    value = round(float(pct or 0) * 100, 1)
    if value == 0:
        return (
            f"，{words}持平（对比期 {_fmt(prev, metric, lang)}）"
            if zh
            else f", flat {words} (from {_fmt(prev, metric, lang)})"
        )
    up = value > 0
    return (
        f"，{words}{'增长' if up else '下降'} {format_value(abs(pct), 'percent', lang)}"
        f"（对比期 {_fmt(prev, metric, lang)}）"
        if zh
        else f", {'up' if up else 'down'} {format_value(abs(pct), 'percent', lang)} {words}"
        f" (from {_fmt(prev, metric, lang)})"
    )


def _key(value: Any, column: OutputColumn | None = None, lang: str = "zh") -> str:
    """A member as a sentence names it: a period by its grain (2025年3月, 2025年Q4), not its
    first day."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        grain = column.grain.value if column is not None and column.grain is not None else None
        return period_label(value, grain, lang)
    return str(value)


_COMPARE = {
    "yoy": ("同比", "vs a year earlier"),
    "mom": ("环比", "vs the month before"),
    "qoq": ("环比上季", "vs the quarter before"),
    "previous_period": ("对比上期", "vs the previous period"),
    "budget": ("对比预算", "vs budget"),
}
# The period an answer sets on its own beside a single number (see `Assistant.run`): its
# note and its restatement name it alike.
CONTEXT_PERIODS = {
    Compare.yoy: ("上年同期", "the same period a year earlier"),
    Compare.mom: ("上月", "the month before"),
    Compare.qoq: ("上季度", "the quarter before"),
    Compare.previous_period: ("上一期", "the period before"),
}


def ranking_text(query: SemanticQuery, model: SemanticModel, lang: str) -> str:
    """前5 / top 5; 后5 / bottom 5 for a ranking asked lowest first; with the measure it is
    ranked by when that is not the first metric ("按营业收入变化率前5")."""
    if not query.limit:
        return ""
    zh = lang == "zh"
    order = query.order_by[0] if query.order_by else None
    low = order is not None and not order.desc
    text = (
        f"{'后' if low else '前'}{query.limit}"
        if zh
        else f"{'bottom' if low else 'top'} {query.limit}"
    )
    field = order.field if order is not None else None
    if field is None or (query.metrics and field == query.metrics[0]):
        return text
    base, _, part = field.partition("__")
    if base in model.dimension_map:
        by = model.dimension(base).label.get(lang)
    else:
        label = _metric_of(base, model, query)[0].get(lang)
        words = {"change_pct": ("变化率", " change %"), "change": ("增减", " change")}
        by = label + (words[part][0 if zh else 1] if part in words else "")
    return f"按{by}{text}" if zh else f"{text} by {by}"


def restatement(
    query: SemanticQuery,
    model: SemanticModel,
    members: Members | None = None,
    shown: SemanticQuery | None = None,
) -> dict[str, str]:
    """The one line a person can check, in both languages: metric · filters · period ·
    breakdown · conditions · share · comparison · ranking — built from the query itself, so
    it cannot disagree with what ran. `members`: English names of members, for the English
    line. `shown`: the query as run, when the answer set a comparison beside a single number
    on its own ("对比上年同期")."""
    out = {}
    for lang in ("zh", "en"):
        zh = lang == "zh"
        names = [_metric_of(m, model, query)[0].get(lang) for m in query.metrics]
        counted = query.count_rows_as is not None
        if counted:  # "收入超过500万的客户有几个": the number is how many members
            dims = [model.dimension(d.name).label.get(lang) for d in query.dimensions]
            names = ["、".join(dims) + "数" if zh else ", ".join(dims) + (" count")]
        parts = ["、".join(names) if zh else ", ".join(names)] if names else []
        parts += [_filter_text(f, model, lang, members) for f in query.filters]
        if query.metrics:
            parts.append(describe_range(query.time_range, lang).split("（")[0].split(" (")[0])
        for ref in [] if counted else query.dimensions:
            dim = model.dimension(ref.name)
            if dim.metric_time and ref.grain is not None:
                grain = ref.grain.value
                parts.append(f"按{GRAIN_ZH[grain]}" if zh else f"by {grain}")
            else:
                label = dim.label.get(lang)
                parts.append(f"按{label}" if zh else f"by {label.lower()}")
        parts += [having_text(h, model, query, lang) for h in query.having]
        if (
            query.intent is Intent.share
            and query.dimensions
            and any(_metric_of(m, model, query)[1] in SHARE_UNITS for m in query.metrics)
        ):
            parts.append("占比" if zh else "share of total")
        if query.compare.value != "none":
            parts.append(_COMPARE[query.compare.value][0 if zh else 1])
        elif shown is not None and shown.compare in CONTEXT_PERIODS:
            before_zh, before_en = CONTEXT_PERIODS[shown.compare]
            parts.append(f"对比{before_zh}" if zh else f"vs {before_en}")
        parts.append(ranking_text(query, model, lang))
        out[lang] = " · ".join(p for p in parts if p)
    return out
