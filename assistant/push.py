"""报表推送: render a board or the executive summary and deliver it to a webhook or by email.

    result = push(assistant, "default", "webhook:https://qyapi.weixin.qq.com/…", fmt="wecom")
    result = push(assistant, "summary", "email:ceo@example.com,cfo@example.com", period="2025-12")

Rendering: `render_board` (KPI tiles with sparklines and the pinned charts as inline SVG, drawn
offline by vl-convert, and the alerts firing) and `render_summary` (the executive summary of
`assistant.insights.report`). Both also give a plain-text and a Markdown version, for mail
clients without HTML and for chat tools.

Delivery (`deliver`): `webhook:URL` is an HTTP POST of JSON in the shape the chat tool's
incoming webhook accepts (`generic` {title, text, html}; `wecom` 企业微信 markdown; `dingtalk`
钉钉 markdown with a title; `slack` text + blocks; `teams` MessageCard); `email:ADDR[,ADDR]` is
an HTML mail with a plain-text alternative over SMTP. Gmail and Outlook show no inline SVG, so
the mail carries each chart as a PNG (rasterised offline by vl-convert) in a multipart/related
part that the HTML shows with `<img src="cid:…">`. SMTP is configured by environment variables:

| variable | meaning | default |
|---|---|---|
| `COCKPIT_SMTP_HOST`, `COCKPIT_SMTP_PORT` | the SMTP server | localhost, 25 (465 with SSL) |
| `COCKPIT_SMTP_USER`, `COCKPIT_SMTP_PASSWORD` | login, when the server needs one | none |
| `COCKPIT_SMTP_FROM` | the sender address | the user, else cockpit@localhost |
| `COCKPIT_SMTP_STARTTLS` | upgrade the connection with STARTTLS (`true`/`false`) | false |
| `COCKPIT_SMTP_SSL` | connect over TLS from the start (port 465) | false |
| `COCKPIT_SMTP_TIMEOUT` | seconds per connection attempt | 30 |
| `COCKPIT_PUSH_ATTEMPTS`, `COCKPIT_PUSH_BACKOFF` | tries, and the first wait in seconds (doubled after each failure) | 3, 2 |

Only what can pass is retried (a timeout, a dropped connection, HTTP 5xx or 429, SMTP 4xx), with
exponential backoff and within `RETRY_BUDGET` seconds in all; what another try cannot fix fails
at once: nothing listening at host:port (a refused connection), an unknown host, a TLS error,
HTTP 4xx, a refused recipient, a rejected login. `PushError` says why in both languages — for a
mail server that cannot be reached, which COCKPIT_SMTP_* variable to set — and `push` keeps the
rendered report in `<cache>/outbox/` so nothing is lost.
"""

from __future__ import annotations

import html as html_lib
import json
import os
import re
import smtplib
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from assistant.board import (
    ALL_DATA,
    PERIODS,
    Board,
    BoardError,
    BoardStore,
    BoardView,
    Tile,
    default_board,
    not_filtered_text,
    period_label,
    resolve_period,
    view_board,
)
from assistant.formatting import format_value
from assistant.insights.report import chart_svg
from assistant.present import describe_range
from semantic_layer.query import Filter

if TYPE_CHECKING:
    from assistant.api import Assistant

FORMATS = ("generic", "wecom", "dingtalk", "slack", "teams")
Format = Literal["generic", "wecom", "dingtalk", "slack", "teams"]
SUMMARY = "summary"  # the board name that means the executive summary
GOOD, BAD, NEUTRAL = "#1a7f37", "#cf222e", "#6e7781"
RETRY_BUDGET = 30.0  # seconds for all attempts of one delivery, waits included


# --- rendering --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rendered:
    """One report in every form a channel needs."""

    subject: str
    html: str
    text: str
    markdown: str


def render_board(
    assistant: Assistant,
    board: Board,
    *,
    period: str | None = None,
    filters: Iterable[Filter | dict[str, Any]] | None = None,
    lang: str = "zh",
    role: str | None = ...,  # type: ignore[assignment]
    as_of: date | None = None,
) -> Rendered:
    """The board run now (see `run_board`) as a self-contained HTML page, text and Markdown."""
    view = view_board(assistant, board, as_of, filters, period, role, lang)
    return _render_view(assistant, view, lang)


