"""Cross-reference checks of a loaded model, every problem reported at once with file:line.

Schema problems (a missing field, a wrong type) are caught by pydantic in `loader.py`; this
module checks what only the whole model can tell: names that must exist, names that must be
unique, derived metrics that must not loop, words that must not mean two things, tables that
must connect, expressions that the SQL guard would refuse, and role policies that hide a
concept in one table but leave it readable in another (`policy_leaks`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.errors import ParseError

from semantic_layer.errors import Issue, closest
from semantic_layer.expressions import PERIOD_DAYS, columns_of, parse_expr, qualify, tables_of
from semantic_layer.graph import JoinGraph
from semantic_layer.guard import SQLRejected, guard_ast
from semantic_layer.model import Dimension, MetricKind, Role, RowFilter, SemanticModel

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
                own = dim.physical(source.table)
                text = source.expr
                if s_index == 0 and dim.where is not None and dim.table is not None:
                    own, text = dim.table, dim.expr or ""
                if not self.table(own, self.path("dimensions", index, *field)):
                    continue
                texts = [("expr", text)]
                if s_index == 0 and dim.where is not None:
                    texts.append(("where", dim.where))
                for key, text in texts:
                    node = self.expression(
                        text, f"dimension {dim.name}", self.path("dimensions", index, key)
                    )
                    if node is not None:
                        for table in sorted(tables_of(node) - {own}):
                            if key == "expr" and self.role_reaches(dim, table):
                                continue
                            self.add(
                                "unknown_table",
                                self.path("dimensions", index, key),
                                name=f"{table} (a dimension reads only its own table {own})",
                            )
                reached |= any(self.graph.reachable(f, source.table) for f in fact_tables)
            if not dim.metric_time and not reached and fact_tables:
                self.add(
                    "table_unreachable",
                    self.path("dimensions", index, "table"),
                    table=dim.table,
                    owner=f"dimension {dim.name}",
                )

    def role_reaches(self, dim: Dimension, table: str) -> bool:
        """Whether a role dimension's `expr` may read `table`: the one table a join leads
        to from the role's own rows (the party's name through the agent's row)."""
        if dim.where is None or dim.role_reads[:1] != [table]:
            return False
        return any(j.from_table == dim.table and j.to == table for j in self.model.joins)

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
    checker.issues.extend(unsafe_expressions(model, where))
    if not any(issue.severity == "error" for issue in checker.issues):
        # The leak rule walks joins and metric leaves: it needs a sound model.
        checker.issues.extend(policy_leaks(model, where))
    return checker.issues


# --- expressions the SQL guard would refuse ------------------------------------------------------


@dataclass(frozen=True)
class ModelExpression:
    """One SQL fragment written in a model: whose it is, where it was written, what it reads."""

    kind: str  # "metric" or "dimension"
    name: str
    path: tuple[str | int, ...]  # inside the loaded model (see `Locations.original_index`)
    text: str
    table: str | None  # the table its unqualified columns belong to (None: a derived metric)

    def probe(self) -> exp.Select:
        """The statement that runs this expression alone: `SELECT <expr> FROM <its table>`."""
        node = parse_expr(self.text)
        if self.table is None:
            return exp.select(node)
        return exp.select(qualify(node, self.table)).from_(exp.to_table(self.table))

    def issue(self, code: str, where: Locations, **params: object) -> Issue:
        """An issue about this expression, tagged with the file and line it was written at."""
        section, index, *rest = self.path
        assert isinstance(section, str) and isinstance(index, int)
        path = (section, where.original_index(section, index), *rest)
        return where.issue(code, path, **params)


def model_expressions(model: SemanticModel) -> Iterator[ModelExpression]:
    """Every SQL fragment of a model: dimension columns, metric expressions, filters, dates."""
    for index, dim in enumerate(model.dimensions):
        for s_index, source in enumerate(dim.all_sources):
            field = ("expr",) if s_index == 0 else ("sources", s_index - 1, "expr")
            path = ("dimensions", index, *field)
            text, table = source.expr, dim.physical(source.table)
            if s_index == 0 and dim.where is not None and dim.table and dim.expr:
                text, table = dim.expr, dim.table  # as written: over the role's own table
            yield ModelExpression("dimension", dim.name, path, text, table)
        if dim.where is not None and dim.table:
            path = ("dimensions", index, "where")
            yield ModelExpression("dimension", dim.name, path, dim.where, dim.table)
        if dim.value_label_en and dim.table:
            path = ("dimensions", index, "value_label_en")
            yield ModelExpression("dimension", dim.name, path, dim.value_label_en, dim.table)
    for index, metric in enumerate(model.metrics):
        if metric.kind is MetricKind.derived:
            path = ("metrics", index, "expr")
            yield ModelExpression("metric", metric.name, path, metric.expr, None)
            continue
        for field in ("expr", "filter", "time"):
            text = getattr(metric, field)
            if text:
                path = ("metrics", index, field)
                yield ModelExpression("metric", metric.name, path, text, metric.table)


