"""Auto-charts: a Vega-Lite spec chosen from what the answer's columns mean.

The choice reads the result columns (`OutputColumn.kind`, `unit`, `grain`) and, when given,
the query (top-N, budget, cumulative words) and the model (whether up is good news):

    no dimension                         → KPI card(s): value, delta with ▲/▼, green when good
    share column, one category           → donut (≤ 6 slices), else bar of shares
    compared with budget                 → bars with target tick marks
    compared with a period, over time    → line, with the comparison period dashed
    compared with a period, by category  → bars coloured better/worse, tick = comparison
    time only                            → line (area for running totals: 累计 / YTD)
    time and one category                → one line per member (the 10 largest)
    one category, top-N                  → ranked horizontal bar with value labels
    one category                         → bar sorted by value; horizontal when long or > 8
    two categories                       → stacked bar (amounts), heatmap (rates, or many)
    anything else                        → None: the table says it better

Metrics with different units always get their own panels (vconcat): yuan and % never share
an axis. Chinese axes read 万/亿, English K/M/B; the fonts render CJK. Bars, points and slices
carry a point selection named `drill` (see `DRILL`) so the UI can drill into a clicked member.
Values are plain JSON (floats, ISO dates as labels) so the CLI and reports can export the spec.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from assistant.formatting import as_number, format_value
from assistant.present import COMPARE_WORDS, period_name, ranking_text, scope_parts
from semantic_layer.compiler import OutputColumn
from semantic_layer.model import SemanticModel
from semantic_layer.query import Compare, SemanticQuery

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
FONT = "Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif"
PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d"]
GOOD, BAD, NEUTRAL, MUTED = "#2e7d32", "#c62828", "#4c78a8", "#9e9e9e"
DRILL = "drill"  # the selection parameter the UI listens to
ISO = "__iso"  # suffix of the field that keeps a time member's first day (for drilling)
TEXT = "__text"  # suffix of the field with a value formatted for people (tooltips, labels)

MAX_BARS = 30  # more categories than this: the largest, and the title says so
MAX_SERIES = 10  # more lines than this: the largest
MAX_DONUT = 6
ADDITIVE = ("yuan", "count", "units")
CUMULATIVE_WORDS = ("累计", "年初至今", "ytd", "year to date", "to date", "cumulative")

# Axis numbers: 1.5亿 / 3,000万 in Chinese; ¥1.5B / ¥30M in English (Vega expressions).
ZH_NUMBER = (
    "abs(datum.value) >= 1e8 ? format(datum.value / 1e8, ',.4~g') + '亿' : "
    "abs(datum.value) >= 1e4 ? format(datum.value / 1e4, ',.4~g') + '万' : "
    "format(datum.value, ',~g')"
)
EN_NUMBER = (
    "abs(datum.value) >= 1e9 ? format(datum.value / 1e9, ',.3~g') + 'B' : "
    "abs(datum.value) >= 1e6 ? format(datum.value / 1e6, ',.3~g') + 'M' : "
    "abs(datum.value) >= 1e3 ? format(datum.value / 1e3, ',.3~g') + 'K' : "
    "format(datum.value, ',~g')"
)

WORDS = {
    "current": ("本期", "Current"),
    "budget": ("预算", "Budget"),
    "attained": ("完成", "attained"),
    "better": ("好于{what}", "Better than {what}"),
    "worse": ("差于{what}", "Worse than {what}"),
    "by": ("按", "by "),
    "top": ("前{n}名（共{total}）", "top {n} of {total}"),
    "cumulative": ("累计", "cumulative"),
    "points": ("个百分点", "pts"),
    "metric": ("指标", "Metric"),
}


def _w(key: str, lang: str) -> str:
    return WORDS[key][0 if lang == "zh" else 1]


def chart(
    columns: tuple[OutputColumn, ...],
    rows: list[tuple],
    lang: str,
    *,
    model: SemanticModel | None = None,
    query: SemanticQuery | None = None,
    labels: dict[str, dict[str, str]] | None = None,
) -> dict | None:
    """The Vega-Lite spec that shows this result best, or None when a table is clearer.

    `model` tells whether a rise is good for each metric (KPI and bar colours); without it a
    rise counts as good. `query` tells top-N, budget comparison and running totals. `labels`
    names members for the reader (an answer's `labels` on an English page: East for 华东),
    so the chart says what the sentence and the table say, and a click on a bar drills into
    the member by the name shown ("drill into East" is answered in English).
    """
    if not rows or not any(c.kind == "metric" for c in columns):
        return None
    if labels:
        rows = named_rows(columns, rows, labels)
    shape = _Shape.of(columns, rows, lang, model, query, labels)
    if not shape.dims:
        body = _kpi_cards(shape)
    elif shape.compare_kind is not None and len(shape.dims) == 1:
        body = _compared(shape)
    elif len(shape.times) == 1 and not shape.cats:
        body = _trend(shape)
    elif len(shape.times) == 1 and len(shape.cats) == 1:
        body = _trend_by_member(shape)
    elif len(shape.cats) == 1 and not shape.times:
        body = _shares(shape) if shape.shares else _breakdown(shape)
    elif len(shape.cats) == 2 and not shape.times:
        body = _two_categories(shape)
    else:
        return None
    if body is None:
        return None
    sizing = _autosize(body)
    return {"$schema": SCHEMA, **body, **sizing, "config": _config()}


def named_rows(
    columns: tuple[OutputColumn, ...], rows: list[tuple], labels: dict[str, dict[str, str]]
) -> list[tuple]:
    """The rows as a reader sees them: each category member by its name in `labels` (an
    answer's English names), others as they are."""
    names = [labels.get(c.source) if c.kind == "dimension" else None for c in columns]
    return [
        tuple(
            n.get(str(v), v) if n and v is not None else v for v, n in zip(row, names, strict=True)
        )
        for row in rows
    ]


def _autosize(body: dict[str, Any]) -> dict[str, Any]:
    """How a page may resize the chart, said in the spec.

    A page that stretches a chart (Streamlit) asks Vega-Lite to "fit" it when the spec does
    not say; Vega-Lite cannot fit a concatenation or a side sized by step (a band per
    member), drops the fit and warns in the browser console ("Autosize "fit" only works for
    single views and layered views", "Dropping "fit" because spec has discrete size"). So:
    panels side by side or stacked and the heatmap keep their own size ("pad"), horizontal
    bars (a fixed height, see `_bands`) fit their width only; other charts fit both sides."""
    if any(key in body for key in ("hconcat", "vconcat", "concat")):
        return {"autosize": {"type": "pad"}}
    if isinstance(body.get("width"), dict) or isinstance(body.get("height"), dict):
        return {"autosize": {"type": "pad"}}
    if "height" in body and "width" not in body:
        return {"autosize": {"type": "fit-x", "contains": "padding"}}
    return {}


def _bands(members: int, step: int) -> int:
    """The height of horizontal bars: `step` pixels a member, as a number of pixels.

    Not Vega-Lite's `{"step": n}`, which is the same drawing but cannot fit the page's width:
    any fit with a step-sized side is dropped with a console warning (see `_autosize`)."""
    return max(members, 1) * step


# --- reading the result ----------------------------------------------------------------------
@dataclass
class _Shape:
    """The result, reorganised for charting: which columns play which part, and JSON rows."""

    columns: tuple[OutputColumn, ...]
    rows: list[tuple]
    lang: str
    model: SemanticModel | None
    query: SemanticQuery | None
    dims: list[OutputColumn]
    times: list[OutputColumn]
    cats: list[OutputColumn]
    metrics: list[OutputColumn]
    companions: dict[tuple[str, str], OutputColumn]  # (metric, kind) → compare/change/share
    records: list[dict[str, Any]]
    names: dict[str, dict[str, str]] | None = None  # members' names for the reader (East)

    @classmethod
    def of(cls, columns, rows, lang, model, query, names=None) -> _Shape:
        dims = [c for c in columns if c.kind == "dimension"]
        times = [c for c in dims if c.grain is not None]
        cats = [c for c in dims if c.grain is None]
        metrics = [c for c in columns if c.kind == "metric"]
        companions = {(c.source, c.kind): c for c in columns if c.kind not in ("dimension",)}
        records = []
        for row in rows:
            record: dict[str, Any] = {}
            for column, value in zip(columns, row, strict=True):
                if column.kind == "dimension":
                    if column.grain is not None and isinstance(value, date):
                        record[column.name] = time_label(value, column.grain.value, lang)
                        record[column.name + ISO] = value.isoformat()[:10]
                    else:
                        record[column.name] = "—" if value is None else str(value)
                else:
                    record[column.name] = as_number(value)
                    record[column.name + TEXT] = format_value(value, column.unit, lang, True)
            records.append(record)
        return cls(
            columns,
            rows,
            lang,
            model,
            query,
            dims,
            times,
            cats,
            metrics,
            companions,
            records,
            names,
        )

    @property
    def zh(self) -> bool:
        return self.lang == "zh"

    @property
    def compare_kind(self) -> str | None:
        """ "budget", "period" (yoy, mom…) or None."""
        compares = [c for c in self.columns if c.kind == "compare"]
        if not compares:
            return None
        if self.query is not None:
            return "budget" if self.query.compare is Compare.budget else "period"
        return "budget" if "budget" in compares[0].label.en.lower() else "period"

    @property
    def shares(self) -> list[OutputColumn]:
        return [c for c in self.columns if c.kind == "share"]

    @property
    def top_n(self) -> bool:
        return bool(self.query and self.query.limit and len(self.records) <= self.query.limit)

    @property
    def ascending(self) -> bool:
        """A ranking asked lowest first (最低的3个区域)."""
        return bool(self.query and self.query.order_by and not self.query.order_by[0].desc)

    @property
    def cumulative(self) -> bool:
        window = self.query.time_range if self.query else None
        label = (window.label or "").lower() if window else ""
        return any(word in label for word in CUMULATIVE_WORDS)

    def label(self, column: OutputColumn) -> str:
        return column.label.get(self.lang)

    def good_when_up(self, metric: OutputColumn) -> bool:
        if self.model is None:
            return True
        found = self.model.metric_map.get(metric.source)
        return True if found is None else found.higher_is_better

    def semi_additive(self, metric: OutputColumn) -> bool:
        found = self.model.metric_map.get(metric.source) if self.model else None
        return bool(found and found.semi_additive)

    def unit_groups(self) -> list[list[OutputColumn]]:
        """Metrics grouped by unit, in order: one panel (one y axis) per group."""
        groups: dict[str | None, list[OutputColumn]] = {}
        for metric in self.metrics:
            groups.setdefault(metric.unit, []).append(metric)
        return list(groups.values())

    def period_words(self) -> str:
        """The period as the question named it (今年); in the page's language (this year)."""
        window = self.query.time_range if self.query else None
        if window is None:
            return ""
        label = window.label or ""
        if label and self.zh != bool(re.search(r"[\u4e00-\u9fff]", label)):
            return period_name(window, self.lang)  # 今年 on an English page: this year
        return label

    def scope(self) -> list[str]:
        """What the answer is limited to, as its sentence says it: ["区域：华东", "营业收入 >
        500万"] — filters asked or kept from the question before, conditions on values."""
        if self.query is None or self.model is None:
            return []
        return scope_parts(self.query, self.model, self.lang, self.names)

    def context_words(self) -> list[str]:
        """The comparison drawn (同比 / vs budget) and the ranking (后5 / bottom 5), as the
        restatement says them."""
        if self.query is None:
            return []
        words = []
        if self.query.compare is not Compare.none and self.compare_kind is not None:
            words.append(COMPARE_WORDS[self.query.compare][0 if self.zh else 1])
        if self.model is not None:
            words.append(ranking_text(self.query, self.model, self.lang))
        return [w for w in words if w]


def time_label(day: date, grain: str, lang: str) -> str:
    """How a time member reads on an axis: 2025-03, 2025Q1, 2025, 2025-W10, 2025-03-01."""
    if grain == "year":
        return f"{day.year}"
    if grain == "quarter":
        return f"{day.year}Q{(day.month - 1) // 3 + 1}"
    if grain == "month":
        return f"{day.year}-{day.month:02d}"
    if grain == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return day.isoformat()[:10]


# --- pieces of specs -------------------------------------------------------------------------
def _config() -> dict[str, Any]:
    text = {"font": FONT}
    return {
        "font": FONT,
        "axis": {
            "labelFont": FONT,
            "titleFont": FONT,
            "labelFontSize": 12,
            "titleFontSize": 12,
            "titleFontWeight": "normal",
            "gridColor": "#eeeeee",
            "domainColor": "#cccccc",
        },
        "legend": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": 12, "orient": "top"},
        "title": {
            "font": FONT,
            "subtitleFont": FONT,
            "fontSize": 15,
            "anchor": "start",
            "subtitleColor": "#666666",
            "offset": 10,
        },
        "header": {"labelFont": FONT, "titleFont": FONT},
        "text": text,
        "mark": text,
        "range": {"category": PALETTE},
        "view": {"stroke": None},
        "concat": {"spacing": 24},
    }


def _axis(unit: str | None, lang: str, title: str | None = None) -> dict[str, Any]:
    """A quantitative axis for a unit: 万/亿 or K/M/B for amounts, % for rates."""
    axis: dict[str, Any] = {"title": title, "tickCount": 6}
    if unit == "percent":
        axis["format"] = ".1~%"
    elif unit == "ratio":
        axis["format"] = ".2~f"
    elif unit == "days":
        axis["format"] = ",.0f"
    elif unit in ADDITIVE or unit is None:
        expr = ZH_NUMBER if lang == "zh" else EN_NUMBER
        if unit == "yuan" and lang != "zh":
            expr = f"(datum.value < 0 ? '-¥' : '¥') + ({expr.replace('datum.value', 'abs(datum.value)')})"
        axis["labelExpr"] = expr
    return axis


def _unit_title(metrics: list[OutputColumn], lang: str) -> str:
    """The y-axis title of a panel: the metric (and its unit when it is not obvious)."""
    names = ("、" if lang == "zh" else ", ").join(m.label.get(lang) for m in metrics)
    unit = metrics[0].unit
    suffix = {
        "yuan": ("（元）", " (¥)"),
        "days": ("（天）", " (days)"),
        "count": ("", ""),
        "units": ("（件）", " (units)"),
    }.get(unit or "", ("", ""))
    return names + suffix[0 if lang == "zh" else 1]


def _selection(fields: list[str]) -> dict[str, Any]:
    """The drill selection: a click on a bar, slice or point picks its member."""
    return {"name": DRILL, "select": {"type": "point", "fields": fields, "on": "click"}}


def _selectable(spec: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """Put the drill selection in the spec's first unit view (params live in unit views)."""
    unit = spec
    while "layer" in unit:
        unit = unit["layer"][0]
    unit["params"] = [_selection(fields)]
    return spec


def _with_points(panel: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """A line (or area) panel as two layers, the line and its points; the points carry the
    tooltip and the drill selection (Vega-Lite cannot select one point of a line mark)."""
    mark = panel.pop("mark")
    encoding = panel.pop("encoding")
    line = {"mark": mark, "encoding": {k: v for k, v in encoding.items() if k != "tooltip"}}
    dots = {k: v for k, v in encoding.items() if k != "strokeDash"}
    points: dict[str, Any] = {"mark": {"type": "point", "filled": True, "size": 55}}
    points["encoding"] = dots
    if fields:
        points["params"] = [_selection(fields)]
    panel["layer"] = [line, points]
    return panel


def _opacity() -> dict[str, Any]:
    return {"condition": {"param": DRILL, "value": 1, "empty": True}, "value": 0.45}


def _tooltip(shape: _Shape, fields: list[OutputColumn]) -> list[dict[str, Any]]:
    tips = []
    for column in fields:
        if column.kind == "dimension":
            tips.append({"field": column.name, "type": "nominal", "title": shape.label(column)})
        else:
            tips.append(
                {"field": column.name + TEXT, "type": "nominal", "title": shape.label(column)}
            )
    return tips


def _title(shape: _Shape, metrics: list[OutputColumn], note: str = "") -> dict[str, Any]:
    joiner = "、" if shape.zh else ", "
    text = joiner.join(shape.label(m) for m in metrics)
    if shape.cats:
        by = joiner.join(shape.label(c) for c in shape.cats)
        text += f" · {_w('by', shape.lang)}{by if shape.zh else by.lower()}"
    # The subtitle says what the sentence says: period, scope, comparison, ranking — a chart
    # of 华东's months must not read as the company's.
    context = [] if note and shape.compare_kind is not None else shape.context_words()
    parts = (shape.period_words(), *shape.scope(), *context, note)
    subtitle = " · ".join(part for part in parts if part)
    return {"text": text, **({"subtitle": subtitle} if subtitle else {})}


def _ordered(shape: _Shape, key: str, metric: str, descending: bool = True) -> list[str]:
    """Members of `key` ordered by `metric` (missing values last)."""
    totals: dict[str, float] = defaultdict(float)
    for record in shape.records:
        value = record.get(metric)
        totals[record[key]] += value if value is not None else 0.0
    return sorted(totals, key=lambda k: totals[k], reverse=descending)


def _label_width(labels: list[str]) -> int:
    """Display width: a CJK character counts two."""
    return max((sum(2 if ord(ch) > 0x2E80 else 1 for ch in text) for text in labels), default=0)


def _horizontal(labels: list[str]) -> bool:
    return len(labels) > 8 or _label_width(labels) > 10


def _angle(labels: list[str], fits: int) -> int:
    """Labels under a vertical-bar or time axis: level when they fit, else slanted."""
    return 0 if len(labels) <= fits and _label_width(labels) <= 10 else -45


def _capped(shape: _Shape, key: str, metric: str) -> tuple[list[str], str]:
    """The members to draw (at most MAX_BARS, the largest) and a note when some are left out."""
    order = _ordered(shape, key, metric, descending=not shape.ascending)
    if len(order) <= MAX_BARS:
        return order, ""
    note = _w("top", shape.lang).format(n=MAX_BARS, total=len(order))
    return order[:MAX_BARS], note


# --- KPI cards ---------------------------------------------------------------------------------
def _kpi_cards(shape: _Shape) -> dict[str, Any]:
    record = shape.records[0]
    cards = [_kpi_card(shape, metric, record) for metric in shape.metrics]
    # Even one card is wrapped: a concat keeps the card's own size wherever it is embedded.
    return {"hconcat": cards} if len(cards) <= 4 else {"concat": cards, "columns": 4}


def _kpi_card(shape: _Shape, metric: OutputColumn, record: dict[str, Any]) -> dict[str, Any]:
    """One card: the metric's name, its value large, and the change against what it is
    compared with: ▲/▼ in green when the move is good news for this metric, red when bad."""
    lang, zh = shape.lang, shape.zh
    value = record.get(metric.name)
    scope = ("；" if zh else "; ").join(shape.scope())
    if scope:  # the card says what it is limited to, as the sentence does: 营业收入（区域：华东）
        scope = f"（{scope}）" if zh else f" ({scope})"
    card = {
        "label": shape.label(metric) + scope,
        "value": record[metric.name + TEXT],
        "delta": "",
        "basis": shape.period_words(),
        "color": NEUTRAL,
    }
    compare = shape.companions.get((metric.source, "compare"))
    if compare is not None:
        base = record.get(compare.name)
        change = shape.companions.get((metric.source, "change"))
        pct = shape.companions.get((metric.source, "change_pct"))
        delta = record.get(change.name) if change else None
        if shape.compare_kind == "budget":
            attained = None if not base or value is None else value / base
            delta = None if value is None or base is None else value - base
            card["delta"] = (
                f"{_arrow(delta)} {_w('attained', lang)} {format_value(attained, 'percent', lang)}"
                if zh
                else f"{_arrow(delta)} {format_value(attained, 'percent', lang)} "
                f"{_w('attained', lang)}"
            )
            card["basis"] = f"{_w('budget', lang)} {format_value(base, metric.unit, lang, True)}"
        else:
            if metric.unit == "percent":
                points = None if delta is None else abs(delta) * 100
                moved = "—" if points is None else f"{points:.1f} {_w('points', lang)}"
            elif base is not None and base <= 0 and delta is not None:
                # A percentage of a negative or zero base means nothing (−98万 → −614万 is
                # not "▼526.8%"): the change itself says it.
                moved = format_value(abs(delta), metric.unit, lang, True)
            else:
                ratio = record.get(pct.name) if pct else None
                moved = "—" if ratio is None else format_value(abs(ratio), "percent", lang)
            card["delta"] = f"{_arrow(delta)} {moved}"
            against = _paren(shape.label(compare))
            against = against[:1].upper() + against[1:]  # "Same period last year ¥596M"
            card["basis"] = f"{against} {format_value(base, metric.unit, lang, True)}"
        if delta:
            card["color"] = GOOD if (delta > 0) == shape.good_when_up(metric) else BAD
    layers = [
        _card_text("label", 10, 15, "#555555", "normal"),
        _card_text("value", 36, 34, "#1f2937", "bold"),
        _card_text("delta", 86, 17, None, "bold"),
        _card_text("basis", 112, 13, "#777777", "normal"),
    ]
    return {
        "data": {"values": [card]},
        "width": 230,
        "height": 136,
        "layer": layers,
        "view": {"stroke": "#e0e0e0", "cornerRadius": 8, "fill": "#fbfbfb"},
    }


def _card_text(field: str, y: int, size: int, color: str | None, weight: str) -> dict[str, Any]:
    mark: dict[str, Any] = {
        "type": "text",
        "align": "left",
        "baseline": "top",
        "fontSize": size,
        "fontWeight": weight,
        "font": FONT,
        "limit": 210,  # a long label (a scope of several filters) ends in "…" inside the card
    }
    encoding: dict[str, Any] = {
        "text": {"field": field, "type": "nominal"},
        "x": {"value": 14},
        "y": {"value": y},
    }
    if color is None:
        encoding["color"] = {"field": "color", "type": "nominal", "scale": None, "legend": None}
    else:
        mark["color"] = color
    return {"mark": mark, "encoding": encoding}


def _arrow(delta: float | None) -> str:
    if not delta:
        return "＝" if delta == 0 else ""
    return "▲" if delta > 0 else "▼"


def _paren(label: str) -> str:
    """ "营业收入（去年同期）" → "去年同期"; "Revenue (budget)" → "budget"."""
    for opening, closing in (("（", "）"), ("(", ")")):
        if opening in label and label.endswith(closing):
            return label[label.rindex(opening) + 1 : -1]
    return label


# --- over time -----------------------------------------------------------------------------------
def _time_x(shape: _Shape, key: OutputColumn, for_bars: bool = False) -> dict[str, Any]:
    order = [r[key.name] for r in sorted(shape.records, key=lambda r: r.get(key.name + ISO, ""))]
    order = list(dict.fromkeys(order))
    axis = {"title": None, "labelOverlap": "parity", "labelAngle": _angle(order, 12)}
    return {"field": key.name, "type": "ordinal", "sort": order, "axis": axis}


def _trend(shape: _Shape) -> dict[str, Any]:
    """Line per metric over time; one panel per unit; running totals as areas."""
    key = shape.times[0]
    panels = []
    for index, group in enumerate(shape.unit_groups()):
        panels.append(_trend_panel(shape, key, group, select=index == 0))
    return _stack(panels, shape, shape.metrics)


def _trend_panel(
    shape: _Shape, key: OutputColumn, metrics: list[OutputColumn], select: bool
) -> dict[str, Any]:
    running = shape.cumulative and all(
        m.unit in ADDITIVE and not shape.semi_additive(m) for m in metrics
    )
    values = []
    for metric in metrics:
        total = 0.0
        ordered = sorted(shape.records, key=lambda r: r.get(key.name + ISO, ""))
        for record in ordered:
            value = record.get(metric.name)
            if running:
                total += value or 0.0
                value = total
            values.append(
                {
                    key.name: record[key.name],
                    key.name + ISO: record.get(key.name + ISO),
                    "series": shape.label(metric),
                    "value": value,
                    "text": format_value(value, metric.unit, shape.lang, True),
                }
            )
    title = _unit_title(metrics, shape.lang)
    if running:
        title += f"（{_w('cumulative', shape.lang)}）" if shape.zh else " (cumulative)"
    several = len(metrics) > 1
    mark: dict[str, Any] = (
        {"type": "area", "line": True, "opacity": 0.35}
        if running and not several
        else {"type": "line", "strokeWidth": 2.5}
    )
    encoding: dict[str, Any] = {
        "x": _time_x(shape, key),
        "y": {
            "field": "value",
            "type": "quantitative",
            "axis": _axis(metrics[0].unit, shape.lang, title),
            "scale": {"zero": metrics[0].unit != "percent"},
        },
        "tooltip": [
            {"field": key.name, "type": "ordinal", "title": shape.label(key)},
            {"field": "series", "type": "nominal", "title": _w("metric", shape.lang)},
            {"field": "text", "type": "nominal", "title": title},
        ],
    }
    if several:
        encoding["color"] = {"field": "series", "type": "nominal", "title": None}
    panel: dict[str, Any] = {"data": {"values": values}, "mark": mark, "encoding": encoding}
    return _with_points(panel, [key.name, key.name + ISO] if select else None)


def _trend_by_member(shape: _Shape) -> dict[str, Any]:
    """One line per member of the category (the MAX_SERIES largest); a panel per metric."""
    key, member = shape.times[0], shape.cats[0]
    panels = []
    note = ""
    for index, metric in enumerate(shape.metrics):
        order = _ordered(shape, member.name, metric.name)
        if len(order) > MAX_SERIES:
            note = _w("top", shape.lang).format(n=MAX_SERIES, total=len(order))
            order = order[:MAX_SERIES]
        keep = set(order)
        values = [r for r in shape.records if r[member.name] in keep]
        panel: dict[str, Any] = {
            "data": {"values": values},
            "mark": {"type": "line", "strokeWidth": 2},
            "encoding": {
                "x": _time_x(shape, key),
                "y": {
                    "field": metric.name,
                    "type": "quantitative",
                    "axis": _axis(metric.unit, shape.lang, _unit_title([metric], shape.lang)),
                    "scale": {"zero": metric.unit != "percent"},
                },
                "color": {
                    "field": member.name,
                    "type": "nominal",
                    "sort": order,
                    "title": shape.label(member),
                },
                "opacity": _opacity(),
                "tooltip": _tooltip(shape, [key, member, metric]),
            },
        }
        panels.append(_with_points(panel, [member.name] if index == 0 else None))
    return _stack(panels, shape, shape.metrics, note)


# --- by category -------------------------------------------------------------------------------
def _breakdown(shape: _Shape) -> dict[str, Any]:
    """Bars sorted by value (ranked with labels for top-N); a panel per unit."""
    key = shape.cats[0]
    if shape.top_n:  # a ranking keeps the order it was asked in (by whichever metric)
        order, note = list(dict.fromkeys(r[key.name] for r in shape.records)), ""
    else:
        order, note = _capped(shape, key.name, shape.metrics[0].name)
    keep = set(order)
    records = [r for r in shape.records if r[key.name] in keep]
    horizontal = shape.top_n or _horizontal(order)
    panels = []
    for index, group in enumerate(shape.unit_groups()):
        panel = (
            _bars(shape, key, group[0], records, order, horizontal, labels=len(order) <= 15)
            if len(group) == 1
            else _grouped_bars(shape, key, group, records, order, horizontal)
        )
        if index == 0:
            _selectable(panel, [key.name])
        panels.append(panel)
    return _stack(panels, shape, shape.metrics, note, side_by_side=horizontal)


def _bars(
    shape: _Shape,
    key: OutputColumn,
    metric: OutputColumn,
    records: list[dict[str, Any]],
    order: list[str],
    horizontal: bool,
    labels: bool = False,
) -> dict[str, Any]:
    category = {"field": key.name, "type": "nominal", "sort": order, "title": None}
    if not horizontal:
        category["axis"] = {"labelAngle": _angle(order, 8)}
    value = {
        "field": metric.name,
        "type": "quantitative",
        "axis": _axis(metric.unit, shape.lang, _unit_title([metric], shape.lang)),
    }
    encoding = {
        "x": value if horizontal else category,
        "y": category if horizontal else value,
        "color": {"value": PALETTE[0]},
        "opacity": _opacity(),
        "tooltip": _tooltip(shape, [key, metric]),
    }
    bar = {"mark": {"type": "bar", "cornerRadiusEnd": 2}, "encoding": encoding}
    spec: dict[str, Any] = {"data": {"values": records}}
    if horizontal:
        spec["height"] = _bands(len(order), 24 if len(order) <= 15 else 18)
    if not labels:
        return {**spec, **bar}
    text = {
        "mark": {
            "type": "text",
            "align": "left" if horizontal else "center",
            "baseline": "middle" if horizontal else "bottom",
            "dx": 4 if horizontal else 0,
            "dy": 0 if horizontal else -3,
            "fontSize": 12,
        },
        "encoding": {
            "x": encoding["x"],
            "y": encoding["y"],
            "text": {"field": metric.name + TEXT, "type": "nominal"},
        },
    }
    return {**spec, "layer": [bar, text]}


def _grouped_bars(shape, key, metrics, records, order, horizontal) -> dict[str, Any]:
    """Several metrics of one unit side by side per member (e.g. revenue and gross profit)."""
    values = [
        {
            key.name: r[key.name],
            "series": shape.label(m),
            "value": r.get(m.name),
            "text": r.get(m.name + TEXT),
        }
        for r in records
        for m in metrics
    ]
    category = {"field": key.name, "type": "nominal", "sort": order, "title": None}
    if not horizontal:
        category["axis"] = {"labelAngle": _angle(order, 8)}
    value = {
        "field": "value",
        "type": "quantitative",
        "axis": _axis(metrics[0].unit, shape.lang, _unit_title(metrics, shape.lang)),
    }
    series = [shape.label(m) for m in metrics]
    offset = {"field": "series", "sort": series}
    encoding = {
        "x": value if horizontal else category,
        "y": category if horizontal else value,
        ("yOffset" if horizontal else "xOffset"): offset,
        "color": {"field": "series", "type": "nominal", "sort": series, "title": None},
        "opacity": _opacity(),
        "tooltip": [
            {"field": key.name, "type": "nominal", "title": shape.label(key)},
            {"field": "series", "type": "nominal", "title": None},
            {"field": "text", "type": "nominal", "title": _unit_title(metrics, shape.lang)},
        ],
    }
    spec: dict[str, Any] = {"data": {"values": values}, "mark": "bar", "encoding": encoding}
    if horizontal:
        spec["height"] = _bands(len(order), 14 * len(metrics))
    return spec


def _shares(shape: _Shape) -> dict[str, Any]:
    """Shares of a whole: a donut for a few slices, otherwise bars of the share."""
    key = shape.cats[0]
    share = shape.shares[0]
    metric = next((m for m in shape.metrics if m.source == share.source), shape.metrics[0])
    order = _ordered(shape, key.name, share.name)
    if len(order) > MAX_DONUT:
        order, note = _capped(shape, key.name, share.name)
        keep = set(order)
        records = [r for r in shape.records if r[key.name] in keep]
        bars = _bars(shape, key, share, records, order, True, labels=True)
        return {"title": _title(shape, [share], note), **_selectable(bars, [key.name])}
    tooltip = _tooltip(shape, [key, metric, share])
    base = {
        "theta": {"field": share.name, "type": "quantitative", "stack": True},
        "order": {"field": share.name, "type": "quantitative", "sort": "descending"},
    }
    arcs = {
        "mark": {"type": "arc", "innerRadius": 70, "outerRadius": 130, "stroke": "#ffffff"},
        "params": [_selection([key.name])],
        "encoding": {
            **base,
            "color": {"field": key.name, "type": "nominal", "sort": order, "title": None},
            "opacity": _opacity(),
            "tooltip": tooltip,
        },
    }
    labels = {
        "mark": {"type": "text", "radius": 155, "fontSize": 13},
        "encoding": {
            **base,
            "text": {"field": share.name + TEXT, "type": "nominal"},
        },
    }
    center_text = format_value(
        sum(r.get(metric.name) or 0 for r in shape.records), metric.unit, shape.lang, True
    )
    center = {
        "data": {"values": [{"total": center_text, "label": shape.label(metric)}]},
        "layer": [
            {
                "mark": {"type": "text", "fontSize": 20, "fontWeight": "bold", "dy": -8},
                "encoding": {"text": {"field": "total", "type": "nominal"}},
            },
            {
                "mark": {"type": "text", "fontSize": 12, "dy": 14, "color": "#666666"},
                "encoding": {"text": {"field": "label", "type": "nominal"}},
            },
        ],
    }
    return {
        "title": _title(shape, [share]),
        "width": 340,
        "height": 340,
        "layer": [{"data": {"values": shape.records}, "layer": [arcs, labels]}, center],
    }


def _two_categories(shape: _Shape) -> dict[str, Any]:
    """Stacked bars for amounts over a few sub-members; a heatmap for rates or many cells."""
    first, second = shape.cats
    panels = []
    for index, metric in enumerate(shape.metrics):
        outer = _ordered(shape, first.name, metric.name)[:MAX_BARS]
        inner = _ordered(shape, second.name, metric.name)[:MAX_BARS]
        keep_outer, keep_inner = set(outer), set(inner)
        records = [
            r for r in shape.records if r[first.name] in keep_outer and r[second.name] in keep_inner
        ]
        stack = metric.unit in ADDITIVE and len(inner) <= 10
        records = [{**r, "__rank": inner.index(r[second.name])} for r in records]
        panel = (
            _stacked(shape, first, second, metric, records, outer, inner)
            if stack
            else _heatmap(shape, first, second, metric, records, outer, inner)
        )
        if index == 0:
            _selectable(panel, [first.name])
        panels.append(panel)
    return _stack(panels, shape, shape.metrics)


def _stacked(shape, first, second, metric, records, outer, inner) -> dict[str, Any]:
    horizontal = _horizontal(outer)
    category = {"field": first.name, "type": "nominal", "sort": outer, "title": None}
    if not horizontal:
        category["axis"] = {"labelAngle": _angle(outer, 8)}
    value = {
        "field": metric.name,
        "type": "quantitative",
        "stack": "zero",
        "axis": _axis(metric.unit, shape.lang, _unit_title([metric], shape.lang)),
    }
    spec: dict[str, Any] = {
        "data": {"values": records},
        "mark": "bar",
        "encoding": {
            "x": value if horizontal else category,
            "y": category if horizontal else value,
            "color": {
                "field": second.name,
                "type": "nominal",
                "sort": inner,
                "title": shape.label(second),
            },
            # Every bar stacks its members in the same order (the largest overall first).
            "order": {"field": "__rank", "type": "quantitative", "sort": "ascending"},
            "opacity": _opacity(),
            "tooltip": _tooltip(shape, [first, second, metric]),
        },
    }
    if horizontal:
        spec["height"] = _bands(len(outer), 24)
    return spec


def _heatmap(shape, first, second, metric, records, outer, inner) -> dict[str, Any]:
    color_scale = {"scheme": "blues"} if shape.good_when_up(metric) else {"scheme": "reds"}
    base = {
        "y": {"field": first.name, "type": "nominal", "sort": outer, "title": None},
        "x": {
            "field": second.name,
            "type": "nominal",
            "sort": inner,
            "title": None,
            "axis": {"orient": "top", "labelAngle": -30 if len(inner) > 6 else 0},
        },
    }
    layers: list[dict[str, Any]] = [
        {
            "mark": "rect",
            "encoding": {
                **base,
                "color": {
                    "field": metric.name,
                    "type": "quantitative",
                    "scale": color_scale,
                    "legend": {
                        **_axis(metric.unit, shape.lang, shape.label(metric)),
                        "orient": "right",
                    },
                },
                "opacity": _opacity(),
                "tooltip": _tooltip(shape, [first, second, metric]),
            },
        }
    ]
    if len(records) <= 120:
        layers.append(
            {
                "mark": {"type": "text", "fontSize": 11},
                "encoding": {
                    **base,
                    "text": {"field": metric.name + TEXT, "type": "nominal"},
                    "color": {
                        "condition": {
                            "test": f"datum['{metric.name}'] > {_midpoint(records, metric.name)}",
                            "value": "#ffffff",
                        },
                        "value": "#222222",
                    },
                },
            }
        )
    return {
        "data": {"values": records},
        "height": {"step": 26},
        "width": {"step": 78},
        "layer": layers,
    }


def _midpoint(records: list[dict[str, Any]], field: str) -> float:
    values = [r[field] for r in records if r.get(field) is not None]
    return (min(values) + max(values)) / 2 if values else 0.0


# --- compared with budget or another period --------------------------------------------------
def _compared(shape: _Shape) -> dict[str, Any]:
    """Bars with target ticks (budget, or a category vs another period); lines over time."""
    key = shape.dims[0]
    timed = key.grain is not None
    panels = []
    for index, metric in enumerate(shape.metrics):
        compare = shape.companions.get((metric.source, "compare"))
        if compare is None:
            continue
        fields = [key.name, key.name + ISO] if timed else [key.name]
        if timed and shape.compare_kind == "period":
            panel = _with_points(
                _compared_lines(shape, key, metric, compare), fields if index == 0 else None
            )
        else:
            panel = _target_bars(shape, key, metric, compare, timed)
            if index == 0:
                _selectable(panel, fields)
        panels.append(panel)
    note = ""
    if shape.compare_kind == "budget" or not timed:
        compare = next(c for c in shape.columns if c.kind == "compare")
        note = (
            f"柱：实际；黑色刻度：{_paren(shape.label(compare))}"
            if shape.zh
            else f"bars: actual; black ticks: {_paren(shape.label(compare))}"
        )
    return _stack(panels, shape, shape.metrics, note)


def _target_bars(shape, key, metric, compare, timed) -> dict[str, Any]:
    """Actual as bars, coloured better/worse than the target; the target as a tick mark."""
    up_good = shape.good_when_up(metric)
    what = _paren(shape.label(compare))
    verdicts = [_w(v, shape.lang).format(what=what) for v in ("better", "worse")]
    records = []
    for r in shape.records:
        actual, target = r.get(metric.name), r.get(compare.name)
        better = None if actual is None or target is None else (actual >= target) == up_good
        records.append(
            {
                **r,
                "verdict": "" if better is None else verdicts[0 if better else 1],
            }
        )
    if timed:
        order = list(
            dict.fromkeys(r[key.name] for r in sorted(records, key=lambda r: r[key.name + ISO]))
        )
        horizontal = False
        category = _time_x(shape, key, for_bars=True)
    else:
        order, _ = _capped(shape, key.name, metric.name)
        keep = set(order)
        records = [r for r in records if r[key.name] in keep]
        horizontal = _horizontal(order)
        category = {"field": key.name, "type": "nominal", "sort": order, "title": None}
        if not horizontal:
            category["axis"] = {"labelAngle": _angle(order, 8)}
    value_axis = _axis(metric.unit, shape.lang, _unit_title([metric], shape.lang))
    actual = {"field": metric.name, "type": "quantitative", "axis": value_axis}
    target = {"field": compare.name, "type": "quantitative"}
    tooltip = _tooltip(shape, [key, metric, compare]) + [
        {"field": c.name + TEXT, "type": "nominal", "title": shape.label(c)}
        for c in (
            shape.companions.get((metric.source, "change")),
            shape.companions.get((metric.source, "change_pct")),
        )
        if c is not None
    ]
    bars = {
        "mark": {"type": "bar", "cornerRadiusEnd": 2},
        "encoding": {
            "x": actual if horizontal else category,
            "y": category if horizontal else actual,
            "color": {
                "field": "verdict",
                "type": "nominal",
                "scale": {"domain": verdicts, "range": ["#66a96b", "#e07a6f"]},
                "title": None,
            },
            "opacity": _opacity(),
            "tooltip": tooltip,
        },
    }
    ticks = {
        "mark": {
            "type": "tick",
            "color": "#222222",
            "thickness": 3,
            "size": 18 if horizontal else 28,
        },
        "encoding": {
            "x": target if horizontal else category,
            "y": category if horizontal else target,
            "tooltip": tooltip,
        },
    }
    spec: dict[str, Any] = {"data": {"values": records}, "layer": [bars, ticks]}
    if horizontal:
        spec["height"] = _bands(len(order), 24)
    return spec


def _compared_lines(shape, key, metric, compare) -> dict[str, Any]:
    """This period solid, the comparison period dashed, on the same axis (same unit)."""
    current = _w("current", shape.lang)
    other = _paren(shape.label(compare))
    values = []
    for r in shape.records:
        for name, column in ((current, metric), (other, compare)):
            values.append(
                {
                    key.name: r[key.name],
                    key.name + ISO: r.get(key.name + ISO),
                    "series": name,
                    "value": r.get(column.name),
                    "text": r.get(column.name + TEXT),
                }
            )
    return {
        "data": {"values": values},
        "mark": {"type": "line", "strokeWidth": 2.5},
        "encoding": {
            "x": _time_x(shape, key),
            "y": {
                "field": "value",
                "type": "quantitative",
                "axis": _axis(metric.unit, shape.lang, _unit_title([metric], shape.lang)),
                "scale": {"zero": metric.unit != "percent"},
            },
            "color": {
                "field": "series",
                "type": "nominal",
                "sort": [current, other],
                "scale": {"range": [PALETTE[0], MUTED]},
                "title": None,
            },
            "strokeDash": {
                "field": "series",
                "type": "nominal",
                "sort": [current, other],
                "scale": {"range": [[1, 0], [5, 4]]},
                "title": None,
            },
            "tooltip": [
                {"field": key.name, "type": "ordinal", "title": shape.label(key)},
                {"field": "series", "type": "nominal", "title": None},
                {"field": "text", "type": "nominal", "title": shape.label(metric)},
            ],
        },
    }


# --- layout ---------------------------------------------------------------------------------------
def _stack(
    panels: list[dict[str, Any]],
    shape: _Shape,
    metrics: list[OutputColumn],
    note: str = "",
    side_by_side: bool = False,
) -> dict[str, Any] | None:
    """One panel as is; several stacked (or side by side for horizontal bars), each with its
    own y axis and the colour scales kept apart."""
    panels = [p for p in panels if p]
    if not panels:
        return None
    title = _title(shape, metrics, note)
    if len(panels) == 1:
        return {"title": title, **panels[0]}
    for panel in panels:
        if "height" not in panel:
            panel.setdefault("height", 220)
        if not side_by_side:
            panel.setdefault("width", 600)
    key = "hconcat" if side_by_side else "vconcat"
    return {"title": title, key: panels, "resolve": {"scale": {"color": "independent"}}}


def kpi_cards(spec: dict | None) -> list[dict] | None:
    """A KPI-card spec cut into one standalone spec per card, or None for any other chart.

    A page lays the cards out in a wrapping row, so a pack of seven cards fits any window
    (four fixed cards side by side needed 1,000 px and were cut off at 1,280)."""
    if not spec:
        return None
    cards = spec.get("hconcat") or spec.get("concat")
    if not cards or not all(_is_card(card) for card in cards):
        return None
    # "pad": the card keeps its own size (Streamlit's default "fit" would squeeze the view
    # into 230 × 136 including padding and push the last line out of the card).
    return [
        {
            "$schema": SCHEMA,
            **card,
            "autosize": {"type": "pad"},
            "padding": {"top": 1, "bottom": 1, "left": 1, "right": 1},
            "config": spec.get("config", _config()),
        }
        for card in cards
    ]


def _is_card(panel: dict) -> bool:
    values = (panel.get("data") or {}).get("values") or [{}]
    return isinstance(values[0], dict) and {"label", "value", "delta", "basis"} <= set(values[0])


def drillable(spec: dict | None) -> bool:
    """Whether the spec carries the `drill` selection (the UI then listens for clicks)."""
    if not isinstance(spec, dict):
        return False
    if any(p.get("name") == DRILL for p in spec.get("params", []) if isinstance(p, dict)):
        return True
    children = [c for key in ("layer", "hconcat", "vconcat", "concat") for c in spec.get(key, [])]
    return any(drillable(child) for child in children)


def for_streamlit(spec: dict | None) -> dict | None:
    """The spec with its top-level rows as a named dataset, for `st.vega_lite_chart`.

    Streamlit moves a spec's top-level `data.values` out of the spec and inserts those rows
    into the view only after vega-embed has run it once. That first run sees no rows, so each
    quantitative scale logs "Infinite extent for field …" in the browser console (three for a
    bar chart with value labels). Rows under `datasets` are put back into the spec before the
    view is built, so the first run already has them. The chart drawn is the same; the spec
    `chart()` returns keeps `data.values` for the CLI, the reports and the tests.
    """
    if not spec:
        return spec
    data = spec.get("data")
    if not isinstance(data, dict) or "values" not in data:
        return spec
    name = "rows"
    reference = {"name": name, **{k: v for k, v in data.items() if k != "values"}}
    datasets = {**spec.get("datasets", {}), name: data["values"]}
    return {**spec, "data": reference, "datasets": datasets}