def render_summary(
    assistant: Assistant,
    period: str | None = None,
    lang: str = "zh",
    role: str | None = ...,  # type: ignore[assignment]
) -> Rendered:
    """The executive summary (经营简报) for `period` (default: the as-of month)."""
    from assistant.insights.report import period_range, render
    from assistant.insights.summary import build_summary

    scoped = assistant if role is ... else assistant.for_role(None if role == ALL_DATA else role)
    if period in PERIODS:  # a board keyword (last_month) reads like the report's words
        window = resolve_period(period, scoped.as_of, lang)
    else:
        window = period_range(period, scoped.as_of)
    zh = lang == "zh"
    summary = build_summary(scoped, window)
    subject = ("经营简报" if zh else "Business summary") + " · " + describe_range(window, lang)
    lines = [subject, "", summary.narrative(lang), ""]
    for kpi in summary.kpis:
        label = kpi.label_zh if zh else kpi.label_en
        parts = [f"{label} {format_value(kpi.value, kpi.unit, lang, compact=True)}"]
        for name, against in (
            ("环比" if zh else "vs previous", kpi.previous),
            ("同比" if zh else "YoY", kpi.last_year),
        ):
            change = kpi.change(against)
            if change is not None:
                parts.append(f"{name} {_signed(change, kpi.unit == 'percent', lang)}")
        lines.append(" · ".join(parts))
    if summary.alerts:
        lines += ["", "预警：" if zh else "Alerts:"]
        lines += [f"- {a.message(lang)}" for a in summary.alerts]
    text = "\n".join(lines)
    markdown = "\n".join(
        [f"## {subject}", "", summary.narrative(lang), ""]
        + [f"- {line}" for line in lines[4 : 4 + len(summary.kpis)]]
        + (
            ["", "**预警**" if zh else "**Alerts**"]
            + [f"- {a.message(lang)}" for a in summary.alerts]
            if summary.alerts
            else []
        )
    )
    return Rendered(subject, render(scoped, window, lang, "html"), text, markdown)


def _signed(change: float, points: bool, lang: str) -> str:
    if points:
        return f"{change * 100:+.1f}{'个百分点' if lang == 'zh' else ' pp'}"
    return f"{change * 100:+.1f}%"


def sparkline_svg(
    points: Iterable[tuple[date, float | None]], width: int = 140, height: int = 34
) -> str:
    """A tiny line of the monthly values (gaps where a month has none), as inline SVG."""
    values = [v for _, v in points]
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    step = width / (len(values) - 1)
    segments: list[list[str]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            segments.append([])
            continue
        y = height - 3 - (value - low) / span * (height - 6)
        segments[-1].append(f"{index * step:.1f},{y:.1f}")
    lines = "".join(
        f"<polyline points='{' '.join(s)}' fill='none' stroke='#1f6feb' stroke-width='1.6'/>"
        for s in segments
        if len(s) > 1
    )
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}'>{lines}</svg>"
    )


def _delta_html(delta, lang: str) -> str:
    if delta is None:
        return ""
    colour = {True: GOOD, False: BAD, None: NEUTRAL}[delta.good]
    return (
        f"<span style='color:{colour}'>{html_lib.escape(delta.basis_label(lang))} "
        f"{delta.arrow} {html_lib.escape(delta.text(lang))}</span>"
    )


def _delta_text(delta, lang: str, marks: bool = True) -> str:
    if delta is None or delta.change is None:
        return ""
    mark = {True: "🟢 ", False: "🔴 ", None: ""}[delta.good] if marks else ""
    return f"{mark}{delta.basis_label(lang)} {delta.arrow} {delta.text(lang)}"


def _role_title(assistant: Assistant, name: str, lang: str) -> str:
    """A role's label in `lang` (its name when the model has no such role)."""
    role = next((r for r in assistant.model.roles if r.name == name), None)
    return role.title(lang) if role else name


def _context(assistant: Assistant, view: BoardView, lang: str) -> str:
    """数据截至 2025-12-31 · 角色 华东区经理 · 区域 = 华东 · 期间 本月."""
    zh = lang == "zh"
    parts = [("数据截至 " if zh else "As of ") + str(view.as_of)]
    model = assistant.model
    if view.role:
        parts.append(("角色 " if zh else "Role ") + _role_title(assistant, view.role, lang))
    for flt in view.filters:
        dim = model.dimension_map.get(flt.dimension)
        name = dim.label.get(lang) if dim else flt.dimension
        parts.append(f"{name} {flt.op} {('、' if zh else ', ').join(map(str, flt.values))}")
    if view.period:
        parts.append(("期间 " if zh else "Period ") + period_label(view.period, lang))
    return " · ".join(parts)


