"""The chat as a business user sees it, driven headless with AppTest on the real demo: what an
answer computed shown as chips (a filter chip removed re-asks without it), developer details
behind the 技术细节 toggle, no English internals on the Chinese page, KPI cards that wrap."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assistant import Assistant
from assistant.ui_helpers import chips, interpretation_lines, table_frame, timings_text

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def app(demo_db, monkeypatch) -> AppTest:
    monkeypatch.setenv("COCKPIT_DATABASE", str(demo_db))
    monkeypatch.setenv("COCKPIT_LANG", "zh")
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception
    return at


@pytest.fixture(scope="module")
def assistant(demo_db) -> Assistant:
    return Assistant.demo(database=demo_db)


def ask(at: AppTest, question: str):
    at.chat_input[0].set_value(question).run()
    assert not at.exception
    return at.chat_message[-1]


def badges(block) -> list[str]:
    """The chips drawn as badges (st.badge is Markdown ":blue-badge[text]")."""
    found = []
    for element in block.get("markdown"):
        match = re.fullmatch(r":(\w+)-badge\[(?::material/\w+: )?(.*)\]", element.value, re.S)
        if match:
            found.append(match.group(2).replace("\\", ""))
    return found


def filter_chips(block) -> dict:
    return {b.label: b for b in block.get("button") if b.proto.help == "去掉这个筛选，重新计算"}


def texts(block) -> str:
    parts = []
    for kind in ("markdown", "caption", "info", "warning", "error"):
        parts += [e.value for e in block.get(kind)]
    return "\n".join(parts)


def values(frame) -> list[list[str]]:
    return frame.values.tolist()


# --- restatement chips ---------------------------------------------------------------------------
def test_every_answer_shows_what_it_computed_as_chips(app):
    answer = ask(app, "2025年华东各渠道的收入")
    assert badges(answer) == ["营业收入", "2025年", "按渠道"]
    assert list(filter_chips(answer)) == ["区域 = 华东"]
    assert "计算口径" in texts(answer)


def test_removing_a_filter_chip_asks_again_without_that_filter(app, assistant):
    answer = ask(app, "2025年华东各渠道的收入")
    east = values(answer.dataframe[0].value)
    assert east == values(table_frame(assistant.ask("2025年华东各渠道的收入"), "zh"))
    filter_chips(answer)["区域 = 华东"].click().run()
    assert not app.exception
    assert app.chat_message[-2].text[0].value == "2025年华东各渠道的收入（去掉筛选：区域 = 华东）"
    again = app.chat_message[-1]
    company = table_frame(assistant.ask("2025年各渠道的收入"), "zh")
    assert values(again.dataframe[0].value) == values(company)  # the whole company's numbers
    assert values(again.dataframe[0].value) != east
    assert not filter_chips(again) and badges(again) == ["营业收入", "2025年", "按渠道"]
    assert "去掉筛选：区域 = 华东" in texts(again.expander[0])
    # The conversation continues from the answer without the filter.
    follow = ask(app, "只看华南")
    south = table_frame(assistant.ask("2025年华南各渠道的收入"), "zh")
    assert values(follow.dataframe[0].value) == values(south)
    assert list(filter_chips(follow)) == ["区域 = 华南"]


def test_a_follow_up_says_what_it_kept_as_a_chip(app):
    ask(app, "2025年华东区的收入")
    answer = ask(app, "华南呢?")
    assert list(filter_chips(answer)) == ["区域 = 华南"]
    # The number comes with last year's beside it: the chips say so, as the 口径 line does.
    assert badges(answer) == ["营业收入", "2025年", "对比上年同期", "沿用上一问：2025年"]


def test_chips_follow_the_page_language(app):
    ask(app, "2025年华东各渠道的收入")
    app.sidebar.radio[0].set_value("en").run()
    answer = app.chat_message[-1]
    assert badges(answer) == ["Revenue", "2025", "by channel"]
    assert list(filter_chips(answer)) == []  # the English help text differs
    assert [b.label for b in answer.get("button") if b.proto.help][:1] == ["Region = East"]


def test_chips_of_a_summary_and_of_answers_without_numbers(app, assistant):
    summary = assistant.ask("给我一份本月经营概况")
    parts = [c.text for c in chips(summary, assistant.model, "zh")]
    assert parts[1:] == ["本月", "对比上期"] and parts[0].startswith("营业收入、毛利率")
    assert chips(assistant.ask("预算"), assistant.model, "zh") == []
    answer = ask(app, "预算")
    assert not badges(answer) and not filter_chips(answer)


# --- internals out of sight ----------------------------------------------------------------------
def test_the_chinese_page_shows_no_english_internals(app, assistant):
    answer = ask(app, "2025年按月的收入")
    details = texts(answer.expander[0])
    assert "按: 时间（按月）" in details and "（month）" not in details
    assert " ms" not in texts(answer)  # stage timings are developer details
    app.sidebar.toggle[0].set_value(True).run()
    shown = texts(app.chat_message[-1].expander[0])
    assert re.search(
        r"用时 [\d.]+ ms（理解 [\d.]+ · 编译 [\d.]+ · 执行 [\d.]+ · 呈现 [\d.]+）", shown
    )
    assert not re.search(r"understand|compile|execute|present", shown)
    english = assistant.ask("revenue by month in 2025")
    assert "understand" in timings_text(english, "en")
    assert any("(month)" in line for line in interpretation_lines(english, "en"))


def test_alert_severities_read_in_the_page_language(app):
    answer = ask(app, "当前有哪些预警")
    frame = answer.dataframe[0].value
    assert set(frame["严重程度"]) <= {"严重", "警告", "提示"} and "严重" in set(frame["严重程度"])
    assert "critical" not in texts(answer) + frame.to_string()


def test_one_row_is_one_row(app):
    assert "1 行" in texts(ask(app, "今年的收入"))
    app.sidebar.radio[0].set_value("en").run()
    answer = ask(app, "revenue this year")
    assert "1 row" in texts(answer) and "1 rows" not in texts(answer)
    assert "7 rows" in texts(ask(app, "revenue by region in 2025"))


# --- layout --------------------------------------------------------------------------------------
def test_kpi_cards_wrap_instead_of_a_fixed_wide_panel(app):
    answer = ask(app, "给我一份本月经营概况")
    specs = [json.loads(e.proto.spec) for e in answer.get("vega_lite_chart")]
    cards = [s for s in specs if s.get("width") == 230]
    assert len(cards) == 7  # one chart per KPI, each 230 px, laid out in a wrapping row
    assert not any(k in s for s in specs for k in ("hconcat", "concat", "vconcat"))
    assert all(s.get("width", 0) <= 640 for s in specs)


def test_a_metric_by_month_and_region_is_a_pivot(assistant):
    answer = assistant.ask("2025年各区域每月的毛利率")
    assert len(answer.rows) == 84
    frame = table_frame(answer, "zh")
    assert frame.shape == (12, 1 + 7)
    assert frame.attrs["numbers"] == list(frame.columns[1:])  # figures align right
    south_march = assistant.ask("2025年3月华南的毛利率")
    assert frame.set_index("时间").loc["2025年3月", "华南"] == "18.9%"
    assert f"{south_march.value():.1%}" == "18.9%"
    english = table_frame(answer, "en")
    names = answer.labels["region"]  # the regions' English names, from the model's column
    assert english.iloc[11, 0] == "Dec 2025"
    assert list(english.columns)[1:] == [names[c] for c in list(frame.columns)[1:]]
    # With a comparison or a second metric it stays a list: a pivot would hide columns.
    assert "区域" in table_frame(assistant.ask("2025年各区域每月的收入和毛利率"), "zh").columns


def test_a_card_on_a_negative_base_shows_the_change_not_a_percentage(assistant):
    from assistant.charts import kpi_cards

    summary = assistant.ask("给我一份本月经营概况")
    cards = {
        c["data"]["values"][0]["label"]: c["data"]["values"][0] for c in kpi_cards(summary.chart)
    }
    flow = cards["经营活动现金净流量"]
    december = assistant.ask("2025年12月的经营活动现金净流量").value()
    november = assistant.ask("2025年11月的经营活动现金净流量").value()
    assert november < 0 and december < november
    assert flow["delta"] == "▼ 516.46万" and "%" not in flow["delta"]
    assert f"{(float(november) - float(december)) / 1e4:,.2f}万" == "516.46万"
    assert cards["营业收入"]["delta"] == "▲ 26.0%"  # a positive base keeps its percentage
    assert cards["毛利率"]["delta"] == "▼ 0.2 个百分点"


def test_the_question_is_shown_as_typed(app):
    ask(app, "今年的收入 -- 按月 *全部*")
    (shown,) = app.chat_message[-2].text  # plain text: no Markdown turns "--" into "—"
    assert shown.value == "今年的收入 -- 按月 *全部*"
    assert not app.chat_message[-2].markdown


# --- roles -----------------------------------------------------------------------------------------
def test_a_role_sees_what_is_left_out_and_only_its_numbers(app, assistant):
    if "east_manager" not in {r.name for r in assistant.model.roles}:
        pytest.skip("the model has no east_manager role")
    app.sidebar.selectbox(key="chat_role").set_value("east_manager").run()
    assert not app.exception
    # The welcome cards say which headline metric the role cannot see.
    assert "当前角色无权查看：费用、营业利润" in [c.value for c in app.main.caption]
    answer = ask(app, "给我一份本月经营概况")
    left_out = "未包含（当前角色无权查看或该期间无数据）：费用、营业利润、经营活动现金净流量"
    assert any(left_out in c.value for c in answer.caption)  # said with the answer
    frame = answer.dataframe[0].value
    assert frame["指标"].tolist() == ["营业收入", "毛利率", "回款额", "逾期应收"]
    east = table_frame(assistant.ask("本月华东的营业收入"), "zh").iloc[0, 0]
    assert frame.iloc[0, 1] == east  # the role's revenue is 华东's
