"""Real user flows in a real browser (issue #17, "for business users"): a manager, an analyst
and an executive asking in Chinese, the language and the role switched in the sidebar, and
the 驾驶舱 board for a regional manager.

One `streamlit run app.py` serves the whole module (against the demo DuckDB); each flow is
its own tab, so its own session. Every tab is watched: no console error or warning (each one
so far was a real fault, fixed at its source) and no request to any host but this machine
(the app works offline). Numbers are checked against SQL on the demo database, not only
their presence, and screenshots at 1,280 and 1,920 px go to tests/artifacts/flow_*.png.
Needs Debian's `chromium` and the `playwright` package, as tests/test_browser.py does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from browser_util import ARTIFACTS, Watch, chromium, streamlit_app, wait_for_port

from semantic_layer.engine import DuckDBEngine

WIDTHS = (1280, 1920)
HEIGHT = 1300
TIMEOUT = 30_000  # ms; generous for a loaded 2-core CI machine
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
CHART = ".vega-embed canvas, .vega-embed svg"
COMPLETED = "o.status = '已完成'"  # the model's revenue counts completed orders only


# --- the app and the browser, once per module ---------------------------------------------------
@pytest.fixture(scope="module")
def app_url(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with streamlit_app(demo_db, tmp_path_factory.mktemp("boards") / "boards.sqlite") as running:
        url, _, process = running
        wait_for_port(url, process)
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def sql(demo_db: Path) -> Iterator[Any]:
    """Runs SQL on the demo database: the truth the app's numbers are checked against."""
    with DuckDBEngine(demo_db) as engine:
        yield lambda text: engine.execute(text).rows


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def tab(browser: Any, app_url: str, watch: Watch) -> Iterator[Any]:
    """A fresh tab (a new session) on the chat page, watched from before it loads; the flow
    fails if the tab logged an error or a warning or asked another host for anything."""
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": HEIGHT})
    page = watch.attach(context.new_page())
    page.goto(app_url)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=TIMEOUT)
    idle(page)
    yield page
    page.wait_for_timeout(300)  # a late warning from the last chart drawn is still caught
    context.close()
    watch.assert_clean()


# --- helpers --------------------------------------------------------------------------------------
def idle(page: Any) -> None:
    """Until Streamlit has finished the current run of the page script."""
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        timeout=TIMEOUT
    )


def ask(page: Any, question: str) -> Any:
    """Types a question into the chat box as a person would; returns the answer's message."""
    messages = page.get_by_test_id("stChatMessage")
    before = messages.count()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    return answer_after(page, before)


def answer_after(page: Any, before: int) -> Any:
    """The newest answer, once the question (and its answer) have been added to the chat."""
    messages = page.get_by_test_id("stChatMessage")
    messages.nth(before + 1).wait_for(timeout=TIMEOUT)
    idle(page)
    assert messages.count() == before + 2
    answer = messages.nth(before + 1)
    answer.scroll_into_view_if_needed()
    return answer


def drawn(answer: Any, at_least: int = 1) -> list[dict[str, float]]:
    """The answer's charts, waited for; their boxes (each wide and tall enough to read)."""
    charts = answer.locator(CHART)
    charts.first.wait_for(timeout=TIMEOUT)
    boxes = [charts.nth(n).bounding_box() for n in range(charts.count())]
    assert len(boxes) >= at_least
    for box in boxes:
        assert box is not None and box["width"] > 100 and box["height"] > 60, box
    return boxes


def screenshots(page: Any, name: str) -> None:
    """The page as it stands at 1,280 and at 1,920 px, then back to 1,280."""
    ARTIFACTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        page.wait_for_timeout(600)  # the charts redraw at the new width
        page.screenshot(path=str(ARTIFACTS / f"flow_{name}_{width}.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no side scroll
    page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})


def clipped(scope: Any) -> list[str]:
    """The charts in `scope` cut off at a side: past the window's width, or past the edge of
    an ancestor that hides its overflow (a card's border, a column). Below the fold is not
    cut off: the page scrolls down, never sideways."""
    return scope.evaluate(
        """(root) => {
            const cut = [];
            const width = document.documentElement.clientWidth;
            for (const chart of root.querySelectorAll('.vega-embed canvas, .vega-embed svg')) {
                const box = chart.getBoundingClientRect();
                if (box.left < -1 || box.right > width + 1) cut.push('window: ' + box.right);
                for (let node = chart.parentElement; node && node !== document.body;
                     node = node.parentElement) {
                    if (getComputedStyle(node).overflowX === 'visible') continue;
                    const edge = node.getBoundingClientRect();
                    if (box.left < edge.left - 1 || box.right > edge.right + 1) {
                        cut.push(node.className + ': ' + box.left + '–' + box.right +
                                 ' outside ' + edge.left + '–' + edge.right);
                        break;
                    }
                }
            }
            return cut;
        }"""
    )


