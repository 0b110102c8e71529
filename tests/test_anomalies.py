"""Anomaly scan: finds the planted events, leaves seasons and ordinary months alone, and says
what it found in one line in each language with the governed numbers."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date

import pytest

from assistant.insights.anomalies import scan_anomalies
from semantic_layer.compiler import compile_query
from semantic_layer.knowledge import watched
from semantic_layer.query import SemanticQuery

AS_OF = date(2025, 12, 31)


@pytest.fixture(scope="module")
def found(model, engine):
    return scan_anomalies(model, engine, AS_OF)


def pick(found, metric, month, member=None):
    return [
        a
        for a in found
        if a.metric == metric and a.period.isoformat()[:7] == month and a.member == member
    ]


def test_finds_the_march_2025_margin_drop(found):
    [company] = pick(found, "gross_margin", "2025-03")
    assert company.dimension is None and company.direction == "down"
    assert company.severity == "critical" and company.z < -8
    assert not company.favorable
    assert 0.26 < company.value < 0.275 and 0.285 < company.expected < 0.30
    assert company.reason_zh.startswith("2025年3月毛利率 26.9%，低于预期 29.")
    assert "个百分点" in company.reason_zh and "不利" in company.reason_zh
    assert company.reason_en.startswith("Gross margin in Mar 2025: 26.9%, below the expected 29.")
    assert "pts, unfavourable)" in company.reason_en
    # One level down, the promotion's region and channel stand out.
    assert pick(found, "gross_margin", "2025-03", "华南")[0].dimension == "region"
    assert pick(found, "gross_margin", "2025-03", "电商")[0].dimension == "channel"


def test_finds_the_november_2024_marketing_spike(found):
    [category] = pick(found, "expenses", "2024-11", "市场推广")
    assert category.dimension == "expense_category" and category.direction == "up"
    assert category.severity == "critical" and not category.favorable  # more expense is bad
    assert category.value > 2.5 * category.expected
    assert "2024年11月市场推广费用" in category.reason_zh and "不利" in category.reason_zh
    assert "for Marketing in Nov 2024" in category.reason_en
    [department] = pick(found, "expenses", "2024-11", "市场部")
    assert department.dimension == "department" and "Marketing" in department.reason_en
    [total] = pick(found, "expenses", "2024-11")
    assert total.direction == "up" and total.z > 3.5


def test_finds_beichen_overdue_climb_in_late_2025(found):
    company = sorted(
        (a for a in found if a.metric == "overdue_over_90" and a.dimension is None),
        key=lambda a: a.period,
    )
    assert [a.period for a in company] == [date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1)]
    assert all(a.direction == "up" and a.severity == "critical" for a in company)
    north = sorted(a.period for a in found if a.metric == "overdue_over_90" and a.member == "华北")
    assert north == [date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1)]
    assert "North" in pick(found, "overdue_over_90", "2025-12", "华北")[0].reason_en


def test_a_spike_does_not_come_back_as_a_dip_a_year_later(found):
    assert pick(found, "expenses", "2025-11", "市场推广") == []
    assert pick(found, "expenses", "2025-11", "市场部") == []
    assert pick(found, "expenses", "2025-11") == []


def test_ordinary_months_stay_quiet(model, found):
    per_series = Counter((a.metric, a.dimension, a.member) for a in found)
    assert max(per_series.values()) <= 3
    planted = {
        ("gross_margin", "2025-03"),
        ("expenses", "2024-11"),
        ("overdue_over_90", "2025-10"),
        ("overdue_over_90", "2025-11"),
        ("overdue_over_90", "2025-12"),
    }
    others = [a for a in found if (a.metric, a.period.isoformat()[:7]) not in planted]
    assert len(others) <= 6, [a.reason_en for a in others]
    assert all(a.severity != "critical" for a in others), [a.reason_en for a in others]
    for metric in watched(model):
        assert sum(1 for a in others if a.metric == metric) <= 3, metric
    assert [a for a in found if a.metric in ("revenue", "collections")] == []


def test_february_dip_is_a_season_not_an_anomaly(model, engine, found):
    # The dip is real and deep: February revenue is far below January and March every year.
    query = SemanticQuery(metrics=["revenue"], dimensions=["metric_time:month"])
    series = engine.execute(compile_query(model, query).ast).rows
    by_month = {row[0]: float(row[1]) for row in series}
    for year in (2023, 2024, 2025):
        neighbours = (by_month[date(year, 1, 1)] + by_month[date(year, 3, 1)]) / 2
        assert by_month[date(year, 2, 1)] < 0.75 * neighbours
    volume = ("revenue", "collections", "expenses", "order_count", "units_sold")
    scanned = scan_anomalies(
        model, engine, AS_OF, metrics=volume, dimensions=["region", "expense_category"]
    )
    assert [a for a in scanned if a.period.month == 2] == []
    assert [a for a in found if a.period.month == 2 and a.dimension is None] == []


def test_anomaly_numbers_are_the_governed_numbers(model, engine, found):
    [category] = pick(found, "expenses", "2024-11", "市场推广")
    rows = engine.execute(compile_query(model, category.query).ast).records()
    by_month = {r["metric_time__month"]: r["expenses"] for r in rows}
    assert float(by_month[date(2024, 11, 1)]) == pytest.approx(category.value)
    assert min(by_month) == date(2023, 1, 1) and max(by_month) == date(2025, 12, 1)
    spent = engine.execute(
        "SELECT SUM(amount) FROM expenses WHERE category = '市场推广' "
        "AND expense_date >= DATE '2024-11-01' AND expense_date < DATE '2024-12-01'"
    ).scalar()
    assert category.value == pytest.approx(float(spent))


def test_scope_arguments(model, engine):
    only = scan_anomalies(model, engine, AS_OF, metrics=["expenses"], dimensions=[])
    assert {(a.metric, a.dimension) for a in only} == {("expenses", None)}
    # A breakdown the metric cannot reach is skipped, not an error (费用 has no 区域).
    mapped = scan_anomalies(
        model, engine, AS_OF, metrics=["expenses", "gross_margin"], dimensions=["region"]
    )
    assert {a.dimension for a in mapped if a.metric == "expenses"} <= {None}
    assert "华南" in {a.member for a in mapped if a.metric == "gross_margin"}
    # A shorter window reports only its own months.
    recent = scan_anomalies(model, engine, AS_OF, months=6)
    assert recent and all(a.period >= date(2025, 7, 1) for a in recent)
    assert pick(recent, "overdue_over_90", "2025-12")


def test_partial_month_is_left_out(model, engine):
    mid_month = scan_anomalies(model, engine, date(2025, 12, 15), months=3)
    assert all(a.period <= date(2025, 11, 1) for a in mid_month)


def test_quiet_history_before_the_events(model, engine):
    """Up to 2024-10 nothing was planted: no critical anomaly may appear."""
    early = scan_anomalies(model, engine, date(2024, 10, 31), months=10)
    assert [a.reason_en for a in early if a.severity == "critical"] == []


def test_worst_first_and_fast(model, engine):
    started = time.perf_counter()
    found = scan_anomalies(model, engine, AS_OF)
    assert time.perf_counter() - started < 3
    ranks = {"critical": 0, "warning": 1, "info": 2}
    keys = [(ranks[a.severity], -abs(a.z)) for a in found]
    assert keys == sorted(keys)
