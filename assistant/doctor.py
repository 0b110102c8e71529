"""Health of what is configured: does the database open, is an LLM configured, and does its
endpoint answer? `cockpit doctor` prints these and fails when something configured does not
work (no LLM at all is fine: the offline rules answer)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from assistant.settings import Settings


@dataclass(frozen=True)
class DatabaseStatus:
    """Whether the database opens; `message` says what it holds or what is wrong."""

    path: Path | None
    ok: bool
    message: str


def database_status(settings: Settings) -> DatabaseStatus:
    """Open the configured database (the demo is built on first use) and count its tables."""
    from semantic_layer.engine import DuckDBEngine
    from semantic_layer.errors import CockpitError

    try:
        path = settings.database_path()
    except CockpitError as err:
        return DatabaseStatus(None, False, err.message(settings.lang))
    if not path.is_file():
        return DatabaseStatus(path, False, f"{path} 不存在 / missing")
    try:
        with DuckDBEngine(path) as engine:
            tables = len(engine.schema())
    except Exception as err:  # a locked, damaged or foreign file: say why, never a traceback
        reason = f"{type(err).__name__}: {str(err)[:160]}"
        return DatabaseStatus(path, False, f"{path} 无法打开 / cannot be opened: {reason}")
    if not tables:
        return DatabaseStatus(path, False, f"{path} 没有表 / has no tables")
    return DatabaseStatus(path, True, f"{path} ({tables} tables)")


@dataclass(frozen=True)
class LLMStatus:
    configured: bool
    reachable: bool | None  # None: not checked (or not configured)
    model: str | None
    base_url: str | None
    message: str


def llm_status(settings: Settings | None = None, check: bool = False) -> LLMStatus:
    """What the UI and `cockpit doctor` show about the LLM; `check` pings the endpoint."""
    settings = settings or Settings()
    if not settings.llm_configured:
        return LLMStatus(
            False, None, None, None, "未配置 LLM：仅使用离线规则 / no LLM configured: offline rules"
        )
    base = settings.openai_base_url or "https://api.openai.com/v1"
    if not check:
        return LLMStatus(
            True, None, settings.llm_model, base, f"LLM: {settings.llm_model} @ {base}"
        )
    from assistant.llm.client import chat_model

    started = time.perf_counter()
    try:
        chat_model(settings).invoke([("human", "ping")])
    except Exception as err:  # any failure means "not reachable now"; say why
        return LLMStatus(
            True,
            False,
            settings.llm_model,
            base,
            f"LLM {settings.llm_model} @ {base} 不可达 / unreachable: {type(err).__name__}: "
            f"{str(err)[:160]}",
        )
    elapsed = time.perf_counter() - started
    return LLMStatus(
        True,
        True,
        settings.llm_model,
        base,
        f"LLM {settings.llm_model} @ {base} 可用 / reachable ({elapsed:.1f}s)",
    )
