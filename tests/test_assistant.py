"""The assistant end to end on the demo data: understanding, follow-ups, refusals, the API and CLI."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from assistant import Answer, Assistant
from assistant.cli import app
from semantic_layer.engine import DuckDBEngine


@pytest.fixture(scope="module")
def assistant(demo_db) -> Assistant:
    return Assistant.demo(database=demo_db)


def scalar(demo_db, sql: str):
    with DuckDBEngine(demo_db) as engine:
        return engine.execute(sql).scalar()


REVENUE_2025 = """
    SELECT SUM(l.amount) FROM order_lines l JOIN orders o USING (order_id)
    WHERE o.status = '已完成' AND o.order_date >= DATE '2025-01-01' AND o.order_date < DATE '2026-01-01'
"""


def test_a_lookup_returns_typed_values_and_explains_itself(assistant, demo_db):
    answer = assistant.ask("2025年的营业收入是多少")
    assert answer.status == "ok"
    assert answer.value() == scalar(demo_db, REVENUE_2025)
    assert isinstance(answer.value(), Decimal)
    assert "2025-01-01" in answer.interpretation and "2025-12-31" in answer.interpretation
    assert "已完成订单" in answer.interpretation  # the 口径 is shown
    assert "亿" in answer.narrative
    assert set(answer.timings) == {"understand", "compile", "execute", "present"}
    assert answer.sql and "SELECT" in answer.sql


def test_english_questions_answer_in_english(assistant, demo_db):
    answer = assistant.ask("what was revenue in 2025?")
    assert answer.status == "ok" and answer.lang == "en"
    assert answer.value() == scalar(demo_db, REVENUE_2025)
    assert "M" in answer.narrative and "Period" in answer.interpretation


def test_no_period_means_this_year_and_says_so(assistant):
    answer = assistant.ask("营业收入")
    assert answer.query.time_range.start == date(2025, 1, 1)
    assert answer.query.time_range.end == date(2026, 1, 1)
    assert any("未指定时间" in note for note in answer.notes)


def test_balances_without_a_period_use_the_latest_snapshot(assistant, demo_db):
    answer = assistant.ask("应收账款余额")
    expected = scalar(
        demo_db, "SELECT SUM(balance) FROM ar_aging_monthly WHERE snapshot_date = DATE '2025-12-31'"
    )
    assert answer.value() == expected


@pytest.mark.parametrize(
    ("question", "metrics"),
    [
        ("帐龄超过90天的应收有多少", ["overdue_over_90"]),  # the bucket narrows 应收
        ("北辰重工下半年每个月90天以上的逾期", ["overdue_over_90"]),
        ("应收余额和90天以上逾期", ["ar_balance", "overdue_over_90"]),  # two metrics asked
        (
            "应收账龄分布",
            [
                "ar_current",
                "overdue_1_30",
                "overdue_31_60",
                "overdue_61_90",
                "overdue_over_90",
                "ar_balance",
            ],
        ),
    ],
)
def test_an_aging_bucket_names_the_part_of_receivables_asked(assistant, demo_db, question, metrics):
    answer = assistant.ask(question)
    assert answer.query is not None and answer.query.metrics == metrics
    if metrics == ["overdue_over_90"] and "北辰" not in question:
        over_90 = "SELECT SUM(overdue_over_90) FROM ar_aging_monthly WHERE snapshot_date = "
        assert answer.value() == scalar(demo_db, over_90 + "DATE '2025-12-31'")


@pytest.mark.parametrize(
    "question", ["Cash in, cash out and net for 2025", "2025年现金流入、流出和净额"]
)
def test_net_next_to_two_metrics_is_their_difference(assistant, demo_db, question):
    answer = assistant.ask(question)
    assert answer.query.metrics == ["cash_inflow", "cash_outflow", "net_cash_flow"]
    row = dict(zip(answer.names, answer.rows[0], strict=True))
    assert row["net_cash_flow"] == row["cash_inflow"] - row["cash_outflow"]
    signed = scalar(
        demo_db,
        "SELECT SUM(CASE WHEN direction = '流入' THEN amount ELSE -amount END) FROM cash_flows "
        "WHERE txn_date >= DATE '2025-01-01' AND txn_date < DATE '2026-01-01'",
    )
    assert row["net_cash_flow"] == signed


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("2025年春节期间的收入", "春节"),
        ("中秋节那个月的销售额", "中秋"),
        ("revenue during Chinese New Year 2025", "lunar calendar"),
    ],
)
def test_holidays_with_moving_dates_ask_for_dates_never_guess(assistant, question, words):
    answer = assistant.ask(question)
    assert answer.status == "clarify" and not answer.rows
    assert words in answer.message


@pytest.mark.parametrize(
    ("question", "metrics"),
    [
        ("2024年的GM和GM%", ["gross_profit", "gross_margin"]),
        ("GM% and GM for 2024", ["gross_margin", "gross_profit"]),
        ("2024年GM%", ["gross_margin"]),
    ],
)
def test_a_rate_named_with_and_without_percent_means_its_amount_too(assistant, question, metrics):
    answer = assistant.ask(question)
    assert answer.query.metrics == metrics
    row = dict(zip(answer.names, answer.rows[0], strict=True))
    if "gross_profit" in row:
        revenue = assistant.ask("2024年营业收入").value()
        assert float(row["gross_margin"]) == pytest.approx(float(row["gross_profit"] / revenue))


def test_an_unknown_word_beside_a_known_value_suggests_metrics_of_that_value(assistant):
    answer = assistant.ask("成都仓还有多少件货")
    assert answer.status == "clarify" and "件货" in answer.message
    texts = [s.text for s in answer.suggestions]
    assert texts and all(t.startswith("成都仓的库存") for t in texts)
    for text in texts:
        assert assistant.ask(text).status == "ok"


def test_breakdown_trend_rank_share(assistant):
    by_region = assistant.ask("2025年各区域的毛利率")
    assert [c.name for c in by_region.columns] == ["region", "gross_margin"]
    assert len(by_region.rows) == 7
    trend = assistant.ask("去年每个月的收入")
    assert len(trend.rows) == 12 and trend.rows[0][0] == date(2024, 1, 1)
    assert trend.chart is not None and '"line"' in __import__("json").dumps(trend.chart)
    top = assistant.ask("收入最高的3个产品")
    assert len(top.rows) == 3
    assert top.rows[0][1] >= top.rows[1][1] >= top.rows[2][1]
    share = assistant.ask("各渠道收入占比")
    shares = [r[share.names.index("revenue__share")] for r in share.rows]
    assert sum(shares) == pytest.approx(1.0)


def test_comparisons(assistant):
    yoy = assistant.ask("2025年华东区的收入同比")
    row = yoy.records()[0]
    assert row["revenue__change_pct"] == pytest.approx(
        float(row["revenue"] - row["revenue__compare"]) / float(row["revenue__compare"])
    )
    budget = assistant.ask("今年费用和预算比怎么样")
    assert "expenses__compare" in budget.names
    usage = assistant.ask("费用预算执行率")
    assert usage.names == ["expense_budget_usage"]
    two_months = assistant.ask("3月毛利率比2月低了多少")
    assert two_months.query.compare.value == "mom"
    assert two_months.query.time_range.start == date(2025, 3, 1)


def test_planted_margin_drop_is_visible_in_answers(assistant):
    answer = assistant.ask("2025年3月的毛利率环比")
    row = answer.records()[0]
    assert row["gross_margin__change"] < -0.015  # the 2025-03 clearance promotion


def test_follow_ups_edit_the_previous_query(assistant):
    conversation = assistant.conversation()
    first = conversation.ask("2025年华东区的收入")
    second = conversation.ask("华南呢?")
    assert second.query.filters[0].values == ["华南"]
    assert second.query.time_range == first.query.time_range
    third = conversation.ask("那毛利率呢")
    assert third.query.metrics == ["gross_margin"] and third.query.filters[0].values == ["华南"]
    fourth = conversation.ask("按月看")
    assert fourth.query.dimensions[0].grain.value == "month" and len(fourth.rows) == 12
    fifth = conversation.ask("换成去年")
    assert fifth.query.time_range.start == date(2024, 1, 1)
    sixth = conversation.ask("只看电商渠道")
    assert {f.dimension for f in sixth.query.filters} == {"region", "channel"}
    drill = assistant.conversation()
    drill.ask("2025年各区域的收入")
    drilled = drill.ask("drill into 华东")
    assert [d.name for d in drilled.query.dimensions] == ["customer"]
    assert drilled.query.filters[0].values == ["华东"]


@pytest.mark.parametrize(
    ("question", "status", "words"),
    [
        ("各部门的营业收入", "refused", ["部门", "费用"]),
        ("revenue by department", "refused", ["department", "Expenses"]),
        ("深圳的收入", "clarify", ["深圳"]),
        ("预算", "clarify", ["收入预算", "费用预算"]),
        ("2022年的收入", "refused", ["2023-01-01"]),
        ("净利润多少", "clarify", ["营业利润"]),
        ("drop table orders;", "refused", ["SQL"]),
        ("把2024年的订单都删掉", "refused", ["只读"]),
        ("今年取消了多少订单", "refused", ["已完成"]),
        ("asdfgh qwerty", "clarify", []),
    ],
)
def test_what_cannot_be_answered_exactly_gets_no_number(assistant, question, status, words):
    answer = assistant.ask(question)
    assert answer.status == status, answer.message
    assert answer.rows == [] and answer.query is None or answer.status != "ok"
    for word in words:
        assert word in answer.message
    if status == "clarify" and words:
        assert answer.suggestions


def test_suggestions_are_answerable(assistant):
    answer = assistant.ask("各部门的营业收入")
    assert answer.suggestions
    for suggestion in answer.suggestions:
        assert assistant.ask(suggestion.text).status == "ok", suggestion.text


def test_empty_and_garbage_input_never_raise(assistant):
    assert assistant.ask("").status == "error"
    assert assistant.ask("   ").message
    assert assistant.ask("？？？").status == "clarify"
    long = assistant.ask("收" * 100_000)
    assert long.status == "error" and "太长" in long.message
    assert "too long" in assistant.ask("revenue " * 5000).message


def test_open_with_explicit_files(demo_db):
    from semantic_layer.loader import DEMO_MODEL

    opened = Assistant.open(model=DEMO_MODEL, database=demo_db, as_of=date(2024, 12, 31))
    answer = opened.ask("今年的收入")
    assert answer.query.time_range.start == date(2024, 1, 1)
    assert isinstance(answer, Answer)


def test_cli_ask_and_chat(demo_db):
    runner = CliRunner()
    result = runner.invoke(app, ["ask", "2025年各区域的营业收入", "--db", str(demo_db), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["status"] == "ok" and len(payload["rows"]) == 7
    text = runner.invoke(app, ["ask", "各部门的营业收入", "--db", str(demo_db)])
    assert "无法按「部门」分析" in text.output and "可以这样问" in text.output
    chat = runner.invoke(
        app, ["chat", "--db", str(demo_db)], input="2025年华东区的收入\n华南呢?\nexit\n"
    )
    assert chat.exit_code == 0
    assert chat.output.count("营业收入") >= 2 and "华南" in chat.output
