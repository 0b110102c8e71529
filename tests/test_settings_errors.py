"""Settings that cannot be used: one line per bad setting naming its source and what it accepts.

Every kind of setting (date, whole number, number, choice, yes/no, size, text, path, secret) is
set to a value it refuses — in the environment, in a config file, as a command-line option and
as a Python argument — and `cockpit ask` must print the one line, exit with code 2 and show no
traceback; the API must raise `SettingsError` at construction. The audit log must keep one valid
JSON line per question whatever the question holds.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import SecretStr
from pydantic.fields import FieldInfo
from typer.testing import CliRunner

from assistant.api import Assistant
from assistant.audit import AuditLog
from assistant.cli import app
from assistant.settings import Settings, SettingsError, load_settings
from semantic_layer.errors import CockpitError

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")
QUESTION = "2025年各区域的营业收入"
runner = CliRunner()


def _variable(name: str, field: FieldInfo) -> str:
    """The environment variable of a setting (OPENAI_API_KEY has no COCKPIT_ prefix)."""
    aliases = getattr(field.validation_alias, "choices", None)
    return next((a for a in aliases or [] if a.isupper()), f"COCKPIT_{name.upper()}")


VARIABLES = {_variable(n, f): n for n, f in Settings.model_fields.items()}


@pytest.fixture(autouse=True)
def cache_dir(tmp_path_factory, monkeypatch) -> Path:
    """Runs write their audit log and caches here, never in the user's cache directory."""
    path = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(path))
    return path


def _clean_environment(**values: str | None) -> dict[str, str | None]:
    """No setting from the developer's shell or config file leaks into a run (the cache
    directory stays the test's own)."""
    environment: dict[str, str | None] = dict.fromkeys(set(VARIABLES) - {"COCKPIT_CACHE_DIR"})
    environment["COCKPIT_CONFIG"] = os.devnull
    return {**environment, **values}


def _use_environment(monkeypatch, **values: str | None) -> None:
    for key, value in _clean_environment(**values).items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)


def _base_type(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, UnionType):
        members = [a for a in get_args(annotation) if a is not NoneType]
        annotation = members[0] if len(members) == 1 else annotation
    return get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation


def _refused_text(field: FieldInfo) -> str | None:
    """A value the setting's type refuses when it arrives as text; None: any text is valid."""
    kind = _base_type(field.annotation)
    if get_origin(kind) is Literal:
        return "xx"
    refused: dict[Any, str] = {int: "abc", float: "abc", bool: "maybe", date: "xyz"}
    if kind in refused:
        return refused[kind]
    return "lots" if field.examples else None


# --- every setting, in process -----------------------------------------------------------------


REFUSED = {
    variable: bad
    for variable, name in VARIABLES.items()
    if (bad := _refused_text(Settings.model_fields[name])) is not None
}


def test_settings_that_take_any_text_are_text_or_paths():
    for variable, name in VARIABLES.items():
        if variable not in REFUSED:
            assert _base_type(Settings.model_fields[name].annotation) in (str, Path, SecretStr)


@pytest.mark.parametrize("variable", sorted(REFUSED))
def test_every_setting_names_its_variable_and_what_it_accepts(variable, monkeypatch):
    """Derived from the field, not written per variable: a new setting is covered by itself."""
    name, bad = VARIABLES[variable], REFUSED[variable]
    _use_environment(monkeypatch, **{variable: bad})
    with pytest.raises(SettingsError) as caught:
        Settings()
    error = caught.value
    assert isinstance(error, CockpitError)
    for lang in ("zh", "en"):
        line = error.message(lang)
        assert "\n" not in line and line.startswith(variable), line
        assert repr(bad) in line
    assert "; use " in error.message("en") and "请用" in error.message("zh")
    assert [p.setting for p in error.problems] == [name]


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_with_a_wrong_type_in_the_config_file(name, tmp_path, monkeypatch):
    """`key = [1]` fits no setting: the message names the file, the line and the key."""
    config = tmp_path / "cockpit.toml"
    other = 'role = "east_manager"' if name != "role" else 'lang = "zh"'
    config.write_text(f"# settings\n{other}\n{name} = [1]\n", encoding="utf-8")
    _use_environment(monkeypatch, COCKPIT_CONFIG=str(config), COCKPIT_CACHE_DIR=None)
    with pytest.raises(SettingsError) as caught:
        Settings()
    line = caught.value.message("en")
    assert line.startswith(f"{config}:3: {name}: "), line
    assert "; use " in line and "\n" not in line
    if _base_type(Settings.model_fields[name].annotation) is SecretStr:
        assert "[1]" not in line and "the value" in line  # a secret is never echoed


