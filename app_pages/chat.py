"""对话 / Chat: the page that renders `Answer`s — thin, no analytics logic here.

Each answer shows what it computed as chips (a filter chip's × asks again without it), its
narrative, the auto-chart (click a bar or point to drill down; KPI cards wrap to the window),
a formatted table, CSV/Excel downloads (and the HTML report for a summary), the
interpretation (口径) and SQL, and follow-up questions as buttons. The sidebar holds the data
source, the as-of date, the role, the language, the metric catalog (指标中心) and the alerts;
the database file, the LLM status and stage timings only behind the 技术细节 toggle. Run by `app.py` (the entrypoint:
`streamlit run app.py`), which sets the page config. What the page shows is computed by
`assistant.ui_helpers` (tested without Streamlit).
"""

from __future__ import annotations

import threading
from datetime import date
from functools import partial

import streamlit as st

from assistant import Answer, Assistant
from assistant.charts import DRILL, chart, drillable, for_streamlit, kpi_cards
from assistant.doctor import llm_status
from assistant.present import describe_range
from assistant.settings import load_settings
from assistant.ui_helpers import (
    badge_text,
    chips,
    csv_bytes,
    drill_from_selection,
    example_questions,
    excel_bytes,
    file_stem,
    followups,
    has_report,
    headline_left_out,
    headline_question,
    in_language,
    interpretation_lines,
    left_out_notes,
    logo_spec,
    md_escape,
    metric_catalog,
    report_html,
    role_options,
    rows_text,
    t,
    table_frame,
    timings_text,
    without_filter,
)
from semantic_layer.model import SemanticModel
from semantic_layer.query import Intent


@st.cache_data(ttl=600, show_spinner=False)
def _alerts(_assistant: Assistant, as_of: date, role: str) -> list:
    from assistant.insights.alerts import evaluate_alerts

    try:
        return list(evaluate_alerts(_assistant.model, _assistant.engine, as_of))
    except Exception:  # alerts are a courtesy in the sidebar; never break the page
        return []


def current_alerts(assistant: Assistant, as_of: date, role: str) -> list:
    """The alert rules firing for the as-of month, inside the viewer's role."""
    return _alerts(assistant, as_of, role)


def draft_uploads(uploads):
    """Uploaded files → a DuckDB database and a drafted model in a fresh folder."""
    import tempfile
    from pathlib import Path

    from semantic_layer.draft import init_project

    folder = Path(tempfile.mkdtemp(prefix="cockpit-upload-"))
    inputs = folder / "files"
    inputs.mkdir()
    for upload in uploads:
        (inputs / Path(upload.name).name).write_bytes(upload.getvalue())
    return init_project([inputs], folder / "project")


@st.cache_resource(show_spinner="正在准备数据… Preparing the data…")
def load_assistant(as_of: date | None) -> Assistant:
    """One Assistant per as-of date, shared by every session (it is read-only)."""
    return Assistant.open(as_of=as_of)


@st.cache_resource(show_spinner=False)
def headline_missing(as_of: date, role: str, lang: str) -> list[str]:
    """The headline metrics the role's welcome cards leave out."""
    if role == "*":
        return []
    default = load_assistant(None)
    base = default if as_of == default.as_of else load_assistant(as_of)
    return headline_left_out(base.for_role(role), lang)


@st.cache_resource(show_spinner=False)
def headline_answer(as_of: date, role: str, lang: str) -> Answer:
    """The welcome page's KPI cards, asked once per date, role and language (not once per
    visit: the audit log should hold what people asked)."""
    default = load_assistant(None)
    base = default if as_of == default.as_of else load_assistant(as_of)
    viewer = base.for_role(None if role == "*" else role)
    return viewer.ask(headline_question(viewer, lang))


# --- session state ----------------------------------------------------------------------------
state = st.session_state
state.setdefault("turns", [])  # [{"answer": Answer, "as_of": date}]
# (question, index of the answer it follows up or None, filter index to drop or None)
state.setdefault("pending", None)
# app.py has checked the settings: an unusable value stopped the app there with its message.
settings = load_settings()
state.setdefault("lang", settings.lang)


def queue(question: str, base: int | None = None) -> None:
    """Button and chat callbacks: remember the question; it is asked once the page reruns."""
    state.pending = (question, base, None)


def queue_without(index: int, filter_index: int) -> None:
    """A filter chip's ×: ask answer `index` again without that filter."""
    state.pending = ("", index, filter_index)


def queue_from_input() -> None:
    text = (state.get("question") or "").strip()
    if text:
        queue(text)


