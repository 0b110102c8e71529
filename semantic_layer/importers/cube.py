"""`import_cube`: Cube data models (cubes and views YAML) → a Cockpit model YAML and a report.

    yaml_text, report = import_cube(Path("model"))  # a folder of YAML files, or one file

What maps:
- a cube becomes a table: `sql_table: public.orders` → `orders`, and `sql: SELECT * FROM x`
  → `x`; its primary-key dimension is the table's primary key;
- joins become many-to-one joins: `many_to_one` (belongs_to) from the cube to the joined
  one, `one_to_many` (has_many) the other way round, `one_to_one` (has_one) from the cube;
  the join SQL must be column equalities (`{CUBE}.customer_id = {customers.id}`);
- dimensions become dimensions (string/boolean → category, number, time; `case` → CASE);
- measures of type count, count_distinct, sum, avg, min and max become simple metrics, their
  `filters` the metric's filter; a `number` measure over other measures (`{revenue} /
  {count}`) becomes a derived metric, one over a single aggregate (`SUM(x)`) a simple one.
  Cube picks a measure's date at query time; Cockpit metrics have one, so each metric is
  dated by the first time dimension of its cube (or of the nearest cube it joins to).
- member names used by more than one cube are qualified with the cube name
  (`orders_count`, `customers_count`).

- a dimension whose SQL reads no column (`sql: 1`) is the constant only where a row of its
  cube matches, NULL elsewhere (Cube joins with LEFT JOIN): it is written as
  `CASE WHEN <primary key> IS NOT NULL THEN 1 END`, in dimensions and in measure filters alike.
- `{CUBE}`, `${CUBE}`, `{CUBE.member}`, `{member}`, `{other_cube.member}` are all read;
  `count_distinct_approx` is counted exactly (the report says so).

What does not (each reported with the reason): cubes defined by a real query, JavaScript
models, views, segments, pre-aggregations, access policies, hierarchies, running totals,
rolling windows and multi-stage measures (`time_shift`, `group_by`, `reduce_by`), string,
time and boolean measures, dimensions reading another cube, hidden dimensions
(`public: false`), custom granularities, and any key the importer does not know.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot
import yaml
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

from semantic_layer.errors import ModelError
from semantic_layer.expressions import columns_of, parse_expr, qualify, tables_of
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
    named,
    owner_synonyms,
    plain_column,
    simplify_row_tests,
    snake,
    sql_of,
    synonyms_of,
    when_row_exists,
)

# A member reference in Cube SQL: {CUBE}, {CUBE.status}, {status}, {customers.id}, ${CUBE}.
REF = re.compile(r"\$?\{\s*([^{}]+?)\s*\}")
AGGS = {
    "count": "count",
    "count_distinct": "count_distinct",
    "count_distinct_approx": "count_distinct",
    "countDistinct": "count_distinct",
    "countDistinctApprox": "count_distinct",
    "sum": "sum",
    "avg": "avg",
    "min": "min",
    "max": "max",
}
SQL_AGGS = {exp.Sum: "sum", exp.Avg: "avg", exp.Min: "min", exp.Max: "max", exp.Count: "count"}
MANY_TO_ONE = {"many_to_one", "belongs_to", "belongsto", "one_to_one", "has_one", "hasone"}
ONE_TO_MANY = {"one_to_many", "has_many", "hasmany"}
DIMENSION_TYPES = {"string": "category", "boolean": "category", "number": "number", "time": "time"}

# The keys of each Cube construct the importer reads (or knows to change no number: titles,
# formats, drill members, caching, aliases); any other key is reported as not read.
CUBE_KEYS = set(
    "name sql_table sqlTable sql title description meta joins dimensions measures segments "
    "pre_aggregations preAggregations extends public shown refresh_key refreshKey sql_alias "
    "sqlAlias data_source dataSource".split()
)
DIMENSION_KEYS = set(
    "name sql type title description meta primary_key primaryKey public shown case sub_query "
    "subQuery propagate_filters_to_sub_query format".split()
)
MEASURE_KEYS = set(
    "name sql type title description meta filters format drill_members drillMembers "
    "rolling_window rollingWindow public shown".split()
)
JOIN_KEYS = {"name", "relationship", "sql"}
CUBE_REASONS = {
    "access_policy": Phrase(
        "access policies are Cube's row and member security; Cockpit does not carry them "
        "over: write the roles in the model",
        "访问策略是 Cube 的行级和成员级权限；Cockpit 不会照搬，请在模型里编写角色",
    ),
    "hierarchies": Phrase(
        "hierarchies are drill-down paths for Cube's UI; set a dimension's `parent` in the model",
        "层级是 Cube 界面里的下钻路径；请在模型里设置维度的 `parent`",
    ),
}
GRANULARITIES = Phrase(
    "custom granularities (fiscal years and the like) have no Cockpit equivalent; the "
    "dimension keeps the standard grains",
    "自定义粒度（财年之类）在 Cockpit 中没有对应；该维度保留标准粒度",
)
MULTI_STAGE = ("multi_stage", "time_shift", "group_by", "reduce_by", "add_group_by")


@dataclass
class _Cube:
    name: str
    file: str
    raw: dict[str, Any]
    table: str = ""

    @property
    def dimensions(self) -> dict[str, dict[str, Any]]:
        return _members(self.raw, "dimensions")

    @property
    def measures(self) -> dict[str, dict[str, Any]]:
        return _members(self.raw, "measures")

    @property
    def label(self) -> dict[str, str]:
        return labels_of(self.raw, humanize(self.name), "title")

    def primary_key(self) -> str | None:
        for raw in self.dimensions.values():
            if raw.get("primary_key") or raw.get("primaryKey"):
                return plain_column(_unref(str(raw.get("sql", raw["name"]))))
        return None


def _members(raw: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    """Named members of a cube (malformed ones were reported when the cube was read)."""
    items = raw.get(key) if isinstance(raw.get(key), list) else []
    return {m["name"]: m for m in items if isinstance(m, dict) and isinstance(m.get("name"), str)}


def _unref(sql: str) -> str:
    """`{CUBE}.id` → `id`, for reading a key column."""
    return re.sub(r"\$?\{\s*CUBE\s*\}\.", "", sql)


def _table_of(cube: _Cube) -> str:
    """The physical table a cube reads; raises when it is a real query."""
    raw = cube.raw
    if raw.get("sql_table"):
        text = str(raw["sql_table"]).strip()
        if "{" in text:
            raise Unmappable(
                Phrase(f"sql_table {text!r} is templated", f"sql_table {text!r} 用了模板")
            )
        try:
            return exp.to_table(text, dialect="duckdb").name
        except SqlglotError:
            raise Unmappable(
                Phrase(f"sql_table {text!r} is not a table name", f"sql_table {text!r} 不是表名")
            ) from None
    if raw.get("sql"):
        text = str(raw["sql"]).strip()
        try:
            query = sqlglot.parse_one(REF.sub("cube_ref", text), dialect="duckdb")
        except SqlglotError:
            query = None
        # `from_` in recent sqlglot, `from` before.
        source = query.args.get("from_") or query.args.get("from") if query else None
        trivial = (
            source is not None
            and isinstance(source.this, exp.Table)
            and isinstance(query, exp.Select)
            and all(isinstance(e, exp.Star) for e in query.expressions)
            and not any(query.args.get(k) for k in ("joins", "where", "group", "having", "limit"))
        )
        if not trivial or "{" in text:
            raise Unmappable(
                Phrase(
                    "its sql is a query, not a table: create a view for it in the database and "
                    "point sql_table at the view",
                    "它的 sql 是查询而不是表：请在数据库里为它建一个视图，再让 sql_table 指向该视图",
                )
            )
        return source.this.name
    raise Unmappable(Phrase("it has neither sql_table nor sql", "它既没有 sql_table 也没有 sql"))


SQL_CASE_LABELS = Phrase(
    "case labels computed by SQL are not supported", "不支持由 SQL 计算的 case 标签"
)


class _CubeImporter:
    def __init__(self, root: Path, table_prefix: str, tables: Mapping[str, str]) -> None:
        self.root = root
        self.table_prefix = table_prefix
        self.table_names = dict(tables)
        self.cubes: dict[str, _Cube] = {}
        self.names: dict[tuple[str, str], str] = {}  # (cube, member) → Cockpit name

    # --- reading --------------------------------------------------------------------------
    def files(self) -> list[Path]:
        if self.root.is_file():
            return [self.root]
        found = []
        for path in sorted(self.root.rglob("*")):
            parts = set(path.relative_to(self.root).parts[:-1])
            if path.suffix in (".yml", ".yaml", ".js") and not parts & SKIP_DIRS:
                found.append(path)
        return found

    def read(self, draft: ModelDraft) -> None:
        raws: list[tuple[dict[str, Any], str]] = []
        for path in self.files():
            file = str(path)
            if path.suffix == ".js":
                reason = Phrase(
                    "JavaScript data models are not read; write the cubes in YAML",
                    "不读取 JavaScript 数据模型；请用 YAML 编写 cube",
                )
                draft.unmapped("file", file, reason)
                continue
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as err:
                detail = str(err).splitlines()[0]
                reason = Phrase(
                    f"not valid YAML (Jinja templates are not run): {detail}",
                    f"不是有效的 YAML（不运行 Jinja 模板）：{detail}",
                )
                draft.unmapped("file", file, reason)
                continue
            if not isinstance(data, dict):
                continue
            raws += [(c, file) for c in named(data, "cubes", draft, file)]
            for view in named(data, "views", draft, file):
                draft.unmapped(
                    "view",
                    str(view.get("name", "?")),
                    Phrase(
                        "views choose and rename members of cubes for their users; Cockpit "
                        "offers every imported member directly (add synonyms for the view's "
                        "names)",
                        "视图为用户挑选并重命名 cube 的成员；Cockpit 直接提供每个导入的成员"
                        "（可为视图里的名称添加同义词）",
                    ),
                    file,
                )
        by_name = {str(raw.get("name")): (raw, file) for raw, file in raws}
        for name, (raw, file) in by_name.items():
            for key in ("dimensions", "measures", "joins"):
                named(raw, key, draft, file, name)  # reports malformed members
            merged = self.extended(raw, by_name, draft, file)
            if merged is not None:
                self.cubes[name] = _Cube(name, file, merged)

    def extended(
        self,
        raw: dict[str, Any],
        by_name: dict[str, tuple[dict[str, Any], str]],
        draft: ModelDraft,
        file: str,
        seen: tuple[str, ...] = (),
    ) -> dict[str, Any] | None:
        """A cube with what it `extends` merged in (its own members win)."""
        parent = raw.get("extends")
        if not parent:
            return raw
        parent = REF.sub(lambda m: m.group(1), str(parent)).strip()
        if parent not in by_name or parent in seen:
            reason = Phrase(
                f"it extends {parent}, which is not found", f"它扩展（extends）的 {parent} 找不到"
            )
            draft.unmapped("cube", str(raw.get("name")), reason)
            return None
        base = self.extended(by_name[parent][0], by_name, draft, file, (*seen, parent))
        if base is None:
            return None
        merged = {**base, **{k: v for k, v in raw.items() if k != "extends"}}
        for key in ("dimensions", "measures", "joins", "segments"):
            own = _members(raw, key)
            inherited = [m for name, m in _members(base, key).items() if name not in own]
            merged[key] = [*inherited, *own.values()]
        return merged

    # --- member SQL -----------------------------------------------------------------------
    def resolve(
        self, sql: Any, cube: _Cube, measures: bool = False, seen: tuple[str, ...] = ()
    ) -> exp.Expression:
        """Cube SQL as an expression over real tables; a measure reference (allowed when
        `measures`) becomes a column named after the Cockpit metric."""
        refs: list[str] = []

        def hole(match: re.Match[str]) -> str:
            refs.append(match.group(1))
            return f"__cockpit_ref_{len(refs) - 1}__"

        text = REF.sub(hole, str(sql).strip())
        try:
            node = parse_expr(text)
        except ParseError:
            raise Unmappable(
                Phrase(
                    f"its sql {str(sql).strip()!r} is not SQL Cockpit can read",
                    f"它的 sql {str(sql).strip()!r} 不是 Cockpit 能读懂的 SQL",
                )
            ) from None

        def fill(n: exp.Expression) -> exp.Expression:
            if not isinstance(n, exp.Column):
                return n
            table_hole = HOLE.fullmatch(n.table) if n.table else None
            if table_hole:  # {CUBE}.status, {customers}.id
                owner = self.cube_ref(refs[int(table_hole.group(1))], cube)
                return exp.column(n.name, table=owner.table)
            if n.table:
                return n
            name_hole = HOLE.fullmatch(n.name)
            if name_hole:  # {status}, {orders.count}: resolved as a whole, not re-qualified
                return self.member(refs[int(name_hole.group(1))], cube, measures, seen)
            return exp.column(n.name, table=cube.table)

        return node.transform(fill)

    def cube_ref(self, ref: str, cube: _Cube) -> _Cube:
        if ref == "CUBE" or ref == cube.name:
            return cube
        if ref in self.cubes and self.cubes[ref].table:
            return self.cubes[ref]
        raise Unmappable(
            Phrase(
                f"{{{ref}}} is not a cube Cockpit could import",
                f"{{{ref}}} 不是 Cockpit 能导入的 cube",
            )
        )

    def member(
        self, ref: str, cube: _Cube, measures: bool, seen: tuple[str, ...]
    ) -> exp.Expression:
        parts = ref.split(".")
        if len(parts) == 1 and parts[0] != "CUBE" and parts[0] not in self.cubes:
            owner, name = cube, parts[0]
        elif len(parts) == 2:
            owner, name = self.cube_ref(parts[0], cube), parts[1]
        else:
            raise Unmappable(
                Phrase(f"the reference {{{ref}}} is not supported", f"不支持引用 {{{ref}}}")
            )
        key = f"{owner.name}.{name}"
        if key in seen:
            raise Unmappable(Phrase(f"{{{ref}}} refers to itself", f"{{{ref}}} 引用了自身"))
        if name in owner.dimensions:
            raw = owner.dimensions[name]
            if "sql" not in raw:
                raise Unmappable(Phrase(f"the dimension {key} has no sql", f"维度 {key} 没有 sql"))
            node = self.resolve(raw["sql"], owner, False, (*seen, key))
            return self.row_constant(node, owner) if is_constant(node) else node
        if name in owner.measures:
            if not measures:
                raise Unmappable(
                    Phrase(
                        f"{{{ref}}} is a measure, which cannot be used here",
                        f"{{{ref}}} 是度量，不能用在这里",
                    )
                )
            return exp.column(self.names[(owner.name, name)])
        raise Unmappable(
            Phrase(
                f"{{{ref}}} is not a member of cube {owner.name}",
                f"{{{ref}}} 不是 cube {owner.name} 的成员",
            )
        )

    def row_constant(self, node: exp.Expression, cube: _Cube) -> exp.Expression:
        """A constant dimension of `cube` as what it means once joined (see
        `common.when_row_exists`); raises when the cube has no primary key to say it with."""
        key = cube.primary_key()
        if key is None:
            raise Unmappable(
                Phrase(
                    f"{sql_of(node)} is a constant, which means 'a row of {cube.name} matches' "
                    "once joined; without a primary key there is no way to say that",
                    f"{sql_of(node)} 是常量，关联后表示“{cube.name} 有匹配的行”；"
                    "没有主键就无法表达这一点",
                )
            )
        return when_row_exists(node, exp.column(key, table=cube.table))

    # --- cubes → tables and joins ---------------------------------------------------------
    def tables(self, draft: ModelDraft) -> None:
        for cube in list(self.cubes.values()):
            try:
                table = _table_of(cube)
                table = self.table_prefix + self.table_names.get(table, table)
                key = cube.primary_key()
                draft.add_table(
                    table, [key] if key else None, None, cube.label, cube.raw.get("description")
                )
            except Unmappable as err:
                members = len(cube.dimensions) + len(cube.measures)
                reason = Phrase(
                    f"{err.reason.en} (members not imported: {members})",
                    f"{err.reason.zh}（未导入的成员：{members} 个）",
                )
                draft.unmapped("cube", cube.name, reason, cube.file)
                del self.cubes[cube.name]
                continue
            cube.table = table
            draft.mapped("cube", cube.name, as_table(table), file=cube.file)
            self.unread_keys(draft, cube)
            for kind, key in (("segments", "segment"), ("pre_aggregations", "pre_aggregation")):
                for raw in _members(cube.raw, kind).values():
                    reason = {
                        "segment": Phrase(
                            "segments (named filters) have no Cockpit equivalent; ask "
                            "with a dimension filter instead",
                            "分段（命名的筛选条件）在 Cockpit 中没有对应；请改用维度筛选来问",
                        ),
                        "pre_aggregation": Phrase(
                            "pre-aggregations are a Cube cache; Cockpit queries "
                            "the tables directly",
                            "预聚合是 Cube 的缓存；Cockpit 直接查询表",
                        ),
                    }[key]
                    draft.unmapped(key, f"{cube.name}.{raw.get('name', '?')}", reason, cube.file)

    @staticmethod
    def unread_keys(draft: ModelDraft, cube: _Cube) -> None:
        """Report every key of the cube and its members that is not read."""
        reasons = dict(CUBE_REASONS)
        source = cube.raw.get("data_source", cube.raw.get("dataSource"))
        if source not in (None, "default"):
            reasons["data_source" if "data_source" in cube.raw else "dataSource"] = Phrase(
                f"the cube reads the data source {source}; Cockpit reads the one database it is "
                "given, so the table must be there",
                f"这个 cube 读取数据源 {source}；Cockpit 只读取给定的一个数据库，表必须在那里",
            )
        draft.unread(cube.raw, CUBE_KEYS, cube.name, cube.file, reasons)
        for name, raw in cube.dimensions.items():
            grains = {"granularities": GRANULARITIES}
            draft.unread(raw, DIMENSION_KEYS, f"{cube.name}.{name}", cube.file, grains)
        for name, raw in cube.measures.items():
            # Multi-stage keys make the whole measure unmapped (see `measure`).
            draft.unread(raw, MEASURE_KEYS | set(MULTI_STAGE), f"{cube.name}.{name}", cube.file)
        for name, raw in _members(cube.raw, "joins").items():
            draft.unread(raw, JOIN_KEYS, f"{cube.name}.{name}", cube.file)

    def joins(self, draft: ModelDraft) -> None:
        for cube in self.cubes.values():
            for raw in _members(cube.raw, "joins").values():
                label = f"{cube.name}.{raw.get('name', '?')}"
                try:
                    from_table, to, pairs = self.join(cube, raw)
                except Unmappable as err:
                    draft.unmapped("join", label, err.reason, cube.file)
                    continue
                problem = draft.add_join(from_table, to, pairs)
                keys = ", ".join(f"{a} = {b}" for a, b in pairs)
                draft.mapped(
                    "join", label, as_join(from_table, to, keys), problem or NOTHING, cube.file
                )

    def join(self, cube: _Cube, raw: dict[str, Any]) -> tuple[str, str, list[tuple[str, str]]]:
        target = self.cubes.get(str(raw.get("name")))
        if target is None:
            raise Unmappable(
                Phrase(
                    f"the joined cube {raw.get('name')} was not imported",
                    f"被关联的 cube {raw.get('name')} 没有导入",
                )
            )
        relationship = str(raw.get("relationship", "")).lower()
        if relationship not in MANY_TO_ONE | ONE_TO_MANY:
            raise Unmappable(
                Phrase(f"unknown relationship {relationship!r}", f"未知的关系 {relationship!r}")
            )
        node = self.resolve(raw.get("sql", ""), cube)
        conditions = list(node.flatten()) if isinstance(node, exp.And) else [node]
        pairs = []
        for condition in conditions:
            sides = (condition.this, condition.expression) if isinstance(condition, exp.EQ) else ()
            if not all(isinstance(s, exp.Column) for s in sides) or not sides:
                raise Unmappable(
                    Phrase(
                        f"the join sql {raw.get('sql')!r} is not column equalities",
                        f"关联 sql {raw.get('sql')!r} 不是列之间的等式",
                    )
                )
            by_table = {side.table: side.name for side in sides}
            if set(by_table) != {cube.table, target.table}:
                raise Unmappable(
                    Phrase(
                        f"the join sql {raw.get('sql')!r} does not compare the two cubes",
                        f"关联 sql {raw.get('sql')!r} 比较的不是这两个 cube",
                    )
                )
            pairs.append((by_table[cube.table], by_table[target.table]))
        if relationship in ONE_TO_MANY:
            return target.table, cube.table, [(b, a) for a, b in pairs]
        return cube.table, target.table, pairs

    # --- members --------------------------------------------------------------------------
    def naming(self, draft: ModelDraft) -> None:
        entries = [
            ((cube.name, member), snake(member), snake(cube.name))
            for cube in self.cubes.values()
            for member in [*cube.measures, *cube.dimensions]
        ]
        self.names = assign_names(entries, {"metric_time"})

    def dimensions(self, draft: ModelDraft) -> None:
        for cube in self.cubes.values():
            for name, raw in cube.dimensions.items():
                label = f"{cube.name}.{name}"
                try:
                    data = self.dimension(cube, name, raw)
                except Unmappable as err:
                    draft.unmapped("dimension", label, err.reason, cube.file)
                    continue
                if data is None:
                    draft.mapped("dimension", label, as_primary_key(cube.table), file=cube.file)
                    continue
                note = NOTHING
                if data.pop("constant", None) is not None:
                    constant, key = str(raw.get("sql")), cube.primary_key()
                    note = Phrase(
                        f"the constant {constant} holds where a row of {cube.table} matches "
                        f"({key} is set) and is empty elsewhere, as in Cube's outer joins",
                        f"常量 {constant} 只在 {cube.table} 有匹配的行（{key} 有值）时成立，"
                        "其他情况为空，与 Cube 的外关联一致",
                    )
                item = _item("dimension", label, as_dimension(data["name"]), cube, note)
                draft.add_dimension(data, item, cube.label)

    def dimension(self, cube: _Cube, name: str, raw: dict[str, Any]) -> dict[str, Any] | None:
        if raw.get("primary_key") or raw.get("primaryKey"):
            return None
        if raw.get("public") is False or raw.get("shown") is False:
            raise Unmappable(
                Phrase(
                    "it is hidden in Cube (public: false)", "它在 Cube 中是隐藏的（public: false）"
                )
            )
        if raw.get("sub_query") or raw.get("subQuery"):
            raise Unmappable(
                Phrase(
                    "subquery dimensions (a measure of another cube) have no Cockpit equivalent",
                    "子查询维度（另一个 cube 的度量）在 Cockpit 中没有对应",
                )
            )
        kind = str(raw.get("type", "string"))
        if kind not in DIMENSION_TYPES:
            raise Unmappable(
                Phrase(
                    f"{kind} dimensions have no Cockpit equivalent",
                    f"{kind} 类型的维度在 Cockpit 中没有对应",
                )
            )
        constant = None
        if "case" in raw:
            node = self.case(cube, raw["case"])
        else:
            node = self.resolve(raw.get("sql", name), cube)
            if is_constant(node):
                constant, node = node, self.row_constant(node, cube)
        if tables_of(node) - {cube.table}:
            others = ", ".join(sorted(tables_of(node) - {cube.table}))
            raise Unmappable(
                Phrase(
                    f"it reads {others}; a Cockpit dimension reads its own table only",
                    f"它读取了 {others}；Cockpit 的维度只读取自己的表",
                )
            )
        data: dict[str, Any] = {
            "name": self.names[(cube.name, name)],
            "table": cube.table,
            "expr": local_sql(node, cube.table),
            "type": DIMENSION_TYPES[kind],
            "label": labels_of(raw, humanize(self.names[(cube.name, name)]), "title"),
        }
        synonyms = synonyms_of(raw) + owner_synonyms(name, [cube.name])
        if synonyms:
            data["synonyms"] = list(dict.fromkeys(synonyms))
        if raw.get("description"):
            data["description"] = str(raw["description"]).strip()
        if constant is not None:
            data["constant"] = sql_of(constant)  # taken out again by `dimensions`
        return data

    def case(self, cube: _Cube, case: dict[str, Any]) -> exp.Expression:
        """`case: {when: [{sql, label}], else: {label}}` as a CASE expression."""
        ifs = []
        for branch in case.get("when") or []:
            label = branch.get("label")
            if not isinstance(label, str):
                raise Unmappable(SQL_CASE_LABELS)
            ifs.append(
                exp.If(this=self.resolve(branch["sql"], cube), true=exp.Literal.string(label))
            )
        default = (case.get("else") or {}).get("label")
        if default is not None and not isinstance(default, str):
            raise Unmappable(SQL_CASE_LABELS)
        otherwise = exp.Literal.string(default) if default is not None else None
        return exp.Case(ifs=ifs, default=otherwise)

    def time_of(self, cube: _Cube) -> str:
        """The date a cube's measures are dated by: its first time dimension, else the first
        of the nearest cube it joins to many-to-one."""
        by_table: dict[str, list[_Cube]] = {}
        for other in self.cubes.values():
            by_table.setdefault(other.table, []).append(other)
        order = [cube] + [
            other
            for table in self.draft.reach_order(cube.table)
            for other in by_table.get(table, [])
            if other is not cube
        ]
        for owner in order:
            for name, raw in owner.dimensions.items():
                if raw.get("type") == "time" and not raw.get("sub_query"):
                    try:
                        node = self.resolve(raw.get("sql", name), owner)
                    except Unmappable:
                        continue
                    return local_sql(node, cube.table)
        raise Unmappable(
            Phrase(
                f"neither cube {cube.name} nor a cube it joins to has a time dimension; Cockpit "
                "metrics need a date",
                f"cube {cube.name} 和它关联到的 cube 都没有时间维度；Cockpit 的指标需要日期",
            )
        )

    def measures(self, draft: ModelDraft) -> None:
        dated: dict[str, str] = {}  # cube → the date its metrics are dated by
        for cube in self.cubes.values():
            for name, raw in cube.measures.items():
                label = f"{cube.name}.{name}"
                try:
                    data, note = self.measure(cube, name, raw)
                except Unmappable as err:
                    draft.unmapped("measure", label, err.reason, cube.file)
                    continue
                kind = "derived" if data.get("kind") == "derived" else "simple"
                item = _item("measure", label, as_metric(data["name"], kind), cube, note)
                draft.add_metric(data, item, cube.label)
                if "time" in data:
                    dated[cube.name] = data["time"]
        if dated:
            each = "; ".join(f"{cube}: {time}" for cube, time in dated.items())
            draft.notes.append(
                Phrase(
                    "a Cube query picks the time dimension a measure is filtered and grouped "
                    "by; a Cockpit metric has one date, so each cube's measures are dated by its "
                    f"first time dimension, or that of the nearest cube it joins to ({each})",
                    "Cube 的查询可以任选度量按哪个时间维度筛选和分组；Cockpit 的指标只有一个日期，"
                    "所以每个 cube 的度量按它的第一个时间维度（或它关联到的最近 cube 的）定日期"
                    f"（{each}）",
                )
            )

    def measure(self, cube: _Cube, name: str, raw: dict[str, Any]) -> tuple[dict[str, Any], Phrase]:
        kind = str(raw.get("type", ""))
        stages = [key for key in MULTI_STAGE if raw.get(key)]
        if stages:
            keys = ", ".join(stages)
            raise Unmappable(
                Phrase(
                    f"a multi-stage measure ({keys}): it aggregates an aggregate, shifted or "
                    "regrouped, which a Cockpit metric cannot",
                    f"多阶段度量（{keys}）：它对聚合结果再平移或重新分组后聚合，Cockpit 的指标做不到",
                )
            )
        if raw.get("rolling_window") or raw.get("rollingWindow"):
            raise Unmappable(
                Phrase(
                    "a rolling window: Cockpit has no window metrics",
                    "滚动窗口：Cockpit 没有窗口类指标",
                )
            )
        if kind in ("running_total", "runningTotal"):
            raise Unmappable(
                Phrase(
                    "a running total: Cockpit has no window metrics",
                    "累计值（running total）：Cockpit 没有窗口类指标",
                )
            )
        metric_name = self.names[(cube.name, name)]
        data: dict[str, Any] = {
            "name": metric_name,
            "label": labels_of(raw, humanize(metric_name), "title"),
        }
        synonyms = synonyms_of(raw)
        if synonyms:
            data["synonyms"] = synonyms
        description = description_of(raw)
        if description:
            data["description"] = description
        fmt = str(raw.get("format", ""))
        if fmt == "percent":
            data["unit"], data["format"] = "percent", ".1%"
        note = NOTHING
        if kind == "number":
            node = self.resolve(raw.get("sql", ""), cube, measures=True)
            aggregates = list(node.find_all(exp.AggFunc))
            metrics = {c.name for c in columns_of(node) if not c.table}
            if not aggregates and not tables_of(node) and metrics:
                return {**data, "kind": "derived", "expr": sql_of(node)}, NOTHING
            if len(aggregates) == 1 and node is aggregates[0] and type(node) in SQL_AGGS:
                agg, value = SQL_AGGS[type(node)], node.this
                if isinstance(value, exp.Distinct) and agg == "count":
                    agg, value = "count_distinct", value.expressions[0]
                expr = "1" if isinstance(value, exp.Star) else local_sql(value, cube.table)
            else:
                raise Unmappable(
                    Phrase(
                        "a number measure mixing aggregates and columns; split it into measures "
                        "and a number measure over them",
                        "number 度量混用了聚合和列；请拆成几个度量，再用一个 number 度量组合它们",
                    )
                )
        elif kind in AGGS:
            agg = AGGS[kind]
            if "approx" in kind.lower():
                note = Phrase(
                    "counted exactly (Cube approximates)", "按精确值计数（Cube 用的是近似值）"
                )
            if "sql" in raw:
                expr = local_sql(self.resolve(raw["sql"], cube), cube.table)
            elif agg == "count":
                expr = "1"
            else:
                raise Unmappable(
                    Phrase(f"a {kind} measure without sql", f"没有 sql 的 {kind} 度量")
                )
        else:
            raise Unmappable(
                Phrase(
                    f"{kind or 'untyped'} measures have no Cockpit equivalent",
                    (f"{kind} 类型的度量" if kind else "无类型的度量") + "在 Cockpit 中没有对应",
                )
            )
        if agg in ("count", "count_distinct"):
            data.setdefault("unit", "count")
        data.update({"table": cube.table, "agg": agg, "expr": expr})
        filters = [self.resolve(f["sql"], cube) for f in raw.get("filters") or [] if "sql" in f]
        if filters:
            condition = exp.and_(*filters) if len(filters) > 1 else filters[0]
            data["filter"] = local_sql(simplify_row_tests(condition), cube.table)
        data["time"] = self.time_of(cube)
        for table in tables_of(qualify(parse_expr(data["expr"]), cube.table)):
            if not self.draft.reachable(cube.table, table):
                raise Unmappable(
                    Phrase(
                        f"it reads {table}, which {cube.table} does not join to",
                        f"它读取了 {table}，但 {cube.table} 没有关联到它",
                    )
                )
        return data, note

    # --- the whole model ------------------------------------------------------------------
    def run(self) -> tuple[str, ImportReport]:
        if not self.root.exists():
            raise ModelError("file_missing", path=str(self.root))
        where = self.root.resolve()
        # Cube projects keep their models in model/ (or schema/): name the model after the project.
        name = where.parent.name if where.name in ("model", "schema") else where.stem
        draft = ModelDraft(snake(name), {"zh": name, "en": name}, "cube", str(self.root))
        self.draft = draft
        self.read(draft)
        self.tables(draft)
        if not self.cubes:
            raise ModelError("schema", field="cubes", detail=f"no usable cubes under {self.root}")
        self.naming(draft)
        self.joins(draft)
        self.dimensions(draft)
        self.measures(draft)
        return draft.render()


def _item(kind: str, name: str, target: Phrase, cube: _Cube, note: Phrase = NOTHING) -> ImportItem:
    return ImportItem(kind, name, target, note, cube.file)


def import_cube(
    path: Path, *, table_prefix: str = "", tables: Mapping[str, str] | None = None
) -> tuple[str, ImportReport]:
    """Read Cube data models at `path` (a folder of YAML files, searched recursively, or one
    file) into a Cockpit model: the YAML text and the report of every element.

    `sql_table: public.orders` becomes table `orders`; `table_prefix` and `tables`
    ({"orders": "raw_orders"}) adjust the names for the database Cockpit reads. Raises
    `ModelError` when the path does not exist or holds no usable cube."""
    return _CubeImporter(Path(path), table_prefix, tables or {}).run()
