"""SQL fragments written in a model (metric expressions, fixed filters, dimension columns).

Model authors write small SQL expressions in YAML; we parse them once with sqlglot and only
ever handle them as ASTs, so the compiler can qualify, substitute and transpile them.
"""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp

MODEL_DIALECT = "duckdb"

# A pseudo-column usable in derived metrics: the number of days in the period being reported.
PERIOD_DAYS = "period_days"


@lru_cache(maxsize=4096)
def _parse(text: str) -> exp.Expression:
    return sqlglot.parse_one(text, dialect=MODEL_DIALECT, into=exp.Condition)


def parse_expr(text: str) -> exp.Expression:
    """Parse a model expression; raises sqlglot.errors.ParseError on bad text."""
    return _parse(text).copy()


def columns_of(node: exp.Expression) -> list[exp.Column]:
    """Every column referenced by an expression."""
    return list(node.find_all(exp.Column))


def qualify(node: exp.Expression, default_table: str) -> exp.Expression:
    """Give every unqualified column the table it belongs to (the metric's or dimension's)."""

    def _fix(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and not n.table:
            return exp.column(n.name, table=default_table)
        return n

    return node.copy().transform(_fix)


def tables_of(node: exp.Expression) -> set[str]:
    """Tables a qualified expression reads."""
    return {c.table for c in columns_of(node) if c.table}
