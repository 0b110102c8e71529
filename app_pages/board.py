"""驾驶舱 / Board: the pinned answers re-run on the current data, as KPI tiles and charts.

Thin like the chat page (`chat.py`): the board is run by `assistant.board` (tested without
Streamlit); this page lays out the tiles (value, 同比/环比 with up-is-good colours, a 12-month
sparkline), the pinned charts and the alerts firing, with filters for a shared dimension and
the period, the board picker, and YAML export/import. Language, as-of date and role are the
chat page's choices (the same session keys: `lang`, `as_of`, `role`). Run by `app.py`, which
sets the page config.
"""

from __future__ import annotations

import os
from datetime import date

import streamlit as st

from assistant import Assistant
from assistant.board import (
    ALL_DATA,
    PERIODS,
    BoardError,
    BoardStore,
    BoardView,
    Tile,
    default_board,
    dimension_members,
    export_yaml,
    not_filtered_text,
    period_label,
    role_scope,
    unreached,
    view_board,
)
from assistant.charts import for_streamlit
from assistant.settings import load_settings
from assistant.ui_helpers import md_escape, role_options, t
from semantic_layer import knowledge
from semantic_layer.compiler import add_months
from semantic_layer.query import Filter

TEXT = {
    "board": ("看板", "Board"),
    "everyone": ("全部", "All"),
    "period": ("期间", "Period"),
    "own_period": ("各卡片自己的期间", "Each pin's own period"),
    "context": ("数据截至 {day} · {who}", "As of {day} · {who}"),
    "charts": ("图表", "Charts"),
    "budget": ("预算完成", "Of budget"),
    "alerts": ("当前预警", "Alerts firing"),
    "no_alerts": ("当前没有触发的预警。", "No alert is firing."),
    "empty": (
        "这个看板还没有固定的答案：在对话页的答案下点「钉到驾驶舱」。",
        "Nothing is pinned to this board yet: pin an answer from the chat page.",
    ),
    "scope": ("{dim}：{members}（{who}的数据范围）", "{dim}: {members} ({who}'s data)"),
    "left_out": (
        "未显示（{who}无权查看）：{names}",
        "Left out ({who} may not see them): {names}",
    ),
    "manage": ("管理看板", "Manage the board"),
    "up": ("上移", "Move up"),
    "down": ("下移", "Move down"),
    "remove": ("移除", "Remove"),
    "export": ("导出 YAML", "Export YAML"),
    "import": ("导入 YAML", "Import YAML"),
    "imported": ("已导入看板「{name}」。", "Imported the board {name}."),
    "restore": ("恢复默认看板", "Restore the default board"),
    "working": ("正在刷新看板…", "Refreshing the board…"),
    "no_store": (
        "无法打开看板文件（{detail}）。请设置 COCKPIT_BOARD_DB 为可写的文件路径。",
        "The board file cannot be opened ({detail}). Set COCKPIT_BOARD_DB to a writable path.",
    ),
}


def tr(key: str, lang: str, **values: object) -> str:
    text = TEXT[key][0 if lang == "zh" else 1]
    return text.format(**values) if values else text


@st.cache_resource(show_spinner="正在准备数据… Preparing the data…")
def load_assistant(as_of: date | None) -> Assistant:
    """One Assistant per as-of date, shared by every session (it is read-only)."""
    return Assistant.open(as_of=as_of)


@st.cache_resource
def board_store(path: str) -> BoardStore:
    """The board file (`COCKPIT_BOARD_DB`, else the user data directory's)."""
    return BoardStore(path or None)


@st.cache_resource(ttl=300, max_entries=64, show_spinner=False)
def board_view(
    _assistant: Assistant,
    board_yaml: str,
    database: str,
    as_of: date,
    role: str,
    filters: tuple[tuple[str, str], ...],
    period: str | None,
    lang: str,
) -> BoardView:
    """A board run, reused for five minutes by every viewer with the same choices."""
    from assistant.board import load_board_yaml

    board = load_board_yaml(board_yaml)
    shared = [Filter(dimension=d, op="=", values=[v]) for d, v in filters]
    return view_board(_assistant, board, as_of, shared, period, role, lang)


