"""One settings object for the CLI, the app and the Python API.

Read from arguments first, then environment variables, then a config file, then defaults,
so the same database, model and as-of date apply wherever a question is asked.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import platformdirs
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def config_file() -> Path:
    """`COCKPIT_CONFIG`, else ./cockpit.toml if present, else the user config directory's."""
    explicit = os.environ.get("COCKPIT_CONFIG")
    if explicit:
        return Path(explicit)
    local = Path("cockpit.toml")
    if local.exists():
        return local
    return platformdirs.user_config_path("cockpit") / "config.toml"


class Settings(BaseSettings):
    """Where the data and the model are, what "today" is, and the optional LLM endpoint."""

    model_config = SettingsConfigDict(env_prefix="COCKPIT_", extra="ignore", populate_by_name=True)

    database: Path | None = Field(None, description="DuckDB file; default: the demo database")
    model: Path | None = Field(None, description="semantic model YAML file or folder")
    engine: str | None = Field(
        None, description="postgresql://… to query PostgreSQL instead of a DuckDB file"
    )
    as_of: date | None = Field(None, description="the 'today' relative dates resolve against")
    cache_dir: Path = Field(default_factory=lambda: platformdirs.user_cache_path("cockpit"))
    lang: str = Field("zh", pattern="^(zh|en)$")
    role: str | None = Field(None, description="the model role whose row filters apply")
    max_rows: int = Field(100_000, ge=1, description="row cap on every statement")
    query_timeout: float = Field(30.0, gt=0, description="seconds a statement may run")
    demo_scale: int = Field(1, ge=1)
    llm_model: str | None = Field(None, description="chat model name at the endpoint")
    embedding_model: str | None = Field(
        None, description="embedding model at the endpoint; default: offline hashed n-grams"
    )
    llm_timeout: float = Field(20.0, gt=0, description="seconds before an LLM call gives up")
    llm_send_rows: bool = Field(
        False, description="allow sending result rows to the LLM (off: only schema and question)"
    )
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("openai_api_key", "OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        None, validation_alias=AliasChoices("openai_base_url", "OPENAI_BASE_URL")
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file())
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
