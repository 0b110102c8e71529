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
from collections.abc import Callable
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
# Mostly inside the data (2022-2025); rarely before all of it (every period is empty).
AS_OF = (date(2025, 6, 30), date(2025, 12, 31), date(2024, 3, 15), date(2025, 12, 31))
AS_OF_RARE = (date(2021, 6, 1),)
FIRST_DAY = date(2022, 1, 1)
LAST_DAY = date(2025, 12, 31)

DateKind = Literal["date", "sparse", "empty", "year", "timestamp", "text"]
LabelMode = Literal["both", "en", "zh"]


# --- the drawn structure ------------------------------------------------------------------------


@dataclass(frozen=True)
class EntitySpec:
    """An entity (lookup) table: one row per thing people group by."""

    noun: Noun
    rows: int
    style: str  # how its members are named (MEMBER_STYLES)
    attribute: int | None  # index into ATTRIBUTES: a category column with few members
    size: bool  # an integer column, a `number` dimension
    parent: int | None  # an earlier entity this one joins to (store → region)
    value_labels: bool  # English names of the attribute's members
    counted: bool = False  # a created date and a count metric ("how many customers")
    forms: bool = False  # value_forms: "{}区", "{} region"
    flag: bool = False  # a BOOLEAN column as a category dimension (active: true/false)


@dataclass(frozen=True)
class MetricPlan:
    """One simple metric of a fact table: `agg` over a measure (picked by index), over a
    column or an expression of columns, with or without a fixed filter."""

    agg: str
    measure: int
    filtered: bool
    expression: bool = False


@dataclass(frozen=True)
class FactSpec:
    """A fact table: rows that metrics aggregate, with foreign keys to entities. With
    `header`, it is a line table dated by an earlier fact (order lines by their order)."""

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
    header: int | None = None
    band: bool = False  # a category dimension that is an expression (大额/小额)
    measure_type: str = "DOUBLE"  # DECIMAL(18,2) and integers return Decimal and int
    odd_values: bool = False  # sentinel dates (9999-12-31, 1899-12-31), NaN and infinity


@dataclass(frozen=True)
class DerivedPlan:
    """A derived metric over two others (picked by index among the metrics built before it)."""

    kind: Literal["ratio", "difference", "daily", "nested"]
    a: int
    b: int


@dataclass(frozen=True)
class RoleSpec:
    """A role: a row filter on a category dimension, a masked dimension, a denied metric,
    a masked column (each picked by index, each optional)."""

    row_filter: tuple[int, Literal["in", "not_in"], Literal["deny", "allow"], int] | None
    mask: int | None
    deny: int | None
    mask_column: int | None = None


@dataclass(frozen=True)
class AlertSpec:
    """A threshold or change rule on a metric, optionally per member of a dimension or
    scoped to one member."""

    metric: int
    op: Literal[">", "<", ">="]
    value: float
    change: Literal["mom", "yoy"] | None
    per_dimension: bool
    scoped: bool = False


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
    budget: bool = False  # a budget table and a metric's `budget:`
    # Columns named by SQL keywords (value, "order", "group", "date"), written bare or quoted
    # in the model's expressions, as an import from someone else's warehouse would.
    keywords: Literal["none", "bare", "quoted"] = "none"


small = st.integers(0, 1000)
MEASURE_TYPES = ("DOUBLE", "DOUBLE", "DECIMAL(18,2)", "INTEGER", "BIGINT")
# Physical names of columns when a model's columns are SQL keywords.
KEYWORDS = {"amount": "value", "quantity": "order", "status": "group", "date": "date"}
SENTINEL_DAYS = (date(9999, 12, 31), date(1899, 12, 31), date(1, 1, 1))
DATE_KINDS: tuple[DateKind, ...] = ("date", "date", "sparse", "empty", "year", "timestamp", "text")


@st.composite
def entity_specs(draw: st.DrawFn, index: int, noun: Noun) -> EntitySpec:
    """One entity table; it may join to an earlier entity (a hierarchy)."""
    return EntitySpec(
        noun=noun,
        rows=draw(st.one_of(st.integers(1, 12), st.integers(0, 45))),
        style=draw(st.sampled_from(MEMBER_STYLES)),
        attribute=draw(st.none() | st.integers(0, len(ATTRIBUTES) - 1)),
        size=draw(st.booleans()),
        parent=draw(st.none() | st.integers(0, index - 1)) if index else None,
        value_labels=draw(st.booleans()),
        counted=draw(st.booleans()),
        forms=draw(st.booleans()),
        flag=draw(st.booleans()),
    )


