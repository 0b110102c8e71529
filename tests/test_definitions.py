"""Metrics defined in the question: computed over the model's metrics, shown as defined in the
question, kept for follow-ups — checked against hand-written SQL on the demo data."""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.settings import Settings
from semantic_layer.engine import DuckDBEngine
from semantic_layer.loader import load_model

YEAR = "o.order_date >= DATE '2025-01-01' AND o.order_date < DATE '2026-01-01'"
LINES = (
    "FROM order_lines l JOIN orders o USING (order_id) JOIN regions r ON r.region_id = o.region_id "
    f"WHERE o.status = '已完成' AND {YEAR}"
)


@pytest.fixture(scope="module")
def assistant(demo_db, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return Assistant(load_model(), DuckDBEngine(demo_db), settings=Settings(cache_dir=cache))


@pytest.mark.parametrize(
    "question",
    [
        "cost ratio is cogs divided by revenue, what is the cost ratio by region in 2025",
        "成本率定义为营业成本除以营业收入，2025年各区域的成本率",
    ],
)
def test_a_ratio_defined_in_the_question_by_region(assistant, engine, question):
    answer = assistant.ask(question)
    assert answer.status == "ok", answer.message
    (definition,) = answer.query.define
    assert definition.expr == "cogs / revenue" and definition.unit == "percent"
    expected = engine.execute(
        f"SELECT r.region_name, SUM(l.cost_amount) / SUM(l.amount) {LINES} GROUP BY 1"
    ).rows
    got = {row[0]: float(row[1]) for row in answer.rows}
    assert got == pytest.approx({r: float(v) for r, v in expected})
    shown = answer.interpretation + " ".join(answer.notes)
    assert ("问题中定义" in shown) or ("Defined in the question" in shown)


def test_a_sum_defined_in_the_question(assistant, engine):
    answer = assistant.ask("total spend, which is the sum of cogs and expenses, in 2025")
    assert answer.status == "ok", answer.message
    assert answer.query.define[0].expr == "cogs + expenses"
    cogs = engine.execute(f"SELECT SUM(l.cost_amount) {LINES}").scalar()
    expenses = engine.execute(
        "SELECT SUM(amount) FROM expenses WHERE expense_date >= DATE '2025-01-01' "
        "AND expense_date < DATE '2026-01-01'"
    ).scalar()
    assert float(answer.rows[0][0]) == pytest.approx(float(cogs + expenses))


def test_bare_expressions_of_two_metrics(assistant):
    answer = assistant.ask("2025年回款占收入的比例")
    assert answer.status == "ok", answer.message
    assert answer.query.define[0].expr == "collections / revenue"
    assert len(answer.rows) == 1 and len(answer.rows[0]) == 1


@pytest.mark.parametrize(
    ("question", "metric", "said"),
    [
        ("2025年毛利减费用是多少", "operating_profit", "即模型中的指标「营业利润」"),
        ("revenue / order count in 2025", "avg_order_value", "the model's metric"),
    ],
)
def test_an_expression_the_model_defines_is_its_metric(assistant, engine, question, metric, said):
    """毛利减费用 is the model's 营业利润 (gross_profit - expenses): the governed metric
    answers, by its name, and the answer says so — the same number as the expression."""
    answer = assistant.ask(question)
    assert answer.status == "ok", answer.message
    assert answer.query.metrics == [metric] and not answer.query.define
    assert said in answer.interpretation
    revenue, cost, orders = engine.execute(
        f"SELECT SUM(l.amount), SUM(l.cost_amount), COUNT(DISTINCT o.order_id) {LINES}"
    ).rows[0]
    expenses = engine.execute(
        "SELECT SUM(amount) FROM expenses WHERE expense_date >= DATE '2025-01-01' "
        "AND expense_date < DATE '2026-01-01'"
    ).scalar()
    expected = (
        float(revenue - cost - expenses)
        if metric == "operating_profit"
        else float(revenue) / orders
    )
    assert float(answer.rows[0][0]) == pytest.approx(expected)


def test_the_definition_is_kept_for_follow_ups(assistant, engine):
    conversation = assistant.conversation()
    first = conversation.ask("cost ratio is cogs divided by revenue, what is it by region in 2025")
    assert first.status == "ok", first.message
    second = conversation.ask("what about 2024?")
    assert second.status == "ok", second.message
    assert second.query.define == first.query.define
    expected = engine.execute(
        f"SELECT r.region_name, SUM(l.cost_amount) / SUM(l.amount) {LINES.replace('2025', '2024').replace('2026', '2025')} GROUP BY 1"
    ).rows
    assert {r[0]: float(r[1]) for r in second.rows} == pytest.approx(
        {r: float(v) for r, v in expected}
    )


def test_each_members_share_is_not_a_definition(assistant):
    answer = assistant.ask("2025年各类费用占总费用的比例")
    assert answer.status == "ok" and not answer.query.define
    assert [d.name for d in answer.query.dimensions] == ["expense_category"]


def test_an_unknown_operand_is_not_guessed(assistant):
    answer = assistant.ask("loss ratio is claims divided by premium in 2025")
    assert answer.status != "ok" or not answer.query.define
