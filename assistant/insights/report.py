"""`cockpit report`: the executive summary as a self-contained HTML or Markdown file.

Charts are rendered to SVG offline with vl-convert (no JavaScript, no CDN), so the file can be
mailed or pushed to a chat tool and still show its charts.
"""

from __future__ import annotations

import html
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.formatting import format_value
from assistant.insights.summary import Summary, build_summary
from assistant.present import describe_range
from assistant.understand.time_words import find_times
from semantic_layer import knowledge
from semantic_layer.compiler import add_months
from semantic_layer.errors import QueryError
from semantic_layer.query import DimensionRef, SemanticQuery, TimeRange

if TYPE_CHECKING:
    from assistant.api import Assistant


def period_range(text: str | None, as_of: date) -> TimeRange:
    """ "2025-12", "2025-Q4", "2025", "上月", "last quarter"… → a TimeRange (default: as-of month)."""
    if not text:
        start = date(as_of.year, as_of.month, 1)
        return TimeRange(start=start, end=add_months(start, 1), label=start.strftime("%Y-%m"))
    cleaned = text.strip().replace("-Q", "Q").replace("-q", "Q")
    found = find_times(cleaned, as_of)
    if not found:
        raise QueryError("invalid_query", detail=f"cannot read the period {text!r}; try 2025-12")
    return found[0].range


def chart_svg(spec: dict | None) -> str:
    """A Vega-Lite spec drawn to SVG offline; no chart rather than a failed report."""
    if not spec:
        return ""
    import vl_convert

    spec = dict(spec)
    if spec.get("width") == "container":
        spec["width"] = 640
    try:  # no allowed base URL: a spec naming remote data fails here instead of fetching it
        return vl_convert.vegalite_to_svg(spec, allowed_base_urls=[])
    except Exception:  # a chart must never stop the report
        return ""


def _charts(assistant: Assistant, summary: Summary, lang: str) -> list[tuple[str, str]]:
    """(title, svg): the headline metrics' trend, a budgeted metric against its budget, and
    the headline metric by its first breakdown — all chosen from the model's knowledge."""
    model = assistant.model
    end = summary.window.end
    trailing = TimeRange(start=add_months(date(end.year, end.month, 1), -12), end=end)
    zh = lang == "zh"
    kpis = [k.metric for k in summary.kpis]  # what the summary could show, in its order

    def name(metric: str) -> str:
        return model.metric(metric).label.get(lang)

    month = DimensionRef(name="metric_time", grain="month")
    specs: list[tuple[str, SemanticQuery]] = []
    flows = [m for m in kpis if not model.metric(m).semi_additive][:2]
    if flows and "metric_time" in model.dimension_map:
        title = "与".join(map(name, flows)) if zh else " and ".join(map(name, flows))
        specs.append(
            (
                f"近12个月{title}" if zh else f"{title}, last 12 months",
                SemanticQuery(
                    metrics=flows, dimensions=[month], time_range=trailing, intent="trend"
                ),
            )
        )
    budgeted = [m for m in kpis if m in assistant.catalog.budget_of]
    # A cost against its budget says more than revenue against its own; else the first.
    budgeted.sort(key=lambda m: model.metric(m).higher_is_better)
    if budgeted and "metric_time" in model.dimension_map:
        specs.append(
            (
                f"{name(budgeted[0])}与预算" if zh else f"{name(budgeted[0])} vs budget",
                SemanticQuery(
                    metrics=[budgeted[0]], dimensions=[month], time_range=trailing, compare="budget"
                ),
            )
        )
    if kpis:
        counts = {d: len(v) for d, v in assistant.lexicon.values.items()}
        split = knowledge.breakdowns(model, kpis[0], counts, limit=1)
        if split:
            dim = model.dimension(split[0]).label.get(lang)
            specs.append(
                (
                    f"各{dim}{name(kpis[0])}" if zh else f"{name(kpis[0])} by {dim.lower()}",
                    SemanticQuery(
                        metrics=[kpis[0]],
                        dimensions=[DimensionRef(name=split[0])],
                        time_range=summary.window,
                        intent="breakdown",
                    ),
                )
            )
    out = []
    for title, query in specs:
        if not all(m in assistant.model.metric_map for m in query.metrics):
            continue
        answer = assistant.run(query, title, lang, plain=True)
        if answer.status == "ok" and answer.chart:
            out.append((title, chart_svg(answer.chart)))
    return out


