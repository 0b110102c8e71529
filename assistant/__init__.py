"""Cockpit's assistant: questions in plain Chinese or English → governed answers."""

from assistant.answer import Answer, Suggestion
from assistant.api import Assistant, Conversation

__all__ = ["Answer", "Assistant", "Conversation", "Suggestion"]
