"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from semantic_layer.demo.generate import generate
from semantic_layer.engine import DuckDBEngine
from semantic_layer.loader import load_model


@pytest.fixture(scope="session", autouse=True)
def pseudonym_secret(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tests key pseudonyms with their own secret, never the user's installation secret."""
    path = tmp_path_factory.mktemp("secret") / "pseudonym.key"
    os.environ["COCKPIT_SECRET_FILE"] = str(path)
    return path


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scale-1 demo database, generated once per test session.

    Set COCKPIT_TEST_DB to an existing file to reuse it and skip generation while iterating.
    """
    reuse = os.environ.get("COCKPIT_TEST_DB")
    if reuse and Path(reuse).is_file():
        return Path(reuse)
    return generate(tmp_path_factory.mktemp("demo") / "demo.duckdb", scale=1)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite golden files instead of comparing"
    )


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="module")
def model():
    """The demo semantic model (test modules may define their own `model`)."""
    return load_model()


@pytest.fixture(scope="module")
def engine(demo_db):
    """A read-only engine on the demo database (test modules may define their own)."""
    with DuckDBEngine(demo_db) as db:
        yield db