def _change_text(kpi, against: float | None, lang: str) -> str:
    value = kpi.change(against)
    if value is None:
        return "—"
    if kpi.unit == "percent":
        return f"{value * 100:+.1f}{'pp' if lang == 'en' else '个百分点'}"
    return f"{value * 100:+.1f}%"


def _kpi_rows(summary: Summary, lang: str) -> list[list[str]]:
    return [
        [
            k.label_zh if lang == "zh" else k.label_en,
            format_value(k.value, k.unit, lang, compact=True),
            _change_text(k, k.previous, lang),
            _change_text(k, k.last_year, lang),
            "—" if k.attainment is None else f"{k.attainment:.1%}",
        ]
        for k in summary.kpis
    ]


def render(
    assistant: Assistant,
    window: TimeRange,
    lang: str = "zh",
    fmt: str = "html",
    assets: Path | None = None,
) -> str:
    """The report as HTML (charts inline) or Markdown (charts as SVG files in `assets`)."""
    summary = build_summary(assistant, window)
    zh = lang == "zh"
    title = ("经营简报" if zh else "Business summary") + " · " + describe_range(window, lang)
    header = (
        ["指标", "本期", "环比", "同比", "预算完成"]
        if zh
        else ["Metric", "Value", "vs previous", "vs last year", "vs budget"]
    )
    kpis = _kpi_rows(summary, lang)
    movers = [
        [m.member, format_value(m.change, "yuan", lang, compact=True)] for m in summary.movers
    ]
    alerts = [getattr(a, "message_zh" if zh else "message_en", str(a)) for a in summary.alerts]
    charts = _charts(assistant, summary, lang)
    head = summary.kpis[0] if summary.kpis else None
    head_name = (head.label_zh if zh else head.label_en) if head else ""
    movers_title = f"{head_name}变动最大" if zh else f"Top {head_name.lower()} movers"
    if fmt == "md":
        lines = [
            f"# {title}",
            "",
            summary.narrative(lang),
            "",
            "| " + " | ".join(header) + " |",
            "|" + "---|" * len(header),
        ]
        lines += ["| " + " | ".join(r) + " |" for r in kpis]
        if movers:
            lines += ["", "## " + movers_title, ""]
            lines += [f"- {m} {c}" for m, c in movers]
        if alerts:
            lines += ["", "## " + ("预警" if zh else "Alerts"), ""] + [f"- {a}" for a in alerts]
        for index, (name, svg) in enumerate(charts):
            if assets is not None and svg:
                assets.mkdir(parents=True, exist_ok=True)
                file = assets / f"chart{index + 1}.svg"
                file.write_text(svg, encoding="utf-8")
                lines += ["", f"## {name}", "", f"![{name}]({assets.name}/{file.name})"]
        return "\n".join(lines) + "\n"
    esc = html.escape
    table = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in kpis)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{esc(title)}</title><style>body{{font-family:'Noto Sans CJK SC','PingFang SC',"
        "'Microsoft YaHei',sans-serif;max-width:960px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 10px;"
        "text-align:right}td:first-child,th:first-child{text-align:left}</style></head><body>",
        f"<h1>{esc(title)}</h1><p>{esc(summary.narrative(lang))}</p>",
        f"<table><tr>{table}</tr>{body}</table>",
    ]
    if movers:
        parts.append(
            f"<h2>{esc(movers_title)}</h2><ul>"
            + "".join(f"<li>{esc(m)} {esc(c)}</li>" for m, c in movers)
            + "</ul>"
        )
    if alerts:
        parts.append(
            f"<h2>{'预警' if zh else 'Alerts'}</h2><ul>"
            + "".join(f"<li>{esc(a)}</li>" for a in alerts)
            + "</ul>"
        )
    for name, svg in charts:
        parts.append(f"<h2>{esc(name)}</h2>{svg}")
    generated = date.today() if assistant.as_of is None else assistant.as_of
    parts.append(
        f"<p style='color:#888'>Cockpit · as of {generated} · "
        f"{describe_range(TimeRange(start=window.start, end=window.end), lang)}</p>"
    )
    parts.append("</body></html>")
    return "".join(parts)


def write_report(assistant: Assistant, period: str | None, out: Path, lang: str = "zh") -> Path:
    """Render the report for `period` to `out` (.html or .md)."""
    window = period_range(period, assistant.as_of)
    fmt = "md" if out.suffix.lower() in (".md", ".markdown") else "html"
    assets = out.with_name(out.stem + "_files") if fmt == "md" else None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(assistant, window, lang, fmt, assets), encoding="utf-8")
    return out


__all__ = ["period_range", "render", "write_report"]
