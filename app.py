"""Cockpit's Streamlit app — thin: it picks a semantic query and renders the result.

Until the chat (natural-language questions) lands, this is a governed metric explorer: choose
metrics, a breakdown, a period and a comparison; see the number, a chart, the definition (口径)
and the SQL. Run with `streamlit run app.py`.
"""

from __future__ import annotations

from datetime import date

import altair as alt
import streamlit as st

from assistant.formatting import format_value
from assistant.settings import Settings
from semantic_layer.catalog import catalog
from semantic_layer.compiler import compile_query
from semantic_layer.engine import DuckDBEngine
from semantic_layer.errors import CockpitError
from semantic_layer.loader import load_model
from semantic_layer.query import SemanticQuery

st.set_page_config(page_title="Cockpit 驾驶舱", page_icon="📊", layout="wide")


@st.cache_resource(show_spinner="正在准备演示数据… Preparing the demo data…")
def resources():
    settings = Settings()
    model = load_model(settings.model)
    engine = DuckDBEngine(settings.database_path())
    return settings, model, engine


settings, model, engine = resources()
lang = st.sidebar.radio("Language / 语言", ["zh", "en"], horizontal=True)
as_of = settings.resolved_as_of(model.as_of)
cat = catalog(model)


def label(item) -> str:
    return item.label.get(lang)


st.title("Cockpit · " + (model.label.get(lang) if model.label else model.name))
metric_names = st.sidebar.multiselect(
    "指标 Metrics",
    [m.name for m in model.metrics],
    default=["revenue", "gross_margin"],
    format_func=lambda n: label(model.metric(n)),
)
if not metric_names:
    st.info("请选择至少一个指标。Choose at least one metric.")
    st.stop()
allowed = [d for d in model.dimensions if all(cat.reaches(m, d.name) for m in metric_names)]
breakdown = st.sidebar.selectbox(
    "按维度 Breakdown",
    ["—", *[d.name for d in allowed]],
    format_func=lambda n: n if n == "—" else label(model.dimension(n)),
)
grain = None
if breakdown != "—" and model.dimension(breakdown).type == "time":
    grain = st.sidebar.selectbox("粒度 Grain", ["month", "quarter", "year", "week", "day"])
start = st.sidebar.date_input("开始 From", date(as_of.year, 1, 1))
end = st.sidebar.date_input("结束 To (inclusive)", as_of)
compare = st.sidebar.selectbox(
    "对比 Compare", ["none", "yoy", "mom", "qoq", "previous_period", "budget"]
)

dimensions = [] if breakdown == "—" else [f"{breakdown}:{grain}" if grain else breakdown]
try:
    query = SemanticQuery(
        metrics=metric_names,
        dimensions=dimensions,
        time_range={"start": start, "end": date.fromordinal(end.toordinal() + 1)},
        compare=compare,
    )
    compiled = compile_query(model, query)
    result = engine.execute(compiled.ast)
except CockpitError as err:
    st.error(err.message(lang))
    st.stop()

units = {c.name: c.unit for c in compiled.columns}
titles = {c.name: c.label.get(lang) for c in compiled.columns}
if not dimensions and result.rows:
    row = result.records()[0]
    cards = st.columns(len(metric_names))
    for card, name in zip(cards, metric_names, strict=True):
        delta = row.get(f"{name}__change_pct")
        card.metric(
            titles[name],
            format_value(row[name], units[name], lang, compact=True),
            delta=None if delta is None else format_value(delta, "percent", lang),
            delta_color="normal" if model.metric(name).higher_is_better else "inverse",
        )
elif result.rows:
    frame = result.to_pandas()
    for column in compiled.columns[1:]:
        frame[column.name] = frame[column.name].astype(float)  # DECIMAL → float, for Vega-Lite
    key = compiled.columns[0].name
    first = metric_names[0]
    mark = alt.Chart(frame).mark_line(point=True) if grain else alt.Chart(frame).mark_bar()
    x = alt.X(f"{key}:{'T' if grain else 'N'}", title=titles[key], sort=None if grain else "-y")
    st.altair_chart(
        mark.encode(x=x, y=alt.Y(f"{first}:Q", title=titles[first]), tooltip=list(frame.columns)),
        width="stretch",
    )
table = result.to_pandas()
for name in table.columns:
    if name in units:
        table[name] = [format_value(v, units[name], lang) for v in table[name]]
st.dataframe(table.rename(columns=titles), width="stretch", hide_index=True)

with st.expander("口径与 SQL · Definitions and SQL"):
    for name in metric_names:
        metric = model.metric(name)
        if metric.description:
            st.markdown(f"**{label(metric)}**：{metric.description.get(lang)}")
    st.caption(f"{start} – {end}" + (f" · as of {as_of}"))
    st.code(compiled.sql, language="sql")
