"""Auto-charts: the chart chosen for each kind of answer, on real answers from the demo.

Every spec is also validated against the Vega-Lite schema that ships with Altair.
"""

from __future__ import annotations

from typing import Any

import pytest
from altair.utils.schemapi import validate_jsonschema
from altair.vegalite.v6.schema import load_schema

from assistant import Assistant
from assistant.charts import (
    BAD,
    DRILL,
    FONT,
    GOOD,
    ISO,
    MAX_BARS,
    MAX_SERIES,
    chart,
    drillable,
    for_streamlit,
    time_label,
)
from semantic_layer.engine import DuckDBEngine

SCHEMA = load_schema()


@pytest.fixture(scope="module")
def assistant(demo_db) -> Assistant:
    return Assistant.demo(database=demo_db)


def spec_for(assistant: Assistant, question: str, lang: str | None = None) -> dict[str, Any]:
    """The chart of a real answer, drawn with the model and query, checked against the schema."""
    answer = assistant.ask(question)
    assert answer.status == "ok", (question, answer.message)
    spec = chart(
        answer.columns,
        answer.rows,
        lang or answer.lang,
        model=assistant.model,
        query=answer.query,
    )
    assert spec is not None, question
    validate_jsonschema(spec, SCHEMA)
    return spec


def units(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every unit view (one with a mark) in a spec, depth first."""
    found = [spec] if "mark" in spec else []
    for key in ("layer", "hconcat", "vconcat", "concat"):
        for child in spec.get(key, []):
            found += units(child)
    return found


def marks(spec: dict[str, Any]) -> list[str]:
    return [u["mark"] if isinstance(u["mark"], str) else u["mark"]["type"] for u in units(spec)]


def data_of(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of the first view that has data."""
    if "data" in spec:
        return spec["data"]["values"]
    for key in ("layer", "hconcat", "vconcat", "concat"):
        for child in spec.get(key, []):
            rows = data_of(child)
            if rows:
                return rows
    return []


def bar(spec: dict[str, Any]) -> dict[str, Any]:
    return next(u for u in units(spec) if marks(u) == ["bar"])


def line(spec: dict[str, Any]) -> dict[str, Any]:
    """The line (or area) of a time chart; its points are the next layer."""
    return next(u for u in units(spec) if marks(u)[0] in ("line", "area"))


def points(spec: dict[str, Any]) -> dict[str, Any]:
    return next(u for u in units(spec) if marks(u) == ["point"])


# --- single values: KPI cards -----------------------------------------------------------------
def test_single_value_is_a_kpi_card(assistant):
    spec = spec_for(assistant, "今年的收入")
    (card,) = spec["hconcat"]
    assert set(marks(card)) == {"text"}
    values = card["data"]["values"][0]
    assert values["label"] == "营业收入" and values["value"] == "6.86亿"
    assert values["delta"] == "▲ 15.2%"  # a single number comes with last year's beside it
    assert not drillable(spec)
    first = spec_for(assistant, "2023年的收入")["hconcat"][0]["data"]["values"][0]
    assert first["delta"] == ""  # the first year of data: nothing to compare, no arrow


def test_kpi_delta_arrow_is_green_when_up_is_good_and_red_when_up_is_bad(assistant):
    revenue = spec_for(assistant, "今年收入同比")["hconcat"][0]["data"]["values"][0]
    assert revenue["delta"] == "▲ 15.2%" and revenue["color"] == GOOD
    assert revenue["basis"] == "去年同期 5.96亿"
    expenses = spec_for(assistant, "今年的费用同比")["hconcat"][0]["data"]["values"][0]
    assert expenses["delta"] == "▲ 7.2%" and expenses["color"] == BAD  # expenses up is bad
    margin = spec_for(assistant, "今年收入和毛利率同比")["hconcat"][1]["data"]["values"][0]
    assert margin["delta"] == "▼ 0.5 个百分点" and margin["color"] == BAD  # a rate moves in points


def test_kpi_without_the_model_counts_a_rise_as_good(assistant):
    answer = assistant.ask("今年的费用同比")
    spec = chart(answer.columns, answer.rows, "zh")
    assert spec["hconcat"][0]["data"]["values"][0]["color"] == GOOD


def test_kpi_against_budget_shows_attainment(assistant):
    card = spec_for(assistant, "2025年收入和预算比")["hconcat"][0]["data"]["values"][0]
    assert card["delta"] == "▲ 完成 101.5%" and card["basis"] == "预算 6.76亿"
    assert card["color"] == GOOD
    english = spec_for(assistant, "this year revenue vs budget")["hconcat"][0]["data"]["values"][0]
    assert english["value"] == "¥686.23M" and english["delta"] == "▲ 101.5% attained"


# --- time -----------------------------------------------------------------------------------------
def test_time_dimension_is_a_line(assistant):
    spec = spec_for(assistant, "2025年按月的收入")
    assert marks(spec) == ["line", "point"]
    x = line(spec)["encoding"]["x"]
    assert x["type"] == "ordinal" and len(x["sort"]) == 12
    assert x["sort"][:2] == ["2025-01", "2025-02"]
    params = points(spec)["params"]  # a click on a point drills into that month
    assert [p["name"] for p in params] == ["drill"]
    assert params[0]["select"]["fields"] == ["metric_time__month", "metric_time__month" + ISO]


def test_cumulative_period_is_an_area_of_the_running_total(assistant):
    answer = assistant.ask("本年累计收入按月")
    spec = spec_for(assistant, "本年累计收入按月")
    assert marks(spec) == ["area", "point"]
    values = [row["value"] for row in spec["data"]["values"]]
    assert values == sorted(values)  # running total
    assert values[-1] == pytest.approx(float(sum(r[1] for r in answer.rows)))
    assert "累计" in line(spec)["encoding"]["y"]["axis"]["title"]


def test_a_period_comparison_over_time_draws_the_other_period_dashed(assistant):
    spec = spec_for(assistant, "2025年按季度收入同比")
    assert marks(spec) == ["line", "point"]
    assert line(spec)["encoding"]["strokeDash"]["sort"] == ["本期", "去年同期"]
    assert [r["series"] for r in spec["data"]["values"][:2]] == ["本期", "去年同期"]
    assert line(spec)["encoding"]["x"]["sort"] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    assert drillable(spec)


def test_time_and_a_category_is_one_line_per_member(assistant):
    spec = spec_for(assistant, "近6个月各区域按月的收入")
    assert marks(spec) == ["line", "point"]
    assert line(spec)["encoding"]["color"]["field"] == "region"
    assert len(line(spec)["encoding"]["color"]["sort"]) == 7
    assert points(spec)["params"][0]["select"]["fields"] == ["region"]


def test_many_members_over_time_keep_the_largest_lines(assistant):
    spec = spec_for(assistant, "2025年按季度各产品的收入")
    assert len(line(spec)["encoding"]["color"]["sort"]) == MAX_SERIES
    assert "前10名（共" in spec["title"]["subtitle"]


def test_different_units_get_separate_panels_never_one_axis(assistant):
    spec = spec_for(assistant, "2025年按月的收入和毛利率")
    first, second = (line(panel) for panel in spec["vconcat"])
    assert "亿" in first["encoding"]["y"]["axis"]["labelExpr"]
    assert second["encoding"]["y"]["axis"]["format"] == ".1~%"
    by_region = spec_for(assistant, "2025年各区域收入和毛利率")
    assert len(by_region["vconcat"]) == 2
    yuan, percent = (bar(panel) for panel in by_region["vconcat"])
    assert yuan["encoding"]["y"]["field"] == "revenue"
    assert percent["encoding"]["y"]["field"] == "gross_margin"


def test_same_unit_metrics_share_one_axis(assistant):
    spec = spec_for(assistant, "2025年按月的收入和费用")
    assert "vconcat" not in spec and marks(spec) == ["line", "point"]
    assert line(spec)["encoding"]["color"]["field"] == "series"


# --- categories -----------------------------------------------------------------------------------
def test_one_category_is_a_bar_sorted_by_value(assistant):
    answer = assistant.ask("2025年各区域的毛利率")
    spec = spec_for(assistant, "2025年各区域的毛利率")
    bars = bar(spec)
    expected = [r[0] for r in sorted(answer.rows, key=lambda r: r[1], reverse=True)]
    assert bars["encoding"]["x"]["field"] == "region"  # 7 short labels: vertical
    assert bars["encoding"]["x"]["sort"] == expected
    assert bars["encoding"]["y"]["axis"]["format"] == ".1~%"
    assert "text" in marks(spec)  # few bars: value labels
    assert drillable(spec)


def test_many_or_long_categories_are_horizontal_and_capped(assistant):
    spec = spec_for(assistant, "2025年各客户的收入")
    bars = bar(spec)
    assert bars["encoding"]["y"]["field"] == "customer"  # horizontal
    assert len(bars["encoding"]["y"]["sort"]) == MAX_BARS
    assert "前30名（共800）" in spec["title"]["subtitle"]


def test_top_n_is_a_ranked_horizontal_bar_with_labels(assistant):
    answer = assistant.ask("2025年收入前5的客户")
    spec = spec_for(assistant, "2025年收入前5的客户")
    bars = bar(spec)
    assert bars["encoding"]["y"]["sort"] == [r[0] for r in answer.rows]
    assert marks(spec) == ["bar", "text"]
    lowest = spec_for(assistant, "毛利率最低的3个区域")
    answer = assistant.ask("毛利率最低的3个区域")
    assert bar(lowest)["encoding"]["y"]["sort"] == [r[0] for r in answer.rows]  # lowest first


def test_share_with_few_slices_is_a_donut(assistant):
    spec = spec_for(assistant, "2025年各渠道收入占比")
    assert "arc" in marks(spec)
    arc = next(u for u in units(spec) if marks(u) == ["arc"])
    assert arc["mark"]["innerRadius"] > 0
    assert arc["encoding"]["theta"]["field"] == "revenue__share"
    labels = [r["revenue__share" + "__text"] for r in data_of(spec)]
    assert labels == ["49.1%", "32.1%", "18.8%"]


def test_share_with_many_slices_is_a_bar(assistant):
    spec = spec_for(assistant, "2025年各行业收入占比")
    assert "arc" not in marks(spec) and "bar" in marks(spec)
    assert bar(spec)["encoding"]["x"]["field"] == "revenue__share"


def test_two_categories_of_an_amount_are_stacked_bars(assistant):
    spec = spec_for(assistant, "2025年各区域各渠道的收入")
    bars = bar(spec)
    assert bars["encoding"]["color"]["field"] == "channel"
    assert bars["encoding"]["y"]["stack"] == "zero"
    ranks = {(r["channel"], r["__rank"]) for r in spec["data"]["values"]}
    assert len(ranks) == 3  # every bar stacks the channels in the same order


def test_two_categories_of_a_rate_are_a_heatmap(assistant):
    spec = spec_for(assistant, "2025年各区域各产品线的毛利率")
    assert marks(spec) == ["rect", "text"]
    rect = units(spec)[0]
    assert rect["encoding"]["color"]["field"] == "gross_margin"
    assert rect["encoding"]["color"]["legend"]["format"] == ".1~%"


def test_budget_comparison_is_bars_with_target_ticks(assistant):
    spec = spec_for(assistant, "2025年各区域收入和预算比")
    assert marks(spec) == ["bar", "tick"]
    tick = units(spec)[1]
    assert tick["encoding"]["y"]["field"] == "revenue__compare"
    verdicts = {r["region"]: r["verdict"] for r in data_of(spec)}
    assert verdicts["华东"] == "好于预算" and verdicts["华中"] == "差于预算"
    assert "黑色刻度：预算" in spec["title"]["subtitle"]
    monthly = spec_for(assistant, "2025年按月的收入和预算比")
    assert marks(monthly) == ["bar", "tick"]
    assert units(monthly)[0]["encoding"]["x"]["sort"][0] == "2025-01"


def test_period_comparison_by_category_colours_better_and_worse(assistant):
    spec = spec_for(assistant, "2025年各部门的费用同比")
    verdicts = {r["verdict"] for r in data_of(spec)}
    assert verdicts <= {"好于去年同期", "差于去年同期"}
    answer = assistant.ask("2025年各部门的费用同比")
    names = answer.names
    for row, record in zip(answer.rows, data_of(spec), strict=False):
        rose = row[names.index("expenses")] > row[names.index("expenses__compare")]
        assert record["verdict"] == ("差于去年同期" if rose else "好于去年同期")  # lower is better


# --- language, fonts, edge cases --------------------------------------------------------------------
def test_axes_read_wan_and_yi_in_chinese_and_k_m_b_in_english(assistant):
    zh = bar(spec_for(assistant, "2025年各区域的收入"))["encoding"]["y"]["axis"]
    assert "'亿'" in zh["labelExpr"] and "'万'" in zh["labelExpr"]
    en = bar(spec_for(assistant, "2025 revenue by region"))["encoding"]["y"]["axis"]
    assert "'M'" in en["labelExpr"] and "¥" in en["labelExpr"] and "亿" not in en["labelExpr"]
    assert en["title"] == "Revenue (¥)"


def test_fonts_render_chinese(assistant):
    spec = spec_for(assistant, "2025年各区域的毛利率")
    assert spec["config"]["font"] == FONT and "Noto Sans CJK SC" in FONT
    assert spec["config"]["axis"]["labelFont"] == FONT
    assert spec["title"]["text"] == "毛利率 · 按区域"


def test_no_chart_without_rows_or_for_three_categories(assistant):
    answer = assistant.ask("2025年各区域的收入")
    assert chart(answer.columns, [], "zh") is None
    many = assistant.ask("2025年各区域各渠道各产品线的收入")
    assert many.status == "ok" and chart(many.columns, many.rows, "zh") is None


def test_time_labels():
    from datetime import date

    assert time_label(date(2025, 4, 1), "quarter", "zh") == "2025Q2"
    assert time_label(date(2025, 3, 1), "month", "en") == "2025-03"
    assert time_label(date(2024, 12, 30), "week", "zh") == "2025-W01"
    assert time_label(date(2025, 1, 1), "year", "zh") == "2025"


def test_the_answer_carries_a_chart(assistant):
    answer = assistant.ask("2025年各区域的毛利率")
    assert answer.chart is not None and drillable(answer.chart)
    assert DRILL == "drill"


@pytest.mark.parametrize(
    "question",
    [
        "今年收入同比",
        "2025年各区域的毛利率",
        "本年累计收入按月",
        "2025年按月的收入和毛利率",
        "2025年各渠道收入占比",
        "2025年各区域各产品线的毛利率",
        "2025年各区域收入和预算比",
        "2025 revenue by month vs last year",
    ],
)
def test_every_kind_of_chart_renders_offline(assistant, question):
    """Rendered by vl-convert (as the CLI and reports do): no error, and the labels are there."""
    vl_convert = pytest.importorskip("vl_convert")
    spec = spec_for(assistant, question)
    svg = vl_convert.vegalite_to_svg(spec)
    assert svg.startswith("<svg") and "<text" in svg
    answer = assistant.ask(question)
    metric = next(c for c in answer.columns if c.kind == "metric")
    assert metric.label.get(answer.lang) in svg


def test_a_metric_whose_value_is_text_draws_without_a_number():
    """A model may define a metric as the MAX of a text column: the chart shows the text and
    plots nothing for it, instead of failing the answer."""
    from semantic_layer.compiler import OutputColumn
    from semantic_layer.model import Label

    columns = (
        OutputColumn("region", "dimension", "region", Label(zh="区域", en="Region")),
        OutputColumn("top_product", "metric", "top_product", Label(zh="最畅销", en="Top"), None),
    )
    spec = chart(columns, [("华东", "X1 手机"), ("华南", None)], "zh")
    assert spec is None or isinstance(spec, dict)


# --- in the browser: what keeps Vega-Lite from warning in the console ----------------------------
def test_streamlit_gets_the_rows_as_a_named_dataset(assistant):
    """Streamlit inserts a spec's top-level `data.values` only after the view's first run (each
    quantitative scale then warns "Infinite extent"); named datasets are in the spec from the
    start. The rows and the rest of the spec are the same; the spec given is left as it was."""
    spec = spec_for(assistant, "2025年各区域的毛利率")
    rows = spec["data"]["values"]
    shown = for_streamlit(spec)
    assert shown is not None
    assert shown["data"] == {"name": "rows"} and shown["datasets"] == {"rows": rows}
    assert {k: v for k, v in shown.items() if k not in ("data", "datasets")} == {
        k: v for k, v in spec.items() if k != "data"
    }
    assert spec["data"] == {"values": rows}  # unchanged: the CLI and reports read this one
    validate_jsonschema(shown, SCHEMA)
    panels = spec_for(assistant, "2025年各区域的收入和毛利率")  # rows in each panel: as is
    assert "data" not in panels and for_streamlit(panels) is panels
    assert for_streamlit(None) is None


def test_no_fit_is_asked_where_vega_lite_cannot_fit(assistant):
    """A page that stretches a chart asks Vega-Lite to fit it unless the spec says how; it
    cannot fit a concatenation or a side sized by step, and warns. Horizontal bars get a fixed
    height (a band a member) and fit their width; heatmaps and panels keep their own size."""
    customers = spec_for(assistant, "2025年各客户的收入")  # 30 long bars, 18 px each
    assert customers["height"] == MAX_BARS * 18
    assert customers["autosize"] == {"type": "fit-x", "contains": "padding"}
    top = spec_for(assistant, "2025年收入前5的客户")
    assert top["height"] == 5 * 24 and top["autosize"]["type"] == "fit-x"
    heatmap = spec_for(assistant, "2025年各区域各产品线的毛利率")
    assert heatmap["width"] == {"step": 78} and heatmap["autosize"] == {"type": "pad"}
    for question in ("2025年各区域的收入和毛利率", "2025年收入和毛利率前5的客户"):
        panels = spec_for(assistant, question)
        assert {"vconcat", "hconcat"} & set(panels) and panels["autosize"] == {"type": "pad"}
    assert "autosize" not in spec_for(assistant, "2025年各区域的毛利率")  # the page fits it
    for question in ("2025年各客户的收入", "2025年收入前5的客户", "2025年各区域收入和预算比"):
        for unit in units(spec_for(assistant, question)):  # no step left inside a panel
            assert not isinstance(unit.get("height"), dict), question


def test_an_english_page_charts_members_by_their_english_names(assistant, demo_db):
    """With the answer's `labels`, the bars say East for 华东, as the table and the sentence
    do; a click on a bar then asks about East (a Chinese name would get a Chinese answer)."""
    answer = assistant.ask("2025年各区域的毛利率")
    spec = chart(
        answer.columns,
        answer.rows,
        "en",
        model=assistant.model,
        query=answer.query,
        labels=answer.labels,
    )
    assert spec is not None
    validate_jsonschema(spec, SCHEMA)
    with DuckDBEngine(demo_db) as engine:
        english = dict(engine.execute("SELECT region_name, region_name_en FROM regions").rows)
    order = [english[row[0]] for row in answer.rows]  # highest margin first, as asked
    assert bar(spec)["encoding"]["x"]["sort"] == order
    assert [r["region"] for r in data_of(spec)] == order
    chinese = spec_for(assistant, "2025年各区域的毛利率", "en")  # without labels: as stored
    assert bar(chinese)["encoding"]["x"]["sort"] == [row[0] for row in answer.rows]