def _unfiltered_note(assistant: Assistant, view: BoardView, tile: Tile, lang: str) -> str:
    """不受「区域」筛选影响 / not filtered by region (as the board page says it; lower case in
    English, where it follows a figure): a tile the board's filter cannot narrow (expenses
    have no region), so nobody reads a company figure as the region's."""
    note = not_filtered_text(assistant.model, tile.unfiltered if view.filters else (), lang)
    return note if lang == "zh" else note.lower()


def _tile_lines(tile: Tile, lang: str, marks: bool = True) -> str:
    if tile.status != "ok":
        return f"{tile.title}: {tile.message}"
    parts = [f"{tile.title} {tile.value_text(lang)}"]
    if tile.attainment is not None:
        parts.append(f"{'预算完成' if lang == 'zh' else 'of budget'} {tile.attainment:.1%}")
    parts += [
        t for t in (_delta_text(tile.yoy, lang, marks), _delta_text(tile.mom, lang, marks)) if t
    ]
    return " · ".join(parts)


def _render_view(assistant: Assistant, view: BoardView, lang: str) -> Rendered:
    esc = html_lib.escape
    zh = lang == "zh"
    board = view.board
    subject = f"{board.title} · {view.as_of}"
    context = _context(assistant, view, lang)
    # Tiles the role may not see are left out and named once, never shown as "—".
    denied = [t.title for t in view.tiles if t.denied]
    shown = [t for t in view.tiles if not t.denied]
    kpis = [t for t in shown if t.kind == "kpi"]
    charts = [t for t in shown if t.kind == "chart"]
    # Named as the board page names it: whose view leaves these out.
    who = _role_title(assistant, view.role, lang) if view.role else ""
    left_out = (
        (
            f"未显示（{who or '当前角色'}无权查看）：" + "、".join(denied)
            if zh
            else f"Left out ({who or 'this role'} may not see them): " + ", ".join(denied)
        )
        if denied
        else ""
    )

    def unfiltered(tile: Tile) -> str:
        return _unfiltered_note(assistant, view, tile, lang)

    cells = []
    for tile in kpis:
        if tile.status == "ok":
            budget = ""
            if tile.attainment is not None:
                label = "预算完成" if zh else "Of budget"
                budget = f"<div class='delta'>{label} {tile.attainment:.1%}</div>"
            body = (
                f"<div class='value'>{esc(tile.value_text(lang))}</div>"
                f"<div class='delta'>{_delta_html(tile.yoy, lang)}</div>"
                f"<div class='delta'>{_delta_html(tile.mom, lang)}</div>{budget}"
                f"<div>{sparkline_svg(tile.sparkline)}</div>"
                f"<div class='note'>{esc(tile.period_text(lang))}</div>"
            )
        else:
            body = f"<div class='value'>—</div><div class='note'>{esc(tile.message)}</div>"
        if note := unfiltered(tile):
            body += f"<div class='note'>{esc(note)}</div>"
        cells.append(f"<td class='tile'><div class='label'>{esc(tile.title)}</div>{body}</td>")
    rows = ["<tr>" + "".join(cells[i : i + 4]) + "</tr>" for i in range(0, len(cells), 4)]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{esc(subject)}</title><style>"
        "body{font-family:'Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif;"
        "max-width:1000px;margin:2em auto;color:#1f2328}"
        "table.tiles{border-collapse:separate;border-spacing:8px;width:100%}"
        "td.tile{border:1px solid #d0d7de;border-radius:8px;padding:10px 12px;vertical-align:top;"
        "width:25%}.label{color:#57606a;font-size:13px}.value{font-size:24px;font-weight:600;"
        "margin:4px 0}.delta{font-size:13px}.note{color:#6e7781;font-size:12px}"
        "</style></head><body>",
        f"<h1>{esc(board.title)}</h1><p class='note'>{esc(context)}</p>",
    ]
    if rows:
        parts.append(f"<table class='tiles'>{''.join(rows)}</table>")
    for tile in charts:
        heading = tile.pin.title or tile.pin.question
        parts.append(f"<h2>{esc(heading)}</h2>")
        if tile.status != "ok":
            parts.append(f"<p class='note'>{esc(tile.message)}</p>")
            continue
        svg = chart_svg(tile.chart)
        parts.append(svg or f"<p class='note'>{esc(tile.answer.narrative)}</p>")
        if note := unfiltered(tile):
            parts.append(f"<p class='note'>{esc(note)}</p>")
    if left_out:
        parts.append(f"<p class='note'>{esc(left_out)}</p>")
    if view.alerts:
        parts.append(f"<h2>{'预警' if zh else 'Alerts'}</h2><ul>")
        parts += [f"<li><b>{esc(a.severity)}</b> {esc(a.message(lang))}</li>" for a in view.alerts]
        parts.append("</ul>")
    generated = datetime.now().strftime("%Y-%m-%d %H:%M")
    parts.append(f"<p class='note'>Cockpit · {esc(context)} · {generated}</p></body></html>")

    def marked(text: str, tile: Tile) -> str:
        note = unfiltered(tile)
        return f"{text}（{note}）" if note and zh else f"{text} ({note})" if note else text

    text_lines = [subject, context, ""] + [marked(_tile_lines(t, lang), t) for t in kpis]
    for tile in charts:
        text_lines.append(
            marked(
                f"{tile.pin.title or tile.pin.question}: {tile.answer.narrative or tile.message}",
                tile,
            )
        )
    if left_out:
        text_lines.append(left_out)
    if view.alerts:
        text_lines += ["", "预警：" if zh else "Alerts:"] + [
            f"- {a.message(lang)}" for a in view.alerts
        ]
    markdown_lines = [f"## {board.title}", f"> {context}", ""]
    markdown_lines += [
        marked(f"- **{t.title}** {_tile_lines(t, lang)[len(t.title) + 1 :]}", t) for t in kpis
    ]
    markdown_lines += [
        marked(f"- **{t.pin.title or t.pin.question}** {t.answer.narrative or t.message}", t)
        for t in charts
    ]
    if left_out:
        markdown_lines.append(f"> {left_out}")
    if view.alerts:
        markdown_lines += ["", "**预警**" if zh else "**Alerts**"]
        markdown_lines += [f"- {a.message(lang)}" for a in view.alerts]
    return Rendered(subject, "".join(parts), "\n".join(text_lines), "\n".join(markdown_lines))


