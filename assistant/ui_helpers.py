"""What the Streamlit app shows, as pure functions (testable without Streamlit).

The app pages (`app_pages/`) only lay these out: the UI strings in both languages, the formatted
table (¥ and 万/亿, %, points, periods by name; a KPI pack one metric per row; month × member
as a pivot), the CSV and Excel downloads (with number formats), the HTML report of a summary,
the chips restating what an answer computed (and the answer without a removed filter), the
follow-up questions offered under an answer, the drill-down question for a clicked member,
and the searchable metric catalog (指标中心).
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from assistant.answer import Answer
from assistant.charts import ISO
from assistant.formatting import (
    format_change_pct,
    format_money,
    format_points,
    format_value,
    money_scale,
    period_label,
)
from semantic_layer.catalog import catalog
from semantic_layer.compiler import OutputColumn
from semantic_layer.model import Grain, SemanticModel
from semantic_layer.query import Compare

# --- UI strings ------------------------------------------------------------------------------
UI: dict[str, tuple[str, str]] = {
    "title": ("经营驾驶舱", "Cockpit"),
    "tagline": (
        "用中文或英文提问，答案来自统一口径的指标中心，附图表、口径与 SQL。",
        "Ask in Chinese or English; every answer comes from the governed metric layer, "
        "with a chart, its definition and the SQL.",
    ),
    "input": ("问一个经营问题", "Ask a business question"),
    "language": ("语言", "Language"),
    "data_source": ("数据源", "Data source"),
    "model_name": ("数据：{name}", "Data: {name}"),
    "database": ("数据库", "Database"),
    "as_of": ("数据截至（今天）", "As-of date (today)"),
    "as_of_help": (
        "“今年”“上月”等相对时间按这个日期解析。",
        "Relative periods such as 'this year' or 'last month' resolve against this date.",
    ),
    "role": ("角色", "Role"),
    "all_data": ("全部数据", "All data"),
    "role_help": (
        "角色决定能看到的数据范围（行级权限）。",
        "The role decides which rows you may see (row-level security).",
    ),
    "catalog": ("指标中心", "Metric catalog"),
    "search": ("搜索指标", "Search metrics"),
    "search_placeholder": ("名称、同义词或口径", "name, synonym or definition"),
    "no_match": ("没有匹配的指标。", "No metric matches."),
    "unit": ("单位", "Unit"),
    "definition": ("口径", "Definition"),
    "synonyms": ("同义词", "Synonyms"),
    "higher_better": ("越高越好", "higher is better"),
    "lower_better": ("越低越好", "lower is better"),
    "llm": ("LLM 状态", "LLM status"),
    "new_chat": ("新对话", "New conversation"),
    "examples": ("试试这些问题", "Try these questions"),
    "headline": ("核心指标 · {period} · 同比", "Headline numbers · {period} · year over year"),
    "details": ("口径与 SQL", "Definition and SQL"),
    "interpretation": ("理解为", "Understood as"),
    "timings": ("用时", "Time"),
    "csv": ("下载 CSV", "Download CSV"),
    "excel": ("下载 Excel", "Download Excel"),
    "followups": ("接着问", "Follow up"),
    "suggestions": ("可以这样问", "You could ask"),
    "drill_hint": (
        "点击图中的柱或点可下钻到该成员。",
        "Click a bar or point to drill into that member.",
    ),
    "thinking": ("正在计算…", "Working…"),
    "as_of_changed": ("数据截至日期已改为 {day}", "As-of date changed to {day}"),
    "rows": ("{n} 行", "{n} rows"),
    "tech": ("技术细节", "Technical details"),
    "tech_help": (
        "显示数据库文件、LLM 状态和每个答案各阶段的用时。",
        "Show the database file, the LLM status and each answer's stage timings.",
    ),
    "report": ("下载报告（HTML）", "Download report (HTML)"),
    "computed": ("计算口径", "Computed"),
    "headline_left_out": ("当前角色无权查看：{names}", "Not visible to this role: {names}"),
    "remove_filter": ("去掉这个筛选，重新计算", "Remove this filter and ask again"),
    "without_filter": ("去掉筛选：{text}", "without the filter: {text}"),
    "row": ("{n} 行", "{n} row"),
}

UNITS = {
    "yuan": ("元", "¥ (CNY)"),
    "percent": ("百分比", "percent"),
    "count": ("个", "count"),
    "units": ("件", "units"),
    "days": ("天", "days"),
    "ratio": ("比值", "ratio"),
}


def example_questions(assistant: Any, lang: str) -> list[str]:
    """The welcome page's example questions: the model's own (declared in its `knowledge:`
    section, else built from its metric and dimension labels), in the page's language."""
    from semantic_layer import knowledge

    counts = {name: len(values) for name, values in assistant.lexicon.values.items()}
    examples = [e.get(lang) for e in knowledge.examples(assistant.model, counts)]
    written = assistant.model.as_of  # the "today" the model's examples were written for
    shift = assistant.as_of.year - written.year if written is not None else 0
    if shift:
        # As of 2024-06-30, "2025年各区域的毛利率" asks about a year that has not happened:
        # the years an example names move with the as-of date.
        examples = [_shift_years(text, shift) for text in examples]
    return examples


