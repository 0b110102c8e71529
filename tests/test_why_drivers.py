"""'Why' answers name the member that carries a change — across dimensions, the one with the
largest share of it, even when the others offset it — with its share of the change, and set
the move against the same comparison a year earlier and the Spring Festival. Checked against
hand-written SQL on the demo database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import duckdb
import pytest

from assistant import Assistant
from assistant.insights.explain import (
    NEAR_TIE,
    driver_sentence,
    explain,
    explanation_text,
    seasonal_sentence,
    spring_festival,
)
from semantic_layer.query import SemanticQuery, TimeRange

DEC = {"start": "2025-12-01", "end": "2026-01-01"}
NOV = {"start": "2025-11-01", "end": "2025-12-01"}
FEB = {"start": "2025-02-01", "end": "2025-03-01"}

REVENUE = (
    "SELECT {key} SUM(l.amount) FROM d.order_lines l JOIN d.orders o USING (order_id) "
    "WHERE o.status = '已完成' AND o.order_date >= ? AND o.order_date < ? {group}"
)


@pytest.fixture(scope="module")
def assistant(demo_db) -> Assistant:
    return Assistant.demo(database=demo_db)


@pytest.fixture(scope="module")
def con(demo_db):
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{demo_db}' AS d (READ_ONLY)")
        yield con


def why(assistant: Assistant, metric: str, window: dict, compare: str = "mom"):
    query = SemanticQuery(metrics=[metric], time_range=window, compare=compare, intent="explain")
    return explain(assistant.model, assistant.catalog, assistant.engine, query)


def revenue(con, start: str, end: str) -> float:
    return float(con.execute(REVENUE.format(key="", group=""), [start, end]).fetchone()[0])


@pytest.fixture(scope="module")
def overdue_by_customer(con) -> dict[str, tuple[float, float]]:
    """90+ overdue per customer at the November and December 2025 snapshots."""
    rows = con.execute(
        "SELECT c.customer_name, "
        " SUM(a.overdue_over_90) FILTER (WHERE a.snapshot_date = DATE '2025-11-30'), "
        " SUM(a.overdue_over_90) FILTER (WHERE a.snapshot_date = DATE '2025-12-31') "
        "FROM d.ar_aging_monthly a JOIN d.customers c USING (customer_id) "
        "WHERE a.snapshot_date IN (DATE '2025-11-30', DATE '2025-12-31') GROUP BY 1"
    ).fetchall()
    return {name: (float(before or 0), float(now or 0)) for name, before, now in rows}


def test_a_large_member_that_carries_the_change_is_named_even_when_others_offset(
    assistant, overdue_by_customer
):
    before = sum(b for b, _ in overdue_by_customer.values())
    now = sum(n for _, n in overdue_by_customer.values())
    change = now - before
    name, (b, n) = max(overdue_by_customer.items(), key=lambda kv: abs(kv[1][1] - kv[1][0]))
    assert (n - b) / change > 1  # the case: one customer is more than all of the rise

    result = why(assistant, "overdue_over_90", DEC)
    assert result.change == pytest.approx(change)
    lead = result.lead
    assert lead is not None and result.dominant is not None
    assert (lead.dimension, lead.member) == ("customer", name)
    assert lead.contribution == pytest.approx(n - b)
    assert lead.share == pytest.approx((n - b) / change)
    assert result.others == pytest.approx(change - (n - b))
    assert result.offset and result.others < 0

    zh = driver_sentence(result, assistant.model, "zh")
    assert f"客户「{name}」" in zh and f"占变化的{(n - b) / change:.0%}" in zh
    assert "抵消" in zh and "没有单一" not in zh
    en = driver_sentence(result, assistant.model, "en")
    assert f"Customer {name}" in en and f"{(n - b) / change:.0%} of the change" in en
    assert "offsetting" in en
    # Near-tie: a member of another dimension explains a hair more of the change (the
    # customer's whole industry, say), but the change sits in the smaller slice, the customer.
    rivals = [ds[0] for dim, ds in result.by_dimension.items() if dim != "customer"]
    assert any(lead.share < d.share <= lead.share + NEAR_TIE for d in rivals)
    assert all(d.weight > lead.weight for d in rivals if d.share > lead.share)


def by_member(con, key: str, join: str = "") -> dict[str, tuple[float, float]]:
    """Revenue per member in October and November 2025, by hand."""
    sql = (
        f"SELECT {key}, "
        " SUM(l.amount) FILTER (WHERE o.order_date >= DATE '2025-10-01'"
        "  AND o.order_date < DATE '2025-11-01'),"
        " SUM(l.amount) FILTER (WHERE o.order_date >= DATE '2025-11-01'"
        "  AND o.order_date < DATE '2025-12-01') "
        f"FROM d.order_lines l JOIN d.orders o USING (order_id) {join} "
        "WHERE o.status = '已完成' GROUP BY 1"
    )
    return {m: (float(b or 0), float(n or 0)) for m, b, n in con.execute(sql).fetchall()}


def test_the_member_with_the_largest_share_is_named_not_the_smallest(assistant, con):
    """November 2025 revenue fell; one product line carries 84% of it, one channel 56%. Both
    moved unlike the rest, the channel is the smaller slice — the product line is named."""
    change = revenue(con, "2025-11-01", "2025-12-01") - revenue(con, "2025-10-01", "2025-11-01")
    lines = by_member(con, "p.product_line", "JOIN d.products p USING (product_id)")
    channels = by_member(con, "o.channel")
    line, (lb, ln) = min(lines.items(), key=lambda kv: kv[1][1] - kv[1][0])
    channel, (cb, cn) = min(channels.items(), key=lambda kv: kv[1][1] - kv[1][0])
    assert change < 0 and (ln - lb) / change > (cn - cb) / change + NEAR_TIE > 0.5
    assert cb / sum(b for b, _ in channels.values()) < lb / sum(b for b, _ in lines.values())

    result = why(assistant, "revenue", NOV)
    assert result.change == pytest.approx(change)
    lead = result.lead
    assert lead is not None and (lead.dimension, lead.member) == ("product_line", line)
    assert lead.contribution == pytest.approx(ln - lb) and lead.share == pytest.approx(
        (ln - lb) / change
    )
    assert result.others == pytest.approx(change - (ln - lb)) and not result.offset
    top = {d: ds[0] for d, ds in result.by_dimension.items()}
    assert top["channel"].member == channel and top["channel"].share == pytest.approx(
        (cn - cb) / change
    )
    # The rule across dimensions: no member explains clearly more of the change than the lead.
    assert all(d.share <= lead.share + NEAR_TIE for d in top.values())
    assert result.ranked_dimensions[0] == "product_line"  # the waterfall splits by it

    zh = driver_sentence(result, assistant.model, "zh")
    assert zh.startswith(f"主要原因：产品线「{line}」 -{(lb - ln) / 1e4:,.2f}万，")
    assert f"占变化的{(ln - lb) / change:.0%}" in zh and "渠道" not in zh
    assert f"其余成员合计 -{(ln - lb - change) / 1e4:,.2f}万" in zh
    named = replace(result, names=assistant.lexicon.english)  # as the answer reads members
    en = driver_sentence(named, assistant.model, "en")
    english = assistant.model.dimension("product_line").value_labels[line]
    assert en.startswith(f"Main driver: Product line {english}, ") and "Channel" not in en


def test_the_why_answer_for_last_month_names_the_largest_share(demo_db, con, tmp_path):
    from assistant.settings import Settings

    demo = Assistant.demo(
        database=demo_db, as_of=date(2025, 12, 31), settings=Settings(cache_dir=tmp_path)
    )
    lines = by_member(con, "p.product_line", "JOIN d.products p USING (product_id)")
    line, (lb, ln) = min(lines.items(), key=lambda kv: kv[1][1] - kv[1][0])
    change = revenue(con, "2025-11-01", "2025-12-01") - revenue(con, "2025-10-01", "2025-11-01")
    answer = demo.ask("为什么上个月收入下降")
    assert answer.status == "ok" and answer.query.intent.value == "explain"
    assert f"主要原因：产品线「{line}」" in answer.narrative
    assert f"占变化的{(ln - lb) / change:.0%}" in answer.narrative
    assert answer.rows[0][:2] == ("产品线", line)
    english = demo.ask("why did revenue drop last month")
    assert english.status == "ok" and english.query.intent.value == "explain"
    name = demo.model.dimension("product_line").value_labels[line]
    assert f"Main driver: Product line {name}" in english.narrative
    assert english.rows[0][1] == name


def test_the_why_answer_names_the_offset_driver(assistant, overdue_by_customer):
    name = max(
        overdue_by_customer,
        key=lambda k: abs(overdue_by_customer[k][1] - overdue_by_customer[k][0]),
    )
    answer = assistant.ask("2025年12月90天以上逾期为什么上升了")
    assert answer.status == "ok" and answer.query.intent.value == "explain"
    assert name in answer.narrative and "没有单一" not in answer.narrative
    assert answer.rows[0][1] == name


def test_a_move_shared_by_everyone_names_no_lead_but_lists_the_largest(assistant, con):
    result = why(assistant, "revenue", FEB)
    assert result.lead is None and result.dominant is None
    by_channel = dict(
        con.execute(
            REVENUE.format(key="o.channel,", group="GROUP BY 1"), ["2025-02-01", "2025-03-01"]
        ).fetchall()
    )
    before = dict(
        con.execute(
            REVENUE.format(key="o.channel,", group="GROUP BY 1"), ["2025-01-01", "2025-02-01"]
        ).fetchall()
    )
    moves = {k: float(by_channel.get(k, 0)) - float(before[k]) for k in before}
    channel = min(moves, key=moves.get)  # the biggest fall
    drivers = {d.member: d for d in result.by_dimension["channel"]}
    assert drivers[channel].contribution == pytest.approx(moves[channel])
    largest = result.largest(3)
    assert [abs(d.contribution) for d in largest] == sorted(
        (abs(d.contribution) for d in largest), reverse=True
    )
    text = driver_sentence(result, assistant.model, "zh")
    assert text.startswith("没有单一的主导因素；贡献最大的是：")
    first = largest[0]
    assert f"「{first.member}」" in text and f"占变化的{first.share:.0%}" in text
    assert f"基期占比{first.weight:.0%}" in text


def test_the_same_move_a_year_earlier_and_the_spring_festival_are_noted(assistant, con):
    result = why(assistant, "revenue", FEB)
    seasonal = result.seasonal
    assert seasonal is not None
    feb, jan = revenue(con, "2024-02-01", "2024-03-01"), revenue(con, "2024-01-01", "2024-02-01")
    assert seasonal.current == pytest.approx(feb) and seasonal.baseline == pytest.approx(jan)
    assert (seasonal.current_range.start, seasonal.baseline_range.start) == (
        date(2024, 2, 1),
        date(2024, 1, 1),
    )
    assert feb < jan and result.change < 0 and result.seasonal_move
    # 2025's Spring Festival (29 January) is in the baseline month, not in February.
    assert seasonal.festival == date(2025, 1, 29)
    assert seasonal.festival_in == result.baseline_range
    zh = seasonal_sentence(result, assistant.model, "zh")
    assert "2024年2月对比2024年1月" in zh and f"下降 {(jan - feb) / jan:.1%}" in zh
    assert "春节" in zh and "2025年1月" in zh
    en = seasonal_sentence(result, assistant.model, "en")
    assert "Feb 2024 vs Jan 2024" in en and "Spring Festival" in en


def test_no_seasonal_note_when_last_year_moved_otherwise(assistant, con):
    result = why(assistant, "overdue_over_90", DEC)
    seasonal = result.seasonal
    assert seasonal is not None and seasonal.festival is None
    last = float(
        con.execute(
            "SELECT SUM(overdue_over_90) FILTER (WHERE snapshot_date = DATE '2024-12-31') "
            "/ SUM(overdue_over_90) FILTER (WHERE snapshot_date = DATE '2024-11-30') - 1 "
            "FROM d.ar_aging_monthly"
        ).fetchone()[0]
    )
    now = result.change / result.baseline
    assert abs(last) < 0.5 * abs(now)  # a year earlier it barely moved
    assert not result.seasonal_move
    assert seasonal_sentence(result, assistant.model, "zh") == ""


def test_a_year_over_year_comparison_notes_only_the_festival(assistant):
    result = why(assistant, "revenue", {"start": "2025-01-01", "end": "2025-02-01"}, "yoy")
    seasonal = result.seasonal
    assert seasonal is not None and seasonal.current is None  # no second year-earlier query
    assert seasonal.festival == date(2025, 1, 29) and seasonal.festival_in == result.current_range
    assert not result.seasonal_move
    text = seasonal_sentence(result, assistant.model, "zh")
    assert "2025年春节（1月29日）在2025年1月" in text and "2024年1月没有春节" in text


def test_a_rate_change_is_said_in_points(assistant):
    result = why(assistant, "gross_margin", {"start": "2025-03-01", "end": "2025-04-01"})
    lead = result.lead
    assert lead is not None
    text = explanation_text(result, assistant.model, "zh")
    points = round(lead.contribution * 100, 1)
    assert f"{points:+.1f}个百分点" in text and f"占变化的{lead.share:.0%}" in text
    assert " × " in text  # the drill path, channel × region × product line
    rate = round(lead.rate_effect * 100, 1)
    assert f"费率（自身比率变化）效应 {rate:+.1f}个百分点" in text
    assert f"{points:+.1f} pp" in explanation_text(result, assistant.model, "en")


def test_spring_festival_is_found_by_date():
    assert spring_festival(TimeRange(start="2024-02-01", end="2024-03-01")) == date(2024, 2, 10)
    assert spring_festival(TimeRange(start="2024-03-01", end="2024-04-01")) is None
    assert spring_festival(TimeRange(start="2025-01-01", end="2026-01-01")) == date(2025, 1, 29)


SHOP_MODEL = """
name: shop
label: {zh: 小店, en: Shop}
as_of: 2024-06-30
tables:
  - {name: sales, primary_key: [sale_id], time_column: sold_on, label: {zh: 销售, en: Sales}}
