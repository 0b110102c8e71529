"""Aggregating before looking up labels (issue 15): a breakdown by a table at the end of the
join path sums the facts by the join key first. The figures must be those of the plain join,
and a table that any condition reads (a filter, the period, a snapshot) is never left out of
the aggregation — checked on a model of its own where the period lives on the label table."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from semantic_layer.compiler import compile_query
from semantic_layer.engine import DuckDBEngine
from semantic_layer.loader import load_model
from semantic_layer.query import DimensionRef, Filter, SemanticQuery, TimeRange

MODEL = """\
name: lines
tables:
  - {name: lines, primary_key: [line_id]}
  - {name: headers, primary_key: [header_id], time_column: booked_on}
  - {name: shops, primary_key: [shop_id]}
joins:
  - {from: lines, to: headers, on: header_id, required: true}
  - {from: headers, to: shops, on: shop_id}
dimensions:
  - {name: shop, table: shops, expr: shop_name, label: {zh: 门店, en: Shop}}
  - {name: channel, table: headers, expr: channel, label: {zh: 渠道, en: Channel}}
metrics:
  - name: amount
    label: {zh: 金额, en: Amount}
    table: lines
    agg: sum
    expr: amount
    time: headers.booked_on
  - name: line_count
    label: {zh: 行数, en: Lines}
    table: lines
    agg: count
    expr: line_id
    time: headers.booked_on
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[object, Path]:
    folder = tmp_path_factory.mktemp("label_join")
    database = folder / "tiny.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute(
            "CREATE TABLE shops AS SELECT * FROM (VALUES (1, 'North'), (2, 'South'), "
            "(3, 'North')) t(shop_id, shop_name)"
        )
        con.execute(
            "CREATE TABLE headers AS SELECT i AS header_id, 1 + i % 4 AS shop_id, "
            "CASE WHEN i % 2 = 0 THEN 'web' ELSE 'store' END AS channel, "
            "DATE '2025-01-01' + INTERVAL (i % 400) DAY AS booked_on FROM range(1, 500) r(i)"
        )
        con.execute(
            "CREATE TABLE lines AS SELECT i AS line_id, 1 + i % 499 AS header_id, "
            "CAST(i % 97 AS DECIMAL(18, 2)) AS amount FROM range(1, 3000) r(i)"
        )
    (folder / "model.yaml").write_text(MODEL, encoding="utf-8")
    return load_model(folder / "model.yaml"), database


def _plain(database: Path, by: str, where: str = "TRUE") -> dict:
    """The same figures from the plain join, written by hand."""
    with DuckDBEngine(database) as engine:
        rows = engine.execute(
            f"SELECT {by}, SUM(l.amount), COUNT(l.line_id) FROM lines l "
            "JOIN headers h ON l.header_id = h.header_id "
            f"LEFT JOIN shops s ON h.shop_id = s.shop_id WHERE {where} GROUP BY 1"
        ).rows
    return {r[0]: (float(r[1]), r[2]) for r in rows}


def _run(model, database: Path, query: SemanticQuery) -> tuple[str, dict]:
    compiled = compile_query(model, query)
    with DuckDBEngine(database) as engine:
        rows = engine.execute(compiled.sql).rows
    return compiled.sql, {r[0]: (float(r[1]), r[2] if len(r) > 2 else None) for r in rows}


def test_by_a_label_table_the_facts_are_summed_by_key_first(tiny):
    """Two shops share the name North and shop 4 has no row: the same figures as the join
    (a missing label is a NULL row, as with the left join), the facts summed by shop_id first."""
    model, database = tiny
    sql, got = _run(
        model,
        database,
        SemanticQuery(metrics=["amount", "line_count"], dimensions=[DimensionRef(name="shop")]),
    )
    assert "__partial" in sql  # aggregated before the label join
    expected = _plain(database, "s.shop_name")
    assert got.keys() == expected.keys()
    for name, (amount, lines) in expected.items():
        assert got[name][0] == pytest.approx(amount) and got[name][1] == lines
    assert isinstance(next(iter(got.values()))[1], int)


def test_a_table_any_condition_reads_is_not_a_label_table(tiny):
    """The period lives on headers: a breakdown by channel (also on headers) joins it as
    before, and a filter on the shop keeps shops in the aggregation."""
    model, database = tiny
    window = TimeRange(start=date(2025, 3, 1), end=date(2025, 9, 1))
    sql, got = _run(
        model,
        database,
        SemanticQuery(
            metrics=["amount", "line_count"],
            dimensions=[DimensionRef(name="channel")],
            time_range=window,
        ),
    )
    assert "__partial" not in sql
    where = "h.booked_on >= DATE '2025-03-01' AND h.booked_on < DATE '2025-09-01'"
    expected = _plain(database, "h.channel", where)
    assert {k: (pytest.approx(v[0]), v[1]) for k, v in expected.items()} == got
    sql, got = _run(
        model,
        database,
        SemanticQuery(
            metrics=["amount"],
            dimensions=[DimensionRef(name="shop")],
            filters=[Filter(dimension="shop", op="=", values=["North"])],
        ),
    )
    assert "__partial" not in sql
    assert got["North"][0] == pytest.approx(_plain(database, "s.shop_name")["North"][0])
