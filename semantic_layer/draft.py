"""`draft_model`: a database of a user's tables → a draft semantic model (YAML) and a report.

The second step of "bring your own data" (`cockpit init`, after `ingest.load_files`). It reads
the data, not only the schema, and guesses what a model author would write:

- **keys**: a unique, non-null column named like an id (or the first column), else two columns
  unique together (order_id + line_no, snapshot_date + customer_id);
- **joins** (many-to-one): a column whose values are (nearly) all found in another table's key
  (`sales.store_id` → `store.store_id`); integer keys need a name that says so as well, since
  1..6 is "contained" in any other 1..N;
- **metrics**: number columns of fact tables (tables that refer to others, stand alone, or are
  dated with amounts) — amounts summed, prices and rates averaged, balances and snapshot tables
  at the last snapshot; never an id, key, code or number people quote — plus a count of each
  table of things: its rows for tables of events and dated entities ("Number of claims" /
  理赔数量, "how many claims"), and for an undated table the facts refer to, how many of its
  rows they name ("Customers with orders", also "number of customers" when that is every
  customer); a dimension table's numbers (list prices) are attributes, not metrics;
- **dimensions**: text and low-cardinality columns of tables the facts reach (free text such as
  notes excluded), each referenced table's name column as the entity (`store`), identifiers
  people list and group by (`company_claim_number` → "Claim number" / 理赔编号), date columns
  as time dimensions, `metric_time`, and parents where one column determines another
  (store → city → region), for drill-down;
- **labels**: zh/en from the original headers (kept by ingest as column comments) and a small
  business glossary (`unit_price` → 单价 / Unit price); words that would mean two things (two
  amounts called 金额) are disambiguated by the table's label (销售额 / 退货金额). English
  headers the glossary cannot translate keep their English in `zh` too — never half of each;
- **as_of**: only for a finished history (data that ended over a month ago), at the last date
  of any fact, so that "all time" never leaves rows out (`_as_of`).

The report says what became what and why anything was left out. The YAML is a draft: it loads
without errors and `check_model` passes, but its definitions (口径) are guesses to review.
`init_project` runs the whole of `cockpit init`: load, draft, write (with a cockpit.toml, so
`cockpit ask` in that folder uses the new model and database), check.
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlglot import exp

from semantic_layer.errors import ModelError, closest


# --- vocabulary -----------------------------------------------------------------------------
def _pairs(text: str) -> dict[str, str]:
    """`unit_price=单价 amount=金额` → {"unit price": "单价", "amount": "金额"}."""
    pairs = (item.split("=") for item in text.split())
    return {key.replace("_", " "): value for key, value in pairs}


# English words and phrases in table and column names → Chinese. Phrases (joined by _) win
# over their words: sales_amount → 销售额, not 销售金额. Empty translations drop a word (of).
GLOSSARY = _pairs(
    """
    amount=金额 revenue=收入 income=收入 sales=销售 sale=销售 sales_amount=销售额 sale_amount=销售额
    sales_quantity=销量 sales_qty=销量 sales_volume=销量 sales_count=销售笔数 gmv=成交额 turnover=营业额
    quantity=数量 qty=数量 units=件数 volume=数量 price=价格 unit_price=单价 list_price=标价 cost=成本
    unit_cost=单位成本 profit=利润 gross_profit=毛利 margin=利润率 gross_margin=毛利率 discount=折扣
    discount_rate=折扣率 tax=税额 fee=费用 fees=费用 expense=费用 spend=支出 payment=付款 paid=已付 refund=退款
    balance=余额 budget=预算 target=目标 total=总 subtotal=小计 rate=比率 ratio=比率 percent=百分比 pct=百分比
    score=评分 rating=评分 weight=重量 count=数 age=年龄 salary=工资 bonus=奖金 stock=库存 inventory=库存
    value=价值 points=积分 duration=时长 avg=平均 average=平均 net=净 gross=毛 shipping=运费 freight=运费
    commission=佣金 visits=访问量 views=浏览量 clicks=点击量 orders=订单 area=面积 headcount=人数 customer=客户
    client=客户 member=会员 user=用户 product=产品 item=商品 goods=商品 sku=SKU store=门店 shop=店铺
    branch=分店 region=区域 city=城市 province=省份 country=国家 district=区县 category=类别
    subcategory=子类别 sub_category=子类别 brand=品牌 supplier=供应商 vendor=供应商 employee=员工 staff=员工
    department=部门 dept=部门 channel=渠道 segment=客群 manager=经理 store_manager=店长 salesperson=销售员
    rep=销售代表 warehouse=仓库 order=订单 invoice=发票 transaction=交易 txn=交易 return=退货 returns=退货
    promotion=促销 promo=促销 campaign=活动 project=项目 contract=合同 account=账户 shipment=发货
    delivery=配送 visit=访问 ticket=工单 line=明细 lines=明细 order_line=订单明细 order_lines=订单明细
    order_item=订单明细 order_items=订单明细 company=公司 team=团队 date=日期 day=日 time=时间 month=月份
    year=年份 quarter=季度 week=周 period=期间 created=创建 updated=更新 start=开始 end=结束 due=到期 ship=发货
    open=开业 opened=开业 opening=开业 name=名称 id=编号 code=代码 no=编号 number=编号 type=类型 status=状态
    level=等级 grade=等级 tier=等级 gender=性别 address=地址 phone=电话 email=邮箱 note=备注 notes=备注
    comment=评论 remark=备注 description=描述 title=标题 color=颜色 size=尺码 model=型号 method=方式
    source=来源 reason=原因 first=首次 last=最近 new=新 active=活跃 online=线上 offline=线下 format=业态
    unit=单位 per=每 is=是否 industry=行业 receivable=应收 spec=规格 owner=负责人 mobile=手机
    gross_margin_rate=毛利率 tax_rate=税率 deal=成交 sales_rep=销售代表 aging=账龄 ar=应收 ap=应付
    monthly=月度 daily=每日 snapshot=快照 overdue=逾期 current=当期 direction=方向 activity=活动
    credit=信用 product_line=产品线 list=标价 cash=现金 flow=流水 cash_flow=现金流水
    claim=理赔 policy=保单 policy_number=保单号 premium=保费 insurance=保险 insured=被保险人
    coverage=保障 loss=损失 reserve=准备金 catastrophe=巨灾 agent=代理人 underwriting=核保
    underwriter=核保人 effective=生效 expiration=到期 expiry=到期 begin=开始 close=关闭
    closed=关闭 location=地点 event=事件 tax_paid=已付税额 supply=物料 supplies=物料
    ordered=下单 at=时间 food=食品 drink=饮料 beverage=饮料 large=大额 small=小额
    loss_payment=赔款支付 loss_reserve=赔款准备金 expense_payment=费用支付 expense_reserve=费用准备金
    """
)
# Other words people use in questions for an English word the glossary knows (labels keep the
# glossary's): a shop's locations are its 门店, a loss paid on a claim is a 赔款.
ALSO = {
    key: value.split("|")
    for key, value in _pairs(
        "location=门店|网点 shop=门店 store=店铺 loss=赔款 claim=索赔|赔案 premium=保险费 customer=顾客"
    ).items()
}
GLOSSARY["of"] = ""
# "open" alone is opening an account, a claim, a ticket (开立); a shop's opening is 开业.
GLOSSARY["open"] = "开立"
# A measure column named by one word reads as the measure: a column "sales" is 销售额.
SOLO = _pairs("sales=销售额 sale=销售额 count=数量 total=合计")
# Chinese words in headers and file names → English identifier words (门店编号 → store_id).
ZH_TO_EN = {
    zh: en.strip("_")  # 表=_ : a word that adds nothing to an identifier (销售明细表 → sales_line)
    for zh, en in _pairs(
        """
    门店=store 店铺=shop 商店=store 分店=branch 编号=id 序号=no 单号=no 代码=code 编码=code 名称=name 名字=name
    区域=region 地区=region 大区=region 片区=region 城市=city 省份=province 国家=country 区县=district
    产品=product 商品=product 货品=item 类别=category 品类=category 分类=category 类型=type 单价=unit_price
    价格=price 售价=price 成本=cost 数量=quantity 销量=quantity 件数=units 金额=amount 销售额=sales_amount
    销售=sales 收入=revenue 利润=profit 毛利=gross_profit 折扣=discount 税额=tax 费用=expense 预算=budget
    目标=target 日期=date 时间=time 月份=month 年份=year 季度=quarter 客户=customer 会员=member 用户=user
    订单=order 明细=line 退货=return 退款=refund 原因=reason 状态=status 渠道=channel 品牌=brand
    供应商=supplier 员工=employee 部门=department 备注=note 说明=description 描述=description 地址=address
    电话=phone 开业=open 店长=store_manager 经理=manager 等级=level 性别=gender 年龄=age 支付=payment
    付款=payment 方式=method 库存=stock 仓库=warehouse 交易=transaction 发票=invoice 面积=area 合同=contract
    项目=project 评分=score 重量=weight 总=total 平均=avg 业态=format 促销=promotion 活动=campaign
    下单=order 行业=industry 发货=ship 到期=due 创建=created 更新=updated 开始=start 结束=end
    姓名=name 手机=mobile 邮箱=email 品名=product_name 规格=spec 型号=model 颜色=color 尺码=size
    单位=unit 毛利率=gross_margin 利润率=margin 折扣率=discount_rate 税率=tax_rate 应收=receivable
    实付=paid 运费=freight 销售员=salesperson 业务员=salesperson 负责人=owner 省=province
    年=year 月=month 日=day 成交=deal 成交额=gmv 营业额=turnover 退货率=return_rate 数=count
    清单=list 统计=stats 汇总=summary 报表=report 数据=data 记录=record 信息=info 表=_ 的=_
    """
    ).items()
}
ACRONYMS = {"id": "ID", "sku": "SKU", "gmv": "GMV", "vip": "VIP", "kpi": "KPI", "roi": "ROI"}
ACRONYMS |= {"ar": "AR", "ap": "AP"}

# --- what a column name says ------------------------------------------------------------------
ID_LIKE = re.compile(
    r"(^|_)(id|identifier|ident|code|no|nr|key|uuid|guid|pk|sku|number)$|^id_|"
    r"编号|代码|编码|单号|号码|序号"
)
# Of the id-like columns, those that name a row for people — a policy number, a claim number,
# an order no., a product code — rather than only for joins: `claim_id`, `identifier`, uuid.
BUSINESS_ID = re.compile(r"(^|_)(code|no|nr|number|sku)$|单号|号码|代码|编码|[^编]号$")
GENERIC_ID = re.compile(r"id|identifier|key|uuid|code|no|number|编号|代码|编码|序号|Id|ID")
SURROGATE_ID = re.compile(r"(^|_)(id|identifier|ident|key|uuid|guid|pk)$|^id_")
# A leading word that says whose identifier it is, not what it identifies: company_claim_number
# is the claim number.
OWNER_WORDS = {"company", "our", "internal", "corporate"}
# Prefixes of pipeline stages in table names (dbt's raw_, stg_, dim_, fct_; 数仓 ods_, dwd_):
# a table raw_customers holds customers.
STAGE_PREFIXES = {"raw", "stg", "staging", "src", "dim", "fct", "fact", "tbl", "ods", "dwd"}
STAGE_PREFIXES |= {"dws", "ads", "base"}
# Nouns whose plural is the noun itself, or not made by a suffix.
PLURAL_SAME = {"sales", "staff", "data", "info", "inventory", "stock", "equipment", "series"}
PLURAL_SAME |= {"goods", "news", "feedback", "personnel", "software"}
PLURAL_IRREGULAR = {"person": "people", "child": "children", "man": "men", "woman": "women"}
AVG_LIKE = re.compile(
    r"price|rate|ratio|pct|percent|margin|score|rating|avg|average|mean|(^|_)age$|"
    r"temperature|单价|价格|售价|率|比例|评分|均价|年龄"
)
MONEY_LIKE = re.compile(
    r"amount|revenue|income|sales|gmv|turnover|price|cost|profit|fee|tax|expense|spend|"
    r"payment|paid|refund|balance|budget|salary|bonus|commission|shipping|freight|value|"
    r"金额|收入|销售额|价|成本|利润|费|税|款|预算|工资|营业额"
)
UNITS_LIKE = re.compile(r"quantity|qty|units|volume|count|headcount|数量|件数|销量|人数")
LOWER_IS_BETTER = re.compile(
    r"cost|expense|refund|return|discount|fee|tax|loss|成本|费|退|折扣|税|损"
)
BALANCE_LIKE = re.compile(r"balance|inventory|stock|余额|库存")
# A table of snapshots (month-end balances, stock counts): its amounts are never summed over time.
SNAPSHOT_LIKE = re.compile(r"snapshot|as_of|balance|inventory|stock|aging|快照|余额|库存|账龄")
NOT_A_MEASURE = re.compile(
    r"^(year|month|day|week|quarter|hour|minute|yyyy|mm|dd)$|(^|_)(lat|lng|lon|latitude|"
    r"longitude|zip|zipcode|postcode|phone|mobile|tel|fax)$|^(年|月|日|年份|月份|季度|邮编|电话|手机)$"
)
FREE_TEXT = re.compile(
    r"note|comment|remark|description|desc$|memo|address|addr|email|phone|mobile|url|"
    r"备注|说明|描述|地址|电话|手机|邮箱|评论|内容"
)
NAME_LIKE = re.compile(r"(^|_)(name|title)$|名称|名字|^名$")
GENERIC_MEASURE = {"amount", "quantity", "qty", "total", "value", "count", "number", "sum"}
GENERIC_TIME = {"date", "day", "time", "dt", "datetime", "timestamp", "month", "year", "period"}
GENERIC_TIME_ZH = {"日期", "时间", "月份", "年份", "日", "月", "年", "期间"}
TIME_PENALTY = re.compile(r"update|modif|due|end|ship|birth|expire|deadline|deliver")
NUMERIC = re.compile(
    r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|"
    r"UBIGINT|UHUGEINT|FLOAT|REAL|DOUBLE|DECIMAL)"
)
INTEGRAL = re.compile(r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|U\w*INT)")
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# A text column is a category when it has few values, or few for its rows.
MAX_CATEGORY_VALUES = 500
MAX_CATEGORY_SHARE = 0.5
MAX_TEXT_LENGTH = 40
# A join needs this share of the column's distinct values found in the other table's key.
MIN_COVERAGE = 0.95
METRIC_TIME_WORDS = ["日期", "期间", "时期", "date", "period"]
# An identifier written as up to six digits reads as a count, a year or an amount in questions.
SHORT_NUMBER = r"\s*[0-9]{1,6}\s*"
# Data whose last date is more than this many days before today is history: it gets as_of.
HISTORY_DAYS = 31


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[_\s]+", name.lower()) if w]


def _table_words(name: str) -> list[str]:
    """A table name's words without a pipeline prefix: raw_customers → customers."""
    words = _words(name)
    return words[1:] if len(words) > 1 and words[0] in STAGE_PREFIXES else words


