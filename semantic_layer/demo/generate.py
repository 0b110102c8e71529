"""Deterministic generator for the 华锐科技 (Huarui Technology) demo warehouse.

The table names, column names and metric definitions follow ``shared/DEMO_DATA.md``, which is a
contract for the rest of Cockpit. Everything is generated from ``numpy.random.default_rng(seed)``
with vectorised numpy code; money is carried as integer cents until it reaches DuckDB as
``DECIMAL(18,2)``, so the same seed and scale give identical content on every machine.

Modelling choices worth knowing when you read the data:

- Period 2023-01-01 .. 2025-12-31; the as-of date is 2025-12-31. No event (order, invoice,
  receipt, purchase, expense, cash flow, snapshot) lies after it. The only later dates are
  ``invoices.due_date`` values of recent invoices, which are contractual terms, not events.
- Payment terms by credit rating: A 30 days, B 60 days, C and D 90 days after the invoice date.
- Only physical products (智能终端, 工业传感器, 配件耗材) are stocked, so ``inventory_monthly`` has
  no 软件服务 rows; software is bought as outsourced services (``purchases`` from 外包服务
  suppliers) without stock.
- ``cash_flows``: one 销售回款 inflow per receipt (same date and amount); 采购付款 30/45/60 days
  after each purchase; 费用支付 on the expense's own date for cash expenses (折旧摊销 is
  non-cash and has no cash flow); 工资薪酬 paid on the 10th of the following month; 税费 on the
  15th of the following month; plus a handful of investing and financing flows.
- The company starts 2023 with no open receivables (no pre-2023 invoices), so collections and
  operating cash flow are lower in the first months of 2023.

Planted events (ground truth for "why" questions; see the contract):

1. 2025-03, 华南 / 智能终端 / 电商: clearance promotion, discount_rate 0.30, about 2x volume.
2. 北辰重工 (华北, A) does not pay invoices dated from 2025-06-01 on.
3. 2024-11, 市场部 / 市场推广: a campaign at about 3x the usual spend, budget unchanged.
4. February dip, Q4 peak, ~10-20% yearly revenue growth, 软件服务 ~40% a year.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

__all__ = ["generate"]

# --------------------------------------------------------------------------------------------
# Calendar
# --------------------------------------------------------------------------------------------

START = np.datetime64("2023-01-01", "D")
AS_OF = np.datetime64("2025-12-31", "D")
N_DAYS = int((AS_OF - START).astype(int)) + 1  # 1096
N_MONTHS = 36
_DATES = START + np.arange(N_DAYS)
DAY_MONTH = (_DATES.astype("datetime64[M]") - np.datetime64("2023-01", "M")).astype(np.int64)
DAY_DOW = (_DATES.astype(np.int64) + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
MONTH_FIRST = (
    (np.datetime64("2023-01", "M") + np.arange(N_MONTHS)).astype("datetime64[D]") - START
).astype(np.int64)
MONTH_LAST = np.append(MONTH_FIRST[1:], N_DAYS) - 1
MONTH_DAYS = MONTH_LAST - MONTH_FIRST + 1
LAST_DAY = N_DAYS - 1

# Month-of-year demand factors: Spring Festival dip in February, Q4 peak.
SEASON = np.array([0.96, 0.68, 1.00, 0.98, 1.00, 1.04, 0.95, 0.96, 1.04, 1.08, 1.16, 1.30])
# Day-of-week factors for B2B ordering (Mon..Sun).
DOW = np.array([1.05, 1.05, 1.05, 1.05, 1.0, 0.42, 0.38])
ORDER_GROWTH = 1.14  # yearly growth of order volume

# --------------------------------------------------------------------------------------------
# Dimensions (values are part of the contract)
# --------------------------------------------------------------------------------------------

REGIONS = (
    ("华东", "East"),
    ("华南", "South"),
    ("华北", "North"),
    ("华中", "Central"),
    ("西南", "Southwest"),
    ("西北", "Northwest"),
    ("东北", "Northeast"),
)
R_SOUTH, R_NORTH = 1, 2
REGION_P = np.array([0.27, 0.22, 0.18, 0.12, 0.10, 0.05, 0.06])
REPS_PER_REGION = np.array([11, 9, 7, 5, 4, 2, 2])  # x scale; sums to 40
# Which warehouse serves which region: 上海仓, 广州仓, 北京仓, 成都仓.
WAREHOUSES = ("上海仓", "广州仓", "北京仓", "成都仓")
REGION_WAREHOUSE = np.array([0, 1, 2, 0, 3, 3, 2])

DEPARTMENTS = (
    ("销售部", "Sales"),
    ("市场部", "Marketing"),
    ("研发部", "R&D"),
    ("生产部", "Production"),
    ("采购部", "Procurement"),
    ("财务部", "Finance"),
    ("人力资源部", "HR"),
    ("行政部", "Administration"),
)
EXPENSE_CATEGORIES = ("工资薪酬", "差旅费", "市场推广", "研发投入", "办公费", "租赁费", "折旧摊销")

INDUSTRIES = ("制造业", "零售", "金融", "政府", "教育", "医疗", "能源")
INDUSTRY_P = np.array([0.34, 0.18, 0.09, 0.08, 0.08, 0.10, 0.13])
RATINGS = ("A", "B", "C", "D")
RATING_P = np.array([0.36, 0.40, 0.17, 0.07])
TERMS_DAYS = np.array([30, 60, 90, 90])

CHANNELS = ("直销", "经销", "电商")
CH_ECOM = 2
# P(channel | region): overall roughly 45/35/20; 华南 leans towards e-commerce.
CHANNEL_P = np.array(
    [
        [0.48, 0.37, 0.15],
        [0.33, 0.27, 0.40],
        [0.50, 0.36, 0.14],
        [0.48, 0.38, 0.14],
        [0.48, 0.38, 0.14],
        [0.47, 0.40, 0.13],
        [0.47, 0.40, 0.13],
    ]
)
LINES_P = np.array([0.25, 0.30, 0.20, 0.15, 0.10])  # 1-5 lines per order, mean 2.55
LINES_MEAN = float(LINES_P @ np.arange(1, 6))
STATUSES = ("已完成", "已取消", "已退货")
STATUS_P = np.array([0.90, 0.06, 0.04])

PRODUCT_LINES = ("智能终端", "工业传感器", "软件服务", "配件耗材")
PL_DEVICE, PL_SOFTWARE = 0, 2
# P(product line | channel) of an order line in 2023; software grows on top (_line_mix).
LINE_MIX = np.array(
    [
        [0.33, 0.30, 0.09, 0.28],
        [0.38, 0.30, 0.03, 0.29],
        [0.60, 0.05, 0.02, 0.33],
    ]
)
SOFTWARE_MIX_GROWTH = 1.28  # per year, relative to the other lines
# Unit price relative to list price, in permille, by channel (distributors buy cheaper).
CHANNEL_PRICE = np.array([990, 945, 1000])
# Yearly price erosion of hardware, permille per year, by product line.
PRICE_EROSION = np.array([10, 8, 0, 5])

# (name, list price in yuan, unit cost as permille of list, min quantity, extra poisson mean)
PRODUCTS: tuple[tuple[tuple[str, float, int, int, float], ...], ...] = (
    (
        ("锐视智能平板 T10", 3299, 665, 1, 1.0),
        ("锐视智能平板 T12 Pro", 4999, 660, 1, 0.8),
        ("锐行工业手持终端 H5", 2899, 670, 1, 1.2),
        ("锐行工业手持终端 H8", 3899, 665, 1, 1.0),
        ("锐眸智能巡检仪 X3", 6800, 655, 1, 0.5),
        ("锐点智能收银终端 P6", 1899, 675, 1, 1.5),
        ("锐联边缘计算网关 G2", 2599, 662, 1, 1.1),
        ("锐屏会议交互大屏 M65", 12800, 658, 1, 0.2),
        ("锐屏会议交互大屏 M86", 19800, 652, 1, 0.1),
        ("锐扫智能扫码终端 S3", 1299, 680, 1, 2.0),
        ("锐控车载智能终端 V7", 3599, 668, 1, 1.0),
        ("锐护加固三防平板 R10", 7999, 650, 1, 0.4),
    ),
    (
        ("温湿度传感器 TH-200", 380, 625, 4, 9.0),
        ("高精度压力变送器 PT-500", 1680, 630, 2, 2.5),
        ("振动监测传感器 VB-310", 2450, 620, 2, 2.0),
        ("红外测温传感器 IR-120", 890, 635, 2, 4.5),
        ("激光位移传感器 LD-80", 3200, 625, 1, 1.5),
        ("超声波液位计 UL-600", 2780, 630, 1, 1.5),
        ("气体检测传感器 GD-400", 1450, 640, 2, 2.5),
        ("电磁流量计 EF-150", 5600, 628, 1, 0.6),
        ("智能电表模块 EM-30", 520, 645, 5, 9.0),
        ("光电开关传感器 PS-10", 160, 650, 10, 18.0),
        ("倾角传感器 TA-90", 760, 638, 2, 4.5),
        ("多参数水质传感器 WQ-700", 8900, 620, 1, 0.2),
    ),
    (
        ("锐云设备管理平台（年订阅）", 8800, 550, 1, 0.2),
        ("锐云数据采集软件", 4800, 540, 1, 0.6),
        ("工业物联网平台授权", 13800, 575, 1, 0.1),
        ("智能巡检系统", 11800, 570, 1, 0.1),
        ("能耗管理系统", 12800, 570, 1, 0.1),
        ("设备预测性维护服务", 12800, 590, 1, 0.1),
        ("移动应用定制开发", 19800, 620, 1, 0.0),
        ("现场实施服务（人天）", 1500, 610, 2, 4.0),
        ("运维服务包（年）", 6800, 570, 1, 0.3),
        ("数据可视化大屏软件", 5800, 545, 1, 0.4),
        ("终端安全管理软件（套）", 260, 520, 10, 25.0),
        ("技术培训服务（课时包）", 2800, 600, 1, 0.8),
    ),
    (
        ("锂电池组 BP-40", 268, 700, 5, 16.0),
        ("充电底座 CD-2", 199, 705, 5, 13.0),
        ("热敏打印纸（箱）", 128, 720, 5, 22.0),
        ("扫码枪支架", 45, 710, 10, 35.0),
        ("屏幕保护膜（10片装）", 60, 695, 10, 28.0),
        ("数据线套装", 39, 715, 10, 32.0),
        ("传感器安装支架", 85, 705, 10, 28.0),
        ("防护外壳", 159, 698, 5, 17.0),
        ("电源适配器", 119, 712, 5, 17.0),
        ("信号延长线", 69, 720, 10, 22.0),
        ("标签色带", 35, 725, 10, 45.0),
        ("清洁维护套装", 98, 702, 5, 11.0),
    ),
)
N_PER_LINE = 12
N_PRODUCTS = len(PRODUCTS) * N_PER_LINE

# Payment behaviour by credit rating: mean / sd of days paid after the due date, share of
# invoices paid very late (2-5 months after due), share never paid.
PAY_DELAY_MEAN = np.array([-3.0, 2.0, 8.0, 18.0])
PAY_DELAY_SD = np.array([5.0, 8.0, 12.0, 16.0])
VERY_LATE_P = np.array([0.003, 0.010, 0.030, 0.070])
NEVER_PAID_P = np.array([0.0, 0.0003, 0.0012, 0.0040])
INSTALMENT_P = 0.18

BEICHEN = "北辰重工"
BEICHEN_STOP_DAY = int((np.datetime64("2025-06-01") - START).astype(int))
BEICHEN_ORDER_SHARE = 0.022
BEICHEN_QTY_FACTOR = 2

PROMO_MONTH = 26  # 2025-03
CAMPAIGN_MONTH = 22  # 2024-11
PROMO_DISCOUNT_BP = 3000
# Extra clearance orders add this multiple of the slice's own expected lines (so the slice's
# volume roughly doubles); they have 1-3 lines, all 智能终端.
PROMO_EXTRA_VOLUME = 1.2
PROMO_LINES_P = np.array([0.4, 0.4, 0.2])
PROMO_LINES_MEAN = float(PROMO_LINES_P @ np.arange(1, 4))

# Monthly expense plan per (department, category) in yuan at scale 1 in early 2023, with the
# yearly growth. Not every department has every category (e.g. 研发投入 only in 研发部).
EXPENSE_PLAN: tuple[tuple[str, str, float, float], ...] = (
    ("销售部", "工资薪酬", 1_950_000, 1.09),
    ("销售部", "差旅费", 420_000, 1.10),
    ("销售部", "市场推广", 120_000, 1.08),
    ("销售部", "办公费", 70_000, 1.05),
    ("销售部", "租赁费", 150_000, 1.04),
    ("销售部", "折旧摊销", 25_000, 1.03),
    ("市场部", "工资薪酬", 520_000, 1.10),
    ("市场部", "市场推广", 900_000, 1.12),
    ("市场部", "差旅费", 90_000, 1.08),
    ("市场部", "办公费", 35_000, 1.05),
    ("市场部", "租赁费", 60_000, 1.04),
    ("市场部", "折旧摊销", 15_000, 1.03),
    ("研发部", "工资薪酬", 2_100_000, 1.12),
    ("研发部", "研发投入", 1_150_000, 1.16),
    ("研发部", "差旅费", 60_000, 1.06),
    ("研发部", "办公费", 50_000, 1.05),
    ("研发部", "租赁费", 160_000, 1.04),
    ("研发部", "折旧摊销", 180_000, 1.06),
    ("生产部", "工资薪酬", 1_050_000, 1.07),
    ("生产部", "差旅费", 20_000, 1.05),
    ("生产部", "办公费", 30_000, 1.04),
    ("生产部", "租赁费", 240_000, 1.04),
    ("生产部", "折旧摊销", 360_000, 1.05),
    ("采购部", "工资薪酬", 240_000, 1.06),
    ("采购部", "差旅费", 50_000, 1.06),
    ("采购部", "办公费", 18_000, 1.04),
    ("采购部", "租赁费", 25_000, 1.04),
    ("采购部", "折旧摊销", 6_000, 1.03),
    ("财务部", "工资薪酬", 300_000, 1.06),
    ("财务部", "差旅费", 12_000, 1.05),
    ("财务部", "办公费", 24_000, 1.04),
    ("财务部", "租赁费", 25_000, 1.04),
    ("财务部", "折旧摊销", 8_000, 1.03),
    ("人力资源部", "工资薪酬", 210_000, 1.06),
    ("人力资源部", "差旅费", 12_000, 1.05),
    ("人力资源部", "办公费", 30_000, 1.04),
    ("人力资源部", "租赁费", 18_000, 1.04),
    ("人力资源部", "折旧摊销", 6_000, 1.03),
    ("行政部", "工资薪酬", 240_000, 1.06),
    ("行政部", "差旅费", 10_000, 1.05),
    ("行政部", "办公费", 120_000, 1.05),
    ("行政部", "租赁费", 180_000, 1.04),
    ("行政部", "折旧摊销", 60_000, 1.03),
)
# The plan above is scaled to land period expenses at roughly 20% of revenue.
EXPENSE_LEVEL = 0.8
# Month-of-year factors per expense category (travel dips at Spring Festival, marketing peaks
# around mid-year and Q4 promotions).
EXPENSE_SEASON = {
    "差旅费": np.array([0.95, 0.55, 1.05, 1.05, 1.0, 1.05, 0.95, 0.95, 1.05, 0.95, 1.1, 1.1]),
    "市场推广": np.array([0.85, 0.70, 0.95, 0.95, 1.0, 1.15, 0.9, 0.9, 1.0, 1.05, 1.2, 1.25]),
}

# Planned yearly revenue growth by product line, used to set next year's budget.
BUDGET_GROWTH = np.array([1.09, 1.10, 1.40, 1.09])

# --------------------------------------------------------------------------------------------
# Name vocabularies
# --------------------------------------------------------------------------------------------

CITIES = (
    (
        "上海",
        "杭州",
        "南京",
        "苏州",
        "宁波",
        "无锡",
        "合肥",
        "济南",
        "青岛",
        "福州",
        "厦门",
        "常州",
    ),
    ("广州", "深圳", "东莞", "佛山", "珠海", "南宁", "海口", "中山", "惠州", "汕头", "江门"),
    ("北京", "天津", "石家庄", "太原", "呼和浩特", "唐山", "保定", "廊坊", "沧州", "邯郸"),
    ("武汉", "长沙", "郑州", "南昌", "洛阳", "宜昌", "襄阳", "株洲", "岳阳", "九江"),
    ("成都", "重庆", "昆明", "贵阳", "绵阳", "遵义", "宜宾", "曲靖"),
    ("西安", "兰州", "银川", "西宁", "乌鲁木齐", "宝鸡", "咸阳", "榆林"),
    ("沈阳", "大连", "长春", "哈尔滨", "吉林", "鞍山", "大庆", "营口"),
)
BRANDS = (
    "华联", "恒信", "中科", "东方", "金桥", "鼎盛", "瑞丰", "远航", "天成", "泰和", "宏达",
    "永盛", "博远", "海纳", "凯旋", "盛世", "国泰", "明德", "润丰", "启明", "嘉禾", "德润",
    "安泰", "华信", "中联", "汇通", "长城", "新元", "正泰", "立信", "金石", "同创", "宝华",
    "万通", "卓越", "信达", "恒通", "和润", "诚达", "光明", "腾飞", "鸿运", "锦程", "致远",
    "弘毅", "合众", "方圆", "宇通", "星辰", "华晟", "天正", "九州", "联创", "宏图", "兴业",
    "志诚", "振华", "环宇", "普华", "金鼎", "中健", "安康", "仁和", "沃土", "澜海", "铭泰",
)  # fmt: skip
COMPANY_SUFFIXES = ("有限公司", "股份有限公司", "集团有限公司")
INDUSTRY_CORES = (
    ("精密制造", "机械", "重型装备", "电子", "汽车部件", "新材料", "智能装备", "电气", "模具",
     "包装", "化工", "纺织"),
    ("商贸", "百货", "超市", "连锁", "便利店", "家电", "供应链", "电子商务", "商业管理"),
    ("融资租赁", "证券", "保险代理", "小额贷款", "资产管理", "期货", "投资", "支付科技"),
    (),
    ("教育科技", "培训", "文化传播"),
    ("医疗器械", "医药", "健康管理", "生物科技"),
    ("新能源", "电力工程", "燃气", "光伏科技", "储能技术", "石化", "热力"),
)  # fmt: skip
GOV_BUREAUS = (
    "交通运输局", "公安局", "教育局", "卫生健康委员会", "应急管理局", "生态环境局",
    "自然资源和规划局", "住房和城乡建设局", "水务局", "城市管理局", "市场监督管理局",
    "大数据管理局", "工业和信息化局", "农业农村局",
)  # fmt: skip
GOV_ZONES = ("市", "高新区", "经济技术开发区", "新区")
EDU_INSTITUTIONS = (
    "职业技术学院", "理工学院", "师范学院", "技师学院", "第一中学", "第二中学",
    "实验中学", "外国语学校", "信息工程学校", "商贸职业学院", "城市学院", "工业大学",
)  # fmt: skip
MED_INSTITUTIONS = (
    "第一人民医院", "第二人民医院", "第三人民医院", "中医院", "妇幼保健院", "中心医院",
    "肿瘤医院", "儿童医院", "口腔医院", "急救中心", "疾病预防控制中心",
)  # fmt: skip
SURNAMES = (
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
    "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
    "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏",
)  # fmt: skip
GIVEN_NAMES = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "文博", "子涵", "浩然", "雨桐",
    "欣怡", "宇航", "思远", "佳琪", "志强", "海燕", "晓东", "春梅", "国庆", "丽华", "俊杰",
    "雪梅", "建国", "婷婷", "博文", "晨曦", "嘉怡", "天宇", "梦琪", "立新", "红梅", "永刚",
    "晓峰", "文静", "志伟", "慧敏", "鹏飞", "玉兰", "海涛", "凯", "琳", "鑫", "昊",
)  # fmt: skip
SUPPLIER_TYPES = ("原材料", "电子元器件", "外包服务", "物流")
SUPPLIER_COUNTS = (12, 16, 6, 6)
SUPPLIER_BRANDS = (
    "鑫达", "恒远", "利德", "佳美", "盛泰", "协和", "富源", "宏盛", "通达", "正源", "明阳",
    "海川", "金瑞", "华茂", "兴达", "永泰", "聚能", "科瑞", "捷顺", "顺丰源", "新世纪", "百盛",
    "万利", "联发", "华讯", "天润", "越洋", "晶华", "东升", "凯达", "德力", "汇丰源",
)  # fmt: skip
SUPPLIER_CORES = (
    ("新材料", "塑胶制品", "五金制品", "包装材料", "纸业", "金属制品"),
    ("电子科技", "微电子", "半导体", "光电科技", "电子元件", "传感技术"),
    ("软件技术", "信息技术服务", "数字科技", "网络科技"),
    ("物流", "供应链管理", "快运", "国际货运代理"),
)
SUPPLIER_CITIES = ("深圳", "东莞", "苏州", "上海", "杭州", "宁波", "无锡", "成都", "武汉", "天津")
# Which supplier type supplies which product line.
LINE_SUPPLIER_TYPE = (1, 1, 2, 0)


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _decimal(cents: np.ndarray, scale: int = 2, precision: int = 18) -> pa.Array:
    """Build an exact arrow DECIMAL array from integer units of 10**-scale (no float detour)."""
    units = np.ascontiguousarray(cents, dtype="<i8")
    words = np.empty((len(units), 2), dtype="<i8")
    words[:, 0] = units
    words[:, 1] = units >> 63  # sign extension into the high 64 bits
    return pa.Array.from_buffers(
        pa.decimal128(precision, scale), len(units), [None, pa.py_buffer(words.tobytes())]
    )


def _dates(day_index: np.ndarray) -> pa.Array:
    """Day offsets from 2023-01-01 → arrow date32."""
    return pa.array(START + np.asarray(day_index, dtype=np.int64))


def _labels(vocabulary: tuple[str, ...], codes: np.ndarray) -> pa.Array:
    """Decode integer codes into a string column through an arrow dictionary (no object arrays)."""
    indices = pa.array(np.asarray(codes, dtype=np.int32))
    return pa.DictionaryArray.from_arrays(indices, pa.array(vocabulary, pa.string())).cast(
        pa.string()
    )


def _ids(values: np.ndarray) -> pa.Array:
    """Integer ids → arrow int32 (DuckDB INTEGER)."""
    return pa.array(np.asarray(values, dtype=np.int32))


def _round_div(numerator: np.ndarray, denominator: int) -> np.ndarray:
    """Integer division rounding half away from zero, like SQL ROUND, for non-negative input."""
    return (numerator + denominator // 2) // denominator


def _split_counts(total: np.ndarray, weights: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Split integer ``total[g]`` over the rows of each group in proportion to ``weights``.

    The rounding remainder goes to the first row of each group, so group sums are exact.
    """
    n_groups = len(total)
    wsum = np.bincount(group, weights=weights, minlength=n_groups)
    parts = np.floor(total[group] * (weights / wsum[group])).astype(np.int64)
    short = total - np.bincount(group, weights=parts, minlength=n_groups).astype(np.int64)
    first = np.r_[True, group[1:] != group[:-1]]
    parts[first] += short[group[first]]
    return parts


