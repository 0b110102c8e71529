"""Alerts (智能预警): the demo rules fire on the planted events, stay quiet otherwise, read
exactly what a question would, and bad rules are caught at load time with file:line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from assistant.insights.alerts import (
    alerts_history,
    evaluate_alerts,
    period_bounds,
    period_label,
)
from semantic_layer.compiler import compile_query
from semantic_layer.loader import read_model
from semantic_layer.model import Alert, Grain


def by_rule(fired) -> dict[str, list]:
    out: dict[str, list] = {}
    for alert in fired:
        out.setdefault(alert.rule, []).append(alert)
    return out


# --- the planted events -------------------------------------------------------------------
def test_margin_floor_fires_for_the_march_2025_promotion(model, engine):
    fired = evaluate_alerts(model, engine, date(2025, 3, 31))
    rules = by_rule(fired)
    margin = rules["gross_margin_floor"][0]
    assert margin.severity == "critical"
    assert margin.member == () and margin.dimensions == ()
    assert margin.period_start == date(2025, 3, 1) and margin.period_end == date(2025, 4, 1)
    assert 0.26 < margin.value < 0.28 and margin.threshold == 0.28
    assert margin.message_zh == "毛利率低于警戒线：2025年3月 毛利率 26.9%，低于 28.0%"
    assert (
        margin.message_en
        == "Gross margin below the floor: Gross margin 26.9% in Mar 2025, below 28.0%"
    )
    # The scoped rule (channel = 电商) fires too, and says so in both languages.
    ecommerce = rules["ecommerce_margin_floor"][0]
    assert "电商" in ecommerce.message_zh and "E-commerce" in ecommerce.message_en
    assert fired[0] is margin  # critical first


def test_budget_usage_fires_for_the_november_2024_campaign(model, engine):
    rules = by_rule(evaluate_alerts(model, engine, date(2024, 11, 30)))
    [critical] = rules["expense_item_far_over_budget"]
    assert critical.severity == "critical"
    assert critical.dimensions == ("department", "expense_category")
    assert critical.member == ("市场部", "市场推广")
    assert critical.value > 2.5
    assert "市场部 / 市场推广" in critical.message_zh and "150.0%" in critical.message_zh
    assert "Department Marketing / Expense category Marketing" in critical.message_en
    [department] = rules["department_over_budget"]
    assert department.severity == "warning" and department.member == ("市场部",)
    assert "Marketing" in department.message_en and "220.3%" in department.message_en


def test_overdue_ceiling_fires_for_beichen_from_october_2025(model, engine):
    rules = by_rule(evaluate_alerts(model, engine, date(2025, 12, 31)))
    [overdue] = rules["overdue_over_90_per_customer"]
    assert overdue.member == ("北辰重工",) and overdue.severity == "critical"
    assert overdue.value > 5_000_000
    assert "北辰重工" in overdue.message_zh and "万" in overdue.message_zh
    assert "¥" in overdue.message_en and "Dec 2025" in overdue.message_en
    history = alerts_history(model, engine, date(2025, 1, 1), date(2025, 12, 31))
    months = [a.period_start for a in history if a.rule == "overdue_over_90_per_customer"]
    assert months == [date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1)]


def test_material_operating_cash_outflow_is_a_warning(model, engine):
    [ocf] = by_rule(evaluate_alerts(model, engine, date(2025, 4, 30)))[
        "negative_operating_cash_flow"
    ]
    assert ocf.severity == "warning" and ocf.value < -10_000_000
    assert "-¥" in ocf.message_en
    # An ordinary dip below zero (2025-12: about -¥6M) is not material.
    assert "negative_operating_cash_flow" not in by_rule(
        evaluate_alerts(model, engine, date(2025, 12, 31))
    )


# --- quiet periods ------------------------------------------------------------------------
@pytest.mark.parametrize("as_of", [date(2024, 6, 30), date(2023, 9, 30), date(2025, 7, 31)])
def test_quiet_months_have_no_critical_alert(model, engine, as_of):
    fired = evaluate_alerts(model, engine, as_of)
    assert [a for a in fired if a.severity == "critical"] == []
    assert {a.rule for a in fired} <= {"negative_operating_cash_flow"}


def test_three_years_fire_only_on_the_planted_events(model, engine):
    history = alerts_history(model, engine, date(2023, 1, 1), date(2025, 12, 31))
    events = {
        (a.rule, a.period_start.isoformat()[:7], a.member)
        for a in history
        if a.rule != "negative_operating_cash_flow"
    }
    assert events == {
        ("gross_margin_floor", "2025-03", ()),
        ("ecommerce_margin_floor", "2025-03", ()),
        ("department_over_budget", "2024-11", ("市场部",)),
        ("expense_item_far_over_budget", "2024-11", ("市场部", "市场推广")),
        ("overdue_over_90_per_customer", "2025-10", ("北辰重工",)),
        ("overdue_over_90_per_customer", "2025-11", ("北辰重工",)),
        ("overdue_over_90_per_customer", "2025-12", ("北辰重工",)),
    }
    # The change rule is evaluated (it has a base from 2024 on) and never fires on this data.
    assert all(a.rule != "region_revenue_drop_yoy" for a in history)
    assert [a.period_start for a in history] == sorted(a.period_start for a in history)


def test_history_agrees_with_month_by_month_evaluation(model, engine):
    history = alerts_history(model, engine, date(2024, 10, 1), date(2025, 3, 31))
    monthly = []
    for month in (10, 11, 12):
        monthly += evaluate_alerts(model, engine, date(2024, month, 15))
    for month in (1, 2, 3):
        monthly += evaluate_alerts(model, engine, date(2025, month, 15))
    key = lambda a: (a.period_start, a.rule, a.member, round(a.value, 9))  # noqa: E731
    assert sorted(map(key, history)) == sorted(map(key, monthly))


# --- the numbers are the governed numbers -------------------------------------------------
def test_fired_value_equals_its_query_and_hand_written_sql(model, engine, demo_db):
    [critical] = by_rule(evaluate_alerts(model, engine, date(2024, 11, 30)))[
        "expense_item_far_over_budget"
    ]
    rows = engine.execute(compile_query(model, critical.query).ast).records()
    assert len(rows) == 1 and rows[0]["expense_budget_usage"] == pytest.approx(critical.value)
    spent, budget = engine.execute(
        """
        SELECT
          (SELECT SUM(e.amount) FROM expenses e JOIN departments d USING (dept_id)
           WHERE d.dept_name = '市场部' AND e.category = '市场推广'
             AND e.expense_date >= DATE '2024-11-01' AND e.expense_date < DATE '2024-12-01'),
          (SELECT SUM(b.amount) FROM expense_budget b JOIN departments d USING (dept_id)
           WHERE d.dept_name = '市场部' AND b.category = '市场推广' AND b.month = DATE '2024-11-01')
        """
    ).rows[0]
    assert critical.value == pytest.approx(float(Decimal(spent) / Decimal(budget)))


def test_balance_rule_reads_the_last_snapshot_of_the_month(model, engine):
    [overdue] = by_rule(evaluate_alerts(model, engine, date(2025, 11, 3)))[
        "overdue_over_90_per_customer"
    ]
    expected = engine.execute(
        """
        SELECT SUM(a.overdue_over_90) FROM ar_aging_monthly a JOIN customers c USING (customer_id)
        WHERE c.customer_name = '北辰重工' AND a.snapshot_date = (
          SELECT MAX(snapshot_date) FROM ar_aging_monthly
          WHERE snapshot_date >= DATE '2025-11-01' AND snapshot_date < DATE '2025-12-01')
        """
    ).scalar()
    assert overdue.value == pytest.approx(float(expected))


def test_change_rule_fires_with_a_lower_bar(model, engine):
    """A change rule reads the relative change; moved to -5% it fires for a real dip."""
    rule = model.alerts[-1]
    assert rule.change == "yoy" and rule.dimensions == ["region"]
    strict = model.model_copy(update={"alerts": [rule.model_copy(update={"value": -0.05})]})
    fired = alerts_history(strict, engine, date(2024, 1, 1), date(2025, 12, 31))
    assert fired and all(a.value < -0.05 for a in fired)
    dip = next(a for a in fired if a.member == ("西北",) and a.period_start == date(2024, 2, 1))
    assert dip.message_zh.startswith("区域收入同比大幅下滑：2024年2月 西北 营业收入同比 -")
    assert "Northwest" in dip.message_en and "year over year" in dip.message_en
    assert dip.query.compare.value == "yoy"
    row = engine.execute(compile_query(model, dip.query).ast).records()[0]
    assert row["revenue__change_pct"] == pytest.approx(dip.value)


def test_rules_of_another_grain_are_evaluated_for_their_own_period(model, engine):
    quarterly = Alert(
        name="quarter_margin",
        metric="gross_margin",
        op="<",
        value=0.285,
        grain=Grain.quarter,
        severity="info",
    )
    with_rule = model.model_copy(update={"alerts": [*model.alerts, quarterly]})
    assert all(
        a.rule != "quarter_margin" for a in evaluate_alerts(with_rule, engine, date(2025, 2, 10))
    )
    [fired] = evaluate_alerts(with_rule, engine, date(2025, 2, 10), period="quarter")
    assert fired.period_start == date(2025, 1, 1) and fired.period_end == date(2025, 4, 1)
    assert "2025年第1季度" in fired.message_zh and "Q1 2025" in fired.message_en


def test_periods():
    assert period_bounds(date(2025, 3, 31)) == (date(2025, 3, 1), date(2025, 4, 1))
    assert period_bounds(date(2025, 12, 5), "quarter") == (date(2025, 10, 1), date(2026, 1, 1))
    assert period_bounds(date(2025, 12, 5), "year") == (date(2025, 1, 1), date(2026, 1, 1))
    assert period_bounds(date(2025, 12, 31), "week") == (date(2025, 12, 29), date(2026, 1, 5))
    assert period_label(date(2024, 11, 1), "month", "zh") == "2024年11月"
    assert period_label(date(2024, 11, 1), "month", "en") == "Nov 2024"


# --- bad rules are caught when the model is loaded ----------------------------------------
TINY = """\
name: tiny
tables:
  - {name: sales, primary_key: [id], time_column: sold_on}
  - {name: shops, primary_key: [shop_id]}
  - {name: staff, primary_key: [staff_id]}