def _table_forms(name: str) -> set[str]:
    """What a column may call a table when it refers to it: raw_customers → customers, customer."""
    bare = "_".join(_table_words(name))
    return {name.lower(), _singular(name.lower()), bare, _singular(bare)}


def _singular(word: str) -> str:
    """`policies` → `policy`, `orders` → `order`; words the glossary knows as they are (`sales`
    is a table of sales, `goods` are goods)."""
    irregular = {plural: one for one, plural in PLURAL_IRREGULAR.items()}
    if word in irregular:
        return irregular[word]
    keep = ("sales", "returns", "orders", "lines", "notes", "supplies", "claims", "policies")
    if word in GLOSSARY and word not in keep:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def _plural(word: str) -> str:
    """`claim` → `claims`, `policy` → `policies`, `sales` and `staff` as they are.

    The draft's own labels ("Number of policies") only: a handful of regular suffixes and
    the irregular nouns of business tables, not a general inflection engine."""
    if word in PLURAL_SAME or word in PLURAL_IRREGULAR.values():
        return word
    if word in PLURAL_IRREGULAR:
        return PLURAL_IRREGULAR[word]
    if _singular(word) != word:
        return word  # already plural: orders, claims
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    return word + "s"


def _lookup(phrase: str) -> str | None:
    if phrase in GLOSSARY:
        return GLOSSARY[phrase]
    *head, last = phrase.split(" ")
    singular = " ".join([*head, _singular(last)])
    return GLOSSARY.get(singular)


def zh_words(words: list[str]) -> str | None:
    """Chinese for a name's words by the glossary (longest phrases first), or None."""
    if len(words) == 1 and words[0] in SOLO:
        return SOLO[words[0]]
    if len(words) > 1 and words[-1] == "total":
        head = zh_words(words[:-1])  # order_total: the order's total, 订单总额
        return head + "总额" if head else None
    out, i = [], 0
    while i < len(words):
        for j in range(min(len(words), i + 3), i, -1):
            found = _lookup(" ".join(words[i:j]))
            if found is not None:
                out.append(found)
                i = j
                break
        else:
            return None
    text = "".join(out)
    return text or None


def zh_forms(words: list[str]) -> list[str]:
    """Every Chinese way to say a name's words: the glossary's (`zh_words`) first, then the
    same with one word said as people also say it (`ALSO`: location → 门店 as well as 地点)."""
    first = zh_words(words)
    if first is None:
        return []
    forms = [first]
    for word in words:
        said = GLOSSARY.get(word) or GLOSSARY.get(_singular(word))
        if said and said in first:
            others = ALSO.get(word, ALSO.get(_singular(word), []))
            forms += [first.replace(said, other) for other in others]
    return list(dict.fromkeys(forms))


def en_words(words: list[str]) -> str:
    """`unit_price` → "Unit price", `store_id` → "Store ID"."""
    shown = [ACRONYMS.get(w, w) for w in words]
    text = " ".join(shown)
    return text[:1].upper() + text[1:] if text else text


def has_cjk(text: str) -> bool:
    return bool(re.search(r"[\u3400-\u9fff]", text))


