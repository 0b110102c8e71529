"""Listing questions: the members of dimensions, with no metric (MetricFlow's dimension-only
queries) — checked against hand-written SQL, within a role's rows, on the demo and on a model
nobody here wrote."""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.settings import Settings
from eval.items import load_set
from semantic_layer.engine import DuckDBEngine
from semantic_layer.loader import load_model


@pytest.fixture(scope="module")
def assistant(demo_db, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return Assistant(load_model(), DuckDBEngine(demo_db), settings=Settings(cache_dir=cache))


def rows(engine, sql: str) -> list[tuple]:
    return sorted(engine.execute(sql).rows)


@pytest.mark.parametrize("question", ["有哪些区域", "列出所有区域", "which regions are there"])
def test_members_of_a_dimension(assistant, engine, question):
    answer = assistant.ask(question)
    assert answer.status == "ok", answer.message
    assert answer.query.metrics == []
    assert sorted(answer.rows) == rows(engine, "SELECT DISTINCT region_name FROM regions")


@pytest.mark.parametrize("question", ["华东的客户有哪些", "华东有哪些客户"])
def test_members_filtered_through_a_join(assistant, engine, question):
    answer = assistant.ask(question)
    assert answer.status == "ok", answer.message
    expected = rows(
        engine,
        "SELECT DISTINCT c.customer_name FROM customers c JOIN regions r USING (region_id) "
        "WHERE r.region_name = '华东'",
    )
    assert sorted(answer.rows) == expected and len(expected) > 100
    assert f"共 {len(expected)} 个客户" in answer.narrative


def test_a_role_lists_only_its_members(assistant, engine):
    answer = assistant.ask("列出所有客户", role="east_manager")
    assert answer.status == "ok", answer.message
    east = rows(
        engine,
        "SELECT DISTINCT c.customer_name FROM customers c JOIN regions r USING (region_id) "
        "WHERE r.region_name = '华东'",
    )
    assert sorted(answer.rows) == east


def test_a_question_with_a_metric_is_not_a_listing(assistant):
    answer = assistant.ask("2025年各区域的营业收入有哪些")
    assert answer.status == "ok" and answer.query.metrics == ["revenue"]


def test_listing_on_a_model_nobody_here_wrote(tmp_path):
    eval_set = load_set("eval/external/jaffle_sl")
    database = eval_set.build(tmp_path / "jaffle.duckdb")
    with DuckDBEngine(database) as engine:
        names = [c for c in engine.schema() if "location" in c]
        assert names
    assistant = Assistant.open(
        model=eval_set.model,
        database=database,
        as_of=eval_set.as_of,
        settings=Settings(cache_dir=tmp_path / "cache"),
    )
    answer = assistant.ask("list all locations")
    assert answer.status == "ok", answer.message
    dim = assistant.model.dimension("location_name")
    with DuckDBEngine(database) as engine:
        expected = sorted(
            engine.execute(
                f"SELECT DISTINCT {dim.expr} FROM {dim.table} WHERE {dim.expr} IS NOT NULL"
            ).rows
        )
    assert sorted(answer.rows) == expected and len(expected) >= 2
