"""A real browser: `streamlit run app.py`, headless Chromium, a Chinese question, its chart,
and the sidebar's page list (对话 · Chat, 驾驶舱 · Board) leading to the board.

Saves a screenshot to tests/artifacts/browser_answer.png and prints the cold start (process
start → first answer rendered with its chart). Needs Debian's `chromium` and the `playwright`
package (never `playwright install`: the system browser is used); `.ci/run` installs both.
"""

from __future__ import annotations

import time

import pytest
from browser_util import ARTIFACTS, chromium, streamlit_app
from browser_util import wait_for_port as _wait_for_port

QUESTION = "2025年各区域的毛利率"


@pytest.fixture
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    """A tab, open before the app starts (as a person's browser would be)."""
    return browser.new_page(viewport={"width": 1280, "height": 1500})


@pytest.fixture
def server(demo_db, tmp_path):
    """Starts `streamlit run app.py` on a free port; yields (url, start time, process)."""
    with streamlit_app(demo_db, tmp_path / "boards.sqlite") as running:
        yield running


def test_chinese_question_in_a_real_browser(page, server):
    """The browser is open before the app starts: the time measured is the app's."""
    url, started, process = server
    _wait_for_port(url, process)
    page.goto(url)
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for(timeout=30_000)
    box.fill(QUESTION)
    box.press("Enter")
    answer = page.get_by_test_id("stChatMessage").filter(has_text="29.6%")
    answer.wait_for(timeout=30_000)
    chart = page.locator(
        "[data-testid='stChatMessage'] .vega-embed canvas, "
        "[data-testid='stChatMessage'] .vega-embed svg"
    ).first
    chart.wait_for(timeout=30_000)
    cold_start = time.perf_counter() - started
    print(f"\ncold start to first answer: {cold_start:.2f} s")

    page.wait_for_timeout(800)  # let the chart finish its first paint before the screenshot
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser_answer.png"), full_page=True)

    text = page.inner_text("body")
    assert QUESTION in text
    assert "华北（29.6%）" in text  # the narrative: 华北 has the highest gross margin
    assert "华东" in text and "29.1%" in text  # the formatted table
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 150
    assert cold_start < 15  # generous for a loaded CI machine; the README reports the real one


def test_the_sidebar_lists_the_chat_and_the_board_by_name(page, server):
    """`st.navigation` names the pages (not "app" for the chat); the board's link opens it."""
    url, _, process = server
    _wait_for_port(url, process)
    outside: list[str] = []  # every page asset is served locally (the app works offline)
    page.on("request", lambda r: outside.append(r.url) if "//localhost" not in r.url else None)
    page.goto(url)
    links = page.get_by_test_id("stSidebarNavLink")
    links.first.wait_for(timeout=30_000)
    items = [
        [line for line in text.splitlines() if line.strip()] for text in links.all_inner_texts()
    ]
    assert items == [["对话 · Chat"], ["驾驶舱 · Board"]]
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=30_000)  # the chat is the default
    assert page.title() == "Cockpit · 对话 · Chat"

    links.filter(has_text="驾驶舱 · Board").click()
    page.wait_for_url("**/board", timeout=30_000)
    page.get_by_test_id("stMetric").first.wait_for(timeout=30_000)
    text = page.inner_text("body")
    assert "管理驾驶舱" in text and "营业收入" in text  # the default board's title and a tile
    assert page.title() == "Cockpit · 驾驶舱 · Board"
    assert outside == []  # no page icon fetched from fonts.gstatic.com


def test_chips_say_what_was_computed_and_a_filter_chip_removes_its_filter(browser, server, demo_db):
    """In a real browser, at the two window widths people use: the answer's chips (metric ·
    filter · period · breakdown); clicking the filter chip asks again without it, and the new
    answer covers every region (the company's 电商 revenue, larger than 华东's alone)."""
    from semantic_layer.engine import DuckDBEngine

    with DuckDBEngine(demo_db) as engine:
        (company_online,) = engine.execute(
            "SELECT SUM(l.amount) FROM order_lines l JOIN orders o USING (order_id)"
            " WHERE o.status = '已完成' AND o.channel = '电商'"
            " AND o.order_date >= DATE '2025-01-01' AND o.order_date < DATE '2026-01-01'"
        ).rows[0]
    company_online = float(company_online)
    url, _, process = server
    _wait_for_port(url, process)
    for width in (1280, 1920):
        page = browser.new_page(viewport={"width": width, "height": 1200})
        page.goto(url)
        box = page.get_by_test_id("stChatInputTextArea")
        box.wait_for(timeout=30_000)
        box.fill("2025年华东各渠道的收入")
        box.press("Enter")
        answer = page.get_by_test_id("stChatMessage").filter(has_text="按渠道")
        answer.wait_for(timeout=30_000)
        chip = page.get_by_role("button", name="区域 = 华东")
        chip.wait_for(timeout=30_000)
        first = page.inner_text("body")
        assert "营业收入" in first and "2025年" in first
        ARTIFACTS.mkdir(exist_ok=True)
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / f"browser_chips_{width}.png"), full_page=True)
        chip.click()
        removed = page.get_by_test_id("stChatMessage").filter(has_text="去掉筛选：区域 = 华东")
        removed.first.wait_for(timeout=30_000)
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / f"browser_chip_removed_{width}.png"), full_page=True)
        messages = page.get_by_test_id("stChatMessage")
        last = messages.nth(messages.count() - 1).inner_text()
        assert "区域 = 华东" not in last.split("去掉筛选")[-1]  # no 华东 chip on the new answer
        assert f"电商（{company_online / 1e8:.2f}亿）" in last  # every region's 电商 revenue
        page.close()
