"""The 驾驶舱 board on the real demo database: pins re-run to the numbers asking again gives,
relative periods follow the as-of date, shared filters and periods, roles, YAML, and the page
driven headless with AppTest."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assistant import Assistant
from assistant.board import (
    PERIODS,
    BoardError,
    BoardStore,
    default_board,
    export_yaml,
    infer_period,
    load_board_yaml,
    pin_answer,
    resolve_period,
    run_board,
    view_board,
)
from assistant.settings import Settings
from semantic_layer.query import SemanticQuery, TimeRange

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")  # the entrypoint: st.navigation over the chat and the board
PAGE = str(ROOT / "app_pages" / "board.py")
EAST = [{"dimension": "region", "op": "=", "values": ["华东"]}]


@pytest.fixture(scope="module")
def assistant(demo_db, tmp_path_factory) -> Assistant:
    cache = tmp_path_factory.mktemp("board_cache")
    return Assistant.demo(database=demo_db, settings=Settings(cache_dir=cache))


@pytest.fixture
def store(tmp_path) -> BoardStore:
    return BoardStore(tmp_path / "boards.sqlite")


def pin_questions(assistant, store, board, questions, role=None):
    for question in questions:
        answer = assistant.ask(question, role=role)
        assert answer.status == "ok", (question, answer.message)
        store.pin(board, role, answer.question, answer.query, as_of=assistant.as_of)
    return store.get(board, role)


def number(value) -> float | None:
    return None if value is None else float(value)


def tiles_by_metric(tiles):
    return {t.metric: t for t in tiles if t.kind == "kpi"}


# --- pin → run gives the numbers of asking again ------------------------------------------------
QUESTIONS = [
    "今年的营业收入",
    "本月毛利率",
    "90天以上逾期",
    "上月费用",
    "2025年3月的回款",
    "近12个月收入趋势",
    "今年各区域收入",
    "今年营业收入、毛利率和费用",
]


def test_a_pinned_answer_reruns_to_the_numbers_of_asking_again(assistant, store):
    board = pin_questions(assistant, store, "mine", QUESTIONS)
    assert [p.question for p in board.pins] == QUESTIONS
    tiles = run_board(assistant, board)
    for index, question in enumerate(QUESTIONS):
        again = assistant.ask(question)
        mine = [t for t in tiles if t.pin_index == index]
        assert all(t.status == "ok" for t in mine), question
        if again.query.dimensions:
            (tile,) = mine
            assert tile.kind == "chart" and tile.chart
            assert tile.answer.rows == again.rows, question
        else:
            assert [t.metric for t in mine] == again.query.metrics
            for tile in mine:
                assert tile.value == pytest.approx(number(again.value(tile.metric))), question
    # Three metrics of one pin are three tiles.
    assert len(tiles) == len(QUESTIONS) + 2


def test_pins_keep_the_query_and_a_period_keyword_not_numbers(assistant, store):
    board = pin_questions(assistant, store, "mine", QUESTIONS[:5])
    periods = [p.period for p in board.pins]
    assert periods == ["ytd", "this_month", "to_date", "last_month", None]
    assert all(p.query.time_range is None for p in board.pins[:4])
    # A fixed period keeps its dates.
    assert board.pins[4].query.time_range.start == date(2025, 3, 1)
    assert "rows" not in export_yaml(board) and "686" not in export_yaml(board)


@pytest.mark.parametrize(
    ("label", "start", "end", "expected"),
    [
        ("今年", date(2025, 1, 1), date(2026, 1, 1), "ytd"),
        ("年初至今", date(2025, 1, 1), date(2026, 1, 1), "ytd"),
        ("ytd", date(2025, 1, 1), date(2026, 1, 1), "ytd"),
        ("2025年", date(2025, 1, 1), date(2026, 1, 1), None),
        ("近12个月", date(2025, 1, 1), date(2026, 1, 1), "last_12_months"),
        ("last 12 months", date(2025, 1, 1), date(2026, 1, 1), "last_12_months"),
        ("本月", date(2025, 12, 1), date(2026, 1, 1), "this_month"),
        ("12月", date(2025, 12, 1), date(2026, 1, 1), None),
        ("上季度", date(2025, 7, 1), date(2025, 10, 1), "last_quarter"),
        ("截至2025-12-31", date(1900, 1, 1), date(2026, 1, 1), "to_date"),
    ],
)
def test_the_period_keyword_is_read_from_the_users_words(label, start, end, expected):
    window = TimeRange(start=start, end=end, label=label)
    assert infer_period(window, date(2025, 12, 31)) == expected


def test_relative_periods_follow_the_as_of_date(assistant, store):
    board = pin_questions(assistant, store, "mine", ["本月收入", "2025年3月的回款"])
    june = run_board(assistant, board, as_of=date(2025, 6, 30))
    month = assistant.run(
        SemanticQuery(metrics=["revenue"], time_range={"start": "2025-06-01", "end": "2025-07-01"}),
        plain=True,
    )
    assert june[0].value == pytest.approx(number(month.value()))
    assert june[0].period == resolve_period("this_month", date(2025, 6, 30))
    march = assistant.ask("2025年3月的回款")
    assert june[1].value == pytest.approx(number(march.value()))  # fixed: not moved


def test_every_period_keyword_resolves_like_the_question_grammar():
    day = date(2025, 8, 14)
    assert resolve_period("this_month", day).start == date(2025, 8, 1)
    assert resolve_period("this_month", day).end == date(2025, 8, 15)
    assert resolve_period("last_quarter", day).start == date(2025, 4, 1)
    assert resolve_period("to_date", day).end == date(2025, 8, 15)
    assert resolve_period("2025-03", day).start == date(2025, 3, 1)
    for keyword in PERIODS:
        resolve_period(keyword, day)
    with pytest.raises(BoardError) as err:
        resolve_period("someday", day)
    assert "期间" in err.value.message("zh") and "period" in err.value.message("en")


# --- tiles: deltas, colours, sparklines, alerts -----------------------------------------------------
def test_kpi_tiles_carry_deltas_coloured_by_what_is_good_news(assistant, store):
    board = pin_questions(assistant, store, "mine", ["本月收入", "本月费用", "本月毛利率"])
    tiles = tiles_by_metric(run_board(assistant, board))
    for metric, question in [("revenue", "本月收入"), ("expenses", "本月费用")]:
        mom = assistant.ask(question + "环比")
        yoy = assistant.ask(question + "同比")
        tile = tiles[metric]
        assert tile.mom.basis == "mom" and tile.yoy.basis == "yoy"
        assert tile.mom.change == pytest.approx(number(mom.value(f"{metric}__change_pct")))
        assert tile.yoy.change == pytest.approx(number(yoy.value(f"{metric}__change_pct")))
        up = tile.yoy.change > 0
        assert tile.yoy.good is (up if tile.higher_is_better else not up)
        assert tile.yoy.colour == ("green" if tile.yoy.good else "red")
    assert tiles["expenses"].higher_is_better is False
    # A rate changes in percentage points.
    margin = tiles["gross_margin"]
    assert (
        margin.yoy.points and "个百分点" in margin.yoy.text("zh") and "pp" in margin.yoy.text("en")
    )
    # The sparkline: the twelve months ending with the period's month, the last one the value.
    line = tiles["revenue"].sparkline
    assert len(line) == 12 and line[0][0] == date(2025, 1, 1) and line[-1][0] == date(2025, 12, 1)
    assert line[-1][1] == pytest.approx(tiles["revenue"].value)


def test_year_to_date_tiles_have_no_month_on_month_but_balances_do(assistant):
    tiles = tiles_by_metric(run_board(assistant, default_board(assistant)))
    assert tiles["revenue"].mom is None and tiles["revenue"].yoy.change is not None
    overdue = tiles["overdue_over_90"]
    assert overdue.mom is not None and overdue.mom.basis == "mom"


def test_alerts_firing_are_attached_to_their_tiles(assistant):
    march = date(2025, 3, 31)
    view = view_board(assistant, default_board(assistant), as_of=march)
    rules = {a.rule for a in view.alerts}
    assert "gross_margin_floor" in rules
    tiles = tiles_by_metric(view.tiles)
    assert "gross_margin_floor" in {a.rule for a in tiles["gross_margin"].alerts}
    assert not tiles["revenue"].alerts
    # Inside 华东 the company-wide margin drop is not 华东's.
    east = view_board(assistant, default_board(assistant), as_of=march, filters=EAST)
    assert "gross_margin_floor" not in {a.rule for a in east.alerts}


# --- shared filters and the period ----------------------------------------------------------------
def test_a_region_filter_applies_where_the_metric_reaches_region(assistant):
    board = default_board(assistant)
    everyone = tiles_by_metric(run_board(assistant, board))
    east = tiles_by_metric(run_board(assistant, board, filters=EAST))
    revenue = assistant.ask("今年华东的营业收入")
    assert east["revenue"].value == pytest.approx(number(revenue.value()))
    assert east["revenue"].value < everyone["revenue"].value
    assert east["revenue"].filtered and not east["revenue"].unfiltered
    # Expenses cannot be split by region: unchanged, and said so.
    assert east["expenses"].value == pytest.approx(everyone["expenses"].value)
    assert east["expenses"].unfiltered == ("region",)
    overdue = assistant.ask("华东90天以上逾期")
    assert east["overdue_over_90"].value == pytest.approx(number(overdue.value()))
    # A breakdown by region keeps every region under a region filter (one bar would say
    # nothing), and is marked as not filtered.
    regions = [t for t in run_board(assistant, board, filters=EAST) if t.kind == "chart"][1]
    assert len(regions.answer.rows) == 7 and "华东" in [row[0] for row in regions.answer.rows]
    assert regions.unfiltered == ("region",) and not regions.filtered
    assert regions.answer.rows == assistant.ask("今年各区域的营业收入").rows


def test_the_period_override_replaces_each_pins_period(assistant):
    board = default_board(assistant)
    tiles = run_board(assistant, board, period="2025-03")
    march = tiles_by_metric(tiles)
    revenue = assistant.ask("2025年3月的营业收入")
    assert march["revenue"].value == pytest.approx(number(revenue.value()))
    assert march["revenue"].mom.basis == "mom"
    trend = next(t for t in tiles if t.kind == "chart" and t.answer.query.dimensions[0].grain)
    assert trend.period.end == date(2025, 4, 1)  # the trend ends with the chosen month
    assert len(trend.answer.rows) == 12
    with pytest.raises(BoardError):
        run_board(assistant, board, period="someday")


# --- roles --------------------------------------------------------------------------------------------
def test_a_board_run_for_a_role_shows_only_its_rows(assistant):
    board = default_board(assistant)
    east = tiles_by_metric(run_board(assistant, board, role="east_manager"))
    asked = assistant.ask("今年的营业收入", role="east_manager")
    filtered = assistant.ask("今年华东的营业收入")
    assert east["revenue"].value == pytest.approx(number(asked.value()))
    assert east["revenue"].value == pytest.approx(number(filtered.value()))
    # Expenses are closed to the role: a message, never a number.
    assert east["expenses"].status == "refused" and east["expenses"].value is None
    assert "华东区经理" in east["expenses"].message
    regions = [t for t in run_board(assistant, board, role="east_manager") if t.kind == "chart"]
    assert {row[0] for row in regions[1].answer.rows} == {"华东"}


def test_each_metric_of_a_pin_takes_the_filter_and_the_role_it_can(assistant, store):
    board = pin_questions(assistant, store, "mine", ["今年营业收入、毛利率和费用", "本月经营概况"])
    east = run_board(assistant, board, filters=EAST)
    first = {t.metric: t for t in east if t.pin_index == 0}
    assert first["revenue"].value == pytest.approx(
        number(assistant.ask("今年华东的营业收入").value())
    )
    assert first["expenses"].unfiltered == ("region",) and first["revenue"].unfiltered == ()
    # The summary's KPI pack is read as plain numbers, so the filter applies to it too.
    summary = {t.metric: t for t in east if t.pin_index == 1}
    assert len(summary) == 7 and summary["revenue"].kind == "kpi"
    month = assistant.ask("本月华东的营业收入")
    assert summary["revenue"].value == pytest.approx(number(month.value()))
    scoped = {t.metric: t for t in run_board(assistant, board, role="east_manager")}
    assert scoped["revenue"].status == "ok" and scoped["gross_margin"].status == "ok"
    assert scoped["expenses"].status == "refused" and scoped["expenses"].value is None


def test_a_pin_compared_with_its_budget_shows_the_attainment(assistant, store):
    board = pin_questions(assistant, store, "mine", ["今年收入和预算比"])
    (tile,) = run_board(assistant, board)
    attainment = assistant.ask("今年的收入预算完成率")
    assert tile.attainment == pytest.approx(number(attainment.value()))


def test_boards_are_stored_per_role(assistant, store):
    pin_questions(assistant, store, "east", ["今年的营业收入"], role="east_manager")
    pin_questions(assistant, store, "all", ["今年的费用"])
    assert [b.name for b in store.list_boards("east_manager")] == ["east"]
    assert [b.name for b in store.list_boards(None)] == ["all"]
    assert [b.name for b in store.list_boards("*")] == ["all"]  # the app's "all data"
    with pytest.raises(BoardError) as err:
        store.get("east", None)
    assert "east" in err.value.message("en") and "看板" in err.value.message("zh")
    store.ensure_default("sales_dept", assistant)
    assert [b.name for b in store.list_boards("sales_dept")] == ["default"]


def test_a_chat_answer_is_pinned_to_the_roles_board(assistant, store):
    east = assistant.for_role("east_manager")
    answer = east.ask("本月各渠道收入")
    pin = pin_answer(store, east, answer)
    assert pin.period == "this_month" and pin.query.dimensions[0].name == "channel"
    (board,) = store.list_boards("east_manager")
    assert board.name == "default" and board.pins[-1].question == "本月各渠道收入"
    assert store.list_boards(None) == []
    tiles = run_board(assistant, board, role="east_manager")
    assert tiles[-1].answer.rows == answer.rows
    # An answer asked at another as-of date keeps that date's reading of its words.
    june = Assistant.demo(
        database=assistant.engine.path, as_of=date(2025, 6, 30), settings=assistant.settings
    )
    earlier = june.ask("今年的营业收入")
    assert pin_answer(store, assistant, earlier, "june", as_of=june.as_of).period == "ytd"
    with pytest.raises(BoardError) as err:
        pin_answer(store, east, east.ask("净利润是多少"))
    assert "固定" in err.value.message("zh") and "pinned" in err.value.message("en")


# --- storage, order and YAML ---------------------------------------------------------------------------
def test_pins_can_be_reordered_moved_and_removed(assistant, store, tmp_path):
    board = pin_questions(assistant, store, "mine", ["本月收入", "本月费用", "本月回款"])
    first, second, third = (p.id for p in board.pins)
    assert [p.id for p in store.reorder("mine", None, [third, first]).pins] == [
        third,
        first,
        second,
    ]
    assert [p.id for p in store.move("mine", None, second, -1).pins] == [third, second, first]
    store.remove("mine", None, third)
    assert [p.id for p in store.get("mine", None).pins] == [second, first]
    with pytest.raises(BoardError):
        store.remove("mine", None, third)
    # Another store on the same file sees the same board (a cron job and the app share it).
    assert [p.id for p in BoardStore(tmp_path / "boards.sqlite").get("mine", None).pins] == [
        second,
        first,
    ]
    store.remove("mine", None)
    assert store.list_boards(None) == []


def test_a_board_survives_a_yaml_round_trip(assistant, store):
    board = pin_questions(assistant, store, "mine", QUESTIONS)
    text = export_yaml(board)
    imported = store.import_yaml(text, "sales_dept")
    assert imported.role == "sales_dept" and imported.name == "mine"
    assert [(p.question, p.query, p.period) for p in imported.pins] == [
        (p.question, p.query, p.period) for p in board.pins
    ]
    assert export_yaml(imported) == text
    before = tiles_by_metric(run_board(assistant, board))
    after = tiles_by_metric(run_board(assistant, imported))
    assert {m: t.value for m, t in before.items()} == {m: t.value for m, t in after.items()}


def test_the_default_board_ships_the_cockpit_numbers(assistant):
    board = default_board(assistant)
    metrics = [m for pin in board.pins for m in pin.query.metrics]
    for wanted in [
        "revenue",
        "gross_margin",
        "expenses",
        "operating_profit",
        "collections",
        "overdue_over_90",
        "operating_cash_flow",
        "revenue_attainment",
    ]:
        assert wanted in metrics
    tiles = run_board(assistant, board)
    assert all(t.status == "ok" for t in tiles)
    assert all(len(t.sparkline) == 12 for t in tiles if t.kind == "kpi")


@pytest.mark.parametrize(
    ("text", "zh", "en"),
    [
        ("name: [unclosed", "语法错误", "syntax error"),
        ("title: no name\npins: []", "字段有误", "Invalid board YAML"),
        ("name: x\npins:\n  - {question: q, query: {metrics: []}}", "查询无效", "invalid query"),
        (
            "name: x\npins:\n  - {question: q, period: someday, query: {metrics: [revenue]}}",
            "期间",
            "unknown period",
        ),
        (
            "name: x\npins:\n  - {question: q, query: {metrics: [revenue]}, colour: red}",
            "字段",
            "colour",
        ),
    ],
)
def test_bad_board_yaml_says_what_is_wrong(text, zh, en):
    with pytest.raises(BoardError) as err:
        load_board_yaml(text)
    assert zh in err.value.message("zh")
    assert en in err.value.message("en")


def test_an_unknown_metric_in_an_imported_board_is_a_message_not_a_crash(assistant):
    board = load_board_yaml(
        "name: x\npins:\n  - {question: 净利润, query: {metrics: [net_profit]}}"
    )
    (tile,) = run_board(assistant, board)
    assert tile.status != "ok" and tile.value is None and tile.message


# --- the page -------------------------------------------------------------------------------------------
@pytest.fixture
def page_env(demo_db, tmp_path, monkeypatch):
    monkeypatch.setenv("COCKPIT_DATABASE", str(demo_db))
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COCKPIT_BOARD_DB", str(tmp_path / "boards.sqlite"))
    monkeypatch.setenv("COCKPIT_LANG", "zh")
    monkeypatch.delenv("COCKPIT_ROLE", raising=False)
    return tmp_path


def metrics_shown(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_board_page_shows_the_default_board(page_env, assistant):
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.run()
    assert not at.exception
    shown = metrics_shown(at)
    for label in [
        "营业收入",
        "毛利率",
        "费用",
        "营业利润",
        "回款额",
        "90天以上逾期",
        "收入预算完成率",
    ]:
        assert label in shown
    revenue = assistant.ask("今年的营业收入")
    assert shown["营业收入"] == "6.86亿" or shown["营业收入"].endswith("亿")
    assert float(revenue.value()) > 1e8
    deltas = {m.label: m.proto.delta for m in at.metric}
    assert deltas["营业收入"].startswith(("+", "-"))
    assert len(at.get("vega_lite_chart")) == 2  # the trend and the regions
    assert "数据截至 2025-12-31" in at.caption[0].value
    assert at.subheader[-1].value == "当前预警"

    at.selectbox(key="board_member_region").set_value("华东").run()
    assert not at.exception
    east = metrics_shown(at)
    assert east["营业收入"] != shown["营业收入"] and east["费用"] == shown["费用"]
    assert any("不受「区域」筛选影响" in c.value for c in at.caption)

    at.selectbox(key="board_period").set_value("2025-03").run()
    assert not at.exception
    assert any("2025-03-01" in c.value for c in at.caption)

    at.selectbox(key="board_member_region").set_value("").run()
    at.selectbox(key="board_role").set_value("east_manager").run()
    assert not at.exception
    assert at.session_state["role"] == "east_manager"
    scoped = metrics_shown(at)
    # What the role may not see is left out and said, never a tile of "—".
    hidden = ["费用", "营业利润", "经营活动现金净流量"]
    assert not set(hidden) & set(scoped) and {"营业收入", "回款额"} <= set(scoped)
    assert "—" not in scoped.values()
    assert any(c.value == "未显示（华东区经理无权查看）：" + "、".join(hidden) for c in at.caption)
    # The role sees 华东 only: no filter offering 全部 and 华东 (the same thing), its scope said.
    assert "board_member_region" not in [s.key for s in at.selectbox]
    assert any(m.value == "区域：华东（华东区经理的数据范围）" for m in at.markdown)

    at.radio(key="board_lang").set_value("en").run()
    assert not at.exception
    assert "Revenue" in metrics_shown(at) and at.session_state["lang"] == "en"


def test_the_chat_and_the_board_share_language_as_of_and_role(page_env):
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.sidebar.selectbox(key="chat_role").set_value("east_manager").run()
    at.sidebar.date_input(key="chat_as_of").set_value(date(2025, 6, 30)).run()
    at.switch_page("app_pages/board.py").run()
    assert not at.exception
    assert at.selectbox(key="board_role").value == "east_manager"
    assert "数据截至 2025-06-30" in at.caption[0].value
    at.selectbox(key="board_role").set_value("sales_dept").run()
    at.switch_page("app_pages/chat.py").run()
    assert not at.exception
    assert at.sidebar.selectbox(key="chat_role").value == "sales_dept"
    assert at.sidebar.date_input(key="chat_as_of").value == date(2025, 6, 30)


def test_the_page_reorders_pins_and_offers_the_yaml_export(page_env):
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.run()
    assert not at.exception
    store = BoardStore(page_env / "boards.sqlite")
    (board,) = store.list_boards(None)
    assert board.name == "default" and len(board.pins) == 10
    # Reorder from the page: the second pin moves up.
    second = board.pins[1].id
    at.button(key=f"up-{second}").click().run()
    assert not at.exception
    assert store.get("default", None).pins[0].id == second
    assert next(iter(metrics_shown(at))) == "毛利率"
    (download,) = at.get("download_button")
    assert download.proto.label == "导出 YAML"
    assert [e.label for e in at.get("file_uploader")] == ["导入 YAML"]


def test_two_tiles_of_one_metric_are_told_apart_by_their_periods(assistant, store):
    board = pin_questions(assistant, store, "margins", ["今年的毛利率", "本月毛利率", "今年的收入"])
    tiles = view_board(assistant, board, date(2025, 12, 31)).tiles
    assert [t.title for t in tiles] == ["年初至今毛利率", "本月毛利率", "营业收入"]
    december = assistant.ask("2025年12月的毛利率").value()
    assert tiles[1].value == pytest.approx(float(december))
    english = view_board(assistant, board, date(2025, 12, 31), lang="en").tiles
    assert english[1].title == "Gross margin (this month)"