dimensions:
  - name: store
    table: sales
    expr: store
    label: {zh: 门店, en: Store}
  - name: shelf
    table: sales
    expr: shelf
    label: {zh: 货架, en: Shelf}
metrics:
  - name: takings
    label: {zh: 营业款, en: Takings}
    unit: yuan
    table: sales
    agg: sum
    expr: amount
    time: sold_on
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Assistant:
    """Another company: five stores; in June 2024 the big one jumps while the rest slip — and
    the year before, nothing of the kind happened."""
    from semantic_layer.engine import DuckDBEngine
    from semantic_layer.loader import load_model

    root = tmp_path_factory.mktemp("shop")
    (root / "model.yaml").write_text(SHOP_MODEL, encoding="utf-8")
    rows, n = [], 0
    for year in (2023, 2024):
        for month in (5, 6):
            for store, base in (
                ("North", 500.0),
                ("South", 100.0),
                ("East", 100.0),
                ("West", 90.0),
            ):
                amount = base
                if (year, month) == (2024, 6):
                    amount = base * 1.6 if store == "North" else base * 0.9
                for shelf in ("a", "b"):
                    n += 1
                    rows.append((n, date(year, month, 10), store, shelf, amount / 2))
    path = root / "shop.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE sales (sale_id INT, sold_on DATE, store VARCHAR, shelf VARCHAR, "
            "amount DECIMAL(12, 2))"
        )
        con.executemany("INSERT INTO sales VALUES (?, ?, ?, ?, ?)", rows)
    return Assistant(load_model(root / "model.yaml"), DuckDBEngine(path))


