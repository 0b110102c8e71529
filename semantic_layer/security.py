"""Row-level security and column masking, enforced by rewriting the SQL AST.

Every reference to a model table — in the main query, a CTE, a subquery, a join or a UNION
branch, compiled or written by an LLM — is replaced by a filtered, masked view of that table:

    FROM orders o          →   FROM (SELECT * REPLACE (…) FROM orders WHERE <role filter>) AS o

so no construct can reach a row or a value the role may not see: the filter travels with the
table, not with the query around it. A role's filter on a dimension (region = 华东) applies to
every table that can reach that dimension through the model's joins, as a semi-join along the
join path; fact tables that cannot reach it are denied (fail closed) unless the rule says
otherwise. Masked dimensions keep their grouping but show a stable pseudonym instead of the
value (keyed, see `pseudonyms.py`); columns behind denied metrics read as NULL.

Nothing in the SQL text says what is secured: every model table found in the statement is
rewritten, whatever comments or metadata the statement carries. The tables inside the views
we insert are never revisited because the targets are collected before any rewrite.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache

from sqlglot import exp

from semantic_layer.catalog import catalog
from semantic_layer.compiler import role_view
from semantic_layer.errors import ExecutionError, QueryError
from semantic_layer.expressions import columns_of, parse_expr, qualify
from semantic_layer.model import Role, RowFilter, SemanticModel
from semantic_layer.pseudonyms import installation_secret, pseudonym
from semantic_layer.snapshots import SnapshotDates


@dataclass(frozen=True)
class TablePolicy:
    """What one role may see of one table."""

    condition: exp.Expression | None = None  # rows kept (None: all)
    masked: dict[str, exp.Expression] = field(default_factory=dict)  # column → replacement
    deny: bool = False


def role_of(model: SemanticModel, name: str | None) -> Role | None:
    """The role called `name` (None: unrestricted); an unknown role is an error, not a bypass."""
    if name is None:
        return None
    for role in model.roles:
        if role.name == name:
            return role
    raise QueryError("unknown_role", name=name, roles=", ".join(r.name for r in model.roles) or "-")


def _literal(value: object) -> exp.Expression:
    if isinstance(value, bool | int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def _semi_join(model: SemanticModel, table: str, rule: RowFilter) -> exp.Expression | None:
    """`table`'s rows whose `rule.dimension` passes, along the shortest join path."""
    use = catalog(model).dimension_use(rule.dimension, table)
    if use is None:
        return None
    # A category's members are text: 1000 in YAML still means the member '1000'.
    text = model.dimension(rule.dimension).type == "category"
    values = [exp.Literal.string(str(v)) if text else _literal(v) for v in rule.values]
    condition: exp.Expression = exp.In(this=use.expr.copy(), expressions=values)
    if rule.op == "not_in":
        # NULL-safe: a row with no value is outside "not 工资薪酬"? Keep it: it is not 工资薪酬.
        condition = exp.or_(
            exp.Not(this=condition), exp.Is(this=use.expr.copy(), expression=exp.Null())
        )
    joins = catalog(model).graph.paths_from(table)[use.table].joins
    # Walk the path backwards: the innermost subquery selects keys of the dimension's table.
    for join in reversed(joins):
        left = [exp.column(a, table=join.from_table) for a, _ in join.on]
        right = [exp.column(b, table=join.to) for _, b in join.on]
        # A role's rows (agent: the party in role AG) are the filtered table, not all of it.
        source = role_view(model, join.to) if join.to in model.role_sources else join.to
        inner = exp.select(*right).from_(source).where(condition)
        key = left[0] if len(left) == 1 else exp.Tuple(expressions=left)
        condition = key.isin(query=inner)
    return condition