# --- delivery ---------------------------------------------------------------------------------
class PushError(Exception):
    """Every attempt to deliver failed (or the target is wrong): why, in both languages."""

    def __init__(
        self,
        target: str,
        reason: str,
        attempts: int = 0,
        saved: Path | None = None,
        advice: Mapping[str, str] | None = None,
    ) -> None:
        """`reason`: what failed (the receiver's or the system's words); `advice`: what to do
        about it, {"zh": …, "en": …} (which setting to configure)."""
        self.target, self.reason, self.attempts, self.saved = target, reason, attempts, saved
        self.advice = dict(advice or {})
        super().__init__(self.message("zh") + " / " + self.message("en"))

    def message(self, lang: str = "zh") -> str:
        advice = self.advice.get(lang)
        if lang == "zh":
            why = f"{advice}（{self.reason}）" if advice else self.reason
            text = f"推送到 {self.target} 失败（尝试 {self.attempts} 次）：{why}"
            return text + (f"。报告已保存到 {self.saved}" if self.saved else "")
        why = f"{advice} ({self.reason})" if advice else self.reason
        text = f"Push to {self.target} failed after {self.attempts} attempt(s): {why}"
        return text + (f". The report was saved to {self.saved}" if self.saved else "")


@dataclass(frozen=True)
class DeliveryResult:
    """What was delivered where, after how many attempts, and what the receiver said."""

    target: str
    channel: Literal["webhook", "email"]
    attempts: int
    detail: str
    fmt: str = "generic"


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail; `from_env` reads the COCKPIT_SMTP_* variables."""

    host: str = "localhost"
    port: int = 25
    user: str | None = None
    password: str | None = None
    sender: str = "cockpit@localhost"
    starttls: bool = False
    ssl: bool = False
    timeout: float = 30.0
    host_configured: bool = True  # False: COCKPIT_SMTP_HOST is unset, the host is the default

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> SmtpSettings:
        env = os.environ if environ is None else environ
        use_ssl = _flag(env.get("COCKPIT_SMTP_SSL"))
        user = env.get("COCKPIT_SMTP_USER") or None
        return cls(
            host=env.get("COCKPIT_SMTP_HOST") or "localhost",
            port=int(env.get("COCKPIT_SMTP_PORT") or (465 if use_ssl else 25)),
            user=user,
            password=env.get("COCKPIT_SMTP_PASSWORD") or None,
            sender=env.get("COCKPIT_SMTP_FROM") or user or "cockpit@localhost",
            starttls=_flag(env.get("COCKPIT_SMTP_STARTTLS")),
            ssl=use_ssl,
            timeout=float(env.get("COCKPIT_SMTP_TIMEOUT") or 30),
            host_configured=bool(env.get("COCKPIT_SMTP_HOST")),
        )


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


class _Permanent(Exception):
    """A failure that another attempt cannot fix (HTTP 4xx, a refused recipient, nothing
    listening at the address); `advice` says what to do, {"zh": …, "en": …}."""

    def __init__(self, reason: str, advice: Mapping[str, str] | None = None) -> None:
        super().__init__(reason)
        self.advice = advice


# Nothing listens there, the name does not resolve, the certificate is refused: a retry a few
# seconds later meets the same answer.
UNREACHABLE = (ConnectionRefusedError, socket.gaierror, ssl.SSLCertVerificationError)


def _unreachable(where: str, err: BaseException) -> dict[str, str]:
    """What an `UNREACHABLE` error means at `where` (host:port), in both languages."""
    if isinstance(err, ConnectionRefusedError):
        return {
            "zh": f"{where} 拒绝连接（没有服务在监听）",
            "en": f"{where} refused the connection",
        }
    if isinstance(err, socket.gaierror):
        return {"zh": f"找不到主机 {where}", "en": f"unknown host {where}"}
    return {"zh": f"{where} 的证书未通过验证", "en": f"the certificate of {where} is not trusted"}


def _smtp_advice(settings: SmtpSettings, err: BaseException) -> dict[str, str]:
    """Why the mail server cannot be reached and which COCKPIT_SMTP_* variables to set."""
    what = _unreachable(f"{settings.host}:{settings.port}", err)
    if not settings.host_configured:
        return {
            "zh": f"{what['zh']}；未配置邮件服务器：请设置 COCKPIT_SMTP_HOST 和 COCKPIT_SMTP_PORT"
            "（需要登录时还有 COCKPIT_SMTP_USER、COCKPIT_SMTP_PASSWORD）",
            "en": f"{what['en']}; no mail server is configured: set COCKPIT_SMTP_HOST and "
            "COCKPIT_SMTP_PORT (and COCKPIT_SMTP_USER, COCKPIT_SMTP_PASSWORD if it needs a login)",
        }
    return {
        "zh": f"{what['zh']}：请检查 COCKPIT_SMTP_HOST 和 COCKPIT_SMTP_PORT"
        "（以及 COCKPIT_SMTP_SSL、COCKPIT_SMTP_STARTTLS）",
        "en": f"{what['en']}: check COCKPIT_SMTP_HOST and COCKPIT_SMTP_PORT "
        "(and COCKPIT_SMTP_SSL, COCKPIT_SMTP_STARTTLS)",
    }


EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$|^[^@\s,;]+@localhost$")


def parse_target(target: str) -> tuple[Literal["webhook", "email"], str | list[str]]:
    """ "webhook:URL" → the URL; "email:a@x.com,b@y.com" → the addresses (checked)."""
    kind, _, rest = (target or "").partition(":")
    kind = kind.strip().lower()
    if kind in ("http", "https"):  # a bare URL is a webhook
        kind, rest = "webhook", target
    if kind == "webhook" and rest.strip().lower().startswith(("http://", "https://")):
        return "webhook", rest.strip()
    if kind in ("email", "mailto"):
        addresses = [a.strip() for a in re.split(r"[,;]", rest) if a.strip()]
        bad = [a for a in addresses if not EMAIL.match(a)]
        if addresses and not bad:
            return "email", addresses
        raise PushError(target, f"无效的邮件地址 / invalid address: {', '.join(bad) or '(none)'}")
    raise PushError(
        target,
        "目标应为 webhook:http(s)://… 或 email:地址[,地址] / "
        "the target must be webhook:http(s)://… or email:ADDR[,ADDR]",
    )


def payload(
    fmt: str, subject: str, text: str, html: str, markdown: str | None = None
) -> dict[str, Any]:
    """The JSON body a chat tool's incoming webhook accepts, for `fmt` in FORMATS."""
    md = markdown or text
    if fmt == "generic":
        return {"title": subject, "text": text, "html": html}
    if fmt == "wecom":  # 企业微信群机器人: markdown, at most 4096 bytes
        return {"msgtype": "markdown", "markdown": {"content": _clip(md, 4096)}}
    if fmt == "dingtalk":  # 钉钉自定义机器人: markdown with a title
        return {"msgtype": "markdown", "markdown": {"title": subject, "text": _clip(md, 18000)}}
    if fmt == "slack":  # Slack incoming webhook: text as the fallback, blocks to show
        body = re.sub(r"\*\*(.+?)\*\*", r"*\1*", md)
        body = re.sub(r"^#+\s*", "", body, flags=re.MULTILINE)
        return {
            "text": _clip(f"{subject}\n{text}", 3900),
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": subject[:150]}},
                {"type": "section", "text": {"type": "mrkdwn", "text": _clip(body, 2900)}},
            ],
        }
    if fmt == "teams":  # Microsoft Teams incoming webhook (Office 365 connector card)
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": subject,
            "themeColor": "1F6FEB",
            "title": subject,
            "text": _clip(md.replace("\n", "\n\n"), 20000),
        }
    raise PushError(f"format {fmt}", f"未知格式 / unknown format {fmt!r}; use {', '.join(FORMATS)}")


