"""Fit a model's time columns to the database it runs on.

A model says "claims are dated by `claim_open_date`"; the database may store that column as
text ('2019-03-01', or empty) or as an integer year (2019). Comparing such a column with a
date is a database error (DuckDB: "Cannot compare values of type VARCHAR and type DATE"), and
truncating it to a month is meaningless. Rather than fail every question, the model's time
expressions are rewritten once, when an engine is opened, to read as dates:

    text column      →  TRY_CAST(col AS DATE)      (an unreadable value is no date, not an error)
    integer year     →  MAKE_DATE(col, 1, 1)       (the year as its first day)

Every rewrite is reported, so `cockpit check` and the answer's 口径 can say what was read how.
"""

from __future__ import annotations

from sqlglot import exp

from semantic_layer.expressions import parse_expr, qualify
from semantic_layer.model import Dimension, Metric, SemanticModel

TEXT = ("VARCHAR", "TEXT", "STRING", "CHAR")
INTEGER = ("INTEGER", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "INT")


def _kind(node: exp.Expression, table: str, schema: dict[str, dict[str, str]]) -> str | None:
    """The database type of a bare column expression (None: an expression, or unknown)."""
    column = qualify(node, table)
    if not isinstance(column, exp.Column):
        return None
    columns = {c.lower(): t for c, t in schema.get(column.table or table, {}).items()}
    if not columns:  # table names differ only in case
        for name, cols in schema.items():
            if name.lower() == (column.table or table).lower():
                columns = {c.lower(): t for c, t in cols.items()}
    kind = columns.get(column.name.lower())
    return kind.upper() if kind else None


def _as_date(text: str, table: str, schema: dict[str, dict[str, str]]) -> str | None:
    """`text` rewritten to read as a date, or None when it already does (or is not a column)."""
    try:
        node = parse_expr(text)
    except Exception:  # the validator reports unparsable expressions; nothing to adapt here
        return None
    kind = _kind(node, table, schema)
    if kind is None:
        return None
    if kind.startswith(TEXT):
        return exp.TryCast(this=node, to=exp.DataType.build("DATE")).sql()
    if kind.startswith(INTEGER):
        one = exp.Literal.number(1)
        return exp.func("make_date", node, one, one).sql()
    return None


def adapt_time_columns(
    model: SemanticModel, schema: dict[str, dict[str, str]]
) -> tuple[SemanticModel, list[str]]:
    """The model with every metric's time column and every time dimension read as a date,
    and one line per rewrite (empty when nothing needed it; then the model is returned as is)."""
    notes: list[str] = []
    metrics: list[Metric] = []
    for metric in model.metrics:
        if metric.table and metric.time:
            fixed = _as_date(metric.time, metric.table, schema)
            if fixed is not None:
                notes.append(f"metric {metric.name}: time {metric.time} read as {fixed}")
                metric = metric.model_copy(update={"time": fixed})
        metrics.append(metric)
    dimensions: list[Dimension] = []
    for dim in model.dimensions:
        if dim.type == "time" and dim.table and dim.expr:
            fixed = _as_date(dim.expr, dim.table, schema)
            if fixed is not None:
                notes.append(f"dimension {dim.name}: {dim.expr} read as {fixed}")
                dim = dim.model_copy(update={"expr": fixed})
        dimensions.append(dim)
    if not notes:
        return model, notes
    # A new model, not `model_copy`: its cached look-ups (metric_map…) must be built afresh.
    fields = {name: getattr(model, name) for name in type(model).model_fields}
    fields.update(metrics=metrics, dimensions=dimensions)
    return type(model)(**fields), notes


def drop_fanout_joins(model: SemanticModel, engine) -> tuple[SemanticModel, list[str]]:
    """The model without the joins the data contradicts: a join is many-to-one only if the
    keys it lands on are unique in `to`. Where they repeat (two rows per agreement), every
    number reached through it would be counted twice — so the join is left out (what needs it
    is refused as unrelated) and said, instead of doubling numbers silently."""
    from semantic_layer.errors import CockpitError

    keep, notes = [], []
    for join in model.joins:
        keys = [exp.column(b, table=join.to) for _, b in join.on]
        distinct = exp.Count(
            this=exp.Distinct(
                expressions=[keys[0] if len(keys) == 1 else exp.Tuple(expressions=keys)]
            )
        )
        rows = exp.Count(this=exp.Star())
        probe = (
            exp.select(rows, distinct)
            .from_(join.to)
            .where(
                exp.and_(
                    *(exp.Not(this=exp.Is(this=k.copy(), expression=exp.Null())) for k in keys)
                )
            )
        )
        try:
            total, unique = engine.execute(probe).rows[0]
        except CockpitError:
            keep.append(join)
            continue
        if total and unique is not None and unique < total:
            notes.append(
                f"join {join.from_table} → {join.to} left out: {join.to} has {total - unique} "
                f"repeated key(s) on {', '.join(b for _, b in join.on)}, so it is not many-to-one"
            )
            continue
        keep.append(join)
    if not notes:
        return model, notes
    fields = {name: getattr(model, name) for name in type(model).model_fields}
    fields["joins"] = keep
    return type(model)(**fields), notes
