"""报表推送 against real local servers: an SMTP server (aiosmtpd) and an HTTP server on
127.0.0.1, checking what arrived; and the failure path (retries with backoff, then PushError)."""

from __future__ import annotations

import email
import json
import socket
import threading
import time
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
    parse_target,
    push,
    render_board,
    sparkline_svg,
)
from assistant.settings import Settings

controller_module = pytest.importorskip("aiosmtpd.controller")


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
    (message,) = inbox.messages()
    assert message["Subject"] == "管理驾驶舱 · Management cockpit · 2025-12-31"
    assert message["To"] == "ceo@example.com, cfo@example.com"
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert html.count("<svg") >= 3  # sparklines and the two pinned charts
    assert "营业收入" in html and "6.86亿" in html
    assert "营业收入 6.86亿" in text and "同比" in text


def test_the_executive_summary_is_mailed_for_a_period(assistant, smtp_server):
    inbox, port = smtp_server
    smtp = SmtpSettings(host="127.0.0.1", port=port)
    result = push(assistant, "summary", "email:boss@example.com", period="2025-12", smtp=smtp)
    assert result.attempts == 1
    (message,) = inbox.messages()
    assert message["Subject"].startswith("经营简报 · 2025-12")
    html = message.get_body(("html",)).get_content()
    assert "<svg" in html and "经营简报" in html
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
    html = inbox.messages()[0].get_body(("html",)).get_content()
    assert revenue in html and margin in html and html.count("<svg") >= 3


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
    assert SmtpSettings.from_env({}) == SmtpSettings()


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
def test_a_closed_port_is_retried_then_reported_quickly(rendered):
    port = free_port()  # nothing listens there
    started = time.perf_counter()
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        time.sleep(seconds)

    with pytest.raises(PushError) as err:
        deliver(
            rendered.html,
            rendered.text,
            f"webhook:http://127.0.0.1:{port}/hook",
            attempts=4,
            base_delay=0.01,
            sleep=sleep,
        )
    assert time.perf_counter() - started < 5
    assert err.value.attempts == 4 and waits == [0.01, 0.02, 0.04]
    assert "Connection refused" in err.value.reason or "ConnectionRefused" in err.value.reason
    assert "失败（尝试 4 次）" in err.value.message("zh")
    assert "failed after 4 attempt(s)" in err.value.message("en")
    assert str(err.value).count(" / ") >= 1  # both languages in the exception text


def test_a_closed_smtp_port_is_retried_then_reported(rendered):
    smtp = SmtpSettings(host="127.0.0.1", port=free_port(), timeout=2)
    with pytest.raises(PushError) as err:
        deliver(rendered.html, rendered.text, "email:a@example.com", smtp=smtp, base_delay=0.001)
    assert err.value.attempts == 3
    assert "Connection" in err.value.reason


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
    from datetime import date

    points = [(date(2025, m, 1), float(m % 5) if m != 6 else None) for m in range(1, 13)]
    svg = sparkline_svg(points)
    assert svg.startswith("<svg") and svg.count("<polyline") == 2  # a gap splits the line
    assert sparkline_svg(points[:1]) == ""