def english_identifier(text: str) -> str | None:
    """`门店编号` → `store_id`, `SKU编号` → `sku_id`; None if a Chinese word is unknown.

    Bracketed units are dropped (`金额(元)` → `amount`); pinyin is not available offline,
    so a header the glossary cannot cover gets the caller's fallback name instead.
    """
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[(\[【][^)\]】]*[)\]】]", " ", text)
    words: list[str] = []
    for run in re.findall(r"[A-Za-z0-9]+|[\u3400-\u9fff]+|[^A-Za-z0-9\u3400-\u9fff]+", text):
        if re.fullmatch(r"[A-Za-z0-9]+", run):
            words.append(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", run).lower())
        elif has_cjk(run):
            i = 0
            while i < len(run):
                for j in range(len(run), i, -1):
                    if run[i:j] in ZH_TO_EN:
                        words += [w for w in [ZH_TO_EN[run[i:j]]] if w]
                        i = j
                        break
                else:
                    return None
    name = "_".join(words)
    if not name:
        return None
    return "t_" + name if name[0].isdigit() else name


# --- the report -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    """One thing the draft did or left out, with why, in both languages."""

    kind: str  # "table", "join", "metric", "dimension", "skipped", "note"
    name: str
    zh: str
    en: str


@dataclass(frozen=True)
class DraftReport:
    """What became what: tables, joins, metrics, dimensions, what was skipped and why."""

    model_name: str
    decisions: tuple[Decision, ...]
    as_of: date | None = None

    def of(self, kind: str) -> list[Decision]:
        return [d for d in self.decisions if d.kind == kind]

    @property
    def metrics(self) -> list[str]:
        return [d.name for d in self.of("metric")]

    @property
    def dimensions(self) -> list[str]:
        return [d.name for d in self.of("dimension")]

    @property
    def joins(self) -> list[str]:
        return [d.name for d in self.of("join")]

    @property
    def skipped(self) -> list[Decision]:
        return self.of("skipped")

    def render(self, lang: str = "zh") -> str:
        """The report as text for the terminal or the UI."""
        titles = {
            "table": ("数据表", "Tables"),
            "join": ("关联（多对一）", "Joins (many-to-one)"),
            "metric": ("指标", "Metrics"),
            "dimension": ("维度", "Dimensions"),
            "skipped": ("未采用", "Not used"),
            "note": ("说明", "Notes"),
        }
        lines = [
            f"草稿语义模型 {self.model_name}：请核对每个指标的口径"
            if lang == "zh"
            else f"Draft semantic model {self.model_name}: review every metric's definition"
        ]
        for kind, (zh, en) in titles.items():
            items = self.of(kind)
            if not items:
                continue
            lines.append(f"\n{zh if lang == 'zh' else en} ({len(items)})")
            for item in items:
                lines.append(f"  - {item.name}: {item.zh if lang == 'zh' else item.en}")
        return "\n".join(lines)


# --- reading the data -------------------------------------------------------------------------
@dataclass
class Column:
    """A column's type and shape, read from the data."""

    name: str
    label: str  # the original header (ingest keeps it as the column comment)
    type: str
    position: int
    rows: int = 0
    non_null: int = 0
    distinct: int = 0
    low: Any = None
    high: Any = None
    avg_length: float = 0.0

    @property
    def numeric(self) -> bool:
        return bool(NUMERIC.match(self.type))

    @property
    def integral(self) -> bool:
        return bool(INTEGRAL.match(self.type))

    @property
    def temporal(self) -> bool:
        return self.type == "DATE" or (
            self.type.startswith("TIMESTAMP") and "TIME ZONE" not in self.type
        )

    @property
    def textual(self) -> bool:
        return self.type in ("VARCHAR", "BOOLEAN") or self.type.startswith("ENUM")

    @property
    def unique(self) -> bool:
        return self.rows > 0 and self.non_null == self.rows and self.distinct == self.rows

    @property
    def words(self) -> str:
        """The name and the original header, for the guesses made from names."""
        return f"{self.name.lower()} {self.label.lower()}"

    @property
    def id_like(self) -> bool:
        return bool(ID_LIKE.search(self.name.lower()) or ID_LIKE.search(self.label.lower()))

    @property
    def business_id(self) -> bool:
        """Names rows for people (policy number, order no., product code), not only for joins."""
        if SURROGATE_ID.search(self.name.lower()):
            return False
        return bool(BUSINESS_ID.search(self.name.lower()) or BUSINESS_ID.search(self.label))


@dataclass
class Tbl:
    """A table with its profiled columns, and the key and date column found for it."""

    name: str
    label: str  # the original file or sheet name (ingest keeps it as the table comment)
    rows: int
    columns: dict[str, Column]
    primary_key: list[str] = field(default_factory=list)
    time_column: str | None = None

    def col(self, name: str) -> Column:
        return self.columns[name]


@dataclass(frozen=True)
class JoinEdge:
    """A proposed many-to-one join and the evidence for it."""

    from_table: str
    column: str
    to: str
    key: str
    found: int
    total: int


def _rows(engine: Any, query: exp.Expression) -> list[tuple]:
    return engine.execute(query).rows


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def _table(name: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name, quoted=True))


def _count_distinct(node: exp.Expression) -> exp.Expression:
    return exp.Count(this=exp.Distinct(expressions=[node]))


def _read_tables(engine: Any, wanted: list[str] | None) -> list[Tbl]:
    """Every base table of the main schema (or the `wanted` ones), profiled."""
    main = exp.column("schema_name").eq(exp.Literal.string("main"))
    listing = exp.select("table_name", "comment").from_("duckdb_tables()").where(main)
    comments = dict(_rows(engine, listing.order_by("table_name")))
    if wanted is not None:
        unknown = [t for t in wanted if t not in comments]
        if unknown:
            raise ModelError("unknown_table", closest(unknown[0], comments), name=unknown[0])
        names = list(dict.fromkeys(wanted))
    else:
        names = sorted(comments)
    listing = (
        exp.select("table_name", "column_name", "data_type", "comment", "column_index")
        .from_("duckdb_columns()")
        .where(main.copy())
        .order_by("table_name", "column_index")
    )
    columns: dict[str, dict[str, Column]] = {}
    for table, column, kind, comment, _index in _rows(engine, listing):
        found = columns.setdefault(table, {})
        found[column] = Column(column, comment or column, kind, position=len(found))
    out = []
    for name in names:
        table = Tbl(name, comments[name] or name, 0, columns.get(name, {}))
        _profile(engine, table)
        out.append(table)
    return out


def _profile(engine: Any, table: Tbl) -> None:
    """Rows, non-null and distinct counts, range (numbers, dates) or mean length (text)."""
    select: list[exp.Expression] = [exp.func("count", exp.Star())]
    for column in table.columns.values():
        c = _col(column.name)
        select += [exp.func("count", c.copy()), _count_distinct(c.copy())]
        if column.numeric or column.temporal:
            select += [exp.func("min", c.copy()), exp.func("max", c.copy())]
        elif column.type == "VARCHAR":
            select += [exp.func("avg", exp.func("length", c.copy())), exp.null()]
        else:
            select += [exp.null(), exp.null()]
    row = _rows(engine, exp.select(*select).from_(_table(table.name)))[0]
    table.rows = row[0]
    for i, column in enumerate(table.columns.values()):
        non_null, distinct, a, b = row[1 + 4 * i : 5 + 4 * i]
        column.rows, column.non_null, column.distinct = table.rows, non_null, distinct
        if column.type == "VARCHAR":
            column.avg_length = float(a or 0)
        else:
            column.low, column.high = a, b


# --- keys, joins, dates -----------------------------------------------------------------------
def _primary_key(table: Tbl) -> list[str]:
    """The unique, non-null integer or text column named like an id (store_id, id, 编号), or
    else the first column if it is unique."""
    best, best_score = None, None
    own = {f"{form}_{word}" for form in _table_forms(table.name) for word in ("id", "identifier")}
    for column in table.columns.values():
        if not column.unique or not (column.integral or column.type == "VARCHAR"):
            continue
        if not column.id_like and column.position > 0:
            continue  # a unique amount or name is a coincidence of the data, not a key
        if column.type == "VARCHAR" and column.avg_length > MAX_TEXT_LENGTH:
            continue
        score = 4.0 if column.id_like else 0.0
        if column.name.lower() in ("id", "identifier") or column.name.lower() in own:
            score += 3  # the table's own id (claim_identifier), not a number people quote
        score -= column.position * 0.01
        if best_score is None or score > best_score:
            best, best_score = column.name, score
    return [best] if best is not None else []


def _composite_key(engine: Any, table: Tbl) -> list[str]:
    """Two columns unique together when no one column is: (order_id, line_no), (snapshot_date,
    customer_id). One of them must be id-like; the other may be a date."""
    ids = [c for c in table.columns.values() if c.id_like and (c.integral or c.type == "VARCHAR")]
    dates = [c for c in table.columns.values() if c.temporal]
    pairs = [(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :]]
    pairs += [(d, a) for d in dates for a in ids]
    for a, b in pairs[:15]:
        if a.non_null < table.rows or b.non_null < table.rows:
            continue
        pair = exp.Tuple(expressions=[_col(a.name), _col(b.name)])
        query = exp.select(_count_distinct(pair)).from_(_table(table.name))
        if _rows(engine, query)[0][0] == table.rows:
            return [a.name, b.name]
    return []


def _stem(name: str) -> str:
    return re.sub(r"_?(id|identifier|code|no|nr|key|number)$", "", name) or name