@st.composite
def fact_specs(
    draw: st.DrawFn, noun: Noun, entities: int, snapshot: bool, earlier: int
) -> FactSpec:
    """One fact table with its simple metrics; `earlier` facts exist that it may be lines of."""
    refs = draw(st.lists(st.integers(0, max(entities - 1, 0)), max_size=2, unique=True))
    measures = draw(
        st.lists(st.integers(0, len(MEASURES) - 1), min_size=1, max_size=3, unique=True)
    )
    plans = draw(
        st.lists(
            st.builds(
                MetricPlan,
                agg=st.sampled_from(["sum", "count", "count_distinct", "avg", "min", "max"]),
                measure=st.integers(0, 5),
                filtered=st.booleans(),
                expression=st.booleans(),
            ),
            min_size=1,
            max_size=4,
        )
    )
    header = None
    if earlier and not snapshot:
        header = draw(st.none() | st.none() | st.integers(0, earlier - 1))
    return FactSpec(
        noun=noun,
        rows=draw(st.one_of(st.integers(5, 40), st.integers(0, 80))),
        entities=tuple(refs) if entities else (),
        required=draw(st.booleans()),
        date_kind=draw(st.sampled_from(DATE_KINDS)),
        measures=tuple(measures),
        status=draw(st.none() | st.integers(0, len(STATUSES) - 1)),
        nulls=draw(st.booleans()),
        snapshot=snapshot,
        metrics=tuple(plans),
        time_dimension=draw(st.booleans()),
        header=header,
        band=draw(st.booleans()),
        measure_type=draw(st.sampled_from(MEASURE_TYPES)),
        odd_values=draw(st.sampled_from([False] * 4 + [True])),
    )


@st.composite
def model_specs(draw: st.DrawFn) -> ModelSpec:
    """A whole model: 0-3 entities, 1-3 facts (maybe lines of another, maybe one snapshot
    table), derived metrics, dimensions, roles, alerts, a budget and knowledge, each part
    optional."""
    nouns = draw(st.lists(st.sampled_from(ENTITIES), max_size=3, unique_by=lambda n: n.key))
    entities = tuple(draw(entity_specs(i, noun)) for i, noun in enumerate(nouns))
    # Rarely no fact at all: a model of dimensions only (listing questions still apply).
    fewest = draw(st.sampled_from([1] * 19 + [0]))
    fact_nouns = draw(st.lists(st.sampled_from(FACTS), min_size=fewest, max_size=2, unique=True))
    facts = [
        draw(fact_specs(noun, len(entities), snapshot=False, earlier=i))
        for i, noun in enumerate(fact_nouns)
    ]
    if draw(st.booleans()):
        noun = draw(st.sampled_from(SNAPSHOTS))
        facts.append(draw(fact_specs(noun, len(entities), snapshot=True, earlier=0)))
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
                mask_column=st.none() | small,
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
                scoped=st.booleans(),
            ),
            max_size=2,
        )
    )
    return ModelSpec(
        seed=draw(st.integers(0, 2**16)),
        label_mode=draw(st.sampled_from(["both", "both", "en", "zh"])),
        as_of=draw(st.sampled_from(AS_OF * 3 + AS_OF_RARE)),
        entities=entities,
        facts=tuple(facts),
        derived=tuple(derived),
        metric_time=draw(st.booleans()),
        knowledge=knowledge,
        roles=tuple(roles),
        alerts=tuple(alerts),
        budget=draw(st.booleans()),
        keywords=draw(st.sampled_from(["none", "none", "bare", "quoted"])),
    )


# --- building files from a spec -----------------------------------------------------------------


@dataclass
class TableData:
    """A table to create: column names with DuckDB types, and its rows."""

    name: str
    columns: list[tuple[str, str]]
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    def column(self, name: str) -> list[Any]:
        index = [c for c, _t in self.columns].index(name)
        return [row[index] for row in self.rows]


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


def _time_value(kind: DateKind, snapshot: bool, rnd: random.Random, i: int, odd: bool) -> Any:
    """The time cell of a fact row: a date, a timestamp, an integer year, ISO text, or NULL
    (`odd`: now and then a sentinel date such as 9999-12-31)."""
    if kind == "empty" or (kind == "sparse" and rnd.random() < 0.6):
        return None
    day = date(2025, 12, 31) - timedelta(days=30 * (i % 14)) if snapshot else _day(rnd)
    if odd and rnd.random() < 0.1:
        day = rnd.choice(SENTINEL_DAYS)
    if kind == "year":
        return day.year if snapshot or day in SENTINEL_DAYS else rnd.randint(2021, 2025)
    if kind == "timestamp":
        return datetime(day.year, day.month, day.day, rnd.randint(0, 23), rnd.randint(0, 59))
    if kind == "text":
        return day.isoformat()
    return day


TIME_TYPES = {"year": "INTEGER", "timestamp": "TIMESTAMP", "text": "VARCHAR"}


