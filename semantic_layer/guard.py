"""`guard_sql`: the gate every SQL string passes before it reaches the database.

Compiled SQL is safe by construction; SQL written by an LLM is not. The guard parses it with
sqlglot and accepts only one read-only query over the model's own tables: no second statement,
no DDL/DML, no table functions that read files or the network, no system functions. It then
caps the rows returned. (The database is also opened read-only with external access disabled:
the guard is the first wall, not the only one.)
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from semantic_layer.errors import CockpitError

# Functions that read or write outside the database, or reveal the system.
FORBIDDEN_FUNCTIONS = {
    "read_csv",
    "read_csv_auto",
    "read_parquet",
    "read_json",
    "read_json_auto",
    "read_json_objects",
    "read_ndjson",
    "read_text",
    "read_blob",
    "parquet_scan",
    "csv_scan",
    "glob",
    "sqlite_scan",
    "sqlite_attach",
    "postgres_scan",
    "postgres_attach",
    "mysql_scan",
    "iceberg_scan",
    "delta_scan",
    "httpfs",
    "getenv",
    "current_setting",
    "duckdb_settings",
    "duckdb_extensions",
    "duckdb_secrets",
    "pragma_database_list",
    "load_extension",
    "system",
    "shell",
    "read_xlsx",
    "st_read",
    "query",
    "query_table",
    "duckdb_tables",
    "duckdb_columns",
}
WRITE_NODES = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Drop,
    exp.Create,
    exp.Alter,
    exp.Command,
    exp.Merge,
    exp.Copy,
    exp.Set,
    exp.Pragma,
    exp.Use,
    exp.TruncateTable,
    exp.Attach,
    exp.Detach,
    exp.Install,
    exp.LoadData,
)


class SQLRejected(CockpitError):
    """SQL that the guard will not let reach the database."""


def guard_sql(
    sql: str,
    allowed_tables: Iterable[str],
    max_rows: int = 10_000,
    dialect: str = "duckdb",
    schema: dict[str, dict[str, str]] | None = None,
) -> exp.Expression:
    """Parse `sql` and return it as a capped, read-only query AST — or raise `SQLRejected`.

    With `schema` ({table: {column: type}}), every column must exist in the allowed tables.
    """
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as err:
        raise SQLRejected(
            "sql_rejected", reason=f"parse error: {str(err).splitlines()[0]}"
        ) from None
    if len(statements) != 1:
        raise SQLRejected("sql_rejected", reason="exactly one statement is allowed")
    return guard_ast(statements[0], allowed_tables, max_rows, dialect, schema)


def guard_ast(
    query: exp.Expression,
    allowed_tables: Iterable[str],
    max_rows: int = 10_000,
    dialect: str = "duckdb",
    schema: dict[str, dict[str, str]] | None = None,
) -> exp.Expression:
    """`guard_sql` for a statement already parsed (or compiled); may modify it in place."""
    allowed = {t.lower() for t in allowed_tables}
    if not isinstance(query, exp.Query):
        raise SQLRejected("sql_rejected", reason=f"only SELECT is allowed, not {query.key.upper()}")
    for node in query.walk():
        if isinstance(node, WRITE_NODES):
            raise SQLRejected("sql_rejected", reason=f"{node.key.upper()} is not allowed")
        if isinstance(node, exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
            if name in FORBIDDEN_FUNCTIONS or name.startswith(("read_", "pragma_")):
                raise SQLRejected("sql_rejected", reason=f"function {name} is not allowed")
    ctes = {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}
    if ctes & allowed:
        # A CTE named like a table would hide the real table from row-level security.
        raise SQLRejected("sql_rejected", reason="a CTE may not be named like a model table")
    for table in query.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise SQLRejected(
                "sql_rejected", reason=f"table expression {table.sql()} is not allowed"
            )
        if table.db or table.catalog:
            raise SQLRejected(
                "sql_rejected", reason=f"{table.sql()}: other schemas are not allowed"
            )
        name = table.name.lower()
        if name not in allowed and name not in ctes:
            raise SQLRejected("sql_rejected", reason=f"table {table.name} is not in the model")
    if schema is not None:
        _check_columns(query, schema, allowed, dialect)
    limit = query.args.get("limit")
    current = None
    if isinstance(limit, exp.Limit) and isinstance(limit.expression, exp.Literal):
        current = int(limit.expression.this)
    if current is None or current > max_rows:
        # The cap goes on the query itself, after its ORDER BY, so the order is kept.
        query.set("limit", exp.Limit(expression=exp.Literal.number(max_rows)))
    return query


def _check_columns(
    query: exp.Expression, schema: dict[str, dict[str, str]], allowed: set[str], dialect: str
) -> None:
    """Every column must be a real column of an allowed table (sqlglot resolves aliases)."""
    from sqlglot.errors import OptimizeError
    from sqlglot.optimizer.qualify import qualify

    visible = {t: cols for t, cols in schema.items() if t.lower() in allowed}
    try:
        qualify(
            query.copy(),
            schema=visible,
            dialect=dialect,
            validate_qualify_columns=True,
            identify=False,
        )
    except OptimizeError as err:
        raise SQLRejected("sql_rejected", reason=f"unknown column: {err}") from None
    except Exception as err:  # a construct the resolver cannot follow is not let through
        raise SQLRejected("sql_rejected", reason=f"cannot verify the columns: {err}") from None
