"""The CLI as a finished product (issue 17): aligned wide characters, conventional help, every
option a user expects on each command, fast and clear failures, a doctor that fails when
something configured does not work. Run through typer's CliRunner on the demo database; the
only stand-ins are a closed local port (an SMTP server or LLM endpoint that is not there) and
a local HTTP server as the webhook."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from assistant.cli import DIALECTS, app
from assistant.formatting import format_value
from semantic_layer.compiler import compile_query
from semantic_layer.engine import DuckDBEngine
from semantic_layer.loader import load_model
from semantic_layer.query import SemanticQuery

runner = CliRunner()
DEMO_MODEL = Path(__file__).resolve().parent.parent / "semantic_layer" / "demo" / "model.yaml"


def run(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})


def closed_port() -> int:
    """A localhost port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Boards, cache and outbox in a temporary folder; no SMTP or LLM settings inherited."""
    monkeypatch.setenv("COCKPIT_BOARD_DB", str(tmp_path / "boards.sqlite"))
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("COCKPIT_SMTP_HOST", "COCKPIT_SMTP_PORT", "COCKPIT_LLM_MODEL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


# --- metrics: wide characters ------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_metrics_columns_line_up_on_screen(lang):
    """Each column starts at the same terminal column on every line, though 毛利率 takes six
    columns and "revenue" seven: widths are display widths, not character counts."""
    model = load_model()
    result = run("metrics", "--lang", lang)
    assert result.exit_code == 0, result.output
    header, rule, *lines = result.output.splitlines()
    assert header.split()[:2] == (["指标", "名称"] if lang == "zh" else ["metric", "label"])
    assert len(lines) == len(model.metrics)
    label_at, text_at = set(), set()
    for line, metric in zip(lines, model.metrics, strict=True):
        label = metric.label.get(lang)
        description = metric.description.get(lang)
        assert line.startswith(metric.name + " ")
        label_at.add(cell_len(line[: line.index(label, len(metric.name))]))
        text_at.add(cell_len(line[: line.rindex(description)]))
    # The dashes under each header are as wide as its column.
    widths = [len(dashes) for dashes in rule.split("  ")]
    assert label_at == {widths[0] + 2} and text_at == {widths[0] + widths[1] + 4}


# --- help --------------------------------------------------------------------------------------
def every_command(group=None, path=()):
    """Every command path of the CLI, groups' subcommands included."""
    import typer.main

    group = group or typer.main.get_command(app)
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield (*path, name)
            yield from every_command(command, (*path, name))
        else:
            yield (*path, name)


TYPE_TAG = re.compile(r"<(?:str|bool|int|float|path|text|Path|list\[[^\]]*\]|[a-z ]+range)>")


def test_no_help_shows_a_type_tag():
    commands = list(every_command())
    assert {("ask",), ("board",), ("board", "show"), ("import", "dbt")} <= set(commands)
    for command in [(), *commands]:
        result = run(*command, "--help")
        assert result.exit_code == 0, (command, result.output)
        assert not TYPE_TAG.search(result.output), (command, TYPE_TAG.search(result.output))
        assert "Show this message and exit" in result.output
        assert " VALUE " not in result.output  # every option that takes a value names it


def test_help_lists_the_choices_of_options_with_fixed_values():
    query = run("query", "--help").output
    assert "[table|csv|json]" in query and "[zh|en]" in query
    listed = set(re.findall(r"[a-z0-9]+", query.split("--dialect", 1)[1].split("[default")[0]))
    assert {"duckdb", "snowflake", "trino", "postgres", "bigquery", "spark"} <= listed
    assert set(DIALECTS) <= listed
    assert all(c in query for c in ("yoy", "mom", "qoq", "previous_period", "budget"))
    assert "[generic|wecom|dingtalk|slack|teams]" in run("push", "--help").output
    ask = run("ask", "--help").output
    assert "QUESTION" in ask and "DATE" in ask and "[zh|en]" in ask


