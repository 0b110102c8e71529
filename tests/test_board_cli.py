"""The board and push commands, end to end on the demo data."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from assistant.cli import app


@pytest.fixture
def env(tmp_path, monkeypatch, demo_db):
    monkeypatch.setenv("COCKPIT_BOARD_DB", str(tmp_path / "boards.sqlite"))
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COCKPIT_PUSH_ATTEMPTS", "2")
    monkeypatch.setenv("COCKPIT_PUSH_BACKOFF", "0.01")
    return demo_db


def test_show_pin_export_and_a_failed_push(env, tmp_path):
    runner = CliRunner()
    shown = runner.invoke(app, ["board", "show", "default", "--db", str(env)])
    assert shown.exit_code == 0, shown.output
    assert "营业收入" in shown.output and "毛利率" in shown.output
    pinned = runner.invoke(app, ["board", "pin", "2025年各区域的营业收入", "--db", str(env)])
    assert pinned.exit_code == 0 and "2025年各区域的营业收入" in pinned.output
    exported = runner.invoke(app, ["board", "export", "default"])
    assert exported.exit_code == 0 and "2025年各区域的营业收入" in exported.output
    failed = runner.invoke(
        app, ["push", "--to", "webhook:http://127.0.0.1:9/hook", "--db", str(env)]
    )
    assert failed.exit_code == 1 and "失败" in failed.output
    assert list((tmp_path / "cache" / "outbox").glob("*.html"))  # nothing lost silently