# --- the chat page's choices ------------------------------------------------------------------
state = st.session_state
# Streamlit forgets the state of widgets that are not on the page being run: keep the chat
# page's language, as-of date and role as plain session values while this page runs.
for shared_key in ("lang", "as_of", "role"):
    if shared_key in state:
        state[shared_key] = state[shared_key]
# app.py has checked the settings: an unusable value stopped the app there with its message.
settings = load_settings()
state.setdefault("lang", settings.lang)


def copy_to(source: str, target: str) -> None:
    """A widget of this page changed a choice the chat page shares."""
    state[target] = state[source]


default = load_assistant(None)
with st.sidebar:
    st.radio(
        "语言 · Language",
        ["zh", "en"],
        index=0 if state.lang == "zh" else 1,
        key="board_lang",
        horizontal=True,
        format_func={"zh": "中文", "en": "English"}.get,
        on_change=copy_to,
        args=("board_lang", "lang"),
    )
lang: str = state.lang
roles = role_options(default.model, lang, configured=default.role)
if state.get("role") not in roles:
    state["role"] = next(iter(roles))
as_of: date = state.get("as_of") or default.as_of
with st.sidebar:
    st.header(t("title", lang))
    st.date_input(
        t("as_of", lang),
        value=as_of,
        key="board_as_of",
        help=t("as_of_help", lang),
        on_change=copy_to,
        args=("board_as_of", "as_of"),
    )
    st.selectbox(
        t("role", lang),
        list(roles),
        index=list(roles).index(state.role),
        key="board_role",
        format_func=roles.get,
        help=t("role_help", lang),
        disabled=default.role is not None,
        on_change=copy_to,
        args=("board_role", "role"),
    )
role: str = state.role
assistant = default if as_of == default.as_of else load_assistant(as_of)
viewer = assistant.for_role(None if role == ALL_DATA else role)
model = assistant.model

# --- the board --------------------------------------------------------------------------------
try:
    store = board_store(os.environ.get("COCKPIT_BOARD_DB", ""))
except OSError as err:  # an unwritable data directory: say where boards could go instead
    st.error(tr("no_store", lang, detail=err))
    st.stop()
store.ensure_default(role, viewer)
boards = {b.name: b for b in store.list_boards(role)}
if not boards:
    st.info(tr("empty", lang))
    st.stop()
if state.get("board") not in boards:
    state["board"] = next(iter(boards))
with st.sidebar:
    st.selectbox(
        tr("board", lang),
        list(boards),
        index=list(boards).index(state.board),
        key="board_pick",
        format_func=lambda name: boards[name].title,
        on_change=copy_to,
        args=("board_pick", "board"),
    )
board = boards[state.board]


def move(pin_id: int, offset: int) -> None:
    store.move(board.name, role, pin_id, offset)


def remove(pin_id: int) -> None:
    store.remove(board.name, role, pin_id)


def restore() -> None:
    demo = default_board(viewer)
    if demo is not None:
        store.save(demo, role)
        state["board"] = demo.name


def import_board() -> None:
    upload = state.get("board_upload")
    if upload is None:
        return
    try:
        imported = store.import_yaml(upload.getvalue().decode("utf-8"), role)
    except (BoardError, UnicodeDecodeError) as err:
        state["board_notice"] = (
            "error",
            err.message(lang) if isinstance(err, BoardError) else str(err),
        )
        return
    state["board"] = imported.name
    state["board_notice"] = ("success", tr("imported", lang, name=imported.title))