def expression_hazard(node: exp.Expression, tables: Collection[str]) -> tuple[str, str] | None:
    """Why a model expression may not run, in zh and en (None: it may).

    The rules are the query guard's own (`guard_ast`: no function that reads files, the network,
    the environment or settings; no function the guard does not know; only the model's tables),
    plus two that an expression evaluated row by row never needs, and that would let it read
    past the table it belongs to: no subquery, no column named through another schema or
    database (`other.db.col`)."""
    try:
        guard_ast(exp.select(node.copy()), tables)
    except SQLRejected as err:
        return rejection(err)
    query = node if isinstance(node, exp.Query) else node.find(exp.Query)
    if query is not None:
        text = query.sql(dialect="duckdb")[:80]
        return f"表达式里不能有子查询：{text}", f"a subquery is not allowed: {text}"
    for column in node.find_all(exp.Column):
        if column.args.get("db") or column.args.get("catalog"):
            text = column.sql(dialect="duckdb")
            return (
                f"不能读取其他 schema 或数据库的列：{text}",
                f"a column of another schema or database: {text}",
            )
    return None


def rejection(err: SQLRejected) -> tuple[str, str]:
    """The guard's reason for refusing a statement, as the (zh, en) reason of an issue."""
    reason = err.params.get("reason")
    en = str(getattr(reason, "en", None) or reason or err.message("en"))
    return str(getattr(reason, "zh", None) or en), en


def unsafe_issue(item: ModelExpression, where: Locations, reason: tuple[str, str]) -> Issue:
    """The `unsafe_expression` error for one expression, naming its metric or dimension."""
    owner = ("指标 " if item.kind == "metric" else "维度 ") + item.name
    return item.issue(
        "unsafe_expression",
        where,
        owner=owner,
        owner_en=f"{item.kind} {item.name}",
        reason=reason[0],
        reason_en=reason[1],
    )


def unsafe_expressions(model: SemanticModel, where: Locations) -> list[Issue]:
    """Expressions that the SQL guard would refuse in a query, found before any database runs
    them: a model is text someone else may have written, and `cockpit check --db` executes it."""
    tables = [table.name for table in model.tables]
    issues: list[Issue] = []
    for item in model_expressions(model):
        try:
            node = parse_expr(item.text)
        except ParseError:
            continue  # reported as bad_expression
        hazard = expression_hazard(node, tables)
        if hazard is not None:
            issues.append(unsafe_issue(item, where, hazard))
    return issues


# --- role policies that hide a concept in one table but leave it readable in another -----------
#
# Row filters and masks act on the tables and columns a role names; nothing stops the same
# data from living in a second table under another name (payroll as an expense category and as
# a cash-flow category). The rule below finds such places from the model's own words — labels,
# synonyms, value labels and value synonyms — and, when the database is at hand, the members it
# holds. It never decides; it warns, naming the role, the table and the members to restrict.
#
# 1. A row filter hides members of a dimension (`not_in` values; for `in`, every other known
#    member). Any other category dimension, on a table the filter does not reach and the role is
#    not denied, with a member named by the same word (value, value label or value synonym of a
#    hidden member) shows what the filter hides — unless the role restricts that member there.
# 2. A denied metric (with the simple metrics it is computed from) or a masked column (named by
#    the metrics and dimensions that read it) is a concept named by labels and synonyms. A
#    category of another fact table whose member's name or label contains one of those words
#    (采购付款 contains 采购; "stock value" is named in "Stock value adjustment"), or whose member
#    synonym is one, marks rows carrying that concept's amounts. Only fact tables count: a
#    category there says what each amount is, while on a lookup table it names an entity (the
#    procurement department's expenses are not purchases). Synonyms must match whole, as they
#    are loose paraphrases (设备采购 for capex is not the purchases concept).
# 3. For either, another readable table whose label names a hidden word carries it as a whole.
#
# A candidate is not a leak when the role cannot read it: the table is denied (fail-closed row
# filter), the role filters that member out there, or every amount column of the table is masked.