def _clip(text: str, limit: int) -> str:
    """At most `limit` UTF-8 bytes, cut at a character and marked with …."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", errors="ignore") + "…"


def deliver(
    html: str,
    text: str,
    target: str,
    *,
    subject: str = "Cockpit",
    markdown: str | None = None,
    fmt: str = "generic",
    attempts: int | None = None,
    base_delay: float | None = None,
    timeout: float = 15.0,
    smtp: SmtpSettings | None = None,
    outbox: Path | None = None,
    sleep: Callable[[float], None] = time.sleep,
    budget: float = RETRY_BUDGET,
) -> DeliveryResult:
    """Deliver one report to `target` ("webhook:URL" or "email:ADDR[,ADDR]").

    Tries up to `attempts` times (default `COCKPIT_PUSH_ATTEMPTS`, 3), waiting `base_delay`
    seconds (default `COCKPIT_PUSH_BACKOFF`, 2) and twice as long after each failure, while the
    next try can start within `budget` seconds of the first; a failure no retry can fix ends
    at once. Raises `PushError` with the last failure when no attempt succeeds; with `outbox`,
    the report is first saved there so it is not lost."""
    attempts = attempts if attempts is not None else int(os.environ.get("COCKPIT_PUSH_ATTEMPTS", 3))
    base_delay = (
        base_delay if base_delay is not None else float(os.environ.get("COCKPIT_PUSH_BACKOFF", 2))
    )
    attempts = max(1, attempts)
    channel, where = parse_target(target)
    if fmt not in FORMATS:
        payload(fmt, subject, text, html, markdown)  # raises the clear error
    if channel == "webhook":
        body = json.dumps(payload(fmt, subject, text, html, markdown), ensure_ascii=False)

        def send(wait: float) -> str:
            return _post(str(where), body.encode("utf-8"), wait)
    else:
        settings = smtp or SmtpSettings.from_env()
        message = _email(subject, html, text, settings.sender, list(where))

        def send(wait: float) -> str:
            return _send_mail(settings, message, wait)

    reason, advice = "", None
    tried = 0
    started = time.monotonic()
    for tried in range(1, attempts + 1):
        left = budget - (time.monotonic() - started)
        try:
            detail = send(max(1.0, min(timeout, left)))
            return DeliveryResult(target, channel, tried, detail, fmt)
        except _Permanent as err:
            reason, advice = str(err), err.advice
            break
        except Exception as err:  # a timeout, a dropped connection, 5xx: worth another attempt
            reason = _describe(err)
            delay = base_delay * 2 ** (tried - 1)
            if tried == attempts or time.monotonic() - started + delay >= budget:
                break
            sleep(delay)
    saved = _save(outbox, subject, html) if outbox is not None else None
    raise PushError(target, reason, tried, saved, advice)


def _describe(err: BaseException) -> str:
    if isinstance(err, urllib.error.URLError) and not isinstance(err, urllib.error.HTTPError):
        return f"{type(err.reason).__name__}: {err.reason}"
    return f"{type(err).__name__}: {err}"


def _post(url: str, body: bytes, timeout: float) -> str:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "cockpit-push"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
            reply = response.read(4096).decode("utf-8", errors="replace")
    except urllib.error.URLError as err:
        if isinstance(err, urllib.error.HTTPError) or not isinstance(err.reason, UNREACHABLE):
            raise _http_failure(err) from None
        parsed = urllib.parse.urlsplit(url)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        where = f"{parsed.hostname}:{port}"
        raise _Permanent(_describe(err), _unreachable(where, err.reason)) from None
    # 企业微信 and 钉钉 answer HTTP 200 with {"errcode": …} when they refuse a message.
    try:
        data = json.loads(reply)
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("errcode") not in (None, 0):
        raise RuntimeError(f"errcode {data.get('errcode')}: {data.get('errmsg', '')}")
    return f"HTTP {status}"


def _http_failure(err: urllib.error.URLError) -> Exception:
    """A failed request as a retryable error, or `_Permanent` for HTTP 4xx (not 408, 429)."""
    if not isinstance(err, urllib.error.HTTPError):
        return err
    reply = err.read(500).decode("utf-8", errors="replace") if err.fp else ""
    detail = f"HTTP {err.code} {err.reason}: {reply.strip()[:200]}"
    if 400 <= err.code < 500 and err.code not in (408, 429):
        return _Permanent(detail)
    return RuntimeError(detail)


def _email(subject: str, html: str, text: str, sender: str, to: list[str]) -> EmailMessage:
    """multipart/alternative [text/plain, multipart/related [text/html, image/png…]].

    The charts of `html` travel as PNG parts its `<img src="cid:…">` point at (see
    `inline_images`); a mail without charts is plain multipart/alternative."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="cockpit.local")
    message.set_content(text)
    body, images = inline_images(html)
    message.add_alternative(body, subtype="html")
    html_part = message.get_payload()[1]
    for number, (cid, png) in enumerate(images, 1):
        html_part.add_related(
            png, "image", "png", cid=f"<{cid}>", disposition="inline", filename=f"chart{number}.png"
        )
    return message


