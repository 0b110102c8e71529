"""One settings object for the CLI, the app and the Python API.

Read from arguments first, then environment variables, then a config file, then defaults,
so the same database, model and as-of date apply wherever a question is asked.

A value that cannot be used stops construction with a `SettingsError`: one line per bad
setting, naming where the value came from (the argument, the environment variable, or the
config file, line and key) and what the setting accepts. The wording is derived from the
field's type and constraints, so a new field needs no message of its own.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
import platformdirs
from pydantic import (
    AfterValidator,
    AliasChoices,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from semantic_layer.errors import ConfigError, closest

ENV_PREFIX = "COCKPIT_"
CONFIG_VARIABLE = "COCKPIT_CONFIG"
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")  # 2025-12-31
# A DuckDB memory size: 2GB, 512MB, 1.5GB, 4GiB, "2 gb". Bytes and KB are left out on
# purpose: a limit that small cannot run a query at all.
MEMORY_SIZE = r"(?i)^\s*\d+(\.\d+)?\s*[mgt]i?b\s*$"
# What DuckDB means by each unit: MB is 1000², MiB 1024² (SET memory_limit = '16MB' → 15.2 MiB).
MEMORY_UNITS = {"mb": 10**6, "gb": 10**9, "tb": 10**12, "mib": 2**20, "gib": 2**30, "tib": 2**40}
# The range of every bounded setting. Beyond it a value is a typo, not a wish, and would fail
# later and far away: a timer of 1e10 s overflows Python's threads (the limit silently gone), a
# row cap past BIGINT fails every query as if the metric were wrong, and DuckDB refuses to open
# the file with a memory limit of 0GB (below 16MB even counting rows can run out).
MAX_ROWS = 1_000_000_000  # a billion: far beyond what max_result_mb lets one result hold
MAX_SECONDS = 86_400  # one day, for the statement and the LLM time limits
MAX_MB = 1_000_000  # a terabyte, for the result and cache budgets
MAX_DEMO_SCALE = 1_000
MEMORY_RANGE = ("16MB", "1000TB")


def config_file() -> Path:
    """`COCKPIT_CONFIG`, else ./cockpit.toml if present, else the user config directory's."""
    explicit = os.environ.get(CONFIG_VARIABLE)
    if explicit:
        return Path(explicit).expanduser()
    local = Path("cockpit.toml")
    if local.exists():
        return local
    return platformdirs.user_config_path("cockpit") / "config.toml"