def _shift_years(text: str, shift: int) -> str:
    """2025年各区域的毛利率 → 2024年各区域的毛利率 (shift −1); 'in 2025' → 'in 2024'."""
    return re.sub(r"(?<!\d)(19|20)(\d{2})(?!\d)", lambda m: str(int(m.group()) + shift), text)


def _this_year(assistant: Any) -> Any:
    from datetime import date, timedelta

    from semantic_layer.query import TimeRange

    start = date(assistant.as_of.year, 1, 1)
    return TimeRange(start=start, end=assistant.as_of + timedelta(days=1), label="今年")


def headline_question(assistant: Any, lang: str) -> str:
    """The welcome page's KPI cards: the first three headline metrics over the model's
    default period (this year when it has none) against the year before."""
    from semantic_layer import knowledge

    model = assistant.model
    from assistant.insights.summary import usable_kpis

    # What this viewer can see and what has dates: a role or an undated metric never empties
    # the cards, it only leaves that metric out.
    names = [
        model.metric(m).label.get(lang) for m in usable_kpis(assistant, _this_year(assistant))[:3]
    ]
    window = knowledge.default_window(model, assistant.as_of)
    period = window.label if window.start is not None else None
    if lang == "zh":
        listed = (
            "、".join(names[:-1]) + ("和" if len(names) > 1 else "") + names[-1] if names else ""
        )
        return f"{period.zh if period else '今年'}{listed}同比"
    listed = (
        ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1] if names else ""
    )
    return f"{period.en if period else 'this year'} {listed.lower()} year over year"


def headline_left_out(assistant: Any, lang: str) -> list[str]:
    """The headline metrics the welcome cards leave out for this viewer (a role that may not
    see 费用), by label — said under the cards rather than silently skipped."""
    from assistant.insights.summary import usable_kpis
    from semantic_layer import knowledge

    model = assistant.model
    usable = usable_kpis(assistant, _this_year(assistant))
    wanted = knowledge.kpis(model)
    shown = usable[:3]
    if not shown:
        return [model.metric(m).label.get(lang) for m in wanted[:3]]
    last = wanted.index(shown[-1]) if shown[-1] in wanted else len(wanted) - 1
    return [model.metric(m).label.get(lang) for m in wanted[: last + 1] if m not in usable]


LEFT_OUT = ("未包含", "Left out")


def left_out_notes(answer: Answer) -> list[str]:
    """The notes saying what an answer left out (a summary without the metrics a role may not
    see): shown with the answer, not only inside 口径."""
    return [note for note in answer.notes if note.startswith(LEFT_OUT)]


def logo_spec() -> dict[str, Any]:
    """The app's logo, a cockpit gauge, as a Vega-Lite spec (no data: it draws at once)."""
    half = math.pi / 2
    zones = [(-half, -0.3 * math.pi, "#e45756"), (-0.3 * math.pi, 0.2 * math.pi, "#f2b01e")]
    zones.append((0.2 * math.pi, half, "#54a24b"))
    center = {"x": {"value": 34}, "y": {"value": 34}}

    def arc(start: float, end: float, inner: int, outer: int, color: str) -> dict[str, Any]:
        mark = {"type": "arc", "theta": start, "theta2": end, "color": color}
        mark |= {"innerRadius": inner, "outerRadius": outer, "cornerRadius": 1}
        return {"data": {"values": [{}]}, "mark": mark, "encoding": center}

    layers = [arc(start, end, 21, 31, color) for start, end, color in zones]
    layers.append(arc(0.5, 0.6, 0, 27, "#1f2937"))  # the needle, in the green
    hub = {"type": "point", "filled": True, "size": 60, "color": "#1f2937", "opacity": 1}
    layers.append({"data": {"values": [{}]}, "mark": hub, "encoding": center})
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "width": 68,
        "height": 38,
        "layer": layers,
        "config": {"view": {"stroke": None}},
        "description": "Cockpit",
    }


