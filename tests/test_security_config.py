"""Hostile or broken configuration (issue 14): one clear line, exit code 2, an audit line.

A secret file that is a folder or truncated, a time limit of 1e10 s, a row cap past BIGINT,
`max_rows = true`, a memory limit of 0GB: each used to crash, run without a limit, or blame
the wrong thing (the metric, the database file). Each is now refused where it is read, in the
user's language, and the question that met it still reaches the audit log.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

import pytest
from typer.testing import CliRunner

from assistant.api import Assistant
from assistant.cli import app
from assistant.settings import MAX_ROWS, MAX_SECONDS, Settings, SettingsError
from semantic_layer.engine import DuckDBEngine
from semantic_layer.errors import MESSAGES, ConfigError
from semantic_layer.pseudonyms import SECRET_BYTES, installation_secret

QUESTION = "2025年收入"
runner = CliRunner()


def _environment(cache: Path, **values: str | None) -> dict[str, str | None]:
    """A run's environment: its own cache, no user config, no setting from the shell."""
    names = [f"COCKPIT_{n.upper()}" for n in Settings.model_fields] + ["COCKPIT_SECRET_FILE"]
    environment: dict[str, str | None] = dict.fromkeys(names)
    environment |= {"COCKPIT_CACHE_DIR": str(cache), "COCKPIT_CONFIG": os.devnull}
    environment["COCKPIT_SECRET_FILE"] = os.environ["COCKPIT_SECRET_FILE"]  # the tests' own
    return environment | values