# --- errors ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One unusable setting: where its value came from and what is wrong, in zh and en.

    `origin` is "argument", "environment" or "file"; `source` is what the user sees for it:
    the argument name, the variable as it was set, or `file:line: key`."""

    setting: str
    origin: str
    source: str
    zh: str
    en: str

    def line(self, lang: str) -> str:
        """`source: what is wrong; use what it accepts` in `lang`."""
        return f"{self.source}：{self.zh}" if lang == "zh" else f"{self.source}: {self.en}"


class SettingsError(ConfigError):
    """Settings that cannot be used. `message()` is one line per bad setting, in the configured
    language — in both when the language setting itself is the bad one (`lang` is None)."""

    def __init__(self, problems: Sequence[Problem], lang: str | None = "zh") -> None:
        self.problems = tuple(problems)
        self.lang = lang
        super().__init__("settings_invalid")

    def message(self, lang: str | None = None) -> str:  # type: ignore[override]
        """The lines in `lang`; by default in the configured language (both if unknown)."""
        lang = lang or self.lang
        if lang is None:
            return "\n".join(f"{p.line('zh')} / {p.line('en')}" for p in self.problems)
        return "\n".join(p.line(lang) for p in self.problems)

    def __str__(self) -> str:
        return self.message()

    def named(self, labels: Mapping[str, str]) -> SettingsError:
        """The same error with arguments shown under the caller's names (the CLI's `--as-of`)."""
        problems = [
            replace(p, source=labels.get(p.setting, p.source)) if p.origin == "argument" else p
            for p in self.problems
        ]
        return SettingsError(problems, self.lang)


# --- the settings ------------------------------------------------------------------------------


def _iso_date(value: object) -> object:
    """A `date`, or text written YYYY-MM-DD; anything else (a number, 31/12/2025) is refused
    here rather than guessed at, so a wrong as-of date fails at start-up, not per question."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("date_type", "not a date")
    text = value.strip()
    if ISO_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass  # 2025-02-30
    raise PydanticCustomError("date_parsing", "not a date written YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def _not_yes_no(value: object) -> object:
    """A number setting refuses true/false: TOML `max_rows = true` would otherwise read as 1."""
    if isinstance(value, bool):
        raise PydanticCustomError("bool_not_number", "a yes/no value, not a number")
    return value


def memory_bytes(size: str) -> int:
    """The bytes a DuckDB memory size means: "2GB" → 2,000,000,000, "4GiB" → 4 × 2³⁰."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([mgt]i?b)\s*", size, re.I)
    if found is None:
        raise ValueError(f"not a memory size: {size!r}")
    return int(float(found.group(1)) * MEMORY_UNITS[found.group(2).lower()])


def _memory_in_range(value: str) -> str:
    """A memory size DuckDB can run with and accepts (see MEMORY_RANGE)."""
    low, high = MEMORY_RANGE
    if memory_bytes(value) < memory_bytes(low):
        raise PydanticCustomError("greater_than_equal", "too small")
    if memory_bytes(value) > memory_bytes(high):
        raise PydanticCustomError("less_than_equal", "too large")
    return value


WholeNumber = Annotated[int, BeforeValidator(_not_yes_no)]
Number = Annotated[float, BeforeValidator(_not_yes_no)]
MemorySize = Annotated[str, AfterValidator(_memory_in_range)]


class Settings(BaseSettings):
    """Where the data and the model are, what "today" is, limits, and the optional LLM endpoint.

    Constructing it raises `SettingsError` (never pydantic's ValidationError) for any value
    that cannot be used — from an argument, the environment or the config file."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="ignore",  # other COCKPIT_* variables (COCKPIT_CONFIG, COCKPIT_BOARD_DB…) exist
        populate_by_name=True,
        env_ignore_empty=True,  # COCKPIT_AS_OF= means "not set", not "an empty date"
    )

    database: Path | None = Field(None, description="DuckDB file; default: the demo database")
    model: Path | None = Field(None, description="semantic model YAML file or folder")
    engine: str | None = Field(
        None, description="postgresql://… to query PostgreSQL instead of a DuckDB file"
    )
    as_of: IsoDate | None = Field(
        None, description="the 'today' relative dates resolve against: a date or YYYY-MM-DD"
    )
    cache_dir: Path = Field(default_factory=lambda: platformdirs.user_cache_path("cockpit"))
    lang: Literal["zh", "en"] = Field("zh", description="language of messages")
    role: str | None = Field(None, description="the model role whose row filters apply")
    max_rows: WholeNumber = Field(
        100_000, ge=1, le=MAX_ROWS, description="row cap on every statement"
    )
    query_timeout: Number = Field(
        30.0, gt=0, le=MAX_SECONDS, allow_inf_nan=False, description="seconds a statement may run"
    )
    memory_limit: MemorySize = Field(
        "2GB",
        pattern=MEMORY_SIZE,
        examples=["2GB", "512MB"],
        json_schema_extra={"between": MEMORY_RANGE},
        description="DuckDB's memory limit; beyond it DuckDB spills to temp_dir or stops",
    )
    temp_dir: Path | None = Field(
        None, description="where DuckDB spills what does not fit in memory; default <cache_dir>/tmp"
    )
    max_result_mb: WholeNumber = Field(
        64,
        ge=1,
        le=MAX_MB,
        description="largest result one statement may return, in MB (estimated size)",
    )
    cache_mb: WholeNumber = Field(
        256, ge=0, le=MAX_MB, description="result cache budget in MB; 0: no cache"
    )
    demo_scale: WholeNumber = Field(
        1, ge=1, le=MAX_DEMO_SCALE, description="multiplies the demo's customers and orders"
    )
    llm_model: str | None = Field(None, description="chat model name at the endpoint")
    embedding_model: str | None = Field(
        None, description="embedding model at the endpoint; default: offline hashed n-grams"
    )
    llm_timeout: Number = Field(
        20.0,
        gt=0,
        le=MAX_SECONDS,
        allow_inf_nan=False,
        description="seconds before an LLM call gives up",
    )
    llm_send_rows: bool = Field(
        False, description="allow sending result rows to the LLM (off: only schema and question)"
    )
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("openai_api_key", "OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        None, validation_alias=AliasChoices("openai_base_url", "OPENAI_BASE_URL")
    )

    def __init__(self, **values: Any) -> None:
        """Settings from `values` (arguments), the environment, the config file and defaults;
        a `SettingsError` naming each bad setting and its source if any value is unusable."""
        try:
            super().__init__(**values)
        except ValidationError as err:
            raise _settings_error(type(self), err, values) from err

    @field_validator("lang", mode="before")
    @classmethod
    def _lang_lower(cls, value: object) -> object:
        """COCKPIT_LANG=EN means English, not an error."""
        return value.strip().lower() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        arguments = getattr(init_settings, "init_kwargs", {})
        try:
            toml = ConfigFile(settings_cls, config_file())
        except _FileProblems as err:
            raise SettingsError(
                err.problems, _language(settings_cls, arguments, err.table)
            ) from None
        return init_settings, env_settings, toml

    @property
    def llm_configured(self) -> bool:
        """An LLM is used only when a model name and an endpoint or key are configured."""
        return bool(self.llm_model and (self.openai_api_key or self.openai_base_url))

    def database_path(self) -> Path:
        """The database to query: the configured one, or the demo (built once, then reused)."""
        if self.database is not None:
            return self.database
        from semantic_layer.demo import demo_database

        return demo_database(self.cache_dir, scale=self.demo_scale)

    def resolved_as_of(self, model_as_of: date | None) -> date:
        """Configured as-of, else the model's (the demo's 2025-12-31), else today."""
        return self.as_of or model_as_of or date.today()

    def resolved_temp_dir(self) -> Path:
        """Where DuckDB spills: `temp_dir`, else `<cache_dir>/tmp`."""
        return self.temp_dir or self.cache_dir / "tmp"


def load_settings(
    *,
    base: Settings | None = None,
    labels: Mapping[str, str] | None = None,
    **overrides: object,
) -> Settings:
    """The settings the CLI, the app and the API use: `overrides` (None means "not given") over
    `base` — or over the environment, the config file and the defaults when there is no base.

    Raises `SettingsError`; `labels` names arguments in its message the caller's way
    (the CLI passes {"as_of": "--as-of", …})."""
    given = {name: value for name, value in overrides.items() if value is not None}
    unknown = sorted(set(given) - set(Settings.model_fields))
    if unknown:  # a caller's typo is a bug, not a user's mistake
        raise TypeError(f"unknown settings: {', '.join(unknown)}")
    try:
        if base is None:
            return Settings(**given)
        return _validated(base, given) if given else base
    except SettingsError as err:
        raise err.named(labels or {}) from err.__cause__


def configured_cache_dir(error: SettingsError | None = None) -> Path | None:
    """The cache directory the environment or config file names (else the default), even when
    other settings are unusable — so a question stopped by a bad setting still reaches the
    audit log. None when it cannot be known: the cache directory is itself the bad setting
    (per `error`), or the config file, which may name it, cannot be read."""
    if error is not None and any(p.setting == "cache_dir" for p in error.problems):
        return None
    path = config_file()
    try:
        table: dict[str, Any] | None = read_config(path) if path.is_file() else {}
    except _FileProblems:
        table = None
    origin, _, value = _origin(Settings, "cache_dir", {}, path, table or {})
    if origin == "environment":
        return Path(str(value)).expanduser()
    if table is None:
        return None
    if origin == "file" and isinstance(value, str) and value:
        folder = Path(value).expanduser()
        return folder if folder.is_absolute() else path.resolve().parent / folder
    if origin == "file":
        return None
    return platformdirs.user_cache_path("cockpit")


def _validated(base: Settings, values: Mapping[str, object]) -> Settings:
    """`base` with `values` assigned, each checked by its field's own validators (no environment
    or config file re-read: `base` already holds what they said)."""
    settings = base.model_copy()
    problems: list[Problem] = []
    for name, value in values.items():
        try:
            Settings.__pydantic_validator__.validate_assignment(settings, name, value)
        except ValidationError as err:
            field = Settings.model_fields[name]
            problems.append(_problem(name, field, err.errors()[0], "argument", name))
    if problems:
        bad_lang = any(p.setting == "lang" for p in problems)
        raise SettingsError(problems, None if bad_lang else base.lang)
    return settings


# --- the config file ---------------------------------------------------------------------------


class _FileProblems(Exception):
    """The config file cannot be used; `table` is what it holds when it could be parsed (its
    `lang` then decides the language of the message)."""

    def __init__(self, problems: Sequence[Problem], table: Mapping[str, Any] | None = None) -> None:
        self.problems = tuple(problems)
        self.table = dict(table or {})
        super().__init__(problems[0].en)


PATH_KEYS = ("database", "model", "cache_dir", "temp_dir")


class ConfigFile(TomlConfigSettingsSource):
    """The TOML config file, read strictly: a syntax error names the file and line, an unknown
    key names the key (and the setting meant), and an explicit COCKPIT_CONFIG must exist."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        self.path = path
        if os.environ.get(CONFIG_VARIABLE):
            _explicit_file_exists(path)
        super().__init__(settings_cls, toml_file=path)
        names = _setting_names(settings_cls)
        problems = [
            _file_problem(
                path,
                _key_line(path, key),
                key,
                "不是可用的设置" + _did_you_mean(key, names, "zh"),
                "is not a setting" + _did_you_mean(key, names, "en"),
            )
            for key in self.toml_data
            if key not in names
        ]
        if problems:
            raise _FileProblems(problems, self.toml_data)

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        table = read_config(Path(file_path))
        # A relative path in the file means beside the file (`cockpit init` writes
        # model = "model.yaml" next to it), wherever the command is run from.
        base = Path(file_path).resolve().parent
        for key in PATH_KEYS:
            value = table.get(key)
            if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
                table[key] = str(base / value)
        return table


def read_config(path: Path) -> dict[str, Any]:
    """The config file's table; unreadable files and TOML errors name the file and the line."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        detail = err.strerror or type(err).__name__
        raise _FileProblems(
            [
                Problem(
                    "config",
                    "file",
                    str(path),
                    f"无法读取（{detail}）",
                    f"cannot be read ({detail})",
                )
            ]
        ) from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise _FileProblems(
            [_file_problem(path, line, None, "不是 UTF-8 文本", "is not UTF-8 text")]
        ) from None
    except tomllib.TOMLDecodeError as err:
        # Python 3.11's error has no lineno attribute: the position is in its message,
        # "Invalid value (at line 3, column 9)" or "… (at end of document)".
        text = str(err)
        where = re.search(r"\s*\(at line (\d+), column (\d+)\)$", text)
        end = re.search(r"\s*\(at end of document\)$", text)
        if where:
            line, column = int(where.group(1)), where.group(2)
            detail = text[: where.start()]
        else:
            line, column = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1), None
            detail = text[: end.start()] if end else text
        at_zh = f"第 {column} 列" if column else "文件末尾"
        at_en = f"column {column}" if column else "end of file"
        raise _FileProblems(
            [
                _file_problem(
                    path,
                    max(line, 1),
                    None,
                    f"TOML 语法错误（{at_zh}）：{detail}",
                    f"TOML syntax error at {at_en}: {detail}",
                )
            ]
        ) from None


