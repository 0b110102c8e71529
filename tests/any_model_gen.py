"""Random semantic models with their data, for `test_any_model.py` (issue 15, item 7).

Cockpit must answer on models nobody here wrote: imported from dbt or Cube, drafted by
`cockpit init`, written by a customer. This module draws such models as hypothesis
strategies — entity tables and fact tables joined by foreign keys, metrics of every kind,
dimensions of every type, roles, alerts, an optional `knowledge:` section — and builds each
one as a real DuckDB file and a model YAML file, so the test runs the product exactly as a
user would. Everything is deterministic from the draw: structure is drawn by hypothesis (so
it shrinks), cell values come from a `random.Random` seeded by a drawn integer.

The shapes cover what broke on real imports: date columns with no data, time columns that
hold integer years, tables with no rows, NULLs everywhere, labels only in one language,
member names that look like numbers, quotes or years.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb
import yaml
from hypothesis import strategies as st
from sqlglot import exp

# --- vocabulary pools ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Noun:
    """A business noun: its identifier stem, zh label, en label and en plural."""

    key: str
    zh: str
    en: str
    plural: str
    synonyms: tuple[str, ...] = ()


ENTITIES = (
    Noun("customer", "客户", "Customer", "customers", ("顾客", "client")),
    Noun("product", "产品", "Product", "products", ("商品", "item")),
    Noun("region", "区域", "Region", "regions", ("地区", "area")),
    Noun("agent", "代理人", "Agent", "agents", ("经纪人", "broker")),
    Noun("store", "门店", "Store", "stores", ("店铺", "shop")),
    Noun("supplier", "供应商", "Supplier", "suppliers", ("供货商", "vendor")),
    Noun("project", "项目", "Project", "projects", ()),
    Noun("policy_holder", "投保人", "Policy holder", "policy holders", ("holder",)),
)
FACTS = (
    Noun("order", "订单", "Order", "orders"),
    Noun("claim", "理赔", "Claim", "claims"),
    Noun("invoice", "发票", "Invoice", "invoices"),
    Noun("payment", "付款", "Payment", "payments"),
    Noun("shipment", "发货", "Shipment", "shipments"),
    Noun("ticket", "工单", "Ticket", "tickets"),
    Noun("premium", "保费记录", "Premium record", "premium records"),
    Noun("expense", "费用", "Expense", "expenses"),
)
SNAPSHOTS = (
    Noun("balance", "余额快照", "Balance snapshot", "balance snapshots"),
    Noun("stock", "库存", "Stock level", "stock levels"),
    Noun("receivable", "应收快照", "Receivable snapshot", "receivable snapshots"),
)
MEASURES = (
    Noun("amount", "金额", "Amount", "amounts", ("销售额", "revenue")),
    Noun("cost", "成本", "Cost", "costs", ("花费", "spend")),
    Noun("quantity", "数量", "Quantity", "quantities", ("件数", "units")),
    Noun("fee", "手续费", "Fee", "fees", ()),
    Noun("discount", "折扣", "Discount", "discounts", ()),
    Noun("loss", "损失", "Loss", "losses", ("赔款",)),
)
# A category column of an entity with few members, and its members (zh, en).
ATTRIBUTES = (
    ("tier", "等级", "Tier", (("金牌", "Gold"), ("银牌", "Silver"), ("铜牌", "Bronze"))),
    ("city", "城市", "City", (("上海", "Shanghai"), ("北京", "Beijing"), ("深圳", "Shenzhen"))),
    ("segment", "细分市场", "Segment", (("企业", "Enterprise"), ("个人", "Personal"))),
    ("kind", "类型", "Type", (("A类", "Class A"), ("B类", "Class B"), ("C类", "Class C"))),
)
STATUSES = (
    ("已完成", "进行中", "已取消"),
    ("done", "open", "cancelled"),
    ("Paid", "Unpaid"),
    ("yes", "no", "on"),  # YAML 1.1 booleans as members
)
# Member names of an entity's name column, by style.
MEMBER_STYLES = ("zh", "en", "codes", "numbered", "tricky", "years")
ZH_NAMES = (
    "北辰重工 星河科技 东方明珠 华东 华南 西部 长江贸易 远航物流 金桥 云端智能 蓝海 新锐".split()
)
EN_NAMES = (
    "Acme Corp",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark Industries",
    "Wayne Enterprises",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
)
TRICKY_NAMES = (
    "O'Brien & Sons",
    'Say "Hi" Ltd',
    "Zürich Rück",
    "東京 Trading",
    "Café ☕",
    "100",
    "2024年",
    "top 3",
    "North; DROP TABLE x",
    "  padded  ",
    "a%b_c",
    "why",
    "all time",
    "😀",
)
DERIVED = (
    ("margin", "毛利", "Margin"),
    ("loss_ratio", "赔付率", "Loss ratio"),
    ("net_amount", "净额", "Net amount"),
    ("conversion", "转化率", "Conversion rate"),
    ("yield_rate", "收益率", "Yield"),
    ("unit_value", "单位价值", "Value per unit"),
    ("efficiency", "效率指标", "Efficiency"),
)
AS_OF = (date(2025, 6, 30), date(2025, 12, 31), date(2024, 3, 15), date(2021, 6, 1))
FIRST_DAY = date(2022, 1, 1)
LAST_DAY = date(2025, 12, 31)

DateKind = Literal["date", "sparse", "empty", "year", "timestamp"]
LabelMode = Literal["both", "en", "zh"]


# --- the drawn structure ------------------------------------------------------------------------


@dataclass(frozen=True)
class EntitySpec:
    """An entity (lookup) table: one row per thing people group by."""

    noun: Noun
    rows: int
    style: str
    attribute: int | None  # index into ATTRIBUTES
    size: bool  # an integer column, a `number` dimension
    parent: int | None  # an earlier entity this one joins to (product → region)
    value_labels: bool


@dataclass(frozen=True)
class MetricPlan:
    """One simple metric of a fact table: `agg` over a measure (pick) with or without a filter."""

    agg: str
    measure: int
    filtered: bool


@dataclass(frozen=True)
class FactSpec:
    """A fact table: rows that metrics aggregate, with foreign keys to entities."""

    noun: Noun
    rows: int
    entities: tuple[int, ...]
    required: bool
    date_kind: DateKind
    measures: tuple[int, ...]  # indices into MEASURES
    status: int | None  # index into STATUSES
    nulls: bool
    snapshot: bool
    metrics: tuple[MetricPlan, ...]
    time_dimension: bool


@dataclass(frozen=True)
class DerivedPlan:
    """A derived metric over two others (picked by index among the metrics built before it)."""

    kind: Literal["ratio", "difference", "daily", "nested"]
    a: int
    b: int


@dataclass(frozen=True)
class RoleSpec:
    """A role: a row filter on a category dimension, a masked dimension, a denied metric."""

    row_filter: tuple[int, Literal["in", "not_in"], Literal["deny", "allow"], int] | None
    mask: int | None
    deny: int | None


@dataclass(frozen=True)
class AlertSpec:
    """A threshold or change rule on a metric, optionally per member of a dimension."""

    metric: int
    op: Literal[">", "<", ">="]
    value: float
    change: Literal["mom", "yoy"] | None
    per_dimension: bool


@dataclass(frozen=True)
class KnowledgeSpec:
    """Which parts of the optional `knowledge:` section a model declares."""

    default_period: Literal["all", "this_year", "this_quarter", "this_month"]
    kpis: tuple[int, ...]
    breakdowns: bool
    board: bool
    implies: bool
    lacks: bool
    groups: bool
    siblings: bool
    examples: bool
    stray_names: bool  # names of metrics and dimensions the model does not have


@dataclass(frozen=True)
class ModelSpec:
    """Everything drawn for one model; `build` turns it into files."""

    seed: int
    label_mode: LabelMode
    as_of: date | None
    entities: tuple[EntitySpec, ...]
    facts: tuple[FactSpec, ...]
    derived: tuple[DerivedPlan, ...]
    metric_time: bool
    knowledge: KnowledgeSpec | None
    roles: tuple[RoleSpec, ...]
    alerts: tuple[AlertSpec, ...]


small = st.integers(0, 1000)


@st.composite
def entity_specs(draw: st.DrawFn, index: int, noun: Noun) -> EntitySpec:
    """One entity table; it may join to an earlier entity (a hierarchy)."""
    rows = draw(st.one_of(st.integers(1, 12), st.integers(0, 45)))
    return EntitySpec(
        noun=noun,
        rows=rows,
        style=draw(st.sampled_from(MEMBER_STYLES)),
        attribute=draw(st.none() | st.integers(0, len(ATTRIBUTES) - 1)),
        size=draw(st.booleans()),
        parent=draw(st.none() | st.integers(0, index - 1)) if index else None,
        value_labels=draw(st.booleans()),
    )


@st.composite
def fact_specs(draw: st.DrawFn, noun: Noun, entities: int, snapshot: bool) -> FactSpec:
    """One fact table with its simple metrics."""
    refs = draw(st.lists(st.integers(0, max(entities - 1, 0)), max_size=2, unique=True))
    measures = tuple(
        draw(st.lists(st.integers(0, len(MEASURES) - 1), min_size=1, max_size=3, unique=True))
    )
    aggs = ["sum", "count", "count_distinct", "avg", "min", "max"]
    plans = draw(
        st.lists(
            st.builds(
                MetricPlan,
                agg=st.sampled_from(aggs),
                measure=st.integers(0, 5),
                filtered=st.booleans(),
            ),
            min_size=1,
            max_size=4,
        )
    )
    return FactSpec(
        noun=noun,
        rows=draw(st.one_of(st.integers(5, 40), st.integers(0, 80))),
        entities=tuple(refs) if entities else (),
        required=draw(st.booleans()),
        date_kind=draw(st.sampled_from(["date", "date", "sparse", "empty", "year", "timestamp"])),
        measures=measures,
        status=draw(st.none() | st.integers(0, len(STATUSES) - 1)),
        nulls=draw(st.booleans()),
        snapshot=snapshot,
        metrics=tuple(plans),
        time_dimension=draw(st.booleans()),
    )


@st.composite
def model_specs(draw: st.DrawFn) -> ModelSpec:
    """A whole model: 0-3 entities, 1-3 facts (maybe one snapshot table), derived metrics,
    dimensions, roles, alerts and knowledge, each part optional."""
    nouns = draw(st.lists(st.sampled_from(ENTITIES), max_size=3, unique_by=lambda n: n.key))
    entities = tuple(draw(entity_specs(i, noun)) for i, noun in enumerate(nouns))
    fact_nouns = draw(st.lists(st.sampled_from(FACTS), min_size=1, max_size=2, unique=True))
    facts = [draw(fact_specs(noun, len(entities), snapshot=False)) for noun in fact_nouns]
    if draw(st.booleans()):
        noun = draw(st.sampled_from(SNAPSHOTS))
        facts.append(draw(fact_specs(noun, len(entities), snapshot=True)))
    derived = draw(
        st.lists(
            st.builds(
                DerivedPlan,
                kind=st.sampled_from(["ratio", "difference", "daily", "nested"]),
                a=small,
                b=small,
            ),
            max_size=3,
        )
    )
    knowledge = draw(
        st.none()
        | st.builds(
            KnowledgeSpec,
            default_period=st.sampled_from(["all", "this_year", "this_quarter", "this_month"]),
            kpis=st.lists(small, max_size=3).map(tuple),
            breakdowns=st.booleans(),
            board=st.booleans(),
            implies=st.booleans(),
            lacks=st.booleans(),
            groups=st.booleans(),
            siblings=st.booleans(),
            examples=st.booleans(),
            stray_names=st.booleans(),
        )
    )
    roles = draw(
        st.lists(
            st.builds(
                RoleSpec,
                row_filter=st.none()
                | st.tuples(
                    small,
                    st.sampled_from(["in", "not_in"]),
                    st.sampled_from(["deny", "allow"]),
                    small,
                ),
                mask=st.none() | small,
                deny=st.none() | small,
            ),
            max_size=2,
        )
    )
    alerts = draw(
        st.lists(
            st.builds(
                AlertSpec,
                metric=small,
                op=st.sampled_from([">", "<", ">="]),
                value=st.sampled_from([0.0, 0.5, 100.0, -1.0]),
                change=st.none() | st.sampled_from(["mom", "yoy"]),
                per_dimension=st.booleans(),
            ),
            max_size=2,
        )
    )
    return ModelSpec(
        seed=draw(st.integers(0, 2**16)),
        label_mode=draw(st.sampled_from(["both", "both", "en", "zh"])),
        as_of=draw(st.sampled_from(AS_OF)),
        entities=entities,
        facts=tuple(facts),
        derived=tuple(derived),
        metric_time=draw(st.booleans()),
        knowledge=knowledge,
        roles=tuple(roles),
        alerts=tuple(alerts),
    )


# --- building files from a spec -----------------------------------------------------------------


@dataclass
class TableData:
    """A table to create: column names with DuckDB types, and its rows."""

    name: str
    columns: list[tuple[str, str]]
    rows: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass(frozen=True)
class NumberCheck:
    """A simple metric whose all-time value the test computes by hand: the SQL (its value, the
    rows it reads and how many of them carry a date) and its params."""

    metric: str
    label_zh: str
    label_en: str
    sql: str
    params: tuple[Any, ...]
    agg: str


@dataclass
class Built:
    """A model written to disk with its database, and the words questions can use."""

    model_path: Path
    database: Path
    yaml_text: str
    as_of: date
    metric_words: list[str] = field(default_factory=list)
    dimension_words: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    entity_words: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    checks: list[NumberCheck] = field(default_factory=list)


def _label(zh: str, en: str, mode: LabelMode) -> dict[str, str]:
    """A label as the model's authors would write it: both languages, or one written twice
    (a dbt import has English only; a drafted Chinese CSV has Chinese only)."""
    if mode == "en":
        return {"zh": en, "en": en}
    if mode == "zh":
        return {"zh": zh, "en": zh}
    return {"zh": zh, "en": en}


def _members(entity: EntitySpec, rnd: random.Random) -> list[str]:
    """The name column of an entity table, in the drawn style (duplicates allowed)."""
    out = []
    for i in range(entity.rows):
        if entity.style == "zh":
            out.append(ZH_NAMES[i % len(ZH_NAMES)] + ("" if i < len(ZH_NAMES) else str(i)))
        elif entity.style == "en":
            out.append(EN_NAMES[i % len(EN_NAMES)] + ("" if i < len(EN_NAMES) else f" {i}"))
        elif entity.style == "codes":
            out.append(f"{entity.noun.key[:1].upper()}{i + 1:03d}")
        elif entity.style == "numbered":
            out.append(f"{entity.noun.en} {i + 1}")
        elif entity.style == "years":
            out.append(str(2020 + i % 8))
        else:
            out.append(rnd.choice(TRICKY_NAMES))
    return out


def _day(rnd: random.Random) -> date:
    return FIRST_DAY + timedelta(days=rnd.randrange((LAST_DAY - FIRST_DAY).days + 1))


def _eq(column: str, value: str) -> str:
    """`column = 'value'` as SQL text, the value quoted by sqlglot (members hold quotes)."""
    return exp.EQ(this=exp.column(column), expression=exp.Literal.string(value)).sql("duckdb")


class _Words:
    """Words already used by a metric or dimension: the validator refuses a word that names
    two things, so a generated model skips a second use (the test exercises valid models)."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def free(self, *words: str) -> bool:
        keys = {w.strip().lower() for w in words}
        return not keys & self.used

    def take(self, *words: str) -> None:
        self.used |= {w.strip().lower() for w in words}

    def synonyms(self, owner: tuple[str, ...], candidates: tuple[str, ...]) -> list[str]:
        """The candidates that name nothing else yet (taken for `owner`)."""
        out = [w for w in candidates if self.free(w) and w.strip().lower() not in owner]
        self.take(*out)
        return out