with st.sidebar:
    with st.expander(tr("manage", lang), icon=":material/dashboard_customize:"):
        for n, pin in enumerate(board.pins):
            with st.container(horizontal=True, vertical_alignment="center"):
                st.caption(md_escape(pin.title or pin.question))
                st.button(
                    "↑",
                    key=f"up-{pin.id}",
                    help=tr("up", lang),
                    on_click=move,
                    args=(pin.id, -1),
                    disabled=n == 0,
                )
                st.button(
                    "↓",
                    key=f"down-{pin.id}",
                    help=tr("down", lang),
                    on_click=move,
                    args=(pin.id, 1),
                    disabled=n == len(board.pins) - 1,
                )
                st.button(
                    "✕",
                    key=f"remove-{pin.id}",
                    help=tr("remove", lang),
                    on_click=remove,
                    args=(pin.id,),
                )
        st.download_button(
            tr("export", lang),
            data=export_yaml(board),
            file_name=f"{board.name}.yaml",
            mime="application/x-yaml",
            on_click="ignore",
            icon=":material/download:",
        )
        st.file_uploader(
            tr("import", lang), type=["yaml", "yml"], key="board_upload", on_change=import_board
        )
        st.button(tr("restore", lang), on_click=restore, icon=":material/restart_alt:")
    notice = state.pop("board_notice", None)
    if notice:
        getattr(st, notice[0])(notice[1])

# --- filters ----------------------------------------------------------------------------------
st.title(board.title)
filters: tuple[tuple[str, str], ...] = ()
scoped: list[str] = []  # dimensions the role holds to its members: a filter in effect
who = roles.get(role, role)
with st.container(horizontal=True, vertical_alignment="bottom"):
    # The dimensions the whole board can be filtered by: the model's, else derived from it.
    counts = {name: len(values) for name, values in viewer.lexicon.values.items()}
    for shared in knowledge.board_filters(model, counts):
        members = dimension_members(viewer, shared)
        dimension = model.dimension(shared)
        held = role_scope(viewer, shared)
        # Members by their English names on an English page (East for 华东), as the tiles say.
        english = viewer.lexicon.english.get(shared, {}) if lang == "en" else {}
        if held is not None and len(members) <= 1:
            # 全部 and 华东 would be the same thing for a role that sees 华东 only: say the
            # scope instead of offering a choice that changes nothing.
            scoped.append(shared)
            named = [english.get(m, m) for m in members or held]
            shown = "、".join(named) if lang == "zh" else ", ".join(named)
            st.markdown(
                md_escape(tr("scope", lang, dim=dimension.label.get(lang), members=shown, who=who))
            )
            continue
        key = f"board_member_{shared}"
        if state.get(key) not in ("", *members):  # a member the new role cannot see
            state[key] = ""
        picked = st.selectbox(
            dimension.label.get(lang),
            ["", *members],
            key=key,
            format_func=lambda v, names=english: names.get(v, v) or tr("everyone", lang),
            width=220,
        )
        if picked:
            filters = (*filters, (shared, picked))
    last_month = date(as_of.year, as_of.month, 1)
    months = [add_months(last_month, -i).strftime("%Y-%m") for i in range(12)]
    period = st.selectbox(
        tr("period", lang),
        ["", *PERIODS, *months],
        key="board_period",
        format_func=lambda p: period_label(p, lang) if p else tr("own_period", lang),
        width=220,
    )

with st.spinner(tr("working", lang)):
    view = board_view(
        viewer,
        export_yaml(board),
        str(getattr(viewer.engine, "path", "")),
        as_of,
        role,
        filters,
        period or None,
        lang,
    )
st.caption(tr("context", lang, day=view.as_of, who=who))
denied = [tile for tile in view.tiles if tile.denied]
if denied:  # what the role may not see is left out, and said, never a row of "—"
    names = ("、" if lang == "zh" else ", ").join(dict.fromkeys(t.title for t in denied))
    st.caption(md_escape(tr("left_out", lang, who=who, names=names)))

if not board.pins:
    st.info(tr("empty", lang))