def _measure_value(spec: FactSpec, rnd: random.Random) -> Any:
    """An amount of a fact row for its column type; NULLs, zeros, negatives, and with
    `odd_values` NaN, infinity and very large amounts."""
    if spec.nulls and rnd.random() < 0.15:
        return None
    if spec.odd_values and rnd.random() < 0.1:
        if spec.measure_type == "DOUBLE":
            return rnd.choice([float("nan"), float("inf"), -1e300, 1e15])
        return rnd.choice([10**12, -(10**9)]) if spec.measure_type != "INTEGER" else 2**31 - 1
    value = round(rnd.uniform(-50, 5000), 2) if rnd.random() > 0.05 else 0.0
    return int(value) if spec.measure_type in ("INTEGER", "BIGINT") else value


def _eq(column: str, value: str) -> str:
    """`column = 'value'` as SQL text, quoted by sqlglot (members hold quotes; columns may be
    keywords)."""
    node = exp.EQ(this=exp.column(column, quoted=True), expression=exp.Literal.string(value))
    return node.sql("duckdb")


def _metric_words(
    plan: MetricPlan,
    fact: Noun,
    measures: list[Noun],
    refs: list[EntitySpec],
    member: str | None,
    col: Callable[[str], str],
) -> tuple[str, str, str]:
    """A metric's zh and en label, as people name such a metric, and its expression (columns
    written by `col`)."""
    measure = measures[plan.measure % len(measures)]
    expr = col(measure.key)
    m_zh, m_en = measure.zh, measure.en.lower()
    if plan.expression and len(measures) > 1:
        other = measures[(plan.measure + 1) % len(measures)]
        expr = f"{col(measure.key)} - {col(other.key)}"
        m_zh, m_en = f"{measure.zh}减{other.zh}", f"{m_en} net of {other.en.lower()}"
    elif plan.expression:
        expr = f"CASE WHEN {col(measure.key)} > 1000 THEN {col(measure.key)} ELSE 0 END"
        m_zh, m_en = f"大额{measure.zh}", f"large {m_en}"
    if plan.agg == "count":
        zh, en = f"{fact.zh}数", f"Number of {fact.plural}"
    elif plan.agg == "count_distinct":
        thing = refs[0].noun if refs else fact
        zh, en = f"{fact.zh}{thing.zh}数", f"Distinct {thing.plural} in {fact.plural}"
    else:
        prefix = {
            "sum": ("", ""),
            "avg": ("平均", "Avg "),
            "min": ("最低", "Min "),
            "max": ("最高", "Max "),
        }
        p_zh, p_en = prefix[plan.agg]
        zh = f"{p_zh}{fact.zh}{m_zh}"
        en = f"{p_en}{fact.en.lower() if p_en else fact.en} {m_en}"
    if member is not None:
        zh, en = f"{member}{zh}", f"{en} ({member})"
    return zh, en, expr


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
        mine = {w.strip().lower() for w in owner}
        out = [w for w in candidates if self.free(w) and w.strip().lower() not in mine]
        self.take(*out)
        return out


@dataclass
class _Fact:
    """A fact table as built: where its time is and what its rows look like."""

    spec: FactSpec
    table: TableData
    time: str  # the metric `time` as the model writes it (qualified: the header's column)
    time_column: str  # the physical column holding that time
    time_kind: DateKind
    header: _Fact | None  # the fact whose date dates this one's rows
    header_key: str | None
    status: tuple[str, ...] | None