# One inline picture: vl-convert and `sparkline_svg` never nest an <svg> inside another.
SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL | re.IGNORECASE)
SIZE = re.compile(r"""(?<![\w-])(width|height)=["']([\d.]+)["']""")  # not stroke-width
# A link out of the SVG (href="https://…", url(logo.png)); not url(#clip1) nor a data: URI.
EXTERNAL = re.compile(r"""(?:href\s*=\s*|url\(\s*)["']?(?![\s"'#]|data:)""", re.IGNORECASE)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_SCALE = 2.0  # sharp on high-density screens; a demo board or summary mail is 0.5-0.7 MB


TITLE = re.compile(r"role-title.*?<text[^>]*>([^<]+)</text>", re.S)


def inline_images(html: str, scale: float = PNG_SCALE) -> tuple[str, list[tuple[str, bytes]]]:
    """`html` with every inline <svg> replaced by an `<img src="cid:…">` of its PNG, and the
    (Content-ID, PNG) pairs to attach; a picture repeated in the page is attached once.

    The image keeps the SVG's size in CSS pixels and is drawn at `scale` times it. A picture
    that cannot be drawn offline is left out: the tiles, tables and text still go out."""
    drawn: dict[str, tuple[str, bytes] | None] = {}

    def to_img(match: re.Match[str]) -> str:
        svg = match.group(0)
        if svg not in drawn:
            png = _png(svg, scale)
            drawn[svg] = None if png is None else (make_msgid(domain="cockpit.local")[1:-1], png)
        image = drawn[svg]
        if image is None:
            return ""
        size = "".join(f" {k}='{v}'" for k, v in SIZE.findall(svg[: svg.find(">")]))
        # The chart's own title, for mail clients that block images until asked.
        title = TITLE.search(svg)
        alt = html_lib.escape(html_lib.unescape(title.group(1)), quote=True) if title else ""
        return f"<img src='cid:{image[0]}'{size} alt='{alt}' style='max-width:100%;height:auto'>"

    body = SVG.sub(to_img, html)
    return body, [image for image in drawn.values() if image is not None]


