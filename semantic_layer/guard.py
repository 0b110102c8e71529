"""`guard_sql`: the gate every SQL string passes before it reaches the database.

Compiled SQL is safe by construction; SQL written by an LLM is not. The guard parses it with
sqlglot and accepts only one read-only query over the model's own tables: no second statement,
no DDL/DML, no table functions that read files or the network, no system functions, no
generators that make data out of nothing. It then caps the rows returned. (The database is
also opened read-only with external access disabled and a time and memory limit: the guard is
the first wall, not the only one.)

Untrusted text is made inert before it is checked: comments and sqlglot's `sqlglot.meta`
annotations are dropped from every node, so nothing written in the SQL can carry state (a
"this table is already secured" mark, a hint) past the guard. Whatever text becomes structure
is checked twice: by sqlglot here, and — for DuckDB — by DuckDB's own parser reading the SQL
exactly as it will run, so a disagreement between the two parsers cannot open a way around.

`guard_sql` and `guard_ast` raise `SQLRejected` and nothing else: a statement the guard cannot
fully understand is refused, never let through and never a traceback.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple, NoReturn

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from semantic_layer.errors import CockpitError, Issue

log = logging.getLogger(__name__)
# sqlglot warns with the statement it could not parse ("Falling back to parsing as a
# 'Command'"): an attacker's text has no place in the application log.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

# The longest SQL text the guard reads (an LLM's query is a few thousand characters at most).
MAX_SQL_CHARS = 100_000
# The largest row count DuckDB accepts in LIMIT/OFFSET (a BIGINT).
MAX_COUNT = 2**63 - 1
# The most characters or elements repeat()/lpad()/rpad()/space() may make from one value.
MAX_GENERATED = 1_000

# Functions that read or write outside the database, reveal the system or its state, run SQL
# given as text, or touch sequences. Checked against sqlglot's names and DuckDB's own.
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
    "sniff_csv",
    "sqlite_scan",
    "sqlite_attach",
    "postgres_scan",
    "postgres_attach",
    "mysql_scan",
    "iceberg_scan",
    "delta_scan",
    "httpfs",
    "getenv",
    "getvariable",
    "current_setting",
    "duckdb_settings",
    "duckdb_extensions",
    "duckdb_secrets",
    "which_secret",
    "pragma_database_list",
    "load_extension",
    "system",
    "shell",
    "read_xlsx",
    "st_read",
    "query",
    "query_table",
    "json_execute_serialized_sql",
    "duckdb_tables",
    "duckdb_columns",
    "current_user",
    "current_role",
    "session_user",
    "user",
    "current_catalog",
    "current_database",
    "current_schema",
    "current_schemas",
    "current_query",
    "version",
    "nextval",
    "currval",
    "setseed",
    "txid_current",
    "checkpoint",
    "force_checkpoint",
    "summary",
    "range",
    "generate_series",
}
# Name prefixes of whole families of the above (file readers, catalogs, scanners, tests).
FORBIDDEN_PREFIXES = (
    "read_",
    "pragma_",
    "duckdb_",
    "sqlite_",
    "postgres_",
    "mysql_",
    "iceberg_",
    "delta_",
    "ducklake_",
    "parquet_",
    "arrow_",
    "json_execute",
    "pg_",
    "test_",
    "icu_",
    "which_",
    "load_",
    "st_read",
    "sniff_",
)
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


def _classes(*names: str) -> tuple[type[exp.Expression], ...]:
    """The sqlglot classes of these names that this sqlglot version has."""
    found = (getattr(exp, name, None) for name in names)
    return tuple(c for c in found if isinstance(c, type))


# Statements, and clauses that write, lock, or switch the session, wherever they appear.
WRITE_NODES = _classes(
    "Insert",
    "Update",
    "Delete",
    "Drop",
    "Create",
    "Alter",
    "Command",
    "Merge",
    "Copy",
    "Set",
    "Pragma",
    "Use",
    "TruncateTable",
    "Attach",
    "Detach",
    "Install",
    "LoadData",
    "Into",
    "Describe",
    "Summarize",
    "Show",
    "Kill",
    "Execute",
    "Transaction",
    "Commit",
    "Rollback",
    "Cache",
    "Uncache",
    "Refresh",
    "Analyze",
    "Grant",
    "Revoke",
    "Comment",
    "Export",
    "Declare",
    "Lock",
)
# Constructs with no place in an answer: each with why, in both languages.
REFUSED_NODES: dict[tuple[type[exp.Expression], ...], tuple[str, str]] = {
    _classes("Hint"): ("optimizer hints are not allowed", "不允许优化器提示（hint）"),
    _classes("Pivot"): (
        "PIVOT/UNPIVOT is not allowed (its columns cannot be checked); use GROUP BY with CASE",
        "不允许 PIVOT/UNPIVOT（无法核对其列）；请用 GROUP BY 加 CASE",
    ),
    _classes("TableSample"): (
        "SAMPLE/TABLESAMPLE is not allowed: answers must be reproducible",
        "不允许 SAMPLE/TABLESAMPLE：答案必须可复现",
    ),
    _classes("Placeholder", "Parameter", "SessionParameter"): (
        "query parameters and variables are not allowed",
        "不允许查询参数或变量",
    ),
    _classes("PositionalColumn"): (
        "positional column references (#1) are not allowed; name the column",
        "不允许按位置引用列（#1）；请写出列名",
    ),
    _classes("Columns"): (
        "COLUMNS(...) is not allowed; name the columns",
        "不允许 COLUMNS(...)；请写出列名",
    ),
    _classes("Connect", "Prior", "MatchRecognize", "RecursiveWithSearch"): (
        "recursive and pattern-matching queries are not allowed",
        "不允许递归查询或模式匹配查询",
    ),
}
# Typed sqlglot functions that reveal the system or session, or leave the database.
DENIED_FUNCTION_CLASSES = _classes(
    "Secret",
    "ToFile",
    "NextValueFor",
    "DynamicIdentifier",
    "ReadCSV",
    "ReadParquet",
    "SessionUser",
    "JSONTable",
    "XMLTable",
    "OpenJSON",
    "Stack",
    "SplitToTable",
    "StrtokSplitToTable",
    "GapFill",
    "VectorSearch",
    "FeaturesAtTime",
    "Predict",
)
# `Current*` functions that are only a clock, unlike CURRENT_USER, CURRENT_DATABASE, ...
CLOCK_FUNCTIONS = _classes(
    "CurrentDate",
    "CurrentTime",
    "CurrentTimestamp",
    "CurrentDatetime",
    "CurrentTimestampLTZ",
    "CurrentTimezone",
)
# Functions that make data out of nothing: range(1e12), generate_series(...) have no bound.
GENERATOR_CLASSES = _classes(
    "GenerateSeries",
    "ExplodingGenerateSeries",
    "GenerateDateArray",
    "GenerateTimestampArray",
    "Generator",
    "GenerateTable",
    "Seq1",
    "Seq2",
    "Seq4",
    "Seq8",
)
# Functions whose output grows with an argument (repeat('x', 1e9)): that argument must be a
# small literal. class → the argument holding the size; anonymous name → its position.
SIZED_CLASSES: dict[type[exp.Expression], str] = {
    cls: arg
    for cls, arg in (
        (getattr(exp, "Repeat", None), "times"),
        (getattr(exp, "Pad", None), "expression"),
        (getattr(exp, "Space", None), "this"),
    )
    if isinstance(cls, type)
}
SIZED_ANONYMOUS = {"repeat": 1, "lpad": 1, "rpad": 1, "space": 0}
# How many times longer than its inputs a value may grow through nested string functions
# (repeat, lpad, replace, ...). replace(repeat('a', 1000), 'a', repeat('a', 1000)) would make
# a 1 GB string in one scalar step that the time limit cannot interrupt.
MAX_GROWTH = 1_000
# A width or precision of 1000 or more in a printf()/format() pattern ("%2000000000d").
WIDE_FORMAT = re.compile(r"%[-+ #0]*\d{4,}|%[-+ #0]*\d*\.\d{4,}|\{[^}]*\d{4,}[^}]*\}")
# Table options that time-travel, sample or otherwise change what a table reference reads.
TABLE_OPTIONS = (
    "hints",
    "system_time",
    "version",
    "format",
    "pattern",
    "when",
    "only",
    "partition",
    "changes",
    "rows_from",
    "sample",
    "pivots",
)
# Query clauses of other databases (ClickHouse SETTINGS, T-SQL OPTION, Hive SORT BY, ...).
FOREIGN_CLAUSES = (
    "settings",
    "format",
    "options",
    "for_",
    "prewhere",
    "distribute",
    "sort",
    "cluster",
    "match",
    "operation_modifiers",
    "kind",
)
# What sqlglot may write out verbatim: an unquoted name, a number, a keyword, a type name.
SAFE_NAME = re.compile(r"^[^\W\d]\w*$")
NUMBER = re.compile(r"^(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
WORD = re.compile(r"^[A-Za-z_]\w*$")
TYPE_NAME = re.compile(r"^[A-Za-z_][\w.]*$")
KEYWORDS = re.compile(r"^[\w ]*$")
# Characters allowed although Unicode calls them control characters: ordinary whitespace.
WHITESPACE_CONTROLS = {"\t", "\n", "\r"}


@dataclass(frozen=True)
class Reason:
    """Why the guard refused a statement, in English and Chinese.

    Written once where the guard decides, so a refusal reads well in the user's language;
    technical tokens (names, SQL) appear unchanged in both texts.
    """

    en: str
    zh: str

    def get(self, lang: str) -> str:
        """The text in `lang` ("zh" or "en")."""
        return self.zh if lang == "zh" else self.en

    def __str__(self) -> str:
        return self.en


class SQLRejected(CockpitError):
    """SQL that the guard will not let reach the database; `reason` says why in zh and en."""

    def message(self, lang: str = "zh") -> str:
        """The refusal in `lang`, with a bilingual `Reason` shown in that language."""
        params = dict(self.params)
        reason = params.get("reason")
        if isinstance(reason, Reason):
            params["reason"] = reason.get(lang)
        return Issue(self.code, params, suggestions=self.suggestions).message(lang)


def _reject(en: str, zh: str) -> NoReturn:
    raise SQLRejected("sql_rejected", reason=Reason(en, zh))


class Guarded(NamedTuple):
    """A statement that passed the guard, and the text DuckDB's parser checked (None for
    other dialects): running that very text is running what was checked, with no second
    rendering in between."""

    query: exp.Expression
    text: str | None


def guard_sql(
    sql: str,
    allowed_tables: Iterable[str],
    max_rows: int = 10_000,
    dialect: str = "duckdb",
    schema: dict[str, dict[str, str]] | None = None,
) -> exp.Expression:
    """Parse untrusted `sql` and return it as a capped, read-only query AST — or raise
    `SQLRejected` (and nothing else).

    Comments and sqlglot meta are dropped, so nothing in the text survives as state. With
    `schema` ({table: {column: type}}), every column must exist in the allowed tables.
    """
    return checked_sql(sql, allowed_tables, max_rows, dialect, schema).query


def checked_sql(
    sql: str,
    allowed_tables: Iterable[str],
    max_rows: int = 10_000,
    dialect: str = "duckdb",
    schema: dict[str, dict[str, str]] | None = None,
) -> Guarded:
    """`guard_sql`, with the checked text as DuckDB will run it."""
    allowed = [t.lower() for t in allowed_tables]
    try:
        statement = _parse(sql, dialect)
        _make_inert(statement)
        return _guard(statement, allowed, max_rows, dialect, schema)
    except SQLRejected:
        raise
    except RecursionError:
        _reject("the statement is nested too deeply", "语句嵌套太深")
    except Exception as err:  # fail closed: what the guard cannot follow does not run
        log.warning("guard could not check a statement", exc_info=True)
        _reject(
            f"the statement could not be checked ({type(err).__name__})",
            f"无法检查该语句（{type(err).__name__}）",
        )


def guard_ast(
    query: exp.Expression,
    allowed_tables: Iterable[str],
    max_rows: int = 10_000,
    dialect: str = "duckdb",
    schema: dict[str, dict[str, str]] | None = None,
) -> exp.Expression:
    """`guard_sql` for a statement already parsed (or compiled); may modify it in place.

    Comments are dropped (they mean nothing to the database); sqlglot meta is kept, since
    it is ours when the AST is ours — untrusted text goes through `guard_sql`.
    """
    return checked_ast(query, allowed_tables, max_rows, dialect, schema).query


def checked_ast(
    query: exp.Expression,
    allowed_tables: Iterable[str],
    max_rows: int = 10_000,
    dialect: str = "duckdb",
    schema: dict[str, dict[str, str]] | None = None,
) -> Guarded:
    """`guard_ast`, with the checked text as DuckDB will run it."""
    allowed = [t.lower() for t in allowed_tables]
    try:
        return _guard(query, allowed, max_rows, dialect, schema, own=True)
    except SQLRejected:
        raise
    except RecursionError:
        _reject("the statement is nested too deeply", "语句嵌套太深")
    except Exception as err:  # fail closed, as in guard_sql
        log.warning("guard could not check a statement", exc_info=True)
        _reject(
            f"the statement could not be checked ({type(err).__name__})",
            f"无法检查该语句（{type(err).__name__}）",
        )


# --- text to AST --------------------------------------------------------------------------------


def _parse(sql: str, dialect: str) -> exp.Expression:
    """The one statement in `sql`, after the text itself passed its checks."""
    if not isinstance(sql, str):
        _reject("the SQL is not text", "SQL 不是文本")
    if len(sql) > MAX_SQL_CHARS:
        _reject(
            f"the SQL is longer than {MAX_SQL_CHARS} characters",
            f"SQL 超过 {MAX_SQL_CHARS} 个字符",
        )
    _check_characters(sql)
    try:
        parsed = sqlglot.parse(sql, read=dialect)
    except SqlglotError as err:  # parse and tokenizer errors ("SELECT 'abc")
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        _reject(f"parse error: {detail}", f"无法解析：{detail}")
    # A lone `;` (or `; -- a comment` after the query) is no statement.
    statements = [s for s in parsed if s is not None and not isinstance(s, exp.Semicolon)]
    if len(statements) != 1:
        _reject("exactly one statement is allowed", "只允许一条语句")
    return statements[0]


def _check_characters(sql: str) -> None:
    """Refuse control and invisible formatting characters anywhere in the text.

    NUL ends a C string early (the database could read less than was checked); zero-width
    spaces and bidirectional marks (U+202E) make the SQL shown to a person differ from the
    SQL that runs; lone surrogates cannot even be encoded. None belongs in a query.
    """
    for position, char in enumerate(sql):
        if char in WHITESPACE_CONTROLS:
            continue
        if unicodedata.category(char) in ("Cc", "Cf", "Cs"):
            code = f"U+{ord(char):04X}"
            _reject(
                f"invisible or control character {code} at position {position}",
                f"第 {position} 个字符是不可见字符或控制字符 {code}",
            )


def _make_inert(statement: exp.Expression) -> None:
    """Drop every comment and every sqlglot meta annotation.

    sqlglot reads `/* sqlglot.meta key */` and `-- sqlglot.meta key` into a node's `meta`:
    text that would otherwise become state attached to the AST. A comment is also the one
    place sqlglot writes untrusted text back out verbatim; in DuckDB an optimizer hint
    (`/*+ … */`) is a comment too. (Dialects that parse hints as nodes are refused in
    `_check_node`.)
    """
    for node in statement.walk():
        node.comments = None
        node._meta = None


# --- the checks ----------------------------------------------------------------------------------


def _guard(
    query: exp.Expression,
    allowed: list[str],
    max_rows: int,
    dialect: str,
    schema: dict[str, dict[str, str]] | None,
    own: bool = False,
) -> Guarded:
    """The checks, over one list of the statement's nodes. `own`: an AST of ours, whose
    comments are dropped on the way (untrusted text was made inert before).

    One walk instead of one per check: the guard runs before every statement, and a compiled
    comparison has hundreds of nodes."""
    if not isinstance(query, exp.Query):
        kind = _statement_kind(query)
        _reject(f"only SELECT is allowed, not {kind}", f"只允许 SELECT，不允许 {kind}")
    allowed_set = set(allowed)
    nodes = list(query.walk())
    for node in nodes:
        if own:
            node.comments = None
        _check_node(node)
    _check_sources(nodes)
    _check_tables(nodes, allowed_set)
    _check_limits(nodes)
    if schema is not None:
        _check_columns(query, schema, allowed_set, dialect)
    _cap(query, max_rows)
    text = None
    if dialect == "duckdb":
        # An AST of our own is rendered without sqlglot's defensive copy (it costs as much as
        # the rendering); a parse of untrusted text keeps it, so that nothing the generator
        # notes on the tree (literal metadata) is left on what the guard returns.
        text = _check_as_duckdb_reads_it(query, allowed, max_rows, copy=not own)
    return Guarded(query, text)


def _statement_kind(statement: exp.Expression) -> str:
    """What a statement is, for a message: CREATE, LOAD (sqlglot's Command keeps the word)."""
    if isinstance(statement, exp.Command):
        return str(statement.name).split()[0].upper() if statement.name else "COMMAND"
    if isinstance(statement, WRITE_NODES + (exp.Pivot, exp.Values)):
        return statement.key.upper()
    return f"an expression ({_short(statement)})"


def _check_node(node: exp.Expression) -> None:
    """One node: no statement inside the query, no refused construct, no unsafe function."""
    if isinstance(node, WRITE_NODES):
        _reject(f"{node.key.upper()} is not allowed", f"不允许 {node.key.upper()}")
    for classes, (en, zh) in REFUSED_NODES.items():
        if classes and isinstance(node, classes):
            _reject(en, zh)
    if isinstance(node, exp.With) and node.args.get("recursive"):
        _reject(
            "recursive queries (WITH RECURSIVE) are not allowed: they have no bound",
            "不允许递归查询（WITH RECURSIVE）：其规模没有上限",
        )
    _check_verbatim(node)
    if isinstance(node, exp.Query):
        clauses = [key for key in FOREIGN_CLAUSES if node.args.get(key)]
        if clauses:
            _reject(
                f"clause {clauses[0].rstrip('_').upper()} is not allowed",
                f"不允许子句 {clauses[0].rstrip('_').upper()}",
            )
    if isinstance(node, exp.Func):
        _check_function(node)


def _check_verbatim(node: exp.Expression) -> None:
    """Text sqlglot writes out as it is must be what it claims to be.

    An AST need not come from our parser: an unquoted identifier `getenv('HOME')`, a number
    `1; DROP TABLE x` or a type `INT); DROP …` would be rendered verbatim and read by the
    database as structure. Unsafe identifiers are quoted (inert); the rest is refused.
    """
    text = node.this if isinstance(node, exp.Identifier | exp.Literal) else None
    if isinstance(text, str) and "\x00" in text:
        # NUL would end the text DuckDB reads early.
        _reject("a NUL character is not allowed", "不允许 NUL 字符")
    if isinstance(node, exp.Identifier) and not node.quoted and not SAFE_NAME.match(str(text)):
        node.set("quoted", True)
    elif isinstance(node, exp.Literal) and not node.is_string and not NUMBER.match(str(text)):
        _reject(f"malformed number {text!r}", f"数字格式有误：{text!r}")
    elif isinstance(node, exp.Var) and not WORD.match(node.name):
        _reject(f"malformed keyword {node.name!r}", f"关键字格式有误：{node.name!r}")
    elif isinstance(node, exp.DataType) and node.this == exp.DataType.Type.USERDEFINED:
        kind = str(node.args.get("kind") or "")
        if not TYPE_NAME.match(kind):
            _reject(f"malformed type {kind!r}", f"类型格式有误：{kind!r}")
    if isinstance(node, exp.Literal | exp.Identifier | exp.DataType):
        return
    for key, value in node.args.items():
        # Other plain-text arguments (a join's kind, a window frame's bound, a function's
        # name) are keywords: words and spaces only.
        if isinstance(value, str) and not KEYWORDS.match(value):
            _reject(
                f"malformed {node.key} {key} {value!r}",
                f"{node.key} 的 {key} 格式有误：{value!r}",
            )


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def _check_function(node: exp.Func) -> None:
    name = _function_name(node)
    if name in FORBIDDEN_FUNCTIONS or name.startswith(FORBIDDEN_PREFIXES):
        _reject(f"function {name} is not allowed", f"不允许函数 {name}")
    cls_name = type(node).__name__
    if isinstance(node, DENIED_FUNCTION_CLASSES) or (
        cls_name.startswith("Current") and not isinstance(node, CLOCK_FUNCTIONS)
    ):
        _reject(f"function {name} is not allowed", f"不允许函数 {name}")
    if isinstance(node, GENERATOR_CLASSES) or cls_name.startswith(("AI", "ML", "Generate")):
        _reject(
            f"function {name} is not allowed: it makes rows or values without bound",
            f"不允许函数 {name}：它生成的行或值没有上限",
        )
    if isinstance(node, exp.Anonymous) and name not in KNOWN_FUNCTIONS:
        # Functions sqlglot does not know are refused unless known to be harmless:
        # an allow-list, so a new or disguised (gеtenv with a Cyrillic е) one cannot pass.
        _reject(f"unknown function {node.name}", f"未知函数 {node.name}")
    size: exp.Expression | None = None
    if type(node) in SIZED_CLASSES:
        size = node.args.get(SIZED_CLASSES[type(node)])
    elif isinstance(node, exp.Anonymous) and name in SIZED_ANONYMOUS:
        arguments = node.expressions
        position = SIZED_ANONYMOUS[name]
        size = arguments[position] if len(arguments) > position else None
    if type(node) in SIZED_CLASSES or (isinstance(node, exp.Anonymous) and name in SIZED_ANONYMOUS):
        count = _literal_int(size)
        if count is None or not 0 <= count <= MAX_GENERATED:
            _reject(
                f"{name}() needs a whole-number length between 0 and {MAX_GENERATED}",
                f"{name}() 的长度必须是 0 到 {MAX_GENERATED} 之间的整数",
            )
    if name in ("printf", "format"):
        pattern = node.this if isinstance(node, exp.Format) else None
        if isinstance(node, exp.Anonymous):
            pattern = node.expressions[0] if node.expressions else None
        if not isinstance(pattern, exp.Literal) or not pattern.is_string:
            _reject(f"{name}() needs a literal pattern", f"{name}() 的格式必须是字面量")
        if WIDE_FORMAT.search(pattern.this):
            _reject(
                f"{name}() widths of 1000 or more are not allowed",
                f"{name}() 的宽度不能达到 1000 或以上",
            )
    if _growth(node) > 1:
        total, ancestor = 1.0, node
        while ancestor is not None:
            total *= _growth(ancestor)
            ancestor = ancestor.parent
        if total > MAX_GROWTH:
            _reject(
                f"nested {name}() could make values {total:.0f} times longer than their input",
                f"嵌套的 {name}() 可能使值增长到原来的 {total:.0f} 倍",
            )


def _string_length(node: exp.Expression | None) -> int | None:
    return len(node.this) if isinstance(node, exp.Literal) and node.is_string else None


def _growth(node: exp.Expression) -> float:
    """How many times longer than its input the value of `node` can be (1: no growth).

    Pessimistic where the size is not written in the SQL: a computed replacement counts as
    MAX_GROWTH, so two such functions nested are refused.
    """
    if not isinstance(node, exp.Func):
        return 1.0
    name = _function_name(node)
    if type(node) in SIZED_CLASSES or (isinstance(node, exp.Anonymous) and name in SIZED_ANONYMOUS):
        if isinstance(node, exp.Anonymous):
            arguments = node.expressions
            position = SIZED_ANONYMOUS[name]
            size = arguments[position] if len(arguments) > position else None
        else:
            size = node.args.get(SIZED_CLASSES[type(node)])
        return float(max(_literal_int(size) or 1, 1))
    if isinstance(node, exp.Replace) or (isinstance(node, exp.Anonymous) and name == "replace"):
        if isinstance(node, exp.Replace):
            search, replacement = node.expression, node.args.get("replacement")
        else:
            arguments = [*node.expressions, None, None, None]
            search, replacement = arguments[1], arguments[2]
        new = _string_length(replacement)
        if new is None:
            return float(MAX_GROWTH)
        return max(1.0, new / max(_string_length(search) or 1, 1))
    if isinstance(node, exp.RegexpReplace):
        new = _string_length(node.args.get("replacement"))
        return float(MAX_GROWTH) if new is None else float(max(new + 1, 1))
    return 1.0


def _check_sources(nodes: list[exp.Expression]) -> None:
    """FROM and JOIN read tables, subqueries, VALUES or UNNEST — never a function or a
    statement — and every subquery or CTE body is itself a query."""
    for clause in _of(nodes, exp.From, exp.Join):
        source = clause.this
        if isinstance(source, exp.Lateral):
            source = source.this
        if not isinstance(source, exp.Table | exp.Subquery | exp.Unnest | exp.Values):
            text = _short(source)
            _reject(f"FROM {text} is not allowed", f"不允许 FROM {text}")
    for node in _of(nodes, exp.Subquery, exp.CTE):
        if not isinstance(node.this, exp.Query):
            text = _short(node.this)
            _reject(f"{text} is not a query", f"{text} 不是查询")


def _short(node: exp.Expression | None) -> str:
    """A node as short SQL for a message."""
    if node is None:
        return "?"
    text = node.sql()
    return text if len(text) <= 80 else text[:77] + "..."


def _of(nodes: list[exp.Expression], *kinds: type[exp.Expression]) -> list[Any]:
    """The nodes of these kinds, in walk order."""
    return [node for node in nodes if isinstance(node, kinds)]


def _check_tables(nodes: list[exp.Expression], allowed: set[str]) -> None:
    """Every table is a model table of the default schema, read as it is, or a CTE in scope."""
    ctes = {cte.alias_or_name.lower() for cte in _of(nodes, exp.CTE)}
    if ctes & allowed:
        # A CTE named like a table would hide the real table from row-level security.
        _reject("a CTE may not be named like a model table", "CTE 不能与模型中的表同名")
    for table in _of(nodes, exp.Table):
        if not isinstance(table.this, exp.Identifier):
            text = _short(table)
            _reject(f"table expression {text} is not allowed", f"不允许表表达式 {text}")
        options = [option for option in TABLE_OPTIONS if table.args.get(option)]
        if options:
            text = _short(table)
            _reject(
                f"{text}: table options ({', '.join(options)}) are not allowed",
                f"{text}：不允许表选项（{', '.join(options)}）",
            )
        if table.db or table.catalog:
            text = _short(table)
            _reject(f"{text}: other schemas are not allowed", f"{text}：不允许访问其他 schema")
        name = table.name.lower()
        if name in allowed or _names_cte_in_scope(table, name):
            continue
        _reject(f"table {table.name} is not in the model", f"表 {table.name} 不在模型中")


def _with_of(query: exp.Expression) -> exp.With | None:
    """The WITH clause of `query` (its argument name differs across sqlglot versions)."""
    return next((v for v in query.args.values() if isinstance(v, exp.With)), None)


def _names_cte_in_scope(table: exp.Table, name: str) -> bool:
    """Whether `table` certainly reads a CTE called `name` rather than a stored table.

    Strict on purpose: a CTE is visible in the body of its WITH and in the CTEs after it,
    not in itself (no recursion) nor in those before it, nor outside its query. A reference
    outside that scope is treated as a table — and is refused unless it is a model table.
    """
    child: exp.Expression = table
    parent = table.parent
    while parent is not None:
        if isinstance(parent, exp.With) and isinstance(child, exp.CTE):
            index = next(i for i, cte in enumerate(parent.expressions) if cte is child)
            if name in {cte.alias_or_name.lower() for cte in parent.expressions[:index]}:
                return True
        elif isinstance(parent, exp.Query) and not isinstance(child, exp.With):
            with_ = _with_of(parent)
            if with_ is not None and name in {c.alias_or_name.lower() for c in with_.expressions}:
                return True
        child, parent = parent, parent.parent
    return False


# --- the row cap ---------------------------------------------------------------------------------


def _literal_int(node: exp.Expression | None) -> int | None:
    """The whole number an integer-valued literal says (1e9 and 1.0 included), else None."""
    while isinstance(node, exp.Paren):
        node = node.this
    if not isinstance(node, exp.Literal) or node.is_string:
        return None
    try:
        value = Decimal(str(node.this).replace("_", ""))
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.to_integral_value():
        return None
    return int(value)


def _rows(node: exp.Expression | None, clause: str) -> int | None:
    """The number of rows a LIMIT/OFFSET/FETCH count says (None: no limit, ALL or NULL).

    Anything but a non-negative whole number is refused with a reason: a percentage, a
    fraction, a negative number, a subquery or an expression cannot be capped with certainty.
    """
    while isinstance(node, exp.Paren):
        node = node.this
    if node is None or isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Var) and node.name.upper() == "ALL":
        return None
    text = _short(node)
    inner = node.this if isinstance(node, exp.Neg) else None
    if isinstance(node, exp.Neg) and isinstance(inner, exp.Literal) and not inner.is_string:
        _reject(
            f"{clause} cannot be negative ({clause} {text})",
            f"{clause} 不能是负数（{clause} {text}）",
        )
    if isinstance(node, exp.Literal) and not node.is_string:
        value = _literal_int(node)
        if value is None:
            _reject(
                f"{clause} must be a whole number of rows, not {text}",
                f"{clause} 必须是整数行数，不能是 {text}",
            )
        return value
    _reject(
        f"{clause} must be a whole number of rows, not {text}",
        f"{clause} 必须是整数行数，不能是 {text}",
    )