joins:
  - {from: sales, to: shops, on: shop_id}
dimensions:
  - {name: shop, table: shops, expr: shop_name, label: {zh: 门店, en: Shop}}
  - {name: team, table: staff, expr: team, label: {zh: 团队, en: Team}}
metrics:
  - name: sales_amount
    label: {zh: 销售额, en: Sales}
    table: sales
    agg: sum
    expr: amount
    time: sold_on
  - name: headcount
    label: {zh: 人数, en: Headcount}
    table: staff
    agg: count
    expr: staff_id
    time: hired_on
alerts:
  - name: good_rule
    metric: sales_amount
    filters: [{dimension: shop, values: [旗舰店]}]
    change: yoy
    op: "<"
    value: -0.2
    owner_role: nobody
  - name: unknown_metric
    metric: sales_amout
    op: "<"
    value: 1
  - name: unreachable_filter
    metric: sales_amount
    filters: [{dimension: team, op: "=", values: [A]}]
    op: ">"
    value: 1
  - name: unknown_dimension
    metric: sales_amount
    dimensions: [shopp]
    op: ">"
    value: 1
  - name: bad_severity
    metric: sales_amount
    op: ">"
    value: 1
    severity: urgent
"""


def line_of(text: str, needle: str, after: str) -> int:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line)
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


def test_bad_rules_are_reported_with_file_and_line(tmp_path):
    path = tmp_path / "model.yaml"
    path.write_text(TINY, encoding="utf-8")
    model, issues = read_model(path)
    errors = [i for i in issues if i.severity == "error"]
    by_code = {i.code: i for i in errors}
    assert set(by_code) == {
        "unknown_metric_in",
        "table_unreachable",
        "unknown_dimension_ref",
        "schema",
    }

    unknown = by_code["unknown_metric_in"]
    assert unknown.line == line_of(TINY, "metric: sales_amout", "name: unknown_metric")
    assert unknown.suggestions[0] == "sales_amount"
    assert f"{path}:{unknown.line}" in unknown.message("en")
    assert "alert unknown_metric" in unknown.message("zh") and "未知指标" in unknown.message("zh")

    unreachable = by_code["table_unreachable"]
    assert unreachable.line == line_of(TINY, "filters:", "name: unreachable_filter")
    assert "sales_amount × team" in unreachable.message("en")
    assert "没有关联路径" in unreachable.message("zh")

    dimension = by_code["unknown_dimension_ref"]
    assert dimension.line == line_of(TINY, "dimensions: [shopp]", "name: unknown_dimension")
    assert dimension.suggestions == ("shop",)

    severity = by_code["schema"]
    assert severity.line == line_of(TINY, "severity: urgent", "name: bad_severity")
    # No roles are declared, so owner_role cannot be checked yet: nothing about `nobody`.
    assert not any("nobody" in i.message("en") for i in issues)


def test_owner_role_must_name_a_declared_role(tmp_path):
    text = TINY.split("  - name: unknown_metric")[0].replace(
        "alerts:", "roles:\n  - {name: finance}\nalerts:"
    )
    path = tmp_path / "model.yaml"
    path.write_text(text, encoding="utf-8")
    model, issues = read_model(path)
    assert model is not None and [i for i in issues if i.severity == "error"] == []
    [warning] = issues
    assert warning.severity == "warning" and "nobody" in warning.message("en")
    assert warning.line == line_of(text, "owner_role: nobody", "name: good_rule")


def test_demo_rules_load_cleanly_and_are_bilingual(model):
    assert len(model.alerts) >= 6
    _, issues = read_model()
    assert [i for i in issues if "alerts" in str(i.params)] == []
    for rule in model.alerts:
        assert rule.label and rule.label.zh and rule.label.en, rule.name
        assert rule.description and rule.description.zh and rule.description.en, rule.name
    severities = {rule.severity for rule in model.alerts}
    assert severities == {"warning", "critical"}
