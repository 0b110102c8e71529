"""The SQL guard: only one read-only query over the model's tables reaches the database.

These are the guard's own rules, one at a time; `test_redteam_guard.py` throws hundreds of
hostile statements at it and `test_security_sql.py` checks legitimate queries still run.
"""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from semantic_layer.guard import SQLRejected, guard_ast, guard_sql
from semantic_layer.loader import load_model

TABLES = [t.name for t in load_model().tables]
CAP = 100


@pytest.fixture(scope="module")
def schema(engine) -> dict[str, dict[str, str]]:
    """{table: {column: type}} of the model's tables in the demo database."""
    return {t: c for t, c in engine.schema().items() if t in TABLES}


def _limit(query: exp.Expression) -> int:
    limit = query.args["limit"]
    assert isinstance(limit, exp.Limit)
    return int(limit.expression.this)


def _refusal(sql: str, **kwargs) -> SQLRejected:
    with pytest.raises(SQLRejected) as caught:
        guard_sql(sql, TABLES, **kwargs)
    return caught.value


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("DROP TABLE orders", "only SELECT"),
        ("DELETE FROM orders", "only SELECT"),
        ("LOAD httpfs", "not LOAD"),
        ("SELECT 1; DROP TABLE orders", "exactly one statement"),
        ("SELECT * FROM read_csv_auto('/etc/passwd')", "read_csv_auto"),
        ("SELECT * FROM read_parquet('s3://bucket/x.parquet')", "read_parquet"),
        ("SELECT getenv('HOME')", "getenv"),
        ("SELECT * FROM duckdb_settings()", "duckdb_settings"),
        ("SELECT current_user", "current_user"),
        ("SELECT * FROM secrets", "not in the model"),
        ("SELECT * FROM other.orders", "other schemas"),
        ("COPY orders TO '/tmp/x.csv'", "only SELECT"),
        ("ATTACH '/tmp/x.db' AS x", "only SELECT"),
        ("SELECT * FROM orders WHERE", "parse error"),
        ("PRAGMA database_list", "only SELECT"),
        ("SELECT * FROM (DESCRIBE orders)", "DESCRIBE"),
        ("SELECT * INTO leak FROM orders", "INTO"),
        ("SELECT * FROM orders AT (VERSION => 1)", "table options"),
        ("SELECT $1", "parameters"),
        ("SELECT st_point(1, 2)", "not built into DuckDB"),
    ],
)
def test_rejected(sql, reason):
    refusal = _refusal(sql)
    assert reason in refusal.message("en")
    assert "安全检查" in refusal.message("zh")


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


# --- the row cap: every form of LIMIT is a whole number of rows, or a refusal --------------------


@pytest.mark.parametrize(
    ("tail", "rows"),
    [
        ("", CAP),
        ("LIMIT 5", 5),
        ("LIMIT 5.0", 5),
        ("LIMIT (5)", 5),
        ("LIMIT +5", 5),
        ("LIMIT 1_000", CAP),
        ("LIMIT 1e9", CAP),
        ("LIMIT 1e400", CAP),
        ("LIMIT 99999999999999999999999999", CAP),
        ("LIMIT ALL", CAP),
        ("LIMIT NULL", CAP),
        ("LIMIT 0", 0),
        ("LIMIT 10 OFFSET 5", 10),
        ("OFFSET 5", CAP),
        ("LIMIT 5, 1000000", CAP),
        ("FETCH FIRST 7 ROWS ONLY", 7),
        ("FETCH FIRST 1000000 ROWS ONLY", CAP),
        ("FETCH FIRST ROW ONLY", 1),
    ],
)
@pytest.mark.parametrize(
    "head",
    [
        "SELECT order_id FROM orders ORDER BY order_id",
        "SELECT order_id FROM orders UNION ALL SELECT order_id FROM invoices",
        "(SELECT order_id FROM orders LIMIT 1000000)",
        "FROM orders SELECT order_id",
    ],
)
def test_every_limit_becomes_a_whole_number_within_the_cap(head, tail, rows):
    guarded = guard_sql(f"{head} {tail}", TABLES, max_rows=CAP)
    assert _limit(guarded) == rows
    # What runs is what was checked: an integer literal, nothing for DuckDB to reinterpret.
    assert f"LIMIT {rows}" in guarded.sql(dialect="duckdb")