def _check_options(node: exp.Expression, clause: str) -> None:
    options = node.args.get("limit_options")
    if options is not None and options.args.get("percent"):
        _reject(
            f"{clause} … PERCENT is not allowed: give a number of rows",
            f"不允许 {clause} … PERCENT：请给出行数",
        )
    if options is not None and options.args.get("with_ties"):
        _reject(
            f"{clause} … WITH TIES is not allowed: it can return more rows than asked",
            f"不允许 {clause} … WITH TIES：它返回的行数可能超过所限",
        )
    if node.args.get("expressions"):
        _reject(f"{clause} BY is not allowed", f"不允许 {clause} BY")


def _check_limits(nodes: list[exp.Expression]) -> None:
    """Every LIMIT, OFFSET and FETCH in the statement, at any depth, is a plain row count,
    rewritten as an integer literal (LIMIT 1e3 → LIMIT 1000) so DuckDB reads what we read."""
    for node in _of(nodes, exp.Limit, exp.Offset, exp.Fetch):
        if isinstance(node, exp.Limit):
            _check_options(node, "LIMIT")
            _normalise(node, "expression", "LIMIT")
            _normalise(node, "offset", "OFFSET")
        elif isinstance(node, exp.Offset):
            _check_options(node, "OFFSET")
            _normalise(node, "expression", "OFFSET")
        else:
            _check_options(node, "FETCH")
            _normalise(node, "count", "FETCH")


