"""Issue 16: the restatement says everything that was computed, and the sentence and the chart
never contradict it — filters (asked, excluded, or kept by a follow-up) and conditions on
values are said beside the period; bottom-N is not top-N; a why, an anomaly scan and the
alerts restate what they computed too. Real demo data, no mocks."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from assistant import Assistant
from assistant.cli import app
from assistant.formatting import format_value
from assistant.present import restatement, threshold
from assistant.settings import Settings
from semantic_layer.engine import DuckDBEngine
from semantic_layer.loader import load_model
from semantic_layer.query import Compare


@pytest.fixture(scope="module")
def assistant(demo_db, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return Assistant(load_model(), DuckDBEngine(demo_db), settings=Settings(cache_dir=cache))


def _ok(answer):
    assert answer.status == "ok", answer.message
    return answer


# --- 1. filters in the sentence and the chart --------------------------------------------------
def test_a_single_number_says_its_filter_beside_the_period(assistant):
    answer = _ok(assistant.ask("华东今年的收入"))
    amount = format_value(answer.value(), "yuan", "zh", compact=True)
    assert answer.narrative.startswith(f"今年（区域：华东），营业收入为{amount}")
    card = answer.chart["hconcat"][0]["data"]["values"][0]
    assert card["label"] == "营业收入（区域：华东）"


def test_a_breakdown_says_its_filter_in_the_sentence_and_the_subtitle(assistant):
    answer = _ok(assistant.ask("零售业客户的回款按渠道"))
    assert answer.narrative.startswith("今年（行业：零售）共 3 个渠道")
    assert answer.chart["title"]["subtitle"] == "今年 · 行业：零售"
    assert "行业 = 零售" in answer.restatement["zh"]


def test_a_balance_says_its_filter(assistant):
    answer = _ok(assistant.ask("信用等级为B的客户逾期多少"))
    assert "（信用等级：B）" in answer.narrative
    assert "信用等级 = B" in answer.restatement["zh"]


def test_an_exclusion_is_said_as_one(assistant):
    answer = _ok(assistant.ask("revenue excluding e-commerce by region this year"))
    assert answer.narrative.startswith("this year (Channel: excluding E-commerce): 7 region")
    assert answer.chart["title"]["subtitle"] == "this year · Channel: excluding E-commerce"
    # The region totals are those without the channel: less than the company's.
    everything = _ok(assistant.ask("revenue by region this year"))
    assert sum(r[1] for r in answer.rows) < sum(r[1] for r in everything.rows)


def test_an_english_sentence_names_members_in_english(assistant):
    answer = _ok(assistant.ask("retail customers' collections by channel this year"))
    assert answer.narrative.startswith("this year (Industry: Retail): 3 channel values")
    assert answer.chart["title"]["subtitle"] == "this year · Industry: Retail"


def test_a_follow_up_says_the_filter_it_changed_and_not_the_old_one(assistant):
    conversation = assistant.conversation()
    east = _ok(conversation.ask("华东今年的收入"))
    south = _ok(conversation.ask("那华南呢"))
    assert south.narrative.startswith("今年（区域：华南），营业收入为")
    assert "华东" not in south.narrative
    assert south.value() != east.value()


def test_a_comparison_by_member_is_in_the_sentence(assistant):
    answer = _ok(assistant.ask("各区域今年收入同比"))
    top = max(answer.rows, key=lambda r: r[answer.names.index("revenue")])
    pct = top[answer.names.index("revenue__change_pct")]
    assert f"{top[0]}（" in answer.narrative
    assert f"同比 {round(float(pct) * 100, 1):+.1f}%" in answer.narrative


# --- 2. why, anomalies, alerts -----------------------------------------------------------------
def test_a_why_restates_the_comparison_it_explains(assistant):
    answer = _ok(assistant.ask("为什么华东今年收入增长了"))
    assert answer.restatement == {
        "zh": "营业收入 · 区域 = 华东 · 今年 · 对比2024年 · 变化归因",
        "en": "Revenue · Region = East · this year · vs 2024 · what drove the change",
    }
    assert answer.narrative.startswith("今年（区域：华东）营业收入为")
    assert answer.chart["title"]["subtitle"] == "区域 = 华东 · 今年 · 对比2024年 · 变化归因"


def test_an_anomaly_scan_and_the_alerts_restate_what_they_computed(assistant):
    scan = _ok(assistant.ask("今年有哪些异常"))
    assert scan.restatement["zh"].endswith(" · 今年 · 逐月对比季节性预期（异常扫描）")
    assert "this year · each month vs its seasonal expectation" in scan.restatement["en"]
    named = _ok(assistant.ask("收入有什么异常"))
    assert named.restatement["zh"].startswith("营业收入 · 截至 2025-12-31 的近24个月")
    alerts = _ok(assistant.ask("有哪些预警"))
    rules = len(assistant.model.alerts)
    assert alerts.restatement["zh"] == f"预警规则（{rules} 条） · 截至 2025-12-31"


def test_the_cli_prints_a_why_answers_restatement_first(demo_db, tmp_path):
    result = CliRunner().invoke(
        app,
        ["ask", "为什么今年90天以上逾期增加了", "--db", str(demo_db)],
        env={"COCKPIT_CACHE_DIR": str(tmp_path)},
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "口径：90天以上逾期 · 今年 · 对比2024年 · 变化归因"


# --- 3. bottom-N ---------------------------------------------------------------------------------
def test_bottom_n_is_restated_as_bottom_n(assistant):
    zh = _ok(assistant.ask("今年收入最低的5个客户"))
    assert zh.restatement["zh"] == "营业收入 · 今年 · 按客户 · 后5"
    assert zh.restatement["en"].endswith("by customer · bottom 5")
    assert "取后 5 名（从低到高）" in zh.interpretation
    values = [r[1] for r in zh.rows]
    assert values == sorted(values)  # what "后5" says is what ran
    en = _ok(assistant.ask("bottom 3 regions by revenue this year"))
    assert en.restatement["en"] == "Revenue · this year · by region · bottom 3"
    assert en.restatement["zh"] == "营业收入 · 今年 · 按区域 · 后3"  # this year → 今年
    assert en.chart["title"]["subtitle"] == "this year · bottom 3"
    top = _ok(assistant.ask("2025年收入前5的客户"))
    assert top.restatement["zh"].endswith("· 前5")


# --- 4. conditions on values ---------------------------------------------------------------------
def test_a_threshold_reads_as_the_metric_shows_its_values():
    assert threshold(5e6, "yuan", "zh") == "500万"
    assert threshold(5e6, "yuan", "en") == "¥5M"
    assert threshold(12_345_000, "yuan", "zh") == "1,234.5万"
    assert threshold(0.3, "percent", "zh") == "30%"
    assert threshold(1000, "count", "en") == "1K"
    assert threshold(1000, "count", "zh") == "1,000"


def test_a_count_with_a_condition_restates_the_condition(assistant):
    answer = _ok(assistant.ask("今年收入超过500万的客户有几个"))
    assert answer.restatement["zh"] == "客户数 · 今年 · 营业收入 > 500万"
    assert answer.restatement["en"] == "Customer count · this year · Revenue > ¥5M"
    assert "条件: 营业收入 > 500万" in answer.interpretation
    assert "（营业收入 > 500万）" in answer.narrative
    # The count is the number of customers the same condition keeps.
    listed = assistant.run(
        answer.query.model_copy(update={"count_rows_as": None}), lang="zh", plain=True
    )
    assert answer.value() == len(listed.rows) > 0
    assert all(r[listed.names.index("revenue")] > 5_000_000 for r in listed.rows)


def test_a_condition_on_a_breakdown_is_restated_after_it(assistant):
    answer = _ok(assistant.ask("customers with revenue over 5 million this year"))
    assert answer.restatement["en"] == "Revenue · this year · by customer · Revenue > ¥5M"
    assert answer.restatement["zh"] == "营业收入 · 今年 · 按客户 · 营业收入 > 500万"
    assert "Condition: Revenue > ¥5M" in answer.interpretation
    assert answer.chart["title"]["subtitle"] == "this year · Revenue > ¥5M"
    assert "e+0" not in answer.interpretation + answer.narrative


# --- 5. the comparison set beside a single number ------------------------------------------------
def test_the_comparison_added_for_context_is_restated(assistant):
    answer = _ok(assistant.ask("华东今年的收入"))
    shown = answer.query.model_copy(update={"compare": Compare.yoy})
    line = restatement(answer.query, assistant.model, answer.labels, shown=shown)
    assert line["zh"] == "营业收入 · 区域 = 华东 · 今年 · 对比上年同期"
    assert line["en"] == "Revenue · Region = East · this year · vs the same period a year earlier"
    # Without it (a comparison the user asked for is said as asked).
    assert restatement(answer.query, assistant.model, answer.labels)["zh"].endswith("· 今年")


# --- 6. share --------------------------------------------------------------------------------------
def test_a_share_follow_up_restates_the_share(assistant):
    conversation = assistant.conversation()
    _ok(conversation.ask("各区域今年收入"))
    answer = _ok(conversation.ask("占比呢"))
    assert answer.restatement["zh"] == "营业收入 · 今年 · 按区域 · 占比"
    assert answer.restatement["en"] == "Revenue · this year · by region · share of total"
    shares = [r[answer.names.index("revenue__share")] for r in answer.rows]
    assert abs(sum(float(s) for s in shares) - 1) < 1e-9