def _png(svg: str, scale: float) -> bytes | None:
    """`svg` rasterised by vl-convert (the renderer of its PNG export, with local fonts), or
    None. A linked image or file is refused first: vl-convert would fetch it, and a push must
    neither wait on a remote server nor mail a local file."""
    if EXTERNAL.search(svg):
        return None
    try:
        import vl_convert

        png = vl_convert.svg_to_png(svg, scale=scale)
    except Exception:  # a chart must never stop the push
        return None
    return png if png.startswith(PNG_SIGNATURE) else None


def _send_mail(settings: SmtpSettings, message: EmailMessage, timeout: float) -> str:
    wait = min(timeout, settings.timeout)
    try:
        return _smtp_send(settings, message, wait)
    except UNREACHABLE as err:
        raise _Permanent(_describe(err), _smtp_advice(settings, err)) from None


def _smtp_send(settings: SmtpSettings, message: EmailMessage, wait: float) -> str:
    try:
        if settings.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=wait, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=wait)
        with client:
            if settings.starttls:
                client.starttls(context=ssl.create_default_context())
            if settings.user:
                client.login(settings.user, settings.password or "")
            refused = client.send_message(message)
    except (smtplib.SMTPAuthenticationError, smtplib.SMTPRecipientsRefused) as err:
        raise _Permanent(f"{type(err).__name__}: {err}") from None
    except smtplib.SMTPResponseException as err:
        if 500 <= err.smtp_code < 600:
            raise _Permanent(f"SMTP {err.smtp_code}: {err.smtp_error!r}") from None
        raise
    delivered = len(message["To"].split(",")) - len(refused)
    return f"SMTP {settings.host}:{settings.port} accepted {delivered} recipient(s)"