def _normalise(node: exp.Expression, arg: str, clause: str) -> None:
    value = node.args.get(arg)
    if value is None:
        return
    rows = _rows(value, clause)
    if rows is None:
        return
    if rows > MAX_COUNT:
        if clause == "OFFSET":
            _reject(f"OFFSET {rows} is too large", f"OFFSET {rows} 太大")
        rows = MAX_COUNT  # LIMIT beyond what a table can hold: no limit at all
    node.set(arg, exp.Literal.number(rows))


def _cap(query: exp.Expression, max_rows: int) -> None:
    """Put `LIMIT min(own, max_rows)` on the outermost query, after its ORDER BY."""
    limit = query.args.get("limit")
    own: int | None = None
    offset = None
    if isinstance(limit, exp.Limit):
        own = _rows(limit.expression, "LIMIT")
        offset = limit.args.get("offset")
    elif isinstance(limit, exp.Fetch):
        count = limit.args.get("count")
        own = 1 if count is None else _rows(count, "FETCH")  # FETCH FIRST ROW ONLY: one row
    elif limit is not None:
        _reject(f"LIMIT {_short(limit)} is not allowed", f"不允许 LIMIT {_short(limit)}")
    rows = max_rows if own is None else min(own, max_rows)
    capped = exp.Limit(expression=exp.Literal.number(rows))
    if offset is not None:
        capped.set("offset", offset)
    query.set("limit", capped)