def test_every_setting_is_documented_in_the_readme():
    """The README's Configuration table lists every variable (and the config file's)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    missing = [v for v in [*VARIABLES, "COCKPIT_CONFIG"] if f"`{v}`" not in section]
    assert not missing, f"not in README Configuration: {missing}"


# --- `cockpit ask`: the one line, exit code 2, no traceback --------------------------------------


def cockpit(*args: str, **environment: str | None):
    """`cockpit` in process; an exception escaping it is what a user would see as a traceback."""
    result = runner.invoke(app, list(args), env=_clean_environment(**environment))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    return result


def _one_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


# (environment, the English line exactly, a Chinese fragment)
ENVIRONMENT_CASES = [
    pytest.param(
        {"COCKPIT_AS_OF": "xyz"},
        "COCKPIT_AS_OF: 'xyz' is not a date; use YYYY-MM-DD",
        "COCKPIT_AS_OF：'xyz' 不是日期，请用 YYYY-MM-DD 格式",
        id="date-text",
    ),
    pytest.param(
        {"COCKPIT_AS_OF": "2025-02-30"},
        "COCKPIT_AS_OF: '2025-02-30' is not a date; use YYYY-MM-DD",
        "不是日期",
        id="date-impossible",
    ),
    pytest.param(
        {"COCKPIT_AS_OF": "31/12/2025"},
        "COCKPIT_AS_OF: '31/12/2025' is not a date; use YYYY-MM-DD",
        "不是日期",
        id="date-other-format",
    ),
    pytest.param(
        {"COCKPIT_MAX_ROWS": "0"},
        "COCKPIT_MAX_ROWS: '0' is too small; use a whole number of at least 1",
        "COCKPIT_MAX_ROWS：'0' 太小，请用不小于 1 的整数",
        id="int-too-small",
    ),
    pytest.param(
        {"COCKPIT_MAX_ROWS": "1e5"},
        "COCKPIT_MAX_ROWS: '1e5' is not a whole number; use a whole number of at least 1",
        "不是整数",
        id="int-text",
    ),
    pytest.param(
        {"COCKPIT_DEMO_SCALE": "0"},
        "COCKPIT_DEMO_SCALE: '0' is too small; use a whole number of at least 1",
        "太小",
        id="demo-scale",
    ),
    pytest.param(
        {"COCKPIT_CACHE_MB": "-1"},
        "COCKPIT_CACHE_MB: '-1' is too small; use a whole number of at least 0",
        "不小于 0 的整数",
        id="cache-mb",
    ),
    pytest.param(
        {"COCKPIT_MAX_RESULT_MB": "1.5"},
        "COCKPIT_MAX_RESULT_MB: '1.5' is not a whole number; use a whole number of at least 1",
        "不是整数",
        id="max-result-mb",
    ),
    pytest.param(
        {"COCKPIT_QUERY_TIMEOUT": "abc"},
        "COCKPIT_QUERY_TIMEOUT: 'abc' is not a number; use a number greater than 0",
        "COCKPIT_QUERY_TIMEOUT：'abc' 不是数字，请用大于 0 的数",
        id="float-text",
    ),
    pytest.param(
        {"COCKPIT_QUERY_TIMEOUT": "inf"},
        "COCKPIT_QUERY_TIMEOUT: 'inf' is not a finite number; use a number greater than 0",
        "不是有限的数",
        id="float-infinite",
    ),
    pytest.param(
        {"COCKPIT_LLM_TIMEOUT": "-5"},
        "COCKPIT_LLM_TIMEOUT: '-5' is too small; use a number greater than 0",
        "大于 0 的数",
        id="float-negative",
    ),
    pytest.param(
        {"COCKPIT_LLM_SEND_ROWS": "maybe"},
        "COCKPIT_LLM_SEND_ROWS: 'maybe' is not a yes/no value; use true or false",
        "COCKPIT_LLM_SEND_ROWS：'maybe' 不是布尔值，请用 true 或 false",
        id="bool",
    ),
    pytest.param(
        {"COCKPIT_MEMORY_LIMIT": "lots"},
        "COCKPIT_MEMORY_LIMIT: 'lots' is not in the expected form; use a value like 2GB or 512MB",
        "COCKPIT_MEMORY_LIMIT：'lots' 格式不对，请用类似 2GB 或 512MB 的值",
        id="memory-size",
    ),
    pytest.param(
        {"COCKPIT_MEMORY_LIMIT": "100"},
        "COCKPIT_MEMORY_LIMIT: '100' is not in the expected form; use a value like 2GB or 512MB",
        "格式不对",
        id="memory-without-unit",
    ),
]


@pytest.mark.parametrize(("environment", "english", "chinese"), ENVIRONMENT_CASES)
def test_cli_ask_with_a_bad_variable(environment, english, chinese, demo_db):
    zh = _one_line(cockpit("ask", QUESTION, "--db", str(demo_db), **environment))
    assert chinese in zh and "请用" in zh and "; use" not in zh
    en = _one_line(cockpit("ask", QUESTION, "--db", str(demo_db), COCKPIT_LANG="en", **environment))
    assert en == english
    assert not CJK.search(en)


def test_bad_language_is_said_in_both_languages(demo_db):
    line = _one_line(cockpit("ask", QUESTION, "--db", str(demo_db), COCKPIT_LANG="fr"))
    assert line == (
        "COCKPIT_LANG：'fr' 不是可选的值，请用 zh 或 en / "
        "COCKPIT_LANG: 'fr' is not one of the choices; use zh or en"
    )


def test_language_in_capitals_is_accepted():
    assert load_settings(lang=" EN ").lang == "en"


def test_bad_language_option_names_the_option(demo_db):
    result = cockpit("query", "-m", "revenue", "--db", str(demo_db), "--lang", "fr")
    line = _one_line(result)
    assert line.startswith("--lang：'fr'") and "--lang: 'fr' is not one of the choices" in line


def test_bad_as_of_option_names_the_option(demo_db):
    for command in (("ask", QUESTION), ("alerts",)):
        line = _one_line(cockpit(*command, "--db", str(demo_db), "--as-of", "31/12/2025"))
        assert line == "--as-of：'31/12/2025' 不是日期，请用 YYYY-MM-DD 格式"
    en = cockpit("ask", "revenue", "--db", str(demo_db), "--as-of", "x", COCKPIT_LANG="en")
    assert _one_line(en) == "--as-of: 'x' is not a date; use YYYY-MM-DD"


def test_two_bad_variables_are_two_lines(demo_db):
    result = cockpit(
        "ask", QUESTION, "--db", str(demo_db), COCKPIT_AS_OF="xyz", COCKPIT_MAX_ROWS="0"
    )
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("COCKPIT_AS_OF：") and lines[1].startswith("COCKPIT_MAX_ROWS：")


def test_an_empty_variable_counts_as_not_set(demo_db):
    result = cockpit("ask", QUESTION, "--db", str(demo_db), COCKPIT_AS_OF="", COCKPIT_LANG="")
    assert result.exit_code == 0 and "华东" in result.output


@pytest.mark.parametrize(
    "command",
    [
        ("metrics",),
        ("check",),
        ("query", "-m", "revenue"),
        ("alerts",),
        ("doctor",),
        ("board", "show"),
        ("import", "dbt", "nowhere"),
    ],
)
def test_every_command_reports_a_bad_setting_the_same_way(command, demo_db):
    result = cockpit(*command, COCKPIT_DATABASE=str(demo_db), COCKPIT_MAX_ROWS="0")
    assert _one_line(result).startswith("COCKPIT_MAX_ROWS：'0' 太小")


# --- the config file --------------------------------------------------------------------------


def _config(tmp_path: Path, text: str | bytes, name: str = "cockpit.toml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_malformed_toml_names_the_file_and_line(demo_db, tmp_path):
    config = _config(tmp_path, 'lang = "en"\nas_of = "2025-12-31"\nmax_rows = \n')
    result = cockpit("ask", QUESTION, "--db", str(demo_db), COCKPIT_CONFIG=str(config))
    line = _one_line(result)
    assert line == f"{config}:3：TOML 语法错误（第 12 列）：Invalid value"
    en = cockpit(
        "ask", "revenue", "--db", str(demo_db), COCKPIT_CONFIG=str(config), COCKPIT_LANG="en"
    )
    assert _one_line(en) == f"{config}:3: TOML syntax error at column 12: Invalid value"


def test_unterminated_toml_names_the_last_line(tmp_path):
    config = _config(tmp_path, 'role = "east_manager"\nmodel = "my.yaml\n')
    line = _one_line(cockpit("metrics", COCKPIT_CONFIG=str(config), COCKPIT_LANG="en"))
    assert line.startswith(f"{config}:2: TOML syntax error") and "Illegal character" in line


def test_toml_that_is_not_utf8(tmp_path):
    config = _config(tmp_path, b'lang = "en"\nrole = "\xff\xfe"\n')
    line = _one_line(cockpit("metrics", COCKPIT_CONFIG=str(config)))
    assert line == f"{config}:2：不是 UTF-8 文本"


def test_unknown_key_in_the_config_file(tmp_path):
    """In English, because the file itself says lang = "en"."""
    config = _config(tmp_path, 'lang = "en"\nmax_rowz = 5\n\n[llm]\nmodel = "x"\n')
    result = cockpit("metrics", COCKPIT_CONFIG=str(config))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"{config}:2: max_rowz: is not a setting (did you mean max_rows?)",
        f"{config}:4: llm: is not a setting (did you mean llm_model?)",
    ]


def test_bad_values_in_the_config_file_name_file_line_and_key(demo_db, tmp_path):
    config = _config(tmp_path, 'lang = "en"\n\nas_of = "soon"\nmax_rows = 0\n')
    result = cockpit("ask", "revenue", "--db", str(demo_db), COCKPIT_CONFIG=str(config))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"{config}:3: as_of: 'soon' is not a date; use YYYY-MM-DD",
        f"{config}:4: max_rows: 0 is too small; use a whole number of at least 1",
    ]


def test_the_environment_wins_over_a_bad_file_value(demo_db, tmp_path):
    """Only the value actually used is checked, and the message names where it came from."""
    config = _config(tmp_path, 'max_rows = 5\nas_of = "2025-06-30"\n')
    result = cockpit(
        "ask", QUESTION, "--db", str(demo_db), COCKPIT_CONFIG=str(config), COCKPIT_AS_OF="x"
    )
    assert _one_line(result).startswith("COCKPIT_AS_OF：'x'")


def test_a_toml_date_is_a_date(tmp_path, monkeypatch):
    config = _config(tmp_path, "as_of = 2025-06-30\n")
    monkeypatch.setenv("COCKPIT_CONFIG", str(config))
    monkeypatch.delenv("COCKPIT_AS_OF", raising=False)
    assert Settings().as_of == date(2025, 6, 30)


def test_missing_config_file_is_an_error(tmp_path):
    missing = tmp_path / "nowhere.toml"
    line = _one_line(cockpit("metrics", COCKPIT_CONFIG=str(missing), COCKPIT_LANG="en"))
    assert line == f"COCKPIT_CONFIG: the config file {missing} does not exist"
    zh = _one_line(cockpit("metrics", COCKPIT_CONFIG=str(missing)))
    assert zh == f"COCKPIT_CONFIG：找不到配置文件 {missing}"


def test_config_file_that_is_a_folder(tmp_path):
    line = _one_line(cockpit("metrics", COCKPIT_CONFIG=str(tmp_path), COCKPIT_LANG="en"))
    assert line == f"COCKPIT_CONFIG: {tmp_path} is a folder; name a TOML file"


def test_local_cockpit_toml_is_named_as_found(demo_db, tmp_path, monkeypatch):
    """./cockpit.toml (what `cockpit init` leaves behind) is read when COCKPIT_CONFIG is unset."""
    _config(tmp_path, 'lang = "en"\nquery_timeout = "soon"\n')
    monkeypatch.chdir(tmp_path)
    result = cockpit("ask", "revenue", "--db", str(demo_db), COCKPIT_CONFIG=None)
    line = _one_line(result)
    assert (
        line == "cockpit.toml:2: query_timeout: 'soon' is not a number; use a number greater than 0"
    )


# --- real processes: what a user's terminal shows ------------------------------------------------


def cockpit_process(*args: str | bytes, cwd: Path, **environment: str | None):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    for key, value in _clean_environment(**environment).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        pytest.param(
            {"COCKPIT_AS_OF": "xyz", "COCKPIT_LANG": "en"},
            "COCKPIT_AS_OF: 'xyz' is not a date; use YYYY-MM-DD",
            id="date",
        ),
        pytest.param(
            {"COCKPIT_MAX_ROWS": "0"}, "COCKPIT_MAX_ROWS：'0' 太小，请用不小于 1 的整数", id="int"
        ),
        pytest.param(
            {"COCKPIT_QUERY_TIMEOUT": "abc", "COCKPIT_LANG": "en"},
            "COCKPIT_QUERY_TIMEOUT: 'abc' is not a number; use a number greater than 0",
            id="float",
        ),
        pytest.param(
            {"COCKPIT_LANG": "fr"},
            "COCKPIT_LANG：'fr' 不是可选的值，请用 zh 或 en / "
            "COCKPIT_LANG: 'fr' is not one of the choices; use zh or en",
            id="language",
        ),
        pytest.param(
            {"COCKPIT_CONFIG": "{broken}"},
            "{broken}:1：TOML 语法错误（第 7 列）：Expected '=' after a key in a key/value pair",
            id="toml",
        ),
    ],
)
def test_real_process_prints_one_line_and_exits_2(environment, expected, demo_db, tmp_path):
    broken = _config(tmp_path, "as_of 2025-12-31\n", name="broken.toml")
    environment = {k: v.format(broken=broken) for k, v in environment.items()}
    done = cockpit_process("ask", QUESTION, "--db", str(demo_db), cwd=tmp_path, **environment)
    stderr = done.stderr.decode("utf-8")
    assert done.returncode == 2, stderr
    assert "Traceback" not in stderr + done.stdout.decode("utf-8", "replace")
    assert stderr.strip() == expected.format(broken=broken)


# --- the Python API ---------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    _use_environment(monkeypatch)
    return Settings(cache_dir=tmp_path)


@pytest.mark.parametrize(
    "as_of",
    ["2025-06-30", " 2025-06-30 ", date(2025, 6, 30), datetime(2025, 6, 30, 12, 0)],
    ids=["iso", "iso-padded", "date", "datetime"],
)
def test_as_of_takes_a_date_or_iso_text_everywhere(as_of, demo_db, settings):
    demo = Assistant.demo(database=demo_db, settings=settings, as_of=as_of)
    opened = Assistant.open(database=demo_db, settings=settings, as_of=as_of)
    assert demo.as_of == opened.as_of == date(2025, 6, 30)
    assert Settings(as_of=as_of).as_of == date(2025, 6, 30)
    assert load_settings(base=settings, as_of=as_of).as_of == date(2025, 6, 30)
    answer = demo.ask("今年的营业收入")
    assert answer.status == "ok" and "2025-06-30" in answer.interpretation


@pytest.mark.parametrize(
    "as_of",
    ["xyz", "31/12/2025", "2025-02-30", "20251231", 20251231, 1.5e9, [2025, 12, 31], True],
    ids=["word", "dmy", "impossible", "compact", "int", "timestamp", "list", "bool"],
)
def test_as_of_refuses_anything_else_at_construction(as_of, demo_db, settings):
    for build in (
        lambda: Assistant.demo(database=demo_db, settings=settings, as_of=as_of),
        lambda: Assistant.open(database=demo_db, settings=settings, as_of=as_of),
        lambda: Assistant.demo(database=demo_db, as_of=as_of),
        lambda: Settings(as_of=as_of),
    ):
        with pytest.raises(SettingsError) as caught:
            build()
        assert caught.value.message("en") == f"as_of: {as_of!r} is not a date; use YYYY-MM-DD"
        assert caught.value.message("zh").startswith(f"as_of：{as_of!r} 不是日期")


def test_api_raises_settings_error_for_a_bad_variable(demo_db, tmp_path, monkeypatch):
    monkeypatch.setenv("COCKPIT_CONFIG", os.devnull)
    monkeypatch.setenv("COCKPIT_QUERY_TIMEOUT", "abc")
    monkeypatch.setenv("COCKPIT_LANG", "en")
    for build in (
        lambda: Assistant.demo(database=demo_db),
        lambda: Assistant.open(database=demo_db),
        Settings,
        load_settings,
    ):
        with pytest.raises(SettingsError) as caught:
            build()
        assert str(caught.value) == (
            "COCKPIT_QUERY_TIMEOUT: 'abc' is not a number; use a number greater than 0"
        )
        assert isinstance(caught.value, CockpitError)


def test_an_argument_is_named_as_given(settings):
    with pytest.raises(SettingsError) as caught:
        load_settings(max_rows=0, memory_limit="2 gigabytes")
    assert caught.value.message("en").splitlines() == [
        "max_rows: 0 is too small; use a whole number of at least 1",
        "memory_limit: '2 gigabytes' is not in the expected form; use a value like 2GB or 512MB",
    ]
    with pytest.raises(SettingsError) as based:
        load_settings(base=settings, max_rows=0)
    assert based.value.message("en") == "max_rows: 0 is too small; use a whole number of at least 1"
    with pytest.raises(TypeError):
        load_settings(max_rowz=5)  # a caller's typo is a bug, not a user's mistake


def test_memory_budget_settings(settings, tmp_path):
    assert (settings.memory_limit, settings.max_result_mb, settings.cache_mb) == ("2GB", 64, 256)
    assert settings.temp_dir is None and settings.resolved_temp_dir() == tmp_path / "tmp"
    for size in ("2GB", "512MB", "1.5GB", "4GiB", "2 gb", "1TB"):
        assert load_settings(base=settings, memory_limit=size).memory_limit == size
    for size in ("2", "2G", "100B", "10KB", "-1GB", "two GB", "80%"):
        with pytest.raises(SettingsError):
            load_settings(base=settings, memory_limit=size)
    chosen = load_settings(base=settings, temp_dir=tmp_path / "spill", cache_mb=0)
    assert chosen.resolved_temp_dir() == tmp_path / "spill" and chosen.cache_mb == 0


# --- the app ----------------------------------------------------------------------------------


def test_app_shows_the_message_and_stops(demo_db, monkeypatch):
    from streamlit.testing.v1 import AppTest

    _use_environment(
        monkeypatch, COCKPIT_DATABASE=str(demo_db), COCKPIT_AS_OF="xyz", COCKPIT_LANG="en"
    )
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["COCKPIT\\_AS\\_OF: 'xyz' is not a date; use YYYY-MM-DD"]
    assert not at.chat_input  # the chat page did not run


# --- the audit log keeps every question --------------------------------------------------------

NASTY = [
    "\ud800",
    "\udfff",
    "2025年各区域的营业收入\udcff",  # an undecodable byte from the shell (surrogateescape)
    "revenue \ud83d\ude00 by region",  # a pair written as two code points
    "\x00",
    "2025年营业收入\x00\x00",
    "\x1b[31m2025年营业收入\x1b[0m",
    "\r\n\t\x0b\x0c",
    "\u202e2025年收入\u202c",
    "\u200b\u200c\u200d\ufeff",
    "2025年\u200b收入",
    "😀📈💰 revenue 2025 🚀",
    "\u2028\u2029 line separators",
    '{"question": "forged"}\n{"status": "ok"}',
    "\\u0000 \\ud800 backslashes",
    "\ufffd\ufffd",
    "收入" * 500_000,  # 1 MB of Chinese
    "x" * 1_048_576,
    "revenue\x00" * 100_000,
    b"\xff\xfe\x00\x80",
    bytes(range(256)),
    None,
    0,
    12345,
    3.14,
    float("nan"),
    "",
    "   ",
]


def _audit_lines(path: Path) -> list[dict]:
    raw = path.read_bytes()
    text = raw.decode("utf-8")  # strict: the file is valid UTF-8
    lines = text.split("\n")  # not splitlines(): U+2028 inside a line is not a line break
    assert lines[-1] == "", "the log ends with a newline"
    entries = [json.loads(line) for line in lines[:-1]]
    for entry in entries:
        assert isinstance(entry["question"], str)
        entry["question"].encode("utf-8")  # no lone surrogate survived
    return entries


def test_every_nasty_question_gets_exactly_one_audit_line(demo_db, tmp_path, settings):
    assistant = Assistant.demo(database=demo_db, settings=settings)
    for question in NASTY:
        answer = assistant.ask(question)  # type: ignore[arg-type]
        answer.question.encode("utf-8")  # the answer's own question is valid text too
    assistant.ask("\ud800", role="nobody")  # an unknown role records the raw question
    assistant.ask(QUESTION + "\udcff", role="east_manager")
    entries = _audit_lines(tmp_path / "audit" / "audit.jsonl")
    assert len(entries) == len(NASTY) + 2
    assert entries[-2]["role"] == "nobody" and entries[-2]["status"] == "error"
    assert entries[-1]["role"] == "east_manager" and entries[-1]["status"] == "ok"
    assert entries[2]["status"] == "ok" and entries[2]["question"].startswith("2025年")
    assert "😀" in entries[3]["question"]
    assert all(len(e["question"]) <= 2000 for e in entries)


def test_cli_question_with_an_undecodable_byte_is_audited(demo_db, tmp_path):
    """Python hands an undecodable argument byte over as a lone surrogate ('\\udcff')."""
    result = cockpit(
        "ask", "2025年各区域的\udcff营业收入", "--db", str(demo_db), COCKPIT_CACHE_DIR=str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    done = cockpit_process(
        "ask",
        "2025年各区域的营业收入".encode() + b"\xff\xfe",
        "--db",
        str(demo_db),
        cwd=tmp_path,
        COCKPIT_CACHE_DIR=str(tmp_path),
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in done.stderr
    entries = _audit_lines(tmp_path / "audit" / "audit.jsonl")
    assert len(entries) == 2 and all(e["status"] == "ok" for e in entries)


def test_audit_log_rotates_and_loses_no_line(tmp_path):
    from assistant.answer import Answer

    log = AuditLog(tmp_path / "audit.jsonl", max_bytes=2_000, backups=50)
    for n in range(100):
        log.record(Answer(question=f"q{n} \ud800 收入", status="ok", lang="zh"), None, 0.0)
    files = sorted(tmp_path.glob("audit.jsonl*"))
    assert len(files) > 5 and all(f.stat().st_size <= 2_000 for f in files)
    questions = {e["question"] for f in files for e in _audit_lines(f)}
    assert questions == {f"q{n} \ufffd 收入" for n in range(100)}


def test_relative_paths_in_a_config_file_mean_beside_the_file(tmp_path, monkeypatch):
    """`cockpit init` writes model = "model.yaml" next to cockpit.toml: it must mean that file
    wherever the command runs from, also when COCKPIT_CONFIG points at it from elsewhere."""
    project = tmp_path / "project"
    project.mkdir()
    config = project / "cockpit.toml"
    config.write_text('model = "model.yaml"\ndatabase = "data/x.duckdb"\n', encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("COCKPIT_CONFIG", str(config))
    settings = Settings()
    assert settings.model == project / "model.yaml"
    assert settings.database == project / "data" / "x.duckdb"
