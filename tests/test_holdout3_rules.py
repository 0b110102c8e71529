"""The rules added for issue 16 ("never a confidently wrong number"), each checked on the demo
data against a hand-written query:

- a count over a condition is one number (how many members meet it), the list a follow-up
  that keeps the condition;
- "去年同期呢" / "what about a year earlier?" moves the period back a year (a balance to the
  snapshot a year earlier); with a comparison word it still compares;
- one period after a comparison word is the basis ("跟去年年底比");
- two named periods are compared exactly, whatever their distance (今年比前年, 12月底比6月底,
  Q4 vs Q4 last year, this year vs last, doubled since 2023) — or asked again, never compared
  with another period;
- 历年 is every year; an ambiguous word is the one metric that fits the breakdown; 其他渠道
  after 除了 is the rest, 一共 one number.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import pytest

from assistant import Assistant
from assistant.settings import Settings
from assistant.understand.resolve import _compare_for
from semantic_layer.compiler import compile_query
from semantic_layer.query import Compare, SemanticQuery, TimeRange

AS_OF = date(2025, 12, 31)


@pytest.fixture(scope="module")
def assistant(demo_db, tmp_path_factory):
    settings = Settings(cache_dir=tmp_path_factory.mktemp("cache"), llm_model=None)
    return Assistant.demo(database=demo_db, as_of=AS_OF, settings=settings)


@pytest.fixture(scope="module")
def db(demo_db):
    """The check queries' own connection: the demo file attached read-only to a private
    in-memory database (so it never clashes with the assistant's engine)."""
    con = duckdb.connect()
    con.execute("ATTACH ? AS demo (READ_ONLY)", [str(demo_db)])
    con.execute("USE demo")
    yield con
    con.close()


def one(db, sql: str) -> float:
    return float(db.execute(sql).fetchone()[0])


def close(a, b) -> bool:
    a = float(a) if isinstance(a, Decimal) else a
    return a == pytest.approx(float(b), rel=1e-9, abs=1e-9)


REVENUE_2025_BY_CUSTOMER = """
    SELECT o.customer_id, SUM(l.amount) AS revenue
    FROM order_lines l JOIN orders o USING (order_id)
    WHERE o.status = '已完成' AND year(o.order_date) = {year}
    GROUP BY 1"""


def customers_over(db, amount: float, year: int = 2025) -> int:
    inner = REVENUE_2025_BY_CUSTOMER.format(year=year)
    return int(one(db, f"SELECT COUNT(*) FROM ({inner}) WHERE revenue > {amount}"))


# --- (a) counts over a condition -----------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "amount"),
    [
        ("今年收入超过500万的客户有几个", 5_000_000),
        ("今年收入超过200万的客户有多少个", 2_000_000),
        ("how many customers bought more than 1 million from us this year", 1_000_000),
    ],
)
def test_a_count_over_a_condition_is_one_number(assistant, db, question, amount):
    answer = assistant.ask(question)
    assert answer.status == "ok", answer.message
    assert [c.kind for c in answer.columns] == ["metric"]
    assert len(answer.rows) == 1
    assert answer.value() == customers_over(db, amount)


def test_the_list_is_a_follow_up_that_keeps_the_condition(assistant, db):
    conversation = assistant.conversation()
    count = conversation.ask("今年收入超过200万的客户有多少个")
    listed = conversation.ask("都是哪些客户")
    assert listed.status == "ok"
    assert len(listed.rows) == count.value() == customers_over(db, 2_000_000)
    assert all(float(r["revenue"]) > 2_000_000 for r in listed.records())
    last_year = assistant.conversation()
    last_year.ask("今年收入超过200万的客户有多少个")
    again = last_year.ask("去年呢")
    assert again.status == "ok" and len(again.rows) == 1  # still a count, of 2024
    assert again.value() == customers_over(db, 2_000_000, year=2024)


def test_a_count_whose_condition_names_no_metric_is_asked_not_guessed(assistant):
    answer = assistant.ask("超过500万的客户有几个")
    assert answer.status in ("clarify", "refused")
    assert not answer.rows


def test_count_rows_compiles_to_the_number_of_rows_meeting_having(model, db):
    query = SemanticQuery(
        metrics=["revenue"],
        dimensions=["customer"],
        having=[{"metric": "revenue", "op": ">", "value": 5_000_000}],
        time_range=TimeRange(start=date(2025, 1, 1), end=date(2026, 1, 1)),
        count_rows_as="active_customers",
    )
    compiled = compile_query(model, query)
    assert [c.name for c in compiled.columns] == ["active_customers"]
    assert db.execute(compiled.sql).fetchall() == [(customers_over(db, 5_000_000),)]
    with pytest.raises(ValueError):
        SemanticQuery(metrics=["revenue"], count_rows_as="active_customers")  # no rows to count