def _sample_rows(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row-wise inverse-CDF sampling: ``cum`` is (n, k) cumulative probabilities."""
    return np.minimum((u[:, None] > cum).sum(axis=1), cum.shape[1] - 1)


def _within_group_position(group: np.ndarray) -> np.ndarray:
    """0-based position of each row within its run of equal, contiguous ``group`` values."""
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    run_len = np.diff(np.r_[starts, n])
    return np.arange(n) - np.repeat(starts, run_len)


# --------------------------------------------------------------------------------------------
# Master data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Customers:
    """Customers sorted by creation date; position ``i`` has customer_id ``i + 1``."""

    name: np.ndarray
    industry: np.ndarray
    region: np.ndarray
    rating: np.ndarray
    created_day: np.ndarray
    weight: np.ndarray
    rep: np.ndarray  # index into reps (the account owner)
    beichen: int  # position of 北辰重工


@dataclass(frozen=True)
class _Reps:
    """Sales reps grouped by region; position ``i`` has rep_id ``i + 1``."""

    name: np.ndarray
    region: np.ndarray
    offset: np.ndarray  # first rep index per region
    count: np.ndarray  # reps per region


def _unique_people(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct Chinese personal names (surname + given name)."""
    combos = np.array([s + g for s, g in itertools.product(SURNAMES, GIVEN_NAMES)])
    if n > len(combos):
        raise ValueError(f"cannot make {n} unique rep names (max {len(combos)})")
    return combos[rng.permutation(len(combos))[:n]]


def _reps(rng: np.random.Generator, scale: int) -> _Reps:
    """40 x scale reps, each serving one region, in proportion to the regions' business."""
    count = REPS_PER_REGION * scale
    region = np.repeat(np.arange(len(REGIONS)), count)
    offset = np.r_[0, np.cumsum(count)[:-1]]
    return _Reps(_unique_people(rng, int(count.sum())), region, offset, count)


def _name_pool(region: int, industry: int) -> list[str]:
    """All candidate customer names for one (region, industry) group.

    Pools of different groups are disjoint: every name either carries a city of its region, or
    (plain company names) uses a brand reserved for that region, and industries use distinct
    cores. Sampling without replacement inside each pool therefore gives globally unique names.
    """
    cities = CITIES[region]
    if INDUSTRIES[industry] == "政府":
        return [
            f"{c}{'市' if z == '市' else '市' + z}{b}"
            for c, z, b in itertools.product(cities, GOV_ZONES, GOV_BUREAUS)
        ]
    pool: list[str] = []
    if INDUSTRIES[industry] == "教育":
        pool += [c + e for c, e in itertools.product(cities, EDU_INSTITUTIONS)]
    if INDUSTRIES[industry] == "医疗":
        pool += [c + "市" + m for c, m in itertools.product(cities, MED_INSTITUTIONS)]
    own_brands = BRANDS[region :: len(REGIONS)]
    cores = INDUSTRY_CORES[industry]
    pool += [b + k + s for b, k, s in itertools.product(own_brands, cores, COMPANY_SUFFIXES)]
    pool += [
        c + b + k + s
        for c, b, k, s in itertools.product(cities, BRANDS, cores, COMPANY_SUFFIXES[:2])
    ]
    return pool


def _customers(rng: np.random.Generator, scale: int, reps: _Reps) -> _Customers:
    """800 x scale customers with skewed (lognormal) order weights; 北辰重工 is the largest."""
    n = 800 * scale
    region = rng.choice(len(REGIONS), size=n, p=REGION_P)
    industry = rng.choice(len(INDUSTRIES), size=n, p=INDUSTRY_P)
    rating = rng.choice(len(RATINGS), size=n, p=RATING_P)
    # 75% were customers before the period; the rest are acquired during it (drives growth in
    # active customers). Day offsets are relative to 2023-01-01.
    before = rng.random(n) < 0.75
    created = np.where(
        before, rng.integers(-8 * 365, 0, size=n), rng.integers(0, N_DAYS - 90, size=n)
    )
    weight = rng.lognormal(0.0, 0.85, size=n) * np.where(rating == 3, 0.6, 1.0)

    # 北辰重工: a large, long-standing A-rated 华北 manufacturer (planted event 2).
    b = 0
    region[b], industry[b], rating[b], created[b] = R_NORTH, 0, 0, -2450
    weight[b] = BEICHEN_ORDER_SHARE / (1 - BEICHEN_ORDER_SHARE) * weight[1:].sum()

    names = np.empty(n, dtype=object)
    names[b] = BEICHEN
    group = region * len(INDUSTRIES) + industry
    for g in range(len(REGIONS) * len(INDUSTRIES)):  # 49 groups, not rows
        members = np.flatnonzero((group == g) & (np.arange(n) != b))
        if len(members) == 0:
            continue
        names_of_group = _name_pool(g // len(INDUSTRIES), g % len(INDUSTRIES))
        if len(members) > len(names_of_group):
            # Beyond scale ~10 the vocabulary runs out: branch offices (XX有限公司苏州分公司)
            # keep names unique and readable. Smaller scales never get here, so their data
            # (and every number checked against it) stays the same.
            cities = CITIES[g // len(INDUSTRIES)]
            names_of_group += [f"{n}{c}分公司" for n in names_of_group for c in cities]
        pool = np.array(names_of_group)
        if len(members) > len(pool):
            raise ValueError(f"scale {scale} too large for the customer name vocabulary")
        names[members] = pool[rng.permutation(len(pool))[: len(members)]]

    rep = reps.offset[region] + (rng.random(n) * reps.count[region]).astype(np.int64)
    order = np.lexsort((np.arange(n), created))
    beichen = int(np.flatnonzero(order == b)[0])
    return _Customers(
        name=names[order],
        industry=industry[order],
        region=region[order],
        rating=rating[order],
        created_day=created[order],
        weight=weight[order],
        rep=rep[order],
        beichen=beichen,
    )


@dataclass(frozen=True)
class _Products:
    """The 48-product catalogue; position ``i`` has product_id ``i + 1``."""

    name: np.ndarray
    line: np.ndarray
    list_cents: np.ndarray
    cost_cents: np.ndarray
    min_qty: np.ndarray
    extra_qty: np.ndarray
    popularity: np.ndarray  # (4, 12) cumulative within line


def _products(rng: np.random.Generator) -> _Products:
    """The fixed catalogue with random but seeded popularity within each product line."""
    rows = [p for line in PRODUCTS for p in line]
    list_cents = np.array([round(r[1] * 100) for r in rows], dtype=np.int64)
    cost_cents = _round_div(list_cents * np.array([r[2] for r in rows]), 1000)
    pop = rng.gamma(3.0, size=(len(PRODUCTS), N_PER_LINE))
    pop = np.cumsum(pop / pop.sum(axis=1, keepdims=True), axis=1)
    return _Products(
        name=np.array([r[0] for r in rows]),
        line=np.repeat(np.arange(len(PRODUCTS)), N_PER_LINE),
        list_cents=list_cents,
        cost_cents=cost_cents,
        min_qty=np.array([r[3] for r in rows], dtype=np.int64),
        extra_qty=np.array([r[4] for r in rows]),
        popularity=pop,
    )


# --------------------------------------------------------------------------------------------
# Orders and order lines
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Orders:
    """Orders sorted by (date, random key); position ``i`` has order_id ``i + 1``."""

    day: np.ndarray
    customer: np.ndarray
    rep: np.ndarray
    region: np.ndarray
    channel: np.ndarray
    status: np.ndarray
    promo_extra: np.ndarray  # True for the additional clearance orders of event 1


@dataclass(frozen=True)
class _Lines:
    """Order lines with money in integer cents and discounts in basis points."""

    order: np.ndarray  # order position (order_id - 1); lines are sorted by order, line_no
    line_no: np.ndarray
    product: np.ndarray  # product position (product_id - 1)
    quantity: np.ndarray
    price_cents: np.ndarray
    discount_bp: np.ndarray
    amount_cents: np.ndarray
    cost_cents: np.ndarray


def _pick_customers(
    rng: np.random.Generator, cust: _Customers, day: np.ndarray, eligible: np.ndarray
) -> np.ndarray:
    """Pick a customer per order, weighted, among customers existing on the order day.

    Customers are sorted by creation date, so the eligible ones are a prefix; ``eligible`` masks
    further restrictions (e.g. one region) by zeroing weights.
    """
    w = np.where(eligible, cust.weight, 0.0)
    cumw = np.cumsum(w)
    n_exist = np.searchsorted(cust.created_day, day, side="right")
    u = rng.random(len(day)) * cumw[n_exist - 1]
    pick = np.searchsorted(cumw, u, side="right")
    return np.minimum(pick, n_exist - 1)


def _orders(rng: np.random.Generator, scale: int, cust: _Customers, reps: _Reps) -> _Orders:
    """Daily order counts follow growth x season x weekday; plus the event-1 clearance orders."""
    days = np.arange(N_DAYS)
    intensity = ORDER_GROWTH ** (days / 365.25) * SEASON[DAY_MONTH % 12] * DOW[DAY_DOW]
    intensity *= 118_800 * scale / intensity.sum()
    day = np.repeat(days, rng.poisson(intensity))
    customer = _pick_customers(rng, cust, day, np.ones(len(cust.weight), dtype=bool))
    region = cust.region[customer]
    channel = _sample_rows(np.cumsum(CHANNEL_P, axis=1)[region], rng.random(len(day)))
    channel[customer == cust.beichen] = 0  # a key account buys direct

    # Event 1: clearance promotion adds e-commerce 智能终端 orders for 华南 in 2025-03, about as
    # many 智能终端 lines as the slice has anyway, i.e. roughly doubling its volume.
    in_slice = (DAY_MONTH[day] == PROMO_MONTH) & (region == R_SOUTH) & (channel == CH_ECOM)
    device_share = _line_mix(np.array([CH_ECOM]), np.array([MONTH_FIRST[PROMO_MONTH] / 365.25]))
    own_lines = in_slice.sum() * LINES_MEAN * device_share[0, PL_DEVICE]
    n_extra = int(round(PROMO_EXTRA_VOLUME * own_lines / PROMO_LINES_MEAN))
    promo_days = np.arange(MONTH_FIRST[PROMO_MONTH], MONTH_LAST[PROMO_MONTH] + 1)
    extra_day = np.sort(rng.choice(promo_days, size=n_extra))
    extra_cust = _pick_customers(rng, cust, extra_day, cust.region == R_SOUTH)

    day = np.r_[day, extra_day]
    customer = np.r_[customer, extra_cust]
    region = np.r_[region, cust.region[extra_cust]]
    channel = np.r_[channel, np.full(n_extra, CH_ECOM)]
    promo_extra = np.r_[np.zeros(len(day) - n_extra, dtype=bool), np.ones(n_extra, dtype=bool)]

    n = len(day)
    other_rep = reps.offset[region] + (rng.random(n) * reps.count[region]).astype(np.int64)
    rep = np.where(rng.random(n) < 0.85, cust.rep[customer], other_rep)
    status = rng.choice(len(STATUSES), size=n, p=STATUS_P)

    order = np.lexsort((rng.random(n), day))
    return _Orders(
        day=day[order],
        customer=customer[order],
        rep=rep[order],
        region=region[order],
        channel=channel[order],
        status=status[order],
        promo_extra=promo_extra[order],
    )


def _line_mix(channel: np.ndarray, years: np.ndarray) -> np.ndarray:
    """P(product line) per order line, (n, 4): the channel's mix with software growing."""
    mix = LINE_MIX[channel].copy()
    mix[:, PL_SOFTWARE] *= SOFTWARE_MIX_GROWTH**years
    return mix / mix.sum(axis=1, keepdims=True)


def _lines(rng: np.random.Generator, orders: _Orders, cust: _Customers, prod: _Products) -> _Lines:
    """1-5 lines per order; product mix by channel; prices, discounts and amounts in cents."""
    n_orders = len(orders.day)
    n_lines = np.where(
        orders.promo_extra,
        rng.choice(np.arange(1, 4), size=n_orders, p=PROMO_LINES_P),
        rng.choice(np.arange(1, 6), size=n_orders, p=LINES_P),
    )
    order = np.repeat(np.arange(n_orders), n_lines)
    line_no = _within_group_position(order) + 1
    n = len(order)

    day = orders.day[order]
    channel = orders.channel[order]
    years = day / 365.25
    pline = _sample_rows(np.cumsum(_line_mix(channel, years), axis=1), rng.random(n))
    pline[orders.promo_extra[order]] = PL_DEVICE
    product = pline * N_PER_LINE + _sample_rows(prod.popularity[pline], rng.random(n))

    quantity = prod.min_qty[product] + rng.poisson(prod.extra_qty[product])
    quantity *= np.where(orders.customer[order] == cust.beichen, BEICHEN_QTY_FACTOR, 1)

    # unit_price = list price x channel factor x (1 - erosion) x jitter of +-2%, all in integer
    # permille arithmetic so every platform rounds identically.
    erosion = np.floor(PRICE_EROSION[pline] * years).astype(np.int64)
    jitter = rng.integers(-20, 21, size=n)
    factor = CHANNEL_PRICE[channel] * (1000 - erosion + jitter)
    price = _round_div(prod.list_cents[product] * factor, 1_000_000)

    discount_bp = rng.integers(200, 801, size=n)
    promo = (
        (DAY_MONTH[day] == PROMO_MONTH)
        & (orders.region[order] == R_SOUTH)
        & (channel == CH_ECOM)
        & (pline == PL_DEVICE)
    )
    discount_bp[promo] = PROMO_DISCOUNT_BP

    # amount = ROUND(quantity x unit_price x (1 - discount_rate), 2), exactly, in cents.
    amount = _round_div(quantity * price * (10_000 - discount_bp), 10_000)
    return _Lines(
        order=order,
        line_no=line_no,
        product=product,
        quantity=quantity,
        price_cents=price,
        discount_bp=discount_bp,
        amount_cents=amount,
        cost_cents=quantity * prod.cost_cents[product],
    )


# --------------------------------------------------------------------------------------------
# Invoices and receipts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Invoices:
    """Invoices sorted by (invoice_date, order_id); position ``i`` has invoice_id ``i + 1``."""

    order: np.ndarray
    customer: np.ndarray
    day: np.ndarray
    due_day: np.ndarray
    amount_cents: np.ndarray


@dataclass(frozen=True)
class _Receipts:
    """Receipts sorted by date; ``invoice`` is the invoice position (invoice_id - 1)."""

    invoice: np.ndarray
    day: np.ndarray
    amount_cents: np.ndarray


def _invoices(
    rng: np.random.Generator, orders: _Orders, lines: _Lines, cust: _Customers
) -> _Invoices:
    """One invoice per completed order, 0-5 days after it, for the order's line total."""
    order_total = np.bincount(
        lines.order, weights=lines.amount_cents, minlength=len(orders.day)
    ).astype(np.int64)  # exact: totals stay far below 2**53 cents
    completed = np.flatnonzero(orders.status == 0)
    day = np.minimum(orders.day[completed] + rng.integers(0, 6, size=len(completed)), LAST_DAY)
    customer = orders.customer[completed]
    sort = np.lexsort((completed, day))
    completed, day, customer = completed[sort], day[sort], customer[sort]
    return _Invoices(
        order=completed,
        customer=customer,
        day=day,
        due_day=day + TERMS_DAYS[cust.rating[customer]],
        amount_cents=order_total[completed],
    )


def _receipts(rng: np.random.Generator, inv: _Invoices, cust: _Customers) -> _Receipts:
    """Payments around the due date by rating; some split, some very late, a few never paid.

    Payments that would fall after the as-of date are simply not there yet.
    """
    n = len(inv.day)
    rating = cust.rating[inv.customer]
    is_beichen = inv.customer == cust.beichen
    delay = np.rint(rng.normal(PAY_DELAY_MEAN[rating], PAY_DELAY_SD[rating])).astype(np.int64)
    very_late = (rng.random(n) < VERY_LATE_P[rating]) & ~is_beichen
    delay = np.where(very_late, rng.integers(60, 160, size=n), delay)
    pay_day = np.maximum(inv.due_day + delay, inv.day)
    never = (rng.random(n) < NEVER_PAID_P[rating]) & ~is_beichen
    # Event 2: 北辰重工 stops paying invoices dated from 2025-06-01 on.
    never |= is_beichen & (inv.day >= BEICHEN_STOP_DAY)

    # Some invoices are paid in two instalments: 30-70% some weeks before the final payment.
    split = rng.random(n) < INSTALMENT_P
    first_pct = rng.integers(30, 71, size=n)
    first_cents = np.where(split, _round_div(inv.amount_cents * first_pct, 100), 0)
    first_day = np.maximum(pay_day - rng.integers(10, 41, size=n), inv.day)

    idx = np.arange(n)
    invoice = np.r_[idx[split], idx]
    day = np.r_[first_day[split], pay_day]
    amount = np.r_[first_cents[split], inv.amount_cents - first_cents]
    keep = (day <= LAST_DAY) & ~np.r_[never[split], never] & (amount > 0)
    invoice, day, amount = invoice[keep], day[keep], amount[keep]
    sort = np.lexsort((amount, invoice, day))
    return _Receipts(invoice=invoice[sort], day=day[sort], amount_cents=amount[sort])


# --------------------------------------------------------------------------------------------
# Expenses and budgets
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Expenses:
    """Expense vouchers plus the budget per (month, plan cell) they are measured against."""

    day: np.ndarray
    dept: np.ndarray
    category: np.ndarray
    amount_cents: np.ndarray
    budget_cents: np.ndarray  # (months, pairs)
    pair_dept: np.ndarray
    pair_category: np.ndarray


def _expenses(rng: np.random.Generator, scale: int) -> _Expenses:
    """Monthly plan per (dept, category) with growth and noise, booked as several vouchers.

    The budget is the plan itself with a little noise, so usage is ~100% except for the
    event-3 campaign, which triples the spend of one cell but not its budget.
    """
    dept_index = {name: i for i, (name, _) in enumerate(DEPARTMENTS)}
    cat_index = {name: i for i, name in enumerate(EXPENSE_CATEGORIES)}
    pair_dept = np.array([dept_index[d] for d, _, _, _ in EXPENSE_PLAN])
    pair_cat = np.array([cat_index[c] for _, c, _, _ in EXPENSE_PLAN])
    base = np.array([b for _, _, b, _ in EXPENSE_PLAN]) * EXPENSE_LEVEL * scale
    growth = np.array([g for _, _, _, g in EXPENSE_PLAN])

    months = np.arange(N_MONTHS)
    season = np.ones((N_MONTHS, len(EXPENSE_PLAN)))
    for j, (_, cat, _, _) in enumerate(EXPENSE_PLAN):  # loops over the ~40 plan cells
        if cat in EXPENSE_SEASON:
            season[:, j] = EXPENSE_SEASON[cat][months % 12]
    planned = base[None, :] * growth[None, :] ** (months[:, None] / 12) * season
    actual = planned * (1 + 0.04 * rng.standard_normal(planned.shape))
    campaign = (pair_dept == dept_index["市场部"]) & (pair_cat == cat_index["市场推广"])
    actual[CAMPAIGN_MONTH, campaign] *= 3.0  # event 3: campaign on a normal budget
    cell_cents = np.rint(actual * 100).astype(np.int64).ravel()
    budget = np.rint(planned * (1 + 0.02 * rng.standard_normal(planned.shape))).astype(np.int64)

    # Each (month, dept, category) cell is booked as several vouchers on random days.
    n_rows = rng.integers(2, 9, size=cell_cents.size) * scale
    cell = np.repeat(np.arange(cell_cents.size), n_rows)
    parts = _split_counts(cell_cents, rng.gamma(2.0, size=cell.size), cell)
    month = cell // len(EXPENSE_PLAN)
    pair = cell % len(EXPENSE_PLAN)
    day = MONTH_FIRST[month] + (rng.random(cell.size) * MONTH_DAYS[month]).astype(np.int64)
    sort = np.lexsort((np.arange(cell.size), day))
    return _Expenses(
        day=day[sort],
        dept=pair_dept[pair][sort],
        category=pair_cat[pair][sort],
        amount_cents=parts[sort],
        budget_cents=budget * 100,
        pair_dept=pair_dept,
        pair_category=pair_cat,
    )


def _revenue_cube(orders: _Orders, lines: _Lines, prod: _Products) -> np.ndarray:
    """Completed revenue in cents as (month, region, product line)."""
    done = orders.status[lines.order] == 0
    o = lines.order[done]
    key = (DAY_MONTH[orders.day[o]] * len(REGIONS) + orders.region[o]) * len(PRODUCTS)
    key += prod.line[lines.product[done]]
    size = N_MONTHS * len(REGIONS) * len(PRODUCTS)
    cube = np.bincount(key, weights=lines.amount_cents[done], minlength=size)
    return cube.reshape(N_MONTHS, len(REGIONS), len(PRODUCTS))


def _revenue_budget(rng: np.random.Generator, cube: np.ndarray) -> np.ndarray:
    """Budget in cents as (month, region, line): last year's actual x planned growth.

    Each year's budget spreads the prior year's actual of a region x product line over the
    months with that line's company-wide monthly pattern of the prior year, times the line's
    planned growth. 2023 has no prior year in the data, so its plan uses the 2023 pattern and
    level directly.
    """
    yearly = cube.reshape(3, 12, len(REGIONS), len(PRODUCTS))
    annual = yearly.sum(axis=1)  # (year, region, line)
    line_month = yearly.sum(axis=2)  # (year, month, line)
    shape = line_month / line_month.sum(axis=1, keepdims=True)
    base_year = np.array([0, 0, 1])
    growth = np.stack([np.ones(len(PRODUCTS)), BUDGET_GROWTH, BUDGET_GROWTH])
    plan = (
        annual[base_year][:, None, :, :]
        * shape[base_year][:, :, None, :]
        * growth[:, None, None, :]
    ).reshape(N_MONTHS, len(REGIONS), len(PRODUCTS))
    noise = 1 + 0.03 * rng.standard_normal(plan.shape)
    return np.rint(plan * noise / 100).astype(np.int64) * 100  # whole yuan


# --------------------------------------------------------------------------------------------
# Suppliers, purchases, inventory
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Suppliers:
    """Suppliers grouped by type; position ``i`` has supplier_id ``i + 1``."""

    name: np.ndarray
    type: np.ndarray


@dataclass(frozen=True)
class _Purchases:
    """Purchase orders sorted by date."""

    day: np.ndarray
    supplier: np.ndarray
    product: np.ndarray
    quantity: np.ndarray
    amount_cents: np.ndarray


def _suppliers(rng: np.random.Generator) -> _Suppliers:
    """40 suppliers with unique names; name cores differ by supplier type."""
    names: list[np.ndarray] = []
    for t, count in enumerate(SUPPLIER_COUNTS):  # 4 supplier types
        cores = SUPPLIER_CORES[t]
        pool = [b + k + "有限公司" for b, k in itertools.product(SUPPLIER_BRANDS, cores)]
        pool += [
            c + b + k + "有限公司"
            for c, b, k in itertools.product(SUPPLIER_CITIES, SUPPLIER_BRANDS, cores)
        ]
        names.append(np.array(pool)[rng.permutation(len(pool))[:count]])
    return _Suppliers(np.concatenate(names), np.repeat(np.arange(4), SUPPLIER_COUNTS))


def _purchases_and_stock(
    rng: np.random.Generator,
    orders: _Orders,
    lines: _Lines,
    prod: _Products,
    sup: _Suppliers,
) -> tuple[_Purchases, np.ndarray]:
    """Replenishment purchases and month-end stock (product, warehouse, month) in units.

    Each warehouse holds 1.2-2.6 months of the demand of the regions it serves; purchases per
    product and month = units sold + change in stock, so the stock flow roughly balances.
    """
    done = orders.status[lines.order] == 0
    o = lines.order[done]
    wh = REGION_WAREHOUSE[orders.region[o]]
    n_wh = len(WAREHOUSES)
    key = (lines.product[done] * n_wh + wh) * N_MONTHS + DAY_MONTH[orders.day[o]]
    sold = np.bincount(key, weights=lines.quantity[done], minlength=N_PRODUCTS * n_wh * N_MONTHS)
    sold = sold.reshape(N_PRODUCTS, n_wh, N_MONTHS)
    demand = (sold + np.concatenate([sold[:, :, 1:], sold[:, :, -1:]], axis=2)) / 2
    cover = rng.uniform(1.2, 2.6, size=sold.shape)
    stock = np.rint(demand * cover).astype(np.int64)
    stock[prod.line == PL_SOFTWARE] = 0

    sold_total = sold.sum(axis=1)
    stock_total = stock.sum(axis=1)
    opening = np.concatenate([stock_total[:, :1], stock_total[:, :-1]], axis=1)
    need = np.maximum(sold_total + stock_total - opening, 0)
    software = prod.line == PL_SOFTWARE
    need[software] = np.rint(sold_total[software] * rng.uniform(0.9, 1.1, size=(12, N_MONTHS)))
    need = need.astype(np.int64).ravel()  # (product, month) cells

    # Two suppliers of the matching type per product.
    sup_type = np.array(LINE_SUPPLIER_TYPE)[prod.line]
    first = np.r_[0, np.cumsum(SUPPLIER_COUNTS)[:-1]][sup_type]
    count = np.array(SUPPLIER_COUNTS)[sup_type]
    a = (rng.random(N_PRODUCTS) * count).astype(np.int64)
    b = (a + 1 + (rng.random(N_PRODUCTS) * (count - 1)).astype(np.int64)) % count
    product_suppliers = np.stack([first + a, first + b], axis=1)

    n_po = rng.integers(1, 4, size=need.size)
    cell = np.repeat(np.arange(need.size), n_po)
    qty = _split_counts(need, rng.gamma(3.0, size=cell.size), cell)
    keep = qty > 0
    cell, qty = cell[keep], qty[keep]
    product = cell // N_MONTHS
    month = cell % N_MONTHS
    day = MONTH_FIRST[month] + (rng.random(cell.size) * MONTH_DAYS[month]).astype(np.int64)
    supplier = product_suppliers[product, rng.integers(0, 2, size=cell.size)]
    factor = rng.integers(950, 1001, size=cell.size)
    amount = _round_div(qty * prod.cost_cents[product] * factor, 1000)
    sort = np.lexsort((supplier, product, day))
    return (
        _Purchases(day[sort], supplier[sort], product[sort], qty[sort], amount[sort]),
        stock,
    )


# --------------------------------------------------------------------------------------------
# Cash flows
# --------------------------------------------------------------------------------------------

# (date, direction, activity, category, amount in yuan at scale 1)
_FIXED_FLOWS: tuple[tuple[str, str, str, str, float], ...] = (
    ("2023-03-20", "流入", "筹资活动", "银行借款", 30_000_000),
    ("2024-08-15", "流入", "筹资活动", "银行借款", 20_000_000),
    ("2025-03-20", "流出", "筹资活动", "偿还借款", 30_000_000),
    ("2024-06-28", "流出", "筹资活动", "支付股利", 18_000_000),
    ("2025-06-27", "流出", "筹资活动", "支付股利", 22_000_000),
    ("2023-06-30", "流入", "投资活动", "投资收益", 850_000),
    ("2023-12-20", "流入", "投资活动", "投资收益", 920_000),
    ("2024-06-28", "流入", "投资活动", "投资收益", 1_050_000),
    ("2024-12-20", "流入", "投资活动", "投资收益", 1_120_000),
    ("2025-06-27", "流入", "投资活动", "投资收益", 1_260_000),
    ("2025-12-19", "流入", "投资活动", "投资收益", 1_380_000),
    ("2024-10-25", "流入", "投资活动", "处置固定资产", 640_000),
)


def _cash_flows(
    rng: np.random.Generator,
    scale: int,
    inv: _Invoices,
    rec: _Receipts,
    pur: _Purchases,
    exp: _Expenses,
    cube: np.ndarray,
) -> pa.Table:
    """Assemble cash_flows; operating inflows mirror receipts one to one."""
    cat_index = {name: i for i, name in enumerate(EXPENSE_CATEGORIES)}
    parts: list[tuple[np.ndarray, str, str, str, np.ndarray]] = []  # day, dir, act, cat, cents

    parts.append((rec.day, "流入", "经营活动", "销售回款", rec.amount_cents))

    pay_day = pur.day + rng.choice([30, 45, 60], size=len(pur.day))
    ok = pay_day <= LAST_DAY
    parts.append((pay_day[ok], "流出", "经营活动", "采购付款", pur.amount_cents[ok]))

    cash_exp = ~np.isin(exp.category, [cat_index["折旧摊销"], cat_index["工资薪酬"]])
    parts.append((exp.day[cash_exp], "流出", "经营活动", "费用支付", exp.amount_cents[cash_exp]))

    # Payroll and taxes of month m are paid in month m+1 (10th / 15th); January 2023 pays for
    # December 2022, estimated as January's amount.
    payroll = exp.category == cat_index["工资薪酬"]
    month_payroll = np.bincount(
        DAY_MONTH[exp.day[payroll]], weights=exp.amount_cents[payroll], minlength=N_MONTHS
    ).astype(np.int64)
    month_revenue = cube.sum(axis=(1, 2))
    month_tax = np.rint(month_revenue * 0.025).astype(np.int64)
    prior_payroll = np.r_[month_payroll[0], month_payroll[:-1]]
    prior_tax = np.r_[month_tax[0], month_tax[:-1]]
    parts.append((MONTH_FIRST + 9, "流出", "经营活动", "工资薪酬", prior_payroll))
    parts.append((MONTH_FIRST + 14, "流出", "经营活动", "税费", prior_tax))

    # Equipment purchases: one per quarter, mid second month.
    quarter_month = np.arange(1, N_MONTHS, 3)
    capex = np.rint(rng.uniform(2.5e8, 5.5e8, size=len(quarter_month)) * scale).astype(np.int64)
    parts.append((MONTH_FIRST[quarter_month] + 17, "流出", "投资活动", "设备购置", capex))

    # Interest on bank loans, quarterly on the 21st of the last month of each quarter.
    quarter_end = np.arange(2, N_MONTHS, 3)
    loan = np.where(quarter_end < 20, 3e7, np.where(quarter_end < 26, 5e7, 2e7))
    interest = np.rint(loan * 0.038 / 4 * 100 * scale).astype(np.int64)
    parts.append((MONTH_FIRST[quarter_end] + 20, "流出", "筹资活动", "支付利息", interest))

    for date, direction, activity, category, yuan in _FIXED_FLOWS:  # a dozen constants
        day = np.array([(np.datetime64(date) - START).astype(np.int64)])
        cents = np.array([round(yuan * 100) * scale], dtype=np.int64)
        parts.append((day, direction, activity, category, cents))

    day = np.concatenate([p[0] for p in parts])
    cents = np.concatenate([p[4] for p in parts])
    source = np.concatenate([np.full(len(p[0]), i) for i, p in enumerate(parts)])
    seq = np.concatenate([np.arange(len(p[0])) for p in parts])
    # Each part has one (direction, activity, category); give every distinct label a code in
    # order of first appearance and decode the codes column-wise.
    vocab = [tuple(dict.fromkeys(p[field] for p in parts)) for field in (1, 2, 3)]
    codes = [
        np.concatenate([np.full(len(p[0]), vocab[f].index(p[f + 1])) for p in parts])
        for f in range(3)
    ]
    keep = (day <= LAST_DAY) & (cents > 0)
    sort = np.lexsort((seq[keep], source[keep], day[keep]))
    idx = np.flatnonzero(keep)[sort]
    return pa.table(
        {
            "txn_id": _ids(np.arange(1, len(idx) + 1)),
            "txn_date": _dates(day[idx]),
            "direction": _labels(vocab[0], codes[0][idx]),
            "activity": _labels(vocab[1], codes[1][idx]),
            "category": _labels(vocab[2], codes[2][idx]),
            "amount": _decimal(cents[idx]),
        }
    )


# --------------------------------------------------------------------------------------------
# DuckDB schema and load
# --------------------------------------------------------------------------------------------

SCHEMA: dict[str, str] = {
    "regions": "region_id INTEGER, region_name VARCHAR, region_name_en VARCHAR",
    "departments": "dept_id INTEGER, dept_name VARCHAR, dept_name_en VARCHAR",
    "products": (
        "product_id INTEGER, product_name VARCHAR, product_line VARCHAR, "
        "unit_cost DECIMAL(18,2), list_price DECIMAL(18,2)"
    ),
    "customers": (
        "customer_id INTEGER, customer_name VARCHAR, industry VARCHAR, region_id INTEGER, "
        "credit_rating VARCHAR, created_date DATE"
    ),
    "sales_reps": "rep_id INTEGER, rep_name VARCHAR, region_id INTEGER",
    "orders": (
        "order_id INTEGER, order_date DATE, customer_id INTEGER, rep_id INTEGER, "
        "region_id INTEGER, channel VARCHAR, status VARCHAR"
    ),
    "order_lines": (
        "order_id INTEGER, line_no INTEGER, product_id INTEGER, quantity INTEGER, "
        "unit_price DECIMAL(18,2), discount_rate DECIMAL(5,4), amount DECIMAL(18,2), "
        "cost_amount DECIMAL(18,2)"
    ),
    "invoices": (
        "invoice_id INTEGER, order_id INTEGER, customer_id INTEGER, invoice_date DATE, "
        "due_date DATE, amount DECIMAL(18,2)"
    ),
    "receipts": (
        "receipt_id INTEGER, invoice_id INTEGER, customer_id INTEGER, receipt_date DATE, "
        "amount DECIMAL(18,2)"
    ),
    "ar_aging_monthly": (
        "snapshot_date DATE, customer_id INTEGER, balance DECIMAL(18,2), "
        "current_amount DECIMAL(18,2), overdue_1_30 DECIMAL(18,2), overdue_31_60 DECIMAL(18,2), "
        "overdue_61_90 DECIMAL(18,2), overdue_over_90 DECIMAL(18,2)"
    ),
    "expenses": (
        "expense_id INTEGER, expense_date DATE, dept_id INTEGER, category VARCHAR, "
        "amount DECIMAL(18,2)"
    ),
    "revenue_budget": ("month DATE, region_id INTEGER, product_line VARCHAR, amount DECIMAL(18,2)"),
    "expense_budget": "month DATE, dept_id INTEGER, category VARCHAR, amount DECIMAL(18,2)",
    "suppliers": "supplier_id INTEGER, supplier_name VARCHAR, supplier_type VARCHAR",
    "purchases": (
        "purchase_id INTEGER, purchase_date DATE, supplier_id INTEGER, product_id INTEGER, "
        "quantity INTEGER, amount DECIMAL(18,2)"
    ),
    "inventory_monthly": (
        "snapshot_date DATE, product_id INTEGER, warehouse VARCHAR, quantity INTEGER, "
        "value DECIMAL(18,2)"
    ),
    "cash_flows": (
        "txn_id INTEGER, txn_date DATE, direction VARCHAR, activity VARCHAR, category VARCHAR, "
        "amount DECIMAL(18,2)"
    ),
}

# Month-end receivables aging, derived from invoices and receipts. Only invoice-months that are
# still open are expanded (an invoice is open from its date until its receipts reach its
# amount), so the join stays small at any scale.
AR_AGING_SQL = """
INSERT INTO ar_aging_monthly
WITH month_ends AS (
    SELECT CAST(last_day(CAST(m AS DATE)) AS DATE) AS snapshot_date
    FROM range(DATE '2023-01-01', DATE '2026-01-01', INTERVAL 1 MONTH) AS t(m)
),
settled AS (
    SELECT i.invoice_id,
           CASE WHEN SUM(r.amount) = i.amount THEN MAX(r.receipt_date) END AS paid_off_date
    FROM invoices AS i
    LEFT JOIN receipts AS r ON r.invoice_id = i.invoice_id
    GROUP BY i.invoice_id, i.amount
),
open_items AS (
    SELECT m.snapshot_date, i.invoice_id, i.customer_id, i.due_date, i.amount
    FROM invoices AS i
    JOIN settled AS s ON s.invoice_id = i.invoice_id
    JOIN month_ends AS m
      ON m.snapshot_date >= i.invoice_date
     AND (s.paid_off_date IS NULL OR m.snapshot_date < s.paid_off_date)
),
outstanding AS (
    SELECT o.snapshot_date, o.customer_id,
           o.snapshot_date - o.due_date AS days_past_due,
           o.amount - COALESCE(SUM(r.amount), 0) AS open_amount
    FROM open_items AS o
    LEFT JOIN receipts AS r
      ON r.invoice_id = o.invoice_id AND r.receipt_date <= o.snapshot_date
    GROUP BY o.snapshot_date, o.invoice_id, o.customer_id, o.due_date, o.amount
)
SELECT snapshot_date,
       customer_id,
       SUM(open_amount),
       SUM(CASE WHEN days_past_due <= 0 THEN open_amount ELSE 0 END),
       SUM(CASE WHEN days_past_due BETWEEN 1 AND 30 THEN open_amount ELSE 0 END),
       SUM(CASE WHEN days_past_due BETWEEN 31 AND 60 THEN open_amount ELSE 0 END),
       SUM(CASE WHEN days_past_due BETWEEN 61 AND 90 THEN open_amount ELSE 0 END),
       SUM(CASE WHEN days_past_due > 90 THEN open_amount ELSE 0 END)
FROM outstanding
GROUP BY snapshot_date, customer_id
HAVING SUM(open_amount) <> 0
ORDER BY snapshot_date, customer_id
"""

INVENTORY_VALUE_SQL = """
UPDATE inventory_monthly AS i
SET value = i.quantity * p.unit_cost
FROM products AS p
WHERE p.product_id = i.product_id
"""


def _build_tables(scale: int, seed: int) -> dict[str, pa.Table]:
    """Generate every base table as an arrow table (ar_aging_monthly is derived in SQL)."""
    streams = np.random.default_rng(seed).spawn(10)
    reps = _reps(streams[0], scale)
    cust = _customers(streams[1], scale, reps)
    prod = _products(streams[2])
    orders = _orders(streams[3], scale, cust, reps)
    lines = _lines(streams[4], orders, cust, prod)
    inv = _invoices(streams[5], orders, lines, cust)
    rec = _receipts(streams[5], inv, cust)
    exp = _expenses(streams[6], scale)
    cube = _revenue_cube(orders, lines, prod)
    budget = _revenue_budget(streams[7], cube)
    sup = _suppliers(streams[8])
    pur, stock = _purchases_and_stock(streams[8], orders, lines, prod, sup)
    cash = _cash_flows(streams[9], scale, inv, rec, pur, exp, cube)

    month_first = MONTH_FIRST
    n_reg, n_pl = len(REGIONS), len(PRODUCTS)
    rb_month = np.repeat(np.arange(N_MONTHS), n_reg * n_pl)
    eb_month = np.repeat(np.arange(N_MONTHS), len(exp.pair_dept))
    physical = np.flatnonzero(prod.line != PL_SOFTWARE)
    n_wh = len(WAREHOUSES)
    inv_prod = np.repeat(physical, n_wh * N_MONTHS)
    inv_wh = np.tile(np.repeat(np.arange(n_wh), N_MONTHS), len(physical))
    inv_month = np.tile(np.arange(N_MONTHS), len(physical) * n_wh)
    inv_sort = np.lexsort((inv_wh, inv_prod, inv_month))
    inv_prod, inv_wh, inv_month = inv_prod[inv_sort], inv_wh[inv_sort], inv_month[inv_sort]

    def strings(values: np.ndarray) -> pa.Array:
        return pa.array(values, pa.string())

    return {
        "regions": pa.table(
            {
                "region_id": _ids(np.arange(1, n_reg + 1)),
                "region_name": strings(np.array([r[0] for r in REGIONS])),
                "region_name_en": strings(np.array([r[1] for r in REGIONS])),
            }
        ),
        "departments": pa.table(
            {
                "dept_id": _ids(np.arange(1, len(DEPARTMENTS) + 1)),
                "dept_name": strings(np.array([d[0] for d in DEPARTMENTS])),
                "dept_name_en": strings(np.array([d[1] for d in DEPARTMENTS])),
            }
        ),
        "products": pa.table(
            {
                "product_id": _ids(np.arange(1, N_PRODUCTS + 1)),
                "product_name": strings(prod.name),
                "product_line": _labels(PRODUCT_LINES, prod.line),
                "unit_cost": _decimal(prod.cost_cents),
                "list_price": _decimal(prod.list_cents),
            }
        ),
        "customers": pa.table(
            {
                "customer_id": _ids(np.arange(1, len(cust.name) + 1)),
                "customer_name": strings(cust.name),
                "industry": _labels(INDUSTRIES, cust.industry),
                "region_id": _ids(cust.region + 1),
                "credit_rating": _labels(RATINGS, cust.rating),
                "created_date": _dates(cust.created_day),
            }
        ),
        "sales_reps": pa.table(
            {
                "rep_id": _ids(np.arange(1, len(reps.name) + 1)),
                "rep_name": strings(reps.name),
                "region_id": _ids(reps.region + 1),
            }
        ),
        "orders": pa.table(
            {
                "order_id": _ids(np.arange(1, len(orders.day) + 1)),
                "order_date": _dates(orders.day),
                "customer_id": _ids(orders.customer + 1),
                "rep_id": _ids(orders.rep + 1),
                "region_id": _ids(orders.region + 1),
                "channel": _labels(CHANNELS, orders.channel),
                "status": _labels(STATUSES, orders.status),
            }
        ),
        "order_lines": pa.table(
            {
                "order_id": _ids(lines.order + 1),
                "line_no": _ids(lines.line_no),
                "product_id": _ids(lines.product + 1),
                "quantity": _ids(lines.quantity),
                "unit_price": _decimal(lines.price_cents),
                "discount_rate": _decimal(lines.discount_bp, scale=4, precision=5),
                "amount": _decimal(lines.amount_cents),
                "cost_amount": _decimal(lines.cost_cents),
            }
        ),
        "invoices": pa.table(
            {
                "invoice_id": _ids(np.arange(1, len(inv.day) + 1)),
                "order_id": _ids(inv.order + 1),
                "customer_id": _ids(inv.customer + 1),
                "invoice_date": _dates(inv.day),
                "due_date": _dates(inv.due_day),
                "amount": _decimal(inv.amount_cents),
            }
        ),
        "receipts": pa.table(
            {
                "receipt_id": _ids(np.arange(1, len(rec.day) + 1)),
                "invoice_id": _ids(rec.invoice + 1),
                "customer_id": _ids(inv.customer[rec.invoice] + 1),
                "receipt_date": _dates(rec.day),
                "amount": _decimal(rec.amount_cents),
            }
        ),
        "expenses": pa.table(
            {
                "expense_id": _ids(np.arange(1, len(exp.day) + 1)),
                "expense_date": _dates(exp.day),
                "dept_id": _ids(exp.dept + 1),
                "category": _labels(EXPENSE_CATEGORIES, exp.category),
                "amount": _decimal(exp.amount_cents),
            }
        ),
        "revenue_budget": pa.table(
            {
                "month": _dates(month_first[rb_month]),
                "region_id": _ids(np.tile(np.repeat(np.arange(1, n_reg + 1), n_pl), N_MONTHS)),
                "product_line": _labels(PRODUCT_LINES, np.tile(np.arange(n_pl), N_MONTHS * n_reg)),
                "amount": _decimal(budget.ravel()),
            }
        ),
        "expense_budget": pa.table(
            {
                "month": _dates(month_first[eb_month]),
                "dept_id": _ids(np.tile(exp.pair_dept + 1, N_MONTHS)),
                "category": _labels(EXPENSE_CATEGORIES, np.tile(exp.pair_category, N_MONTHS)),
                "amount": _decimal(exp.budget_cents.ravel()),
            }
        ),
        "suppliers": pa.table(
            {
                "supplier_id": _ids(np.arange(1, len(sup.name) + 1)),
                "supplier_name": strings(sup.name),
                "supplier_type": _labels(SUPPLIER_TYPES, sup.type),
            }
        ),
        "purchases": pa.table(
            {
                "purchase_id": _ids(np.arange(1, len(pur.day) + 1)),
                "purchase_date": _dates(pur.day),
                "supplier_id": _ids(pur.supplier + 1),
                "product_id": _ids(pur.product + 1),
                "quantity": _ids(pur.quantity),
                "amount": _decimal(pur.amount_cents),
            }
        ),
        "inventory_monthly": pa.table(
            {
                "snapshot_date": _dates(MONTH_LAST[inv_month]),
                "product_id": _ids(inv_prod + 1),
                "warehouse": _labels(WAREHOUSES, inv_wh),
                "quantity": _ids(stock[inv_prod, inv_wh, inv_month]),
                "value": _decimal(np.zeros(len(inv_prod), dtype=np.int64)),  # set in SQL
            }
        ),
        "cash_flows": cash,
    }


def generate(path: str | Path, scale: int = 1, seed: int = 42) -> Path:
    """Write the demo DuckDB database to `path` (overwriting any existing file) and return the path.

    The database is built in a temporary file next to ``path`` and renamed at the end, so a
    half-written file never appears under the final name.
    """
    if scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    for stale in (tmp, tmp.with_name(tmp.name + ".wal")):
        stale.unlink(missing_ok=True)

    tables = _build_tables(scale, seed)
    try:
        con = duckdb.connect(str(tmp))
        try:
            for name, columns in SCHEMA.items():
                con.execute(f"CREATE TABLE {name} ({columns})")
                if name in tables:
                    con.register("_src", tables.pop(name))  # pop: free memory as we go
                    con.execute(f"INSERT INTO {name} SELECT * FROM _src")
                    con.unregister("_src")
            con.execute(INVENTORY_VALUE_SQL)
            con.execute(AR_AGING_SQL)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return path