def queue_drill(index: int, key: str, model: SemanticModel) -> None:
    """A click on a chart member: ask the drill-down question for it."""
    selection = (state.get(key) or {}).get("selection") or {}
    answer: Answer = state.turns[index]["answer"]
    question = drill_from_selection(answer, model, selection, state.lang)
    if question:
        queue(question, index)


def reset() -> None:
    state.turns = []
    state.pop("conversation", None)


def warm_up() -> None:
    """Import what the first answer's table needs while the data loads (DuckDB releases the
    interpreter while it scans, so this overlaps)."""
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401


# The input first: it is pinned to the bottom anyway, and a person can start typing while the
# data loads.
st.chat_input(t("input", state.lang), key="question", on_submit=queue_from_input)
if "warmed" not in state:  # the first run of a session: import the table's needs meanwhile
    state.warmed = True
    threading.Thread(target=warm_up, daemon=True).start()


# --- sidebar ----------------------------------------------------------------------------------
with st.sidebar:
    # The logo is a small Vega-Lite gauge. Drawn before anything loads, it also has the browser
    # fetch the chart library at once, so the first answer's chart does not wait for it.
    logo, name = st.columns([2, 3], vertical_alignment="center")
    logo.vega_lite_chart(logo_spec(), width="content", theme=None)
    name.header(t("title", state.lang))
default = load_assistant(None)
# Language, as-of date and role are shared with the board page, as plain session values
# ("lang", "as_of", "role"): Streamlit drops a widget's state on a page that does not draw
# it, so each widget here has its own key, is set from the shared value before it is drawn,
# and copies a change back.
state.setdefault("as_of", default.as_of)
roles = role_options(default.model, state.lang, configured=default.role)
if state.get("role") not in roles:  # a configured role (COCKPIT_ROLE) is the only one offered
    state.role = next(iter(roles))
state.setdefault("tech", False)  # developer details (技术细节), off for business users
for shared in ("lang", "as_of", "role", "tech"):
    state[f"chat_{shared}"] = state[shared]


def share(name: str) -> None:
    state[name] = state[f"chat_{name}"]


with st.sidebar:
    st.radio(
        "语言 · Language",
        ["zh", "en"],
        key="chat_lang",
        horizontal=True,
        format_func={"zh": "中文", "en": "English"}.get,
        on_change=share,
        args=("lang",),
    )
lang: str = state.lang
roles = role_options(default.model, lang, configured=default.role)
with st.sidebar:
    st.subheader(t("data_source", lang))
    if default.model.label is not None:  # the model's own name: 华锐科技 for the demo
        st.markdown(t("model_name", lang, name=default.model.label.get(lang)))
    # Developer details (the database file, the LLM, stage timings) only on request.
    tech = st.toggle(
        t("tech", lang),
        key="chat_tech",
        help=t("tech_help", lang),
        on_change=share,
        args=("tech",),
    )
    if tech:
        st.caption(f"{t('database', lang)}: `{default.engine.path}`")
    st.date_input(
        t("as_of", lang),
        key="chat_as_of",
        help=t("as_of_help", lang),
        on_change=share,
        args=("as_of",),
    )
    st.selectbox(
        t("role", lang),
        list(roles),
        key="chat_role",
        format_func=roles.get,
        help=t("role_help", lang),
        disabled=default.role is not None,
        on_change=share,
        args=("role",),
    )
    st.button(t("new_chat", lang), on_click=reset, icon=":material/add_comment:")
as_of: date = state.as_of
role: str = state.role

assistant = default if as_of == default.as_of else load_assistant(as_of)
if role != "*" and role != assistant.role:
    assistant = assistant.for_role(role)  # every answer seen through the role's row filters
model = assistant.model