# --- (b)(d) a year earlier -----------------------------------------------------------------

GROSS_MARGIN = """
    SELECT (SUM(l.amount) - SUM(l.cost_amount)) / SUM(l.amount)
    FROM order_lines l JOIN orders o USING (order_id)
    WHERE o.status = '已完成' AND o.order_date >= DATE '{start}' AND o.order_date < DATE '{end}'
    {extra}"""


def test_same_period_last_year_as_a_follow_up_moves_the_period(assistant, db):
    conversation = assistant.conversation()
    conversation.ask("2025年3月毛利率")
    answer = conversation.ask("去年同期呢")
    assert answer.status == "ok"
    assert answer.query.compare is Compare.none
    expected = one(db, GROSS_MARGIN.format(start="2024-03-01", end="2024-04-01", extra=""))
    assert close(answer.value("gross_margin"), expected)
    by_channel = conversation.ask("按渠道看")
    direct = one(
        db,
        GROSS_MARGIN.format(start="2024-03-01", end="2024-04-01", extra="AND o.channel = '直销'"),
    )
    rows = {r["channel"]: r["gross_margin"] for r in by_channel.records()}
    assert close(rows["直销"], direct)


def test_with_a_comparison_word_it_still_compares(assistant):
    conversation = assistant.conversation()
    conversation.ask("2025年3月毛利率")
    answer = conversation.ask("跟去年同期比呢")
    assert answer.query.compare is Compare.yoy
    assert answer.query.time_range.start == date(2025, 3, 1)


def test_a_balance_a_year_earlier_is_the_snapshot_a_year_earlier(assistant, db):
    conversation = assistant.conversation()
    conversation.ask("inventory value by product line")
    conversation.ask("only the Shanghai warehouse")
    answer = conversation.ask("what about a year earlier?")
    assert answer.status == "ok"
    expected = dict(
        db.execute(
            "SELECT p.product_line, SUM(i.value) FROM inventory_monthly i JOIN products p "
            "USING (product_id) WHERE i.snapshot_date = DATE '2024-12-31' "
            "AND i.warehouse = '上海仓' GROUP BY 1"
        ).fetchall()
    )
    got = {r["product_line"]: r["inventory_value"] for r in answer.records()}
    assert got.keys() == expected.keys()
    assert all(close(got[k], expected[k]) for k in got)


def test_same_period_last_year_in_a_fresh_question_is_last_year(assistant, db):
    answer = assistant.ask("去年同期的收入是多少")
    assert answer.status == "ok" and answer.query.compare is Compare.none
    expected = one(
        db,
        "SELECT SUM(l.amount) FROM order_lines l JOIN orders o USING (order_id) "
        "WHERE o.status = '已完成' AND year(o.order_date) = 2024",
    )
    assert close(answer.value("revenue"), expected)


def test_same_period_last_year_of_a_named_period(assistant, db):
    expected = one(db, GROSS_MARGIN.format(start="2024-03-01", end="2024-04-01", extra=""))
    fresh = assistant.ask("2025年3月去年同期的毛利率")
    assert fresh.status == "ok" and close(fresh.value("gross_margin"), expected)
    conversation = assistant.conversation()
    conversation.ask("2025年3月毛利率")
    followup = conversation.ask("3月的去年同期呢")  # 3月 is read in 2025, then moved back
    assert followup.status == "ok" and close(followup.value("gross_margin"), expected)


AR = "SELECT SUM(balance) FROM ar_aging_monthly WHERE snapshot_date = DATE '{day}'"


def test_a_balance_compared_with_last_year_end(assistant, db):
    answer = assistant.ask("应收余额跟去年年底比变了多少")
    assert answer.status == "ok", answer.message
    assert close(answer.value("ar_balance"), one(db, AR.format(day="2025-12-31")))
    assert close(answer.value("ar_balance__compare"), one(db, AR.format(day="2024-12-31")))


# --- (c)(e) two named periods --------------------------------------------------------------

REVENUE = """
    SELECT SUM(l.amount) FROM order_lines l JOIN orders o USING (order_id)
    {join} WHERE o.status = '已完成' AND o.order_date >= DATE '{start}'
    AND o.order_date < DATE '{end}' {extra}"""


def revenue(db, start: str, end: str, join: str = "", extra: str = "") -> float:
    return one(db, REVENUE.format(start=start, end=end, join=join, extra=extra))


