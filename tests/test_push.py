"""报表推送 against real local servers: an SMTP server (aiosmtpd) and an HTTP server on
127.0.0.1, checking what arrived (mailed charts as inline PNG parts); and the failure path
(retries with backoff, then PushError)."""

from __future__ import annotations

import email
import json
import re
import socket
import struct
import threading
import time
from datetime import date
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant import Assistant
from assistant.board import BoardError, BoardStore, default_board, pin_answer
from assistant.formatting import format_value
from assistant.push import (
    FORMATS,
    PushError,
    SmtpSettings,
    deliver,
    inline_images,
    parse_target,
    push,
    render_board,
    sparkline_svg,
)
from assistant.settings import Settings

controller_module = pytest.importorskip("aiosmtpd.controller")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def assistant(demo_db, tmp_path_factory) -> Assistant:
    cache = tmp_path_factory.mktemp("push_cache")
    return Assistant.demo(database=demo_db, settings=Settings(cache_dir=cache))


@pytest.fixture(scope="module")
def rendered(assistant):
    return render_board(assistant, default_board(assistant))


@pytest.fixture
def store(tmp_path) -> BoardStore:
    return BoardStore(tmp_path / "boards.sqlite")


# --- a real SMTP server -------------------------------------------------------------------------
class Inbox:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def messages(self):
        return [email.message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


def mailed_charts(message) -> tuple[str, dict[str, bytes]]:
    """The HTML of a received mail and its PNGs by Content-ID, checking the shape Gmail and
    Outlook display: alternative [plain, related [html, png…]], each cid: with its part."""
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)).get_content().strip()
    related = message.get_body(("related",))
    assert related is not None and related.get_content_type() == "multipart/related"
    html_part, *images = related.iter_parts()
    assert html_part.get_content_type() == "text/html"
    assert images and {p.get_content_type() for p in images} == {"image/png"}
    pngs = {p["Content-ID"].strip("<>"): p.get_content() for p in images}
    html = html_part.get_content()
    assert set(re.findall(r"src=['\"]cid:([^'\"]+)", html)) == set(pngs)  # none missing or unused
    assert all(png.startswith(PNG_SIGNATURE) for png in pngs.values())
    assert "<svg" not in html.lower()
    return html, pngs


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = controller_module.Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


# --- a real HTTP server ---------------------------------------------------------------------------
class Hook:
    """Records every POST and answers with the next status of `replies` (the last repeats)."""

    def __init__(self, replies=((200, b'{"errcode": 0, "errmsg": "ok"}'),)) -> None:
        self.replies = list(replies)
        self.requests = []

    def reply(self):
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


@pytest.fixture
def http_server():
    servers = []

    def start(replies=((200, b'{"errcode": 0, "errmsg": "ok"}'),)):
        hook = Hook(replies)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's hook name)
                length = int(self.headers["Content-Length"])
                hook.requests.append(
                    (self.path, dict(self.headers), json.loads(self.rfile.read(length)))
                )
                status, body = hook.reply()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return hook, f"http://127.0.0.1:{server.server_port}/hook"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