def test_any_model_names_the_big_member_that_carries_the_change(shop):
    result = why(shop, "takings", {"start": "2024-06-01", "end": "2024-07-01"})
    # North +300 of a +271 rise (the other three −29): big already (guided by nothing else).
    assert result.change == pytest.approx(300 - 29)
    lead = result.lead
    assert lead is not None and (lead.dimension, lead.member) == ("store", "North")
    # Its two shelves rose alike: the drill stops at the store, it does not pick a shelf.
    assert [d.dimension for d in result.path] == ["store"]
    assert lead.weight == pytest.approx(500 / 790)
    assert lead.share == pytest.approx(300 / 271)
    assert result.offset and result.others == pytest.approx(-29)
    assert driver_sentence(result, shop.model, "zh") == (
        f"主要原因：门店「North」 +300.00，占变化的{300 / 271:.0%}；其余成员合计 -29.00，抵消了一部分。"
    )
    assert result.seasonal is not None and result.seasonal.change == pytest.approx(0)
    assert not result.seasonal_move and result.seasonal.festival is None
    assert seasonal_sentence(result, shop.model, "en") == ""
    answer = shop.ask("why did takings rise in June 2024")
    assert answer.status == "ok" and "North" in answer.narrative


def test_the_waterfall_axis_makes_a_small_change_visible(demo_db, tmp_path):
    """A 2.4-point drop on a 29% margin: the axis starts just under the lowest step, not at 0,
    and the member labels read horizontally."""
    from assistant import Assistant
    from assistant.settings import Settings

    assistant = Assistant.demo(
        database=demo_db, as_of=date(2025, 12, 31), settings=Settings(cache_dir=tmp_path)
    )
    spec = assistant.ask("为什么2025年3月毛利率下降了").chart
    steps = spec["data"]["values"]
    low = min(min(v["start"], v["end"]) for v in steps)
    scale = spec["encoding"]["y"]["scale"]
    assert scale["zero"] is False and 0.2 < scale["domain"][0] <= low
    assert all(v["start"] == scale["domain"][0] for v in steps if v["kind"] == "total")
    assert spec["encoding"]["x"]["axis"]["labelAngle"] == 0