def cockpit(*args: str, cache: Path, **values: str | None):
    """`cockpit …` in-process (an exception escaping it would be a user's traceback)."""
    result = runner.invoke(app, list(args), env=_environment(cache, **values))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def cockpit_process(*args: str, cache: Path, **values: str | None) -> tuple[int, str, str]:
    """The real command in a child process: (exit code, stdout, stderr)."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    for key, value in _environment(cache, **values).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        capture_output=True,
        env=env,
        timeout=120,
    )
    return done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8")


def audit(cache: Path) -> list[dict[str, Any]]:
    path = cache / "audit" / "audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- 1. the pseudonym secret -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            QUESTION,
            "假名密钥 {path}（COCKPIT_SECRET_FILE）是文件夹；它应是一个 32 字节随机密钥的文件",
        ),
        (
            "revenue in 2025",
            "The pseudonym secret {path} (COCKPIT_SECRET_FILE) is a folder; it must",
        ),
    ],
)
def test_a_secret_file_that_is_a_folder(question, expected, demo_db, tmp_path):
    code, out, err = cockpit_process(
        "ask", question, "--role", "auditor", "--db", str(demo_db),
        cache=tmp_path / "cache", COCKPIT_SECRET_FILE=str(tmp_path),
    )  # fmt: skip
    assert code == 2, err
    assert "Traceback" not in out + err
    assert err.count("\n") == 1 and err.startswith(expected.format(path=tmp_path)), err
    assert "COCKPIT_SECRET_FILE" in err.split("；")[-1] + err.split(". ")[-1]  # how to fix it
    [line] = audit(tmp_path / "cache")
    assert (line["question"], line["role"], line["status"]) == (question, "auditor", "error")
    assert str(tmp_path) in line["message"]


def test_a_truncated_secret_is_named_and_kept(demo_db, tmp_path):
    key = tmp_path / "short.key"
    key.write_bytes(b"abc")
    code, out, err = cockpit_process(
        "ask", QUESTION, "--role", "auditor", "--db", str(demo_db),
        cache=tmp_path / "cache", COCKPIT_SECRET_FILE=str(key),
    )  # fmt: skip
    assert code == 2 and "Traceback" not in out + err, err
    assert err.strip() == (
        f"假名密钥 {key}（COCKPIT_SECRET_FILE）只有 3 字节；它应是 32 字节的随机密钥（已损坏或被截断）。"
        "删除它即可重新生成（脱敏名称的代号会随之改变），或把 COCKPIT_SECRET_FILE 指向别的文件。"
    )
    assert key.read_bytes() == b"abc"  # never topped up or replaced behind the user's back
    assert audit(tmp_path / "cache")[0]["status"] == "error"


def test_secret_problems_are_config_errors_in_both_languages(tmp_path):
    short = tmp_path / "short.key"
    short.write_bytes(b"x" * (SECRET_BYTES - 1))
    cases = {
        "secret_is_folder": tmp_path,
        "secret_too_short": short,
        "secret_uncreatable": tmp_path / "short.key" / "below-a-file.key",
    }
    for code, path in cases.items():
        with pytest.raises(ConfigError) as caught:
            installation_secret(path)
        assert caught.value.code == code
        for lang in ("zh", "en"):
            text = caught.value.message(lang)
            assert str(path) in text and "\n" not in text and "COCKPIT_SECRET_FILE" in text


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_secret_says_so(tmp_path):
    key = tmp_path / "locked.key"
    key.write_bytes(os.urandom(SECRET_BYTES))
    key.chmod(0)
    with pytest.raises(ConfigError) as caught:
        installation_secret(key)
    assert caught.value.code == "secret_unreadable"
    assert "Permission denied" in caught.value.message("en")


def test_a_new_secret_is_private_and_stable(tmp_path):
    key = tmp_path / "deep" / "pseudonym.key"
    secret = installation_secret(key)
    assert len(secret) == SECRET_BYTES and key.read_bytes() == secret
    if os.name != "nt":
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert installation_secret(key) == secret


@pytest.mark.skipif(os.name == "nt", reason="no group/other mode bits")
def test_a_secret_others_can_read_is_warned_about_once(tmp_path, caplog):
    key = tmp_path / "shared.key"
    key.write_bytes(os.urandom(SECRET_BYTES))
    key.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="cockpit"):
        for _ in range(3):
            installation_secret(key)
    warnings = [r.getMessage() for r in caplog.records if str(key) in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert "644" in warnings[0] and f"chmod 600 {key}" in warnings[0]
    caplog.clear()
    private = tmp_path / "private.key"
    private.write_bytes(os.urandom(SECRET_BYTES))
    private.chmod(0o600)
    with caplog.at_level(logging.WARNING, logger="cockpit"):
        installation_secret(private)
    assert not caplog.records


# --- 2-4. limits out of range -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "COCKPIT_QUERY_TIMEOUT",
            "1e10",
            "COCKPIT_QUERY_TIMEOUT：'1e10' 太大，请用不大于 86,400 的数",
        ),
        (
            "COCKPIT_LLM_TIMEOUT",
            "86401",
            "COCKPIT_LLM_TIMEOUT：'86401' 太大，请用不大于 86,400 的数",
        ),
        (
            "COCKPIT_MAX_ROWS",
            "99999999999999999999999",
            "COCKPIT_MAX_ROWS：'99999999999999999999999' 太大，请用不大于 1,000,000,000 的整数",
        ),
        (
            "COCKPIT_MEMORY_LIMIT",
            "0GB",
            "COCKPIT_MEMORY_LIMIT：'0GB' 太小，请用类似 2GB 或 512MB 的值，16MB 到 1000TB 之间",
        ),
        (
            "COCKPIT_MEMORY_LIMIT",
            "0.0001MB",
            "COCKPIT_MEMORY_LIMIT：'0.0001MB' 太小，请用类似 2GB 或 512MB 的值，16MB 到 1000TB 之间",
        ),
        (
            "COCKPIT_MEMORY_LIMIT",
            "99999999TB",
            "COCKPIT_MEMORY_LIMIT：'99999999TB' 太大，请用类似 2GB 或 512MB 的值，16MB 到 1000TB 之间",
        ),
    ],
)
def test_a_limit_out_of_range_is_one_line_and_exit_2(variable, value, expected, demo_db, tmp_path):
    result = cockpit("ask", QUESTION, "--db", str(demo_db), cache=tmp_path, **{variable: value})
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == expected
    [line] = audit(tmp_path)  # the question is logged with the reason it was not answered
    assert line["question"] == QUESTION and line["status"] == "error"
    assert line["message"] == expected


def test_the_limits_at_their_bounds_are_accepted():
    settings = Settings(
        max_rows=MAX_ROWS, query_timeout=MAX_SECONDS, llm_timeout=MAX_SECONDS, memory_limit="16MB"
    )
    assert (settings.max_rows, settings.query_timeout) == (1_000_000_000, 86_400)
    for size in ("1000TB", "16MB", "15.3MiB"):
        assert Settings(memory_limit=size).memory_limit == size
    for size in ("15MB", "1001TB", "0MB"):
        with pytest.raises(SettingsError):
            Settings(memory_limit=size)


def test_the_largest_row_cap_and_smallest_memory_still_answer(demo_db, tmp_path):
    """The bounds are usable, not just accepted: the cap fits DuckDB's BIGINT, 16MB runs."""
    copy = tmp_path / "demo.duckdb"  # a fresh file: DuckDB shares one instance per file
    shutil.copyfile(demo_db, copy)
    settings = Settings(
        cache_dir=tmp_path / "cache", database=copy, max_rows=MAX_ROWS, memory_limit="16MB"
    )
    answer = Assistant.open(settings=settings).ask("2025年各区域的营业收入")
    assert answer.status == "ok", answer.message
    assert len(answer.rows) == 7


def _numbers() -> list[str]:
    out = []
    for name, field in Settings.model_fields.items():
        kind = field.annotation
        if get_origin(kind) is Annotated:
            kind = get_args(kind)[0]
        if kind in (int, float):
            out.append(name)
    return out


@pytest.mark.parametrize("name", _numbers())
def test_no_number_setting_takes_a_yes_no_value(name, tmp_path, monkeypatch):
    """TOML `max_rows = true` once read as a row cap of 1."""
    config = tmp_path / "cockpit.toml"
    config.write_text(f"# limits\n{name} = true\n", encoding="utf-8")
    monkeypatch.setenv("COCKPIT_CONFIG", str(config))
    monkeypatch.delenv(f"COCKPIT_{name.upper()}", raising=False)
    with pytest.raises(SettingsError) as caught:
        Settings()
    assert caught.value.message("en").startswith(
        f"{config}:2: {name}: True is a yes/no value, not a number; use "
    )
    with pytest.raises(SettingsError):
        Settings(**{name: False})


def test_a_row_cap_past_bigint_in_the_config_file(tmp_path, monkeypatch):
    config = tmp_path / "cockpit.toml"
    config.write_text("max_rows = 99999999999999999999\n", encoding="utf-8")
    monkeypatch.setenv("COCKPIT_CONFIG", str(config))
    monkeypatch.delenv("COCKPIT_MAX_ROWS", raising=False)
    with pytest.raises(SettingsError) as caught:
        Settings()
    assert caught.value.message("en") == (
        f"{config}:1: max_rows: 99999999999999999999 is too large; "
        "use a whole number of at most 1,000,000,000"
    )


def test_a_huge_timeout_given_to_the_engine_keeps_a_timer(demo_db, monkeypatch):
    """Past threading.TIMEOUT_MAX a timer thread dies with OverflowError and the statement
    runs with no limit at all; the engine clamps it."""
    failures: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: failures.append(args.exc_value))
    engine = DuckDBEngine(demo_db, timeout=1e10)
    assert engine.execute("SELECT 41 + 1").scalar() == 42
    assert failures == []


def test_a_tiny_timeout_is_reported_as_given(demo_db, tmp_path):
    result = cockpit(
        "ask", QUESTION, "--db", str(demo_db), cache=tmp_path, COCKPIT_QUERY_TIMEOUT="0.001"
    )
    assert result.exit_code == 1
    assert "0.001 秒" in result.stderr and "0.0 秒" not in result.stderr
    [line] = audit(tmp_path)
    assert line["status"] == "error" and "0.001 秒" in line["message"]


