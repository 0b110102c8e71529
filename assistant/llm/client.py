"""Chat and embedding models for any OpenAI-compatible endpoint (OpenAI, DeepSeek, Qwen,
vLLM, Ollama, llama.cpp server), built from Settings. Imported only when an LLM is configured.
"""

from __future__ import annotations

from typing import Any

from assistant.settings import Settings


def chat_model(settings: Settings) -> Any:
    """A langchain chat model with a hard timeout, so an unreachable endpoint never hangs."""
    from langchain_openai import ChatOpenAI

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
    return ChatOpenAI(
        model=settings.llm_model,
        api_key=key,
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout,
        max_retries=1,
        temperature=0,
    )


def embedder(settings: Settings):
    """The configured embedding endpoint, or None for the offline hashed n-grams."""
    if not settings.embedding_model:
        return None
    from langchain_openai import OpenAIEmbeddings

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
    client = OpenAIEmbeddings(
        model=settings.embedding_model,
        api_key=key,
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout,
        max_retries=1,
        check_embedding_ctx_length=False,
    )
    return client.embed_documents
