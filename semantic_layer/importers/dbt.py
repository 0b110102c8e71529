"""`import_dbt`: a dbt MetricFlow project → a Cockpit model YAML and a report of what mapped.

    yaml_text, report = import_dbt(Path("jaffle_shop"))
    Path("model.yaml").write_text(yaml_text, encoding="utf-8"); print(report.text())

The rule: every construct maps with the same meaning, or the report lists it as not mapped
with the reason. Nothing is dropped or changed silently; a key the importer does not know is
listed too.

What maps:
- a semantic model becomes a table named after its `ref('...')` (the dbt model's alias if the
  project gives one); its primary entity is the primary key, its default agg time dimension
  the table's time column;
- an entity of model A that is the primary (or unique) entity of model B becomes the
  many-to-one join A → B on the two entity columns;
- dimensions become dimensions (time dimensions keep their grains); names repeated across
  semantic models are qualified with the model name (`orders_status`). A dimension whose
  expression reads no column (`expr: "1"`) is the constant only where a row of its table
  matches, NULL elsewhere (MetricFlow joins outward): it is written as
  `CASE WHEN <key> IS NOT NULL THEN 1 END`, and a filter `= 1` on it as `<key> IS NOT NULL`;
- a measure becomes a simple metric dated by its agg time dimension (sum, count,
  count_distinct, average, min, max, sum_boolean); a max-window non-additive dimension on the
  metric's own date becomes `semi_additive` (a balance: the last snapshot of each period);
- simple metrics become simple metrics, their jinja filters translated to SQL on the tables
  that hold what they name: `Dimension('order_id__customer__region')` walks the entity path
  (and is refused when Cockpit would join another way), `TimeDimension('metric_time',
  'month')` and `.grain('month')` truncate, `.date_part('year')` extracts, `Entity('customer')`
  is the entity's column. Ratio metrics become `numerator / denominator`; derived metrics keep
  their expression with aliases resolved. A filtered input — or a filter on a whole ratio or
  derived metric, which MetricFlow applies to each input — becomes a filtered helper metric.
- `label` becomes the English label, `description` the description (a metric without one
  takes its measure's); `meta.label_zh`/`meta.zh` and `meta.description_zh` give the Chinese
  ones, else the Chinese label is the English one (the report says which).

What does not (each reported with the reason): median and percentile measures (`agg_params`),
non-additive dimensions Cockpit balances cannot express, cumulative and conversion metrics,
offset windows, `fill_nulls_with` and `join_to_timespine` (the metric maps; periods and groups
without data stay empty), filters on metric values, custom granularities, natural (SCD)
entities, saved queries, disabled elements (`config.enabled: false`).

The report and the model assembly both importers share live in `common.py`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlglot import exp
from sqlglot.errors import ParseError

from semantic_layer.errors import ModelError
from semantic_layer.expressions import parse_expr, qualify
from semantic_layer.importers.common import (
    HOLE,
    NOTHING,
    SKIP_DIRS,
    ImportItem,
    ImportReport,
    ModelDraft,
    Phrase,
    Unmappable,
    as_dimension,
    as_join,
    as_metric,
    as_primary_key,
    as_table,
    assign_names,
    description_of,
    humanize,
    is_constant,
    labels_of,
    local_sql,
    meta_of,
    named,
    owner_synonyms,
    plain_column,
    simplify_row_tests,
    snake,
    sql_of,
    synonyms_of,
    unique_name,
    when_row_exists,
)
from semantic_layer.model import Grain

# --- dbt MetricFlow ---------------------------------------------------------------------

# MetricFlow aggregation → Cockpit aggregation; median and percentile have none.
AGGS = {
    "sum": "sum",
    "count": "count",
    "count_distinct": "count_distinct",
    "average": "avg",
    "avg": "avg",
    "min": "min",
    "max": "max",
    "sum_boolean": "sum",
}
JOINABLE = ("primary", "unique")  # entity types that identify one row of their model
# Grains DATE_TRUNC knows; a name outside these is a custom granularity of the time spine.
GRAINS = {g.value for g in Grain} | {"hour", "minute", "second", "millisecond", "microsecond"}
# MetricFlow date parts → DuckDB's EXTRACT parts (MetricFlow's day of week is ISO: Monday = 1).
DATE_PARTS = {
    "year": "YEAR",
    "quarter": "QUARTER",
    "month": "MONTH",
    "week": "WEEK",
    "day": "DAY",
    "dow": "ISODOW",
    "doy": "DOY",
}
# A jinja block in a filter: {{ Dimension('order__status') }}.
JINJA = re.compile(r"\{\{(.*?)\}\}", re.S)

# The keys of each dbt construct the importer reads; any other is reported as not read.
# `config` is read for `meta` and `enabled` (its other keys — group, tags, docs — do not change
# a number); `is_partition` only tells MetricFlow where to prune partitions.
SEMANTIC_MODEL_KEYS = set(
    "name description model defaults entities measures dimensions primary_entity label config "
    "meta".split()
)
ENTITY_KEYS = set("name type expr config meta".split())
DIMENSION_KEYS = set(
    "name description type type_params expr label config meta is_partition".split()
)
MEASURE_KEYS = set(
    "name agg description create_metric expr agg_params non_additive_dimension "
    "agg_time_dimension label config meta".split()
)
METRIC_KEYS = set("name description type type_params filter label config meta".split())
TYPE_PARAMS = {
    "simple": {"measure"},
    "ratio": {"numerator", "denominator"},
    "derived": {"expr", "metrics"},
}
MEASURE_INPUT_KEYS = {"name", "filter", "alias", "fill_nulls_with", "join_to_timespine"}
METRIC_INPUT_KEYS = {"name", "filter", "alias", "offset_window", "offset_to_grain"}

ENTITY_TEXT = Phrase(
    "an entity becomes a join or a primary key, which carry no label or description in Cockpit",
    "实体会变成关联或主键，而它们在 Cockpit 中没有标签或描述",
)
METRIC_GRAIN = Phrase(
    "the metric's default grain for metric_time: Cockpit takes the grain from the question",
    "指标在 metric_time 上的默认粒度：Cockpit 按问题里的说法取粒度",
)


def _fill_nulls(value: Any) -> Phrase:
    return Phrase(
        f"fill_nulls_with {value}: where the metric has no rows (a period or group without "
        f"data) MetricFlow shows {value}, Cockpit leaves it empty; where there are rows the "
        "values are the same",
        f"fill_nulls_with {value}：指标没有数据的期间或分组，MetricFlow 显示 {value}，"
        "Cockpit 留空；有数据的地方数值相同",
    )


JOIN_TO_TIMESPINE = Phrase(
    "join_to_timespine: MetricFlow lists every period of the time spine, those without data "
    "too; Cockpit lists the periods that have data",
    "join_to_timespine：MetricFlow 列出时间轴上的每个期间（包括没有数据的）；"
    "Cockpit 只列出有数据的期间",
)
DISABLED = Phrase(
    "disabled in dbt (config.enabled: false)", "在 dbt 中已停用（config.enabled: false）"
)


@dataclass
class _SemanticModel:
    name: str
    table: str
    file: str
    raw: dict[str, Any]
    entities: dict[str, tuple[str, str]]  # name → (type, expression)
    dimensions: dict[str, dict[str, Any]]
    measures: dict[str, dict[str, Any]]
    label: dict[str, str]
    entity_nodes: list[dict[str, Any]] = field(default_factory=list)  # as written, for the report

    @property
    def default_time(self) -> str | None:
        defaults = self.raw.get("defaults") or {}
        return defaults.get("agg_time_dimension")

    def expr(self, dimension: str) -> str:
        return _text(self.dimensions[dimension].get("expr"), dimension)

    def is_time(self, dimension: str) -> bool:
        return str(self.dimensions[dimension].get("type", "")).lower() == "time"

    def identifies(self, entity: str) -> bool:
        """Whether `entity` names one row of this model (primary, unique, `primary_entity`)."""
        if self.raw.get("primary_entity") == entity:
            return True
        return self.entities.get(entity, ("",))[0] in JOINABLE

    def key_column(self) -> str | None:
        """The column set on every row: the primary entity's, else a unique entity's."""
        for wanted in JOINABLE:
            for kind, expr in self.entities.values():
                if kind == wanted and plain_column(expr):
                    return plain_column(expr)
        return None

    def dimension_node(self, dimension: str) -> tuple[exp.Expression, str | None]:
        """The dimension's expression qualified with this table, and the key column when it
        is a constant (see `common.when_row_exists`); raises when a constant has no key."""
        text = self.expr(dimension)
        try:
            node = parse_expr(text)
        except ParseError:
            raise Unmappable(
                Phrase(
                    f"its expr {text!r} is not SQL Cockpit can read",
                    f"它的 expr {text!r} 不是 Cockpit 能读懂的 SQL",
                )
            ) from None
        if not is_constant(node):
            return qualify(node, self.table), None
        key = self.key_column()
        if key is None:
            raise Unmappable(
                Phrase(
                    f"its expr {text!r} is a constant, which means 'a row of {self.name} "
                    "matches' once joined; without a primary or unique entity column there is "
                    "no way to say that",
                    f"它的 expr {text!r} 是常量，关联后表示“{self.name} 有匹配的行”；"
                    "没有主实体或唯一实体的列，就无法表达这一点",
                )
            )
        return when_row_exists(node, exp.column(key, table=self.table)), key


@dataclass(frozen=True)
class _Input:
    """A metric used by a ratio or derived metric, with what the using metric adds to it."""

    name: str
    alias: str | None = None
    filters: tuple[str, ...] = ()
    offset: str | None = None
    unread: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, ref: Any, extra: tuple[str, ...] = ()) -> _Input:
        """An input as dbt writes it (a name, or a mapping); `extra` are the using metric's
        own filters, which MetricFlow applies to every input."""
        if isinstance(ref, str):
            return cls(ref, filters=extra)
        if not isinstance(ref, dict) or "name" not in ref:
            raise Unmappable(
                Phrase(f"cannot read the metric input {ref!r}", f"无法读取指标输入 {ref!r}")
            )
        offset = ref.get("offset_window") or ref.get("offset_to_grain")
        unread = tuple(k for k in ref if k not in METRIC_INPUT_KEYS)
        return cls(
            ref["name"], ref.get("alias"), (*_filters(ref.get("filter")), *extra), offset, unread
        )


def _text(value: Any, default: str) -> str:
    """An `expr` as SQL text (YAML reads `expr: 1` as a number, `expr: true` as a bool)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value).strip()