@pytest.mark.parametrize("size", ["0GB", "0.0001MB", "99999999TB"])
def test_a_memory_limit_duckdb_refuses_is_not_a_corrupt_file(size, demo_db, tmp_path):
    """The engine, given a limit no setting would pass, blames the limit and not the file."""
    copy = tmp_path / "demo.duckdb"
    shutil.copyfile(demo_db, copy)
    with pytest.raises(ConfigError) as caught:
        DuckDBEngine(copy, memory_limit=size)
    assert caught.value.code == "memory_limit_refused"
    for lang in ("zh", "en"):
        text = caught.value.message(lang)
        assert repr(size) in text and "COCKPIT_MEMORY_LIMIT" in text
        assert MESSAGES["database_corrupt"][0][:8] not in text
    assert "The database file is fine" in caught.value.message("en")
    assert DuckDBEngine(copy, memory_limit="64MB").execute("SELECT 1").scalar() == 1


def test_a_corrupt_file_is_still_called_corrupt(tmp_path):
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"not a database" * 100)
    with pytest.raises(Exception) as caught:
        DuckDBEngine(bad, memory_limit="2GB")
    assert getattr(caught.value, "code", None) == "database_corrupt"


# --- 6. every question the CLI receives is audited -------------------------------------------


def test_an_unknown_role_is_audited(demo_db, tmp_path):
    result = cockpit("ask", QUESTION, "--role", "nobody", "--db", str(demo_db), cache=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith("未知角色：nobody")
    [line] = audit(tmp_path)
    assert (line["question"], line["role"], line["status"]) == (QUESTION, "nobody", "error")
    assert line["message"].startswith("未知角色：nobody")


def test_a_bad_setting_is_audited_in_the_cache_the_config_file_names(demo_db, tmp_path):
    """The cache directory comes from the config file, beside it, though another setting is bad."""
    config = tmp_path / "cockpit.toml"
    config.write_text('cache_dir = "mine"\nmax_rows = 0\n', encoding="utf-8")
    values = {"COCKPIT_CONFIG": str(config), "COCKPIT_CACHE_DIR": None}
    result = cockpit("ask", QUESTION, "--db", str(demo_db), cache=tmp_path, **values)
    assert result.exit_code == 2
    [line] = audit(tmp_path / "mine")
    assert line["message"] == f"{config}:2: max_rows：0 太小，请用不小于 1 的整数"


def test_a_bad_cache_directory_is_not_guessed(demo_db, tmp_path):
    config = tmp_path / "cockpit.toml"
    config.write_text("cache_dir = [1]\n", encoding="utf-8")
    values = {"COCKPIT_CONFIG": str(config), "COCKPIT_CACHE_DIR": None}
    result = cockpit("ask", QUESTION, "--db", str(demo_db), cache=tmp_path, **values)
    assert result.exit_code == 2 and not list(tmp_path.rglob("audit.jsonl"))


# --- 7. a question with no words is answered in the configured language ---------------------------


@pytest.mark.parametrize(
    ("question", "lang", "expected"),
    [
        ("\x01\x02", None, "请输入一个问题。"),
        ("   \x7f", None, "请输入一个问题。"),
        ("\x01\x02", "en", "Please type a question."),
        ("hello \x01", None, None),  # words: the question's own language (English)
    ],
)
def test_a_question_without_words_in_the_configured_language(
    question, lang, expected, demo_db, tmp_path
):
    result = cockpit("ask", question, "--db", str(demo_db), cache=tmp_path, COCKPIT_LANG=lang)
    [line] = audit(tmp_path)
    if expected is None:
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in result.stdout), result.stdout
        return
    assert result.stdout.strip() == expected
    assert line["message"] == expected