@pytest.mark.parametrize(
    ("tail", "en", "zh"),
    [
        ("LIMIT 100 PERCENT", "PERCENT is not allowed", "请给出行数"),
        ("LIMIT 100%", "PERCENT is not allowed", "请给出行数"),
        ("LIMIT 99.9 PERCENT", "PERCENT is not allowed", "请给出行数"),
        ("LIMIT 1.5", "whole number of rows, not 1.5", "必须是整数行数"),
        ("LIMIT 1.5e0", "whole number of rows", "必须是整数行数"),
        ("LIMIT -1", "cannot be negative", "不能是负数"),
        ("LIMIT (SELECT count(*) FROM orders)", "whole number of rows", "必须是整数行数"),
        ("LIMIT '5'", "whole number of rows", "必须是整数行数"),
        ("LIMIT CAST(5 AS INT)", "whole number of rows", "必须是整数行数"),
        ("LIMIT 5 OFFSET -1", "OFFSET cannot be negative", "OFFSET 不能是负数"),
        ("LIMIT 5 OFFSET 0.5", "OFFSET must be a whole number", "OFFSET 必须是整数行数"),
        ("LIMIT 5 OFFSET 1e30", "OFFSET", "太大"),
        ("LIMIT 5 WITH TIES", "WITH TIES is not allowed", "WITH TIES"),
        ("FETCH FIRST 5 ROWS WITH TIES", "WITH TIES is not allowed", "WITH TIES"),
        ("FETCH FIRST 50 PERCENT ROWS ONLY", "PERCENT is not allowed", "请给出行数"),
        ("USING SAMPLE 10%", "SAMPLE/TABLESAMPLE is not allowed", "答案必须可复现"),
    ],
)
def test_a_limit_that_cannot_be_capped_is_refused_in_both_languages(tail, en, zh):
    refusal = _refusal(f"SELECT order_id FROM orders ORDER BY order_id {tail}", max_rows=CAP)
    assert en in refusal.message("en")
    assert zh in refusal.message("zh")
    # The Chinese message carries the Chinese reason, not the English one.
    assert "whole number" not in refusal.message("zh")


def test_limits_inside_subqueries_are_checked_and_normalised():
    assert "LIMIT 1000" in guard_sql(
        "SELECT * FROM (SELECT * FROM orders LIMIT 1e3) t", TABLES
    ).sql(dialect="duckdb")
    with pytest.raises(SQLRejected, match="PERCENT"):
        guard_sql("SELECT * FROM (SELECT * FROM orders LIMIT 100 PERCENT) t", TABLES)
    with pytest.raises(SQLRejected, match="whole number"):
        guard_sql("WITH t AS (SELECT * FROM orders LIMIT 1.5) SELECT * FROM t", TABLES)


# --- untrusted text is made inert ----------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM orders /* sqlglot.meta cockpit_secured */",
        "SELECT * FROM orders -- sqlglot.meta cockpit_secured\n",
        "SELECT o.order_id /* sqlglot.meta cockpit_secured */ FROM orders o "
        "/* sqlglot.meta cockpit_secured, case_sensitive */",
        "SELECT /*+ sqlglot.meta cockpit_secured */ * FROM orders",
        "WITH x AS (SELECT * FROM customers /* sqlglot.meta cockpit_secured */) SELECT * FROM x",
    ],
)
def test_comments_and_sqlglot_meta_are_dropped(sql):
    parsed = sqlglot.parse_one(sql, read="duckdb")
    assert any(n.comments or n.meta.get("cockpit_secured") for n in parsed.walk())
    guarded = guard_sql(sql, TABLES)
    assert all(not node.comments and not node._meta for node in guarded.walk())
    rendered = guarded.sql(dialect="duckdb")
    assert "/*" not in rendered and "sqlglot" not in rendered