# --- columns -------------------------------------------------------------------------------------


def _check_columns(
    query: exp.Expression, schema: dict[str, dict[str, str]], allowed: set[str], dialect: str
) -> None:
    """Every column is a real column of an allowed table (sqlglot resolves aliases).

    After sqlglot resolved the columns, each one is looked up again: it must be a column of
    the table, subquery or UNNEST it names, or a lambda's parameter, or a select alias used
    in ORDER BY/GROUP BY/HAVING/QUALIFY. What is left — DuckDB's `rowid`, a whole-row
    reference (`SELECT o FROM orders o`) — is refused.
    """
    from sqlglot.errors import OptimizeError
    from sqlglot.optimizer.qualify import qualify

    visible = {t: cols for t, cols in schema.items() if t.lower() in allowed}
    try:
        qualified = qualify(
            query.copy(),
            schema=visible,
            dialect=dialect,
            validate_qualify_columns=True,
            identify=False,
        )
    except OptimizeError as err:
        _reject(f"unknown column: {err}", f"未知的列：{err}")
    except RecursionError:
        raise
    except Exception as err:  # a construct the resolver cannot follow is not let through
        _reject(f"cannot verify the columns: {err}", f"无法核对列：{err}")
    columns = {t.lower(): {c.lower() for c in cols} for t, cols in visible.items()}
    _verify_resolved(qualified, columns)