def _filters(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


def _enabled(node: Mapping[str, Any]) -> bool:
    config = node.get("config") if isinstance(node.get("config"), dict) else {}
    return config.get("enabled", True) is not False


def _ref(model: Any) -> str | None:
    """`ref('orders')` or `ref('package', 'orders')` → orders."""
    match = re.search(
        r"ref\(\s*['\"]([^'\"]+)['\"]\s*(?:,\s*['\"]([^'\"]+)['\"]\s*)?[,)]", str(model)
    )
    if match is None:
        return None
    return match.group(2) or match.group(1)


def _call(source: str) -> tuple[str, list[Any], dict[str, Any], list[tuple[str, list[Any]]]]:
    """Read a jinja call without running it: `Dimension('a__b').grain('month')` →
    ("Dimension", ["a__b"], {}, [("grain", ["month"])])."""
    try:
        node = ast.parse(source.strip(), mode="eval").body
        methods = []
        while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            methods.append((node.func.attr, [ast.literal_eval(a) for a in node.args]))
            node = node.func.value
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            raise ValueError(source)
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
    except (SyntaxError, ValueError):
        raise Unmappable(
            Phrase(f"cannot read the jinja {{{{{source}}}}}", f"无法读取 jinja {{{{{source}}}}}")
        ) from None
    return node.func.id, args, kwargs, list(reversed(methods))


class _DbtImporter:
    def __init__(self, root: Path, table_prefix: str, tables: Mapping[str, str]) -> None:
        self.root = root
        self.table_prefix = table_prefix
        self.table_names = dict(tables)
        self.models: list[_SemanticModel] = []
        self.measure_home: dict[str, _SemanticModel] = {}
        self.metrics: list[tuple[dict[str, Any], str]] = []
        self.aliases: dict[str, str] = {}  # dbt model → its alias (the physical table)
        # Simple metrics by name: (measure, filters), to rebuild one with a filter added.
        self.recipes: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.measure_problem: dict[str, Phrase] = {}
        self.names: set[str] = set()
        # Metrics whose fill_nulls_with / join_to_timespine is not applied, for the notes of
        # the ratio and derived metrics over them.
        self.unfilled: set[str] = set()

    # --- reading the project --------------------------------------------------------------
    def files(self) -> tuple[str, list[Path]]:
        root = self.root
        if root.is_file():
            return root.stem, [root]
        project = root / "dbt_project.yml"
        name, folders = root.resolve().name, [root]
        if project.is_file():
            conf = yaml.safe_load(project.read_text(encoding="utf-8")) or {}
            name = str(conf.get("name") or name)
            paths = conf.get("model-paths") or conf.get("source-paths") or ["models"]
            folders = [root / p for p in paths]
        found = []
        for folder in folders:
            for path in sorted(folder.rglob("*")):
                parts = set(path.relative_to(root).parts[:-1])
                wanted = path.suffix in (".yml", ".yaml") and path.name != "dbt_project.yml"
                if wanted and not parts & SKIP_DIRS:
                    found.append(path)
        return name, found

    def read(self, draft: ModelDraft, files: list[Path]) -> None:
        semantic: list[tuple[dict[str, Any], str]] = []
        for path in files:
            file = str(path)
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as err:
                detail = str(err).splitlines()[0]
                reason = Phrase(f"not valid YAML ({detail})", f"不是有效的 YAML（{detail}）")
                draft.unmapped("file", file, reason)
                continue
            if not isinstance(data, dict):
                continue
            for model in data.get("models") or []:
                if isinstance(model, dict) and model.get("name"):
                    alias = (model.get("config") or {}).get("alias") or model.get("alias")
                    if alias:
                        self.aliases[model["name"]] = str(alias)
            semantic += [(m, file) for m in named(data, "semantic_models", draft, file)]
            self.metrics += [(m, file) for m in named(data, "metrics", draft, file)]
            for query in named(data, "saved_queries", draft, file):
                draft.unmapped("saved_query", str(query["name"]), _saved_query(query), file)
        for raw, file in semantic:
            if _enabled(raw):
                self.semantic_model(draft, raw, file)
            else:
                draft.unmapped("semantic_model", str(raw["name"]), DISABLED, file)

    def semantic_model(self, draft: ModelDraft, raw: dict[str, Any], file: str) -> None:
        name = str(raw.get("name", "?"))
        ref = _ref(raw.get("model", ""))
        if ref is None:
            model = raw.get("model")
            reason = Phrase(f"model {model!r} is not a ref()", f"model {model!r} 不是 ref()")
            draft.unmapped("semantic_model", name, reason, file)
            return
        table = self.table_prefix + self.table_names.get(ref, self.aliases.get(ref, ref))
        entities = {}
        entity_nodes = named(raw, "entities", draft, file, name)
        for entity in entity_nodes:
            entities[entity["name"]] = (
                str(entity.get("type", "")).lower(),
                _text(entity.get("expr"), entity["name"]),
            )
        sm = _SemanticModel(
            name=name,
            table=table,
            file=file,
            raw=raw,
            entities=entities,
            dimensions={d["name"]: d for d in named(raw, "dimensions", draft, file, name)},
            measures={m["name"]: m for m in named(raw, "measures", draft, file, name)},
            label=labels_of(raw, humanize(name)),
            entity_nodes=entity_nodes,
        )
        primary = [expr for kind, expr in entities.values() if kind == "primary"]
        key = [plain_column(primary[0])] if primary and plain_column(primary[0]) else None
        time = sm.default_time
        time_column = (
            plain_column(sm.expr(time)) if time in sm.dimensions and sm.is_time(time) else None
        )
        try:
            draft.add_table(table, key, time_column, sm.label, raw.get("description"))
        except Unmappable as err:
            draft.unmapped("semantic_model", name, err.reason, file)
            return
        draft.mapped("semantic_model", name, as_table(table), file=file)
        self.models.append(sm)
        for measure in sm.measures:
            self.measure_home[measure] = sm
        self.unread_keys(draft, sm)

    def unread_keys(self, draft: ModelDraft, sm: _SemanticModel) -> None:
        """Report every key of the semantic model and its members that is not read."""
        draft.unread(sm.raw, SEMANTIC_MODEL_KEYS, sm.name, sm.file)
        defaults = sm.raw.get("defaults")
        if isinstance(defaults, dict):
            draft.unread(defaults, {"agg_time_dimension"}, f"{sm.name}.defaults", sm.file)
        text = {"description": ENTITY_TEXT, "label": ENTITY_TEXT}
        for entity in sm.entity_nodes:
            owner = f"{sm.name}.{entity['name']}"
            draft.unread(entity, ENTITY_KEYS, owner, sm.file, text)
        for dim, raw in sm.dimensions.items():
            draft.unread(raw, DIMENSION_KEYS, f"{sm.name}.{dim}", sm.file)
            params = raw.get("type_params")
            if isinstance(params, dict):
                known = {"time_granularity", "validity_params"}
                draft.unread(params, known, f"{sm.name}.{dim}.type_params", sm.file)
        for measure, raw in sm.measures.items():
            draft.unread(raw, MEASURE_KEYS, f"{sm.name}.{measure}", sm.file)

    # --- entities → joins ---------------------------------------------------------------
    def joins(self, draft: ModelDraft) -> None:
        for sm in self.models:
            for entity, (kind, _expr) in sm.entities.items():
                label = f"{sm.name}.{entity}"
                if kind == "natural":
                    draft.unmapped(
                        "entity",
                        label,
                        Phrase(
                            "natural entities join on validity windows (SCD type 2), "
                            "which Cockpit joins do not support",
                            "natural 实体按有效期窗口（SCD 类型 2）关联，Cockpit 的关联不支持",
                        ),
                        sm.file,
                    )
                    continue
                targets = [
                    other
                    for other in self.models
                    if other is not sm and other.entities.get(entity, ("",))[0] in JOINABLE
                ]
                if kind == "primary" and not targets:
                    draft.mapped("entity", label, as_primary_key(sm.table), file=sm.file)
                elif not targets:
                    draft.unmapped(
                        "entity",
                        label,
                        Phrase(
                            f"no semantic model has {entity} as its primary entity, so it joins "
                            "nothing",
                            f"没有语义模型以 {entity} 为主实体，所以它关联不到任何表",
                        ),
                        sm.file,
                    )
                for other in targets:
                    self.join(draft, sm, other, entity, label)

    def join(
        self, draft: ModelDraft, sm: _SemanticModel, other: _SemanticModel, entity: str, label: str
    ) -> None:
        left, right = plain_column(sm.entities[entity][1]), plain_column(other.entities[entity][1])
        if left is None or right is None:
            expr = sm.entities[entity][1] if left is None else other.entities[entity][1]
            reason = Phrase(
                f"the entity expression {expr!r} is not a column; Cockpit joins on columns",
                f"实体表达式 {expr!r} 不是列；Cockpit 只按列关联",
            )
            draft.unmapped("entity", label, reason, sm.file)
            return
        problem = draft.add_join(sm.table, other.table, [(left, right)])
        if problem is None:
            target = as_join(sm.table, other.table, f"{left} = {right}")
            draft.mapped("entity", label, target, file=sm.file)
        elif sm.table != other.table:
            draft.mapped("entity", label, as_join(sm.table, other.table), problem, sm.file)
        else:
            draft.unmapped("entity", label, problem, sm.file)

    # --- filters --------------------------------------------------------------------------
    def translate(self, texts: Iterable[str], home: _SemanticModel, time: str) -> str | None:
        """MetricFlow filters (SQL with jinja) as one SQL condition over `home`'s table."""
        nodes = [self.translate_one(text, home, time) for text in texts]
        if not nodes:
            return None
        return sql_of(exp.and_(*nodes) if len(nodes) > 1 else nodes[0])

    def translate_one(self, text: str, home: _SemanticModel, time: str) -> exp.Expression:
        calls: list[str] = []

        def hole(match: re.Match[str]) -> str:
            calls.append(match.group(1))
            return f"__cockpit_ref_{len(calls) - 1}__"

        sql = JINJA.sub(hole, text).strip()
        if "{%" in sql or "{{" in sql:
            raise Unmappable(
                Phrase(
                    f"the filter {text.strip()!r} uses jinja beyond {{{{ ... }}}} calls",
                    f"筛选条件 {text.strip()!r} 用到了 {{{{ ... }}}} 调用以外的 jinja",
                )
            )
        try:
            node = parse_expr(sql)
        except ParseError:
            raise Unmappable(
                Phrase(
                    f"the filter {text.strip()!r} is not SQL Cockpit can read",
                    f"筛选条件 {text.strip()!r} 不是 Cockpit 能读懂的 SQL",
                )
            ) from None
        resolved = [self.resolve(call, home, time) for call in calls]

        def fill(n: exp.Expression) -> exp.Expression:
            if isinstance(n, exp.Column) and not n.table:
                match = HOLE.fullmatch(n.name)
                if match:
                    return resolved[int(match.group(1))].copy()
            return n

        return simplify_row_tests(qualify(node.transform(fill), home.table))

    def resolve(self, source: str, home: _SemanticModel, time: str) -> exp.Expression:
        """One jinja call of a filter as a SQL expression on the table that holds it.

        `Dimension('order_id__customer__region')` walks the entity path order_id → customer
        and reads `region` there; `TimeDimension('metric_time', 'month')`, a grain suffix
        (`ordered_at__month`) and `.grain('month')` truncate the date; `.date_part('year')`
        extracts a part of it; `Entity('customer')` is the entity's column. Both
        `entity_path=[...]` and the `__` path are read."""
        kind, args, kwargs, methods = _call(source)
        call = f"{{{{ {source.strip()} }}}}"
        if kind == "Metric":
            raise Unmappable(
                Phrase(
                    f"the filter {call} filters on a metric's value, "
                    "which Cockpit filters cannot express",
                    f"筛选条件 {call} 按指标的值筛选，Cockpit 的筛选表达不了",
                )
            )
        if kind not in ("Dimension", "TimeDimension", "Entity") or not (args or "name" in kwargs):
            raise Unmappable(Phrase(f"unknown filter call {call}", f"未知的筛选调用 {call}"))
        name = str(args[0] if args else kwargs["name"])
        # Positional arguments: Dimension(name, entity_path), Entity(name, entity_path),
        # TimeDimension(name, time_granularity_name, entity_path, descending, date_part_name).
        at = {"TimeDimension": 2}.get(kind, 1)
        entity_path = args[at] if len(args) > at else kwargs.get("entity_path") or ()
        grain = kwargs.get("time_granularity_name")
        part = kwargs.get("date_part_name")
        if kind == "TimeDimension":
            grain = args[1] if len(args) > 1 else grain
            part = args[4] if len(args) > 4 else part
        for method, margs in methods:
            if method == "grain" and margs:
                grain = margs[0]
            elif method == "date_part" and margs:
                part = margs[0]
            elif method != "descending":  # ordering only: nothing to do in a filter
                raise Unmappable(
                    Phrase(
                        f"the filter call {call} uses .{method}(), which the importer does not "
                        "know",
                        f"筛选调用 {call} 用到了导入器不认识的 .{method}()",
                    )
                )
        parts = [*(str(e) for e in entity_path), *name.split("__")]
        if kind != "Entity" and grain is None and len(parts) > 1 and self.is_time(parts[:-1], home):
            grain = parts.pop()  # ordered_at__month
        if kind == "Entity":
            target = self.walk(home, parts[:-1], "entity", parts[-1])
            expr = target.entities[parts[-1]][1]
            if target.raw.get("primary_entity") == parts[-1] and parts[-1] not in target.entities:
                raise Unmappable(
                    Phrase(
                        f"the filter {call} names the entity {parts[-1]}, which has no column",
                        f"筛选条件 {call} 引用的实体 {parts[-1]} 没有对应的列",
                    )
                )
            node = qualify(parse_expr(expr), target.table)
        elif parts == ["metric_time"]:
            node = qualify(parse_expr(time), home.table)
        else:
            target = self.walk(home, parts[:-1], "dimension", parts[-1])
            node, _key = target.dimension_node(parts[-1])
        if grain:
            if str(grain).lower() not in GRAINS:
                raise Unmappable(
                    Phrase(
                        f"the filter {call} uses the grain {grain}, a custom granularity of the "
                        "time spine, which Cockpit does not have",
                        f"筛选条件 {call} 用到粒度 {grain}，这是时间轴（time spine）上的自定义粒度，"
                        "Cockpit 没有",
                    )
                )
            node = exp.DateTrunc(this=node, unit=exp.var(str(grain).upper()))
        if part:
            if str(part).lower() not in DATE_PARTS:
                raise Unmappable(
                    Phrase(
                        f"the filter {call} uses the date part {part}, which the importer does "
                        "not know",
                        f"筛选条件 {call} 用到导入器不认识的日期部分 {part}",
                    )
                )
            node = exp.Extract(this=exp.var(DATE_PARTS[str(part).lower()]), expression=node)
        return node

    def is_time(self, parts: list[str], home: _SemanticModel) -> bool:
        """Whether `parts` (an entity path and a name) names a time dimension or metric_time."""
        if parts == ["metric_time"]:
            return True
        try:
            target = self.walk(home, parts[:-1], "dimension", parts[-1])
        except Unmappable:
            return False
        return target.is_time(parts[-1])

    def walk(self, home: _SemanticModel, path: list[str], kind: str, name: str) -> _SemanticModel:
        """The semantic model an entity path from `home` ends at, holding the dimension (or
        entity) `name` — checked against the joins the compiler will take, so a filter never
        reads a table through another path than the one it names."""

        def holds(sm: _SemanticModel) -> bool:
            if kind == "entity":
                return name in sm.entities or sm.raw.get("primary_entity") == name
            return name in sm.dimensions

        routes = [[home]]
        for hop in path:
            longer = []
            for route in routes:
                here = route[-1]
                if hop not in here.entities and here.raw.get("primary_entity") != hop:
                    continue
                if here.identifies(hop):
                    longer.append(route)  # the hop names this model's own rows
                longer += [
                    [*route, sm] for sm in self.models if sm is not here and sm.identifies(hop)
                ]
            routes = longer
        routes = sorted((r for r in routes if holds(r[-1])), key=len)
        ref = "__".join([*path, name])
        if not routes:
            what = Phrase("entity", "实体") if kind == "entity" else Phrase("dimension", "维度")
            raise Unmappable(
                Phrase(
                    f"no semantic model has the {what.en} {ref} (from {home.name})",
                    f"没有语义模型有{what.zh} {ref}（从 {home.name} 出发）",
                )
            )
        if (
            len(routes) > 1
            and len(routes[1]) == len(routes[0])
            and routes[1][-1] is not routes[0][-1]
        ):
            both = ", ".join(sorted({r[-1].name for r in routes if len(r) == len(routes[0])}))
            raise Unmappable(
                Phrase(
                    f"{ref} is ambiguous: it is found in {both}",
                    f"{ref} 有歧义：{both} 中都有",
                )
            )
        route = routes[0]
        target = route[-1]
        named_path = [home.table]
        for sm in route[1:]:
            if sm.table != named_path[-1]:
                named_path.append(sm.table)
        actual = self.draft.join_path(home.table, target.table)
        if actual is None:
            raise Unmappable(
                Phrase(
                    f"the filter needs {target.table}, which {home.table} does not join to "
                    "many-to-one",
                    f"筛选条件需要表 {target.table}，但 {home.table} 没有多对一关联到它",
                )
            )
        if actual != named_path:
            raise Unmappable(
                Phrase(
                    f"{ref} names the join path {' → '.join(named_path)}, but Cockpit joins "
                    f"{' → '.join(actual)}, which may match other rows",
                    f"{ref} 指定的关联路径是 {' → '.join(named_path)}，而 Cockpit 走的是 "
                    f"{' → '.join(actual)}，可能匹配到别的行",
                )
            )
        return target

    # --- measures and metrics -----------------------------------------------------------
    def simple(self, measure: str, filters: Iterable[str]) -> dict[str, Any]:
        """The table/agg/expr/filter/time of a simple metric over `measure`."""
        if measure in self.measure_problem:
            problem = self.measure_problem[measure]
            raise Unmappable(
                Phrase(f"its measure {measure}: {problem.en}", f"它的度量 {measure}：{problem.zh}")
            )
        sm = self.measure_home.get(measure)
        if sm is None:
            raise Unmappable(
                Phrase(
                    f"no semantic model defines the measure {measure}",
                    f"没有语义模型定义度量 {measure}",
                )
            )
        raw = sm.measures[measure]
        agg = str(raw.get("agg", "")).lower()
        expr = _text(raw.get("expr"), measure)
        if agg == "sum_boolean":
            expr = sql_of(exp.cast(parse_expr(expr), exp.DataType.Type.INT))
        time_dim = raw.get("agg_time_dimension") or sm.default_time
        if not time_dim:
            raise Unmappable(
                Phrase(
                    f"measure {measure} has no agg_time_dimension; Cockpit metrics need a date",
                    f"度量 {measure} 没有 agg_time_dimension；Cockpit 的指标需要日期",
                )
            )
        if time_dim not in sm.dimensions or not sm.is_time(time_dim):
            raise Unmappable(
                Phrase(
                    f"the agg_time_dimension {time_dim} is not a time dimension of {sm.name}",
                    f"agg_time_dimension {time_dim} 不是 {sm.name} 的时间维度",
                )
            )
        time = sm.expr(time_dim)
        data: dict[str, Any] = {"table": sm.table, "agg": AGGS[agg], "expr": expr}
        condition = self.translate(filters, sm, time)
        if condition:
            data["filter"] = condition
        data["time"] = time
        if raw.get("non_additive_dimension"):
            data["semi_additive"] = True
        return data

    def check_measure(self, sm: _SemanticModel, name: str) -> None:
        raw = sm.measures[name]
        agg = str(raw.get("agg", "")).lower()
        if agg not in AGGS:
            self.measure_problem[name] = _aggregation_reason(agg, raw.get("agg_params"))
            return
        window = raw.get("non_additive_dimension")
        if window:
            window = window if isinstance(window, dict) else {"name": window}
            time_dim = raw.get("agg_time_dimension") or sm.default_time
            choice = str(window.get("window_choice", "min")).lower()
            if window.get("window_groupings"):
                groupings = ", ".join(window["window_groupings"])
                self.measure_problem[name] = Phrase(
                    "a non-additive dimension with window_groupings (last value per "
                    f"{groupings}) has no Cockpit equivalent",
                    f"带 window_groupings（按 {groupings} 取最后一个值）的非可加维度"
                    "在 Cockpit 中没有对应",
                )
            elif choice != "max":
                self.measure_problem[name] = Phrase(
                    f"a non-additive dimension with window_choice {choice} (the first snapshot); "
                    "Cockpit balances take the last snapshot of each period",
                    f"window_choice 为 {choice}（取第一个快照）的非可加维度；"
                    "Cockpit 的余额类指标取每个期间的最后一个快照",
                )
            elif window.get("name") != time_dim:
                self.measure_problem[name] = Phrase(
                    f"a non-additive dimension on {window.get('name')}, not on the measure's own "
                    f"date {time_dim}",
                    f"非可加维度是 {window.get('name')}，而不是度量自己的日期 {time_dim}",
                )

    def metric(self, draft: ModelDraft, raw: dict[str, Any], file: str) -> None:
        name = str(raw.get("name", "?"))
        kind = str(raw.get("type", "simple")).lower()
        params = raw.get("type_params") or {}
        note = NOTHING
        fallback: Mapping[str, Any] = {}
        if kind in TYPE_PARAMS and isinstance(params, dict):
            draft.unread(params, TYPE_PARAMS[kind], f"{name}.type_params", file)
        if kind == "simple":
            measure = params.get("measure")
            if measure is None:
                raise Unmappable(
                    Phrase(
                        "a simple metric without type_params.measure is not supported",
                        "不支持没有 type_params.measure 的简单指标",
                    )
                )
            ref = measure if isinstance(measure, dict) else {"name": measure}
            filters = (*_filters(ref.get("filter")), *_filters(raw.get("filter")))
            data = self.simple(str(ref["name"]), filters)
            self.recipes[name] = (str(ref["name"]), filters)
            home = self.measure_home[str(ref["name"])]
            fallback = home.measures[str(ref["name"])]
            reasons = {}
            if ref.get("fill_nulls_with") is not None:
                reasons["fill_nulls_with"] = _fill_nulls(ref["fill_nulls_with"])
            if ref.get("join_to_timespine"):
                reasons["join_to_timespine"] = JOIN_TO_TIMESPINE
            known = MEASURE_INPUT_KEYS - {"fill_nulls_with", "join_to_timespine"}
            known |= {k for k in ("fill_nulls_with", "join_to_timespine") if k not in reasons}
            draft.unread(ref, known, f"{name}.measure", file, reasons)
            if reasons:
                self.unfilled.add(name)
                options = " and ".join(reasons)
                note = Phrase(
                    f"{options} not applied: see the options not mapped",
                    f"未应用 {'、'.join(reasons)}：见未映射的选项",
                )
        elif kind in ("ratio", "derived"):
            # MetricFlow applies a filter on the whole metric to each of its inputs.
            extra = _filters(raw.get("filter"))
            if kind == "ratio":
                top = _Input.of(params.get("numerator"), extra)
                bottom = _Input.of(params.get("denominator"), extra)
                self.unread_input(draft, name, top, file)
                self.unread_input(draft, name, bottom, file)
                expr = exp.Div(
                    this=exp.column(self.use(draft, name, top, "numerator")),
                    expression=exp.column(self.use(draft, name, bottom, "denominator")),
                )
                data = {"kind": "derived", "expr": sql_of(expr)}
            else:
                data = self.derived(draft, name, params, extra, file)
        elif kind == "cumulative":
            raise Unmappable(_cumulative_reason(params))
        elif kind == "conversion":
            raise Unmappable(
                Phrase(
                    "conversion (funnel) metrics count entities that did one thing and then "
                    "another within a window; Cockpit has no such metric",
                    "转化（漏斗）指标统计在一个窗口内先做了一件事、再做了另一件事的实体；"
                    "Cockpit 没有这类指标",
                )
            )
        else:
            raise Unmappable(Phrase(f"unknown metric type {kind}", f"未知的指标类型 {kind}"))
        inputs = sorted(self.unfilled & set(self.input_names(params))) if kind != "simple" else []
        if inputs:
            uses = ", ".join(inputs)
            note = Phrase(
                f"over {uses}, whose fill_nulls_with / join_to_timespine is not applied",
                f"它用到的 {uses} 的 fill_nulls_with / join_to_timespine 未应用",
            )
        entry = {"name": name, **self.describe(raw, name, fallback)}
        if kind == "ratio":
            entry.setdefault("unit", "ratio")
        elif _counts(data):
            entry.setdefault("unit", "count")
        entry.update(data)
        item = ImportItem("metric", name, as_metric(name, data.get("kind", "simple")), note, file)
        draft.add_metric(entry, item, {"zh": "指标", "en": "metric"})

    def derived(
        self,
        draft: ModelDraft,
        name: str,
        params: Mapping[str, Any],
        extra: tuple[str, ...],
        file: str,
    ) -> dict[str, Any]:
        """A derived metric: its expression over its inputs, aliases resolved."""
        inputs = [_Input.of(ref, extra) for ref in params.get("metrics") or []]
        for item in inputs:
            self.unread_input(draft, name, item, file)
            if item.offset:
                raise Unmappable(
                    Phrase(
                        f"its input {item.name} is offset by {item.offset}; Cockpit has no "
                        "shifted metrics (ask for a comparison such as 同比/环比 instead)",
                        f"它的输入 {item.name} 偏移了 {item.offset}；Cockpit 没有平移的指标"
                        "（请改问同比/环比这样的对比）",
                    )
                )
        renamed = {(i.alias or i.name): self.use(draft, name, i, i.alias or i.name) for i in inputs}
        try:
            node = parse_expr(_text(params.get("expr"), name))
        except ParseError:
            expr_text = params.get("expr")
            raise Unmappable(
                Phrase(
                    f"its expression {expr_text!r} is not SQL",
                    f"它的表达式 {expr_text!r} 不是 SQL",
                )
            ) from None

        def rename(n: exp.Expression) -> exp.Expression:
            if isinstance(n, exp.Column) and not n.table and n.name in renamed:
                return exp.column(renamed[n.name])
            return n

        return {"kind": "derived", "expr": sql_of(node.transform(rename))}

    @staticmethod
    def input_names(params: Mapping[str, Any]) -> list[str]:
        """The metric names a ratio or derived metric reads."""
        refs = [params.get("numerator"), params.get("denominator"), *(params.get("metrics") or [])]
        return [str(r.get("name") if isinstance(r, dict) else r) for r in refs if r]

    @staticmethod
    def unread_input(draft: ModelDraft, parent: str, item: _Input, file: str) -> None:
        for key in item.unread:
            reason = Phrase(
                f"`{key}` is not a setting the importer knows; it was not read",
                f"`{key}` 不是导入器认识的设置，未读取",
            )
            draft.unmapped("option", f"{parent}.{item.alias or item.name}.{key}", reason, file)

    def use(self, draft: ModelDraft, parent: str, item: _Input, role: str) -> str:
        """The metric name a ratio or derived metric reads for `item`; a filtered input
        becomes a helper simple metric with the filter added."""
        if not item.filters:
            return item.name
        if item.name not in self.recipes:
            raise Unmappable(
                Phrase(
                    f"its input {item.name} is filtered (by its own filter or the whole "
                    "metric's), but it is not a simple metric the filter could be added to",
                    f"它的输入 {item.name} 带筛选条件（它自己的或整个指标的），"
                    "但不是能加上筛选条件的简单指标",
                )
            )
        measure, filters = self.recipes[item.name]
        helper = unique_name(snake(f"{parent}_{role}"), draft.metric_names | self.names)
        self.names.add(helper)
        data = self.simple(measure, (*filters, *item.filters))
        source = next((raw for raw, _ in self.metrics if raw.get("name") == item.name), {})
        label = labels_of(source, humanize(item.name))
        entry = {
            "name": helper,
            "label": {lang: f"{text} ({parent} {role})" for lang, text in label.items()},
            "description": {
                "zh": f"{parent} 的 {role}：{item.name} 加上筛选条件",
                "en": f"The {role} of {parent}: {item.name} with its filter.",
            },
            **data,
        }
        draft.add_metric(
            entry,
            ImportItem("metric_input", f"{parent}.{role}", as_metric(helper, "helper")),
            {"zh": parent, "en": parent},
        )
        return helper

    @staticmethod
    def describe(
        raw: dict[str, Any], name: str, fallback: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """label, synonyms, description, unit and format of a metric or measure; a metric
        without a description takes its measure's (`fallback`)."""
        out: dict[str, Any] = {"label": labels_of(raw, humanize(name))}
        synonyms = synonyms_of(raw)
        if synonyms:
            out["synonyms"] = synonyms
        description = description_of(raw) or (description_of(fallback) if fallback else None)
        if description:
            out["description"] = description
        meta = meta_of(raw)
        if meta.get("unit") in ("yuan", "percent", "count", "days", "units", "ratio"):
            out["unit"] = meta["unit"]
        if isinstance(meta.get("format"), str):
            out["format"] = meta["format"]
        return out

    # --- the whole project --------------------------------------------------------------
    def run(self) -> tuple[str, ImportReport]:
        if not self.root.exists():
            raise ModelError("file_missing", path=str(self.root))
        name, files = self.files()
        draft = ModelDraft(snake(name), {"zh": name, "en": name}, "dbt", str(self.root))
        self.draft = draft
        self.read(draft, files)
        if not self.models:
            raise ModelError(
                "schema",
                field="semantic_models",
                detail=f"no semantic models found under {self.root}",
            )
        self.joins(draft)
        for sm in self.models:
            for measure in sm.measures:
                self.check_measure(sm, measure)
        enabled = []
        for raw, file in self.metrics:
            if _enabled(raw):
                enabled.append((raw, file))
            else:
                draft.unmapped("metric", str(raw.get("name")), DISABLED, file)
        self.names = {str(raw.get("name")) for raw, _ in enabled}
        realised: dict[str, str] = {}
        kinds = [str(raw.get("type", "simple")).lower() for raw, _ in enabled]
        simple = [pair for pair, kind in zip(enabled, kinds, strict=True) if kind == "simple"]
        others = [pair for pair, kind in zip(enabled, kinds, strict=True) if kind != "simple"]
        for raw, file in simple:
            draft.unread(
                raw, METRIC_KEYS, str(raw.get("name")), file, {"time_granularity": METRIC_GRAIN}
            )
            try:
                self.metric(draft, raw, file)
            except Unmappable as err:
                draft.unmapped("metric", str(raw.get("name")), err.reason, file)
                continue
            measure, filters = self.recipes[str(raw["name"])]
            if not filters:
                realised.setdefault(measure, str(raw["name"]))
        for sm in self.models:
            for measure, raw in sm.measures.items():
                self.measure(draft, sm, measure, raw, realised)
        for raw, file in others:
            draft.unread(
                raw, METRIC_KEYS, str(raw.get("name")), file, {"time_granularity": METRIC_GRAIN}
            )
            try:
                self.metric(draft, raw, file)
            except Unmappable as err:
                draft.unmapped("metric", str(raw.get("name")), err.reason, file)
        self.dimensions(draft)
        return draft.render()

    def measure(
        self,
        draft: ModelDraft,
        sm: _SemanticModel,
        measure: str,
        raw: dict[str, Any],
        realised: dict[str, str],
    ) -> None:
        if measure in self.measure_problem:
            draft.unmapped("measure", measure, self.measure_problem[measure], sm.file)
            return
        if measure in realised:
            draft.mapped("measure", measure, as_metric(realised[measure]), file=sm.file)
            return
        try:
            data = self.simple(measure, ())
        except Unmappable as err:
            draft.unmapped("measure", measure, err.reason, sm.file)
            return
        name = (
            measure
            if measure not in self.names
            else unique_name(f"{sm.name}_{measure}", self.names)
        )
        self.names.add(name)
        self.recipes.setdefault(name, (measure, ()))
        entry = {"name": name, **self.describe(raw, name)}
        if _counts(data):
            entry.setdefault("unit", "count")
        entry.update(data)
        item = ImportItem("measure", measure, as_metric(name, "simple"), NOTHING, sm.file)
        draft.add_metric(entry, item, sm.label)

    def dimensions(self, draft: ModelDraft) -> None:
        entries = [
            ((sm.name, dim), snake(dim), snake(sm.name))
            for sm in self.models
            for dim in sm.dimensions
        ]
        names = assign_names(entries, draft.metric_names | self.names | {"metric_time"})
        for sm in self.models:
            for dim, raw in sm.dimensions.items():
                name = names[(sm.name, dim)]
                kind = str(raw.get("type", "categorical")).lower()
                params = raw.get("type_params") or {}
                label = f"{sm.name}.{dim}"
                if kind == "time" and params.get("validity_params"):
                    draft.unmapped(
                        "dimension",
                        label,
                        Phrase(
                            "validity windows (SCD type 2) have no Cockpit equivalent",
                            "有效期窗口（SCD 类型 2）在 Cockpit 中没有对应",
                        ),
                        sm.file,
                    )
                    continue
                try:
                    node, key = sm.dimension_node(dim)
                except Unmappable as err:
                    draft.unmapped("dimension", label, err.reason, sm.file)
                    continue
                data: dict[str, Any] = {
                    "name": name,
                    "table": sm.table,
                    # The source's own text unless it had to change (a constant).
                    "expr": sm.expr(dim) if key is None else local_sql(node, sm.table),
                    "type": "time" if kind == "time" else "category",
                    "label": labels_of(raw, humanize(dim)),
                }
                entities = [e for e, (kind, _) in sm.entities.items() if kind == "primary"]
                synonyms = synonyms_of(raw) + owner_synonyms(dim, [*entities, sm.name])
                if synonyms:
                    data["synonyms"] = list(dict.fromkeys(synonyms))
                if raw.get("description"):
                    data["description"] = str(raw["description"]).strip()
                grain = str(params.get("time_granularity", "day")).lower()
                if kind == "time" and grain in GRAINS - {"day"}:
                    order = [g.value for g in Grain]
                    if grain in order:
                        data["grains"] = order[order.index(grain) :]
                note = NOTHING
                if key is not None:
                    constant = sm.expr(dim)
                    note = Phrase(
                        f"the constant {constant} holds where a row of {sm.table} matches "
                        f"({key} is set) and is empty elsewhere, as in MetricFlow's outer joins",
                        f"常量 {constant} 只在 {sm.table} 有匹配的行（{key} 有值）时成立，"
                        "其他情况为空，与 MetricFlow 的外关联一致",
                    )
                item = ImportItem("dimension", label, as_dimension(name), note, sm.file)
                draft.add_dimension(data, item, sm.label)


def _counts(data: dict[str, Any]) -> bool:
    """Whether a simple metric counts rows: count, count_distinct, a sum of 1 or of booleans."""
    if data.get("agg") in ("count", "count_distinct"):
        return True
    if data.get("agg") != "sum":
        return False
    node = parse_expr(data["expr"])  # sum_boolean was written as SUM(CAST(x AS INT))
    is_cast = isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.INT
    return is_cast or (isinstance(node, exp.Literal) and node.this == "1")


def _aggregation_reason(agg: str, params: Any) -> Phrase:
    """Why a measure's aggregation does not map, saying what it computes (`agg_params`)."""
    params = params if isinstance(params, dict) else {}
    what = agg
    if agg == "percentile":
        value = params.get("percentile")
        details = [f"{value:g}" if isinstance(value, int | float) else str(value)]
        if params.get("use_discrete_percentile"):
            details.append("discrete")
        if params.get("use_approximate_percentile"):
            details.append("approximate")
        what = f"percentile ({', '.join(details)})"
    return Phrase(
        f"the {what} aggregation has no Cockpit equivalent "
        "(Cockpit aggregates with sum, count, count_distinct, avg, min and max)",
        f"{what} 聚合在 Cockpit 中没有对应"
        "（Cockpit 的聚合有 sum、count、count_distinct、avg、min 和 max）",
    )


def _cumulative_reason(params: dict[str, Any]) -> Phrase:
    nested = params.get("cumulative_type_params") or {}
    window = params.get("window") or nested.get("window")
    to_date = params.get("grain_to_date") or nested.get("grain_to_date")
    if window:
        what = Phrase(
            f"a cumulative metric over a rolling window of {window} (each period sums the "
            f"{window} before it)",
            f"滚动窗口为 {window} 的累计指标（每个期间汇总它之前的 {window}）",
        )
    elif to_date:
        what = Phrase(
            f"a {to_date}-to-date cumulative metric (ask for the period itself, e.g. 'year to "
            "date', for the total up to a day)",
            f"{to_date}-to-date 累计指标（要看截至某天的合计，请直接问期间，例如“年初至今”）",
        )
    else:
        what = Phrase(
            "a running total over all time (each period sums everything before it)",
            "全部时间的累计值（每个期间汇总它之前的全部数据）",
        )
    return Phrase(f"{what.en}: Cockpit has no window metrics", f"{what.zh}：Cockpit 没有窗口类指标")


def _saved_query(query: Mapping[str, Any]) -> Phrase:
    """Why a saved query is not mapped, saying what it asks."""
    params = query.get("query_params") if isinstance(query.get("query_params"), dict) else {}
    metrics = ", ".join(str(m) for m in params.get("metrics") or []) or "no metrics"
    group_by = ", ".join(str(g) for g in params.get("group_by") or [])
    asks = metrics + (f" by {group_by}" if group_by else "")
    asks_zh = metrics + (f"，按 {group_by}" if group_by else "")
    if params.get("where"):
        asks, asks_zh = asks + ", filtered", asks_zh + "，带筛选"
    exports = [str(e.get("name")) for e in query.get("exports") or [] if isinstance(e, dict)]
    made = f"; its exports ({', '.join(exports)}) are tables dbt writes" if exports else ""
    made_zh = f"；它的导出（{', '.join(exports)}）是 dbt 写出的表" if exports else ""
    return Phrase(
        f"a saved query is a stored question ({asks}); Cockpit keeps no stored queries, so ask "
        f"it as a question{made}",
        f"保存的查询是存起来的问题（{asks_zh}）；Cockpit 不保存查询，请直接提问{made_zh}",
    )


def import_dbt(
    project_dir: Path, *, table_prefix: str = "", tables: Mapping[str, str] | None = None
) -> tuple[str, ImportReport]:
    """Read the dbt MetricFlow project at `project_dir` (its dbt_project.yml and model YAML,
    or one YAML file) into a Cockpit model: the YAML text and the report of every element.

    Each `ref('x')` becomes table `x` (the model's alias if it has one); `table_prefix` is put
    in front of every table name and `tables` renames single models ({"orders": "raw_orders"}),
    for databases where the tables are named differently. Raises `ModelError` when the path
    does not exist or holds no semantic models."""
    return _DbtImporter(Path(project_dir), table_prefix, tables or {}).run()
