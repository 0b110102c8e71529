"""What the importers share: the report of what mapped, naming helpers and `ModelDraft`.

`ImportItem` and `ImportReport` list every element of the imported model, mapped or left out
with the reason; `ModelDraft` assembles the Cockpit model, keeps names and words unambiguous
and renders the YAML. `dbt.py` and `cube.py` build on them.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

from semantic_layer.expressions import MODEL_DIALECT, PERIOD_DAYS, columns_of, parse_expr
from semantic_layer.loader import read_model
from semantic_layer.model import IDENT

# Folders no importer reads (build output, packages, virtual environments).
SKIP_DIRS = {"target", "dbt_packages", "node_modules", "logs", ".venv", ".git"}
# What a template block is replaced by while the rest of an expression is parsed as SQL.
HOLE = re.compile(r"__cockpit_ref_(\d+)__")


@dataclass(frozen=True)
class Phrase:
    """A report phrase in English and Chinese.

    Each reason is written once, where the importer decides it, in both languages, so the
    report reads in the user's language without a second table of messages to keep in step.
    Technical tokens (names, files, SQL) go into both texts unchanged.
    """

    en: str
    zh: str

    def get(self, lang: str) -> str:
        """The text in `lang` ("zh" or "en")."""
        return self.zh if lang == "zh" else self.en

    def __bool__(self) -> bool:
        return bool(self.en or self.zh)


NOTHING = Phrase("", "")

# Chinese names of the kinds of element a report lists; a kind not here is shown as it is.
KIND_ZH = {
    "file": "文件",
    "semantic_model": "语义模型",
    "semantic_models": "语义模型",
    "cube": "cube",
    "cubes": "cube",
    "view": "视图",
    "views": "视图",
    "entity": "实体",
    "entities": "实体",
    "join": "关联",
    "joins": "关联",
    "dimension": "维度",
    "dimensions": "维度",
    "segment": "分段",
    "measure": "度量",
    "measures": "度量",
    "metric": "指标",
    "metrics": "指标",
    "metric_input": "指标输入",
    "pre_aggregation": "预聚合",
    "option": "选项",
    "saved_query": "保存的查询",
}


@dataclass(frozen=True)
class ImportItem:
    """One element of the source model and what became of it in the Cockpit model."""

    kind: str  # semantic_model, entity, dimension, measure, metric, cube, join, view, ...
    name: str
    became: Phrase = NOTHING  # what it became ("metric revenue"); empty when it was not mapped
    why: Phrase = NOTHING  # why it was not mapped, or a note on how it was
    file: str = ""

    @property
    def target(self) -> str:
        """What it became, in English."""
        return self.became.en

    @property
    def reason(self) -> str:
        """Why it was not mapped (or the note on how it was), in English."""
        return self.why.en

    def describe(self, lang: str = "en") -> str:
        """One line: `metric revenue → metric revenue (note)` or `metric x: reason`."""
        zh = lang == "zh"
        head = f"{KIND_ZH.get(self.kind, self.kind) if zh else self.kind} {self.name}"
        why = self.why.get(lang)
        if self.became:
            note = (f"（{why}）" if zh else f" ({why})") if why else ""
            return f"{head} → {self.became.get(lang)}{note}"
        return f"{head}{'：' if zh else ': '}{why}"


@dataclass(frozen=True)
class ImportReport:
    """Every element of the imported model: those mapped, and those left out with the reason."""

    source: str  # "dbt" or "cube"
    path: str
    mapped: tuple[ImportItem, ...] = ()
    unmapped: tuple[ImportItem, ...] = ()
    # What the model loader still objects to in the written YAML (expected to be empty).
    problems: tuple[Phrase, ...] = ()
    # What holds for the import as a whole (labels copied between languages, how Cube
    # measures are dated): said once rather than on every item it concerns.
    notes: tuple[Phrase, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the imported model loads as it is."""
        return not self.problems

    def find(self, name: str, kind: str | None = None) -> ImportItem | None:
        """The item called `name` (of `kind`), mapped or not; None if the source had none."""
        for item in (*self.mapped, *self.unmapped):
            if item.name == name and (kind is None or item.kind == kind):
                return item
        return None

    def text(self, lang: str = "en") -> str:
        """The report as lines a model author reads after an import, in `lang`."""
        zh = lang == "zh"
        if zh:
            lines = [
                f"已导入 {self.source} 模型 {self.path}："
                f"{len(self.mapped)} 个元素已映射，{len(self.unmapped)} 个未映射。"
            ]
        else:
            lines = [
                f"Imported {self.source} model {self.path}: "
                f"{len(self.mapped)} element(s) mapped, {len(self.unmapped)} not mapped."
            ]
        if self.problems:
            lines.append(
                "模型仍有问题，需要手工修复："
                if zh
                else "The model still has problems to fix by hand:"
            )
            lines += [f"  - {problem.get(lang)}" for problem in self.problems]
        if self.unmapped:
            lines.append("未映射：" if zh else "Not mapped:")
            lines += [f"  - {item.describe(lang)}" for item in self.unmapped]
        if self.notes:
            lines.append("说明：" if zh else "Notes:")
            lines += [f"  - {note.get(lang)}" for note in self.notes]
        if self.mapped:
            lines.append("已映射：" if zh else "Mapped:")
            lines += [f"  - {item.describe(lang)}" for item in self.mapped]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for `cockpit import ... --json`): the English texts, and the
        Chinese ones beside them (`target_zh`, `reason_zh`, `problems_zh`)."""

        def item(one: ImportItem) -> dict[str, str]:
            fields = {
                "kind": one.kind,
                "name": one.name,
                "target": one.became.en,
                "target_zh": one.became.zh,
                "reason": one.why.en,
                "reason_zh": one.why.zh,
                "file": one.file,
            }
            return {k: v for k, v in fields.items() if v or k == "kind"}

        return {
            "source": self.source,
            "path": self.path,
            "mapped": [item(one) for one in self.mapped],
            "unmapped": [item(one) for one in self.unmapped],
            "problems": [problem.en for problem in self.problems],
            "problems_zh": [problem.zh for problem in self.problems],
            "notes": [note.en for note in self.notes],
            "notes_zh": [note.zh for note in self.notes],
        }


class Unmappable(Exception):
    """Raised inside an importer when one element cannot be mapped; it becomes a report line."""

    def __init__(self, reason: Phrase) -> None:
        super().__init__(reason.en)
        self.reason = reason


def snake(name: str) -> str:
    """A source name as a Cockpit identifier: `totalAmount` → `total_amount`, `2x` → `_2x`."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name)).lower()
    text = re.sub(r"[^a-z0-9_]+", "_", text).strip("_") or "item"
    return f"_{text}" if text[0].isdigit() else text


def humanize(name: str) -> str:
    """A readable default label: `order_items` → `Order items`."""
    text = snake(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def assign_names(
    entries: Iterable[tuple[Any, str, str]], reserved: Iterable[str] = ()
) -> dict[Any, str]:
    """Final names for (key, base name, qualifier) entries: a base name used more than once
    (or reserved) is qualified (`status` in orders and in returns → `orders_status`)."""
    entries = list(entries)
    reserved = set(reserved)
    counts = Counter(base for _key, base, _qualifier in entries)
    taken = set(reserved)
    names: dict[Any, str] = {}
    for key, base, qualifier in entries:
        name = base if counts[base] == 1 and base not in reserved else f"{qualifier}_{base}"
        names[key] = unique_name(snake(name), taken)
        taken.add(names[key])
    return names


def unique_name(name: str, taken: Iterable[str]) -> str:
    """`name`, or `name_2`, `name_3`… if it is taken."""
    taken = set(taken)
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    return candidate


def meta_of(node: Mapping[str, Any]) -> dict[str, Any]:
    """`meta` merged with `config.meta` (dbt accepts both)."""
    config = node.get("config") if isinstance(node.get("config"), dict) else {}
    meta = node.get("meta") if isinstance(node.get("meta"), dict) else {}
    return {**(config.get("meta") or {}), **meta}


def labels_of(node: Mapping[str, Any], default_en: str, label_key: str = "label") -> dict[str, str]:
    """{zh, en}: `label` (or `title`) in English; Chinese from `meta.zh`/`meta.label_zh`,
    else the English one."""
    meta = meta_of(node)
    en = str(node.get(label_key) or default_en).strip()
    zh = str(meta.get("label_zh") or meta.get("zh") or en).strip()
    return {"zh": zh, "en": en}


def description_of(node: Mapping[str, Any]) -> dict[str, str] | None:
    """{zh, en} from `description` and `meta.description_zh`; None when there is none."""
    en = str(node.get("description") or "").strip()
    if not en:
        return None
    zh = str(meta_of(node).get("description_zh") or en).strip()
    return {"zh": zh, "en": en}


def synonyms_of(node: Mapping[str, Any]) -> list[str]:
    """`meta.synonyms` (a list, or one string)."""
    words = meta_of(node).get("synonyms") or []
    return [str(w) for w in ([words] if isinstance(words, str) else words)]


def owner_synonyms(dimension: str, owners: Iterable[str]) -> list[str]:
    """`customer_name` (or `name`) of customers → ["customer"]: people ask "by customer"
    when they mean the name."""
    words = []
    for owner in owners:
        singular = snake(owner)
        if singular.endswith("s") and not singular.endswith("ss"):
            singular = singular[:-1]
        if snake(dimension) in (f"{singular}_name", "name"):
            words.append(singular.replace("_", " "))
    return list(dict.fromkeys(words))


def named(
    node: Mapping[str, Any], key: str, draft: ModelDraft, file: str, owner: str = ""
) -> list[dict[str, Any]]:
    """The items of the list `node[key]` that are mappings with a name; the others are
    reported as malformed."""
    items = node.get(key) or []
    if not isinstance(items, list):
        draft.unmapped(
            key, owner or key, Phrase(f"`{key}` is not a list", f"`{key}` 不是列表"), file
        )
        return []
    good = []
    for index, item in enumerate(items):
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            good.append(item)
        else:
            where = f"{owner}.{key}[{index}]" if owner else f"{key}[{index}]"
            kind = "entity" if key == "entities" else key.rstrip("s")
            draft.unmapped(kind, where, MALFORMED, file)
    return good


MALFORMED = Phrase(
    "malformed: expected a mapping with a name", "格式有误：应为带 name 的映射（mapping）"
)


def plain_column(text: str) -> str | None:
    """The column name when `text` is one bare column (`customer_id`), else None."""
    try:
        node = parse_expr(text)
    except SqlglotError:
        return None
    return node.name if isinstance(node, exp.Column) and not node.table else None


def sql_of(node: exp.Expression) -> str:
    """A model expression as text (the YAML holds SQL in the model's own dialect)."""
    return node.sql(dialect=MODEL_DIALECT)


def local_sql(node: exp.Expression, table: str) -> str:
    """An expression as text with its own table's columns left unqualified."""

    def strip(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and n.table == table:
            return exp.column(n.name, quoted=n.this.quoted)
        return n

    return sql_of(node.copy().transform(strip))


# --- constant dimensions ---------------------------------------------------------------------
# A dimension whose expression reads no column (dbt `expr: "1"`, Cube `sql: 1`) is not the
# same value on every row once it is reached through a join: both MetricFlow and Cube join
# outward with LEFT JOIN, so it is the constant where a row of its table matches and NULL
# where none does. `has_loss_payment = 1` means "this claim amount has a loss payment row".
# Copied as the bare constant, the filter becomes `1 = 1` and the meaning is gone; so the
# importers write it as `CASE WHEN <key> IS NOT NULL THEN <constant> END` over the table's key,
# which is set on every matched row and NULL on every unmatched one.


def is_constant(node: exp.Expression) -> bool:
    """Whether an expression reads no column: `1`, `'premium'`, `TRUE`, `1 + 1`."""
    return not any(isinstance(n, exp.Column | exp.Star) for n in node.walk())


def when_row_exists(constant: exp.Expression, key: exp.Column) -> exp.Case:
    """`CASE WHEN <key> IS NOT NULL THEN <constant> END`: the constant on rows that matched."""
    test = exp.Not(this=exp.Is(this=key.copy(), expression=exp.Null()))
    return exp.Case(ifs=[exp.If(this=test, true=constant.copy())])


def _row_test(node: exp.Expression) -> tuple[exp.Column, exp.Expression] | None:
    """(key, constant) when `node` is what `when_row_exists` writes."""
    if not isinstance(node, exp.Case) or node.args.get("default") or len(node.args["ifs"]) != 1:
        return None
    branch = node.args["ifs"][0]
    test, value = branch.this, branch.args.get("true")
    if (
        isinstance(test, exp.Not)
        and isinstance(test.this, exp.Is)
        and isinstance(test.this.this, exp.Column)
        and isinstance(test.this.expression, exp.Null)
        and value is not None
        and is_constant(value)
    ):
        return test.this.this, value
    return None


def _same_constant(a: exp.Expression, b: exp.Expression) -> bool:
    """`1` and `1`, `'x'` and `'x'`, `1` and `1.0`; a boolean and its SQL spelling."""
    if isinstance(a, exp.Literal) and isinstance(b, exp.Literal):
        if a.is_string or b.is_string:
            return a.is_string == b.is_string and a.this == b.this
        try:
            return float(a.this) == float(b.this)
        except ValueError:
            return False
    return a.sql() == b.sql()


def simplify_row_tests(node: exp.Expression) -> exp.Expression:
    """Say a test on a constant dimension as what it means: `CASE WHEN k IS NOT NULL THEN 1
    END = 1` → `k IS NOT NULL`; `… IS NULL` → `k IS NULL`. Other uses keep the CASE (exact too).
    """

    def simplify(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.EQ):
            for side, other in ((n.this, n.expression), (n.expression, n.this)):
                found = _row_test(side)
                if found and is_constant(other) and _same_constant(found[1], other):
                    key = found[0].copy()
                    return exp.Not(this=exp.Is(this=key, expression=exp.Null()))
        if isinstance(n, exp.Is) and isinstance(n.expression, exp.Null):
            found = _row_test(n.this)
            if found:
                return exp.Is(this=found[0].copy(), expression=exp.Null())
        return n

    return node.transform(simplify)


def _load_problems(text: str) -> tuple[Phrase, ...]:
    """The errors `read_model` finds in the YAML an importer wrote (a safety net: the
    importers avoid every one they know of)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.yaml"
        path.write_text(text, encoding="utf-8")
        _model, issues = read_model(path)
    problems = []
    for issue in issues:
        if issue.severity != "error":
            continue
        bare = replace(issue, line=None)  # the temporary file's name means nothing to a reader
        en, zh = bare.message("en"), bare.message("zh")
        if issue.line:
            en, zh = f"line {issue.line}: {en}", f"第 {issue.line} 行：{zh}"
        problems.append(Phrase(en, zh))
    return tuple(problems)


# The order a report lists elements in: containers first, then what is inside them.
KIND_ORDER = [
    "file",
    "saved_query",
    "semantic_model",
    "cube",
    "view",
    "entity",
    "join",
    "dimension",
    "segment",
    "measure",
    "metric",
    "metric_input",
    "pre_aggregation",
    "option",
]


def _in_order(items: list[ImportItem]) -> tuple[ImportItem, ...]:
    rank = {kind: index for index, kind in enumerate(KIND_ORDER)}
    return tuple(sorted(items, key=lambda item: rank.get(item.kind, len(rank))))


class _Flow(dict):
    """A mapping written on one line: `{zh: 订单, en: Orders}`."""


class _FlowList(list):
    """A list written on one line: `[order_id]`."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", list(v.items()), True)
)
_Dumper.add_representer(
    _FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, True)
)


@dataclass
class _Entry:
    """A dimension or metric on its way into the model, with the report line it will make."""

    data: dict[str, Any]
    item: ImportItem
    qualifier: dict[str, str]  # {zh, en} of where it came from, to tell two labels apart


@dataclass
class ModelDraft:
    """The Cockpit model an importer assembles, and the report of what became of each element.

    Importers add tables, joins, dimensions and metrics as plain mappings in the YAML shape;
    `render` drops what cannot stand (an expression that does not parse, a dimension no metric
    reaches, a derived metric over a metric left out), makes every word unambiguous and writes
    the YAML.
    """

    name: str
    label: dict[str, str]
    source: str
    path: str
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    joins: list[dict[str, Any]] = field(default_factory=list)
    dimensions: list[_Entry] = field(default_factory=list)
    metrics: list[_Entry] = field(default_factory=list)
    mapped_items: list[ImportItem] = field(default_factory=list)
    unmapped_items: list[ImportItem] = field(default_factory=list)
    notes: list[Phrase] = field(default_factory=list)

    # --- building -----------------------------------------------------------------------
    def add_table(
        self,
        name: str,
        primary_key: list[str] | None = None,
        time_column: str | None = None,
        label: dict[str, str] | None = None,
        description: str | None = None,
    ) -> None:
        """Add a table (once per name); raises `Unmappable` for a name Cockpit cannot use."""
        if not re.match(IDENT, name):
            raise Unmappable(
                Phrase(
                    f"table name {name!r} is not a plain identifier",
                    f"表名 {name!r} 不是普通标识符",
                )
            )
        if name in self.tables:
            return
        table: dict[str, Any] = {"name": name}
        if primary_key:
            table["primary_key"] = _FlowList(primary_key)
        if time_column:
            table["time_column"] = time_column
        if label:
            table["label"] = _Flow(label)
        if description and str(description).strip():
            table["description"] = str(description).strip()
        self.tables[name] = table

    def add_join(self, from_table: str, to: str, pairs: list[tuple[str, str]]) -> Phrase | None:
        """Add the many-to-one join; None if added, else why not (a duplicate, a self-join)."""
        if from_table == to:
            return Phrase("a table cannot join to itself", "表不能关联到自身")
        for join in self.joins:
            if (join["from"], join["to"]) == (from_table, to):
                return Phrase(
                    f"the join {from_table} → {to} is already defined",
                    f"关联 {from_table} → {to} 已经定义过",
                )
        on: Any = pairs[0][0] if len(pairs) == 1 and pairs[0][0] == pairs[0][1] else None
        if on is None:
            on = _FlowList(_FlowList(pair) for pair in pairs)
        self.joins.append(_Flow({"from": from_table, "to": to, "on": on}))
        return None

    def reach_order(self, base: str) -> list[str]:
        """`base` and every table it reaches by walking joins many → one, nearest first."""
        order, index = [base], 0
        while index < len(order):
            for join in self.joins:
                if join["from"] == order[index] and join["to"] not in order:
                    order.append(join["to"])
            index += 1
        return order

    def reachable(self, base: str, table: str) -> bool:
        """Whether `table` is `base` or reached from it by walking joins many → one."""
        return table in self.reach_order(base)

    def join_path(self, base: str, table: str) -> list[str] | None:
        """The tables from `base` to `table` the compiler will join through (the shortest
        path, the join declared first among equals, as `graph.py` chooses); None if none."""
        paths = {base: [base]}
        order = [base]
        for current in order:
            for join in self.joins:
                if join["from"] == current and join["to"] not in paths:
                    paths[join["to"]] = [*paths[current], join["to"]]
                    order.append(join["to"])
        return paths.get(table)

    def add_dimension(self, data: dict[str, Any], item: ImportItem, qualifier: dict[str, str]):
        """Add a dimension in the YAML shape; `qualifier` ({zh, en} of its origin) tells two
        equal labels apart."""
        self.dimensions.append(_Entry(data, item, qualifier))

    def add_metric(self, data: dict[str, Any], item: ImportItem, qualifier: dict[str, str]):
        """Add a metric in the YAML shape (see `add_dimension`)."""
        self.metrics.append(_Entry(data, item, qualifier))

    def mapped(
        self, kind: str, name: str, target: Phrase, note: Phrase = NOTHING, file: str = ""
    ) -> None:
        """Record an element that became `target` (a table, a join, a primary key)."""
        self.mapped_items.append(ImportItem(kind, name, target, note, file))

    def unmapped(self, kind: str, name: str, reason: Phrase, file: str = "") -> None:
        """Record an element left out, and why."""
        self.unmapped_items.append(ImportItem(kind, name, NOTHING, reason, file))

    def unread(
        self,
        node: Mapping[str, Any],
        known: Iterable[str],
        owner: str,
        file: str = "",
        reasons: Mapping[str, Phrase] | None = None,
    ) -> None:
        """Report each key of `node` the importer does not read as an option not mapped:
        what a source says and the importer skips must show in the report, never vanish.
        `reasons` gives the reason for keys that are known but have no Cockpit equivalent."""
        reasons = reasons or {}
        known = set(known)
        for key in node:
            if key in reasons:
                self.unmapped("option", f"{owner}.{key}", reasons[key], file)
            elif key not in known:
                reason = Phrase(
                    f"`{key}` is not a setting the importer knows; it was not read",
                    f"`{key}` 不是导入器认识的设置，未读取",
                )
                self.unmapped("option", f"{owner}.{key}", reason, file)

    @property
    def metric_names(self) -> set[str]:
        return {entry.data["name"] for entry in self.metrics}

    # --- rendering ----------------------------------------------------------------------
    def render(self) -> tuple[str, ImportReport]:
        """The model YAML text and the report."""
        dimensions = [e for e in self.dimensions if self._parses(e, ("expr",))]
        metrics = [e for e in self.metrics if self._parses(e, ("expr", "filter", "time"))]
        metrics = self._drop_orphans(metrics)
        facts = {e.data["table"] for e in metrics if "table" in e.data}
        kept = []
        for entry in dimensions:
            table = entry.data["table"]
            if facts and not any(self.reachable(fact, table) for fact in facts):
                reason = Phrase(
                    f"no metric's table reaches table {table} through joins",
                    f"没有哪个指标的表能通过关联到达表 {table}",
                )
                self._drop(entry, reason)
            else:
                kept.append(entry)
        time = _Entry(
            {
                "name": "metric_time",
                "metric_time": True,
                "type": "time",
                "label": {"zh": "时间", "en": "Time"},
                "synonyms": ["日期", "期间", "date", "period"],
                "description": "each metric's own date (时间：每个指标自己的业务日期)",
            },
            ImportItem("dimension", "metric_time"),
            {"zh": "时间", "en": "time"},
        )
        self._note_labels([*metrics, *kept])
        self._unambiguous([*metrics, time, *kept])
        for entry in [*kept, *metrics]:
            self.mapped_items.append(entry.item)
        model: dict[str, Any] = {"name": self.name, "label": _Flow(self.label)}
        # A table with a description is written as a block: a one-line mapping would wrap.
        model["tables"] = [t if "description" in t else _Flow(t) for t in self.tables.values()]
        model["joins"] = self.joins
        model["dimensions"] = [self._shape(e.data) for e in [time, *kept]]
        model["metrics"] = [self._shape(e.data) for e in metrics]
        body = yaml.dump(
            model, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, indent=2
        )
        report = ImportReport(
            self.source,
            self.path,
            _in_order(self.mapped_items),
            _in_order(self.unmapped_items),
            _load_problems(body),
            tuple(self.notes),
        )
        return self._header(report) + body, report

    def _drop(self, entry: _Entry, reason: Phrase) -> None:
        item = entry.item
        self.unmapped_items.append(ImportItem(item.kind, item.name, NOTHING, reason, item.file))

    def _parses(self, entry: _Entry, fields: tuple[str, ...]) -> bool:
        for name in fields:
            text = entry.data.get(name)
            if text is None:
                continue
            try:
                parse_expr(text)
            except ParseError as err:
                detail = str(err).splitlines()[0]
                reason = Phrase(
                    f"its {name} {text!r} is not SQL Cockpit can read ({detail})",
                    f"它的 {name} {text!r} 不是 Cockpit 能读懂的 SQL（{detail}）",
                )
                self._drop(entry, reason)
                return False
        return True

    def _drop_orphans(self, metrics: list[_Entry]) -> list[_Entry]:
        """Derived metrics over metrics that were left out go too (and so on, transitively)."""
        while True:
            names = {e.data["name"] for e in metrics}
            orphan = None
            for entry in metrics:
                if entry.data.get("kind") != "derived":
                    continue
                refs = {c.name for c in columns_of(parse_expr(entry.data["expr"]))}
                missing = sorted(refs - names - {PERIOD_DAYS})
                if missing:
                    orphan = entry
                    uses = ", ".join(missing)
                    reason = Phrase(
                        f"it uses {uses}, which could not be mapped",
                        f"它用到的 {uses} 未能映射",
                    )
                    self._drop(entry, reason)
                    break
            if orphan is None:
                return metrics
            metrics = [e for e in metrics if e is not orphan]

    def _note_labels(self, entries: list[_Entry]) -> None:
        """Say once which labels have no Chinese text of their own: the Chinese label is then
        the English one (nothing better is known), which a model author may want to write."""
        copied = [e.data["name"] for e in entries if e.data["label"]["zh"] == e.data["label"]["en"]]
        if not copied:
            return
        shown = ", ".join(copied[:8]) + (", …" if len(copied) > 8 else "")
        key = "meta.label_zh" if self.source == "dbt" else "meta.zh"
        self.notes.append(
            Phrase(
                f"{len(copied)} of {len(entries)} metric and dimension labels have no Chinese text "
                f"in the source, so their Chinese label is the English one ({shown}); add "
                f"`{key}` to give one",
                f"{len(entries)} 个指标和维度标签中有 {len(copied)} 个在源模型里没有中文，"
                f"中文标签暂用英文（{shown}）；可以添加 `{key}` 给出中文",
            )
        )

    @staticmethod
    def _unambiguous(entries: list[_Entry]) -> None:
        """Every name, label and synonym must mean one thing (the loader rejects a word that
        points at two metrics or dimensions): a clashing label gets its origin appended, a
        clashing synonym is dropped."""
        owner: dict[str, int] = {}
        for index, entry in enumerate(entries):
            owner[entry.data["name"].strip().lower()] = index
        for index, entry in enumerate(entries):
            label = dict(entry.data["label"])
            for lang in ("en", "zh"):
                word = label[lang]
                candidates = [
                    word,
                    f"{word} ({entry.qualifier[lang]})",
                    f"{word} ({entry.data['name']})",
                ]
                for candidate in candidates:
                    if owner.setdefault(candidate.strip().lower(), index) == index:
                        label[lang] = candidate
                        break
            entry.data["label"] = label
            synonyms = [
                word
                for word in entry.data.get("synonyms", [])
                if owner.setdefault(word.strip().lower(), index) == index
            ]
            if synonyms:
                entry.data["synonyms"] = synonyms
            else:
                entry.data.pop("synonyms", None)

    @staticmethod
    def _shape(data: dict[str, Any]) -> dict[str, Any]:
        shaped = {}
        for key, value in data.items():
            if key == "label":
                value = _Flow(value)
            elif key in ("synonyms", "grains"):
                value = _FlowList(value)
            shaped[key] = value
        return shaped

    @staticmethod
    def _header(report: ImportReport) -> str:
        tool = {"dbt": "dbt MetricFlow project", "cube": "Cube data model"}[report.source]
        lines = [
            f"# Imported from the {tool} {report.path} (cockpit import {report.source}).",
            "# Expressions are SQL over the tables below; unqualified columns belong to the "
            "metric's `table`.",
            f"# {len(report.mapped)} element(s) mapped; {len(report.unmapped)} not mapped"
            + (":" if report.unmapped else "."),
        ]
        lines += [f"#   - {item.describe()}" for item in report.unmapped]
        lines += [f"# Note: {note.en}" for note in report.notes]
        if report.problems:
            lines.append("# The model still has problems to fix by hand:")
            lines += [f"#   - {problem.en}" for problem in report.problems]
        return "\n".join(lines) + "\n"