# --- email --------------------------------------------------------------------------------------------
def test_a_board_is_mailed_as_html_with_charts_and_a_text_alternative(
    assistant, store, smtp_server, monkeypatch
):
    inbox, port = smtp_server
    monkeypatch.setenv("COCKPIT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("COCKPIT_SMTP_PORT", str(port))
    monkeypatch.setenv("COCKPIT_SMTP_FROM", "cockpit@example.com")
    result = push(
        assistant, "default", "email:ceo@example.com,cfo@example.com", store=store, base_delay=0
    )
    assert result.channel == "email" and result.attempts == 1
    assert "accepted 2 recipient" in result.detail
    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "cockpit@example.com"
    assert envelope.rcpt_tos == ["ceo@example.com", "cfo@example.com"]
    assert len(envelope.content) < 1_000_000  # PNGs at twice the size shown, no more
    (message,) = inbox.messages()
    assert message["Subject"] == "管理驾驶舱 · Management cockpit · 2025-12-31"
    assert message["To"] == "ceo@example.com, cfo@example.com"
    html, pngs = mailed_charts(message)
    text = message.get_body(("plain",)).get_content()
    assert len(pngs) >= 3  # sparklines and the two pinned charts
    for cid, width in re.findall(r"src='cid:([^']+)' width='([\d.]+)'", html):
        (drawn,) = struct.unpack(">I", pngs[cid][16:20])  # IHDR: the PNG's width in pixels
        assert abs(drawn - 2 * float(width)) <= 1
    assert "营业收入" in html and "6.86亿" in html
    assert "营业收入 6.86亿" in text and "同比" in text


def test_the_executive_summary_is_mailed_for_a_period(assistant, smtp_server):
    inbox, port = smtp_server
    smtp = SmtpSettings(host="127.0.0.1", port=port)
    result = push(assistant, "summary", "email:boss@example.com", period="2025-12", smtp=smtp)
    assert result.attempts == 1
    (message,) = inbox.messages()
    assert message["Subject"].startswith("经营简报 · 2025-12")
    html, pngs = mailed_charts(message)
    assert len(pngs) == 3 and "经营简报" in html  # trend, expenses vs budget, regions
    assert "营业收入" in message.get_body(("plain",)).get_content()


def test_the_summary_period_may_be_a_board_keyword(assistant):
    from assistant.push import render_summary

    keyword = render_summary(assistant, "last_month", "en")
    words = render_summary(assistant, "2025-11", "en")
    assert keyword.subject.startswith("Business summary · last month (2025-11-01 – 2025-11-30)")
    assert keyword.text.splitlines()[3:] == words.text.splitlines()[3:]  # the numbers


def test_a_board_of_a_role_is_pushed_inside_the_role(assistant, smtp_server, store):
    inbox, port = smtp_server
    smtp = SmtpSettings(host="127.0.0.1", port=port)
    push(
        assistant, "default", "email:east@example.com", role="east_manager", smtp=smtp, store=store
    )
    (message,) = inbox.messages()
    text = message.get_body(("plain",)).get_content()
    east = assistant.ask("今年的营业收入", role="east_manager")
    everyone = assistant.ask("今年的营业收入")
    assert f"营业收入 {format_value(east.value(), 'yuan', 'zh', compact=True)}" in text
    assert format_value(everyone.value(), "yuan", "zh", compact=True) not in text
    assert "华东区经理" in text  # the role and why expenses are not shown


def test_three_pinned_answers_are_pushed_with_fresh_numbers(
    assistant, store, smtp_server, http_server
):
    for question in ["本月收入", "本月毛利率", "今年各区域收入"]:
        pin_answer(store, assistant, assistant.ask(question), board="morning")
    revenue = format_value(assistant.ask("本月收入").value(), "yuan", "zh", compact=True)
    margin = format_value(assistant.ask("本月毛利率").value(), "percent", "zh", compact=True)
    hook, url = http_server()
    push(assistant, "morning", f"webhook:{url}", store=store, fmt="wecom")
    content = hook.requests[0][2]["markdown"]["content"]
    assert f"**营业收入** {revenue}" in content and f"**毛利率** {margin}" in content
    assert "**今年各区域收入** 年初至今" in content
    inbox, port = smtp_server
    smtp = SmtpSettings(host="127.0.0.1", port=port)
    push(assistant, "morning", "email:boss@example.com", store=store, smtp=smtp)
    html, pngs = mailed_charts(inbox.messages()[0])
    assert revenue in html and margin in html and len(pngs) >= 3


def test_a_chart_that_cannot_be_drawn_offline_is_left_out_of_the_mail(smtp_server):
    inbox, port = smtp_server
    smtp = SmtpSettings(host="127.0.0.1", port=port)
    good = sparkline_svg([(date(2025, m, 1), float(m % 4)) for m in range(1, 13)])
    broken = "<svg xmlns='http://www.w3.org/2000/svg'><path d='M0'</svg>"  # not XML
    # Nothing listens there: were the link followed, a PNG without the picture would come back.
    linked = (
        "<svg xmlns='http://www.w3.org/2000/svg' width='20' height='20'><image "
        f"href='http://127.0.0.1:{free_port()}/logo.png' width='20' height='20'/></svg>"
    )
    table = "<table><tr><td>营业收入</td><td>6.86亿</td></tr></table>"
    page = f"<html><body>{table}{good}{broken}{linked}{good}</body></html>"
    deliver(page, "营业收入 6.86亿", "email:a@example.com", smtp=smtp, base_delay=0)
    html, pngs = mailed_charts(inbox.messages()[0])
    assert len(pngs) == 1 and html.count("cid:") == 2  # the repeated sparkline, attached once
    assert table in html

    only_broken = f"<html><body>{table}{broken}</body></html>"
    deliver(only_broken, "营业收入 6.86亿", "email:a@example.com", smtp=smtp, base_delay=0)
    message = inbox.messages()[1]
    assert message.get_body(("related",)) is None  # no pictures: plain alternative
    html = message.get_body(("html",)).get_content()
    assert table in html and "<svg" not in html
    assert message.get_body(("plain",)).get_content().strip() == "营业收入 6.86亿"


def test_smtp_settings_come_from_the_environment():
    smtp = SmtpSettings.from_env(
        {
            "COCKPIT_SMTP_HOST": "smtp.example.com",
            "COCKPIT_SMTP_PORT": "587",
            "COCKPIT_SMTP_USER": "bot@example.com",
            "COCKPIT_SMTP_PASSWORD": "secret",
            "COCKPIT_SMTP_STARTTLS": "true",
        }
    )
    assert (smtp.host, smtp.port, smtp.user, smtp.password) == (
        "smtp.example.com",
        587,
        "bot@example.com",
        "secret",
    )
    assert smtp.starttls and not smtp.ssl and smtp.sender == "bot@example.com"
    assert SmtpSettings.from_env({"COCKPIT_SMTP_SSL": "1"}).port == 465
    assert SmtpSettings.from_env({}) == SmtpSettings(host_configured=False)  # the defaults


# --- webhooks -------------------------------------------------------------------------------------------
def test_a_board_is_posted_to_a_webhook_as_json(assistant, store, http_server):
    hook, url = http_server()
    result = push(assistant, "default", f"webhook:{url}", store=store)
    assert result.channel == "webhook" and result.detail == "HTTP 200"
    ((path, headers, body),) = hook.requests
    assert path == "/hook" and headers["Content-Type"].startswith("application/json")
    assert set(body) == {"title", "text", "html"}
    assert body["title"].startswith("管理驾驶舱")
    assert "<svg" in body["html"] and "营业收入" in body["text"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_chat_tool_gets_the_json_shape_it_accepts(rendered, http_server, fmt):
    hook, url = http_server()
    result = deliver(
        rendered.html,
        rendered.text,
        f"webhook:{url}",
        subject=rendered.subject,
        markdown=rendered.markdown,
        fmt=fmt,
    )
    assert result.fmt == fmt
    ((_, _, body),) = hook.requests
    if fmt == "generic":
        assert body["html"].startswith("<!doctype html>") and "<svg" in body["html"]
    elif fmt == "wecom":
        assert body["msgtype"] == "markdown"
        content = body["markdown"]["content"]
        assert "**营业收入**" in content and len(content.encode()) <= 4096
    elif fmt == "dingtalk":
        assert body["msgtype"] == "markdown"
        assert body["markdown"]["title"] == rendered.subject
        assert "营业收入" in body["markdown"]["text"]
    elif fmt == "slack":
        assert "营业收入" in body["text"]
        header, section = body["blocks"]
        assert header["type"] == "header" and header["text"]["text"] == rendered.subject
        assert section["text"]["type"] == "mrkdwn" and "*营业收入*" in section["text"]["text"]
    elif fmt == "teams":
        assert body["@type"] == "MessageCard" and body["title"] == rendered.subject
        assert "营业收入" in body["text"]


def test_a_server_error_is_retried_with_backoff_until_it_succeeds(rendered, http_server):
    hook, url = http_server([(500, b"busy"), (503, b"busy"), (200, b"ok")])
    waits = []
    result = deliver(
        rendered.html, rendered.text, f"webhook:{url}", base_delay=0.5, sleep=waits.append
    )
    assert result.attempts == 3 and len(hook.requests) == 3
    assert waits == [0.5, 1.0]  # doubled after each failure


def test_a_chat_tool_refusal_in_a_200_reply_is_a_failure(rendered, http_server):
    hook, url = http_server([(200, b'{"errcode": 93000, "errmsg": "invalid webhook url"}')])
    with pytest.raises(PushError) as err:
        deliver(rendered.html, rendered.text, f"webhook:{url}", fmt="wecom", base_delay=0.001)
    assert err.value.attempts == 3 and len(hook.requests) == 3
    assert "errcode 93000" in err.value.message("en")


def test_a_client_error_is_not_retried(rendered, http_server):
    hook, url = http_server([(400, b'{"error": "bad payload"}')])
    with pytest.raises(PushError) as err:
        deliver(rendered.html, rendered.text, f"webhook:{url}", base_delay=0.001)
    assert err.value.attempts == 1 and len(hook.requests) == 1
    assert "HTTP 400" in err.value.reason and "bad payload" in err.value.reason


# --- failure ------------------------------------------------------------------------------------------------
def test_a_refused_connection_is_reported_at_once_without_retries(rendered):
    """Nothing listens at the port: another try seconds later meets the same refusal."""
    port = free_port()  # nothing listens there
    started = time.perf_counter()
    waits = []
    with pytest.raises(PushError) as err:
        deliver(
            rendered.html,
            rendered.text,
            f"webhook:http://127.0.0.1:{port}/hook",
            attempts=4,
            base_delay=0.5,
            sleep=waits.append,
        )
    assert time.perf_counter() - started < 2
    assert err.value.attempts == 1 and waits == []
    assert "ConnectionRefusedError" in err.value.reason
    assert f"127.0.0.1:{port} 拒绝连接" in err.value.message("zh")
    assert "失败（尝试 1 次）" in err.value.message("zh")
    assert f"127.0.0.1:{port} refused the connection" in err.value.message("en")
    assert "failed after 1 attempt(s)" in err.value.message("en")
    assert str(err.value).count(" / ") >= 1  # both languages in the exception text


def test_a_closed_smtp_port_names_the_settings_to_check(rendered):
    port = free_port()
    smtp = SmtpSettings(host="127.0.0.1", port=port, timeout=2)
    with pytest.raises(PushError) as err:
        deliver(rendered.html, rendered.text, "email:a@example.com", smtp=smtp, base_delay=5)
    assert err.value.attempts == 1
    zh, en = err.value.message("zh"), err.value.message("en")
    assert f"127.0.0.1:{port}" in zh and "请检查 COCKPIT_SMTP_HOST 和 COCKPIT_SMTP_PORT" in zh
    assert f"127.0.0.1:{port} refused" in en and "check COCKPIT_SMTP_HOST" in en


def test_without_a_configured_smtp_host_the_message_says_to_set_it(rendered):
    port = free_port()
    smtp = SmtpSettings.from_env({"COCKPIT_SMTP_PORT": str(port)})
    assert smtp.host == "localhost" and not smtp.host_configured
    started = time.perf_counter()
    with pytest.raises(PushError) as err:
        deliver(rendered.html, rendered.text, "email:a@example.com", smtp=smtp)
    assert time.perf_counter() - started < 2  # at once: no backoff of 2 s + 4 s
    assert err.value.attempts == 1
    assert "未配置邮件服务器：请设置 COCKPIT_SMTP_HOST" in err.value.message("zh")
    assert "no mail server is configured: set COCKPIT_SMTP_HOST" in err.value.message("en")
    assert f"localhost:{port}" in err.value.message("en")


def test_an_unknown_host_is_not_retried(rendered):
    smtp = SmtpSettings(host="no-such-host.invalid", port=25, timeout=5)
    with pytest.raises(PushError) as err:
        deliver(rendered.html, rendered.text, "email:a@example.com", smtp=smtp, base_delay=5)
    assert err.value.attempts == 1
    assert "找不到主机 no-such-host.invalid:25" in err.value.message("zh")


def test_retries_stop_within_the_budget(rendered, http_server):
    """A server that keeps failing is retried only while the next try starts in the budget."""
    hook, url = http_server([(503, b"busy")])
    waits = []
    with pytest.raises(PushError) as err:
        deliver(
            rendered.html,
            rendered.text,
            f"webhook:{url}",
            attempts=10,
            base_delay=0.5,
            budget=1.0,
            sleep=waits.append,
        )
    assert waits == [0.5]  # a second wait of 1 s would end past the 1 s budget
    assert err.value.attempts == 2 and len(hook.requests) == 2
    assert "HTTP 503" in err.value.reason


def test_an_undelivered_push_keeps_the_report_and_says_where(assistant, store):
    port = free_port()
    with pytest.raises(PushError) as err:
        push(
            assistant,
            "default",
            f"webhook:http://127.0.0.1:{port}/",
            store=store,
            attempts=2,
            base_delay=0.001,
        )
    saved = err.value.saved
    assert saved is not None and saved.parent == assistant.settings.cache_dir / "outbox"
    assert "<svg" in saved.read_text(encoding="utf-8")
    assert str(saved) in err.value.message("zh") and str(saved) in err.value.message("en")


@pytest.mark.parametrize(
    "target",
    ["ftp://example.com", "webhook:not-a-url", "email:", "email:not-an-address", "slack"],
)
def test_a_wrong_target_is_refused_without_trying(target, rendered):
    with pytest.raises(PushError) as err:
        deliver(rendered.html, rendered.text, target)
    assert err.value.attempts == 0
    assert err.value.message("zh") and err.value.message("en")


def test_an_unknown_format_or_board_is_a_clear_error(assistant, rendered, store, http_server):
    _, url = http_server()
    with pytest.raises(PushError) as err:
        deliver(rendered.html, rendered.text, f"webhook:{url}", fmt="fax")
    assert "fax" in str(err.value) and "wecom" in str(err.value)
    with pytest.raises(BoardError) as missing:
        push(assistant, "nope", f"webhook:{url}", store=store)
    assert "nope" in missing.value.message("en")


def test_targets_are_parsed():
    assert parse_target("webhook:https://example.com/x?key=1") == (
        "webhook",
        "https://example.com/x?key=1",
    )
    assert parse_target("https://example.com/x") == ("webhook", "https://example.com/x")
    assert parse_target("email:a@example.com; b@example.com") == (
        "email",
        ["a@example.com", "b@example.com"],
    )


def test_a_sparkline_is_a_small_inline_svg():
    points = [(date(2025, m, 1), float(m % 5) if m != 6 else None) for m in range(1, 13)]
    svg = sparkline_svg(points)
    assert svg.startswith("<svg") and svg.count("<polyline") == 2  # a gap splits the line
    assert sparkline_svg(points[:1]) == ""


def test_a_mailed_chart_carries_its_title_as_alt_text(assistant):
    """Outlook blocks images until asked: the placeholder then says which chart it is."""
    from assistant.insights.report import chart_svg

    answer = assistant.ask("2025年各区域的毛利率")
    body, images = inline_images("<p>x</p>" + chart_svg(answer.chart))
    assert len(images) == 1
    assert "alt='毛利率 · 按区域'" in body


def test_a_regional_push_marks_what_the_region_does_not_narrow(assistant):
    """Under 区域 = 华东 the expenses tile is the company's (expenses have no region): every
    format says so by name; revenue is 华东's (and equals the filtered question)."""
    board = default_board(assistant)
    out = render_board(
        assistant, board, filters=[{"dimension": "region", "op": "=", "values": ["华东"]}]
    )
    east = assistant.ask("今年华东的收入").rows[0][0]
    revenue_line = next(line for line in out.text.splitlines() if line.startswith("营业收入"))
    assert format_value(east, "yuan", "zh", compact=True) in revenue_line
    assert "筛选影响" not in revenue_line
    expenses_line = next(line for line in out.text.splitlines() if line.startswith("费用"))
    assert expenses_line.endswith("（不受「区域」筛选影响）")
    assert any(
        line.startswith("- **费用**") and "不受「区域」筛选影响" in line
        for line in out.markdown.splitlines()
    )
    assert "不受「区域」筛选影响" in out.html
    english = render_board(
        assistant,
        board,
        filters=[{"dimension": "region", "op": "=", "values": ["华东"]}],
        lang="en",
    )
    assert "(not filtered by region)" in english.text


def test_a_push_for_a_role_lists_the_tiles_it_may_not_see(assistant):
    out = render_board(assistant, default_board(assistant), role="east_manager")
    said = "未显示（华东区经理无权查看）："  # whose view, as the board page says it
    assert said in out.text and "费用" in out.text.split(said)[1]
    english = render_board(assistant, default_board(assistant), role="east_manager", lang="en")
    assert "Left out (East region manager may not see them): " in english.text
    assert not any(line.startswith("费用") for line in out.text.splitlines())