def t(key: str, lang: str, **values: Any) -> str:
    """A UI string in the chosen language."""
    text = UI[key][0 if lang == "zh" else 1]
    return text.format(**values) if values else text


# --- tables and downloads ----------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """One table cell and what it means: the raw value (for CSV), how to write it for people
    (the table) and which number format it gets (Excel)."""

    value: Any
    kind: str  # dimension | label | metric | compare | change | change_pct | share
    unit: str | None = None
    grain: str | None = None
    base: Any = None  # a change_pct's comparison value: no percentage against zero or below
    scale: tuple[float, str] = (1.0, "")
    spec: str | None = None

    def text(self, lang: str) -> str:
        """The cell for people: ¥19,254.62万, 29.1%, +1.2个百分点, 2025年3月."""
        value, unit = self.value, self.unit
        if self.kind == "dimension" and self.grain is not None and isinstance(value, date):
            return period_label(value, self.grain, lang)
        if self.kind == "dimension" and self.unit == "severity" and value in SEVERITY:
            return SEVERITY[value][0 if lang == "zh" else 1]
        if self.kind in ("dimension", "label"):
            # A member is shown as the data writes it: policy 31003000336, not ¥31,003,000,336.
            return "" if value is None else str(value)
        if self.kind == "change_pct":
            return format_change_pct(value, self.base)
        if unit == "yuan":
            return format_money(value, self.scale, signed=self.kind == "change")
        if unit == "percent" and self.kind == "change":
            return format_points(value, lang)
        if unit == "percent":
            return format_value(value, "percent", lang)
        text = format_value(value, unit, lang, spec=self.spec)
        if self.kind == "change" and value is not None and float(value) > 0:
            return "+" + text
        return text

    def data(self) -> Any:
        """The cell as data (CSV): numbers stay numbers, dates ISO, no meaningless %."""
        value = self.value
        if self.kind == "change_pct" and self.base is not None and float(self.base) <= 0:
            return None
        if isinstance(value, Decimal):
            return float(value)
        if isinstance(value, date):
            return value.isoformat()[:10]
        return value


SEVERITY = {
    "critical": ("严重", "Critical"),
    "warning": ("警告", "Warning"),
    "info": ("提示", "Info"),
}

COMPANION_HEADERS = {
    "change": ("增减", "Change"),
    "change_pct": ("变化率", "Change %"),
    "share": ("占比", "Share"),
}


def _date_grain(answer: Answer, index: int) -> str | None:
    """A date column without a grain whose every value is a month's first day (an anomaly's
    月份) holds months: it reads 2025年12月, not 2025-12-01."""
    if answer.columns[index].kind != "dimension":
        return None
    values = [row[index] for row in answer.rows if row[index] is not None]
    if values and all(isinstance(v, date) and v.day == 1 for v in values):
        return "month"
    return None


def _long_form(answer: Answer) -> bool:
    """A one-row answer of several metrics (the executive summary's KPI pack) reads as a table
    with one metric per row, not one row of 28 columns."""
    metrics = [c for c in answer.columns if c.kind == "metric"]
    return (
        len(answer.rows) == 1
        and len(metrics) > 1
        and not any(c.kind == "dimension" for c in answer.columns)
    )


def _money_scales(answer: Answer, lang: str) -> dict[str, tuple[float, str]]:
    """One scale per metric, shared by its value, comparison and change columns."""
    values: dict[str, list[Any]] = {}
    for i, column in enumerate(answer.columns):
        if column.unit == "yuan" and column.kind in ("metric", "compare", "change"):
            values.setdefault(column.source, []).extend(row[i] for row in answer.rows)
    return {source: money_scale(found, lang) for source, found in values.items()}


def table_cells(answer: Answer, lang: str) -> tuple[list[str], list[list[Cell]]]:
    """The answer as headers and typed cells, read alike by the table, the CSV and Excel."""
    columns = list(answer.columns)
    scales = _money_scales(answer, lang)
    names = [c.name for c in columns]
    grains = [
        c.grain.value if c.grain is not None else _date_grain(answer, i)
        for i, c in enumerate(columns)
    ]

    # Members by their English names on an English page (East for 华东).
    members = answer.labels if lang == "en" else {}

    def cell(row: tuple, i: int) -> Cell:
        column = columns[i]
        base = None
        if column.kind == "change_pct":
            compare = f"{column.source}__compare"
            base = row[names.index(compare)] if compare in names else None
        value = row[i]
        if column.kind == "dimension" and column.source in members and value is not None:
            value = members[column.source].get(str(value), value)
        return Cell(
            value,
            column.kind,
            "severity"
            if column.kind == "dimension" and column.source == "severity"
            else column.unit,
            grains[i],
            base,
            scales.get(column.source, (1.0, "")),
            column.format,
        )

    if not _long_form(answer):
        headers = [_header(c, lang, columns) for c in columns]
        return headers, [[cell(row, i) for i in range(len(columns))] for row in answer.rows]

    row = answer.rows[0]
    kinds: list[str] = []  # companion kinds in the order they first appear
    for column in columns:
        if column.kind != "metric" and column.kind not in kinds:
            kinds.append(column.kind)
    zh = lang == "zh"
    headers = ["指标" if zh else "Metric", "本期" if zh else "Value"]
    for kind in kinds:
        if kind == "compare":
            first = next(c for c in columns if c.kind == "compare")
            headers.append(_paren(first.label.get(lang)))
        else:
            headers.append(COMPANION_HEADERS.get(kind, (kind, kind))[0 if zh else 1])
    body = []
    for i, column in enumerate(columns):
        if column.kind != "metric":
            continue
        line = [Cell(column.label.get(lang), "label"), cell(row, i)]
        for kind in kinds:
            name = f"{column.source}__{kind}"
            line.append(cell(row, names.index(name)) if name in names else Cell(None, "label"))
        body.append(line)
    return headers, body


def _paren(label: str) -> str:
    """ "营业收入（上期）" → "上期"; "Revenue (previous period)" → "Previous period"."""
    for opening, closing in (("（", "）"), ("(", ")")):
        if opening in label and label.endswith(closing):
            inner = label[label.rindex(opening) + 1 : -1]
            return inner[:1].upper() + inner[1:]
    return label


MAX_PIVOT_COLUMNS = 12  # more members than this read better as a list


def table_frame(answer: Answer, lang: str):
    """The answer as a table for people: headers in `lang`, money in ¥ and 万/亿 (K/M/B),
    rates as %, changes of rates in points, periods by name; a KPI pack one metric per row;
    one metric over time by one category as a pivot (months down, members across)."""
    import pandas as pd

    headers, body = table_cells(answer, lang)
    frame = _pivot(answer, headers, body, lang)
    if frame is None:
        frame = pd.DataFrame([[c.text(lang) for c in line] for line in body], columns=headers)
        numbers = [
            h for h, c in zip(headers, body[0] if body else [], strict=False) if c.kind not in TEXT
        ]
    else:
        numbers = list(frame.columns[1:])
    # The columns of figures, for the page to align right (the cells are text: ¥1.93亿).
    frame.attrs["numbers"] = numbers
    return frame


TEXT = ("dimension", "label")


def _pivot(answer: Answer, headers: list[str], body: list[list[Cell]], lang: str):
    """Month × region as 12 rows × 7 columns instead of an 84-row list: one time column, one
    category column and one metric, nothing else; members ordered by their total, largest
    first (the chart's legend order)."""
    import pandas as pd

    kinds = [c.kind for c in answer.columns]
    times = [i for i, c in enumerate(answer.columns) if c.kind == "dimension" and c.grain]
    cats = [i for i, c in enumerate(answer.columns) if c.kind == "dimension" and not c.grain]
    if not (len(times) == 1 and len(cats) == 1 and kinds.count("metric") == 1 and len(kinds) == 3):
        return None
    (t_i,), (c_i,) = times, cats
    m_i = kinds.index("metric")
    members: dict[str, float] = {}
    periods: dict[Any, str] = {}
    grid: dict[tuple[Any, str], str] = {}
    for line in body:
        member = line[c_i].text(lang)
        value = line[m_i].value
        members[member] = members.get(member, 0.0) + (0.0 if value is None else float(value))
        periods.setdefault(line[t_i].value, line[t_i].text(lang))
        grid[(line[t_i].value, member)] = line[m_i].text(lang)
    if len(members) > MAX_PIVOT_COLUMNS or len(grid) < len(body):  # repeated pairs: a list
        return None
    order = sorted(members, key=lambda m: -members[m])
    ordered = sorted(periods, key=lambda p: (p is None, p))
    rows = [[periods[p], *(grid.get((p, m), "—") for m in order)] for p in ordered]
    return pd.DataFrame(rows, columns=[headers[t_i], *order])


def export_frame(answer: Answer, lang: str):
    """The answer as data (numbers stay numbers) for CSV, headers in `lang`."""
    import pandas as pd

    headers, body = table_cells(answer, lang)
    return pd.DataFrame([[c.data() for c in line] for line in body], columns=headers)


def _header(column: OutputColumn, lang: str, columns: list[OutputColumn]) -> str:
    label = column.label.get(lang)
    same = [c for c in columns if c.label.get(lang) == label]
    return label if len(same) == 1 else f"{label} ({column.name})"


def csv_bytes(answer: Answer, lang: str) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese text correctly."""
    return export_frame(answer, lang).to_csv(index=False).encode("utf-8-sig")


def excel_format(cell: Cell, lang: str) -> tuple[Any, str | None]:
    """(value, number format) for an Excel cell: the number itself with a format saying how
    to show it — ¥ with separators, 0.0%, points, dates by grain — never 0.2906129347522709."""
    zh = lang == "zh"
    value = cell.data()
    if cell.kind == "dimension" and isinstance(cell.value, date):
        if cell.grain in ("quarter", "week"):  # Excel has no format for these: their names
            return period_label(cell.value, cell.grain, lang), None
        formats = {
            "year": "yyyy",
            "month": 'yyyy"年"m"月"' if zh else "mmm yyyy",
        }
        return cell.value, formats.get(cell.grain or "", "yyyy-mm-dd")
    if cell.kind in ("dimension", "label") or value is None:
        return value, None
    if cell.kind == "change_pct":
        return value, "+0.0%;-0.0%;0.0%"
    if cell.unit == "yuan":
        money = '"¥"#,##0.00'
        return value, (f"+{money};-{money};{money}" if cell.kind == "change" else money)
    if cell.unit == "percent" and cell.kind == "change":
        points = "个百分点" if zh else " pp"
        return float(value) * 100, f'+0.0"{points}";-0.0"{points}";0.0"{points}"'
    if cell.unit == "percent":
        return value, "0.0%"
    if cell.unit in ("count", "units"):
        return value, "#,##0"
    if cell.unit == "days":
        return value, "0.0"
    return value, "0.00" if isinstance(value, float) else None


def excel_bytes(answer: Answer, lang: str) -> bytes:
    """An .xlsx workbook: the data with number formats (currency, percent, points, dates),
    and a sheet with the question, what was computed, 口径 and SQL."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "data"
    headers, body = table_cells(answer, lang)
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [_display_width(h) for h in headers]
    for r, line in enumerate(body, start=2):
        for c, cell in enumerate(line, start=1):
            value, number_format = excel_format(cell, lang)
            target = sheet.cell(row=r, column=c, value=value)
            if number_format:
                target.number_format = number_format
            widths[c - 1] = max(widths[c - 1], _display_width(cell.text(lang)))
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=c).column_letter].width = min(
            width + 2, 60
        )
    sheet.freeze_panes = "A2"

    about = book.create_sheet("definition")
    zh = lang == "zh"
    items = [
        ("问题" if zh else "Question", answer.question),
        ("计算口径" if zh else "Computed", answer.restatement.get(lang, "")),
        (t("interpretation", lang), answer.interpretation),
        ("SQL", answer.sql or ""),
    ]
    for item in items:
        about.append(list(item))
    about.column_dimensions["A"].width = 14
    about.column_dimensions["B"].width = 100
    for row in about.iter_rows():
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: a CJK character is two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(text))