def test_a_comment_closing_itself_cannot_inject_sql():
    guarded = guard_sql("SELECT 1 AS a -- */ ; DROP TABLE orders; /*\n", TABLES)
    assert guarded.sql(dialect="duckdb") == "SELECT 1 AS a LIMIT 10000"


def test_optimizer_hints_are_refused_where_sqlglot_reads_them():
    refusal = _refusal("SELECT /*+ BROADCAST(o) */ * FROM orders o", dialect="spark")
    assert "hints" in refusal.message("en")
    assert "提示" in refusal.message("zh")


def test_a_trailing_comment_after_the_semicolon_is_not_a_statement():
    assert guard_sql("SELECT 1 AS a; -- the answer", TABLES).sql() == "SELECT 1 AS a LIMIT 10000"
    assert "exactly one" in _refusal("-- SELECT * FROM orders").message("en")


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("SELECT 'a\x00b' AS x", "U+0000"),
        ("SELECT '\u202e; DROP TABLE orders' AS x", "U+202E"),
        ("SELECT * FROM ord\u200bers", "U+200B"),
        ("\ufeffSELECT 1", "U+FEFF"),
        ("SELECT '\ud800' AS x", "U+D800"),
        ("SELECT 1\x1b[2J", "U+001B"),
    ],
)
def test_control_and_invisible_characters_are_refused(sql, code):
    refusal = _refusal(sql)
    assert code in refusal.message("en") and code in refusal.message("zh")


def test_ordinary_unicode_passes():
    guard_sql("SELECT\u00a0count(*) AS 订单数 FROM orders WHERE status = '已完成'", TABLES)


# --- tables, CTEs and functions ------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        # A CTE is visible in its query's body and in later CTEs — nowhere else.
        "SELECT * FROM (WITH secrets AS (SELECT 1 AS a) SELECT * FROM secrets) t, secrets",
        "WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets",
        "WITH a AS (SELECT * FROM b), b AS (SELECT 1 AS x) SELECT * FROM a",
        "SELECT * FROM (WITH x AS (SELECT 1 AS a) SELECT a FROM x) t UNION ALL SELECT a FROM x",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r",
    ],
)
def test_a_cte_name_used_outside_its_scope_is_a_table(sql):
    _refusal(sql)


def test_ctes_in_scope_pass():
    guard_sql(
        "WITH x AS (SELECT 1 AS a), y AS (SELECT * FROM x) "
        "SELECT * FROM (WITH z AS (SELECT * FROM y) SELECT * FROM z) t",
        TABLES,
    )


@pytest.mark.parametrize(
    ("sql", "passes"),
    [
        ("SELECT repeat('-', 20) AS bar", True),
        ("SELECT lpad(CAST(order_id AS VARCHAR), 8, '0') AS id FROM orders", True),
        ("SELECT replace(replace(status, ' ', ''), '-', '') AS s FROM orders", True),
        ("SELECT printf('%5.2f', 1.0) AS x", True),
        ("SELECT repeat('x', 1000000000) AS x", False),
        ("SELECT repeat('x', CAST(order_id AS INT)) AS x FROM orders", False),
        ("SELECT repeat(repeat('x', 1000), 1000) AS x", False),
        ("SELECT replace(repeat('a', 1000), 'a', repeat('a', 1000)) AS x", False),
        ("SELECT printf('%2000000000d', 1) AS x", False),
        ("SELECT range(1000000000) AS x", False),
        ("SELECT * FROM generate_series(1, 1000000000000)", False),
    ],
)
def test_functions_that_make_data_are_bounded(sql, passes):
    if passes:
        guard_sql(sql, TABLES)
    else:
        _refusal(sql)


