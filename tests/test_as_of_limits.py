"""The as-of date is "today": nothing after it is an answer, except budgets, which look ahead."""

from __future__ import annotations

from datetime import date

import pytest

from assistant import Assistant
from assistant.settings import Settings
from semantic_layer.engine import DuckDBEngine

REVENUE = (
    "SELECT SUM(l.amount) FROM order_lines l JOIN orders o USING (order_id)"
    " WHERE o.status = '已完成' AND o.order_date >= DATE '{start}' AND o.order_date < DATE '{end}'"
)


@pytest.fixture(scope="module")
def mid_2024(demo_db, tmp_path_factory):
    settings = Settings(cache_dir=tmp_path_factory.mktemp("as-of"))
    return Assistant.demo(database=demo_db, as_of=date(2024, 6, 30), settings=settings)


def _sql(demo_db, sql: str) -> float:
    with DuckDBEngine(demo_db) as engine:
        return float(engine.execute(sql).rows[0][0])


def test_a_year_running_past_the_as_of_date_is_counted_up_to_it(mid_2024, demo_db):
    answer = mid_2024.ask("2024年的收入")
    assert answer.status == "ok"
    expected = _sql(demo_db, REVENUE.format(start="2024-01-01", end="2024-07-01"))
    assert float(answer.rows[0][0]) == pytest.approx(expected)
    whole_year = _sql(demo_db, REVENUE.format(start="2024-01-01", end="2025-01-01"))
    assert expected < whole_year  # the demo holds the rest of 2024: it must not be counted
    assert any("2024-06-30" in note for note in answer.notes)
    assert "2024-06-30" in answer.interpretation


def test_its_comparison_period_shifts_with_it(mid_2024, demo_db):
    answer = mid_2024.ask("2024年收入同比")
    assert answer.status == "ok"
    row = dict(zip((c.name for c in answer.columns), answer.rows[0], strict=True))
    previous = _sql(demo_db, REVENUE.format(start="2023-01-01", end="2023-07-01"))
    assert float(row["revenue__compare"]) == pytest.approx(previous)


def test_a_period_after_the_as_of_date_has_no_data_yet(mid_2024):
    for question in ("2025年的收入", "revenue in 2025"):
        answer = mid_2024.ask(question)
        assert answer.status != "ok" and not answer.rows, question
        assert "2024-06-30" in answer.message, answer.message
        assert any("2024" in s.text for s in answer.suggestions)


def test_budgets_may_look_ahead(mid_2024, demo_db):
    answer = mid_2024.ask("2024年的收入预算")
    assert answer.status == "ok" and not answer.notes
    expected = _sql(
        demo_db,
        "SELECT SUM(amount) FROM revenue_budget WHERE month >= DATE '2024-01-01'"
        " AND month < DATE '2025-01-01'",
    )
    assert float(answer.rows[0][0]) == pytest.approx(expected)


def test_a_balance_is_read_at_the_as_of_date(mid_2024, demo_db):
    answer = mid_2024.ask("应收余额")
    assert answer.status == "ok"
    expected = _sql(
        demo_db,
        "SELECT SUM(balance) FROM ar_aging_monthly WHERE snapshot_date ="
        " (SELECT MAX(snapshot_date) FROM ar_aging_monthly WHERE snapshot_date <= DATE '2024-06-30')",
    )
    assert float(answer.rows[0][0]) == pytest.approx(expected)


def test_at_the_end_of_the_data_nothing_changes(demo_db, tmp_path):
    assistant = Assistant.demo(
        database=demo_db, as_of=date(2025, 12, 31), settings=Settings(cache_dir=tmp_path)
    )
    answer = assistant.ask("2025年的收入")
    assert answer.status == "ok" and not any("数据截至" in note for note in answer.notes)
    expected = _sql(demo_db, REVENUE.format(start="2025-01-01", end="2026-01-01"))
    assert float(answer.rows[0][0]) == pytest.approx(expected)


