"""Health of the optional parts: is an LLM configured, and does its endpoint answer?"""

from __future__ import annotations

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
    configured = bool(settings.llm_model and (settings.openai_api_key or settings.openai_base_url))
    if not configured:
        return LLMStatus(
            False, None, None, None, "未配置 LLM：仅使用离线规则 / no LLM: offline rules"
        )
    return LLMStatus(
        True,
        None,
        settings.llm_model,
        settings.openai_base_url,
        f"LLM: {settings.llm_model}",
    )