def _explicit_file_exists(path: Path) -> None:
    """A COCKPIT_CONFIG that names nothing is a mistake to report, not a file to skip quietly
    (the settings the user meant would silently not apply)."""
    if not path.exists():
        raise _FileProblems(
            [
                Problem(
                    "config",
                    "environment",
                    CONFIG_VARIABLE,
                    f"找不到配置文件 {path}",
                    f"the config file {path} does not exist",
                )
            ]
        )
    if path.is_dir():
        raise _FileProblems(
            [
                Problem(
                    "config",
                    "environment",
                    CONFIG_VARIABLE,
                    f"{path} 是文件夹，请指定一个 TOML 文件",
                    f"{path} is a folder; name a TOML file",
                )
            ]
        )


def _file_problem(path: Path, line: int | None, key: str | None, zh: str, en: str) -> Problem:
    """A problem shown as `file:line: key`, the way compilers point at a place in a file."""
    where = f"{path}:{line}" if line else str(path)
    return Problem(key or "config", "file", f"{where}: {key}" if key else where, zh, en)


def _key_line(path: Path, key: str) -> int | None:
    """The line where `key = …` or `[key]` is written (for `file:line: key` in messages)."""
    name = rf"""(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')"""
    pattern = re.compile(rf"^\s*(?:{name}\s*=|\[\[?\s*{name}\s*[\].])")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return next((n for n, text in enumerate(lines, 1) if pattern.match(text)), None)