def test_q4_against_q4_last_year(assistant, db):
    answer = assistant.ask("how did Q4 revenue compare with Q4 last year")
    assert answer.status == "ok"
    assert close(answer.value("revenue"), revenue(db, "2025-10-01", "2026-01-01"))
    assert close(answer.value("revenue__compare"), revenue(db, "2024-10-01", "2025-01-01"))


def test_this_year_vs_last(assistant, db):
    answer = assistant.ask("collections by region, this year vs last")
    assert answer.status == "ok"
    assert answer.query.compare is Compare.yoy
    expected = one(db, "SELECT SUM(amount) FROM receipts WHERE year(receipt_date) = 2024")
    assert close(sum(float(r["collections__compare"]) for r in answer.records()), expected)


def test_this_year_against_the_year_before_last(assistant, db):
    answer = assistant.ask("软件服务今年的收入比前年翻倍了吗")
    assert answer.status == "ok", answer.message
    join = "JOIN products p USING (product_id)"
    extra = "AND p.product_line = '软件服务'"
    assert close(answer.value("revenue"), revenue(db, "2025-01-01", "2026-01-01", join, extra))
    assert close(
        answer.value("revenue__compare"), revenue(db, "2023-01-01", "2024-01-01", join, extra)
    )


@pytest.mark.parametrize(
    ("question", "now", "before"),
    [
        ("上半年和下半年的收入对比", ("2025-07-01", "2026-01-01"), ("2025-01-01", "2025-07-01")),
        ("2024年Q4和2025年Q2收入比", ("2025-04-01", "2025-07-01"), ("2024-10-01", "2025-01-01")),
    ],
)
def test_two_periods_of_the_same_months_are_compared(assistant, db, question, now, before):
    answer = assistant.ask(question)
    assert answer.status == "ok", answer.message
    assert len(answer.rows) == 1  # one comparison, not a series over the months between
    assert close(answer.value("revenue"), revenue(db, *now))
    assert close(answer.value("revenue__compare"), revenue(db, *before))


def test_doubled_since_compares_the_first_and_last_year(assistant, db):
    answer = assistant.ask("has revenue doubled since 2023?")
    assert answer.status == "ok", answer.message
    assert close(answer.value("revenue"), revenue(db, "2025-01-01", "2026-01-01"))
    assert close(answer.value("revenue__compare"), revenue(db, "2023-01-01", "2024-01-01"))


def test_a_balance_compared_six_months_back(assistant, db):
    answer = assistant.ask("12月底90天以上的逾期是不是比6月底涨了一倍多")
    assert answer.status == "ok", answer.message
    sql = "SELECT SUM(overdue_over_90) FROM ar_aging_monthly WHERE snapshot_date = DATE '{}'"
    assert close(answer.value("overdue_over_90"), one(db, sql.format("2025-12-31")))
    assert close(answer.value("overdue_over_90__compare"), one(db, sql.format("2025-06-30")))


def test_periods_that_cannot_be_compared_exactly_are_asked_again():
    days = TimeRange(start=date(2025, 11, 11), end=date(2025, 11, 12))
    other = TimeRange(start=date(2025, 6, 18), end=date(2025, 6, 19))
    assert _compare_for(other, days, balances=False) is None  # 618 vs 双十一: no exact shift
    last_year = TimeRange(start=date(2024, 11, 11), end=date(2024, 11, 12))
    assert _compare_for(last_year, days, balances=False) == (Compare.yoy, None)
    year = TimeRange(start=date(2025, 1, 1), end=date(2026, 1, 1))
    before_last = TimeRange(start=date(2023, 1, 1), end=date(2024, 1, 1))
    assert _compare_for(before_last, year, balances=False) == (Compare.previous_period, 24)
    half = TimeRange(start=date(2025, 1, 1), end=date(2025, 7, 1))
    assert _compare_for(half, year, balances=False) is None  # not the same length


def test_an_unmatched_since_range_is_asked_again(demo_db, tmp_path):
    settings = Settings(cache_dir=tmp_path, llm_model=None)
    mid_year = Assistant.demo(database=demo_db, as_of=date(2025, 6, 15), settings=settings)
    answer = mid_year.ask("收入自2024年以来增长了多少")  # 2025 is not a whole year yet
    assert answer.status in ("clarify", "refused")
    assert not answer.rows