def not_filtered(tile: Tile) -> str:
    """ "不受「区域」筛选影响" for a tile whose figures a chosen filter (or the role's scope)
    does not narrow: it shows the whole company's number under a filtered board."""
    missed = (*(tile.unfiltered if filters else ()), *unreached(viewer, tile, scoped))
    return not_filtered_text(model, missed, lang)


def colored(delta) -> str:
    if delta is None or delta.change is None:
        return ""
    colour = {True: "green", False: "red", None: "gray"}[delta.good]
    return f":{colour}[{delta.basis_label(lang)} {delta.arrow} {md_escape(delta.text(lang))}]"


def show_kpi(tile: Tile) -> None:
    with st.container(border=True):
        if tile.status != "ok":
            st.metric(tile.title, "—")
            st.caption(md_escape(tile.message))
            return
        yoy = tile.yoy if tile.yoy is not None and tile.yoy.change is not None else None
        st.metric(
            tile.title,
            tile.value_text(lang),
            delta=yoy.text(lang) if yoy else None,
            delta_color="normal" if tile.higher_is_better else "inverse",
            delta_description=yoy.basis_label(lang) if yoy else None,
            chart_data=[v for _, v in tile.sparkline if v is not None] or None,
            chart_type="area",
            help=tile.pin.question,
        )
        attainment = tile.attainment
        budget = f"{tr('budget', lang)} {attainment:.1%}" if attainment is not None else ""
        notes = [colored(tile.mom), budget, md_escape(tile.period_text(lang)), not_filtered(tile)]
        st.caption("  \n".join(n for n in notes if n))


def show_chart(tile: Tile, index: int) -> None:
    with st.container(border=True):
        if tile.pin.title:
            st.markdown(f"**{md_escape(tile.pin.title)}**")
        if tile.status != "ok":
            st.caption(md_escape(tile.pin.question))
            st.warning(tile.message)
            return
        if tile.chart:
            spec = tile.chart
            fixed = any(k in spec for k in ("hconcat", "vconcat", "concat")) or "width" in spec
            st.vega_lite_chart(
                for_streamlit(spec),  # the rows in the spec from the first paint
                width="content" if fixed else "stretch",
                theme=None,
                key=f"board-chart-{index}-{lang}",
            )
        else:
            st.markdown(md_escape(tile.answer.narrative))
        note = not_filtered(tile)
        if note:
            st.caption(note)


kpis = [tile for tile in view.tiles if tile.kind == "kpi" and not tile.denied]
for start in range(0, len(kpis), 4):
    for column, tile in zip(st.columns(4), kpis[start : start + 4], strict=False):
        with column:
            show_kpi(tile)


def wide(tile: Tile) -> bool:
    """Panels of several metrics are drawn at a fixed width: they get a row of their own."""
    spec = tile.chart or {}
    return any(k in spec for k in ("hconcat", "vconcat", "concat")) or "width" in spec


charts = [
    (index, tile)
    for index, tile in enumerate(t for t in view.tiles if t.kind == "chart" and not t.denied)
]
if charts:
    st.subheader(tr("charts", lang))
    rows: list[list[tuple[int, Tile]]] = []
    for item in charts:  # two charts a row, in pin order; a wide one alone
        if wide(item[1]) or not rows or len(rows[-1]) == 2 or wide(rows[-1][0][1]):
            rows.append([item])
        else:
            rows[-1].append(item)
    for row in rows:
        for column, (index, tile) in zip(st.columns(len(row)), row, strict=True):
            with column:
                show_chart(tile, index)

st.subheader(tr("alerts", lang))
if not view.alerts:
    st.caption(tr("no_alerts", lang))
for alert in view.alerts:
    notice = {"critical": st.error, "warning": st.warning}.get(alert.severity, st.info)
    icon = ":material/error:" if alert.severity == "critical" else ":material/warning:"
    notice(md_escape(alert.message(lang)), icon=icon)