@lru_cache(maxsize=256)
def _policies(model_id: int, role_name: str, secret: bytes, dialect: str) -> dict[str, TablePolicy]:
    model, role = _MODELS[model_id], None
    for candidate in model.roles:
        if candidate.name == role_name:
            role = candidate
    assert role is not None
    facts = {m.table for m in model.metrics if m.table}
    out: dict[str, TablePolicy] = {}
    for table in model.tables:
        conditions, deny = [], False
        for rule in role.row_filters:
            condition = _semi_join(model, table.name, rule)
            if condition is not None:
                conditions.append(condition)
            elif rule.elsewhere == "deny" and table.name in facts:
                deny = True
        masked: dict[str, exp.Expression] = {}
        for name in role.masked_dimensions:
            dim = model.dimension(name)
            for source in dim.all_sources:
                if dim.physical(source.table) != table.name:
                    continue
                for column in columns_of(qualify(parse_expr(source.expr), source.table)):
                    masked[column.name] = pseudonym(column.name, dim.label.zh, secret, dialect)
        for metric_name in role.denied_metrics:
            for leaf in catalog(model).leaves(metric_name):
                resolved = catalog(model).leaf(leaf)
                for column in columns_of(resolved.expr):
                    if column.table == table.name:
                        masked[column.name] = exp.Null()
        for qualified in role.masked_columns:
            owner, _, column = qualified.partition(".")
            if owner.lower() == table.name.lower():
                masked[column] = exp.Null()
        condition = exp.and_(*conditions) if conditions else None
        out[table.name.lower()] = TablePolicy(condition, masked, deny)
    return out


_MODELS: dict[int, SemanticModel] = {}


def policies(
    model: SemanticModel, role: Role, secret: bytes | None = None, dialect: str = "duckdb"
) -> dict[str, TablePolicy]:
    """Per-table policies of a role (computed once per model, role, secret and dialect).

    `secret` keys the pseudonyms of masked dimensions (default: the installation's)."""
    _MODELS[id(model)] = model
    if secret is None:
        secret = installation_secret() if role.masked_dimensions else b""
    return _policies(id(model), role.name, secret, dialect)


def _secured_view(
    table: exp.Table, policy: TablePolicy, columns: list[str] | None = None
) -> exp.Expression:
    name = table.name
    alias = table.alias or name
    if policy.deny:
        where: exp.Expression | None = exp.false()
    else:
        where = policy.condition.copy() if policy.condition is not None else None
    star: exp.Expression = exp.Star()
    projections = [star]
    if policy.masked and columns is not None:
        # Spelled out for databases without DuckDB's `* REPLACE` (PostgreSQL).
        masked = {column.lower(): value for column, value in policy.masked.items()}
        projections = [
            exp.alias_(masked[c.lower()].copy(), c) if c.lower() in masked else exp.column(c)
            for c in columns
        ]
    elif policy.masked:
        replace = [exp.alias_(value.copy(), column) for column, value in policy.masked.items()]
        projections = [exp.Star(replace=replace)]
    inner = exp.select(*projections).from_(exp.to_table(name))
    if where is not None:
        inner = inner.where(where)
    return exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias)))


def apply_row_security(
    query: exp.Expression,
    model: SemanticModel,
    role: Role | None,
    copy: bool = True,
    schema: dict[str, dict[str, str]] | None = None,
    secret: bytes | None = None,
    dialect: str = "duckdb",
) -> exp.Expression:
    """Replace every model table in `query` by the role's filtered, masked view of it
    (in a copy, unless `copy` is False and the caller owns `query`). With `schema`
    ({table: {column: type}}) masked views list their columns instead of `* REPLACE`."""
    if role is None:
        return query
    query = query.copy() if copy else query
    _rewrite(query, model, role, schema, secret, dialect)
    return query


def _rewrite(
    query: exp.Expression,
    model: SemanticModel,
    role: Role,
    schema: dict[str, dict[str, str]] | None,
    secret: bytes | None,
    dialect: str,
) -> int:
    """`apply_row_security` in place; how many table references it replaced."""
    table_policies = policies(model, role, secret, dialect)
    tables = {name.lower(): list(cols) for name, cols in (schema or {}).items()}
    ctes = {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}
    # Collected before any rewrite, so the tables inside the views we insert are not revisited;
    # no mark in the tree decides what is secured (SQL text can set node metadata).
    targets = [
        t
        for t in query.find_all(exp.Table)
        if t.name.lower() not in ctes
        # Identifiers are case-insensitive in SQL (ORDERS, "Orders" are orders): match lowered.
        and t.name.lower() in table_policies
        and not isinstance(t.parent, exp.Column)
    ]
    replaced = 0
    for table in targets:
        policy = table_policies[table.name.lower()]
        if policy.condition is None and not policy.masked and not policy.deny:
            continue
        columns = tables.get(table.name.lower()) if policy.masked else None
        table.replace(_secured_view(table, policy, columns))
        replaced += 1
    return replaced


# When the question being answered must be done (time.monotonic()), and its whole limit.
_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("cockpit_deadline", default=None)