class _Builder:
    """Builds one model (as the data of its YAML) and its tables from a `ModelSpec`."""

    def __init__(self, spec: ModelSpec, built: Built) -> None:
        self.spec = spec
        self.built = built
        self.rnd = random.Random(spec.seed)
        self.mode = spec.label_mode
        self.words = _Words()
        self.tables: list[TableData] = []
        self.model_tables: list[dict[str, Any]] = []
        self.joins: list[dict[str, Any]] = []
        self.dimensions: list[dict[str, Any]] = []
        self.metrics: list[dict[str, Any]] = []
        self.leaves: dict[str, str] = {}  # simple metric → its table
        self.category_dims: list[tuple[str, list[str]]] = []  # (dimension, its members)
        self.dims_of_table: dict[str, list[str]] = {}
        self.reach: dict[str, set[str]] = {}  # table → the tables it reaches through joins
        self.entity_tables: list[str] = []
        self.facts: list[_Fact] = []

    def label(self, zh: str, en: str) -> dict[str, str]:
        return _label(zh, en, self.mode)

    def column(self, key: str) -> str:
        """The physical name of a column (a keyword when the spec says so)."""
        return KEYWORDS.get(key, key) if self.spec.keywords != "none" else key

    def ref(self, key: str) -> str:
        """A column as the model's expressions write it: bare, or quoted."""
        name = self.column(key)
        return f'"{name}"' if self.spec.keywords == "quoted" else name

    def quoted(self, key: str) -> str:
        """A column as the hand-written check SQL writes it: always quoted."""
        return f'"{self.column(key)}"'

    # --- adding items ------------------------------------------------------------------------
    def table(self, data: TableData, key: list[str], noun: Noun, time: str | None) -> None:
        self.tables.append(data)
        item: dict[str, Any] = {"name": data.name, "primary_key": key}
        item["label"] = self.label(noun.zh, noun.en)
        if time is not None:
            item["time_column"] = time
        self.model_tables.append(item)
        self.reach[data.name] = {data.name}

    def join(self, source: str, target: str, column: str, target_column: str, clean: bool) -> None:
        """A many-to-one join; `required` only when every row has its match (check verifies)."""
        self.joins.append(
            {"from": source, "to": target, "on": [[column, target_column]], "required": clean}
        )
        self.reach[source] |= self.reach[target]

    def dimension(self, item: dict[str, Any], members: list[str] | None = None) -> bool:
        label = item["label"]
        names = (item["name"], label["zh"], label["en"])
        if not self.words.free(*names):
            return False
        self.words.take(*names)
        item["synonyms"] = self.words.synonyms(names, tuple(item.get("synonyms", ())))
        self.dimensions.append(item)
        self.built.dimension_words += [label["zh"], label["en"], *item["synonyms"]]
        if item.get("table"):
            self.dims_of_table.setdefault(item["table"], []).append(item["name"])
        if members is not None:
            self.category_dims.append((item["name"], members))
            self.built.members += sorted(set(members))[:4]
        return True

    def metric(self, item: dict[str, Any], synonyms: tuple[str, ...] = ()) -> bool:
        label = item["label"]
        names = (item["name"], label["zh"], label["en"])
        if any(m["name"] == item["name"] for m in self.metrics) or not self.words.free(*names):
            return False
        self.words.take(*names)
        item["synonyms"] = self.words.synonyms(names, synonyms)
        self.metrics.append(item)
        if item.get("table"):
            self.leaves[item["name"]] = item["table"]
        self.built.metric_words += [label["zh"], label["en"], *item["synonyms"]]
        return True

    # --- the parts of a model ----------------------------------------------------------------
    def entities(self) -> None:
        for entity in self.spec.entities:
            noun, rnd = entity.noun, self.rnd
            name = noun.plural.replace(" ", "_")
            self.entity_tables.append(name)
            key = f"{noun.key}_id"
            columns = [(key, "INTEGER"), ("name", "VARCHAR")]
            attribute = ATTRIBUTES[entity.attribute] if entity.attribute is not None else None
            if attribute:
                columns.append((attribute[0], "VARCHAR"))
            if entity.size:
                columns.append(("size", "INTEGER"))
            if entity.counted:
                columns.append(("created_date", "DATE"))
            if entity.flag:
                columns.append(("active", "BOOLEAN"))
            parent = self.spec.entities[entity.parent] if entity.parent is not None else None
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
                if entity.counted:
                    row.append(_day(rnd) if rnd.random() > 0.1 else None)
                if entity.flag:
                    row.append(rnd.choice([True, False, None]))
                if parent is not None:
                    row.append(rnd.randint(1, parent.rows) if parent.rows else None)
                data.rows.append(tuple(row))
            self.table(data, [key], noun, "created_date" if entity.counted else None)
            if parent is not None:
                parent_key = f"{parent.noun.key}_id"
                keys = data.column(parent_key)
                clean = parent.rows > 0 and None not in keys
                self.join(name, self.entity_tables[entity.parent], parent_key, parent_key, clean)  # type: ignore[index]
            if entity.counted:
                label = self.label(f"{noun.zh}数", f"Number of {noun.plural}")
                metric = {
                    "name": f"{noun.key}_count",
                    "label": label,
                    "table": name,
                    "agg": "count",
                    "expr": key,
                    "time": "created_date",
                    "unit": "count",
                }
                if self.metric(metric, (f"{noun.zh}数量",)):
                    self.check(metric, key, "created_date", "date", None, None, name)
            self.built.entity_words += [noun.zh, noun.plural, noun.en]

    def fact(self, spec: FactSpec) -> None:
        noun, rnd = spec.noun, self.rnd
        name = noun.plural.replace(" ", "_")
        key = f"{noun.key}_id"
        refs = [self.spec.entities[i] for i in spec.entities]
        header = None
        if spec.header is not None and spec.header < len(self.facts):
            header = self.facts[spec.header]
            if header.spec.snapshot or header.header is not None:
                header = None
        measures = [MEASURES[i] for i in spec.measures]
        status = STATUSES[spec.status] if spec.status is not None else None
        kind: DateKind = spec.date_kind
        own_time = "fiscal_year" if kind == "year" else f"{noun.key}_date"
        if spec.snapshot:
            own_time = "fiscal_year" if kind == "year" else "snapshot_date"
        if self.spec.keywords != "none":
            own_time = "year" if kind == "year" else "date"
        columns = [(key, "INTEGER")]
        if header is None:
            columns.append((own_time, TIME_TYPES.get(kind, "DATE")))
        else:
            columns.append((header.header_key or "", "INTEGER"))
        columns += [(f"{e.noun.key}_id", "INTEGER") for e in refs]
        columns += [(self.column(m.key), spec.measure_type) for m in measures]
        if status:
            columns.append((self.column("status"), "VARCHAR"))
        data = TableData(name, columns)
        for i in range(spec.rows):
            row: list[Any] = [i + 1]
            if header is None:
                row.append(_time_value(kind, spec.snapshot, rnd, i, spec.odd_values))
            else:
                parents = len(header.table.rows)
                orphan = not spec.required and rnd.random() < 0.1
                row.append(rnd.randint(1, parents) if parents and not orphan else None)
            for entity in refs:
                orphan = not spec.required and rnd.random() < 0.1
                if entity.rows == 0 or orphan:
                    row.append(rnd.choice([None, 9999]))
                else:
                    row.append(rnd.randint(1, entity.rows))
            for _m in measures:
                row.append(_measure_value(spec, rnd))
            if status:
                row.append(rnd.choice(status) if not spec.nulls or rnd.random() > 0.1 else None)
            data.rows.append(tuple(row))
        time_column = own_time if header is None else None
        if header is None and kind == "year" and rnd.random() < 0.5:
            time_column = None  # a year column is not always declared the table's date
        self.table(data, [key], noun, time_column)
        if header is not None:
            header_key = header.header_key or ""
            keys = data.column(header_key)
            clean = bool(header.table.rows) and None not in keys
            self.join(name, header.table.name, header_key, header_key, clean and spec.required)
        for entity, table in zip(refs, [self.entity_tables[i] for i in spec.entities], strict=True):
            fk = f"{entity.noun.key}_id"
            clean = entity.rows > 0 and all(k not in (None, 9999) for k in data.column(fk))
            self.join(name, table, fk, fk, clean and spec.required)
        if header is None:
            time = f'"{own_time}"' if self.spec.keywords == "quoted" else own_time
            fact = _Fact(spec, data, time, own_time, kind, None, key, status)
        else:
            qualified = f"{header.table.name}.{header.time}"
            fact = _Fact(
                spec, data, qualified, header.time_column, header.time_kind, header, key, status
            )
        self.facts.append(fact)
        self.fact_dimensions(fact)
        self.fact_metrics(fact, measures, refs)

    def fact_dimensions(self, fact: _Fact) -> None:
        spec, noun, name = fact.spec, fact.spec.noun, fact.table.name
        if spec.time_dimension and fact.header is None:
            self.dimension(
                {
                    "name": f"{noun.key}_{fact.time_column}",
                    "table": name,
                    "expr": fact.time,
                    "type": "time",
                    "label": self.label(f"{noun.zh}日期", f"{noun.en} date"),
                }
            )
        if fact.status:
            first = fact.status[0]
            self.dimension(
                {
                    "name": f"{noun.key}_status",
                    "table": name,
                    "expr": self.ref("status"),
                    "label": self.label(f"{noun.zh}状态", f"{noun.en} status"),
                    "synonyms": [f"{noun.key} state"],
                    "value_synonyms": {first: [f"{first}的", f"{first} ones"]},
                },
                list(fact.status),
            )
        if spec.band:
            measure = self.ref(MEASURES[spec.measures[0]].key)
            self.dimension(
                {
                    "name": f"{noun.key}_band",
                    "table": name,
                    "expr": f"CASE WHEN {measure} >= 1000 THEN '大额' ELSE '小额' END",
                    "label": self.label(f"{noun.zh}规模档", f"{noun.en} band"),
                    "value_labels": {"大额": "Large", "小额": "Small"},
                },
                ["大额", "小额"],
            )

    def fact_metrics(self, fact: _Fact, measures: list[Noun], refs: list[EntitySpec]) -> None:
        spec, noun, name = fact.spec, fact.spec.noun, fact.table.name
        for plan in spec.metrics:
            agg = plan.agg
            if spec.snapshot and agg in ("count", "count_distinct"):
                agg = "sum"
            plan = MetricPlan(agg, plan.measure, plan.filtered, plan.expression)
            member = None
            if plan.filtered and fact.status:
                member = fact.status[plan.measure % len(fact.status)]
            zh, en, expr = _metric_words(plan, noun, measures, refs, member, self.ref)
            checked = _metric_words(plan, noun, measures, refs, member, self.quoted)[2]
            unit = "yuan"
            if agg == "count":
                expr, unit = f"{noun.key}_id", "count"
            elif agg == "count_distinct":
                expr, unit = (f"{refs[0].noun.key}_id" if refs else f"{noun.key}_id"), "count"
            if agg in ("count", "count_distinct"):
                checked = expr
            suffix = f"_f{plan.measure}" if member else ""
            metric_name = f"{noun.key}_{agg}" + suffix
            if agg not in ("count", "count_distinct"):
                shape = "x" if plan.expression else ""
                metric_name = f"{noun.key}_{agg}_{measures[plan.measure % len(measures)].key}"
                metric_name += shape + suffix
            metric: dict[str, Any] = {
                "name": metric_name,
                "label": self.label(zh, en),
                "table": name,
                "agg": agg,
                "expr": expr,
                "time": fact.time,
                "unit": unit,
            }
            if member is not None:
                metric["filter"] = _eq(self.column("status"), member)
            if spec.snapshot:
                metric["semi_additive"] = True
            if any(m.key in expr for m in MEASURES if m.key in ("cost", "loss", "fee")):
                metric["higher_is_better"] = False
            synonyms: tuple[str, ...] = ()
            if agg == "sum" and not plan.expression:
                synonyms = measures[plan.measure % len(measures)].synonyms
            elif agg == "count":
                synonyms = (noun.plural, f"{noun.zh}数量")
            if self.metric(metric, synonyms) and not spec.snapshot:
                self.check(metric, checked, fact.time_column, fact.time_kind, fact, member)

    def entity_dimensions(self) -> None:
        """Entity dimensions, only where a fact reaches them (the validator refuses others)."""
        facts = set(self.leaves.values())
        reachable = set().union(*(self.reach[t] for t in facts)) if facts else set()
        for index, (entity, name) in enumerate(
            zip(self.spec.entities, self.entity_tables, strict=True)
        ):
            if name not in reachable:
                continue
            noun = entity.noun
            members = [r[1] for r in self.tables[index].rows if r[1] is not None]
            item: dict[str, Any] = {
                "name": noun.key,
                "table": name,
                "expr": "name",
                "label": self.label(noun.zh, noun.en),
                "synonyms": list(noun.synonyms),
            }
            known = {d["name"] for d in self.dimensions}
            if entity.parent is not None and self.spec.entities[entity.parent].noun.key in known:
                item["parent"] = self.spec.entities[entity.parent].noun.key
            if entity.forms:
                item["value_forms"] = ["{}" + noun.zh, "{} " + noun.en.lower()]
            self.dimension(item, members)
            if entity.attribute is not None:
                column, zh, en, values = ATTRIBUTES[entity.attribute]
                attr: dict[str, Any] = {
                    "name": f"{noun.key}_{column}",
                    "table": name,
                    "expr": column,
                    "label": self.label(f"{noun.zh}{zh}", f"{noun.en} {en.lower()}"),
                }
                if entity.value_labels and self.mode == "both":
                    attr["value_labels"] = {v_zh: v_en for v_zh, v_en in values}
                self.dimension(attr, [v_zh for v_zh, _ in values])
            if entity.size:
                self.dimension(
                    {
                        "name": f"{noun.key}_size",
                        "table": name,
                        "expr": "size",
                        "type": "number",
                        "label": self.label(f"{noun.zh}规模", f"{noun.en} size"),
                    }
                )
            if entity.flag:
                self.dimension(
                    {
                        "name": f"{noun.key}_active",
                        "table": name,
                        "expr": "active",
                        "label": self.label(f"{noun.zh}是否活跃", f"Active {noun.en.lower()}"),
                    },
                    ["true", "false"],
                )
            if entity.counted:
                self.dimension(
                    {
                        "name": f"{noun.key}_created",
                        "table": name,
                        "expr": "created_date",
                        "type": "time",
                        "label": self.label(f"{noun.zh}创建日期", f"{noun.en} since"),
                    }
                )

    def budget(self) -> None:
        """A budget table by month (and by the first entity), the budget of the first sum."""
        target = next(
            (m for m in self.metrics if m.get("agg") == "sum" and not m.get("semi_additive")),
            None,
        )
        if target is None:
            return
        columns = [("month", "DATE"), ("plan", "DOUBLE")]
        entity = self.spec.entities[0] if self.spec.entities else None
        if entity is not None:
            columns.append((f"{entity.noun.key}_id", "INTEGER"))
        data = TableData("budgets", columns)
        for month in range(1, 13):
            for year in (2024, 2025):
                for member in range(1, (entity.rows if entity else 1) + 1):
                    row: list[Any] = [date(year, month, 1), round(self.rnd.uniform(0, 9000), 2)]
                    if entity is not None:
                        row.append(member)
                    data.rows.append(tuple(row))
        key = ["month"] + ([f"{entity.noun.key}_id"] if entity is not None else [])
        self.table(data, key, Noun("budget", "预算表", "Budgets", "budgets"), "month")
        if entity is not None and entity.rows:
            fk = f"{entity.noun.key}_id"
            self.join("budgets", self.entity_tables[0], fk, fk, True)
        plan = {
            "name": "budget_plan",
            "label": self.label("预算金额", "Budget amount"),
            "table": "budgets",
            "agg": "sum",
            "expr": "plan",
            "time": "month",
        }
        if self.metric(plan, ("预算",)):
            target["budget"] = "budget_plan"
            self.check(plan, "plan", "month", "date", None, None, "budgets")

    def derived(self) -> None:
        for index, plan in enumerate(self.spec.derived):
            if not self.metrics:
                return
            a = self.metrics[plan.a % len(self.metrics)]
            b = self.metrics[plan.b % len(self.metrics)]
            key, zh, en = DERIVED[index % len(DERIVED)]
            unit = a.get("unit", "yuan")
            if plan.kind == "daily":
                expr, zh, en = f"{a['name']} / period_days", f"日均{zh}", f"Daily {en}"
            elif a is b:
                continue
            elif plan.kind == "ratio":
                expr, unit = f"{a['name']} / {b['name']}", "percent"
            elif plan.kind == "nested":
                expr, unit = f"({a['name']} - {b['name']}) / {b['name']}", "percent"
            else:
                expr = f"{a['name']} - {b['name']}"
            metric = {
                "name": f"{key}_{index}",
                "label": self.label(zh, en),
                "kind": "derived",
                "expr": expr,
                "unit": unit,
            }
            if unit == "percent":
                metric["format"] = ".1%"
            self.metric(metric)

    def tables_of(self, metric: dict[str, Any]) -> set[str]:
        """The fact tables a metric reads (a derived one: its leaves')."""
        if metric["name"] in self.leaves:
            return {self.leaves[metric["name"]]}
        named = set(re.findall(r"\w+", metric["expr"]))
        return set().union(*(self.tables_of(m) for m in self.metrics if m["name"] in named))

    def reaches(self, metric: dict[str, Any], dimension: str) -> bool:
        return all(
            any(dimension in self.dims_of_table.get(t, ()) for t in self.reach[table])
            for table in self.tables_of(metric)
        )

    def roles(self) -> list[dict[str, Any]]:
        roles = []
        measures = [
            f"{f.table.name}.{self.column(MEASURES[i].key)}"
            for f in self.facts
            for i in f.spec.measures
        ]
        for index, spec in enumerate(self.spec.roles):
            role: dict[str, Any] = {
                "name": f"role_{index}",
                "label": self.label(f"角色{index}", f"Role {index}"),
            }
            categories = self.category_dims
            if spec.row_filter is not None and categories:
                pick, op, elsewhere, value_pick = spec.row_filter
                dimension, members = categories[pick % len(categories)]
                values = sorted(set(members)) or ["nobody"]
                role["row_filters"] = [
                    {
                        "dimension": dimension,
                        "op": op,
                        "values": [values[value_pick % len(values)]],
                        "elsewhere": elsewhere,
                    }
                ]
            if spec.mask is not None and categories:
                role["masked_dimensions"] = [categories[spec.mask % len(categories)][0]]
            if spec.deny is not None and self.metrics:
                role["denied_metrics"] = [self.metrics[spec.deny % len(self.metrics)]["name"]]
            if spec.mask_column is not None and measures:
                role["masked_columns"] = [measures[spec.mask_column % len(measures)]]
            roles.append(role)
            self.built.roles.append(role["name"])
        return roles

    def alerts(self) -> list[dict[str, Any]]:
        alerts = []
        for index, spec in enumerate(self.spec.alerts):
            if not self.metrics:
                break
            metric = self.metrics[spec.metric % len(self.metrics)]
            alert: dict[str, Any] = {
                "name": f"alert_{index}",
                "label": self.label(f"预警{index}", f"Alert {index}"),
                "metric": metric["name"],
                "op": spec.op,
                "value": spec.value,
            }
            if spec.change:
                alert["change"] = spec.change
            usable = [(d, m) for d, m in self.category_dims if self.reaches(metric, d)]
            if spec.per_dimension and usable:
                alert["dimensions"] = [usable[spec.metric % len(usable)][0]]
            if spec.scoped and usable:
                dimension, members = usable[-1]
                values = sorted(set(members)) or ["nobody"]
                alert["filters"] = [{"dimension": dimension, "op": "=", "values": values[:1]}]
            alerts.append(alert)
        return alerts

    def check(
        self,
        metric: dict[str, Any],
        column: str,
        time: str,
        kind: DateKind,
        fact: _Fact | None,
        member: str | None,
        table: str | None = None,
    ) -> None:
        """The hand-written SQL for a simple metric's value over all time up to as-of:
        `column` is its expression with every column quoted, `time` the physical date column."""
        table = table or (fact.table.name if fact is not None else "")
        value = {
            "sum": f"SUM({column})",
            "count": f"COUNT({column})",
            "count_distinct": f"COUNT(DISTINCT {column})",
            "avg": f"AVG({column})",
            "min": f"MIN({column})",
            "max": f"MAX({column})",
        }[metric["agg"]]
        # The line table's own columns stay unqualified; its header exposes only its date.
        source = f'"{table}" AS l'
        date_ = f'l."{time}"'
        if fact is not None and fact.header is not None:
            key, header = fact.header.header_key, fact.header.table.name
            header_time = fact.header.time_column
            source += (
                f' LEFT JOIN (SELECT "{key}" AS k, "{header_time}" AS t FROM "{header}") AS h'
                f' ON l."{key}" = h.k'
            )
            date_ = "h.t"
        # All time is every row up to as-of, and the rows without a date (DESIGN: an empty
        # date column still holds facts). An integer year is in when it is as-of's or earlier.
        if kind == "year":
            where = f"({date_} IS NULL OR {date_} <= $1)"
            params: tuple[Any, ...] = (self.built.as_of.year,)
        else:
            typed = f"CAST({date_} AS DATE)" if kind == "text" else date_
            where = f"({date_} IS NULL OR {typed} < $1)"
            params = (self.built.as_of + timedelta(days=1),)
        if member is not None:
            where += f" AND l.{self.quoted('status')} = $2"
            params += (member,)
        self.built.checks.append(
            NumberCheck(
                metric["name"],
                metric["label"]["zh"],
                metric["label"]["en"],
                f"SELECT {value}, COUNT(*), COUNT({date_}) FROM {source} WHERE {where}",
                params,
                metric["agg"],
            )
        )

    def knowledge(self, spec: KnowledgeSpec) -> dict[str, Any]:
        """The `knowledge:` section a model author might write for this model."""
        names = [m["name"] for m in self.metrics]
        dims = [d["name"] for d in self.dimensions]
        categories = [d for d, _m in self.category_dims]
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
            suggest = names[:1] + (["operating_profit"] if spec.stray_names else [])
            out["lacks"] = [
                {
                    "patterns": ["净利润", r"\bnet profit\b"],
                    "label": {"zh": "净利润", "en": "net profit"},
                    "suggest": suggest,
                }
            ]
        if spec.groups and len(names) >= 2:
            group = {"patterns": ["全部指标", r"\beverything\b"], "metrics": names[:2]}
            if spec.stray_names:
                group["whole"] = ["ar_balance"]
            out["groups"] = [group]
        if spec.siblings:
            out["siblings"] = [["应收", "应付"], ["inflow", "outflow"]]
        if spec.examples:
            out["examples"] = [{"zh": f"各{dims[-1] if dims else '区域'}的指标", "en": "by month"}]
        return out