def _verify_resolved(qualified: exp.Expression, columns: dict[str, set[str]]) -> None:
    from sqlglot.optimizer.scope import Scope, traverse_scope

    for scope in traverse_scope(qualified):
        for column in scope.columns:
            if not column.table:
                continue
            source, seen = None, scope
            while seen is not None and source is None:
                source = seen.sources.get(column.table)
                seen = seen.parent
            name = column.name.lower()
            if isinstance(source, exp.Table):
                renamed = (
                    {c.name.lower() for c in source.args["alias"].columns}
                    if isinstance(source.args.get("alias"), exp.TableAlias)
                    else set()
                )
                if name not in columns.get(source.name.lower(), set()) | renamed:
                    _reject(
                        f"unknown column {source.name}.{column.name}",
                        f"表 {source.name} 中没有列 {column.name}",
                    )
            elif isinstance(source, Scope):
                produced = _produced(source.expression)
                if produced is not None and name not in produced:
                    _reject(f"unknown column {column.sql()}", f"未知的列 {column.sql()}")
            else:
                _reject(f"unknown column {column.sql()}", f"未知的列 {column.sql()}")
    for whole in qualified.find_all(exp.TableColumn):
        _reject(
            f"{whole.sql()} is a whole-row reference; name the columns",
            f"{whole.sql()} 引用了整行；请写出列名",
        )
    for column in qualified.find_all(exp.Column):
        if column.table or _bound_by_lambda(column) or _is_alias_reference(column):
            continue
        _reject(
            f"{column.sql()} is not a column of a model table",
            f"{column.sql()} 不是模型中表的列",
        )