def test_multi_month_comparison_compiles_to_that_shift(model, db):
    query = SemanticQuery(
        metrics=["revenue"],
        time_range=TimeRange(start=date(2025, 1, 1), end=date(2026, 1, 1)),
        compare=Compare.previous_period,
        compare_months=24,
    )
    compiled = compile_query(model, query)
    assert compiled.comparison_range.start == date(2023, 1, 1)
    row = db.execute(compiled.sql).fetchone()
    assert close(row[1], revenue(db, "2023-01-01", "2024-01-01"))
    with pytest.raises(ValueError):
        SemanticQuery(metrics=["revenue"], compare=Compare.yoy, compare_months=24)


# --- the rest ------------------------------------------------------------------------------


def test_every_year(assistant, db):
    answer = assistant.ask("历年的营业收入")
    assert answer.status == "ok"
    expected = db.execute(
        "SELECT year(o.order_date), SUM(l.amount) FROM order_lines l JOIN orders o "
        "USING (order_id) WHERE o.status = '已完成' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    got = [(r["metric_time__year"].year, r["revenue"]) for r in answer.records()]
    assert [y for y, _ in got] == [y for y, _ in expected]
    assert all(close(a, b) for (_, a), (_, b) in zip(got, expected, strict=True))


def test_an_ambiguous_word_is_the_one_metric_that_fits_the_breakdown(assistant, db):
    answer = assistant.ask("各个仓库现在压了多少货（数量）")
    assert answer.status == "ok", answer.message
    expected = dict(
        db.execute(
            "SELECT warehouse, SUM(quantity) FROM inventory_monthly "
            "WHERE snapshot_date = DATE '2025-12-31' GROUP BY 1"
        ).fetchall()
    )
    assert {r["warehouse"]: r["inventory_quantity"] for r in answer.records()} == expected
    assert assistant.ask("各区域的数量").status == "clarify"  # several fit: still asked


def test_the_other_channels_together(assistant, db):
    answer = assistant.ask("除了电商以外，今年其他渠道一共卖了多少")
    assert answer.status == "ok", answer.message
    assert len(answer.rows) == 1
    expected = revenue(db, "2025-01-01", "2026-01-01", extra="AND o.channel <> '电商'")
    assert close(answer.value("revenue"), expected)


def test_that_very_day_after_a_date(assistant, db):
    answer = assistant.ask("2024年11月11日当天的销售额")
    assert answer.status == "ok", answer.message
    assert close(answer.value("revenue"), revenue(db, "2024-11-11", "2024-11-12"))
    conversation = assistant.conversation()
    conversation.ask("2024年11月的收入")
    assert conversation.ask("当天的收入").status == "clarify"  # which day: not said


def test_inside_a_member_is_a_filter(assistant, db):
    conversation = assistant.conversation()
    conversation.ask("逾期应收现在有多少")
    conversation.ask("按区域")
    answer = conversation.ask("华北里面逾期最多的3个客户")
    assert answer.status == "ok", answer.message
    expected = db.execute(
        "SELECT c.customer_name, "
        "SUM(a.overdue_1_30 + a.overdue_31_60 + a.overdue_61_90 + a.overdue_over_90) AS overdue "
        "FROM ar_aging_monthly a JOIN customers c USING (customer_id) "
        "JOIN regions r ON r.region_id = c.region_id "
        "WHERE a.snapshot_date = DATE '2025-12-31' AND r.region_name = '华北' "
        "GROUP BY 1 ORDER BY 2 DESC LIMIT 3"
    ).fetchall()
    got = [(r["customer"], r["overdue_ar"]) for r in answer.records()]
    assert [name for name, _ in got] == [name for name, _ in expected]
    assert all(close(a, b) for (_, a), (_, b) in zip(got, expected, strict=True))


def test_a_count_follows_up_only_where_it_stays_exact(assistant, db):
    conversation = assistant.conversation()
    conversation.ask("今年收入超过500万的客户有几个")
    higher = conversation.ask("超过1000万的呢")  # a new condition: still a count
    assert higher.status == "ok" and higher.value() == customers_over(db, 10_000_000)
    split = conversation.ask("按区域看")  # a count per region: not computed, never unfiltered
    assert split.status == "clarify" and not split.rows
    other_metric = assistant.conversation()
    other_metric.ask("今年收入超过500万的客户有几个")
    assert other_metric.ask("毛利率呢").status == "clarify"


def test_a_balance_now_against_the_end_of_a_month(assistant, db):
    answer = assistant.ask("AR now vs end of June")
    assert answer.status == "ok", answer.message
    assert close(answer.value("ar_balance"), one(db, AR.format(day="2025-12-31")))
    assert close(answer.value("ar_balance__compare"), one(db, AR.format(day="2025-06-30")))