# Dimension → member → further words for it read from the database (its English label).
Members = Mapping[str, Mapping[str, Collection[str]]]

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[a-z0-9]+")


def _norm(word: object) -> str:
    return " ".join(str(word).casefold().split())


def _columns(node: exp.Expression) -> set[tuple[str, str]]:
    """(table, column) pairs a qualified expression reads, columns lowered as SQL compares them."""
    return {(c.table, c.name.lower()) for c in columns_of(node)}


def _stem(token: str) -> str:
    """Plural folded, so that "purchases" names "purchase"."""
    return token[:-1] if len(token) > 3 and token.endswith("s") else token


def mentions(text: str, word: str) -> bool:
    """Whether `text` names `word`: equal, inside a CJK compound (采购付款 ⊃ 采购), or as whole
    Latin words with plurals folded ("purchase payments" names "purchases"; "costume" does not
    name "cost")."""
    if text == word:
        return True
    if len(word) < 2:
        return False
    if _CJK.search(word):
        return word in text
    want = [_stem(t) for t in _LATIN.findall(word)]
    have = [_stem(t) for t in _LATIN.findall(text)]
    size = len(want)
    return size > 0 and any(have[i : i + size] == want for i in range(len(have) - size + 1))


@dataclass(frozen=True)
class _Member:
    """One member of a category dimension and the words that name it."""

    value: str
    names: frozenset[str]  # the value itself and its labels
    synonyms: frozenset[str]

    @property
    def words(self) -> frozenset[str]:
        return self.names | self.synonyms


def _members(dim: Dimension, members: Members) -> dict[str, _Member]:
    """Every known member of a dimension: from the model's value labels and synonyms, and from
    the database when given."""
    found = members.get(dim.name, {})
    values = dict.fromkeys([*map(str, dim.value_labels), *map(str, dim.value_synonyms), *found])
    out = {}
    for value in values:
        names = {value, dim.value_labels.get(value), *found.get(value, ())}
        out[value] = _Member(
            value,
            frozenset(_norm(w) for w in names if w),
            frozenset(_norm(w) for w in dim.value_synonyms.get(value, ())),
        )
    return out


def _item_words(label_zh: str, label_en: str, name: str, synonyms: Iterable[str]) -> set[str]:
    return {_norm(w) for w in (label_zh, label_en, name.replace("_", " "), *synonyms) if w}


@dataclass(frozen=True)
class _Concept:
    """Something a role may not see (a denied metric, a masked column) and the words for it."""

    hidden: str
    hidden_en: str
    tables: frozenset[str]
    words: frozenset[str]


