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
from sqlglot.errors import SqlglotError

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
# Scalar functions sqlglot parses as "anonymous" that are plain computations on values.
KNOWN_FUNCTIONS = {
    "md5",
    "sha256",
    "hash",
    "strftime",
    "strptime",
    "date_part",
    "datepart",
    "date_diff",
    "datediff",
    "date_sub",
    "last_day",
    "dayname",
    "monthname",
    "isodow",
    "isoyear",
    "yearweek",
    "epoch",
    "epoch_ms",
    "make_date",
    "make_timestamp",
    "age",
    "century",
    "decade",
    "millennium",
    "nullif",
    "ifnull",
    "nvl",
    "coalesce",
    "greatest",
    "least",
    "round_even",
    "trunc",
    "ceiling",
    "floor",
    "sign",
    "ln",
    "log10",
    "log2",
    "exp",
    "power",
    "sqrt",
    "cbrt",
    "abs",
    "mod",
    "gcd",
    "lcm",
    "factorial",
    "pi",
    "radians",
    "degrees",
    "lower",
    "upper",
    "lcase",
    "ucase",
    "trim",
    "ltrim",
    "rtrim",
    "lpad",
    "rpad",
    "left",
    "right",
    "reverse",
    "repeat",
    "replace",
    "position",
    "instr",
    "strpos",
    "contains",
    "prefix",
    "suffix",
    "starts_with",
    "ends_with",
    "split_part",
    "string_split",
    "regexp_matches",
    "regexp_replace",
    "regexp_extract",
    "length",
    "strlen",
    "concat_ws",
    "format",
    "printf",
    "to_char",
    "array_length",
    "list_value",
    "list_aggregate",
    "string_agg",
    "listagg",
    "group_concat",
    "median",
    "mode",
    "quantile",
    "quantile_cont",
    "quantile_disc",
    "percentile_cont",
    "percentile_disc",
    "arg_max",
    "arg_min",
    "bool_and",
    "bool_or",
    "product",
    "histogram",
    "first",
    "last",
    "any_value",
    "kurtosis",
    "skewness",
    "corr",
    "covar_pop",
    "covar_samp",
    "regr_slope",
    "regr_intercept",
    "row_number",
    "rank",
    "dense_rank",
    "percent_rank",
    "cume_dist",
    "ntile",
    "lag",
    "lead",
    "first_value",
    "last_value",
    "nth_value",
    "date_trunc",
    "datetrunc",
    "to_date",
    "to_timestamp",
    "current_date",
    "today",
    "weekofyear",
    "dayofweek",
    "dayofyear",
    "dayofmonth",
    "week",
    "quarter",
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "typeof",
    "uuid",
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
    except SqlglotError as err:  # parse and tokenizer errors ("SELECT 'abc")
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
            if isinstance(node, exp.Anonymous) and name not in KNOWN_FUNCTIONS:
                # Functions sqlglot does not know are refused unless known to be harmless:
                # an allow-list, so a new or disguised (gеtenv with a Cyrillic е) one cannot pass.
                raise SQLRejected("sql_rejected", reason=f"unknown function {node.name}")
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