def file_stem(answer: Answer) -> str:
    """A safe file name from the question: 2025年各区域的毛利率 → cockpit-2025年各区域的毛利率."""
    stem = re.sub(r"[^\w\u4e00-\u9fff-]+", "-", answer.question).strip("-")[:40]
    return f"cockpit-{stem or 'answer'}"


# --- follow-ups and drill-down -------------------------------------------------------------------
@dataclass(frozen=True)
class FollowUp:
    """A question offered under an answer: the button's text is the question itself."""

    text: str
    kind: str  # drill | grain | compare | budget | dimension


def child_dimension(model: SemanticModel, dimension: str) -> str | None:
    """The next level down a hierarchy: region → customer, product_line → product."""
    return next((d.name for d in model.dimensions if d.parent == dimension), None)


def drill_question(
    answer: Answer, model: SemanticModel, dimension: str, member: str, lang: str | None = None
) -> str | None:
    """The question that drills into one member of a result dimension.

    A category with a child level asks "下钻 华东" / "drill into 华东" (→ customers of 华东);
    a category without one asks for that member's trend ("电商 按月看") or, when the answer is
    already over time, for that member alone ("只看电商"). A time member goes one grain down:
    a year by quarter, a quarter by month, a month by day ("2025年Q2按月看").
    """
    lang = lang or answer.lang
    zh = lang == "zh"
    column = next((c for c in answer.columns if c.name == dimension), None)
    if column is None or column.kind != "dimension" or not member:
        return None
    if column.grain is not None:
        return _time_drill(member, column.grain, zh)
    source = column.source
    metrics = answer.query.metrics if answer.query else []
    child = child_dimension(model, source)
    if child is not None and _reaches_all(model, metrics, child):
        return f"下钻 {member}" if zh else f"drill into {member}"
    timed = any(c.grain is not None for c in answer.columns if c.kind == "dimension")
    if timed:
        return f"只看{member}" if zh else f"only {member}"
    return f"{member} 按月看" if zh else f"{member} by month"


