"""`check_model`: does a model fit a database? Every column exists, every metric runs.

Loading validates a model on its own; this validates it against real data, which is what a
model author needs before anyone asks it a question: a typo in a column name must show up
here, with file:line, not as a database error in front of a manager.

A model is text that someone else may have written, and checking it runs its expressions. So
nothing runs before every expression passed the load-time safety rules, and every statement
check builds — a probe of a dimension, a compiled metric — is a sqlglot AST that passes
`guard_ast` with the model's tables and the database schema before it reaches the database,
exactly as a question's SQL does. The members the probes read also sharpen the role-policy
leak warnings of `validate.policy_leaks`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from semantic_layer.catalog import catalog
from semantic_layer.compiler import compile_for
from semantic_layer.engine import Engine, Result
from semantic_layer.errors import CockpitError, Issue, closest
from semantic_layer.expressions import columns_of, parse_expr, qualify
from semantic_layer.guard import SQLRejected, guard_ast
from semantic_layer.loader import Locations, read_model_located
from semantic_layer.model import MetricKind, SemanticModel
from semantic_layer.query import SemanticQuery
from semantic_layer.validate import (
    ModelExpression,
    model_expressions,
    policy_leaks,
    rejection,
    unsafe_expressions,
    unsafe_issue,
)

# A category with more distinct values than this names entities (customers), not kinds of
# data: its members are not read for the leak warnings.
MEMBER_LIMIT = 1000


def check_model(
    source: str | Path | None, engine: Engine
) -> tuple[SemanticModel | None, list[Issue]]:
    """Load `source` and check it against `engine`'s schema and data; return every issue."""
    model, issues, locations = read_model_located(source)
    if model is None or any(i.severity == "error" for i in issues):
        return model, issues
    found = check_against_database(model, engine, locations)
    # The database's members only add to the model's own: its leak warnings replace loading's.
    return model, [i for i in issues if i.code != "policy_leak"] + found


class _Runner:
    """Runs check's statements the way questions run: guarded first, then executed."""

    def __init__(self, model: SemanticModel, engine: Engine, where: Locations) -> None:
        self.engine = engine
        self.where = where
        self.tables = [t.name for t in model.tables]
        wanted = {name.lower() for name in self.tables}
        self.schema = {t: c for t, c in engine.schema().items() if t.lower() in wanted}
        self.issues: list[Issue] = []

    def run(self, statement: exp.Query, item: ModelExpression, max_rows: int = 1) -> Result | None:
        """Guard and run one statement built from `item`; on refusal or failure, an issue."""
        try:
            guarded = guard_ast(
                statement,
                self.tables,
                max_rows=max_rows,
                dialect=self.engine.dialect,
                schema=self.schema,
            )
        except SQLRejected as err:
            self.issues.append(unsafe_issue(item, self.where, rejection(err)))
            return None
        try:
            return self.engine.execute(guarded)
        except CockpitError as err:
            if item.kind == "metric":
                code, params = "check_failed", {"metric": item.name}
            else:
                code, params = "dimension_check_failed", {"dimension": item.name}
            self.issues.append(item.issue(code, self.where, detail=err.message("en"), **params))
            return None


class _Names:
    """How the database matches a model's identifier to a stored name, by its dialect's rule.

    A model imported from dbt may say `claim_identifier` where the table was loaded with
    `Claim_Identifier`. DuckDB matches identifiers case-insensitively, so the query runs and
    that is no error; PostgreSQL folds an unquoted name to lower case and then matches
    exactly, so there the same difference is one. sqlglot knows each dialect's rule.
    """

    def __init__(self, dialect: str) -> None:
        self.dialect = Dialect.get_or_raise(dialect)

    def key(self, name: exp.Identifier | str, stored: bool = False) -> str:
        """`name` as the database compares it: a stored name acts as a quoted identifier."""
        if isinstance(name, exp.Identifier):
            node = name.copy()
        else:
            node = exp.to_identifier(name, quoted=stored or None)
        if stored:
            node.set("quoted", True)
        return self.dialect.normalize_identifier(node).name

    def resolve(self, name: exp.Identifier | str, stored: Iterable[str]) -> list[str]:
        """The stored names `name` refers to by the dialect's rule (one: resolved; several:
        ambiguous; none: missing)."""
        wanted = self.key(name)
        return [s for s in stored if self.key(s, stored=True) == wanted]


