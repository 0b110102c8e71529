"""The answer in words reads as a person would write it: periods by their calendar name, pairs
of keys counted as pairs, a rate's change in points (never "-0.0"), a change on a negative base
in money — checked on the demo database against hand-written SQL."""

from __future__ import annotations

import duckdb
import pytest

from assistant import Assistant
from assistant.formatting import format_value
from assistant.present import describe_range, narrative, period_name, window_grain
from semantic_layer.compiler import OutputColumn
from semantic_layer.model import Label
from semantic_layer.query import SemanticQuery, TimeRange

REVENUE = (
    "SELECT {keys} SUM(l.amount) FROM d.order_lines l JOIN d.orders o USING (order_id) "
    "JOIN d.regions r ON r.region_id = o.region_id "
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


def test_two_breakdowns_count_pairs_and_each_dimension(assistant, con):
    rows = con.execute(
        REVENUE.format(keys="r.region_name, o.channel,", group="GROUP BY 1, 2 ORDER BY 3 DESC"),
        ["2025-01-01", "2026-01-01"],
    ).fetchall()
    regions, channels = {r[0] for r in rows}, {r[1] for r in rows}
    top, bottom = rows[0], rows[-1]

    answer = assistant.ask("2025年各区域各渠道的收入")
    assert answer.status == "ok"
    text = answer.narrative
    assert (
        f"共 {len(rows)} 个区域×渠道组合（{len(regions)} 个区域、{len(channels)} 个渠道）" in text
    )
    assert f"{top[0]} / {top[1]}（{format_value(top[2], 'yuan', 'zh', compact=True)}）" in text
    assert f"{bottom[0]} / {bottom[1]}" in text
    assert f"共 {len(rows)} 个区域，" not in text

    english = assistant.ask("revenue by region and channel in 2025").narrative
    assert (
        f"{len(rows)} region × channel combinations ({len(regions)} regions, "
        f"{len(channels)} channels)" in english
    )


def test_a_one_month_trend_names_the_month(assistant, con):
    (total,) = con.execute(
        REVENUE.format(keys="", group=""), ["2025-03-01", "2025-04-01"]
    ).fetchone()
    answer = assistant.ask("2025年3月收入按月")
    assert answer.status == "ok" and len(answer.rows) == 1
    assert (
        answer.narrative
        == f"2025年3月，营业收入为 {format_value(total, 'yuan', 'zh', compact=True)}。"
    )
    assert "2025-03-01" not in answer.narrative
    english = assistant.ask("revenue by month in March 2025").narrative
    assert english.startswith("Revenue in Mar 2025:") and "2025-03-01" not in english


def test_a_trend_names_periods_by_their_grain(assistant, con):
    quarters = con.execute(
        REVENUE.format(
            keys="date_trunc('quarter', o.order_date) AS q,", group="GROUP BY 1 ORDER BY 1"
        ),
        ["2025-01-01", "2026-01-01"],
    ).fetchall()
    answer = assistant.ask("2025年按季度的收入")
    assert answer.status == "ok"
    peak = max(range(4), key=lambda i: quarters[i][1])
    assert answer.narrative.startswith("2025年Q1至2025年Q4，营业收入从 ")
    assert f"最高在 2025年Q{peak + 1}" in answer.narrative
    assert "2025-01-01" not in answer.narrative and "2025-10-01" not in answer.narrative


def test_a_rate_change_is_in_points(assistant, con):
    def margin(start: str, end: str) -> float:
        return float(
            con.execute(
                "SELECT SUM(l.amount - l.cost_amount) / SUM(l.amount) FROM d.order_lines l "
                "JOIN d.orders o USING (order_id) WHERE o.status = '已完成' "
                "AND o.order_date >= ? AND o.order_date < ?",
                [start, end],
            ).fetchone()[0]
        )

    points = (margin("2025-03-01", "2025-04-01") - margin("2025-02-01", "2025-03-01")) * 100
    answer = assistant.ask("2025年3月毛利率环比")
    assert f"下降 {abs(points):.1f} 个百分点" in answer.narrative
    english = assistant.ask("gross margin in March 2025 vs last month").narrative
    assert f"down {abs(points):.1f} pp" in english and "pts" not in english


def _one_row(model, metric: str, unit: str, value: float, previous: float, lang: str) -> str:
    """The narrative of a one-row comparison, for values the demo does not happen to hold."""
    columns = (
        OutputColumn(metric, "metric", metric, Label(zh="指标", en="Metric"), unit),
        OutputColumn(f"{metric}__compare", "compare", metric, Label(zh="对比", en="Compare"), unit),
        OutputColumn(f"{metric}__change", "change", metric, Label(zh="变化", en="Change"), unit),
        OutputColumn(
            f"{metric}__change_pct",
            "change_pct",
            metric,
            Label(zh="变化%", en="Change %"),
            "percent",
        ),
    )
    pct = (value - previous) / abs(previous) if previous else None
    query = SemanticQuery(
        metrics=[metric], time_range={"start": "2025-12-01", "end": "2026-01-01"}, compare="mom"
    )
    return narrative(query, model, columns, [(value, previous, value - previous, pct)], lang)


def test_a_flat_rate_is_never_minus_zero_points(assistant):
    text = _one_row(assistant.model, "m", "percent", 0.29, 0.29004, "zh")
    assert "-0.0" not in text and "持平（0.0 个百分点）" in text
    assert "flat" in _one_row(assistant.model, "m", "percent", 0.29, 0.29004, "en")


def test_a_change_on_a_negative_base_is_said_in_money(assistant, con):
    # The demo's operating cash flow falls from a negative November to a more negative December.
    answer = assistant.ask("2025年12月经营现金流环比")
    assert answer.status == "ok"
    names = [c.name for c in answer.columns]
    row = answer.rows[0]
    metric = answer.query.metrics[0]
    now, before = row[names.index(metric)], row[names.index(f"{metric}__compare")]
    assert before < 0 and now < before
    text = answer.narrative
    assert "%" not in text.split("，", 1)[1]
    change = format_value(abs(now - before), "yuan", "zh", compact=True)
    assert f"减少 {change}" in text and "基数为负" in text
    english = assistant.ask("operating cash flow in december 2025 vs last month").narrative
    assert "negative base" in english and "%" not in english


def test_periods_are_named_by_the_calendar():
    march = TimeRange(start="2025-03-01", end="2025-04-01")
    assert window_grain(march) == "month"
    assert period_name(march, "zh") == "2025年3月" and period_name(march, "en") == "Mar 2025"
    assert describe_range(march, "zh") == "2025年3月（2025-03-01 – 2025-03-31）"
    q4 = TimeRange(start="2025-10-01", end="2026-01-01")
    assert period_name(q4, "zh") == "2025年Q4" and period_name(q4, "en") == "2025 Q4"
    assert period_name(TimeRange(start="2025-01-01", end="2026-01-01"), "zh") == "2025年"
    typed = TimeRange(start="2025-12-01", end="2026-01-01", label="december 2025")
    assert period_name(typed, "en") == "Dec 2025"
    assert (
        period_name(TimeRange(start="2025-11-01", end="2025-12-01", label="上月"), "zh") == "上月"
    )
    odd = TimeRange(start="2025-03-05", end="2025-03-20")
    assert window_grain(odd) is None and period_name(odd, "zh") == "2025-03-05 – 2025-03-19"


def test_the_summary_says_points_and_money_on_a_negative_base(assistant):
    answer = assistant.ask("2025年12月经营概况")
    text = answer.narrative
    assert "个百分点" in text and "-0.0" not in text and "基数为负" in text
    english = assistant.ask("business summary for december 2025").narrative
    assert " pp" in english and " pts" not in english and "negative base" in english
    assert english.startswith("Revenue for Dec 2025")
