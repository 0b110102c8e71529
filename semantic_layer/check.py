"""`check_model`: does a model fit a database? Every column exists, every metric runs.

Loading validates a model on its own; this validates it against real data, which is what a
model author needs before anyone asks it a question: a typo in a column name must show up
here, with file:line, not as a database error in front of a manager.
"""

from __future__ import annotations

from pathlib import Path

from sqlglot import exp

from semantic_layer.catalog import catalog
from semantic_layer.compiler import compile_for
from semantic_layer.engine import Engine
from semantic_layer.errors import CockpitError, Issue, closest
from semantic_layer.expressions import columns_of, parse_expr, qualify
from semantic_layer.loader import Locations, read_model_located
from semantic_layer.model import MetricKind, SemanticModel
from semantic_layer.query import SemanticQuery


def check_model(
    source: str | Path | None, engine: Engine
) -> tuple[SemanticModel | None, list[Issue]]:
    """Load `source` and check it against `engine`'s schema and data; return every issue."""
    model, issues, locations = read_model_located(source)
    if model is None or any(i.severity == "error" for i in issues):
        return model, issues
    issues.extend(check_against_database(model, engine, locations))
    return model, issues


def check_against_database(
    model: SemanticModel, engine: Engine, where: Locations | None = None
) -> list[Issue]:
    """Columns and tables the model names must exist; each metric must compile and run."""
    where = where or Locations()
    schema = engine.schema()
    issues: list[Issue] = []

    def need(table: str, column: str | None, path: tuple) -> None:
        if table not in schema:
            issues.append(where.issue("unknown_table", path, closest(table, schema), name=table))
        elif column is not None and column not in schema[table]:
            issues.append(
                where.issue(
                    "unknown_column",
                    path,
                    closest(column, schema[table]),
                    table=table,
                    name=column,
                )
            )

    def need_expr(text: str, table: str, path: tuple) -> None:
        for column in columns_of(qualify(parse_expr(text), table)):
            need(column.table, column.name, path)

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
            need_expr(source.expr, source.table, ("dimensions", index, "expr"))
        if dim.value_label_en and dim.table:
            need_expr(dim.value_label_en, dim.table, ("dimensions", index, "value_label_en"))
    for index, metric in enumerate(model.metrics):
        if metric.kind is MetricKind.simple and metric.table:
            for field in ("expr", "filter", "time"):
                text = getattr(metric, field)
                if text:
                    need_expr(text, metric.table, ("metrics", index, field))
    if issues:
        return issues  # running metrics over missing columns would only repeat these

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

    cat = catalog(model)
    for index, metric in enumerate(model.metrics):
        dims = ["metric_time:month"] if cat.uses_period_days(metric.name) else []
        query = SemanticQuery(metrics=[metric.name], dimensions=dims, limit=1)
        try:
            engine.execute(compile_for(engine, model, query).ast)
        except CockpitError as err:
            issues.append(
                where.issue(
                    "check_failed", ("metrics", index), metric=metric.name, detail=err.message("en")
                )
            )
    return issues