def _members_statement(item: ModelExpression, label_en: str | None) -> exp.Query:
    """`SELECT DISTINCT <expr>[, <English label>] FROM <table> WHERE <expr> IS NOT NULL`."""
    assert item.table is not None
    member = qualify(parse_expr(item.text), item.table)
    columns: list[exp.Expression] = [member]
    if label_en:
        columns.append(qualify(parse_expr(label_en), item.table))
    return (
        exp.select(*columns)
        .distinct()
        .from_(exp.to_table(item.table))
        .where(exp.Not(this=exp.Is(this=member.copy(), expression=exp.Null())))
    )


def _role_repeats(model: SemanticModel, runner: _Runner, where: Locations) -> list[Issue]:
    """A role dimension promises one row per key in its role (one agent per policy): keys
    with several rows there would count their facts once per row, so each is an error."""
    issues: list[Issue] = []
    for index, dim in enumerate(model.dimensions):
        if dim.where is None or dim.table is None:
            continue
        item = ModelExpression(
            "dimension", dim.name, ("dimensions", index, "where"), dim.where, dim.table
        )
        keysets = {tuple(b for _, b in j.on) for j in model.role_joins if j.to == dim.role_table}
        for keys in sorted(keysets):
            columns = [exp.column(k, table=dim.table) for k in keys]
            present = [exp.Not(this=exp.Is(this=c.copy(), expression=exp.Null())) for c in columns]
            repeated = (
                exp.select(*columns)
                .from_(exp.to_table(dim.table))
                .where(exp.and_(qualify(parse_expr(dim.where), dim.table), *present))
                .group_by(*(c.copy() for c in columns))
                .having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)))
            )
            statement = exp.select(exp.Count(this=exp.Star())).from_(
                repeated.subquery("repeated"), copy=False
            )
            result = runner.run(statement, item)
            count = result.rows[0][0] if result is not None and result.rows else 0
            if count:
                detail = (
                    f"{count} value(s) of {', '.join(keys)} have several rows of {dim.table} "
                    f"in this role ({dim.where}); a role joins one row per key"
                )
                issues.append(
                    item.issue("dimension_check_failed", where, dimension=dim.name, detail=detail)
                )
    return issues