MONTHS = "January February March April May June July August September October November December"


def _time_drill(member: str, grain: Grain, zh: bool) -> str | None:
    """`member` is the member's first day (ISO) or its axis label (2025Q2, 2025-03, 2025)."""
    match = re.match(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$", member) or None
    quarter = re.match(r"^(\d{4})Q([1-4])$", member)
    if quarter:
        year, q = int(quarter.group(1)), int(quarter.group(2))
        month = (q - 1) * 3 + 1
    elif match:
        year = int(match.group(1))
        month = int(match.group(2) or 1)
        q = (month - 1) // 3 + 1
    else:
        return None
    if grain is Grain.year:
        return f"{year}年按季度看" if zh else f"by quarter for {year}"
    if grain is Grain.quarter:
        return f"{year}年Q{q}按月看" if zh else f"by month for {year} Q{q}"
    if grain is Grain.month:
        name = MONTHS.split()[month - 1]
        return f"{year}年{month}月按天看" if zh else f"by day for {name} {year}"
    return None


def drill_from_selection(
    answer: Answer, model: SemanticModel, selection: dict[str, Any], lang: str | None = None
) -> str | None:
    """The drill question for a chart selection: {"drill": [{"region": "华东"}]}."""
    points = selection.get("drill") if isinstance(selection, dict) else None
    if not points or not isinstance(points, list) or not isinstance(points[0], dict):
        return None
    point = points[0]
    for column in answer.columns:
        if column.kind != "dimension":
            continue
        if column.name + ISO in point:
            return drill_question(answer, model, column.name, str(point[column.name + ISO]), lang)
        if column.name in point:
            return drill_question(answer, model, column.name, str(point[column.name]), lang)
    return None


def _reaches_all(model: SemanticModel, metrics: list[str], dimension: str) -> bool:
    cat = catalog(model)
    return all(cat.reaches(m, dimension) for m in metrics)


def top_member(answer: Answer, dimension: str) -> str | None:
    """The member with the largest first metric (the natural one to drill into)."""
    names = answer.names
    metric = next((c.name for c in answer.columns if c.kind == "metric"), None)
    if metric is None or dimension not in names:
        return None
    i, j = names.index(dimension), names.index(metric)
    totals: dict[str, float] = {}
    for row in answer.rows:
        if row[i] is None or row[j] is None:
            continue
        totals[str(row[i])] = totals.get(str(row[i]), 0.0) + float(row[j])
    return max(totals, key=lambda k: totals[k]) if totals else None


def followups(answer: Answer, model: SemanticModel, limit: int = 4) -> list[FollowUp]:
    """Questions worth asking next, in the answer's language: drill into the top member,
    a finer time grain, a comparison (同比, budget), another reachable dimension."""
    query = answer.query
    if answer.status != "ok" or query is None or not answer.rows:
        return []
    zh = answer.lang == "zh"
    offers: list[FollowUp] = []
    dims = [c for c in answer.columns if c.kind == "dimension"]
    cats = [c for c in dims if c.grain is None]
    times = [c for c in dims if c.grain is not None]

    for column in cats:  # drill into the largest member along the hierarchy
        child = child_dimension(model, column.source)
        member = top_member(answer, column.name)
        if member and not zh:  # by its English name: "drill into 华东" would be answered in Chinese
            member = answer.labels.get(column.source, {}).get(member, member)
        if child and member and _reaches_all(model, query.metrics, child):
            offers.append(FollowUp(f"下钻 {member}" if zh else f"drill into {member}", "drill"))
            break

    window = query.time_range
    if not times and window is not None and window.days > 31:
        offers.append(FollowUp("按月看" if zh else "by month", "grain"))
    elif times and times[0].grain in (Grain.year, Grain.quarter):
        finer = "quarter" if times[0].grain is Grain.year else "month"
        word = {"quarter": "按季度看", "month": "按月看"}[finer]
        offers.append(FollowUp(word if zh else f"by {finer}", "grain"))

    if query.compare is Compare.none and window is not None:
        offers.append(FollowUp("同比" if zh else "year over year", "compare"))
        if any(model.metric(m).budget for m in query.metrics):
            offers.append(FollowUp("和预算比" if zh else "vs budget", "budget"))

    used = {d.name for d in query.dimensions} | {f.dimension for f in query.filters}
    for dimension in model.dimensions:
        if (
            dimension.type != "category"
            or dimension.parent is not None
            or dimension.name in used
            or not _reaches_all(model, query.metrics, dimension.name)
        ):
            continue
        label = dimension.label.get(answer.lang)
        if cats:
            text = f"换成按{label}看" if zh else f"by {label.lower()} instead"
        else:
            text = f"按{label}看" if zh else f"by {label.lower()}"
        offers.append(FollowUp(text, "dimension"))
        break
    return offers[:limit]


# --- the metric catalog (指标中心) --------------------------------------------------------------
@dataclass(frozen=True)
class CatalogEntry:
    name: str
    label: str
    definition: str
    unit: str
    synonyms: tuple[str, ...]
    higher_is_better: bool


def metric_catalog(model: SemanticModel, search: str = "", lang: str = "zh") -> list[CatalogEntry]:
    """The model's metrics matching `search` (name, labels, synonyms or definition)."""
    needle = search.strip().lower()
    entries = []
    for metric in model.metrics:
        definition = metric.description.get(lang) if metric.description else ""
        haystack = " ".join(
            [
                metric.name,
                metric.label.zh,
                metric.label.en,
                *metric.synonyms,
                metric.description.zh if metric.description else "",
                metric.description.en if metric.description else "",
            ]
        ).lower()
        if needle and not all(word in haystack for word in needle.split()):
            continue
        entries.append(
            CatalogEntry(
                name=metric.name,
                label=metric.label.get(lang),
                definition=definition,
                unit=UNITS.get(metric.unit, (metric.unit, metric.unit))[0 if lang == "zh" else 1],
                synonyms=tuple(metric.synonyms),
                higher_is_better=metric.higher_is_better,
            )
        )
    return entries


def role_options(model: SemanticModel, lang: str, configured: str | None = None) -> dict[str, str]:
    """Role name → label: "*" (all data) and every role of the model, or only the role the
    configuration sets (a deployment for one role must not offer the others)."""
    labels = {r.name: r.title(lang) for r in model.roles}
    if configured is not None:
        return {configured: labels.get(configured, configured)}
    return {"*": t("all_data", lang), **labels}


def in_language(text: str, lang: str) -> str:
    """One side of a bilingual "中文 / English" message."""
    zh, sep, en = text.partition(" / ")
    return text if not sep else (zh if lang == "zh" else en)


def md_escape(text: str) -> str:
    """Text shown as Markdown literally ($ would start a formula, * or _ emphasis)."""
    return re.sub(r"([\\`*_~$#<>\[\]])", r"\\\1", text)


STAGES = {
    "understand": "理解",
    "llm": "LLM",
    "compile": "编译",
    "execute": "执行",
    "present": "呈现",
    "insights": "分析",
}


def timings_text(answer: Answer, lang: str) -> str:
    """ "用时 8.1 ms（理解 1.2 · 编译 2.0 · 执行 4.1 · 呈现 0.8）" — stage names in `lang`."""
    if not answer.timings:
        return ""
    total = sum(answer.timings.values()) * 1000
    zh = lang == "zh"
    parts = " · ".join(
        f"{STAGES.get(k, k) if zh else k} {v * 1000:.1f}" for k, v in answer.timings.items()
    )
    return (
        f"{t('timings', lang)} {total:.1f} ms（{parts}）"
        if zh
        else f"{t('timings', lang)} {total:.1f} ms ({parts})"
    )


def rows_text(n: int, lang: str) -> str:
    """ "7 行" / "7 rows" / "1 row"."""
    return t("row" if n == 1 else "rows", lang, n=n)


def interpretation_lines(answer: Answer, lang: str) -> list[str]:
    """The 口径 lines as shown (present.interpretation already writes a grain as 按月 in
    Chinese and "(month)" in English)."""
    return [line for line in answer.interpretation.splitlines() if line.strip()]


# --- what was computed, as chips -----------------------------------------------------------------
@dataclass(frozen=True)
class Chip:
    """One part of what an answer computed: metric, filter, period, breakdown, comparison,
    ranking or what a follow-up kept; a filter chip knows its filter (to remove it)."""

    text: str
    kind: str  # part | filter | kept
    filter_index: int | None = None


def chips(answer: Answer, model: SemanticModel, lang: str) -> list[Chip]:
    """The answer's restatement (`Answer.restatement`) cut into chips, the filters marked so
    the page can offer to remove each, and what a follow-up kept from the previous question."""
    from assistant.present import _filter_text, restatement

    query = answer.query
    if answer.status != "ok" or query is None:
        return []
    line = answer.restatement.get(lang) or restatement(query, model, answer.labels).get(lang, "")
    filters = {}
    for i, f in enumerate(query.filters):
        try:
            filters[_filter_text(f, model, lang, answer.labels)] = i
        except KeyError:  # a filter on something the model does not name: not removable
            continue
    out = [
        Chip(part, "filter", filters[part]) if part in filters else Chip(part, "part")
        for part in line.split(" · ")
        if part
    ]
    for note in answer.notes:
        for prefix in ("沿用上一问：", "Kept from the previous question: "):
            if note.startswith(prefix):
                out.append(Chip(note, "kept"))
    return out


def badge_text(text: str) -> str:
    """A chip's text for `st.badge` (which escapes brackets itself): other Markdown literal."""
    return re.sub(r"([\\`*_~$#<>])", r"\\\1", text)


def without_filter(assistant: Any, answer: Answer, index: int, lang: str) -> Answer:
    """The answer's query asked again without its `index`-th filter (a removed filter chip).
    The question shown says what changed; the audit log gets its line like any question."""
    import time

    from assistant.present import _filter_text

    assert answer.query is not None
    removed = answer.query.filters[index]
    query = answer.query.model_copy(
        update={"filters": [f for i, f in enumerate(answer.query.filters) if i != index]}
    )
    text = _filter_text(removed, assistant.model, lang, answer.labels)
    change = t("without_filter", lang, text=text)
    question = f"{answer.question}（{change}）" if lang == "zh" else f"{answer.question} ({change})"
    started = time.perf_counter()
    result = assistant.run(query, question, lang, notes=[change[:1].upper() + change[1:]])
    assistant.audit.record(result, assistant.role, time.perf_counter() - started)
    return result


def report_html(assistant: Any, answer: Answer, lang: str) -> bytes:
    """The executive summary of the answer's period as the HTML `cockpit report` writes."""
    from assistant.insights.report import render

    assert answer.query is not None and answer.query.time_range is not None
    return render(assistant, answer.query.time_range, lang, "html").encode("utf-8")


def has_report(answer: Answer) -> bool:
    """Whether the answer is an executive summary (so its HTML report can be downloaded)."""
    from semantic_layer.query import Intent

    query = answer.query
    return (
        answer.status == "ok"
        and query is not None
        and query.intent is Intent.summary
        and query.time_range is not None
    )
