"""The chat app's pin button, its alerts in the sidebar and the data upload (AppTest)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from assistant.board import BoardStore

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def test_pin_an_answer_and_see_alerts(demo_db, monkeypatch, tmp_path):
    boards = tmp_path / "boards.sqlite"
    monkeypatch.setenv("COCKPIT_DATABASE", str(demo_db))
    monkeypatch.setenv("COCKPIT_BOARD_DB", str(boards))
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COCKPIT_LANG", "zh")
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "北辰重工" in captions  # the 90+ overdue alert firing at 2025-12-31
    at.chat_input[0].set_value("2025年各区域的营业收入").run()
    assert not at.exception
    pin = next(b for b in at.button if b.label == "钉到驾驶舱")
    pin.click().run()
    assert not at.exception
    pinned = [p.question for board in BoardStore(boards).list_boards(None) for p in board.pins]
    assert "2025年各区域的营业收入" in pinned