def check_against_database(
    model: SemanticModel, engine: Engine, where: Locations | None = None
) -> list[Issue]:
    """Columns and tables the model names must exist; each expression and metric must pass the
    guard and run; role policies must not leave what they hide readable elsewhere."""
    where = where or Locations()
    unsafe = unsafe_expressions(model, where)
    if unsafe:
        # Nothing of a model runs until every expression of it is one the guard would accept.
        return unsafe + policy_leaks(model, where)
    schema = engine.schema()
    issues: list[Issue] = []
    names = _Names(engine.dialect)

    def need(table: str, column: exp.Identifier | str | None, path: tuple) -> None:
        found = names.resolve(table, schema)
        if len(found) != 1:
            hint = found or closest(table, schema)
            issues.append(where.issue("unknown_table", path, hint, name=table))
            return
        if column is None:
            return
        columns = schema[found[0]]
        matches = names.resolve(column, columns)
        if len(matches) != 1:
            name = column.name if isinstance(column, exp.Identifier) else column
            hint = matches or closest(name, columns)
            issues.append(where.issue("unknown_column", path, hint, table=table, name=name))

    def need_expr(text: str, table: str, path: tuple) -> None:
        for column in columns_of(qualify(parse_expr(text), table)):
            need(column.table, column.this, path)

    for index, table in enumerate(model.tables):
        need(table.name, None, ("tables", index, "name"))
        for key in table.primary_key:
            need(table.name, key, ("tables", index, "primary_key"))
        if table.time_column:
            need(table.name, table.time_column, ("tables", index, "time_column"))
    for index, join in enumerate(model.joins):
        for left, right in join.on:
            need(join.from_table, left, ("joins", index, "on"))
            need(join.to, right, ("joins", index, "on"))
    for index, dim in enumerate(model.dimensions):
        for source in dim.all_sources:
            if dim.where and dim.table and dim.expr:  # as written, over the role's own table
                need_expr(dim.expr, dim.table, ("dimensions", index, "expr"))
                continue
            need_expr(source.expr, source.table, ("dimensions", index, "expr"))
        if dim.where and dim.table:
            need_expr(dim.where, dim.table, ("dimensions", index, "where"))
        if dim.value_label_en and dim.table:
            need_expr(dim.value_label_en, dim.table, ("dimensions", index, "value_label_en"))
    for index, metric in enumerate(model.metrics):
        if metric.kind is MetricKind.simple and metric.table:
            for field in ("expr", "filter", "time"):
                text = getattr(metric, field)
                if text:
                    need_expr(text, metric.table, ("metrics", index, field))
    if issues:
        # Running metrics over missing columns would only repeat these.
        return issues + policy_leaks(model, where)

    for index, join in enumerate(model.joins):
        if not join.required:
            continue
        condition = exp.and_(
            *(
                exp.EQ(
                    this=exp.column(a, table=join.from_table), expression=exp.column(b, table="m")
                )
                for a, b in join.on
            )
        )
        orphans = (
            exp.select(exp.Count(this=exp.Star()))
            .from_(join.from_table)
            .join(
                exp.alias_(exp.to_table(join.to), "m", table=True), on=condition, join_type="left"
            )
            .where(exp.Is(this=exp.column(join.on[0][1], table="m"), expression=exp.Null()))
        )
        count = engine.execute(orphans).scalar()
        if count:
            issues.append(
                where.issue(
                    "join_orphans",
                    ("joins", index),
                    from_table=join.from_table,
                    to=join.to,
                    count=count,
                )
            )

    runner = _Runner(model, engine, where)
    issues += _role_repeats(model, runner, where)
    # Each dimension expression runs alone; a category's distinct members (with their English
    # labels) are read on the way, for the leak warnings.
    members: dict[str, dict[str, list[str]]] = {}
    for item in model_expressions(model):
        if item.kind != "dimension":
            continue
        dim = model.dimension(item.name)
        if dim.type != "category" or item.path[-1] in ("value_label_en", "where"):
            runner.run(item.probe(), item)
            continue
        label_en = dim.value_label_en if item.table == dim.table else None
        statement = _members_statement(item, label_en)
        if dim.where is not None:
            # A role's members are those in the role, read through its joins, as asked.
            listing = SemanticQuery(metrics=[], dimensions=[dim.name])
            try:
                statement = compile_for(engine, model, listing).ast
            except CockpitError as err:
                detail = err.message("en")
                issues.append(
                    item.issue("dimension_check_failed", where, dimension=dim.name, detail=detail)
                )
                continue
        result = runner.run(statement, item, max_rows=MEMBER_LIMIT + 1)
        if result is None or len(result.rows) > MEMBER_LIMIT:
            continue
        found = members.setdefault(dim.name, {})
        for row in result.rows:
            words = found.setdefault(str(row[0]), [])
            if len(row) > 1 and row[1] is not None:
                words.append(str(row[1]))

    cat = catalog(model)
    for index, metric in enumerate(model.metrics):
        dims = ["metric_time:month"] if cat.uses_period_days(metric.name) else []
        query = SemanticQuery(metrics=[metric.name], dimensions=dims, limit=1)
        item = ModelExpression("metric", metric.name, ("metrics", index), metric.expr, None)
        try:
            compiled = compile_for(engine, model, query).ast
        except CockpitError as err:
            issues.append(
                item.issue("check_failed", where, metric=metric.name, detail=err.message("en"))
            )
            continue
        runner.run(compiled, item)
    issues.extend(runner.issues)
    issues.extend(policy_leaks(model, where, members))
    return issues