# --- what an element became (shared by both importers) ------------------------------------
METRIC_KINDS_ZH = {"simple": "简单指标", "derived": "派生指标", "helper": "辅助指标", "": "指标"}


def as_table(table: str) -> Phrase:
    """`table orders` / `表 orders`."""
    return Phrase(f"table {table}", f"表 {table}")


def as_primary_key(table: str) -> Phrase:
    """`primary key of orders` / `orders 的主键`."""
    return Phrase(f"primary key of {table}", f"{table} 的主键")


def as_join(from_table: str, to: str, keys: str = "") -> Phrase:
    """`join orders → customers on customer_id = id`; `keys` left out when empty."""
    return Phrase(
        f"join {from_table} → {to}" + (f" on {keys}" if keys else ""),
        f"关联 {from_table} → {to}" + (f"，按 {keys}" if keys else ""),
    )


def as_metric(name: str, kind: str = "") -> Phrase:
    """`simple metric revenue` / `简单指标 revenue` (`kind`: simple, derived, helper or "")."""
    return Phrase(f"{kind} metric {name}".strip(), f"{METRIC_KINDS_ZH[kind]} {name}")


def as_dimension(name: str) -> Phrase:
    """`dimension status` / `维度 status`."""
    return Phrase(f"dimension {name}", f"维度 {name}")