def build(spec: ModelSpec, folder: Path) -> Built:
    """Write `spec` as `model.yaml` and `data.duckdb` in `folder`; return what questions use."""
    rnd = random.Random(spec.seed)
    mode = spec.label_mode
    words = _Words()
    tables: list[TableData] = []
    model: dict[str, Any] = {"name": "any_model"}
    if spec.as_of is not None:
        model["as_of"] = spec.as_of
    model_tables: list[dict[str, Any]] = []
    joins: list[dict[str, Any]] = []
    dimensions: list[dict[str, Any]] = []
    metrics: list[dict[str, Any]] = []
    built = Built(folder / "model.yaml", folder / "data.duckdb", "", spec.as_of or date.today())
    category_dims: list[tuple[str, list[str]]] = []  # (dimension, its members)
    dims_of_table: dict[str, list[str]] = {}
    reach: dict[str, set[str]] = {}  # table → tables it reaches through joins

    def add_dimension(item: dict[str, Any], members: list[str] | None = None) -> bool:
        label = item["label"]
        names = (item["name"], label["zh"], label["en"])
        if not words.free(*names):
            return False
        words.take(*names)
        item["synonyms"] = words.synonyms(names, tuple(item.get("synonyms", ())))
        dimensions.append(item)
        built.dimension_words += [label["zh"], label["en"], *item["synonyms"]]
        if item.get("table"):
            dims_of_table.setdefault(item["table"], []).append(item["name"])
        if members is not None:
            category_dims.append((item["name"], members))
            built.members += sorted(set(members))[:4]
        return True

    if spec.metric_time:
        add_dimension(
            {
                "name": "metric_time",
                "metric_time": True,
                "type": "time",
                "label": _label("时间", "Time", mode),
                "synonyms": ["日期", "period"],
            }
        )

    # Entities.
    entity_names: list[str] = []
    for entity in spec.entities:
        noun = entity.noun
        name = noun.plural.replace(" ", "_")
        entity_names.append(name)
        key = f"{noun.key}_id"
        columns = [(key, "INTEGER"), ("name", "VARCHAR")]
        attribute = ATTRIBUTES[entity.attribute] if entity.attribute is not None else None
        if attribute:
            columns.append((attribute[0], "VARCHAR"))
        if entity.size:
            columns.append(("size", "INTEGER"))
        parent = spec.entities[entity.parent] if entity.parent is not None else None
        if parent is not None:
            columns.append((f"{parent.noun.key}_id", "INTEGER"))
        data = TableData(name, columns)
        names = _members(entity, rnd)
        for i in range(entity.rows):
            row: list[Any] = [i + 1, names[i] if rnd.random() > 0.05 else None]
            if attribute:
                row.append(rnd.choice(attribute[3])[0] if rnd.random() > 0.1 else None)
            if entity.size:
                row.append(rnd.choice([None, 1, 5, 10, 50, 200]))
            if parent is not None:
                row.append(rnd.randint(1, parent.rows) if parent.rows else None)
            data.rows.append(tuple(row))
        tables.append(data)
        model_tables.append(
            {"name": name, "primary_key": [key], "label": _label(noun.zh, noun.en, mode)}
        )
        reach[name] = {name}
        if parent is not None:
            parent_table = entity_names[entity.parent]  # type: ignore[index]
            orphans = parent.rows == 0 or any(r[-1] is None for r in data.rows)
            joins.append(
                {
                    "from": name,
                    "to": parent_table,
                    "on": [[f"{parent.noun.key}_id", f"{parent.noun.key}_id"]],
                    "required": not orphans,
                }
            )
            reach[name] |= reach[parent_table]
        built.entity_words += [noun.zh, noun.plural, noun.en]

    # Facts, and the simple metrics over them.
    simple: list[tuple[str, dict[str, Any]]] = []  # (table, metric)
    fact_tables: set[str] = set()
    for fact in spec.facts:
        noun = fact.noun
        name = noun.plural.replace(" ", "_")
        fact_tables.add(name)
        key = f"{noun.key}_id"
        refs = [spec.entities[i] for i in fact.entities]
        ref_tables = [entity_names[i] for i in fact.entities]
        time_column = "fiscal_year" if fact.date_kind == "year" else f"{noun.key}_date"
        if fact.snapshot:
            time_column = "fiscal_year" if fact.date_kind == "year" else "snapshot_date"
        time_type = {"year": "INTEGER", "timestamp": "TIMESTAMP"}.get(fact.date_kind, "DATE")
        measures = [MEASURES[i] for i in fact.measures]
        status = STATUSES[fact.status] if fact.status is not None else None
        columns = [(key, "INTEGER"), (time_column, time_type)]
        columns += [(f"{e.noun.key}_id", "INTEGER") for e in refs]
        columns += [(m.key, "DOUBLE") for m in measures]
        if status:
            columns.append(("status", "VARCHAR"))
        data = TableData(name, columns)
        for i in range(fact.rows):
            row = [i + 1, _time_value(fact, rnd, i)]
            for entity in refs:
                orphan = not fact.required and rnd.random() < 0.1
                if entity.rows == 0 or orphan:
                    row.append(rnd.choice([None, 9999]))
                else:
                    row.append(rnd.randint(1, entity.rows))
            for _m in measures:
                if fact.nulls and rnd.random() < 0.15:
                    row.append(None)
                else:
                    row.append(round(rnd.uniform(-50, 5000), 2) if rnd.random() > 0.05 else 0.0)
            if status:
                row.append(rnd.choice(status) if not fact.nulls or rnd.random() > 0.1 else None)
            data.rows.append(tuple(row))
        tables.append(data)
        table_item: dict[str, Any] = {
            "name": name,
            "primary_key": [key],
            "label": _label(noun.zh, noun.en, mode),
        }
        if fact.date_kind != "year" or rnd.random() < 0.5:
            table_item["time_column"] = time_column
        model_tables.append(table_item)
        reach[name] = {name}
        for entity, table in zip(refs, ref_tables, strict=True):
            fk = f"{entity.noun.key}_id"
            clean = entity.rows > 0 and all(
                r[columns.index((fk, "INTEGER"))] not in (None, 9999) for r in data.rows
            )
            joins.append(
                {"from": name, "to": table, "on": [[fk, fk]], "required": clean and fact.required}
            )
            reach[name] |= reach[table]

        if fact.time_dimension and (fact.date_kind != "year" or rnd.random() < 0.5):
            add_dimension(
                {
                    "name": time_column if not fact.snapshot else f"{noun.key}_{time_column}",
                    "table": name,
                    "expr": time_column,
                    "type": "time",
                    "label": _label(f"{noun.zh}日期", f"{noun.en} date", mode),
                }
            )
        if status:
            add_dimension(
                {
                    "name": f"{noun.key}_status",
                    "table": name,
                    "expr": "status",
                    "label": _label(f"{noun.zh}状态", f"{noun.en} status", mode),
                    "synonyms": [f"{noun.key} state"],
                },
                list(status),
            )

        for plan in fact.metrics:
            measure = measures[plan.measure % len(measures)]
            agg = plan.agg
            if fact.snapshot and agg in ("count", "count_distinct"):
                agg = "sum"
            expr = measure.key
            unit = "units" if measure.key == "quantity" else "yuan"
            if agg == "count":
                expr, unit = key, "count"
            elif agg == "count_distinct":
                expr = f"{refs[0].noun.key}_id" if refs else key
                unit = "count"
            metric_filter = None
            member = None
            if plan.filtered and status:
                member = status[plan.measure % len(status)]
                metric_filter = _eq("status", member)
            zh, en = _metric_words(agg, noun, measure, refs, member)
            metric_name = f"{noun.key}_{agg}_{measure.key}" + (
                f"_f{plan.measure}" if member else ""
            )
            if agg in ("count", "count_distinct"):
                metric_name = f"{noun.key}_{agg}" + (f"_f{plan.measure}" if member else "")
            label = _label(zh, en, mode)
            if any(m["name"] == metric_name for _t, m in simple) or not words.free(
                metric_name, label["zh"], label["en"]
            ):
                continue
            words.take(metric_name, label["zh"], label["en"])
            metric: dict[str, Any] = {
                "name": metric_name,
                "label": label,
                "table": name,
                "agg": agg,
                "expr": expr,
                "time": time_column,
                "unit": unit,
            }
            owner = (metric_name, label["zh"].lower(), label["en"].lower())
            candidates = measure.synonyms if agg == "sum" else ()
            if agg == "count":
                candidates = (noun.plural, f"{noun.zh}数量")
            metric["synonyms"] = words.synonyms(owner, candidates)
            if metric_filter:
                metric["filter"] = metric_filter
            if fact.snapshot:
                metric["semi_additive"] = True
            if measure.key in ("cost", "loss", "fee"):
                metric["higher_is_better"] = False
            metrics.append(metric)
            simple.append((name, metric))
            built.metric_words += [label["zh"], label["en"], *metric["synonyms"]]
            if not fact.snapshot and fact.date_kind != "year":
                built.checks.append(_check(metric, name, time_column, built.as_of, agg, member))

    # Entity dimensions, only where a fact reaches them (the validator refuses the others).
    reachable = set().union(*(reach[t] for t in fact_tables)) if fact_tables else set()
    for entity, name in zip(spec.entities, entity_names, strict=True):
        if name not in reachable:
            continue
        noun = entity.noun
        members = [r[1] for r in tables[entity_names.index(name)].rows if r[1] is not None]
        item: dict[str, Any] = {
            "name": noun.key,
            "table": name,
            "expr": "name",
            "label": _label(noun.zh, noun.en, mode),
            "synonyms": list(noun.synonyms),
        }
        if entity.parent is not None and spec.entities[entity.parent].noun.key in {
            d["name"] for d in dimensions
        }:
            item["parent"] = spec.entities[entity.parent].noun.key
        add_dimension(item, members)
        if entity.attribute is not None:
            column, zh, en, values = ATTRIBUTES[entity.attribute]
            attr: dict[str, Any] = {
                "name": f"{noun.key}_{column}",
                "table": name,
                "expr": column,
                "label": _label(f"{noun.zh}{zh}", f"{noun.en} {en.lower()}", mode),
            }
            if entity.value_labels and mode == "both":
                attr["value_labels"] = {v_zh: v_en for v_zh, v_en in values}
            add_dimension(attr, [v_zh for v_zh, _ in values])
        if entity.size:
            add_dimension(
                {
                    "name": f"{noun.key}_size",
                    "table": name,
                    "expr": "size",
                    "type": "number",
                    "label": _label(f"{noun.zh}规模", f"{noun.en} size", mode),
                }
            )

    # Derived metrics over the metrics built so far.
    for index, plan in enumerate(spec.derived):
        if not metrics:
            break
        a = metrics[plan.a % len(metrics)]
        b = metrics[plan.b % len(metrics)]
        key, zh, en = DERIVED[index % len(DERIVED)]
        if plan.kind == "daily":
            expr, unit, zh, en = f"{a['name']} / period_days", a["unit"], f"日均{zh}", f"Daily {en}"
        elif a is b:
            continue
        elif plan.kind in ("ratio", "nested"):
            expr, unit = f"{a['name']} / {b['name']}", "percent"
            if plan.kind == "nested":
                expr = f"({a['name']} - {b['name']}) / {b['name']}"
        else:
            expr, unit = f"{a['name']} - {b['name']}", a["unit"]
        label = _label(zh, en, mode)
        name = f"{key}_{index}"
        if not words.free(name, label["zh"], label["en"]):
            continue
        words.take(name, label["zh"], label["en"])
        metric = {"name": name, "label": label, "kind": "derived", "expr": expr, "unit": unit}
        if unit == "percent":
            metric["format"] = ".1%"
        metrics.append(metric)
        built.metric_words += [label["zh"], label["en"]]

    model.update(tables=model_tables, joins=joins, dimensions=dimensions, metrics=metrics)
    dim_names = [d["name"] for d in dimensions]
    leaves = {m["name"]: {m["table"]} for _t, m in simple}

    def tables_of(metric: dict[str, Any]) -> set[str]:
        if metric["name"] in leaves:
            return leaves[metric["name"]]
        named = set(re.findall(r"\w+", metric["expr"]))
        return set().union(*(tables_of(m) for m in metrics if m["name"] in named))

    def reaches(metric: dict[str, Any], dimension: str) -> bool:
        return all(
            any(dimension in dims_of_table.get(t, ()) for t in reach[table])
            for table in tables_of(metric)
        )

    # Roles.
    roles = []
    for index, role_spec in enumerate(spec.roles):
        role: dict[str, Any] = {
            "name": f"role_{index}",
            "label": _label(f"角色{index}", f"Role {index}", mode),
        }
        if role_spec.row_filter is not None and category_dims:
            pick, op, elsewhere, value_pick = role_spec.row_filter
            dimension, members = category_dims[pick % len(category_dims)]
            values = sorted(set(members)) or ["nobody"]
            chosen = values[value_pick % len(values)]
            role["row_filters"] = [
                {"dimension": dimension, "op": op, "values": [chosen], "elsewhere": elsewhere}
            ]
        if role_spec.mask is not None and category_dims:
            role["masked_dimensions"] = [category_dims[role_spec.mask % len(category_dims)][0]]
        if role_spec.deny is not None and metrics:
            role["denied_metrics"] = [metrics[role_spec.deny % len(metrics)]["name"]]
        roles.append(role)
        built.roles.append(role["name"])
    if roles:
        model["roles"] = roles

    # Alerts.
    alerts = []
    for index, alert_spec in enumerate(spec.alerts):
        if not metrics:
            break
        metric = metrics[alert_spec.metric % len(metrics)]
        alert: dict[str, Any] = {
            "name": f"alert_{index}",
            "label": _label(f"预警{index}", f"Alert {index}", mode),
            "metric": metric["name"],
            "op": alert_spec.op,
            "value": alert_spec.value,
        }
        if alert_spec.change:
            alert["change"] = alert_spec.change
        if alert_spec.per_dimension:
            usable = [d for d, _m in category_dims if reaches(metric, d)]
            if usable:
                alert["dimensions"] = [usable[alert_spec.metric % len(usable)]]
        alerts.append(alert)
    if alerts:
        model["alerts"] = alerts

    if spec.knowledge is not None and metrics:
        model["knowledge"] = _knowledge(spec.knowledge, metrics, dim_names, category_dims)

    built.yaml_text = yaml.safe_dump(model, allow_unicode=True, sort_keys=False)
    folder.mkdir(parents=True, exist_ok=True)
    built.model_path.write_text(built.yaml_text, encoding="utf-8")
    _write_database(built.database, tables)
    built.tables = [t.name for t in tables]
    return built


