"""Listing questions: members of dimensions, with no metric ("list all stores", 有哪些产品).

MetricFlow lets a query ask for dimensions alone; so does Cockpit. The statement reads the
distinct combinations of the asked dimensions from the one table they can all be reached from
(along the model's many-to-one joins), filtered like any query, sorted, capped:

    SELECT DISTINCT stores.city, stores.store_name FROM stores WHERE … ORDER BY 1, 2 LIMIT n
"""

from __future__ import annotations

from sqlglot import exp

from semantic_layer.catalog import catalog
from semantic_layer.errors import QueryError
from semantic_layer.model import SemanticModel
from semantic_layer.query import SemanticQuery

MAX_LISTED = 1000  # a list longer than this is not read by anyone; say how to narrow it


def _base(model: SemanticModel, names: list[str]) -> str | None:
    """The table every asked dimension can be read from (the most detailed one)."""
    cat = catalog(model)
    candidates = []
    for name in names:
        dim = model.dimension(name)
        candidates += [s.table for s in dim.all_sources]
    for table in dict.fromkeys(candidates):
        if all(cat.dimension_use(n, table) is not None for n in names):
            return table
    return None


def compile_listing(model: SemanticModel, query: SemanticQuery, dialect: str = "duckdb"):
    """The distinct members of `query.dimensions` (with its filters, order and limit)."""
    from semantic_layer.compiler import CompiledQuery, OutputColumn, _and, _Compiler

    names = [d.name for d in query.dimensions]
    for name in [*names, *(f.dimension for f in query.filters)]:
        if name not in model.dimension_map:
            raise QueryError("unknown_dimension", name=name, suggestions="-")
        if model.dimension(name).metric_time:
            raise QueryError("listing_needs_metric", name=model.dimension(name).label.en)
    base = _base(model, names + [f.dimension for f in query.filters])
    if base is None:
        raise QueryError(
            "listing_unrelated",
            names=", ".join(model.dimension(n).label.en for n in names),
        )
    cat = catalog(model)
    helper = _Compiler(model, query.model_copy(update={"metrics": []}), dialect)
    tables: set[str] = set()
    keys = []
    for ref in query.dimensions:
        use = cat.dimension_use(ref.name, base)
        assert use is not None
        keys.append(exp.alias_(use.expr.copy(), ref.key))
        tables.add(use.table)
    conditions = []
    for flt in query.filters:
        use = cat.dimension_use(flt.dimension, base)
        assert use is not None
        conditions.append(helper._filter_expr(flt, use.expr.copy()))
        tables.add(use.table)
    select = exp.select(*keys).distinct().from_(base)
    for join in helper._joins(base, tables):
        on = _and(
            [
                exp.EQ(
                    this=exp.column(a, table=join.from_table),
                    expression=exp.column(b, table=join.to),
                )
                for a, b in join.on
            ]
        )
        select = select.join(exp.to_table(join.to), on=on, join_type="left")
    where = _and(conditions)
    if where is not None:
        select = select.where(where)
    select = select.order_by(*(exp.column(ref.key) for ref in query.dimensions))
    select = select.limit(min(query.limit or MAX_LISTED, MAX_LISTED))
    columns = tuple(
        OutputColumn(ref.key, "dimension", ref.name, model.dimension(ref.name).label)
        for ref in query.dimensions
    )
    return CompiledQuery(query=query, ast=select, columns=columns, dialect=dialect)