def _refers(column: str, target: Tbl, key: str) -> int:
    """How strongly a column's name points at `target`'s key: 2 when it names the table
    (store_id → store(s).store_id or .id), 1 when it only shares the key's name (claim_id in
    claim_coverage, keyed by claim_id, is no reference to claim_coverage), 0 otherwise."""
    col, key = column.lower(), key.lower()
    if _stem(col) in _table_forms(target.name):
        return 2
    return int(col == key or (key not in ("id", "identifier") and _stem(key) == _stem(col)))


def _own_identity(table: Tbl, column: Column) -> bool:
    """A table's one-column key named after the table itself (claim.claim_identifier): it is
    what other tables refer to, never a reference out of the table."""
    return table.primary_key == [column.name] and _stem(column.name.lower()) in _table_forms(
        table.name
    )


def _family(column: Column) -> str:
    return "int" if column.integral else "text" if column.type == "VARCHAR" else "other"


def _joins(engine: Any, tables: list[Tbl], decisions: list[Decision]) -> list[JoinEdge]:
    """Many-to-one joins: a column whose values are (nearly) all in another table's key."""
    keyed = [t for t in tables if len(t.primary_key) == 1]
    edges: list[JoinEdge] = []
    for table in tables:
        for column in table.columns.values():
            family = _family(column)
            if family == "other" or column.distinct == 0:
                continue
            if _own_identity(table, column):
                continue
            candidates: list[tuple[int, float, JoinEdge]] = []
            for target in keyed:
                key = target.col(target.primary_key[0])
                if target is table or _family(key) != family or column.distinct > key.distinct:
                    continue
                named = _refers(column.name, target, key.name)
                if not named and (family == "int" or column.name in table.primary_key):
                    continue  # 1..6 is "contained" in any 1..N: integers need the name too
                found, total = _containment(engine, table.name, column.name, target.name, key.name)
                if total and found / total >= MIN_COVERAGE:
                    edge = JoinEdge(table.name, column.name, target.name, key.name, found, total)
                    candidates.append((named, found / total, edge))
            if not candidates:
                continue
            candidates.sort(key=lambda c: c[:2], reverse=True)
            best = [c[2] for c in candidates if c[:2] == candidates[0][:2]]
            if len(best) > 1:
                keys = ", ".join(f"{e.to}.{e.key}" for e in best)
                decisions.append(
                    Decision(
                        "skipped",
                        f"{table.name}.{column.name}",
                        f"取值同时出现在多个表的主键中（{keys}），无法判断关联哪一个，请手工添加关联",
                        f"its values are in several keys ({keys}); add the right join by hand",
                    )
                )
                continue
            edge = best[0]
            if any(e.from_table == edge.to and e.to == edge.from_table for e in edges):
                continue  # a one-to-one pair, already joined the other way round
            edges.append(edge)
    return edges


def _containment(engine: Any, table: str, column: str, target: str, key: str) -> tuple[int, int]:
    """(distinct values of table.column found in target.key, distinct values)."""
    values = (
        exp.select(exp.alias_(_col(column), "v"))
        .distinct()
        .from_(_table(table))
        .where(_col(column).is_(exp.null()).not_())
        .subquery("x")
    )
    keys = exp.select(exp.alias_(_col(key), "v")).distinct().from_(_table(target)).subquery("y")
    query = (
        exp.select(exp.func("count", exp.Star()), exp.func("count", exp.column("v", "y")))
        .from_(values)
        .join(keys, on=exp.column("v", "x").eq(exp.column("v", "y")), join_type="left")
    )
    total, found = _rows(engine, query)[0]
    return int(found), int(total)


def _time_column(table: Tbl) -> str | None:
    """The table's own business date: sale_date or date first; updated_at, due_date last."""
    best, best_score = None, None
    singular = _singular(table.name.lower())
    for column in table.columns.values():
        if not column.temporal or column.non_null == 0:
            continue
        name = column.name.lower()
        score = column.non_null / max(column.rows, 1) * 2
        if name in ("date", f"{singular}_date", f"{table.name.lower()}_date", "month", "period"):
            score += 3
        elif "date" in name or "日期" in column.label:
            score += 1
        if TIME_PENALTY.search(name):
            score -= 2
        score -= column.position * 0.01
        if best_score is None or score > best_score:
            best, best_score = column.name, score
    return best


# --- naming -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Names:
    """A table's or column's identifier words and its zh and en labels."""

    zh: str
    en: str
    words: tuple[str, ...]
    cjk: bool = False  # the labels are the user's own Chinese, not glossary translations


def _column_names(column: Column) -> Names:
    words = tuple(_words(column.name))
    if has_cjk(column.label):
        fallback = re.fullmatch(r"col_\d+", column.name) is not None
        return Names(column.label, column.label if fallback else en_words(words), words, True)
    en = en_words(words)
    return Names(zh_words(words) or en, en, words)


def _table_names(table: Tbl) -> Names:
    words = tuple(_table_words(table.name))
    if has_cjk(table.label):
        fallback = re.fullmatch(r"table_\d+", table.name) is not None
        return Names(table.label, table.label if fallback else en_words(words), words, True)
    en = en_words(words)
    # A table of sales is 销售, though a column named sales is 销售额.
    zh = "销售" if words in (("sales",), ("sale",)) else zh_words(words)
    return Names(zh or en, en, words)


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _plural_name(table: str) -> str:
    """An identifier for many of a table's rows: store → stores, raw_customers → customers."""
    *head, last = _table_words(table)
    return "_".join([*head, _plural(_singular(last))])


def _entity_nouns(t: Names) -> tuple[str, str]:
    """What one row of a table is called and what many are, for count labels: ("claim",
    "claims"), ("policy", "policies"); a table with Chinese labels keeps its own words."""
    if has_cjk(t.en) or not t.words:  # table_1: its Chinese name is the only one it has
        return _lower_first(t.en), _lower_first(t.en)
    head = list(t.words[:-1])
    one = en_words([*head, _singular(t.words[-1])])
    many = en_words([*head, _plural(_singular(t.words[-1]))])
    return _lower_first(one), _lower_first(many)