def _time_value(fact: FactSpec, rnd: random.Random, i: int) -> Any:
    """The time cell of a fact row: a date, a timestamp, an integer year, or NULL."""
    kind = fact.date_kind
    if kind == "empty" or (kind == "sparse" and rnd.random() < 0.6):
        return None
    if fact.snapshot:
        month_end = date(2025, 12, 31) - timedelta(days=30 * (i % 14))
        return month_end.year if kind == "year" else month_end
    if kind == "year":
        return rnd.randint(2021, 2025)
    day = _day(rnd)
    if kind == "timestamp":
        return datetime(day.year, day.month, day.day, rnd.randint(0, 23), rnd.randint(0, 59))
    return day


def _metric_words(
    agg: str, fact: Noun, measure: Noun, refs: list[EntitySpec], member: str | None
) -> tuple[str, str]:
    """A metric's zh and en label, as people name such a metric."""
    if agg == "count":
        zh, en = f"{fact.zh}数", f"Number of {fact.plural}"
    elif agg == "count_distinct":
        thing = refs[0].noun if refs else fact
        zh, en = f"{fact.zh}{thing.zh}数", f"Distinct {thing.plural} in {fact.plural}"
    else:
        prefix = {
            "sum": ("", ""),
            "avg": ("平均", "Avg "),
            "min": ("最低", "Min "),
            "max": ("最高", "Max "),
        }
        p_zh, p_en = prefix[agg]
        zh = f"{p_zh}{fact.zh}{measure.zh}"
        en = f"{p_en}{fact.en.lower() if p_en else fact.en} {measure.en.lower()}"
    if member is not None:
        zh, en = f"{member}{zh}", f"{en} ({member})"
    return zh, en