def sidebar_choice(page: Any, label: str, option: str) -> None:
    """Picks `option` in the sidebar selectbox called `label` (a combo box: open, click)."""
    page.get_by_test_id("stSidebar").get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    idle(page)


def table(answer: Any) -> str:
    """The answer's table as text. The grid is drawn on a canvas; its cells are also in an
    accessible table (filled once the grid has drawn) that `inner_text` skips, not being
    painted: read its text content, once there."""
    grid = answer.get_by_test_id("stDataFrame")
    grid.wait_for(timeout=TIMEOUT)
    for _ in range(100):
        text = grid.text_content() or ""
        if text.strip():
            return text
        answer.page.wait_for_timeout(100)
    pytest.fail("the answer's table has no cells")


def wan(amount: Decimal | float) -> str:
    """An amount as the Chinese answers write it between 10⁴ and 10⁸: 7,902.31万."""
    return f"{float(amount) / 1e4:,.2f}万"


def yi(amount: Decimal | float) -> str:
    """An amount as the Chinese answers write it from 10⁸: 1.42亿."""
    return f"{float(amount) / 1e8:,.2f}亿"


def margins(sql: Any, start: str, end: str, where: str = "TRUE", by: str = "'all'") -> dict:
    """Gross margin (1 − cost ÷ revenue) of completed orders in [start, end), per `by`."""
    rows = sql(
        f"SELECT {by}, 1 - SUM(l.cost_amount) / SUM(l.amount) FROM order_lines l"
        " JOIN orders o USING (order_id) JOIN regions r ON o.region_id = r.region_id"
        " JOIN products p ON l.product_id = p.product_id"
        f" WHERE {COMPLETED} AND o.order_date >= DATE '{start}'"
        f" AND o.order_date < DATE '{end}' AND {where} GROUP BY 1"
    )
    return {key: float(value) for key, value in rows}


def revenue(sql: Any, start: str, end: str, where: str = "TRUE") -> Decimal:
    """Revenue (the amount of completed order lines) in [start, end)."""
    ((total,),) = sql(
        "SELECT SUM(l.amount) FROM order_lines l JOIN orders o USING (order_id)"
        " JOIN regions r ON o.region_id = r.region_id"
        f" WHERE {COMPLETED} AND o.order_date >= DATE '{start}'"
        f" AND o.order_date < DATE '{end}' AND {where}"
    )
    return total