class _LeakFinder:
    """`policy_leaks` for one model: the role policies as `security.py` enforces them, read
    from the model alone (no database, no secrets)."""

    def __init__(self, model: SemanticModel, where: Locations, members: Members) -> None:
        from semantic_layer.catalog import catalog

        self.model = model
        self.where = where
        self.catalog = catalog(model)
        self.facts = {m.table for m in model.metrics if m.table}
        self.categories = [d for d in model.dimensions if d.type == "category" and d.table]
        self.members = {d.name: _members(d, members) for d in self.categories}
        self.issues: list[Issue] = []

    # --- what a role can read ----------------------------------------------------------------
    def reached(self, rule: RowFilter) -> set[str]:
        """Tables a row filter applies to: those that can reach its dimension."""
        return {
            t.name
            for t in self.model.tables
            if self.catalog.dimension_use(rule.dimension, t.name) is not None
        }

    def denied(self, role: Role) -> set[str]:
        """Fact tables closed to the role: a fail-closed row filter cannot reach them."""
        out: set[str] = set()
        for rule in role.row_filters:
            if rule.elsewhere == "deny":
                out |= self.facts - self.reached(rule)
        return out

    def masked(self, role: Role) -> set[tuple[str, str]]:
        """(table, column) pairs that read as NULL for the role."""
        out = set()
        for name in role.denied_metrics:
            for leaf in self.catalog.leaves(name):
                out |= _columns(self.catalog.leaf(leaf).expr)
        for qualified in role.masked_columns:
            table, _, column = qualified.partition(".")
            out.add((table, column.lower()))
        return out

    def amounts(self, table: str) -> set[tuple[str, str]]:
        """The columns a table's metrics aggregate: what a row of it is worth."""
        out = set()
        for metric in self.model.metrics:
            if metric.kind is MetricKind.simple and metric.table == table:
                expr = self.catalog.leaf(metric.name).expr
                out |= {(t, c) for t, c in _columns(expr) if t == table}
        return out

    def closed(self, role: Role, table: str) -> bool:
        """Whether the role reads nothing of worth in `table`: denied, or every amount masked."""
        amounts = self.amounts(table)
        return table in self.denied(role) or bool(amounts and amounts <= self.masked(role))

    def hides(self, role: Role, dim: Dimension, table: str, value: str) -> bool:
        """Whether one of the role's row filters keeps `value` of `dim` out of `table`."""
        mine = {qualify(parse_expr(s.expr), s.table).sql() for s in dim.all_sources}
        for rule in role.row_filters:
            other = self.model.dimension(rule.dimension)
            same = rule.dimension == dim.name or any(
                s.table == table and qualify(parse_expr(s.expr), s.table).sql() in mine
                for s in other.all_sources
            )
            if same:
                listed = value in {str(v) for v in rule.values}
                if listed == (rule.op == "not_in"):
                    return True
        return False

    # --- the two rules -----------------------------------------------------------------------
    def row_filters(self, index: int, role: Role) -> None:
        for r_index, rule in enumerate(role.row_filters):
            dim = self.model.dimension(rule.dimension)
            known = self.members.get(dim.name) or _members(dim, {})
            listed = [str(v) for v in rule.values]
            hidden = listed if rule.op == "not_in" else [v for v in known if v not in listed]
            if not hidden:
                continue  # an `in` filter over members nobody listed: nothing to compare
            words = set().union(*(known[v].words if v in known else {_norm(v)} for v in hidden))
            what = "、".join(hidden[:8]) + ("…" if len(hidden) > 8 else "")
            path = ("roles", index, "row_filters", r_index)
            self.report(
                role,
                path,
                (
                    f"维度 {dim.name}（{dim.label.zh}）中 {what} 的数据",
                    f"the data of {what} in dimension {dim.name} ({dim.label.en})",
                ),
                words,
                skip=self.reached(rule),
                whole_synonyms=False,
                facts_only=False,
                exclude=dim.name,
            )

    def concepts(self, role: Role) -> list[_Concept]:
        """What the role may not see beyond rows: denied metrics and masked columns."""
        out: list[_Concept] = []
        covered: set[tuple[str, str]] = set()
        for name in role.denied_metrics:
            metric = self.model.metric(name)
            words: set[str] = set()
            columns: set[tuple[str, str]] = set()
            for leaf_name in {name, *self.catalog.leaves(name)}:
                leaf = self.model.metric(leaf_name)
                words |= _item_words(leaf.label.zh, leaf.label.en, leaf.name, leaf.synonyms)
                if leaf.kind is MetricKind.simple:
                    columns |= _columns(self.catalog.leaf(leaf_name).expr)
            covered |= columns
            out.append(
                _Concept(
                    f"指标 {name}（{metric.label.zh}）",
                    f"metric {name} ({metric.label.en})",
                    frozenset(t for t, _ in columns),
                    frozenset(words),
                )
            )
        for qualified in role.masked_columns:
            table, _, column = qualified.partition(".")
            if (table, column.lower()) in covered:
                continue
            words, labels = set(), []
            for metric in self.model.metrics:
                if metric.kind is MetricKind.simple and (table, column.lower()) in _columns(
                    self.catalog.leaf(metric.name).expr
                ):
                    words |= _item_words(
                        metric.label.zh, metric.label.en, metric.name, metric.synonyms
                    )
                    labels.append(metric.label)
            for dim in self.model.dimensions:
                for source in dim.all_sources:
                    owner = dim.physical(source.table)
                    read = _columns(qualify(parse_expr(source.expr), owner))
                    if (table, column.lower()) in read:
                        words |= _item_words(dim.label.zh, dim.label.en, dim.name, dim.synonyms)
                        labels.append(dim.label)
            if not words:
                continue  # nothing in the model names this column: no word to look for
            zh = "、".join(dict.fromkeys(label.zh for label in labels))
            en = ", ".join(dict.fromkeys(label.en for label in labels))
            out.append(
                _Concept(
                    f"列 {qualified}（{zh}）",
                    f"column {qualified} ({en})",
                    frozenset({table}),
                    frozenset(words),
                )
            )
        return out

    def denied_concepts(self, index: int, role: Role) -> None:
        for concept in self.concepts(role):
            self.report(
                role,
                ("roles", index),
                (concept.hidden, concept.hidden_en),
                set(concept.words),
                skip=set(concept.tables),
                whole_synonyms=True,
                facts_only=True,
            )

    # --- matching and reporting --------------------------------------------------------------
    def report(
        self,
        role: Role,
        path: tuple[str | int, ...],
        hidden: tuple[str, str],
        words: set[str],
        skip: set[str],
        whole_synonyms: bool,
        facts_only: bool,
        exclude: str | None = None,
    ) -> None:
        """Warn about every readable place outside `skip` that names one of `words`.

        `whole_synonyms`: a member's value and labels may contain a word, its synonyms must
        equal one (concepts); otherwise every word of a member must equal one (row filters)."""

        def found(member: _Member) -> str | None:
            # The member's own value first, so that the warning quotes the word a reader knows.
            for word in sorted(words, key=lambda w: (w != _norm(member.value), w)):
                if whole_synonyms and any(mentions(name, word) for name in member.names):
                    return word
                if word in (member.synonyms if whole_synonyms else member.words):
                    return word
            return None

        for dim in self.categories:
            if dim.name == exclude:
                continue
            for source in dim.all_sources:
                table = source.table
                if table in skip or self.closed(role, table):
                    continue
                if facts_only and table not in self.facts:
                    continue
                hits = {
                    m.value: word
                    for m in self.members[dim.name].values()
                    if (word := found(m)) is not None and not self.hides(role, dim, table, m.value)
                }
                if not hits:
                    continue
                values = ", ".join(hits)
                matched = "、".join(dict.fromkeys(hits.values()))
                self.warn(
                    role,
                    path,
                    hidden,
                    table,
                    (
                        f"维度 {dim.name}（{dim.label.zh}）的成员 {values}（名称对应「{matched}」）",
                        f"member(s) {values} of dimension {dim.name} ({dim.label.en}), "
                        f"named after '{matched}'",
                    ),
                    f"{{dimension: {dim.name}, op: not_in, values: [{values}], elsewhere: allow}}",
                )
        for table in self.model.tables:
            if table.name in skip or self.closed(role, table.name) or table.label is None:
                continue
            names = {_norm(table.label.zh), _norm(table.label.en), _norm(table.name)}
            word = next((w for w in sorted(words) for n in names if mentions(n, w)), None)
            if word is None:
                continue
            columns = sorted({c for t, c in self.amounts(table.name)})
            fix = (
                f"masked_columns: [{', '.join(f'{table.name}.{c}' for c in columns)}]"
                if columns
                else f"masked_columns: [{table.name}.<column>]"
            )
            self.warn(
                role,
                path,
                hidden,
                table.name,
                (
                    f"表名「{table.label.zh}」对应「{word}」",
                    f"its label '{table.label.en}' names '{word}'",
                ),
                fix,
            )

    def warn(
        self,
        role: Role,
        path: tuple[str | int, ...],
        hidden: tuple[str, str],
        table: str,
        via: tuple[str, str],
        fix: str,
    ) -> None:
        section, index, *rest = path
        assert isinstance(section, str) and isinstance(index, int)
        located = (section, self.where.original_index(section, index), *rest)
        issue = self.where.issue(
            "policy_leak",
            located,
            role=role.name,
            hidden=hidden[0],
            hidden_en=hidden[1],
            table=table,
            via=via[0],
            via_en=via[1],
            fix=fix,
        )
        self.issues.append(replace(issue, severity="warning"))


def policy_leaks(
    model: SemanticModel, where: Locations, members: Members | None = None
) -> list[Issue]:
    """Warnings where a role's policy hides a concept in one table while another table it can
    read carries the same data (the rule is described above). `members` adds what the database
    holds ({dimension: {member: [its English label, …]}}) to the members the model lists."""
    finder = _LeakFinder(model, where, members or {})
    for index, role in enumerate(model.roles):
        finder.row_filters(index, role)
        finder.denied_concepts(index, role)
    return finder.issues
