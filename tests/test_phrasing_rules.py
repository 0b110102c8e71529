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


def test_a_follow_up_never_drops_a_filter_the_new_metric_cannot_take(assistant):
    """华东的收入 → 那费用呢: expenses have no region, and the company's expenses would read as
    华东's — no number, and the way to ask for the company's."""
    conversation = assistant.conversation()
    conversation.ask("华东今年的收入")
    answer = conversation.ask("那费用呢")
    assert answer.status == "clarify" and not answer.rows
    assert "华东" in answer.message
    company = conversation.ask("全公司的费用呢")
    assert company.status == "ok" and not company.query.filters


def test_the_other_direction_keeps_the_number_of_a_ranking(assistant):
    conversation = assistant.conversation()
    conversation.ask("今年毛利率最低的5个客户")
    top = conversation.ask("最高的呢")
    assert top.query.limit == 5 and top.query.order_by[0].desc
    assert [r[0] for r in top.rows] == [r[0] for r in assistant.ask("今年毛利率最高的5个客户").rows]
    english = assistant.ask("5 customers with the most 90+ day overdue")
    assert english.query.limit == 5 and len(english.rows) == 5


@pytest.mark.parametrize(
    "question, filters",
    [
        ("政府和教育行业的客户去年贡献了多少收入", {"industry": ["政府", "教育"]}),
        ("number of orders from distributors with a C or D rating in 2025", None),
        ("revenue for East or South this year", {"region": ["华东", "华南"]}),
    ],
)
def test_members_describing_the_thing_or_joined_by_or_are_one_group(assistant, question, filters):
    answer = assistant.ask(question)
    assert answer.status == "ok", answer.message
    assert len(answer.rows) == 1 and not answer.query.dimensions
    if filters:
        got = {f.dimension: sorted(f.values) for f in answer.query.filters}
        assert got == {k: sorted(v) for k, v in filters.items()}


def test_pieces_of_an_amount(assistant, demo_db):
    """多少件库存 is the quantity of the inventory table; "how many units did we purchase"
    has no quantity in the model (purchases are money only): no number, never units sold."""
    pieces = assistant.ask("上海仓现在有多少件库存")
    assert pieces.query.metrics == ["inventory_quantity"]
    with DuckDBEngine(demo_db) as engine:
        expected = engine.execute(
            "SELECT SUM(quantity) FROM inventory_monthly"
            " WHERE warehouse = '上海仓' AND snapshot_date = DATE '2025-12-31'"
        ).rows[0][0]
    assert pieces.rows[0][0] == expected
    both = assistant.ask("inventory value and quantity by warehouse at the end of June")
    assert both.query.metrics == ["inventory_value", "inventory_quantity"]
    assert assistant.ask("how many units did we purchase from suppliers this year").status != "ok"


def test_a_member_named_in_two_dimensions_is_the_one_the_metric_reaches(assistant):
    answer = assistant.ask("payroll cash paid out in 2024")
    assert answer.status == "ok", answer.message
    assert [f.dimension for f in answer.query.filters] == ["cash_category"]