def _produced(source: exp.Expression) -> set[str] | None:
    """Names of the columns a derived source produces (None: cannot tell, e.g. `*`)."""
    if isinstance(source, exp.Query):
        names = source.named_selects
        return None if "*" in names else {n.lower() for n in names}
    alias = source.args.get("alias")
    if isinstance(alias, exp.TableAlias) and alias.columns:
        return {c.name.lower() for c in alias.columns}
    return None


def _bound_by_lambda(column: exp.Column) -> bool:
    name = column.name.lower()
    node = column.parent
    while node is not None:
        if isinstance(node, exp.Lambda) and name in {
            p.name.lower() for p in node.expressions if isinstance(p, exp.Expression)
        }:
            return True
        node = node.parent
    return False


def _is_alias_reference(column: exp.Column) -> bool:
    """An unqualified name in DISTINCT ON/ORDER BY/GROUP BY/HAVING/QUALIFY naming a select
    alias (sqlglot leaves those unqualified)."""
    clause: exp.Expression = column
    while clause.parent is not None and not isinstance(clause.parent, exp.Query):
        clause = clause.parent
    select = clause.parent
    if not isinstance(select, exp.Query) or clause.arg_key not in (
        "distinct",
        "order",
        "group",
        "having",
        "qualify",
    ):
        return False
    return column.name.lower() in {n.lower() for n in select.named_selects}


