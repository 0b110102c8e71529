"""Phrasings that once gave a wrong number or none (issue 16), each as a general rule, in both
languages where the language allows, with values checked against SQL on the demo."""

from __future__ import annotations

import pytest

from assistant import Assistant
from semantic_layer.engine import DuckDBEngine


@pytest.fixture(scope="module")
def assistant(demo_db) -> Assistant:
    return Assistant.demo(database=demo_db)


def _scalar(demo_db, sql: str) -> float:
    with DuckDBEngine(demo_db) as engine:
        return float(engine.execute(sql).rows[0][0])


OVERDUE_BY_RATING = """
    SELECT SUM(a.overdue_1_30 + a.overdue_31_60 + a.overdue_61_90 + a.overdue_over_90)
    FROM ar_aging_monthly a JOIN customers c USING (customer_id)
    WHERE c.credit_rating = '{rating}' AND a.snapshot_date = DATE '2025-12-31'
"""
REVENUE_2025 = """
    SELECT SUM(l.amount) FROM order_lines l JOIN orders o USING (order_id)
    JOIN customers c ON c.customer_id = o.customer_id
    WHERE o.status = '已完成' AND o.order_date >= DATE '2025-01-01'
      AND o.order_date < DATE '2026-01-01' AND {condition}
"""


@pytest.mark.parametrize(
    "question, rating", [("信用等级B客户的逾期", "B"), ("信用等级A的客户逾期多少", "A")]
)
def test_one_letter_after_its_dimension_is_a_filter(assistant, demo_db, question, rating):
    """Without 为/是 as with them: one member is a filter, never a split by rating × customer."""
    answer = assistant.ask(question)
    assert answer.status == "ok", answer.message
    assert len(answer.rows) == 1 and not answer.query.dimensions
    assert float(answer.rows[0][0]) == pytest.approx(
        _scalar(demo_db, OVERDUE_BY_RATING.format(rating=rating))
    )
    # A run of letters still splits over those members, and C和D is two members.
    split = assistant.ask("信用等级ABCD各自的逾期")
    assert [d.name for d in split.query.dimensions] == ["credit_rating"]
    both = assistant.ask("信用评级C和D的客户一共欠我们多少")
    assert len(both.rows) == 1 and both.query.filters[0].values == ["C", "D"]


@pytest.mark.parametrize(
    "question, condition",
    [
        ("信用等级A的客户今年收入", "c.credit_rating = 'A'"),
        ("渠道为电商的客户今年收入", "o.channel = '电商'"),
    ],
)
def test_customers_of_a_value_are_customers_in_general(assistant, demo_db, question, condition):
    """ "X的客户今年收入": the customers who are (or bought through) X, one total."""
    answer = assistant.ask(question)
    assert answer.status == "ok", answer.message
    assert not answer.query.dimensions
    expected = _scalar(demo_db, REVENUE_2025.format(condition=condition))
    assert float(answer.rows[0][0]) == pytest.approx(expected)


def test_a_breakdown_word_that_holds_a_metric_word_names_the_metric(assistant, demo_db):
    """ "各类费用" is the expense category — and the expenses: the question is complete, so
    after another question it starts fresh instead of splitting that one's metric."""
    alone = assistant.ask("市场部今年各类费用分别多少")
    conversation = assistant.conversation()
    conversation.ask("各区域的毛利率")
    after = conversation.ask("市场部今年各类费用分别多少")
    assert after.status == "ok", after.message
    assert after.query == alone.query
    assert after.query.metrics == ["expenses"]
    assert sorted(after.rows) == sorted(alone.rows)
    with DuckDBEngine(demo_db) as engine:
        expected = dict(
            engine.execute(
                "SELECT e.category, SUM(e.amount) FROM expenses e"
                " JOIN departments d USING (dept_id) WHERE d.dept_name = '市场部'"
                " AND e.expense_date >= DATE '2025-01-01' AND e.expense_date < DATE '2026-01-01'"
                " GROUP BY 1"
            ).rows
        )
    assert {r[0]: float(r[1]) for r in after.rows} == pytest.approx(
        {k: float(v) for k, v in expected.items()}
    )


def test_english_follow_ups_name_a_derived_metric(assistant):
    """ "and net?" after inflow and outflow is net cash flow; "and the margin?" after gross
    profit is the gross margin; after revenue it could be gross or operating margin: asked."""
    conversation = assistant.conversation()
    conversation.ask("cash inflow this year")
    conversation.ask("and outflow?")
    net = conversation.ask("and net?")
    assert net.status == "ok" and net.query.metrics == ["net_cash_flow"]
    inflow = assistant.ask("cash inflow this year").rows[0][0]
    outflow = assistant.ask("cash outflow this year").rows[0][0]
    assert net.rows[0][0] == pytest.approx(inflow - outflow)

    conversation = assistant.conversation()
    conversation.ask("gross profit this year")
    margin = conversation.ask("and the margin?")
    assert margin.status == "ok" and margin.query.metrics == ["gross_margin"]

    conversation = assistant.conversation()
    conversation.ask("revenue by region this year")
    unsure = conversation.ask("and the margin?")
    assert unsure.status == "clarify" and not unsure.rows