def _did_you_mean(key: str, names: set[str], lang: str) -> str:
    """The hint after a misspelt key, e.g. "(did you mean max_rows?)"; empty if none is close."""
    found = closest(key, sorted(n for n in names if n.islower()), limit=1)
    if not found:
        return ""
    return f"（你是不是想写 {found[0]}）" if lang == "zh" else f" (did you mean {found[0]}?)"


# --- from pydantic's errors to one line per setting --------------------------------------------


def _setting_names(settings_cls: type[BaseSettings]) -> set[str]:
    """Every key that names a setting: field names and their aliases (OPENAI_API_KEY)."""
    names = set(settings_cls.model_fields)
    for field in settings_cls.model_fields.values():
        names.update(_aliases(field))
    return names


def _aliases(field: FieldInfo) -> list[str]:
    """The other names a setting is read under (OPENAI_API_KEY for openai_api_key)."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [a for a in alias.choices if isinstance(a, str)]
    return [alias] if isinstance(alias, str) else []


def _field_name(settings_cls: type[BaseSettings], key: object) -> str | None:
    """The setting an error's location names (pydantic may report it under an alias)."""
    for name, field in settings_cls.model_fields.items():
        if key == name or key in _aliases(field):
            return name
    return None


def _origin(
    settings_cls: type[BaseSettings],
    name: str,
    arguments: Mapping[str, object],
    path: Path,
    table: Mapping[str, object],
) -> tuple[str, str, object]:
    """Where the value of setting `name` came from — the same order the sources are merged in:
    (origin, what to call it, the value)."""
    field = settings_cls.model_fields[name]
    keys = [name, *_aliases(field)]
    for key in keys:
        if key in arguments:
            return "argument", name, arguments[key]
    variables = {a.lower() for a in _aliases(field)} or {f"{ENV_PREFIX}{name}".lower()}
    for variable, value in os.environ.items():
        if variable.lower() in variables and value != "":
            return "environment", variable, value
    for key in keys:
        if key in table:
            line = _key_line(path, key)
            return "file", f"{path}:{line}: {key}" if line else f"{path}: {key}", table[key]
    return "argument", name, None


