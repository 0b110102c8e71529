"""Anomaly and alert questions in the chat, and `cockpit alerts` for cron."""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

from assistant import Assistant
from assistant.cli import app


@pytest.fixture(scope="module")
def assistant(demo_db) -> Assistant:
    return Assistant.demo(database=demo_db)


def test_anomaly_questions(assistant):
    answer = assistant.ask("最近有什么异常?")
    assert answer.status == "ok" and answer.rows
    months = {(row[0], row[2]) for row in answer.rows}
    assert (date(2025, 3, 1), "华南") in months  # the clearance promotion
    assert any("逾期" in row[1] for row in answer.rows)  # 北辰重工's 90+ climb in 华北
    english = assistant.ask("any anomalies in gross margin in 2025?")
    assert english.status == "ok" and all(r[0].year == 2025 for r in english.rows)
    assert "anomal" in english.narrative


def test_alert_questions(assistant):
    november = assistant.ask("2024年11月有什么预警")
    assert november.status == "ok"
    assert any("市场推广" in row[2] and row[0] == "critical" for row in november.rows)
    quiet = assistant.ask("2024年6月有什么预警")
    assert quiet.rows == [] and "没有" in quiet.narrative


@pytest.mark.parametrize(
    ("as_of", "code", "text"),
    [("2025-12-31", 2, "北辰重工"), ("2024-11-30", 2, "市场推广"), ("2024-06-30", 0, "没有")],
)
def test_cockpit_alerts_exit_codes(demo_db, as_of, code, text):
    result = CliRunner().invoke(app, ["alerts", "--as-of", as_of, "--db", str(demo_db)])
    assert result.exit_code == code, result.output
    assert text in result.output