def _lower_first(text: str) -> str:
    """ "Unit price" → "unit price", but "SKU code" stays."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def qualified_zh(t: Names, c: Names) -> str:
    """A column's Chinese name with its table's: 销售 + 金额 → 销售额; 退货 + 金额 → 退货金额."""
    if not t.cjk and not c.cjk:
        phrase = zh_words(t.words + c.words)
        if phrase:
            return phrase
    if not (has_cjk(t.zh) and has_cjk(c.zh)):
        return ""  # a half has no translation: no "Policy coverage detail生效日期"
    return c.zh if c.zh.startswith(t.zh) else t.zh + c.zh


def qualified_en(t: Names, c: Names) -> str:
    """Sales + Amount → "Sales amount"; Targets + Target amount → "Target amount"."""
    own = set(t.words) | {_singular(w) for w in t.words}
    if c.words and (c.words[0] in own or _singular(c.words[0]) in own):
        return c.en
    return f"{t.en} {_lower_first(c.en)}"


def _expr(column: str) -> str:
    """A column as a model expression: quoted when it is not a plain identifier."""
    from semantic_layer.ingest import plain_identifier

    if IDENT.match(column) and plain_identifier(column) == column:
        return column
    return '"' + column.replace('"', '""') + '"'


@dataclass
class Item:
    """A metric or dimension being drafted, before its words are made unique."""

    section: str  # "metrics" or "dimensions"
    name: str
    zh: str
    en: str
    body: dict[str, Any]
    why: tuple[str, str]
    synonyms: list[str] = field(default_factory=list)
    table: str | None = None
    names: tuple[Names, Names] | None = None  # (table, column): for qualifying the labels
    lead: tuple[str, str] = ("", "")  # ("平均", "Average ") for averages
    qualified: bool = False

    def qualify(self) -> None:
        """Qualify the labels by the table: 金额 → 销售额 / 退货金额, Amount → Sales amount."""
        if self.qualified or self.names is None:
            return
        self.qualified = True
        (t, c), (zh_lead, en_lead) = self.names, self.lead
        en = qualified_en(t, c)
        self.en = en_lead + _lower_first(en) if en_lead else en
        zh = qualified_zh(t, c)
        self.zh = zh_lead + zh if zh else self.en  # no translation known: English in zh too


def _key(word: str) -> str:
    return word.strip().lower()


def _make_unique(items: list[Item]) -> None:
    """Names, labels and synonyms such that no word means two things (validate.py's rule)."""
    taken: set[str] = set()
    for item in items:
        if item.name in taken and item.table and not item.name.startswith(item.table + "_"):
            item.name = f"{item.table}_{item.name}"
        base, n = item.name, 2
        while item.name in taken:
            item.name, n = f"{base}_{n}", n + 1
        taken.add(item.name)

    def owners() -> dict[str, set[int]]:
        found: dict[str, set[int]] = {}
        for i, item in enumerate(items):
            for word in (item.name, item.zh, item.en):
                found.setdefault(_key(word), set()).add(i)
        return found

    # Two amounts both called 金额: each takes its table's name (销售额, 退货金额).
    for _ in range(3):
        clashes = {i for ids in owners().values() if len(ids) > 1 for i in ids}
        if not clashes:
            break
        for i in sorted(clashes):
            items[i].qualify()
    # Still alike (two tables with the same label): the name tells them apart.
    found = owners()
    for item in items:
        if len(found[_key(item.zh)]) > 1:
            item.zh = (
                f"{item.zh}（{item.name}）" if has_cjk(item.zh) else f"{item.zh} ({item.name})"
            )
        if len(found[_key(item.en)]) > 1:
            item.en = f"{item.en} ({item.name})"
    labels = set(owners())
    proposed: dict[str, set[int]] = {}
    for i, item in enumerate(items):
        for word in item.synonyms:
            proposed.setdefault(_key(word), set()).add(i)
    for item in items:
        own = {_key(item.name), _key(item.zh), _key(item.en)}
        kept: dict[str, str] = {}
        for word in item.synonyms:
            key = _key(word)
            if not key or key in own or key in kept:
                continue
            if key in labels or len(proposed[key]) > 1:
                continue  # another metric or dimension is called this: the word is ambiguous
            kept[key] = word.strip()
        item.synonyms = list(kept.values())


# --- the draft --------------------------------------------------------------------------------
def draft_model(
    database: Path,
    tables: list[str] | None = None,
    name: str = "my_data",
    today: date | None = None,
) -> tuple[str, DraftReport]:
    """Draft a semantic model of `database` (every table of its main schema, or `tables`).

    Returns the YAML text — it loads with `load_model` without errors — and the report of
    what became what. The database is only read (opened read-only, like the answering engine).
    `today` (default: the real date) decides whether the data is history that gets its own
    as-of date (see `_as_of`).
    """
    from semantic_layer.engine import DuckDBEngine

    model_name = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_") or "my_data"
    if not IDENT.match(model_name):
        model_name = "m_" + model_name
    engine = DuckDBEngine(database, timeout=None)
    try:
        return _Drafter(engine, model_name, today).run(tables)
    finally:
        engine.close()


class _Drafter:
    """One draft: the tables read, the joins found, the items made, the decisions noted."""

    def __init__(self, engine: Any, model_name: str, today: date | None = None) -> None:
        self.engine = engine
        self.model_name = model_name
        self.today = today or date.today()
        self.decisions: list[Decision] = []
        self.tables: list[Tbl] = []
        self.edges: list[JoinEdge] = []
        self.names: dict[str, Names] = {}
        self.facts: list[str] = []
        self.latest: list[tuple[int, Any]] = []  # (rows, latest date) per fact table
        self.events: list[str] = []  # fact tables whose rows are events (they get a row count)

    def note(self, kind: str, name: str, zh: str, en: str) -> None:
        self.decisions.append(Decision(kind, name, zh, en))

    def skip(self, name: str, zh: str, en: str) -> None:
        self.note("skipped", name, zh, en)

    def run(self, wanted: list[str] | None) -> tuple[str, DraftReport]:
        for table in _read_tables(self.engine, wanted):
            if not IDENT.match(table.name):
                self.skip(
                    table.name,
                    "表名不是合法标识符（字母、数字、下划线），请用 cockpit init 导入",
                    "the name is not an identifier (letters, digits, _); load it with cockpit init",
                )
            elif table.rows == 0:
                self.skip(table.name, "空表", "the table is empty")
            else:
                self.tables.append(table)
        if not self.tables:
            raise ModelError("invalid_query", detail="the database has no tables with data")
        for table in self.tables:
            table.primary_key = _primary_key(table) or _composite_key(self.engine, table)
            table.time_column = _time_column(table)
            self.names[table.name] = _table_names(table)
        self.by_name = {t.name: t for t in self.tables}
        self.edges = _joins(self.engine, self.tables, self.decisions)
        self.join_columns = {(e.from_table, e.column) for e in self.edges}
        self.outgoing = {e.from_table for e in self.edges}
        self.incoming = {e.to for e in self.edges}
        metrics = [m for t in self.tables for m in self.metrics_of(t)]
        metrics += self.entity_counts()
        reachable = {name for fact in self.facts for name in self.reach(fact)}
        dimensions: list[Item] = []
        for table in self.tables:
            if table.name in reachable:
                dimensions += self.dimensions_of(table)
            elif self.facts:
                self.skip(
                    table.name,
                    "没有指标所在的表关联到这张表，它的列不能作为维度",
                    "no metric's table joins to it, so its columns cannot be dimensions",
                )
        self.parents(dimensions)
        items = metrics
        if metrics:
            metric_time = Item(
                "dimensions",
                "metric_time",
                "时间",
                "Time",
                {"metric_time": True, "type": "time"},
                ("每个指标自己的日期", "each metric's own date"),
                list(METRIC_TIME_WORDS),
            )
            items = [*metrics, metric_time, *dimensions]
        _make_unique(items)
        as_of = _as_of(self.latest, self.today)
        return self.yaml(as_of, items), self.report(as_of, items)

    def reach(self, base: str) -> dict[str, int]:
        """Tables `base` reaches through many-to-one joins, with the number of joins."""
        seen, queue = {base: 0}, deque([base])
        while queue:
            current = queue.popleft()
            for edge in self.edges:
                if edge.from_table == current and edge.to not in seen:
                    seen[edge.to] = seen[current] + 1
                    queue.append(edge.to)
        return seen

    # --- metrics
    def metrics_of(self, table: Tbl) -> list[Item]:
        numbers = [
            c
            for c in table.columns.values()
            if c.numeric
            and c.name not in table.primary_key
            and (table.name, c.name) not in self.join_columns
        ]
        if self.is_dimension_table(table, numbers):
            for column in numbers:
                self.skip(
                    f"{table.name}.{column.name}",
                    "其他表引用的维度表上的数值属性（如单价），不作为指标",
                    "a number attribute of a table others refer to (like a list price); not a metric",
                )
            if table.time_column is None:
                return []  # counted through the facts that refer to it (`entity_counts`)
            # Policies, stores: "how many policies" counts them, dated by their own date.
            self.facts.append(table.name)
            return [self.count_metric(table, self.time_of(table) or "")]
        time = self.time_of(table)
        if time is None and not numbers:
            return []  # a table of things (sales reps): its columns are dimensions
        if time is None:
            self.skip(
                table.name,
                "这张表和它关联的表都没有日期列，指标需要时间列：未生成指标",
                "neither this table nor one it joins to has a date column, which a metric needs: no metrics",
            )
            return []
        items = [m for c in numbers if (m := self.measure(table, c, time)) is not None]
        snapshot = SNAPSHOT_LIKE.search(f"{table.name} {table.time_column or ''}")
        # Rows are events when a table has an id (sale_id, or order_id + line_no); a key with
        # a date in it (month + store: budgets, targets, snapshots) makes rows periods instead.
        events = table.primary_key and not any(table.col(k).temporal for k in table.primary_key)
        if not items or (events and not snapshot):
            items.append(self.count_metric(table, time))
            self.events.append(table.name)
        else:
            self.note(
                "note",
                table.name,
                "每行是一个期间而不是一笔业务（快照、预算、汇总表）：不生成记录数指标",
                "its rows are periods, not events (a snapshot, budget or summary): no row count metric",
            )
        self.facts.append(table.name)
        return items

    def is_dimension_table(self, table: Tbl, numbers: list[Column]) -> bool:
        """Other tables refer to it and it refers to none (stores, products) — unless it is
        dated and has amounts to add up (orders that payments refer to)."""
        if table.name not in self.incoming or table.name in self.outgoing:
            return False
        summable = [
            c
            for c in numbers
            if (MONEY_LIKE.search(c.words) or UNITS_LIKE.search(c.words))
            and not AVG_LIKE.search(c.words)
        ]
        return not (table.time_column and summable)

    def time_of(self, table: Tbl) -> str | None:
        """A fact table's metric `time`: its own date, else the date of the nearest joined table."""
        own = table.time_column
        if own:
            self.latest.append((table.rows, table.col(own).high))
            return _expr(own)
        dated = [(d, t) for t, d in self.reach(table.name).items() if self.by_name[t].time_column]
        if not dated:
            return None
        _distance, other = min(dated)
        column = self.by_name[other].time_column
        assert column is not None
        self.latest.append((table.rows, self.by_name[other].col(column).high))
        return f"{other}.{_expr(column)}"

    def measure(self, table: Tbl, column: Column, time: str) -> Item | None:
        where, text = f"{table.name}.{column.name}", column.words
        if column.id_like:
            self.skip(where, "编号类的数字，不是度量", "an id-like number, not a measure")
            return None
        if NOT_A_MEASURE.search(column.name.lower()) or NOT_A_MEASURE.search(column.label):
            self.skip(
                where,
                "年份/月份、经纬度或电话号码，不是度量",
                "a year or month, a coordinate or a phone number, not a measure",
            )
            return None
        if column.distinct <= 1:
            self.skip(where, "只有一个取值", "it has a single value")
            return None
        t, c = self.names[table.name], _column_names(column)
        fraction = column.low is not None and float(column.low) >= 0 and float(column.high) <= 1
        discount = "discount" in text or "折扣" in text
        if AVG_LIKE.search(text) or (discount and fraction):
            agg = "avg"
            rate = bool(re.search(r"rate|ratio|pct|percent|margin|discount|率|比例|折扣", text))
            unit = (
                "percent" if rate and fraction else "yuan" if MONEY_LIKE.search(text) else "ratio"
            )
            name = column.name if column.name.startswith("avg") else f"avg_{column.name}"
            lead = ("", "") if c.zh.startswith("平均") else ("平均", "Average ")
            why = (
                f"{column.name} 的平均值（价格、比率类）",
                f"average of {column.name} (a price or rate)",
            )
        else:
            agg, name, lead = "sum", column.name, ("", "")
            money = MONEY_LIKE.search(text) or column.type.startswith("DECIMAL")
            unit = "units" if UNITS_LIKE.search(text) or not money else "yuan"
            why = (f"{column.name} 的合计", f"sum of {column.name}")
            if BALANCE_LIKE.search(text) or SNAPSHOT_LIKE.search(
                f"{table.name} {table.time_column or ''}"
            ):
                why = (
                    f"{column.name} 的期末值（余额或快照表：不跨期相加）",
                    f"{column.name} at the last snapshot (a balance: never summed over time)",
                )
        snapshot = bool(SNAPSHOT_LIKE.search(f"{table.name} {table.time_column or ''}"))
        balance = agg == "sum" and bool(BALANCE_LIKE.search(text) or snapshot)
        fmt = {"yuan": ",.2f", "percent": ".1%", "ratio": ",.2f"}.get(
            unit, ",.0f" if column.integral else ",.2f"
        )
        what_zh = (
            "平均值" if agg == "avg" else "期末余额（时点数，不跨期相加）" if balance else "合计"
        )
        what_en = (
            "Average"
            if agg == "avg"
            else "Balance at the last snapshot (never summed over time)"
            if balance
            else "Sum"
        )
        body: dict[str, Any] = {
            "description": {
                "zh": f"{t.zh}表 {column.name} 列的{what_zh}，按 {time} 计入期间。自动生成，请核对口径。",
                "en": f"{what_en} of {column.name} on {table.name}, dated by {time}. "
                "Drafted automatically: review the definition.",
            },
            "unit": unit,
            "format": fmt,
            "table": table.name,
            "agg": agg,
            "expr": _expr(column.name),
            "time": time,
        }
        if balance:
            body["semi_additive"] = True
        if LOWER_IS_BETTER.search(text) or LOWER_IS_BETTER.search(f"{table.name} {t.zh}"):
            body["higher_is_better"] = False
        synonyms = [column.label, column.name, column.name.replace("_", " ")]
        synonyms += [qualified_zh(t, c), qualified_en(t, c)]
        if not c.zh.startswith(t.zh) and has_cjk(t.zh) and has_cjk(c.zh):
            synonyms.append(t.zh + c.zh)  # 销售金额 as well as 销售额
        if not lead[0]:
            synonyms += [c.zh, c.en]
        if agg == "sum" and unit == "yuan" and set(c.words) <= GENERIC_MEASURE:
            synonyms += [t.zh, t.en]  # the amount of sales is what "sales" means
        en = lead[1] + _lower_first(c.en) if lead[1] else c.en
        item = Item(
            "metrics",
            name,
            lead[0] + c.zh if has_cjk(c.zh) else en,  # no 平均Policy amount
            en,
            body,
            why,
            synonyms,
            table.name,
            (t, c),
            lead,
        )
        if set(c.words) <= GENERIC_MEASURE and not c.cjk:
            # "Amount" alone says too little in an answer: the sales amount is 销售额.
            item.qualify()
            item.name = (
                f"{table.name}_{column.name}" if agg == "sum" else f"avg_{table.name}_{column.name}"
            )
        return item

    def count_metric(self, table: Tbl, time: str) -> Item:
        """The number of a table's rows: "Number of claims" / 理赔数量, "how many claims"."""
        t = self.names[table.name]
        key = table.primary_key[0] if len(table.primary_key) == 1 else None
        one, many = _entity_nouns(t)
        body = {
            "description": {
                "zh": f"{t.zh}表的记录数，按 {time} 计入期间。自动生成，请核对口径。",
                "en": f"Number of rows of {table.name}, dated by {time}. "
                "Drafted automatically: review the definition.",
            },
            "unit": "count",
            "format": ",.0f",
            "table": table.name,
            "agg": "count",
            "expr": _expr(key) if key else "1",
            "time": time,
        }
        # A table with a quantity (sales): 销售数量 is how much was sold, so its rows are 笔数.
        quantity = any(c.numeric and UNITS_LIKE.search(c.words) for c in table.columns.values())
        if has_cjk(t.zh):
            zh = f"{t.zh}笔数" if quantity else f"{t.zh}数量"
            zh_synonyms = [f"{t.zh}笔数", f"{t.zh}记录数"]
            if not quantity:
                zh_synonyms += [f"{t.zh}数", f"{t.zh}个数", f"多少个{t.zh}", f"{t.zh}有多少"]
        else:
            zh, zh_synonyms = f"Number of {many}", []  # no translation known: English in zh too
        synonyms = [
            *zh_synonyms,
            f"number of {many}",
            f"{many} count",
            f"{one} count",
            f"count of {many}",
            f"how many {many}",  # not "total X": "total sales" is an amount, not a count
        ]
        return Item(
            "metrics",
            f"{table.name}_count",
            zh,
            f"Number of {many}",
            body,
            (f"{table.name} 的行数", f"the rows of {table.name}"),
            synonyms,
            table.name,
        )

    def entity_counts(self) -> list[Item]:
        """Undated tables that facts refer to (customers, products): how many of them the facts
        name — "Customers with orders", count_distinct(orders.customer_id), dated by the
        orders' date. "Number of customers" is one of its names only when every customer has
        an order, so that over all time it is the number of customers."""
        out = []
        for table in self.tables:
            if table.name in self.facts or len(table.primary_key) != 1:
                continue
            edges = [e for e in self.edges if e.to == table.name and e.from_table in self.events]
            if not edges:
                continue
            edge = max(edges, key=lambda e: (self.by_name[e.from_table].rows, e.from_table))
            fact = self.by_name[edge.from_table]
            time = self.time_of(fact)
            if time is None:
                continue
            t, f = self.names[table.name], self.names[fact.name]
            one, many = _entity_nouns(t)
            _fact_one, facts = _entity_nouns(f)
            everyone = edge.found >= table.rows
            if has_cjk(t.zh) and has_cjk(f.zh):
                zh = f"有{f.zh}的{t.zh}数"
                zh_synonyms = [f"{t.zh}数量", f"{t.zh}数", f"多少个{t.zh}"] if everyone else []
            else:
                zh, zh_synonyms = f"{_upper_first(many)} with {facts}", []
            synonyms = [*zh_synonyms, f"{many} with {facts}", f"number of {many} with {facts}"]
            if everyone:
                synonyms += [f"number of {many}", f"how many {many}", f"{one} count"]
            body = {
                "description": {
                    "zh": f"{f.zh}中出现的不同{t.zh}个数（{fact.name}.{edge.column} 去重计数），"
                    f"按 {time} 计入期间。自动生成，请核对口径。",
                    "en": f"Distinct {many} named by {fact.name}.{edge.column}, dated by {time}. "
                    "Drafted automatically: review the definition.",
                },
                "unit": "count",
                "format": ",.0f",
                "table": fact.name,
                "agg": "count_distinct",
                "expr": _expr(edge.column),
                "time": time,
            }
            why = (
                f"{fact.name}.{edge.column} 去重计数：{table.name} 没有日期列"
                + ("，且每一行都被引用" if everyone else ""),
                f"distinct {fact.name}.{edge.column}: {table.name} has no date column"
                + (", and every row of it is referred to" if everyone else ""),
            )
            name = f"{_plural_name(table.name)}_with_{_plural_name(fact.name)}"
            label_en = f"{_upper_first(many)} with {facts}"
            out.append(Item("metrics", name, zh, label_en, body, why, synonyms, fact.name))
        return out

    # --- dimensions
    def dimensions_of(self, table: Tbl) -> list[Item]:
        t = self.names[table.name]
        entity = _entity_column(table) if table.name in self.incoming else None
        english = _english_columns(table)
        out: list[Item] = []
        for column in table.columns.values():
            where, c = f"{table.name}.{column.name}", _column_names(column)
            if column.name in english.values():
                base = next(b for b, e in english.items() if e == column.name)
                self.skip(
                    where,
                    f"{base} 的英文名称，用于英文提问（value_label_en）",
                    f"the English names of {base}'s values, for questions in English (value_label_en)",
                )
                continue
            source = {"table": table.name, "expr": _expr(column.name)}
            if column.name in english:
                source["value_label_en"] = _expr(english[column.name])
            if column.temporal:
                generic = set(c.words) <= GENERIC_TIME or c.zh in GENERIC_TIME_ZH
                # "date" or "month" alone would steal the words of metric_time and of grains.
                synonyms = [] if generic else [column.label, column.name.replace("_", " ")]
                item = Item(
                    "dimensions",
                    column.name,
                    c.zh,
                    c.en,
                    {**source, "type": "time"},
                    ("日期列，时间维度", "a date column: a time dimension"),
                    synonyms,
                    table.name,
                    (t, c),
                )
                if generic:
                    item.qualify()
                    item.name = f"{table.name}_{column.name}"
                out.append(item)
            elif column.name == entity:
                named = re.fullmatch(r"table_\d+", table.name) is None
                singular = (*t.words[:-1], _singular(t.words[-1])) if t.words else ()
                en = en_words(singular) if not t.cjk else t.en
                out.append(
                    Item(
                        "dimensions",
                        "_".join(singular) if named and singular else column.name,
                        t.zh,
                        en,
                        source,
                        (
                            f"{table.name} 的名称列：其他表引用的实体",
                            f"the name column of {table.name}, which other tables refer to",
                        ),
                        # Not "id" or 编号: every table has one; the word names none of them.
                        [
                            w
                            for w in (column.label, column.name.replace("_", " "), c.zh, c.en)
                            if not GENERIC_ID.fullmatch(w.strip().lower())
                        ],
                        table.name,
                    )
                )
            elif (identifier := self.identifier(table, column)) is not None:
                if isinstance(identifier, Item):
                    out.append(identifier)
                else:
                    self.skip(where, *identifier)
            elif column.textual:
                reason = self.not_a_category(table, column)
                if reason:
                    self.skip(where, *reason)
                    continue
                out.append(
                    Item(
                        "dimensions",
                        column.name,
                        c.zh,
                        c.en,
                        source,
                        (
                            f"文本列，{column.distinct} 个取值",
                            f"text with {column.distinct} values",
                        ),
                        [column.label, column.name.replace("_", " ")],
                        table.name,
                        (t, c),
                    )
                )
            elif not column.numeric:
                self.skip(where, f"{column.type} 类型不作为维度", f"type {column.type} is not used")
        return out

    def identifier(self, table: Tbl, column: Column) -> Item | tuple[str, str] | None:
        """A text identifier people list and group by, as a category dimension labelled from
        its name: company_claim_number → "Claim number" (理赔编号), order_no → "Order number";
        and a text id that refers to no table here (customer_id without a customers table),
        which is then the only name its rows have ("Customer ID"). Join keys, the table's own
        surrogate key and integer ids are not: their values are only for joins, and bare
        numbers would be read as members in "top 3". Returns the dimension, or why an
        identifier is not one (zh, en), or None for a column that is no identifier of these."""
        if not column.id_like or column.type != "VARCHAR" or column.non_null == 0:
            return None
        if (table.name, column.name) in self.join_columns:
            return None
        stem = _stem(column.name.lower())
        if column.business_id:
            kind = ("编号：可按它列出、分组", "an identifier to list and group by")
        elif column.name not in table.primary_key and stem not in _table_forms(table.name):
            kind = (
                "编号，但没有可关联的表：它就是这些行的名称",
                "an id that no table here resolves: it is the only name these rows have",
            )
        else:
            return None
        if FREE_TEXT.search(column.words) or column.avg_length > MAX_TEXT_LENGTH:
            return None
        if self.short_numbers(table, column):
            return (
                "编号是较短的数字，会与问题中的数字（前 10、2025 年、5000 元）混淆，不作为维度",
                "its values are short numbers, which questions use for other things (top 10, "
                "2025, 5000): not a dimension",
            )
        words = _words(column.name)
        while len(words) > 2 and words[0] in OWNER_WORDS:
            words = words[1:]  # company_claim_number → claim_number
        if len(words) == 1 and not has_cjk(column.label):
            words = [_singular(w) for w in _table_words(table.name)] + words  # code → order code
        shown = ["number" if w in ("no", "nr", "num") else w for w in words]
        if has_cjk(column.label):
            zh = column.label
            fallback = re.fullmatch(r"col_\d+", column.name) is not None
            en = column.label if fallback else en_words(shown)
        else:
            en = en_words(shown)
            zh = zh_words(words) or en
        name = "_".join(shown) if IDENT.match("_".join(shown)) else column.name
        synonyms = [column.label, column.name.replace("_", " "), " ".join(shown)]
        source = {"table": table.name, "expr": _expr(column.name)}
        why = (f"{kind[0]}（{column.distinct} 个取值）", f"{kind[1]} ({column.distinct} values)")
        own = Names(zh, en, tuple(words), has_cjk(column.label))
        t = self.names[table.name]  # two state codes: Geographic location / Location address …
        return Item("dimensions", name, zh, en, source, why, synonyms, table.name, (t, own))

    def short_numbers(self, table: Tbl, column: Column) -> bool:
        """Whether some value is digits only and short (order no. 12): as a member it would
        turn "top 12", "2025年" or "over 5000" into a filter."""
        short = exp.func("regexp_full_match", _col(column.name), exp.Literal.string(SHORT_NUMBER))
        query = exp.select(exp.func("count_if", short)).from_(_table(table.name))
        return bool(_rows(self.engine, query)[0][0])

    def not_a_category(self, table: Tbl, column: Column) -> tuple[str, str] | None:
        if (table.name, column.name) in self.join_columns:
            return (
                "关联键：维度在被关联的表上",
                "a join key: its dimensions are on the table it joins",
            )
        if column.non_null == 0:
            return ("全部为空", "all values are empty")
        if column.name in table.primary_key or column.id_like:
            return ("编号或主键，不作为维度", "an id or key, not a dimension")
        if FREE_TEXT.search(column.words):
            return ("备注、描述类的自由文本", "free text (notes, descriptions)")
        if column.avg_length > MAX_TEXT_LENGTH:
            return (
                f"文本过长（平均 {column.avg_length:.0f} 字）",
                f"long text (about {column.avg_length:.0f} characters)",
            )
        many = column.distinct > MAX_CATEGORY_VALUES
        if many and column.distinct > column.non_null * MAX_CATEGORY_SHARE:
            return (
                f"取值过多（{column.distinct} 个），不像类别",
                f"too many values ({column.distinct}) for a category",
            )
        return None

    def parents(self, dimensions: list[Item]) -> None:
        """parent = the next coarser dimension of the same table each value determines."""
        category = [d for d in dimensions if d.body.get("type") != "time"]
        distinct = {}
        for item in category:
            column = self.by_name[item.table or ""].col(_unquote(item.body["expr"]))
            distinct[id(item)] = column.distinct
        for item in category:
            coarser = [
                other
                for other in category
                if other.table == item.table and distinct[id(other)] < distinct[id(item)]
            ]
            coarser.sort(key=lambda other: -distinct[id(other)])
            for other in coarser:
                if self.determines(item, other):
                    item.body["parent"] = other
                    break

    def determines(self, child: Item, parent: Item) -> bool:
        """Whether each value of `child` has one value of `parent` (a store is in one city)."""
        a, b = _col(_unquote(child.body["expr"])), _col(_unquote(parent.body["expr"]))
        per_value = (
            exp.select(exp.alias_(_count_distinct(b.copy()), "n"))
            .from_(_table(child.table or ""))
            .where(a.copy().is_(exp.null()).not_().and_(b.copy().is_(exp.null()).not_()))
            .group_by(a.copy())
            .subquery("g")
        )
        query = exp.select(exp.func("max", exp.column("n"))).from_(per_value)
        return _rows(self.engine, query)[0][0] == 1

    # --- output
    def report(self, as_of: date | None, items: list[Item]) -> DraftReport:
        head: list[Decision] = []
        for table in self.tables:
            zh = [f"{table.rows} 行"]
            en = [f"{table.rows} rows"]
            if table.primary_key:
                zh.append(f"主键 {', '.join(table.primary_key)}")
                en.append(f"key {', '.join(table.primary_key)}")
            if table.time_column:
                zh.append(f"日期列 {table.time_column}")
                en.append(f"date column {table.time_column}")
            fact = table.name in self.facts
            zh.append("事实表（有指标）" if fact else "维度表")
            en.append("fact table (has metrics)" if fact else "dimension table")
            names = self.names[table.name]  # each language its own label: no 费用付款 in English
            head.append(
                Decision(
                    "table",
                    table.name,
                    f"{names.zh}：{'，'.join(zh)}",
                    f"{names.en}: {', '.join(en)}",
                )
            )
        for edge in self.edges:
            head.append(
                Decision(
                    "join",
                    f"{edge.from_table}.{edge.column} → {edge.to}.{edge.key}",
                    f"{edge.found}/{edge.total} 个取值在 {edge.to}.{edge.key} 中",
                    f"{edge.found} of {edge.total} values are in {edge.to}.{edge.key}",
                )
            )
        for item in items:
            kind = "metric" if item.section == "metrics" else "dimension"
            head.append(
                Decision(
                    kind, item.name, f"{item.zh} — {item.why[0]}", f"{item.en} — {item.why[1]}"
                )
            )
        if not self.facts:
            self.note(
                "note",
                "metrics",
                "没有生成任何指标：需要一张有数值列和日期列的表",
                "no metric was drafted: that needs a table with numbers and a date column",
            )
        if as_of is not None:
            self.note(
                "note",
                "as_of",
                f"数据截至 {as_of}，早于今天一个月以上：「今天」设为这一天，「今年」「上月」按数据的"
                "最后日期理解（数据会更新时请删除模型中的 as_of）",
                f"the data ends on {as_of}, over a month ago: 'today' is set to that day, so "
                "'this year' and 'last month' are the data's own (remove as_of if the data "
                "will be refreshed)",
            )
        tail = sorted(self.decisions, key=lambda d: d.kind != "skipped")
        return DraftReport(self.model_name, tuple(head + tail), as_of)

    def yaml(self, as_of: date | None, items: list[Item]) -> str:
        out = [
            "# A draft semantic model, written by `cockpit init` from the data: keys, joins, metrics",
            "# and labels are guesses from column names and values. Review every definition (口径),",
            "# then run `cockpit check`.",
            f"name: {self.model_name}",
        ]
        if as_of is not None:
            out.append(
                f"as_of: {as_of.isoformat()}  # the data's last date; remove when it is refreshed"
            )
        out += ["currency: CNY", "", "tables:"]
        for table in self.tables:
            entry: dict[str, Any] = {"name": table.name}
            if table.primary_key:
                entry["primary_key"] = table.primary_key
            if table.time_column:
                entry["time_column"] = table.time_column
            entry["label"] = {"zh": self.names[table.name].zh, "en": self.names[table.name].en}
            out.append(f"  - {_flow(entry)}")
        out += ["", "# Many-to-one: each row of `from` matches at most one row of `to`."]
        out.append("joins:" if self.edges else "joins: []")
        for edge in self.edges:
            on: Any = edge.column if edge.column == edge.key else [[edge.column, edge.key]]
            join = _flow({"from": edge.from_table, "to": edge.to, "on": on})
            out.append(f"  - {join}  # {edge.found} of {edge.total} values match")
        dimensions = [i for i in items if i.section == "dimensions"]
        metrics = [i for i in items if i.section == "metrics"]
        out += ["", "dimensions:" if dimensions else "dimensions: []"]
        for item in dimensions:
            entry = {"name": item.name}
            entry.update(
                {
                    k: item.body[k]
                    for k in ("metric_time", "table", "expr", "type", "value_label_en")
                    if k in item.body
                }
            )
            entry["label"] = {"zh": item.zh, "en": item.en}
            if item.synonyms:
                entry["synonyms"] = item.synonyms
            if "parent" in item.body:
                entry["parent"] = item.body["parent"].name
            out.append(f"  - {_flow(entry)}")
        out += ["", "metrics:" if metrics else "metrics: []"]
        for item in metrics:
            entry = {"name": item.name, "label": {"zh": item.zh, "en": item.en}}
            if item.synonyms:
                entry["synonyms"] = item.synonyms
            entry.update(item.body)
            out.append(_block(entry))
        return "\n".join(out) + "\n"


def _unquote(expr: str) -> str:
    return expr[1:-1].replace('""', '"') if expr.startswith('"') else expr


def _english_columns(table: Tbl) -> dict[str, str]:
    """region_name → region_name_en: a text column with the English names of another's values."""
    out = {}
    for column in table.columns.values():
        match = re.fullmatch(r"(.+?)_?(en|english|eng)", column.name, re.IGNORECASE)
        if column.type == "VARCHAR" and match and match.group(1) in table.columns:
            base = table.col(match.group(1))
            if base.type == "VARCHAR" and base.name not in out:
                out[base.name] = column.name
    return out


def _entity_column(table: Tbl) -> str | None:
    """What names a referenced table's rows: a name column (store_name, 客户名称, even as the
    key); else a text key (codes such as S01); else a text column that is nearly unique."""
    texts = [c for c in table.columns.values() if c.type == "VARCHAR"]
    for column in texts:
        if NAME_LIKE.search(column.name.lower()) or NAME_LIKE.search(column.label):
            return column.name
    key = table.primary_key[0] if len(table.primary_key) == 1 else None
    if key and table.col(key).type == "VARCHAR":
        return key
    for column in texts:
        nearly_unique = column.non_null and column.distinct / column.non_null >= 0.9
        if nearly_unique and not FREE_TEXT.search(column.words) and not column.id_like:
            return column.name
    return None


def _as_of(facts: list[tuple[int, Any]], today: date) -> date | None:
    """The model's as-of date: the latest date any metric is dated by, when that is over a
    month before `today` — a finished history (last year's export, a public dataset), where
    "this year" and "last month" can only mean the data's own.

    The latest of *all* the facts, never of one table: "all time" ends at as-of, so an as-of
    before some fact's last date would silently drop its latest rows from every answer
    without a period (two claims, answered as one). Data that reaches into the last month is
    live: no as-of, so "today" is the real date and a refreshed database is never cut off at
    a date frozen into the model."""
    dated = [_day(value) for _rows_, value in facts if value is not None]
    if not dated:
        return None
    latest = max(dated)
    return latest if (today - latest).days > HISTORY_DAYS else None


def _day(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def _flow(data: dict[str, Any]) -> str:
    """One YAML line: {name: x, label: {zh: 金额, en: Amount}} (quoted where YAML needs it)."""
    text = yaml.safe_dump(
        data, default_flow_style=True, allow_unicode=True, width=100_000, sort_keys=False
    )
    return text.strip()


def _block(data: dict[str, Any]) -> str:
    """A list item in block style, indented under its section."""
    text = yaml.safe_dump(
        [data], default_flow_style=None, allow_unicode=True, width=100, sort_keys=False
    )
    return "\n".join("  " + line for line in text.splitlines())


# --- the whole of `cockpit init` --------------------------------------------------------------
CONFIG_NAME = "cockpit.toml"
MODEL_NAME, DATABASE_NAME = "model.yaml", "data.duckdb"
# `model = "…"` and `database = "…"` lines of a config file (the ones init writes).
CONFIG_LINE = re.compile(r"^\s*(model|database)\s*=.*$", re.MULTILINE)


@dataclass(frozen=True)
class InitResult:
    """What `init_project` wrote, what it loaded, the draft's report and the check's issues.

    `config` is the cockpit.toml beside them, so that `cockpit ask` run in that folder uses
    this model and database."""

    database: Path
    model: Path
    tables: tuple[Any, ...]  # ingest.LoadedTable
    report: DraftReport
    issues: tuple[Any, ...]  # errors.Issue from check_model: warnings, or errors to fix
    config: Path | None = None

    @property
    def ok(self) -> bool:
        return not any(issue.severity == "error" for issue in self.issues)


def config_text(existing: str | None = None) -> str:
    """The cockpit.toml init writes: the model and the database beside it, by relative paths.

    Settings reads ./cockpit.toml from the folder a command runs in, and a relative path in
    it is relative to that folder — which is this file's folder — so the folder can be moved
    or shared as a whole. Other settings already in `existing` (lang, an LLM endpoint) and
    its comments are kept; only the model and database lines are replaced."""
    lines = f'model = "{MODEL_NAME}"\ndatabase = "{DATABASE_NAME}"\n'
    if not existing:
        head = (
            "# Written by `cockpit init`: `cockpit ask` run in this folder uses the model and\n"
            "# database drafted here (paths are relative to this folder).\n"
        )
        return head + lines
    kept = CONFIG_LINE.sub("", existing)
    kept = re.sub(r"\n{3,}", "\n\n", kept).strip("\n")
    # Top-level keys must come before any [table]: put ours first.
    return lines + ("\n" + kept + "\n" if kept else "")


def _config_points_here(path: Path) -> bool:
    """Whether an existing cockpit.toml already names this folder's model and database."""
    import tomllib

    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return table.get("model") == MODEL_NAME and table.get("database") == DATABASE_NAME


def init_project(
    paths: list[Path],
    out_dir: Path,
    name: str = "my_data",
    overwrite: bool = False,
    today: date | None = None,
) -> InitResult:
    """`cockpit init`: load `paths` into `out_dir`/data.duckdb, draft `out_dir`/model.yaml from
    the tables just loaded, write `out_dir`/cockpit.toml pointing at both, and check the model
    against the data.

    A model.yaml, data.duckdb or a cockpit.toml (that names other files) already in `out_dir`
    is replaced only with `overwrite` (a model may have been edited by hand since the last
    init; a config may hold other settings — those lines are kept).
    """
    from semantic_layer.check import check_model
    from semantic_layer.engine import DuckDBEngine
    from semantic_layer.errors import CockpitError
    from semantic_layer.ingest import load_files

    out_dir = Path(out_dir)
    database, model = out_dir / DATABASE_NAME, out_dir / MODEL_NAME
    config = out_dir / CONFIG_NAME
    existing = [p for p in (database, model) if p.exists()]
    if config.exists() and not _config_points_here(config):
        existing.append(config)
    if existing and not overwrite:
        names = ", ".join(str(p) for p in existing)
        raise CockpitError(
            "invalid_query",
            detail=f"{names} already exists; overwrite it (--force) or choose another folder",
        )
    for leftover in (database, database.with_name(database.name + ".wal")):
        leftover.unlink(missing_ok=True)
    tables = load_files(list(paths), database)
    text, report = draft_model(database, [t.name for t in tables], name, today=today)
    model.write_text(text, encoding="utf-8")
    try:
        before = config.read_text(encoding="utf-8") if config.exists() else None
    except (OSError, UnicodeDecodeError):
        before = None  # unreadable: replaced whole (overwrite was asked for)
    config.write_text(config_text(before), encoding="utf-8")
    with DuckDBEngine(database) as engine:
        _model, issues = check_model(model, engine)
    return InitResult(database, model, tuple(tables), report, tuple(issues), config)