def _config_table() -> tuple[Path, dict[str, Any]]:
    """The config file and its table, to tell which bad values came from it."""
    path = config_file()
    try:
        return path, (read_config(path) if path.is_file() else {})
    except _FileProblems:
        return path, {}


def _language(
    settings_cls: type[BaseSettings], arguments: Mapping[str, object], table: Mapping[str, object]
) -> str | None:
    """The language messages are shown in: the one configured, "zh" if none is, None (both)
    when the configured value is itself unusable."""
    _, _, value = _origin(settings_cls, "lang", arguments, Path(), table)
    if value is None:
        return "zh"
    text = value.strip().lower() if isinstance(value, str) else value
    return text if text in ("zh", "en") else None


def _settings_error(
    settings_cls: type[BaseSettings], err: ValidationError, arguments: Mapping[str, object]
) -> SettingsError:
    """pydantic's error, one `Problem` per bad setting, each named by where its value came from
    (pydantic only knows the merged values, so the sources are asked in their merge order)."""
    path, table = _config_table()
    problems: dict[str, Problem] = {}
    for error in err.errors():
        name = _field_name(settings_cls, error["loc"][0]) if error["loc"] else None
        if name is None or name in problems:
            continue
        origin, source, _ = _origin(settings_cls, name, arguments, path, table)
        field = settings_cls.model_fields[name]
        problems[name] = _problem(name, field, error, origin, source)
    if not problems:  # not a field's value: keep pydantic's own words
        problems["settings"] = Problem("settings", "argument", "settings", str(err), str(err))
    return SettingsError(list(problems.values()), _language(settings_cls, arguments, table))


def _problem(
    name: str, field: FieldInfo, error: Mapping[str, Any], origin: str, source: str
) -> Problem:
    """One line from a pydantic error: the value, what is wrong with it, what is accepted."""
    kind = _base_type(field.annotation)
    if kind is SecretStr:
        shown_zh, shown_en = "该值", "the value"
    else:
        shown_zh = shown_en = _shown(error.get("input"))
    wrong_zh, wrong_en = _wrong(str(error["type"]), error.get("msg", ""))
    accepts_zh, accepts_en = _accepts(field, str(error["type"]))
    space = " " if accepts_zh[:1].isascii() else ""
    gap = " " if shown_zh[-1:].isascii() else ""
    return Problem(
        name,
        origin,
        source,
        f"{shown_zh}{gap}{wrong_zh}，请用{space}{accepts_zh}",
        f"{shown_en} {wrong_en}; use {accepts_en}",
    )