def test_a_dialect_is_one_of_the_listed_ones(demo_db):
    bad = run("query", "-m", "revenue", "--sql", "--dialect", "snowflak")
    assert bad.exit_code == 2 and "snowflake" in bad.output
    assert isinstance(bad.exception, SystemExit)  # a usage error, not a traceback
    args = ["query", "-m", "revenue", "-b", "region", "--limit", "3", "--sql"]
    tsql = run(*args, "--dialect", "tsql")
    assert tsql.exit_code == 0, tsql.output
    assert "TOP 3" in tsql.output and "LIMIT" not in tsql.output  # T-SQL's way
    assert "LIMIT 3" in run(*args).output  # DuckDB's, the default
    bad_format = run("query", "-m", "revenue", "--db", str(demo_db), "--format", "xml")
    assert bad_format.exit_code == 2 and "table" in bad_format.output


def test_compare_still_runs_from_its_listed_values(demo_db):
    args = ["-m", "revenue", "-b", "region", "--from", "2025-01-01", "--to", "2026-01-01"]
    result = run("query", *args, "--compare", "yoy", "--format", "json", "--db", str(demo_db))
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    east = next(r for r in rows if r["region"] == "华东")
    assert (
        len(rows) == 7
        and str(revenue(demo_db, "2025-01-01", "2026-01-01", "华东")) == east["revenue"]
    )
    assert east["revenue__compare"] == str(revenue(demo_db, "2024-01-01", "2025-01-01", "华东"))


def test_query_prints_its_table_as_the_app_shows_it(demo_db):
    """¥ and 万 per column, a change of a rate in points, members in the asked language, the
    role's rows only — the same cells as `ask` (a raw 192,546,150.08 is no table for people)."""
    args = ["-m", "revenue", "-m", "gross_margin", "-b", "region", "--db", str(demo_db)]
    args += ["--from", "2025-01-01", "--to", "2026-01-01", "--compare", "yoy"]
    shown = run("query", *args)
    assert shown.exit_code == 0, shown.output
    east = next(line for line in shown.output.splitlines() if line.startswith("华东"))
    expected = float(revenue(demo_db, "2025-01-01", "2026-01-01", "华东"))
    assert f"¥{expected / 1e4:,.2f}万" in east
    assert re.search(r"[-+]\d+\.\d个百分点", east)  # the margin's change, not "-0.3%"
    english = run("query", *args, "--lang", "en").output
    assert re.search(r"^East\s+¥\d+\.\d\dM", english, re.M) and "华东" not in english
    east_only = run("query", *args, "--role", "east_manager").output.splitlines()
    assert [line.split()[0] for line in east_only[2:] if line.strip()] == ["华东"]


# --- --role on report and alerts, --model on push ---------------------------------------------
def revenue(demo_db, start: str, end: str, region: str | None = None):
    """营业收入 computed directly through the semantic layer (the check query)."""
    filters = [{"dimension": "region", "op": "=", "values": [region]}] if region else []
    query = SemanticQuery(
        metrics=["revenue"], filters=filters, time_range={"start": start, "end": end}
    )
    with DuckDBEngine(demo_db) as engine:
        return engine.execute(compile_query(load_model(), query).ast).rows[0][0]


def test_report_as_a_role_shows_the_figures_the_role_sees(demo_db, isolated):
    east = format_value(
        revenue(demo_db, "2025-12-01", "2026-01-01", "华东"), "yuan", "zh", compact=True
    )
    company = format_value(revenue(demo_db, "2025-12-01", "2026-01-01"), "yuan", "zh", compact=True)
    assert east != company
    texts = {}
    for role in (None, "east_manager"):
        out = isolated / f"report-{role}.md"
        args = ["report", "--period", "2025-12", "--out", str(out), "--db", str(demo_db)]
        result = run(*args, *(["--role", role] if role else []))
        assert result.exit_code == 0, result.output
        texts[role] = out.read_text(encoding="utf-8")
    assert f"营业收入 | {east}" in texts["east_manager"] and company not in texts["east_manager"]
    assert f"营业收入 | {company}" in texts[None]


def test_alerts_as_a_role_are_evaluated_on_the_rows_it_sees(demo_db):
    """The 2025-03 margin drop is 华南's clearance sale: company-wide it fires (critical, exit
    2); 华东's manager, who sees 华东 only, has nothing firing."""
    company = run("alerts", "--as-of", "2025-03-31", "--db", str(demo_db))
    assert company.exit_code == 2 and "26.9%" in company.output
    east = run("alerts", "--as-of", "2025-03-31", "--role", "east_manager", "--db", str(demo_db))
    assert east.exit_code == 0, east.output
    assert "26.9%" not in east.output and "没有触发的预警" in east.output
    unknown = run("alerts", "--role", "nobody", "--db", str(demo_db))
    assert unknown.exit_code in (1, 2) and "nobody" in unknown.output


@pytest.fixture
def webhook():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's hook name)
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"errcode": 0}')

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield received, f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()


def test_push_takes_the_model_option(demo_db, isolated, webhook):
    received, url = webhook
    base = ["push", "--board", "summary", "--period", "2025-12", "--to", f"webhook:{url}"]
    pushed = run(*base, "--model", str(DEMO_MODEL), "--db", str(demo_db), "--format", "wecom")
    assert pushed.exit_code == 0, pushed.output
    assert len(received) == 1 and "营业收入" in received[0]["markdown"]["content"]
    missing = run(*base, "--model", str(isolated / "nope.yaml"), "--db", str(demo_db))
    assert missing.exit_code == 1 and "nope.yaml" in missing.output
    assert len(received) == 1  # nothing sent for a model that cannot be read


# --- email push without a mail server -----------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_email_push_without_smtp_settings_fails_at_once_naming_the_setting(
    demo_db, isolated, monkeypatch, lang
):
    port = closed_port()
    monkeypatch.setenv("COCKPIT_SMTP_PORT", str(port))  # not :25, where a real MTA might listen
    started = time.perf_counter()
    result = run("push", "--to", "email:ceo@example.com", "--db", str(demo_db), "--lang", lang)
    elapsed = time.perf_counter() - started
    assert result.exit_code == 1
    message = result.output
    assert "COCKPIT_SMTP_HOST" in message and f"localhost:{port}" in message
    assert ("尝试 1 次" if lang == "zh" else "after 1 attempt(s)") in message
    if lang == "zh":
        assert "拒绝连接" in message and "请设置" in message
    else:
        assert "refused the connection" in message and "no mail server is configured" in message
        assert not re.search(r"[\u4e00-\u9fff]", message.split("saved to")[0])
    assert "Traceback" not in message
    assert elapsed < 10  # rendering the board; no retries, no backoff (was 11 s and 3 tries)
    assert list((isolated / "cache" / "outbox").glob("*.html"))  # the report is kept


# --- doctor -----------------------------------------------------------------------------------------
def test_doctor_passes_when_everything_configured_works(demo_db, isolated):
    result = run("doctor", "--db", str(demo_db))
    assert result.exit_code == 0, result.output
    assert f"{demo_db} (" in result.output and "tables)" in result.output
    assert "offline rules" in result.output  # no LLM configured is fine


def test_doctor_fails_when_the_llm_endpoint_does_not_answer(demo_db, isolated):
    endpoint = f"http://127.0.0.1:{closed_port()}/v1"
    env = {
        "COCKPIT_LLM_MODEL": "local-model",
        "OPENAI_BASE_URL": endpoint,
        "OPENAI_API_KEY": "sk-local",
        "COCKPIT_LLM_TIMEOUT": "5",
    }
    result = run("doctor", "--db", str(demo_db), "--lang", "en", env=env)
    assert result.exit_code == 1, result.output
    assert "unreachable" in result.output and endpoint in result.output
    assert "not working: llm" in result.output


def test_doctor_fails_when_the_database_is_missing(isolated):
    missing = isolated / "nope.duckdb"
    result = run("doctor", "--db", str(missing))
    assert result.exit_code == 1
    assert f"{missing} 不存在" in result.output and "不能使用：database" in result.output