def build(spec: ModelSpec, folder: Path) -> Built:
    """Write `spec` as `model.yaml` and `data.duckdb` in `folder`; return what questions use."""
    built = Built(folder / "model.yaml", folder / "data.duckdb", "", spec.as_of or date.today())
    b = _Builder(spec, built)
    if spec.metric_time:
        b.dimension(
            {
                "name": "metric_time",
                "metric_time": True,
                "type": "time",
                "label": b.label("时间", "Time"),
                "synonyms": ["日期", "period"],
            }
        )
    b.entities()
    for fact in spec.facts:
        b.fact(fact)
    if spec.budget:
        b.budget()
    b.entity_dimensions()
    b.derived()
    model: dict[str, Any] = {"name": "any_model"}
    if spec.as_of is not None:
        model["as_of"] = spec.as_of
    model.update(tables=b.model_tables, joins=b.joins, dimensions=b.dimensions, metrics=b.metrics)
    roles, alerts = b.roles(), b.alerts()
    if roles:
        model["roles"] = roles
    if alerts:
        model["alerts"] = alerts
    if spec.knowledge is not None and b.metrics:
        model["knowledge"] = b.knowledge(spec.knowledge)
    built.yaml_text = yaml.safe_dump(model, allow_unicode=True, sort_keys=False)
    folder.mkdir(parents=True, exist_ok=True)
    built.model_path.write_text(built.yaml_text, encoding="utf-8")
    _write_database(built.database, b.tables)
    built.tables = [t.name for t in b.tables]
    return built


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
