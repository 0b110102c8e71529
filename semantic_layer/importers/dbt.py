"""`import_dbt`: a dbt MetricFlow project → a Cockpit model YAML and a report of what mapped.

    yaml_text, report = import_dbt(Path("jaffle_shop"))
    Path("model.yaml").write_text(yaml_text, encoding="utf-8"); print(report.text())

What maps:
- a semantic model becomes a table named after its `ref('...')` (the dbt model's alias if the
  project gives one); its primary entity is the primary key, its default agg time dimension
  the table's time column;
- an entity of model A that is the primary (or unique) entity of model B becomes the
  many-to-one join A → B on the two entity columns;
- dimensions become dimensions (time dimensions keep their grains); names repeated across
  semantic models are qualified with the model name (`orders_status`);
- a measure becomes a simple metric dated by its agg time dimension (sum, count,
  count_distinct, average, min, max, sum_boolean); a max-window non-additive dimension on the
  metric's own date becomes `semi_additive`;
- simple metrics become simple metrics, their jinja filters (`{{ Dimension('order__status') }}
  = 'completed'`) translated to SQL on the table that holds the dimension; ratio metrics
  become `numerator / denominator`; derived metrics keep their expression with aliases
  resolved. A filtered input of a ratio or derived metric becomes a filtered helper metric.

What does not (each reported with the reason): median and percentile measures, cumulative
and conversion metrics, offset windows, filters on metric values, natural (SCD) entities.

The report and the model assembly both importers share live in `common.py`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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
    labels_of,
    meta_of,
    named,
    owner_synonyms,
    plain_column,
    snake,
    sql_of,
    synonyms_of,
    unique_name,
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
GRAINS = {g.value for g in Grain} | {"hour", "minute", "second", "millisecond", "nanosecond"}
# A jinja block in a filter: {{ Dimension('order__status') }}.
JINJA = re.compile(r"\{\{(.*?)\}\}", re.S)


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

    @property
    def default_time(self) -> str | None:
        defaults = self.raw.get("defaults") or {}
        return defaults.get("agg_time_dimension")

    def expr(self, dimension: str) -> str:
        return _text(self.dimensions[dimension].get("expr"), dimension)

    def is_time(self, dimension: str) -> bool:
        return str(self.dimensions[dimension].get("type", "")).lower() == "time"


@dataclass(frozen=True)
class _Input:
    """A metric used by a ratio or derived metric, with what the using metric adds to it."""

    name: str
    alias: str | None = None
    filters: tuple[str, ...] = ()
    offset: str | None = None

    @classmethod
    def of(cls, ref: Any) -> _Input:
        if isinstance(ref, str):
            return cls(ref)
        if not isinstance(ref, dict) or "name" not in ref:
            raise Unmappable(
                Phrase(f"cannot read the metric input {ref!r}", f"无法读取指标输入 {ref!r}")
            )
        offset = ref.get("offset_window") or ref.get("offset_to_grain")
        return cls(ref["name"], ref.get("alias"), _filters(ref.get("filter")), offset)


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
        for raw, file in semantic:
            self.semantic_model(draft, raw, file)

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
        for entity in named(raw, "entities", draft, file, name):
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

        return qualify(node.transform(fill), home.table)

    def resolve(self, source: str, home: _SemanticModel, time: str) -> exp.Expression:
        """One jinja call of a filter as a SQL expression on the table that holds it."""
        kind, args, kwargs, methods = _call(source)
        if kind == "Metric":
            raise Unmappable(
                Phrase(
                    f"the filter {{{{{source.strip()}}}}} filters on a metric's value, "
                    "which Cockpit filters cannot express",
                    f"筛选条件 {{{{{source.strip()}}}}} 按指标的值筛选，Cockpit 的筛选表达不了",
                )
            )
        if kind not in ("Dimension", "TimeDimension", "Entity") or not args:
            raise Unmappable(
                Phrase(
                    f"unknown filter call {{{{{source.strip()}}}}}",
                    f"未知的筛选调用 {{{{{source.strip()}}}}}",
                )
            )
        name = str(args[0])
        grain = None
        if kind == "TimeDimension":
            grain = args[1] if len(args) > 1 else kwargs.get("time_granularity_name")
        if kwargs.get("date_part_name") or any(m == "date_part" for m, _ in methods):
            raise Unmappable(
                Phrase(
                    f"date parts in filters are not supported: {{{{{source.strip()}}}}}",
                    f"不支持在筛选条件中使用日期部分（date part）：{{{{{source.strip()}}}}}",
                )
            )
        for method, margs in methods:
            if method == "grain" and margs:
                grain = margs[0]
        parts = name.split("__")
        if len(parts) > 1 and parts[-1].lower() in GRAINS and kind != "Entity":
            grain = grain or parts.pop()
        if kind == "Entity":
            node = self.entity_expr(parts[-1], home)
        elif parts == ["metric_time"]:
            node = qualify(parse_expr(time), home.table)
        else:
            node = self.dimension_expr(parts[-2] if len(parts) > 1 else None, parts[-1], home)
        if grain:
            node = exp.DateTrunc(this=node, unit=exp.var(str(grain).upper()))
        return node

    def dimension_expr(self, entity: str | None, dim: str, home: _SemanticModel) -> exp.Expression:
        if entity is None:
            owners = [home] if dim in home.dimensions else []
        else:
            owners = [
                sm
                for sm in self.models
                if dim in sm.dimensions and sm.entities.get(entity, ("",))[0] in JOINABLE
            ]
        if not owners:
            ref = f"{entity}__{dim}" if entity else dim
            raise Unmappable(
                Phrase(f"no semantic model has the dimension {ref}", f"没有语义模型有维度 {ref}")
            )
        target = home if home in owners else owners[0]
        self.need_path(home, target)
        return qualify(parse_expr(target.expr(dim)), target.table)

    def entity_expr(self, entity: str, home: _SemanticModel) -> exp.Expression:
        if entity in home.entities:
            return qualify(parse_expr(home.entities[entity][1]), home.table)
        for sm in self.models:
            if sm.entities.get(entity, ("",))[0] in JOINABLE:
                self.need_path(home, sm)
                return qualify(parse_expr(sm.entities[entity][1]), sm.table)
        raise Unmappable(
            Phrase(f"no semantic model has the entity {entity}", f"没有语义模型有实体 {entity}")
        )

    def need_path(self, home: _SemanticModel, target: _SemanticModel) -> None:
        if not self.draft.reachable(home.table, target.table):
            raise Unmappable(
                Phrase(
                    f"the filter needs {target.table}, which {home.table} does not join to "
                    "many-to-one",
                    f"筛选条件需要表 {target.table}，但 {home.table} 没有多对一关联到它",
                )
            )

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
            self.measure_problem[name] = Phrase(
                f"the {agg} aggregation has no Cockpit equivalent "
                "(Cockpit aggregates with sum, count, count_distinct, avg, min and max)",
                f"{agg} 聚合在 Cockpit 中没有对应"
                "（Cockpit 的聚合有 sum、count、count_distinct、avg、min 和 max）",
            )
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
            ignored = [k for k in ("fill_nulls_with", "join_to_timespine") if ref.get(k)]
            if ignored:
                note = Phrase(
                    f"{' and '.join(ignored)} ignored: Cockpit shows periods without data as empty",
                    f"已忽略 {'、'.join(ignored)}：Cockpit 把没有数据的期间显示为空",
                )
        elif kind == "ratio":
            if raw.get("filter"):
                raise Unmappable(
                    Phrase(
                        "a filter on a whole ratio metric is not supported",
                        "不支持对整个比率指标加筛选条件",
                    )
                )
            top = _Input.of(params.get("numerator"))
            bottom = _Input.of(params.get("denominator"))
            expr = exp.Div(
                this=exp.column(self.use(draft, name, top, "numerator")),
                expression=exp.column(self.use(draft, name, bottom, "denominator")),
            )
            data = {"kind": "derived", "expr": sql_of(expr)}
        elif kind == "derived":
            if raw.get("filter"):
                raise Unmappable(
                    Phrase(
                        "a filter on a whole derived metric is not supported",
                        "不支持对整个派生指标加筛选条件",
                    )
                )
            inputs = [_Input.of(ref) for ref in params.get("metrics") or []]
            for item in inputs:
                if item.offset:
                    raise Unmappable(
                        Phrase(
                            f"its input {item.name} is offset by {item.offset}; Cockpit has no "
                            "shifted metrics (ask for a comparison such as 同比/环比 instead)",
                            f"它的输入 {item.name} 偏移了 {item.offset}；Cockpit 没有平移的指标"
                            "（请改问同比/环比这样的对比）",
                        )
                    )
            renamed = {
                (i.alias or i.name): self.use(draft, name, i, i.alias or i.name) for i in inputs
            }
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

            data = {"kind": "derived", "expr": sql_of(node.transform(rename))}
        elif kind == "cumulative":
            raise Unmappable(_cumulative_reason(params))
        elif kind == "conversion":
            raise Unmappable(
                Phrase(
                    "conversion (funnel) metrics have no Cockpit equivalent",
                    "转化（漏斗）指标在 Cockpit 中没有对应",
                )
            )
        else:
            raise Unmappable(Phrase(f"unknown metric type {kind}", f"未知的指标类型 {kind}"))
        entry = {"name": name, **self.describe(raw, name)}
        if kind == "ratio":
            entry.setdefault("unit", "ratio")
        elif _counts(data):
            entry.setdefault("unit", "count")
        entry.update(data)
        item = ImportItem("metric", name, as_metric(name, data.get("kind", "simple")), note, file)
        draft.add_metric(entry, item, {"zh": "指标", "en": "metric"})

    def use(self, draft: ModelDraft, parent: str, item: _Input, role: str) -> str:
        """The metric name a ratio or derived metric reads for `item`; a filtered input
        becomes a helper simple metric with the filter added."""
        if not item.filters:
            return item.name
        if item.name not in self.recipes:
            raise Unmappable(
                Phrase(
                    f"its input {item.name} is filtered, but it is not a simple metric",
                    f"它的输入 {item.name} 带筛选条件，但不是简单指标",
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
    def describe(raw: dict[str, Any], name: str) -> dict[str, Any]:
        """label, synonyms, description, unit and format of a metric or measure."""
        out: dict[str, Any] = {"label": labels_of(raw, humanize(name))}
        synonyms = synonyms_of(raw)
        if synonyms:
            out["synonyms"] = synonyms
        description = description_of(raw)
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
        self.names = {str(raw.get("name")) for raw, _ in self.metrics}
        realised: dict[str, str] = {}
        kinds = [str(raw.get("type", "simple")).lower() for raw, _ in self.metrics]
        simple = [pair for pair, kind in zip(self.metrics, kinds, strict=True) if kind == "simple"]
        others = [pair for pair, kind in zip(self.metrics, kinds, strict=True) if kind != "simple"]
        for raw, file in simple:
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
                if kind == "time" and params.get("validity_params"):
                    draft.unmapped(
                        "dimension",
                        f"{sm.name}.{dim}",
                        Phrase(
                            "validity windows (SCD type 2) have no Cockpit equivalent",
                            "有效期窗口（SCD 类型 2）在 Cockpit 中没有对应",
                        ),
                        sm.file,
                    )
                    continue
                data: dict[str, Any] = {
                    "name": name,
                    "table": sm.table,
                    "expr": sm.expr(dim),
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
                label = f"{sm.name}.{dim}"
                item = ImportItem("dimension", label, as_dimension(name), NOTHING, sm.file)
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


def _cumulative_reason(params: dict[str, Any]) -> Phrase:
    nested = params.get("cumulative_type_params") or {}
    window = params.get("window") or nested.get("window")
    to_date = params.get("grain_to_date") or nested.get("grain_to_date")
    if window:
        what = Phrase(
            f"a cumulative metric over a rolling window of {window}",
            f"滚动窗口为 {window} 的累计指标",
        )
    elif to_date:
        what = Phrase(f"a {to_date}-to-date cumulative metric", f"{to_date}-to-date 累计指标")
    else:
        what = Phrase("a running total over all time", "全部时间的累计值")
    return Phrase(f"{what.en}: Cockpit has no window metrics", f"{what.zh}：Cockpit 没有窗口类指标")


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