with st.sidebar:
    with st.expander(t("catalog", lang), icon=":material/menu_book:"):
        search = st.text_input(
            t("search", lang), key="catalog_search", placeholder=t("search_placeholder", lang)
        )
        entries = metric_catalog(model, search, lang)
        if not entries:
            st.caption(t("no_match", lang))
        for entry in entries:
            direction = t("higher_better" if entry.higher_is_better else "lower_better", lang)
            synonyms = ("、" if lang == "zh" else ", ").join(entry.synonyms[:12]) or "—"
            # The metric's code name is for people who use the CLI or the API.
            st.markdown(f"**{entry.label}**" + (f" `{entry.name}`" if tech else ""))
            st.caption(
                f"{t('definition', lang)}: {md_escape(entry.definition)}  \n"
                f"{t('unit', lang)}: {entry.unit} · {direction}  \n"
                f"{t('synonyms', lang)}: {md_escape(synonyms)}"
            )
    if tech:
        status = llm_status()
        st.subheader(t("llm", lang))
        st.caption(("🟢 " if status.configured else "⚪ ") + in_language(status.message, lang))
    st.subheader("预警" if lang == "zh" else "Alerts")
    fired_alerts = current_alerts(assistant, assistant.as_of, role)
    if not fired_alerts:
        st.caption("当前没有触发的预警" if lang == "zh" else "No alerts firing")
    for fired in fired_alerts:
        # Material icons render without an emoji font (headless machines, some desktops).
        icon = {"critical": ":red[:material/error:]", "warning": ":orange[:material/warning:]"}
        st.caption(
            f"{icon.get(fired.severity, ':material/info:')} {md_escape(fired.message(lang))}"
        )
    with st.expander(
        "导入自己的数据" if lang == "zh" else "Bring your own data", icon=":material/upload:"
    ):
        uploads = st.file_uploader(
            "CSV / Excel / Parquet",
            type=["csv", "tsv", "xlsx", "parquet"],
            accept_multiple_files=True,
            key="uploads",
        )
        if uploads and st.button("生成数据库和模型" if lang == "zh" else "Load and draft a model"):
            project = draft_uploads(uploads)
            st.success(("已生成：" if lang == "zh" else "Created: ") + str(project.model))
            st.code(
                f"COCKPIT_DATABASE={project.database} COCKPIT_MODEL={project.model} "
                "streamlit run app.py",
                language="bash",
            )
            st.text(project.report.render(lang))

# --- asking -----------------------------------------------------------------------------------
conversation = state.get("conversation")
if conversation is None or conversation.assistant is not assistant:
    fresh = assistant.conversation()
    if conversation is not None:  # a new as-of date or role: keep following the same question
        fresh.state = conversation.state
    state.conversation = conversation = fresh

if state.pending is not None:
    question, base, dropped = state.pending
    state.pending = None
    if base is not None:  # a follow-up of an earlier answer continues from that answer
        earlier: Answer = state.turns[base]["answer"]
        if earlier.status == "ok" and earlier.query is not None:
            conversation.state = earlier.query
    with st.spinner(t("thinking", lang)):
        if dropped is not None:  # a removed filter chip: the same query without that filter
            answer = without_filter(assistant, state.turns[base]["answer"], dropped, lang)
            conversation.history.append(answer)
            if answer.status == "ok":
                conversation.state = answer.query
        else:
            answer = conversation.ask(question)
    state.turns.append({"answer": answer, "as_of": assistant.as_of})

# --- the chat ---------------------------------------------------------------------------------
label = model.label.get(lang) if model.label else model.name
st.title(f"Cockpit · {label}")
st.caption(t("tagline", lang))


def show_chart(index: int | str, answer: Answer) -> None:
    if answer.query is not None and answer.query.intent is Intent.explain:
        spec = answer.chart  # the explanation draws its own chart (a waterfall)
    else:  # drawn in the page's language, with the model (is up good?) and the query
        names = answer.labels if lang == "en" else None  # East for 华东, as the table says
        spec = chart(
            answer.columns, answer.rows, lang, model=model, query=answer.query, labels=names
        )
    if not spec:
        return
    cards = kpi_cards(spec)
    if cards is not None:  # KPI cards wrap to the window instead of one fixed 1,000 px row
        with st.container(horizontal=True, wrap=True, gap="small"):
            for n, card in enumerate(cards):
                st.vega_lite_chart(card, width="content", theme=None, key=f"kpi-{index}-{lang}-{n}")
        return
    fixed = any(k in spec for k in ("hconcat", "vconcat", "concat")) or "width" in spec
    width = "content" if fixed else "stretch"
    key = f"chart-{index}-{lang}"
    drawn = for_streamlit(spec)  # the rows in the spec from the first paint (no console warnings)
    if drillable(spec) and isinstance(index, int):
        st.vega_lite_chart(
            drawn,
            width=width,
            theme=None,
            key=key,
            on_select=partial(queue_drill, index, key, model),
            selection_mode=DRILL,
        )
        st.caption(t("drill_hint", lang))
    else:
        st.vega_lite_chart(drawn, width=width, theme=None, key=key)


if not state.turns:
    headline = headline_answer(as_of, role, lang)
    if headline.status == "ok":
        period = describe_range(headline.query.time_range, lang) if headline.query else ""
        st.markdown(f"**{t('headline', lang, period=period)}**")
        show_chart("headline", headline)
    missing = headline_missing(as_of, role, lang)
    if missing:
        names = ("、" if lang == "zh" else ", ").join(missing)
        st.caption(t("headline_left_out", lang, names=names), help=t("role_help", lang))
    st.markdown(f"**{t('examples', lang)}**")
    with st.container(horizontal=True):
        for n, example in enumerate(example_questions(default, lang)):
            st.button(example, key=f"example-{n}", on_click=queue, args=(example,))


