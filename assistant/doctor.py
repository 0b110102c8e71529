"""Health of the optional parts: is an LLM configured, and does its endpoint answer?"""

from __future__ import annotations

import time
from dataclasses import dataclass

from assistant.settings import Settings


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