# --- the flows ------------------------------------------------------------------------------------
def test_manager_asks_margin_by_region_then_about_the_south_and_its_revenue(tab, sql):
    """A regional sales manager: margins by region (percentages, a bar chart), then 那华南呢
    (the South's margin against last year, as a KPI card), then 那收入呢 (its revenue, in 亿)."""
    by_region = margins(sql, "2025-01-01", "2026-01-01", by="r.region_name")
    best, worst = max(by_region, key=by_region.get), min(by_region, key=by_region.get)
    assert (best, worst) == ("华北", "华南")  # the demo's story: the South sells cheapest

    answer = ask(tab, "2025年各区域的毛利率")
    drawn(answer)
    text = answer.inner_text()
    assert f"毛利率最高的是 {best}（{by_region[best]:.1%}）" in text
    assert f"最低的是 {worst}（{by_region[worst]:.1%}）" in text
    rows = table(answer)
    for region, margin in by_region.items():  # the table: every region, as a percentage
        assert f"{region}{margin:.1%}" in rows
    assert "点击图中的柱" in text  # the bar chart can be clicked to drill down
    screenshots(tab, "manager")

    south = ask(tab, "那华南呢")
    drawn(south)
    last_year = margins(sql, "2024-01-01", "2025-01-01", where="r.region_name = '华南'")["all"]
    change = (by_region["华南"] - last_year) * 100
    text = south.inner_text()
    assert f"毛利率为{by_region['华南']:.1%}" in text
    assert f"同比下降 {abs(change):.1f} 个百分点" in text
    assert "区域 = 华南" in text  # the chip says which region the follow-up kept

    sales = ask(tab, "那收入呢")
    drawn(sales)
    now = revenue(sql, "2025-01-01", "2026-01-01", "r.region_name = '华南'")
    before = revenue(sql, "2024-01-01", "2025-01-01", "r.region_name = '华南'")
    text = sales.inner_text()
    assert f"营业收入为{yi(now)}" in text
    assert f"同比增长 {float(now / before - 1):.1%}（对比期 {yi(before)}）" in text
    card = sales.locator(".vega-embed svg").first.text_content()  # the KPI card, drawn as SVG
    assert yi(now) in card and f"▲ {float(now / before - 1):.1%}" in card
    assert f"去年同期 {yi(before)}" in card
    screenshots(tab, "manager_followup")

    # Back up to the first answer: a click on 华北's bar drills into its customers.
    bars = answer.locator(".vega-embed svg [aria-roledescription='bar']")  # one per region
    labels = [bars.nth(n).get_attribute("aria-label") or "" for n in range(bars.count())]
    assert len(labels) == len(by_region)
    north = next(n for n, label in enumerate(labels) if "华北" in label)
    messages = tab.get_by_test_id("stChatMessage")
    before_drill = messages.count()
    bars.nth(north).scroll_into_view_if_needed()
    bars.nth(north).click()
    drill = answer_after(tab, before_drill)
    drawn(drill)
    customers = margins(
        sql,
        "2025-01-01",
        "2026-01-01",
        where="r.region_name = '华北'",
        by="(SELECT customer_name FROM customers c WHERE c.customer_id = o.customer_id)",
    )
    best, worst = max(customers, key=customers.get), min(customers, key=customers.get)
    text = drill.inner_text()
    assert "下钻 华北" in messages.nth(before_drill).inner_text()  # the question the click asked
    # The drill's filter is said with the period (issue 16: the sentence names what it is).
    assert f"2025年（区域：华北）共 {len(customers)} 个客户" in text
    assert f"毛利率最高的是 {best}（{customers[best]:.1%}）" in text
    assert f"最低的是 {worst}（{customers[worst]:.1%}）" in text
    screenshots(tab, "manager_drill")


def test_analyst_asks_why_margin_fell_in_march_then_drills_into_a_suggestion(tab, sql):
    """An analyst: why the margin fell in March (the change, the members behind it, a
    waterfall), then the first suggested drill-down, clicked."""
    march = margins(sql, "2025-03-01", "2025-04-01")["all"]
    february = margins(sql, "2025-02-01", "2025-03-01")["all"]
    online = margins(sql, "2025-03-01", "2025-04-01", where="o.channel = '电商'")["all"]
    february_online = margins(sql, "2025-02-01", "2025-03-01", where="o.channel = '电商'")["all"]
    assert march < february - 0.02  # the planted clearance promotion

    answer = ask(tab, "为什么3月毛利率下降了?")
    drawn(answer)
    steps = answer.locator(".vega-embed svg").first.text_content() or ""  # the waterfall
    assert all(step in steps for step in ("基期", "电商", "直销", "经销", "本期")), steps
    text = answer.inner_text()
    assert f"3月毛利率为 {march:.1%}，比上月（{february:.1%}）下降" in text
    assert f"{(february - march) * 100:.1f}个百分点" in text
    assert "主要原因：渠道「电商」" in text and "华南" in text
    assert f"电商{february_online:.1%}{online:.1%}" in table(answer)  # 上月, then 3月
    screenshots(tab, "analyst")

    suggestion = answer.get_by_role("button", name="3月智能终端各渠道的毛利率")
    messages = tab.get_by_test_id("stChatMessage")
    before = messages.count()
    suggestion.click()
    drill = answer_after(tab, before)
    drawn(drill)
    by_channel = margins(
        sql, "2025-03-01", "2025-04-01", where="p.product_line = '智能终端'", by="o.channel"
    )
    best, worst = max(by_channel, key=by_channel.get), min(by_channel, key=by_channel.get)
    text = drill.inner_text()
    assert f"毛利率最高的是 {best}（{by_channel[best]:.1%}）" in text
    assert f"最低的是 {worst}（{by_channel[worst]:.1%}）" in text
    assert worst == "电商"
    screenshots(tab, "analyst_drill")


def test_executive_summary_cards_are_all_visible_at_1280(tab, sql):
    """An executive: 本月经营概况, the month's KPI cards (every one whole at 1,280 px, the
    width of a laptop), with revenue and margin as SQL computes them for December 2025."""
    december = revenue(sql, "2025-12-01", "2026-01-01")
    november = revenue(sql, "2025-11-01", "2025-12-01")
    margin = margins(sql, "2025-12-01", "2026-01-01")["all"]

    answer = ask(tab, "本月经营概况")
    text = answer.inner_text()
    assert f"本月营业收入 {wan(december)}，环比 {float(december / november - 1):+.1%}" in text
    assert f"毛利率 {margin:.1%}" in text
    boxes = drawn(answer, at_least=7)  # revenue, margin, expenses, profit, collections, AR, cash
    assert answer.get_by_test_id("stVegaLiteChart").count() == len(boxes) == 7  # one per card
    cards = answer.locator(CHART).first.text_content() or ""  # drawn as SVG: its text is there
    assert "营业收入" in cards and wan(december) in cards
    rows = table(answer)
    assert f"营业收入¥{wan(december)}¥{wan(november)}" in rows
    for width in WIDTHS:
        tab.set_viewport_size({"width": width, "height": HEIGHT})
        tab.wait_for_timeout(600)
        assert clipped(answer) == [], f"KPI cards cut off at {width} px"
    answer.locator(CHART).first.scroll_into_view_if_needed()
    screenshots(tab, "executive")


def test_english_then_the_east_region_manager_sees_the_east_only(tab, sql):
    """The language radio turns the page and new answers English; the role selectbox, set to
    the East region manager, holds every answer to 华东: revenue by region is one row, East."""
    sidebar = tab.get_by_test_id("stSidebar")
    sidebar.get_by_test_id("stRadio").get_by_text("English", exact=True).click()
    idle(tab)
    tab.get_by_placeholder("Ask a business question").wait_for(timeout=TIMEOUT)
    side = sidebar.inner_text()
    for label in ("Data source", "Role", "Alerts", "New conversation"):
        assert label in side
    for label in ("数据源", "角色", "预警", "新对话", "试试这些问题"):
        assert label not in tab.inner_text("body")

    east = revenue(sql, "2025-01-01", "2026-01-01", "r.region_name = '华东'")
    (regions,) = sql("SELECT COUNT(DISTINCT region_name) FROM regions")[0]
    everyone = ask(tab, "revenue by region in 2025")
    drawn(everyone)
    text = everyone.inner_text()
    assert f"East (¥{float(east) / 1e6:,.2f}M)" in text
    assert f"{regions} region values" in text
    assert not CJK.findall(text), f"Chinese in an English answer: {CJK.findall(text)}"
    screenshots(tab, "english")

    sidebar_choice(tab, "Role", "East region manager")
    mine = ask(tab, "revenue by region in 2025")
    drawn(mine)
    text = mine.inner_text()
    assert f"Revenue for East, 2025: ¥{float(east) / 1e6:,.2f}M" in text
    for other in ("South", "North", "Northwest", "Southwest", "Central", "Northeast"):
        assert other not in text  # no other region, in the sentence or the table
    assert not CJK.findall(text), f"Chinese in an English answer: {CJK.findall(text)}"
    screenshots(tab, "english_east_manager")


def test_the_board_for_the_east_region_manager(tab, sql, watch):
    """The 驾驶舱 board, reached from the sidebar, for the East region manager: the year's
    revenue and margin of 华东 (as SQL computes them), and the tiles the role may not see
    (expenses, profit, cash) left out and said, not shown as blanks."""
    sidebar_choice(tab, "角色", "华东区经理")
    tab.get_by_test_id("stSidebarNavLink").filter(has_text="驾驶舱 · Board").click()
    tab.wait_for_url("**/board", timeout=TIMEOUT)
    tiles = tab.get_by_test_id("stMetric")
    tiles.first.wait_for(timeout=TIMEOUT)
    idle(tab)
    sparklines = tab.locator("[data-testid='stMetric'] .vega-embed")
    sparklines.first.wait_for(timeout=TIMEOUT)
    # Streamlit's own st.metric sparkline (chart_data) logs these two once per tile: its spec
    # (Metric.js, Streamlit 1.67) layers the hover highlight over a filter that is empty until
    # the pointer moves, and Vega warns about the empty layer's extent. Nothing in our spec or
    # data changes it (a bare st.metric("a", 1, chart_data=[1, 2, 3]) logs the same), so each
    # is allowed once per sparkline drawn, and only on the board. A sparkline is drawn again
    # at each new window width and in each language: here, at 1,920 px and back at 1,280
    # (`screenshots`), then the same three times in English.
    draws = sparklines.count() * 6
    for axis in ("x", "y"):
        watch.tolerate(f'WARN Infinite extent for field "{axis}": [Infinity, -Infinity]', draws)
    charts = tab.locator(CHART)
    charts.first.wait_for(timeout=TIMEOUT)

    east = "r.region_name = '华东'"
    year = revenue(sql, "2025-01-01", "2026-01-01", east)
    margin = margins(sql, "2025-01-01", "2026-01-01", where=east)["all"]
    values = {
        tile.get_by_test_id("stMetricLabel").inner_text().strip(): tile.get_by_test_id(
            "stMetricValue"
        ).inner_text()
        for tile in tiles.all()
    }
    assert values["营业收入"] == yi(year)
    assert values["毛利率"] == f"{margin:.1%}"
    assert not {"费用", "营业利润", "经营活动现金净流量"} & set(values)
    text = tab.inner_text("body")
    assert "未显示（华东区经理无权查看）：费用、营业利润、经营活动现金净流量" in text
    assert "区域：华东（华东区经理的数据范围）" in text
    assert tab.title() == "Cockpit · 驾驶舱 · Board"
    assert clipped(tab.get_by_test_id("stMainBlockContainer")) == []
    screenshots(tab, "board_east_manager")

    # The same board in English: the tiles, the note on what is left out, and the region chart
    # (its bars drawn as SVG, so its labels are text) name everything in English.
    tab.get_by_test_id("stSidebar").get_by_test_id("stRadio").get_by_text("English").click()
    idle(tab)
    tab.get_by_test_id("stMetricLabel").filter(has_text="Revenue").first.wait_for(timeout=TIMEOUT)
    text = tab.inner_text("body")
    assert "Left out (East region manager may not see them): Expenses, Operating profit" in text
    assert "Region: East (East region manager's data)" in text
    region_chart = tab.locator(".vega-embed svg").filter(has_text="by region").first
    region_chart.wait_for(timeout=TIMEOUT)
    words = region_chart.text_content() or ""
    assert "East" in words and not CJK.findall(words), words
    screenshots(tab, "board_east_manager_en")


# Questions whose charts take each shape `assistant.charts` draws: a line, a running total, a
# line per member, a donut, long and ranked horizontal bars, stacked bars, a heatmap, bars
# against budget, this year against last (bars and lines), panels stacked and side by side.
GALLERY = (
    "2025年每月收入",
    "今年累计收入",
    "2025年每月各渠道收入",
    "2025年各渠道收入占比",
    "2025年各客户的收入",
    "收入前5的客户",
    "2025年各区域各渠道的收入",
    "2025年各产品线各区域的毛利率",
    "2025年各区域收入和预算比",
    "2025年每月收入同比",
    "2025年各区域收入同比",
    "2025年各区域的收入和毛利率",
    "2025年收入和毛利率前5的客户",
)


def test_every_kind_of_chart_draws_without_a_console_warning(tab, demo_db):
    """Each shape of chart, drawn in the browser: none logs a warning (a chart drawn before
    its rows, a "fit" Vega-Lite cannot do on a concatenation or a step-sized side)."""
    from assistant import Assistant
    from assistant.charts import chart

    assistant = Assistant.demo(database=demo_db)
    conversation = assistant.conversation()  # the same questions in the same order as the tab
    shapes: set[str] = set()
    for question in GALLERY:
        answer = conversation.ask(question)
        spec = chart(answer.columns, answer.rows, "zh", model=assistant.model, query=answer.query)
        assert spec is not None, question
        shapes |= {k for k in ("hconcat", "vconcat", "layer") if k in spec}
        if isinstance(spec.get("width"), dict):
            shapes.add("step width")  # the heatmap: a band per member each way
        if isinstance(spec.get("height"), int) and "width" not in spec:
            shapes.add("fixed height")  # horizontal bars
        if "'arc'" in str(spec):
            shapes.add("arc")
    # The risky shapes are all there: side by side, stacked, a step-sized heatmap, horizontal
    # bars of a fixed height, a donut.
    assert shapes >= {"hconcat", "vconcat", "layer", "step width", "fixed height", "arc"}, shapes

    for question in GALLERY:
        drawn(ask(tab, question))
