"""The executive summary and its report: figures equal hand-written SQL."""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

from assistant import Assistant
from assistant.cli import app
from assistant.insights.summary import build_summary
from semantic_layer.engine import DuckDBEngine
from semantic_layer.query import TimeRange

DECEMBER = TimeRange(start=date(2025, 12, 1), end=date(2026, 1, 1), label="2025-12")

REVENUE = """SELECT SUM(l.amount) FROM order_lines l JOIN orders o USING (order_id)
WHERE o.status = '已完成' AND o.order_date >= DATE '{0}' AND o.order_date < DATE '{1}'"""
MARGIN = """SELECT SUM(l.amount - l.cost_amount) / SUM(l.amount) FROM order_lines l
JOIN orders o USING (order_id) WHERE o.status = '已完成' AND o.order_date >= DATE '{0}'
AND o.order_date < DATE '{1}'"""


@pytest.fixture(scope="module")
def assistant(demo_db) -> Assistant:
    return Assistant.demo(database=demo_db)


def value(demo_db, sql: str) -> float:
    with DuckDBEngine(demo_db) as engine:
        return float(engine.execute(sql).scalar())


def test_kpis_equal_hand_written_sql(assistant, demo_db):
    summary = build_summary(assistant, DECEMBER)
    kpi = {k.metric: k for k in summary.kpis}
    assert kpi["revenue"].value == pytest.approx(
        value(demo_db, REVENUE.format("2025-12-01", "2026-01-01"))
    )
    assert kpi["revenue"].previous == pytest.approx(
        value(demo_db, REVENUE.format("2025-11-01", "2025-12-01"))
    )
    assert kpi["revenue"].last_year == pytest.approx(
        value(demo_db, REVENUE.format("2024-12-01", "2025-01-01"))
    )
    assert kpi["revenue"].budget == pytest.approx(
        value(demo_db, "SELECT SUM(amount) FROM revenue_budget WHERE month = DATE '2025-12-01'")
    )
    assert kpi["gross_margin"].value == pytest.approx(
        value(demo_db, MARGIN.format("2025-12-01", "2026-01-01"))
    )
    overdue = value(
        demo_db,
        "SELECT SUM(overdue_1_30 + overdue_31_60 + overdue_61_90 + overdue_over_90) "
        "FROM ar_aging_monthly WHERE snapshot_date = DATE '2025-12-31'",
    )
    assert kpi["overdue_ar"].value == pytest.approx(overdue)
    cash = value(
        demo_db,
        "SELECT SUM(CASE WHEN direction = '流入' THEN amount ELSE -amount END) "
        "FROM cash_flows WHERE activity = '经营活动' AND txn_date >= DATE '2025-12-01'",
    )
    assert kpi["operating_cash_flow"].value == pytest.approx(cash)
    assert summary.movers and abs(summary.movers[0].change) >= abs(summary.movers[-1].change)


def test_summary_questions_in_both_languages(assistant):
    zh = assistant.ask("给我一份本月经营概况")
    assert zh.status == "ok" and zh.query.intent.value == "summary"
    assert "营业收入" in zh.narrative and "环比" in zh.narrative and "毛利率" in zh.narrative
    assert 3 <= zh.narrative.count("。") <= 7
    en = assistant.ask("summarize last month")
    assert en.status == "ok" and "Revenue for last month" in en.narrative
    assert en.query.time_range.start == date(2025, 11, 1)
    year = assistant.ask("给我一份2025年的经营简报")
    assert year.query.time_range.start == date(2025, 1, 1)


@pytest.mark.parametrize("suffix", [".html", ".md"])
def test_report_export(demo_db, tmp_path, suffix):
    out = tmp_path / f"report{suffix}"
    result = CliRunner().invoke(
        app, ["report", "--period", "2025-03", "--out", str(out), "--db", str(demo_db)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "经营简报" in text and "营业收入" in text and "毛利率" in text
    if suffix == ".html":
        assert text.count("<svg") >= 3 and "<script" not in text  # offline charts
    else:
        assert (tmp_path / "report_files" / "chart1.svg").exists()


def test_report_rejects_a_bad_period(demo_db, tmp_path):
    result = CliRunner().invoke(
        app,
        ["report", "--period", "whenever", "--out", str(tmp_path / "r.html"), "--db", str(demo_db)],
    )
    assert result.exit_code == 1 and "whenever" in result.output