# --- the statement as DuckDB will read it ---------------------------------------------------------

_DUCKDB_LOCK = threading.Lock()
_DUCKDB: list[Any] = []  # one in-memory connection, made on first use

# DuckDB table reference and query node types an answer never needs.
DUCKDB_REFUSED_TYPES = {
    "SHOW_REF",
    "PIVOT",
    "COLUMN_DATA",
    "DELIM_GET",
    "BOUND_TABLE_REF",
    "RECURSIVE_CTE_NODE",
    "VALUE_PARAMETER",
}


def _duckdb_run(sql: str, *parameters: object) -> list[tuple[Any, ...]]:
    """Rows of `sql` on a private in-memory DuckDB (no database, no external access)."""
    import duckdb

    with _DUCKDB_LOCK:
        if not _DUCKDB:
            _DUCKDB.append(duckdb.connect(config={"enable_external_access": False}))
        cursor = _DUCKDB[0].cursor()
    try:
        return cursor.execute(sql, list(parameters)).fetchall()
    finally:
        cursor.close()


def _duckdb_tree(text: str) -> dict[str, Any]:
    """DuckDB's own parse tree of `text`: its parser, not sqlglot's."""
    return json.loads(_duckdb_run("SELECT json_serialize_sql(?)", text)[0][0])


