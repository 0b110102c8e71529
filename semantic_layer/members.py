"""The members of a dimension, read the way a query reads the dimension.

The parser's value names, the board's filter choices, the counts that pick default breakdowns
and the English names of alert members all list a dimension's members. They read them through
the compiler's listing (a query with the dimension and no metric), never as a hand-built
`SELECT DISTINCT <expr> FROM <table>`, so whatever a query would apply applies here too: a
role dimension's `where` (agents are the parties in the agent role, not every party), a
conformed or computed expression, and — when the engine is a `SecuredEngine` — the caller's
row filters and masks. One statement builder serves every caller, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlglot import exp

from semantic_layer.compiler import compile_query
from semantic_layer.expressions import parse_expr, qualify, tables_of
from semantic_layer.model import SemanticModel
from semantic_layer.query import Filter, SemanticQuery


def _sources(select: exp.Select) -> set[str]:
    """The names the statement's FROM and joins make readable (tables or aliases), lowered."""
    found: list[exp.Expression] = []
    source = select.args.get("from_") or select.args.get("from")  # named per sqlglot version
    if source is not None:
        found.append(source.this)
    found += [join.this for join in select.args.get("joins") or []]
    return {node.alias_or_name.lower() for node in found}


def _english(model: SemanticModel, dimension: str, select: exp.Select) -> exp.Expression | None:
    """The dimension's English-name column over the listing's tables (a role's alias for its
    table), or None when it has none or the listing does not reach what it reads."""
    dim = model.dimension(dimension)
    if not dim.value_label_en or dim.table is None:
        return None
    alias = {table: name for name, table in dim.role_aliases.items()}

    def rename(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.table in alias:
            return exp.column(node.name, table=alias[node.table])
        return node

    english = qualify(parse_expr(dim.value_label_en), dim.table).transform(rename)
    if not {t.lower() for t in tables_of(english)} <= _sources(select):
        return None
    return english


def members_statement(
    model: SemanticModel,
    dimension: str,
    limit: int | None = None,
    english: bool = False,
    values: Iterable[object] | None = None,
    dialect: str = "duckdb",
) -> exp.Select:
    """`SELECT DISTINCT <member>[, <English name>] … WHERE <member> IS NOT NULL ORDER BY 1`.

    Built from `compile_query` of the dimension alone, so a role's condition and any
    expression the dimension has are the compiler's. `limit` caps the members (None: all,
    unordered — for counting); `values` keeps only those members (their English names).
    Raises `QueryError` when the model cannot list the dimension."""
    filters = [Filter(dimension=dimension, op="in", values=list(values))] if values else []
    query = SemanticQuery(metrics=[], dimensions=[dimension], filters=filters)
    select = compile_query(model, query, dialect).ast
    member = select.expressions[0].unalias()
    select = select.where(exp.Not(this=exp.Is(this=member.copy(), expression=exp.Null())))
    if english:
        name = _english(model, dimension, select)
        if name is not None:
            select = select.select(name)
    if limit is None:
        select.set("order", None)
        select.set("limit", None)
        return select
    # The listing caps at what a person reads; callers here keep their own (larger) caps.
    return select.limit(limit)


def read_members(
    model: SemanticModel,
    engine: Any,
    dimension: str,
    limit: int | None = None,
    english: bool = False,
    values: Iterable[object] | None = None,
) -> list[tuple[Any, ...]]:
    """The rows of `members_statement` run on `engine` (member first, English name second
    when asked for and the model has one), sorted by member unless `limit` is None."""
    dialect = getattr(engine, "dialect", "duckdb")
    statement = members_statement(model, dimension, limit, english, values, dialect)
    return [tuple(row) for row in engine.execute(statement).rows]


def count_members(model: SemanticModel, engine: Any, dimension: str) -> int:
    """How many distinct members (not NULL) the dimension has as `engine` sees the data."""
    dialect = getattr(engine, "dialect", "duckdb")
    listing = members_statement(model, dimension, None, dialect=dialect)
    statement = exp.select(exp.Count(this=exp.Star())).from_(listing.subquery("members"))
    return int(engine.execute(statement).scalar() or 0)