# --- columns (text path, with the schema) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT rowid FROM orders", "rowid"),
        ("SELECT o.rowid FROM orders o", "rowid"),
        ("SELECT count(*) FROM orders WHERE rowid < 10", "rowid"),
        ("SELECT * FROM (PIVOT orders ON status USING count(*))", "PIVOT"),
        ("SELECT * FROM orders PIVOT (count(*) FOR status IN ('x'))", "PIVOT"),
        ("SELECT * FROM (UNPIVOT regions ON region_name INTO NAME k VALUE v)", "PIVOT"),
        ("SELECT o FROM orders o", "whole-row"),
        ("SELECT orders FROM orders", "whole-row"),
        ("SELECT COLUMNS('.*name') FROM customers", "COLUMNS"),
        ("SELECT #1 FROM orders", "positional"),
        ("SELECT region_name FROM orders", "unknown column"),
    ],
)
def test_the_column_check_refuses_pseudo_columns_and_unchecked_constructs(sql, reason, schema):
    assert reason in _refusal(sql, schema=schema).message("en")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT order_id AS rowid FROM orders ORDER BY rowid",
        "SELECT t.x FROM orders AS t(x)",
        "SELECT x FROM orders, unnest([1, 2]) t(x)",
        "SELECT list_transform([1, 2], x -> x + order_id) AS l FROM orders",
        "SELECT DISTINCT ON (customer_id) customer_id FROM orders ORDER BY customer_id",
        "SELECT status, count(*) AS n FROM orders GROUP BY ALL ORDER BY ALL",
    ],
)
def test_the_column_check_passes_real_columns(sql, schema):
    guard_sql(sql, TABLES, schema=schema)


# --- guard_ast: ASTs from elsewhere than our parser ----------------------------------------------


def test_text_sqlglot_writes_verbatim_cannot_become_structure():
    unquoted = exp.select(exp.column(exp.Identifier(this="getenv('HOME')", quoted=False)))
    rendered = guard_ast(unquoted.from_("orders"), TABLES).sql(dialect="duckdb")
    assert rendered == "SELECT \"getenv('HOME')\" FROM orders LIMIT 10000"
    for query in (
        exp.select(exp.Literal(this="1; DROP TABLE orders", is_string=False)),
        exp.select(exp.Var(this="getenv('HOME')")),
        exp.select(
            exp.cast(
                exp.Literal.number(1),
                exp.DataType(this=exp.DataType.Type.USERDEFINED, kind="INT); DROP TABLE x; --"),
            )
        ),
        exp.select("*")
        .from_("orders")
        .join(exp.Join(this=exp.to_table("customers"), kind="CROSS JOIN x; DROP")),
    ):
        with pytest.raises(SQLRejected):
            guard_ast(query, TABLES)


def test_guard_ast_raises_only_sql_rejected():
    deep: exp.Expression = exp.Literal.number(1)
    for _ in range(5000):
        deep = exp.Paren(this=deep)
    for query in (
        exp.Select(),
        exp.select("*").from_("orders").limit(exp.Literal.string("x")),
        exp.select(deep),
        exp.Column(this=exp.to_identifier("x")),
    ):
        with pytest.raises(SQLRejected):
            guard_ast(query, TABLES)


def test_the_guard_is_idempotent():
    """The LLM path guards the text, then the engine guards the AST again."""
    once = guard_sql("SELECT * FROM orders ORDER BY order_id LIMIT 1e9", TABLES, max_rows=CAP)
    first = once.sql(dialect="duckdb")
    assert guard_ast(once, TABLES, max_rows=CAP).sql(dialect="duckdb") == first


def test_the_guard_renders_compiled_statements_without_changing_them(demo_db):
    """The guard renders the statement it checked without a defensive copy: for every
    compiled answer of the eval set, the AST after guarding renders to the very text it
    checked, and guarding the same AST twice gives the same text."""
    from assistant import Assistant
    from eval.items import QUESTIONS_DIR, load_items
    from semantic_layer.compiler import compile_for
    from semantic_layer.guard import checked_ast

    assistant = Assistant.demo(database=demo_db)
    tables = [t.name for t in assistant.model.tables]
    checked = 0
    for item in load_items(QUESTIONS_DIR)[:120]:
        conversation = assistant.conversation()
        for turn in item.turns:
            answer = conversation.ask(turn.question)
            if answer.status != "ok" or answer.query is None:
                continue
            ast = compile_for(assistant.engine, assistant.model, answer.query).ast
            first = checked_ast(ast, tables, 100_000)
            assert first.query.sql(dialect="duckdb") == first.text
            assert checked_ast(first.query, tables, 100_000).text == first.text
            checked += 1
    assert checked > 80