def pin(index: int) -> None:
    """Pin an answer's query (not its numbers) to the role's board (驾驶舱 page)."""
    from assistant.board import BoardError, BoardStore, pin_answer

    turn = state.turns[index]
    try:
        pin_answer(
            BoardStore(), assistant, turn["answer"], board=state.get("board"), as_of=turn["as_of"]
        )
        st.toast("已钉到驾驶舱" if lang == "zh" else "Pinned to the board")
    except BoardError as err:
        st.toast(err.message(lang))


def show_chips(index: int, answer: Answer) -> None:
    """What the answer computed, as chips: metric, filters, period, breakdown, comparison,
    ranking, and what a follow-up kept. A filter chip's × asks again without that filter."""
    found = chips(answer, model, lang)
    if not found:
        return
    with st.container(horizontal=True, wrap=True, gap="small", vertical_alignment="center"):
        st.caption(t("computed", lang), width="content")
        for n, chip in enumerate(found):
            if chip.kind == "filter":
                st.button(
                    chip.text,
                    key=f"chip-{index}-{n}",
                    icon=":material/close:",
                    type="tertiary",
                    help=t("remove_filter", lang),
                    on_click=queue_without,
                    args=(index, chip.filter_index),
                )
            elif chip.kind == "kept":
                st.badge(badge_text(chip.text), icon=":material/history:", color="orange")
            else:
                st.badge(badge_text(chip.text), color="blue")


def show_answer(index: int, answer: Answer) -> None:
    if answer.status != "ok":
        notice = {"clarify": st.info, "refused": st.warning}.get(answer.status, st.error)
        notice(answer.message)
        if answer.suggestions:
            st.caption(t("suggestions", lang))
            with st.container(horizontal=True):
                for n, suggestion in enumerate(answer.suggestions):
                    st.button(
                        suggestion.text,
                        key=f"suggest-{index}-{n}",
                        on_click=queue,
                        args=(suggestion.text,),
                    )
        return
    show_chips(index, answer)
    for note in left_out_notes(answer):
        st.caption(f":material/visibility_off: {md_escape(note)}")
    st.markdown(md_escape(answer.narrative))
    show_chart(index, answer)
    frame = table_frame(answer, lang)
    right = st.column_config.TextColumn(alignment="right")
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        height=min(400, 38 + 35 * len(frame)),
        column_config=dict.fromkeys(frame.attrs.get("numbers", []), right),
    )
    stem = file_stem(answer)
    with st.container(horizontal=True, vertical_alignment="center"):
        st.download_button(
            t("csv", lang),
            data=partial(csv_bytes, answer, lang),
            file_name=f"{stem}.csv",
            mime="text/csv",
            on_click="ignore",
            key=f"csv-{index}",
            icon=":material/download:",
        )
        st.download_button(
            t("excel", lang),
            data=partial(excel_bytes, answer, lang),
            file_name=f"{stem}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            on_click="ignore",
            key=f"xlsx-{index}",
            icon=":material/table_view:",
        )
        if has_report(answer):
            st.download_button(
                t("report", lang),
                data=partial(report_html, assistant, answer, lang),
                file_name=f"{stem}.html",
                mime="text/html",
                on_click="ignore",
                key=f"report-{index}",
                icon=":material/description:",
            )
        if answer.query is not None:
            st.button(
                "钉到驾驶舱" if lang == "zh" else "Pin to board",
                icon=":material/push_pin:",
                key=f"pin-{index}",
                on_click=pin,
                args=(index,),
            )
        st.caption(rows_text(len(frame), lang))
    with st.expander(t("details", lang), icon=":material/info:"):
        lines = interpretation_lines(answer, lang)
        st.markdown("\n".join(f"- {md_escape(line)}" for line in lines))
        if answer.sql:
            st.code(answer.sql, language="sql")
        if state.get("tech"):
            st.caption(timings_text(answer, lang))
    # The answer's own suggestions (an explanation's drill-downs) come first and suffice.
    offers = [s.text for s in answer.suggestions] or [f.text for f in followups(answer, model)]
    if offers:
        st.caption(t("followups", lang))
        with st.container(horizontal=True):
            for n, offer in enumerate(offers[:6]):
                st.button(offer, key=f"follow-{index}-{n}", on_click=queue, args=(offer, index))


previous_as_of = assistant.as_of if not state.turns else state.turns[0]["as_of"]
for index, turn in enumerate(state.turns):
    if turn["as_of"] != previous_as_of:
        st.caption(t("as_of_changed", lang, day=turn["as_of"]))
        previous_as_of = turn["as_of"]
    answer = turn["answer"]
    with st.chat_message("user"):
        st.text(answer.question)  # as typed: "--" stays "--", no Markdown
    with st.chat_message("assistant"):
        show_answer(index, answer)
