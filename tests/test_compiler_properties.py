"""Properties every compiled query must have, checked over the whole demo model."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from semantic_layer.catalog import catalog
from semantic_layer.compiler import add_months, compile_query
from semantic_layer.loader import load_model
from semantic_layer.model import MetricKind
from semantic_layer.query import SemanticQuery

MODEL = load_model()
CAT = catalog(MODEL)
YEAR = {"start": "2025-01-01", "end": "2026-01-01"}
ADDITIVE = [
    m.name
    for m in MODEL.metrics
    if m.kind is MetricKind.simple and m.agg is not None and m.agg.value in ("sum", "count")
]
DIALECTS = ["postgres", "trino", "spark", "snowflake", "clickhouse", "bigquery"]


def total(engine, metric: str, **extra) -> float:
    query = SemanticQuery(metrics=[metric], time_range=YEAR, **extra)
    value = engine.execute(compile_query(MODEL, query).ast).rows[0][0]
    return float(value or 0)


@pytest.mark.parametrize("metric", ADDITIVE)
def test_additive_metric_breakdowns_add_up_to_the_total(engine, metric):
    """No fan-out: split by any dimension it reaches, the parts sum to the whole."""
    whole = total(engine, metric)
    assert whole != 0, f"{metric} has no data in 2025"
    dims = [d for d in CAT.allowed_dimensions(metric) if MODEL.dimension(d).type == "category"]
    assert dims, metric
    for dim in dims:
        query = SemanticQuery(metrics=[metric], dimensions=[dim], time_range=YEAR)
        rows = engine.execute(compile_query(MODEL, query).ast).rows
        assert sum(float(r[1] or 0) for r in rows) == pytest.approx(whole, rel=1e-9), dim
        assert len({r[0] for r in rows}) == len(rows), f"{metric} by {dim}: duplicate keys"


def test_months_add_up_to_the_year_for_flows_but_not_for_balances(engine):
    months = SemanticQuery(
        metrics=["revenue", "ar_balance"], dimensions=["metric_time:month"], time_range=YEAR
    )
    rows = engine.execute(compile_query(MODEL, months).ast).records()
    assert len(rows) == 12
    assert sum(float(r["revenue"]) for r in rows) == pytest.approx(total(engine, "revenue"))
    # A balance for the year is the December balance, not the sum of twelve month-ends.
    assert total(engine, "ar_balance") == pytest.approx(float(rows[-1]["ar_balance"]))


def test_every_metric_compiles_to_every_dialect():
    for metric in MODEL.metrics:
        dims = ["metric_time:quarter"]
        query = SemanticQuery(
            metrics=[metric.name], dimensions=dims, time_range=YEAR, compare="yoy"
        )
        compiled = compile_query(MODEL, query)
        for dialect in DIALECTS:
            text = compiled.to_sql(dialect)
            assert sqlglot.parse_one(text, read=dialect) is not None, (metric.name, dialect)


def test_compilation_is_deterministic():
    query = SemanticQuery(
        metrics=["revenue", "expenses", "operating_margin"],
        dimensions=["metric_time:month"],
        time_range=YEAR,
        compare="mom",
    )
    assert compile_query(MODEL, query).sql == compile_query(MODEL, query).sql


def test_user_values_only_ever_appear_as_literals():
    hostile = "华东'; DROP TABLE orders; --"
    query = SemanticQuery(
        metrics=["revenue"],
        dimensions=["customer"],
        filters=[
            {"dimension": "region", "op": "=", "values": [hostile]},
            {"dimension": "customer", "op": "contains", "values": ["%' OR 1=1 --"]},
        ],
    )
    compiled = compile_query(MODEL, query)
    statements = sqlglot.parse(compiled.sql, read="duckdb")
    assert len(statements) == 1 and isinstance(statements[0], exp.Select)
    literals = {lit.this for lit in statements[0].find_all(exp.Literal)}
    assert hostile in literals and "%' OR 1=1 --" in literals
    assert not list(statements[0].find_all(exp.Drop))


def test_only_the_joins_a_query_needs():
    sql = compile_query(MODEL, SemanticQuery(metrics=["units_sold"], time_range=YEAR)).sql
    assert "JOIN orders" in sql  # the completed-orders filter and the order date need it
    assert "products" not in sql and "customers" not in sql and "regions" not in sql
    by_line = compile_query(
        MODEL, SemanticQuery(metrics=["units_sold"], dimensions=["product_line"])
    ).sql
    assert "JOIN products" in by_line and "customers" not in by_line


def test_month_arithmetic_clamps_like_sql():
    from datetime import date

    assert add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)
    assert add_months(date(2024, 2, 29), -12) == date(2023, 2, 28)
    assert add_months(date(2025, 1, 15), -3) == date(2024, 10, 15)
