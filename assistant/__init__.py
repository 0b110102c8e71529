"""Cockpit's assistant: questions in plain Chinese or English → governed answers."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.answer import Answer, Suggestion
    from assistant.api import Assistant, Conversation

__all__ = ["Answer", "Assistant", "Conversation", "Suggestion"]

# Imported on first use: `cockpit --help`, `cockpit metrics` or `import assistant.formatting`
# need none of the question-answering machinery (PEP 562).
_HOMES = {
    "Answer": "assistant.answer",
    "Suggestion": "assistant.answer",
    "Assistant": "assistant.api",
    "Conversation": "assistant.api",
}


def __getattr__(name: str) -> object:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