def _save(outbox: Path, subject: str, html: str) -> Path | None:
    """Keep an undelivered report (never raise while reporting a failure)."""
    try:
        outbox.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^\w.-]+", "_", subject)[:60]
        path = outbox / f"{datetime.now():%Y%m%d-%H%M%S}-{stem}.html"
        path.write_text(html, encoding="utf-8")
        return path
    except OSError:
        return None


# --- the CLI's entry point --------------------------------------------------------------------
def push(
    assistant: Assistant,
    board_name_or_summary: str,
    to: str,
    period: str | None = None,
    fmt: str = "generic",
    lang: str = "zh",
    *,
    role: str | None = ...,  # type: ignore[assignment]
    filters: Iterable[Filter | dict[str, Any]] | None = None,
    store: BoardStore | None = None,
    attempts: int | None = None,
    base_delay: float | None = None,
    smtp: SmtpSettings | None = None,
) -> DeliveryResult:
    """Render a board of `role` (by default the assistant's) or "summary" and deliver it.

    A board name is looked up in the store for the role; "default" falls back to the demo
    board when the role has none stored. Raises `PushError` (delivery) or `BoardError`
    (no such board, bad period); undelivered reports are kept in `<cache>/outbox/`."""
    viewer = assistant.role if role is ... else (None if role == ALL_DATA else role)
    if board_name_or_summary == SUMMARY:
        rendered = render_summary(assistant, period, lang, role=viewer)
    else:
        board = _find_board(assistant, board_name_or_summary, viewer, store)
        rendered = render_board(
            assistant, board, period=period, filters=filters, lang=lang, role=viewer
        )
    return deliver(
        rendered.html,
        rendered.text,
        to,
        subject=rendered.subject,
        markdown=rendered.markdown,
        fmt=fmt,
        attempts=attempts,
        base_delay=base_delay,
        smtp=smtp,
        outbox=assistant.settings.cache_dir / "outbox",
    )


def _find_board(
    assistant: Assistant, name: str, role: str | None, store: BoardStore | None
) -> Board:
    store = store or BoardStore()
    try:
        return store.get(name, role)
    except BoardError:
        fallback = default_board(assistant)
        if fallback is not None and name == fallback.name:
            return fallback
        raise


__all__ = [
    "FORMATS",
    "DeliveryResult",
    "PushError",
    "Rendered",
    "SmtpSettings",
    "deliver",
    "inline_images",
    "parse_target",
    "payload",
    "push",
    "render_board",
    "render_summary",
    "sparkline_svg",
]
