"""The Streamlit chat app, driven headless with AppTest on the real demo database, and the
pure helpers it renders with (tables, downloads, follow-ups, drill-down, the catalog)."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
from app_cards import kpi_cards
from streamlit.testing.v1 import AppTest

from assistant import Assistant
from assistant.ui_helpers import (
    UI,
    csv_bytes,
    drill_from_selection,
    drill_question,
    example_questions,
    excel_bytes,
    file_stem,
    followups,
    headline_question,
    in_language,
    md_escape,
    metric_catalog,
    role_options,
    table_frame,
)

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def app(demo_db, monkeypatch) -> AppTest:
    monkeypatch.setenv("COCKPIT_DATABASE", str(demo_db))
    monkeypatch.setenv("COCKPIT_LANG", "zh")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    return at


@pytest.fixture(scope="module")
def assistant(demo_db) -> Assistant:
    return Assistant.demo(database=demo_db)


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception
    return at


def last_answer(at: AppTest):
    return at.chat_message[-1]


def texts(block) -> str:
    """Every Markdown, caption and alert text inside a block."""
    parts = []
    for kind in ("markdown", "caption", "info", "warning", "error"):
        parts += [e.value for e in block.get(kind)]
    return "\n".join(parts)


def charts(block) -> list[dict]:
    return [json.loads(e.proto.spec) for e in block.get("vega_lite_chart")]


def buttons(block) -> dict[str, object]:
    return {b.label: b for b in block.get("button")}


# --- the app ------------------------------------------------------------------------------------
def test_welcome_page_shows_headline_kpis_examples_and_the_sidebar(app, assistant):
    assert "华锐科技" in app.title[0].value
    assert [b.label for b in app.main.get("button")] == example_questions(assistant, "zh")
    assert len(example_questions(assistant, "zh")) == 6  # the demo model's own examples
    assert app.sidebar.header[0].value == "经营驾驶舱"
    (logo,) = charts(app.sidebar)
    assert {layer["mark"]["type"] for layer in logo["layer"]} == {"arc", "point"}
    # One chart per KPI card, laid out in a wrapping row (never one fixed 1,000 px panel).
    cards = kpi_cards(app.main)
    assert [c["label"] for c in cards] == ["营业收入", "毛利率", "费用"]
    assert app.sidebar.radio[0].value == "zh"
    assert app.sidebar.date_input[0].value == date(2025, 12, 31)
    sidebar = texts(app.sidebar)
    # The database file and the LLM status are developer details, behind a toggle.
    assert ".duckdb" not in sidebar and "LLM" not in sidebar
    (tech,) = app.sidebar.toggle
    assert tech.label == "技术细节" and tech.value is False
    tech.set_value(True).run()
    sidebar = texts(app.sidebar)
    assert ".duckdb" in sidebar and "LLM" in sidebar


def test_ask_a_question_renders_narrative_chart_table_sql_downloads_and_followups(app):
    ask(app, "2025年各区域的毛利率")
    answer = last_answer(app)
    assert "毛利率最高的是 华北（29.6%）" in texts(answer)
    (spec,) = charts(answer)
    assert spec["mark"]["type"] == "bar" if "mark" in spec else spec["layer"][0]["mark"]
    frame = answer.dataframe[0].value
    assert list(frame.columns) == ["区域", "毛利率"]
    assert len(frame) == 7 and frame.iloc[0].tolist() == ["华北", "29.6%"]
    assert "7 行" in texts(answer)
    assert any("SELECT" in c.value for c in answer.get("code"))
    assert "期间: 2025年（2025-01-01 – 2025-12-31）" in texts(answer.expander[0])
    downloads = [e.proto.label for e in answer.get("download_button")]
    assert downloads == ["下载 CSV", "下载 Excel"]
    assert {"下钻 华北", "按月看", "同比"} <= set(buttons(answer))


def test_followup_button_and_typed_followup_continue_the_conversation(app):
    ask(app, "2025年各区域的毛利率")
    buttons(last_answer(app))["按月看"].click().run()
    assert not app.exception
    answer = last_answer(app)
    frame = answer.dataframe[0].value
    # Month × region is a pivot (months down, regions across), not an 84-row list.
    assert list(frame.columns)[0] == "时间" and len(frame.columns) == 1 + 7 and len(frame) == 12
    assert frame.iloc[0, 0] == "2025年1月" and frame.iloc[2, 0] == "2025年3月"
    assert "7 行" not in texts(answer) and "12 行" in texts(answer)
    (spec,) = charts(answer)
    assert spec["layer"][0]["mark"]["type"] == "line"  # one line per region
    ask(app, "只看华东")
    frame = last_answer(app).dataframe[0].value
    assert list(frame.columns) == ["时间", "毛利率"] and len(frame) == 12


def test_drill_button_asks_for_the_member_along_the_hierarchy(app):
    ask(app, "2025年各区域的收入")
    buttons(last_answer(app))["下钻 华东"].click().run()
    answer = last_answer(app)
    assert app.chat_message[-2].text[0].value == "下钻 华东"
    frame = answer.dataframe[0].value
    assert list(frame.columns) == ["客户", "营业收入"] and len(frame) > 50
    assert "区域 = 华东" in texts(answer.expander[0])


def test_followup_of_an_earlier_answer_starts_from_that_answer(app):
    ask(app, "2025年各区域的收入")
    ask(app, "今年的费用")
    first = app.chat_message[1]
    buttons(first)["同比"].click().run()
    frame = last_answer(app).dataframe[0].value
    assert list(frame.columns)[:2] == ["区域", "营业收入"]  # revenue by region, not expenses
    assert "营业收入（去年同期）" in frame.columns


def test_clarification_suggestions_are_buttons_that_ask_them(app):
    ask(app, "预算")
    answer = last_answer(app)
    assert "可以指多个指标" in texts(answer)
    offered = buttons(answer)
    assert "今年的收入预算" in offered
    offered["今年的收入预算"].click().run()
    assert not app.exception
    assert app.chat_message[-2].text[0].value == "今年的收入预算"
    assert "收入预算为" in texts(last_answer(app))


def test_refusal_is_a_warning_with_suggestions_never_a_number(app):
    ask(app, "收入 by 部门")
    answer = last_answer(app)
    assert answer.warning and "无法按「部门」分析" in answer.warning[0].value
    assert not answer.get("dataframe") and not charts(answer)
    assert "各部门的费用" in buttons(answer)


def test_switch_language_to_english(app):
    ask(app, "2025年各区域的毛利率")
    app.sidebar.radio[0].set_value("en").run()
    assert not app.exception
    assert app.sidebar.header[0].value == "Cockpit"
    assert app.sidebar.date_input[0].label == "As-of date (today)"
    answer = last_answer(app)
    assert list(answer.dataframe[0].value.columns) == ["Region", "Gross margin"]
    (spec,) = charts(answer)
    assert spec["title"]["text"] == "Gross margin · by region"  # the chart follows the page
    assert {e.proto.label for e in answer.get("download_button")} == {
        "Download CSV",
        "Download Excel",
    }
    ask(app, "revenue by region in 2025")
    assert "highest Revenue is East" in texts(last_answer(app))  # the model's English name
    # The member by its English name: "drill into 华东" would be answered in Chinese.
    assert "drill into East" in buttons(last_answer(app))


def test_switch_role_scopes_the_answers(app, assistant):
    (role,) = app.sidebar.selectbox
    labels = [r.label.zh for r in assistant.model.roles]
    assert role.label == "角色" and role.options == ["全部数据", *labels]
    ask(app, "今年的收入")
    assert "营业收入为6.86亿" in texts(last_answer(app))
    if "east_manager" not in {r.name for r in assistant.model.roles}:
        return
    role.set_value("east_manager").run()
    assert not app.exception
    ask(app, "2025年各区域的收入")
    frame = last_answer(app).dataframe[0].value
    assert frame["区域"].tolist() == ["华东"]  # the role sees its region only
    ask(app, "今年的费用")
    assert "权限" in texts(last_answer(app))  # expenses are closed to the role: refused
    app.sidebar.selectbox[0].set_value("*").run()
    ask(app, "2025年各区域的收入")
    assert len(last_answer(app).dataframe[0].value) == 7


def test_as_of_date_changes_what_this_year_means(app):
    app.sidebar.date_input[0].set_value(date(2024, 12, 31)).run()
    assert not app.exception
    ask(app, "今年的收入")
    answer = last_answer(app)
    assert "2024-01-01 – 2024-12-31" in texts(answer.expander[0])
    assert "营业收入为5.96亿" in texts(answer)


def test_metric_catalog_search(app):
    app.sidebar.text_input[0].set_value("毛利").run()
    assert not app.exception
    shown = texts(app.sidebar)
    assert "**毛利率**" in shown and "毛利 ÷ 营业收入" in shown
    assert "`gross_margin`" not in shown  # a code name only among the technical details
    assert "应收账款余额" not in shown
    app.sidebar.toggle[0].set_value(True).run()
    assert "**毛利率** `gross_margin`" in texts(app.sidebar)
    app.sidebar.text_input[0].set_value("no such metric at all").run()
    assert "没有匹配的指标" in texts(app.sidebar)


def test_new_conversation_clears_the_chat(app, assistant):
    ask(app, "今年的收入")
    buttons(app.sidebar)["新对话"].click().run()
    assert not app.chat_message
    assert [b.label for b in app.main.get("button")] == example_questions(assistant, "zh")


def test_every_example_and_headline_question_is_answered(assistant):
    assert headline_question(assistant, "zh") == "今年营业收入、毛利率和费用同比"
    for lang in ("zh", "en"):
        for question in [*example_questions(assistant, lang), headline_question(assistant, lang)]:
            answer = assistant.ask(question)
            assert answer.status == "ok", (question, answer.message)
            assert answer.lang == lang


# --- helpers --------------------------------------------------------------------------------------
def test_table_formats_numbers_by_unit_and_labels_by_language(assistant):
    answer = assistant.ask("2025年各区域收入和毛利率")
    zh = table_frame(answer, "zh")
    assert list(zh.columns) == ["区域", "营业收入", "毛利率"]
    assert zh.iloc[0].tolist() == ["华东", "¥19,254.62万", "29.1%"]
    assert zh.attrs["numbers"] == ["营业收入", "毛利率"]  # the page aligns these right
    en = table_frame(answer, "en")
    assert list(en.columns) == ["Region", "Revenue", "Gross margin"]
    assert en.iloc[0].tolist() == ["East", "¥192.55M", "29.1%"]  # 华东 by its English name
    quarterly = assistant.ask("2025年按季度的收入")
    assert table_frame(quarterly, "zh").iloc[1, 0] == "2025年Q2"
    assert table_frame(quarterly, "en").iloc[3, 0] == "2025 Q4"


def test_csv_and_excel_downloads_keep_numbers_as_numbers(assistant):
    answer = assistant.ask("2025年各区域收入和毛利率")
    data = csv_bytes(answer, "zh")
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads the Chinese headers as UTF-8
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == "区域,营业收入,毛利率" and lines[1].startswith("华东,192546150.08,0.29")
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(excel_bytes(answer, "en")))
    assert book.sheetnames == ["data", "definition"]
    sheet = book["data"]
    assert [c.value for c in sheet[1]] == ["Region", "Revenue", "Gross margin"]
    assert sheet["B2"].value == pytest.approx(192546150.08)
    about = [row[1].value for row in book["definition"].iter_rows()]
    assert about[0] == "2025年各区域收入和毛利率" and "SELECT" in about[3]
    assert about[1] == "Revenue, Gross margin · 2025 · by region"  # what was computed
    assert file_stem(answer) == "cockpit-2025年各区域收入和毛利率"


@pytest.mark.parametrize(
    "question",
    [
        "2025年各区域的毛利率",
        "今年的收入",
        "2025年各产品线收入",
        "2025年按季度的收入",
        "今年的费用",
        "2025 revenue by region",
        "this year revenue",
    ],
)
def test_every_followup_offered_is_understood(assistant, question):
    conversation = assistant.conversation()
    answer = conversation.ask(question)
    offers = followups(answer, assistant.model)
    assert offers, question
    for offer in offers:
        conversation.state = answer.query
        follow = conversation.ask(offer.text)
        assert follow.status == "ok", (question, offer.text, follow.message)
        assert follow.query != answer.query, (question, offer.text)
        # The answer's language is the question's: "drill into 华东" reads as Chinese.
        assert follow.lang == answer.lang or offer.kind == "drill"


def test_followups_never_offered_for_answers_without_numbers(assistant):
    assert followups(assistant.ask("预算"), assistant.model) == []
    assert followups(assistant.ask("收入 by 部门"), assistant.model) == []


def test_drill_questions_follow_the_hierarchy(assistant):
    model = assistant.model
    regions = assistant.ask("2025年各区域的收入")
    assert drill_question(regions, model, "region", "华东") == "下钻 华东"
    assert drill_question(regions, model, "region", "华东", "en") == "drill into 华东"
    channels = assistant.ask("2025年各渠道的收入")
    assert drill_question(channels, model, "channel", "电商") == "电商 按月看"
    years = assistant.ask("近三年按年的收入")
    assert drill_question(years, model, "metric_time__year", "2024-01-01") == "2024年按季度看"
    quarters = assistant.ask("2025年按季度的收入")
    assert drill_question(quarters, model, "metric_time__quarter", "2025Q2") == "2025年Q2按月看"
    assert (
        drill_question(quarters, model, "metric_time__quarter", "2025-04-01", "en")
        == "by month for 2025 Q2"
    )
    months = assistant.ask("2025 revenue by month")
    assert drill_question(months, model, "metric_time__month", "2025-03-01") == (
        "by day for March 2025"
    )
    assert drill_question(regions, model, "no_such_column", "x") is None


def test_a_chart_click_drills_and_the_drill_is_understood(assistant):
    model = assistant.model
    conversation = assistant.conversation()
    regions = conversation.ask("2025年各区域的毛利率")
    question = drill_from_selection(regions, model, {"drill": [{"region": "华东"}]})
    assert question == "下钻 华东"
    drilled = conversation.ask(question)
    assert drilled.status == "ok" and drilled.columns[0].source == "customer"
    assert {f.dimension: f.values for f in drilled.query.filters} == {"region": ["华东"]}

    quarters = conversation.ask("2025年按季度的收入")
    point = {"metric_time__quarter": "2025Q3", "metric_time__quarter__iso": "2025-07-01"}
    question = drill_from_selection(quarters, model, {"drill": [point]})
    assert question == "2025年Q3按月看"
    months = conversation.ask(question)
    assert months.status == "ok" and len(months.rows) == 3
    assert drill_from_selection(quarters, model, {"drill": []}) is None
    assert drill_from_selection(quarters, model, {}) is None


def test_metric_catalog_searches_names_synonyms_and_definitions(assistant):
    model = assistant.model
    every = metric_catalog(model)
    assert len(every) == len(model.metrics)
    margin = next(e for e in every if e.name == "gross_margin")
    assert margin.label == "毛利率" and margin.unit == "百分比" and "gm" in margin.synonyms
    assert [e.name for e in metric_catalog(model, "gm%")] == ["gross_margin"]
    assert "dso" in [e.name for e in metric_catalog(model, "Days Sales")]
    found = {e.name: e for e in metric_catalog(model, "逾期", "en")}
    assert {"overdue_ar", "overdue_ratio"} <= set(found) and "revenue" not in found
    assert found["overdue_ratio"].label == "Overdue ratio"
    expenses = next(e for e in every if e.name == "expenses")
    assert expenses.higher_is_better is False


def test_roles_and_ui_strings(assistant):
    roles = {r.name: r.label for r in assistant.model.roles}
    assert role_options(assistant.model, "zh") == {
        "*": "全部数据",
        **{name: label.zh for name, label in roles.items()},
    }
    assert list(role_options(assistant.model, "en"))[0] == "*"
    assert role_options(assistant.model, "en")["*"] == "All data"
    if "east_manager" in roles:  # a configured role is the only one offered
        assert role_options(assistant.model, "zh", configured="east_manager") == {
            "east_manager": "华东区经理"
        }
    for key, (zh, en) in UI.items():
        assert zh and en, key
    assert md_escape("¥1.2M $3 *x*") == "¥1.2M \\$3 \\*x\\*"
    assert in_language("未配置 LLM / no LLM", "en") == "no LLM"
    assert in_language("未配置 LLM / no LLM", "zh") == "未配置 LLM"
    assert in_language("LLM: qwen", "zh") == "LLM: qwen"