# --- a single number comes with the period before -------------------------------------------


def test_a_single_number_comes_with_the_period_before(demo_db, tmp_path):
    assistant = Assistant.demo(
        database=demo_db, as_of=date(2025, 12, 31), settings=Settings(cache_dir=tmp_path)
    )
    cases = {
        "今年收入多少": ("2024-01-01", "2025-01-01"),  # a year earlier
        "2025年3月的收入": ("2025-02-01", "2025-03-01"),  # the month before
        "revenue in Q2 2025": ("2025-01-01", "2025-04-01"),  # the quarter before
    }
    for question, (start, end) in cases.items():
        answer = assistant.ask(question)
        assert answer.status == "ok", question
        row = dict(zip(answer.names, answer.rows[0], strict=True))
        expected = _sql(demo_db, REVENUE.format(start=start, end=end))
        assert float(row["revenue__compare"]) == pytest.approx(expected), question
        assert answer.query.compare.value == "none"  # a follow-up continues from what was asked
        assert answer.notes, question
    # The first year of data has nothing before it: the number alone, no empty comparison.
    first = assistant.ask("2023年的收入")
    assert first.names == ["revenue"]
    # Balances are read at a date, budgets are the comparison: as asked.
    assert assistant.ask("应收余额").names == ["ar_balance"]
    assert assistant.ask("费用预算执行率").names == ["expense_budget_usage"]
    # A follow-up after the number is a breakdown of the number, not of the comparison.
    conversation = assistant.conversation()
    conversation.ask("今年收入多少")
    by_region = conversation.ask("按区域看")
    assert by_region.status == "ok" and "revenue__compare" not in by_region.names


class _Counting(DuckDBEngine):
    """The real engine, counting the statements it runs."""

    statements = 0

    def execute(self, sql, *args, **kwargs):
        self.statements += 1
        return super().execute(sql, *args, **kwargs)


def test_no_period_before_the_data_is_read_for_context(demo_db, tmp_path):
    """The demo's data begins on 2023-01-01: a number in its first year (or month) has no
    period before it, and the answer reads one period — one statement — not two."""
    from semantic_layer.loader import load_model

    engine = _Counting(demo_db, cache_size=0)
    assistant = Assistant(
        load_model(), engine, date(2025, 12, 31), settings=Settings(cache_dir=tmp_path)
    )
    cases = {
        "2023年的收入": ("2023-01-01", "2024-01-01"),
        "revenue in January 2023": ("2023-01-01", "2023-02-01"),
        "2023年上半年收入": ("2023-01-01", "2023-07-01"),
    }
    for question, (start, end) in cases.items():
        engine.statements = 0
        answer = assistant.ask(question)
        assert answer.status == "ok", question
        assert answer.names == ["revenue"], question
        assert engine.statements == 1, question
        assert float(answer.rows[0][0]) == pytest.approx(
            _sql(demo_db, REVENUE.format(start=start, end=end))
        )
    # A month whose month before holds data keeps its context.
    february = assistant.ask("2023年2月的收入")
    row = dict(zip(february.names, february.rows[0], strict=True))
    january = _sql(demo_db, REVENUE.format(start="2023-01-01", end="2023-02-01"))
    assert float(row["revenue__compare"]) == pytest.approx(january)


def test_example_questions_move_with_the_as_of_date(mid_2024):
    """The demo's examples are written for 2025-12-31; as of 2024-06-30 they name 2024, and
    every one of them is answered (none asks about a year that has not happened)."""
    from assistant.ui_helpers import example_questions

    for lang in ("zh", "en"):
        examples = example_questions(mid_2024, lang)
        assert not any("2025" in e for e in examples), examples
        assert any("2024" in e for e in examples), examples
        for question in examples:
            answer = mid_2024.ask(question)
            assert answer.status == "ok", (question, answer.message)
