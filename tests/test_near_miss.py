"""Near misses (issue 16): a word one character away from a metric, a quantity where the
model has an amount, a ratio to plan qualified by another metric — each is either exactly the
concept asked or no answer, never its sibling's number."""

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


EXPENSES_2025 = (
    "SELECT SUM(amount) FROM expenses"
    " WHERE expense_date >= DATE '2025-01-01' AND expense_date < DATE '2026-01-01'"
)
EXPENSE_BUDGET_2025 = (
    "SELECT SUM(amount) FROM expense_budget"
    " WHERE month >= DATE '2025-01-01' AND month < DATE '2026-01-01'"
)


@pytest.mark.parametrize(
    "question, nearest",
    [
        ("今年付款额多少", "回款额"),  # 付 (fu) is no slip for 回 (hui): another concept
        ("今年的付款率", "回款率"),
        ("今年采购量", "采购额"),  # a quantity, where the model has only the amount
    ],
)
def test_a_different_word_is_no_typo_of_its_sibling(assistant, question, nearest):
    answer = assistant.ask(question)
    assert answer.status == "clarify", (question, answer.restatement)
    assert not answer.rows
    # The nearest real metric is suggested, not answered.
    assert any(nearest in s.text for s in answer.suggestions), answer.suggestions


@pytest.mark.parametrize(
    "question, meant",
    [
        ("今年的毛利律", "gross_margin"),  # 律 and 率 are both lü: a pinyin slip
        ("今年的会款额", "collections"),  # 会 and 回 are both hui
    ],
)
def test_a_character_that_sounds_the_same_is_a_slip(assistant, question, meant):
    answer = assistant.ask(question)
    assert answer.status == "ok", answer.message
    assert answer.query.metrics == [meant]


@pytest.mark.parametrize(
    "question",
    ["今年费用预算完成率", "今年费用的预算完成率", "expense budget attainment this year"],
)
def test_a_ratio_to_plan_named_after_another_metric_is_that_metrics_own(
    assistant, demo_db, question
):
    """预算完成率 alone is the revenue's (its synonym in the demo model); after 费用 it is the
    expenses' ratio to their plan — never the revenue's figure beside the expenses."""
    answer = assistant.ask(question)
    assert answer.status == "ok", answer.message
    assert answer.query.metrics == ["expense_budget_usage"]
    expected = _scalar(demo_db, EXPENSES_2025) / _scalar(demo_db, EXPENSE_BUDGET_2025)
    assert float(answer.rows[0][0]) == pytest.approx(expected)


def test_a_ratio_to_plan_of_a_metric_without_a_plan_is_no_answer(assistant):
    answer = assistant.ask("今年采购预算完成率")
    assert answer.status == "clarify" and not answer.rows
    # Two metrics named apart stay two metrics: 费用 and the (revenue's) 预算完成率.
    both = assistant.ask("今年费用和预算完成率")
    assert both.query.metrics == ["expenses", "revenue_attainment"]
