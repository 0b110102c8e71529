"""The SQL guard: only one read-only query over the model's tables reaches the database."""

from __future__ import annotations

import pytest

from semantic_layer.guard import SQLRejected, guard_sql
from semantic_layer.loader import load_model

TABLES = [t.name for t in load_model().tables]


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("DROP TABLE orders", "only SELECT"),
        ("DELETE FROM orders", "only SELECT"),
        ("SELECT 1; DROP TABLE orders", "exactly one statement"),
        ("SELECT * FROM read_csv_auto('/etc/passwd')", "read_csv_auto"),
        ("SELECT * FROM read_parquet('s3://bucket/x.parquet')", "read_parquet"),
        ("SELECT getenv('HOME')", "getenv"),
        ("SELECT * FROM duckdb_settings()", "duckdb_settings"),
        ("SELECT * FROM secrets", "not in the model"),
        ("SELECT * FROM other.orders", "other schemas"),
        ("COPY orders TO '/tmp/x.csv'", "only SELECT"),
        ("ATTACH '/tmp/x.db' AS x", "only SELECT"),
        ("SELECT * FROM orders WHERE", "parse error"),
        ("PRAGMA database_list", "only SELECT"),
    ],
)
def test_rejected(sql, reason):
    with pytest.raises(SQLRejected) as caught:
        guard_sql(sql, TABLES)
    assert reason in caught.value.message("en")
    assert "安全检查" in caught.value.message("zh")


def test_accepted_queries_are_capped():
    capped = guard_sql("SELECT * FROM orders", TABLES, max_rows=100).sql(dialect="duckdb")
    assert capped.endswith("LIMIT 100")
    kept = guard_sql("SELECT * FROM orders LIMIT 5", TABLES).sql(dialect="duckdb")
    assert kept == "SELECT * FROM orders LIMIT 5"
    with_cte = guard_sql(
        "WITH c AS (SELECT customer_id FROM orders) SELECT COUNT(*) FROM c JOIN customers "
        "USING (customer_id)",
        TABLES,
    )
    assert "LIMIT 10000" in with_cte.sql(dialect="duckdb")