_BUILTINS: list[frozenset[str]] = []


def _duckdb_builtins() -> frozenset[str]:
    """Scalar, aggregate, window and macro functions DuckDB has without loading anything.

    A name outside this set would make DuckDB autoload an extension — code from disk or the
    network — so it is refused however sqlglot spelled it.
    """
    if not _BUILTINS:
        rows = _duckdb_run(
            "SELECT DISTINCT lower(function_name) FROM duckdb_functions() "
            "WHERE function_type IN ('scalar', 'aggregate', 'window', 'macro')"
        )
        # UNNEST is a table function DuckDB also accepts in the select list.
        _BUILTINS.append(frozenset({"unnest", *(name for (name,) in rows)}))
    return _BUILTINS[0]


def _json_nodes(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _json_nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_nodes(item)


def _check_as_duckdb_reads_it(
    query: exp.Expression, allowed: list[str], max_rows: int, copy: bool = True
) -> str:
    """Render the guarded query exactly as it will run and check DuckDB's reading of it;
    the text checked.

    A second, independent parser: one SELECT, only allowed tables (or CTEs), no table
    function but UNNEST, no forbidden function, and a row cap on the outermost query. Any
    disagreement with what sqlglot saw is a refusal.
    """
    text = query.sql(dialect="duckdb", copy=copy)
    tree = _duckdb_tree(text)
    if tree.get("error"):
        detail = str(tree.get("error_message", "")).splitlines()[0][:200]
        _reject(
            f"DuckDB does not read the checked statement as one SELECT: {detail}",
            f"DuckDB 不把检查过的语句读作一条 SELECT：{detail}",
        )
    statements = tree.get("statements") or []
    if len(statements) != 1:
        _reject("exactly one statement is allowed", "只允许一条语句")
    root = statements[0]["node"]
    nodes = list(_json_nodes(root))
    names = set(allowed)
    for node in nodes:
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            names |= {str(entry.get("key", "")).lower() for entry in cte_map.get("map", [])}
    for node in nodes:
        kind = node.get("type")
        if kind in DUCKDB_REFUSED_TYPES:
            _reject(f"{kind} is not allowed", f"不允许 {kind}")
        if kind == "BASE_TABLE":
            table = str(node.get("table_name", ""))
            if node.get("schema_name") or node.get("catalog_name"):
                _reject(
                    f"{table}: other schemas are not allowed", f"{table}：不允许访问其他 schema"
                )
            if table.lower() not in names:
                _reject(f"table {table} is not in the model", f"表 {table} 不在模型中")
            if node.get("at_clause") or node.get("sample"):
                _reject(f"{table}: table options are not allowed", f"{table}：不允许表选项")
        if kind == "TABLE_FUNCTION":
            function = node.get("function") or {}
            name = str(function.get("function_name", "")).lower()
            if name != "unnest":
                _reject(f"table function {name} is not allowed", f"不允许表函数 {name}")
        if node.get("class") == "FUNCTION":
            name = str(node.get("function_name", "")).lower()
            if node.get("schema") or node.get("catalog"):
                qualified = ".".join(
                    str(part) for part in (node.get("catalog"), node.get("schema"), name) if part
                )
                _reject(
                    f"qualified function name {qualified} is not allowed",
                    f"不允许带限定名的函数 {qualified}",
                )
            if name in FORBIDDEN_FUNCTIONS or name.startswith(FORBIDDEN_PREFIXES):
                _reject(f"function {name} is not allowed", f"不允许函数 {name}")
            if name not in _duckdb_builtins():
                _reject(
                    f"function {name} is not built into DuckDB",
                    f"函数 {name} 不是 DuckDB 的内置函数",
                )
        if node.get("class") == "STAR" and node.get("expr"):
            _reject(
                "COLUMNS(...) is not allowed; name the columns", "不允许 COLUMNS(...)；请写出列名"
            )
        if node.get("sample"):
            _reject(
                "SAMPLE/TABLESAMPLE is not allowed: answers must be reproducible",
                "不允许 SAMPLE/TABLESAMPLE：答案必须可复现",
            )
        if node.get("type") == "LIMIT_MODIFIER" and node.get("limit_type") != "ROW_COUNT":
            _reject(
                "LIMIT … PERCENT is not allowed: give a number of rows",
                "不允许 LIMIT … PERCENT：请给出行数",
            )
    if not _duckdb_capped(root, max_rows):
        _reject("the row cap could not be applied", "无法加上行数上限")
    return text


def _duckdb_capped(root: dict[str, Any], max_rows: int) -> bool:
    """Whether DuckDB's outermost query node carries a constant LIMIT of at most max_rows."""
    for modifier in root.get("modifiers") or []:
        if modifier.get("type") != "LIMIT_MODIFIER" or modifier.get("limit_type") != "ROW_COUNT":
            continue
        limit = modifier.get("limit") or {}
        literal = limit.get("literal") or {}
        if limit.get("class") != "CONSTANT" or literal.get("kind") not in (
            "INTEGER",
            "BIGINT",
            "HUGEINT",
            "UBIGINT",
        ):
            continue
        try:
            if 0 <= int(literal.get("text", "")) <= max_rows:
                return True
        except ValueError:
            continue
    return False