@contextmanager
def question_deadline(seconds: float | None) -> Iterator[None]:
    """Every statement run for one question shares `seconds`: an explanation's dozens of
    statements, a summary's, an LLM's repairs — none renews the time limit."""
    if not seconds:
        yield
        return
    token = _DEADLINE.set((time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _time_left(timeout: float | None) -> float | None:
    """The statement's limit: what the caller gives, capped by what is left of the question's."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline[0] - time.monotonic()
    if left <= 0:
        raise ExecutionError("query_timeout", seconds=round(deadline[1], 1))
    return left if timeout is None else min(timeout, left)


class SecuredEngine:
    """An engine that guards every statement and applies a role's security before running it.

    The Assistant talks only to this, so compiled queries, explanations, summaries, alerts and
    LLM-written SQL all pass the same gate. Two entry points, by trust: `execute` takes ASTs our
    own compiler built (and, as text, anything else), `execute_untrusted` takes SQL text from
    outside — an LLM, a user — which is parsed with comments and metadata dropped and has every
    column checked against the schema. Neither consults anything the statement says about itself.
    """

    def __init__(
        self,
        engine,
        model: SemanticModel,
        role: str | None = None,
        max_rows: int = 100_000,
        secret: bytes | None = None,
    ) -> None:
        self.engine = engine
        self.model = model
        self.role = role_of(model, role)
        self.max_rows = max_rows
        self.dialect = engine.dialect
        self.tables = [t.name for t in model.tables]
        self._schema: dict[str, dict[str, str]] | None = None
        # Keyed pseudonyms: the installation's secret unless one is given (tests, embedding).
        self.secret = secret
        # The role's own snapshot dates (read through its row filters), like the subquery's.
        self.snapshots = SnapshotDates(self) if getattr(engine, "snapshots", None) else None

    def data_version(self):
        """The data version of the engine underneath (None if it has none)."""
        version = getattr(self.engine, "data_version", None)
        return version() if version else None

    @property
    def path(self):
        """The database file (for display: where the answers come from)."""
        return getattr(self.engine, "path", None)

    def schema(self) -> dict[str, dict[str, str]]:
        if self._schema is None:
            full = self.engine.schema()
            self._schema = {t: c for t, c in full.items() if t in self.tables}
        return self._schema

    def secure(self, sql: str | exp.Expression) -> exp.Expression:
        """The statement as it will run: guarded, capped, rewritten for the role.

        Text is untrusted (every column checked); an AST is our compiler's (its columns come
        from the model, which `cockpit check` verified)."""
        return self._secured(sql)[0]

    def _secured(self, sql: str | exp.Expression) -> tuple[exp.Expression, str]:
        """`secure`, and the text to run: the very text the guard had DuckDB check when the
        role rewrote nothing (no second rendering), else the secured statement rendered."""
        from semantic_layer.guard import checked_ast, checked_sql

        if isinstance(sql, exp.Expression):
            guarded = checked_ast(sql.copy(), self.tables, self.max_rows, self.dialect)
        else:
            guarded = checked_sql(
                sql, self.tables, self.max_rows, self.dialect, schema=self.schema()
            )
        query = guarded.query
        replaced = 0
        if self.role is not None:
            # DuckDB masks with `* REPLACE`; other databases need the columns spelled out.
            schema = self.schema() if self.dialect != "duckdb" else None
            replaced = _rewrite(query, self.model, self.role, schema, self.secret, self.dialect)
        if not replaced and guarded.text is not None:
            return query, guarded.text
        # `query` is our own copy: render it without sqlglot's defensive copy of the tree.
        return query, query.sql(dialect=self.dialect, copy=False)

    def execute(self, sql: str | exp.Expression, timeout: float | None = None):
        """Guard, secure, run (`timeout`: seconds left for this statement, if less than the
        engine's own limit — a question's deadline across several statements)."""
        text = self._secured(sql)[1]
        timeout = _time_left(timeout)
        if timeout is not None and _takes_timeout(self.engine):
            return self.engine.execute(text, timeout=timeout)
        return self.engine.execute(text)

    def execute_untrusted(self, sql: str, timeout: float | None = None):
        """SQL text from outside (an LLM): the same gate, never an AST that could carry marks."""
        if not isinstance(sql, str):
            raise TypeError("untrusted SQL must be text")
        return self.execute(sql, timeout=timeout)

    def close(self) -> None:
        self.engine.close()


def _takes_timeout(engine) -> bool:
    import inspect

    try:
        return "timeout" in inspect.signature(engine.execute).parameters
    except (TypeError, ValueError):
        return False