def _check(
    metric: dict[str, Any], table: str, time: str, as_of: date, agg: str, member: str | None
) -> NumberCheck:
    """The hand-written SQL for a simple metric's value over all time up to as-of."""
    column = f'"{metric["expr"]}"'
    value = {
        "sum": f"SUM({column})",
        "count": f"COUNT({column})",
        "count_distinct": f"COUNT(DISTINCT {column})",
        "avg": f"AVG({column})",
        "min": f"MIN({column})",
        "max": f"MAX({column})",
    }[agg]
    # All time is every row up to as-of, and the rows without a date (DESIGN: an empty date
    # column still holds facts).
    where = f'("{time}" IS NULL OR "{time}" < $1)'
    params: tuple[Any, ...] = (as_of + timedelta(days=1),)
    if member is not None:
        where += " AND status = $2"
        params += (member,)
    return NumberCheck(
        metric["name"],
        metric["label"]["zh"],
        metric["label"]["en"],
        f'SELECT {value}, COUNT(*), COUNT("{time}") FROM "{table}" WHERE {where}',
        params,
        agg,
    )


def _knowledge(
    spec: KnowledgeSpec,
    metrics: list[dict[str, Any]],
    dims: list[str],
    category_dims: list[tuple[str, list[str]]],
) -> dict[str, Any]:
    """The `knowledge:` section a model author might write for this model."""
    names = [m["name"] for m in metrics]
    categories = [d for d, _m in category_dims]
    out: dict[str, Any] = {"default_period": spec.default_period}
    kpis = list(dict.fromkeys(names[i % len(names)] for i in spec.kpis))
    if spec.stray_names:
        kpis.append("revenue")
    if kpis:
        out["kpis"] = kpis
    if spec.breakdowns:
        out["breakdowns"] = {names[0]: categories[:2], "*": categories[-1:]}
        if spec.stray_names:
            out["breakdowns"]["gross_margin"] = ["region"]
    if spec.board:
        out["board_filters"] = categories[:1] + (["region"] if spec.stray_names else [])
    if spec.implies:
        implied = [names[-1]] + (["purchase_amount"] if spec.stray_names else [])
        out["implies"] = [{"patterns": ["卖了多少|卖了", r"\bsold\b"], "metrics": implied}]
    if spec.lacks:
        out["lacks"] = [
            {
                "patterns": ["净利润", r"\bnet profit\b"],
                "label": {"zh": "净利润", "en": "net profit"},
                "suggest": names[:1] + (["operating_profit"] if spec.stray_names else []),
            }
        ]
    if spec.groups and len(names) >= 2:
        out["groups"] = [{"patterns": ["全部指标", r"\beverything\b"], "metrics": names[:2]}]
    if spec.siblings:
        out["siblings"] = [["应收", "应付"], ["inflow", "outflow"]]
    if spec.examples:
        out["examples"] = [
            {"zh": f"各{dims[-1] if dims else '区域'}的指标", "en": "metrics by month"}
        ]
    return out


def _write_database(path: Path, tables: list[TableData]) -> None:
    """Create every table and insert its rows (the engine later opens the file read-only)."""
    if path.exists():
        path.unlink()
    with duckdb.connect(str(path)) as con:
        for table in tables:
            columns = ", ".join(f'"{c}" {t}' for c, t in table.columns)
            con.execute(f'CREATE TABLE "{table.name}" ({columns})')
            if table.rows:
                marks = ", ".join("?" for _ in table.columns)
                con.executemany(f'INSERT INTO "{table.name}" VALUES ({marks})', table.rows)