def _shown(value: object) -> str:
    """The value as the user wrote it, quoted, escaped and cut short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _wrong(error_type: str, detail: str) -> tuple[str, str]:
    """What is wrong, from pydantic's error type (date_parsing, int_parsing, greater_than…)."""
    if error_type.startswith(("date", "datetime")):
        return "不是日期", "is not a date"
    if error_type == "finite_number":
        return "不是有限的数", "is not a finite number"
    if error_type.startswith("int"):
        return "不是整数", "is not a whole number"
    if error_type.startswith("float"):
        return "不是数字", "is not a number"
    if error_type == "bool_not_number":
        return "是布尔值，不是数", "is a yes/no value, not a number"
    if error_type.startswith("bool"):
        return "不是布尔值", "is not a yes/no value"
    if error_type.startswith("greater_than"):
        return "太小", "is too small"
    if error_type.startswith("less_than"):
        return "太大", "is too large"
    if error_type == "literal_error":
        return "不是可选的值", "is not one of the choices"
    if error_type == "string_pattern_mismatch":
        return "格式不对", "is not in the expected form"
    if error_type.endswith("_type"):
        return "类型不对", "has the wrong type"
    return f"无效（{detail}）", f"is not valid ({detail})"


def _accepts(field: FieldInfo, error_type: str = "") -> tuple[str, str]:
    """What a field accepts, from its type and constraints (ge, gt, le, Literal, examples).

    A value too large is told the upper bound ("a whole number of at most 1,000,000,000"),
    any other the lower one ("a whole number of at least 1"); a size its range when outside it."""
    kind = _base_type(field.annotation)
    if get_origin(kind) is Literal:
        choices = [str(c) for c in get_args(kind)]
        return _either(choices)
    if kind is bool:
        return "true 或 false", "true or false"
    if kind is date:
        return "YYYY-MM-DD 格式", "YYYY-MM-DD"
    if kind in (int, float):
        noun_zh, noun_en = ("整数", "a whole number") if kind is int else ("数", "a number")
        low_zh = low_en = high_zh = high_en = ""
        for bound in field.metadata:
            if isinstance(bound, annotated_types.Ge):
                low_zh, low_en = f"不小于 {_figure(bound.ge)}", f"of at least {_figure(bound.ge)}"
            if isinstance(bound, annotated_types.Gt):
                low_zh, low_en = f"大于 {_figure(bound.gt)}", f"greater than {_figure(bound.gt)}"
            if isinstance(bound, annotated_types.Le):
                high_zh, high_en = f"不大于 {_figure(bound.le)}", f"at most {_figure(bound.le)}"
        if error_type.startswith("less_than") and high_en:
            zh, en = high_zh, "of " + high_en
        else:
            zh, en = low_zh, low_en
        return (f"{zh} 的{noun_zh}" if zh else noun_zh), (f"{noun_en} {en}" if en else noun_en)
    if field.examples:
        zh, en = _either([str(e) for e in field.examples])
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if "between" in extra and error_type.startswith(("greater_than", "less_than")):
            low, high = extra["between"]  # type: ignore[misc]
            return (
                f"类似 {zh} 的值，{low} 到 {high} 之间",
                f"a value like {en}, from {low} to {high}",
            )
        return f"类似 {zh} 的值", f"a value like {en}"
    if kind is Path:
        return "文件或文件夹路径", "a file or folder path"
    return "文本", "text"


def _figure(number: float) -> str:
    """A bound as people write it: 1, 0, 86,400, 1,000,000,000."""
    return f"{number:,}" if isinstance(number, int) else f"{number:,g}"


def _either(choices: list[str]) -> tuple[str, str]:
    """Choices joined for a message: zh 或 en / zh or en; a、b 或 c / a, b or c."""
    if len(choices) == 1:
        return choices[0], choices[0]
    head, last = choices[:-1], choices[-1]
    return f"{'、'.join(head)} 或 {last}", f"{', '.join(head)} or {last}"


def _base_type(annotation: Any) -> Any:
    """`int` for `int`, `date` for `Annotated[date, …] | None`, the Literal itself for one."""
    if get_origin(annotation) in (Union, UnionType):
        members = [a for a in get_args(annotation) if a is not NoneType]
        annotation = members[0] if len(members) == 1 else annotation
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation
