"""Cross-reference checks of a loaded model, every problem reported at once with file:line.

Schema problems (a missing field, a wrong type) are caught by pydantic in `loader.py`; this
module checks what only the whole model can tell: names that must exist, names that must be
unique, derived metrics that must not loop, words that must not mean two things, and tables
that must connect.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot.errors import ParseError

from semantic_layer.errors import Issue, closest
from semantic_layer.expressions import PERIOD_DAYS, columns_of, parse_expr, qualify, tables_of
from semantic_layer.graph import JoinGraph
from semantic_layer.model import MetricKind, SemanticModel

if TYPE_CHECKING:
    from semantic_layer.loader import Locations

KINDS = {
    "tables": ("表", "table"),
    "joins": ("关联", "join"),
    "dimensions": ("维度", "dimension"),
    "metrics": ("指标", "metric"),
    "roles": ("角色", "role"),
    "alerts": ("预警", "alert"),
}


class _Checker:
    def __init__(self, model: SemanticModel, where: Locations) -> None:
        self.model = model
        self.where = where
        self.issues: list[Issue] = []
        self.graph = JoinGraph(model)
        self.tables = set(model.table_map)
        self.metrics = set(model.metric_map)
        self.dimensions = set(model.dimension_map)

    def path(self, section: str, index: int, *rest: str | int) -> tuple[str | int, ...]:
        return (section, self.where.original_index(section, index), *rest)

    def add(self, code: str, path: tuple, suggestions: Iterable[str] = (), **params) -> None:
        self.issues.append(self.where.issue(code, path, list(suggestions), **params))

    def warn(self, code: str, path: tuple, **params) -> None:
        issue = self.where.issue(code, path, **params)
        self.issues.append(replace(issue, severity="warning"))

    def table(self, name: str, path: tuple) -> bool:
        if name in self.tables:
            return True
        self.add("unknown_table", path, closest(name, self.tables), name=name)
        return False

    # --- checks -------------------------------------------------------------------------
    def duplicates(self) -> None:
        for section, (kind_zh, kind_en) in KINDS.items():
            if section == "joins":
                continue
            seen: dict[str, int] = {}
            for index, item in enumerate(getattr(self.model, section)):
                path = self.path(section, index, "name")
                if item.name in seen:
                    _file, first_line = self.where.find(self.path(section, seen[item.name]))
                    self.add(
                        "duplicate_name",
                        path,
                        kind=kind_zh,
                        kind_en=kind_en,
                        name=item.name,
                        first_line=first_line,
                    )
                else:
                    seen[item.name] = index
        for index, dim in enumerate(self.model.dimensions):
            if dim.name in self.metrics:
                self.add(
                    "duplicate_name",
                    self.path("dimensions", index, "name"),
                    kind="维度与指标",
                    kind_en="dimension/metric",
                    name=dim.name,
                    first_line="?",
                )

    def joins(self) -> None:
        for index, join in enumerate(self.model.joins):
            ok_from = self.table(join.from_table, self.path("joins", index, "from"))
            ok_to = self.table(join.to, self.path("joins", index, "to"))
            if ok_from and ok_to and join.from_table == join.to:
                self.add(
                    "join_disconnected",
                    self.path("joins", index),
                    from_table=join.from_table,
                    to=join.to,
                    detail="a table cannot join to itself",
                )
            if not join.on:
                self.add(
                    "join_disconnected",
                    self.path("joins", index, "on"),
                    from_table=join.from_table,
                    to=join.to,
                    detail="no join keys given",
                )
        joined = {j.from_table for j in self.model.joins} | {j.to for j in self.model.joins}
        facts = {m.table for m in self.model.metrics}
        if len(self.tables) > 1:
            for index, table in enumerate(self.model.tables):
                if table.name not in joined and table.name not in facts:
                    self.warn(
                        "join_disconnected",
                        self.path("tables", index, "name"),
                        from_table=table.name,
                        to="*",
                        detail="no join connects this table to any other",
                    )

    def expression(self, text: str, owner: str, path: tuple):
        try:
            return parse_expr(text)
        except ParseError as err:
            self.add("bad_expression", path, owner=owner, detail=str(err).splitlines()[0])
            return None

    def dimensions_(self) -> None:
        fact_tables = {m.table for m in self.model.metrics if m.table}
        for index, dim in enumerate(self.model.dimensions):
            if dim.parent is not None:
                path = self.path("dimensions", index, "parent")
                self.known_dimension(dim.parent, path, f"dimension {dim.name}")
            reached = False
            for s_index, source in enumerate(dim.all_sources):
                field = ("table",) if s_index == 0 else ("sources", s_index - 1, "table")
                if not self.table(source.table, self.path("dimensions", index, *field)):
                    continue
                node = self.expression(
                    source.expr, f"dimension {dim.name}", self.path("dimensions", index, "expr")
                )
                if node is not None:
                    for table in tables_of(node) - {source.table}:
                        self.add(
                            "unknown_table",
                            self.path("dimensions", index, "expr"),
                            name=f"{table} (a dimension reads only its own table {source.table})",
                        )
                reached |= any(self.graph.reachable(f, source.table) for f in fact_tables)
            if not dim.metric_time and not reached and fact_tables:
                self.add(
                    "table_unreachable",
                    self.path("dimensions", index, "table"),
                    table=dim.table,
                    owner=f"dimension {dim.name}",
                )

    def metrics_(self) -> None:
        for index, metric in enumerate(self.model.metrics):
            owner = f"metric {metric.name}"
            if metric.budget is not None:
                self.known_metric(metric.budget, self.path("metrics", index, "budget"), owner)
            if metric.kind is MetricKind.derived:
                node = self.expression(metric.expr, owner, self.path("metrics", index, "expr"))
                for column in columns_of(node) if node is not None else []:
                    if column.name not in self.metrics and column.name != PERIOD_DAYS:
                        self.add(
                            "unknown_metric_ref",
                            self.path("metrics", index, "expr"),
                            closest(column.name, self.metrics),
                            metric=metric.name,
                            name=column.name,
                        )
                continue
            assert metric.table is not None and metric.time is not None
            if not self.table(metric.table, self.path("metrics", index, "table")):
                continue
            used: set[str] = set()
            for field, text in (
                ("expr", metric.expr),
                ("filter", metric.filter),
                ("time", metric.time),
            ):
                if text is None:
                    continue
                node = self.expression(text, owner, self.path("metrics", index, field))
                if node is not None:
                    used |= tables_of(qualify(node, metric.table))
            for table in sorted(used):
                if table not in self.tables:
                    self.add(
                        "unknown_table",
                        self.path("metrics", index, "expr"),
                        closest(table, self.tables),
                        name=table,
                    )
                elif not self.graph.reachable(metric.table, table):
                    self.add(
                        "table_unreachable",
                        self.path("metrics", index),
                        table=table,
                        owner=owner,
                    )

    def cycles(self) -> None:
        deps = {
            m.name: {c.name for c in columns_of(parse_expr(m.expr))} & self.metrics
            for m in self.model.metrics
            if m.kind is MetricKind.derived and self._parses(m.expr)
        }
        state: dict[str, int] = {}
        reported: set[frozenset[str]] = set()

        def visit(name: str, stack: list[str]) -> None:
            state[name] = 1
            for dep in sorted(deps.get(name, ())):
                if state.get(dep) == 1:
                    loop = [*stack[stack.index(dep) :], dep]
                    if frozenset(loop) not in reported:
                        reported.add(frozenset(loop))
                        index = [m.name for m in self.model.metrics].index(dep)
                        self.add(
                            "metric_cycle",
                            self.path("metrics", index, "expr"),
                            chain=" → ".join(loop),
                        )
                elif state.get(dep) is None:
                    visit(dep, [*stack, dep])
            state[name] = 2

        for name in deps:
            if name not in state:
                visit(name, [name])

    @staticmethod
    def _parses(text: str) -> bool:
        try:
            parse_expr(text)
        except ParseError:
            return False
        return True

    def synonyms(self) -> None:
        owners: dict[str, str] = {}
        for section in ("metrics", "dimensions"):
            for index, item in enumerate(getattr(self.model, section)):
                owner = f"{section[:-1]} {item.name}"
                words = [item.name, item.label.zh, item.label.en, *item.synonyms]
                for word in dict.fromkeys(w.strip().lower() for w in words):
                    first = owners.setdefault(word, owner)
                    if first != owner:
                        self.add(
                            "synonym_collision",
                            self.path(section, index, "synonyms"),
                            word=word,
                            first=first,
                            second=owner,
                        )

    def known_dimension(self, name: str, path: tuple, owner: str) -> None:
        if name not in self.dimensions:
            self.add(
                "unknown_dimension_ref",
                path,
                closest(name, self.dimensions),
                owner=owner,
                name=name,
            )

    def known_metric(self, name: str, path: tuple, owner: str) -> None:
        if name not in self.metrics:
            self.add("unknown_metric_in", path, closest(name, self.metrics), owner=owner, name=name)

    def roles_and_alerts(self) -> None:
        for index, role in enumerate(self.model.roles):
            owner = f"role {role.name}"
            for name in [f.dimension for f in role.row_filters] + role.masked_dimensions:
                self.known_dimension(name, self.path("roles", index), owner)
            for name in role.denied_metrics:
                self.known_metric(name, self.path("roles", index, "denied_metrics"), owner)
        from semantic_layer.catalog import Catalog
        from semantic_layer.model import Grain

        roles = {role.name for role in self.model.roles}
        reach = Catalog(self.model)
        # Reachability needs sound metrics and joins; broken ones were reported above.
        sound = not any(issue.severity == "error" for issue in self.issues)
        for index, alert in enumerate(self.model.alerts):
            owner = f"alert {alert.name}"
            self.known_metric(alert.metric, self.path("alerts", index, "metric"), owner)
            used = [(name, ("dimensions", i)) for i, name in enumerate(alert.dimensions)]
            used += [
                (f.dimension, ("filters", i, "dimension")) for i, f in enumerate(alert.filters)
            ]
            for name, where in used:
                path = self.path("alerts", index, *where)
                if name not in self.dimensions:
                    self.known_dimension(name, path, owner)
                elif (
                    sound and alert.metric in self.metrics and not reach.reaches(alert.metric, name)
                ):
                    # The refusal a question would get: expenses cannot be split by customer.
                    self.add(
                        "table_unreachable",
                        path,
                        closest(name, reach.allowed_dimensions(alert.metric)),
                        table=self.model.dimension(name).table,
                        owner=f"{owner} ({alert.metric} × {name})",
                    )
            if alert.owner_role is not None and roles and alert.owner_role not in roles:
                # A warning only: roles come from the security set-up, which may lag the rules.
                self.warn(
                    "schema",
                    self.path("alerts", index, "owner_role"),
                    field=f"alerts.{alert.name}.owner_role",
                    detail=f"no role named {alert.owner_role} (roles: {', '.join(sorted(roles))})",
                )
            if alert.change is not None and alert.grain not in (
                Grain.month,
                Grain.quarter,
                Grain.year,
            ):
                self.add(
                    "schema",
                    self.path("alerts", index, "change"),
                    field=f"alerts.{alert.name}.change",
                    detail=f"change: {alert.change} needs a month, quarter or year grain",
                )


def validate_model(model: SemanticModel, where: Locations) -> list[Issue]:
    """Every cross-reference problem in `model`, each tagged with where it was written."""
    checker = _Checker(model, where)
    checker.duplicates()
    checker.joins()
    checker.dimensions_()
    checker.metrics_()
    checker.cycles()
    checker.synonyms()
    checker.roles_and_alerts()
    return checker.issues
