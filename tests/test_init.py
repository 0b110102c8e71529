"""Bring your own data: a retailer's files → `load_files` → `draft_model` → check → ask.

The dataset is one the product has never seen, written here: stores (a GBK CSV with a Chinese
header), sales transactions (a UTF-8 CSV with a BOM, `;`-separated, dates like 2025/1/5 and
amounts like 1,234.50), a workbook with products and monthly targets (two sheets), and
returns as Parquet. Every answer is compared with hand-written SQL on the loaded database.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from assistant.api import Assistant
from assistant.settings import Settings
from semantic_layer.check import check_model
from semantic_layer.draft import draft_model, english_identifier, init_project
from semantic_layer.engine import DuckDBEngine
from semantic_layer.errors import CockpitError
from semantic_layer.ingest import detect_encoding, load_files, safe_identifier, sniff_delimiter
from semantic_layer.loader import load_model, read_model

AS_OF = date(2025, 12, 31)
STORES = [
    ("S01", "徐汇旗舰店", "华东", "上海"),
    ("S02", "浦东店", "华东", "上海"),
    ("S03", "西湖店", "华东", "杭州"),
    ("S04", "天河店", "华南", "广州"),
    ("S05", "福田店", "华南", "深圳"),
    ("S06", "朝阳店", "华北", "北京"),
]
PRODUCTS = [
    ("P001", "纯棉T恤", "上衣", 79.0),
    ("P002", "衬衫", "上衣", 159.0),
    ("P003", "羊毛衫", "上衣", 399.0),
    ("P004", "牛仔裤", "裤装", 259.0),
    ("P005", "休闲裤", "裤装", 199.0),
    ("P006", "运动鞋", "鞋履", 459.0),
    ("P007", "皮鞋", "鞋履", 699.0),
    ("P008", "帆布鞋", "鞋履", 129.0),
    ("P009", "棒球帽", "配饰", 59.0),
    ("P010", "围巾", "配饰", 149.0),
    ("P011", "双肩包", "配饰", 329.0),
    ("P012", "连衣裙", "裙装", 359.0),
]
REASONS = ["质量问题", "尺码不合适", "不喜欢"]


def write_retailer(folder: Path) -> Path:
    """The retailer's files, as a shop would export them, in `folder`."""
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    # Stores: Chinese header, GBK (what Excel on a Chinese Windows saves as CSV).
    lines = ["门店编号,门店名称,区域,城市", *(",".join(s) for s in STORES)]
    (folder / "门店.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    # Sales: UTF-8 with BOM, semicolons, dates 2025/1/5, amounts with thousands separators.
    sales = []
    day = date(2024, 1, 1)
    sale_id = 1000
    while day <= AS_OF:
        for _ in range(rng.randint(0, 3)):
            store = rng.choice(STORES)[0]
            product, _name, _cat, price = rng.choice(PRODUCTS)
            quantity = rng.randint(1, 12)
            discount = rng.choice([0.0, 0.0, 0.05, 0.1])
            amount = round(quantity * price * (1 - discount), 2)
            sale_id += 1
            sales.append((sale_id, day, store, product, quantity, discount, amount))
        day += timedelta(days=1)
    rows = ["sale_id;date;store_id;product_id;quantity;discount;amount"]
    for sid, d, store, product, quantity, discount, amount in sales:
        rows.append(
            f"{sid};{d.year}/{d.month}/{d.day};{store};{product};{quantity};{discount};{amount:,.2f}"
        )
    (folder / "sales.csv").write_text("\n".join(rows) + "\n", encoding="utf-8-sig")
    # Products and monthly targets: one workbook, two sheets; months typed as text 2025-01.
    products = pd.DataFrame(
        PRODUCTS, columns=["product_id", "product_name", "category", "unit_price"]
    )
    targets = pd.DataFrame(
        [
            (f"2025-{m:02d}", s[0], 50_000 + 1_000 * i + 500 * m)
            for m in range(1, 13)
            for i, s in enumerate(STORES)
        ],
        columns=["month", "store_id", "target_amount"],
    )
    with pd.ExcelWriter(folder / "catalog.xlsx", engine="openpyxl") as book:
        products.to_excel(book, sheet_name="products", index=False)
        targets.to_excel(book, sheet_name="targets", index=False)
    # Returns: Parquet with real types.
    picked = rng.sample(sales, 60)
    returns = pd.DataFrame(
        [
            (
                f"R{i:04d}",
                sid,
                d + timedelta(days=rng.randint(1, 20)),
                min(quantity, rng.randint(1, 3)),
                round(amount / quantity * min(quantity, 2), 2),
                rng.choice(REASONS),
            )
            for i, (sid, d, _s, _p, quantity, _disc, amount) in enumerate(picked, 1)
        ],
        columns=["return_id", "sale_id", "return_date", "quantity", "amount", "reason"],
    )
    returns["return_date"] = pd.to_datetime(returns["return_date"]).dt.date
    returns.to_parquet(folder / "returns.parquet", index=False)
    return folder


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def retailer(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The retailer's files loaded and drafted once: paths, loaded tables, YAML, report."""
    root = tmp_path_factory.mktemp("retailer")
    data = write_retailer(root / "data")
    before = _digest(data)
    database = root / "out" / "data.duckdb"
    loaded = load_files([data], database)
    text, report = draft_model(database)
    model_path = root / "out" / "model.yaml"
    model_path.write_text(text, encoding="utf-8")
    return {
        "data": data,
        "before": before,
        "database": database,
        "loaded": {t.name: t for t in loaded},
        "yaml": text,
        "report": report,
        "model_path": model_path,
        "root": root,
    }


@pytest.fixture(scope="module")
def engine(retailer: dict) -> DuckDBEngine:
    """The answering engine: read-only, external access off (one per database and process)."""
    with DuckDBEngine(retailer["database"]) as engine:
        yield engine


@pytest.fixture(scope="module")
def assistant(
    retailer: dict, engine: DuckDBEngine, tmp_path_factory: pytest.TempPathFactory
) -> Assistant:
    model = load_model(retailer["model_path"])
    settings = Settings(cache_dir=tmp_path_factory.mktemp("cache"))
    return Assistant(model, engine, as_of=AS_OF, settings=settings)


def sql(engine: DuckDBEngine, query: str) -> list[tuple]:
    """A hand-written check query on the loaded data."""
    return engine.execute(query).rows


def close(rows: list[tuple], expected: list[tuple]) -> None:
    """Same rows, numbers equal to the cent (floating sums differ in the last bits)."""
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected, strict=True):
        assert len(row) == len(want)
        for value, wanted in zip(row, want, strict=True):
            if isinstance(wanted, float):
                assert value == pytest.approx(wanted, abs=0.005)
            else:
                assert value == wanted


# --- loading --------------------------------------------------------------------------------
def test_every_file_and_sheet_becomes_a_typed_table(retailer: dict, engine: DuckDBEngine) -> None:
    loaded = retailer["loaded"]
    assert set(loaded) == {"store", "sales", "products", "targets", "returns"}
    store = loaded["store"]
    # A Chinese file name and headers: identifiers from the glossary, originals as labels.
    assert store.label == "门店"
    assert [(c.name, c.label) for c in store.columns] == [
        ("store_id", "门店编号"),
        ("store_name", "门店名称"),
        ("region", "区域"),
        ("city", "城市"),
    ]
    assert loaded["products"].sheet == "products" and loaded["targets"].sheet == "targets"
    types = {t: {c.name: c.type for c in loaded[t].columns} for t in loaded}
    assert types["sales"]["date"] == "DATE"  # 2025/1/5
    assert types["sales"]["amount"] == "DOUBLE"  # 1,234.50
    assert types["sales"]["store_id"] == "VARCHAR"
    assert types["targets"]["month"] == "DATE"  # 2025-01 in an Excel text cell
    assert types["returns"]["return_date"] == "DATE"
    assert loaded["sales"].rows == sql(engine, "SELECT count(*) FROM sales")[0][0]
    # The originals survive as comments, which is where the draft reads its labels from.
    comments = sql(engine, "SELECT comment FROM duckdb_columns() WHERE table_name = 'store'")
    assert [c for (c,) in comments] == ["门店编号", "门店名称", "区域", "城市"]


def test_values_are_read_exactly(retailer: dict, engine: DuckDBEngine) -> None:
    lines = (retailer["data"] / "sales.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    total = sum(float(line.split(";")[-1].replace(",", "")) for line in lines)
    first = lines[0].split(";")
    assert sql(engine, "SELECT sum(amount) FROM sales")[0][0] == pytest.approx(total)
    assert sql(engine, f"SELECT date FROM sales WHERE sale_id = {int(first[0])}")[0][0] == (
        date(*map(int, first[1].split("/")))
    )
    assert sql(engine, "SELECT min(month), max(month) FROM targets")[0] == (
        date(2025, 1, 1),
        date(2025, 12, 1),
    )


def test_input_files_are_never_modified(retailer: dict) -> None:
    assert _digest(retailer["data"]) == retailer["before"]


# --- the draft ------------------------------------------------------------------------------
def test_draft_loads_and_checks_without_errors(retailer: dict, engine: DuckDBEngine) -> None:
    model, issues = read_model(retailer["model_path"])
    assert model is not None and issues == []
    _model, issues = check_model(retailer["model_path"], engine)
    assert [i.message("en") for i in issues if i.severity == "error"] == []


def test_draft_finds_keys_joins_metrics_and_dimensions(
    retailer: dict, engine: DuckDBEngine
) -> None:
    model = load_model(retailer["model_path"])
    keys = {t.name: t.primary_key for t in model.tables}
    assert keys["sales"] == ["sale_id"] and keys["store"] == ["store_id"]
    assert keys["products"] == ["product_id"] and keys["targets"] == ["month", "store_id"]
    joins = {(j.from_table, j.to, tuple(j.on)) for j in model.joins}
    assert joins == {
        ("sales", "store", (("store_id", "store_id"),)),
        ("sales", "products", (("product_id", "product_id"),)),
        ("returns", "sales", (("sale_id", "sale_id"),)),
        ("targets", "store", (("store_id", "store_id"),)),
    }
    metrics = {m.name: m for m in model.metrics}
    amount = metrics["sales_amount"]
    assert (amount.agg, amount.expr, amount.time, amount.unit) == ("sum", "amount", "date", "yuan")
    assert (amount.label.zh, amount.label.en) == ("销售额", "Sales amount")
    # Two amounts: each named after its table, and 金额 alone means neither.
    assert metrics["returns_amount"].label.zh == "退货金额"
    assert "金额" not in amount.synonyms + metrics["returns_amount"].synonyms
    assert metrics["returns_amount"].higher_is_better is False
    assert metrics["sales_quantity"].label.zh == "销量"
    discount = metrics["avg_discount"]
    assert (discount.agg, discount.unit) == ("avg", "percent")
    assert metrics["sales_count"].agg == "count"
    # Ids and keys are not metrics; a dimension table's price is an attribute.
    assert not {"sale_id", "unit_price", "avg_unit_price", "returns_sale_id"} & set(metrics)
    dims = {d.name: d for d in model.dimensions}
    assert dims["metric_time"].metric_time
    assert (dims["store"].table, dims["store"].expr, dims["store"].label.zh) == (
        "store",
        "store_name",
        "门店",
    )
    assert dims["store"].parent == "city" and dims["city"].parent == "region"
    assert dims["product"].parent == "category"
    assert dims["sales_date"].type == "time" and dims["sales_date"].label.zh == "销售日期"
    assert dims["reason"].table == "returns"
    # History (it ended over a month before today): as-of is the last date of any fact, so
    # "all time" leaves no sale, return or target out.
    last = "SELECT max(d) FROM (SELECT max(date) d FROM sales UNION ALL SELECT max(return_date) "
    last += "FROM returns UNION ALL SELECT max(month) FROM targets)"
    assert model.as_of == sql(engine, last)[0][0]


def test_draft_counts_what_the_tables_hold(retailer: dict, engine: DuckDBEngine) -> None:
    """A count per table of events, in each language's words; stores and products (no dates)
    counted as those the sales name — every one of them, so "门店数量" is a name of it."""
    model = load_model(retailer["model_path"])
    metrics = {m.name: m for m in model.metrics}
    # Sales have a quantity, so 销售数量 is how much was sold: the rows are 笔数.
    sales = metrics["sales_count"]
    assert (sales.label.zh, sales.label.en, sales.agg) == ("销售笔数", "Number of sales", "count")
    assert "how many sales" in sales.synonyms and "销售数量" not in sales.synonyms
    assert "total sales" not in sales.synonyms  # an amount, not a count
    stores = metrics["stores_with_sales"]
    assert (stores.label.zh, stores.label.en) == ("有销售的门店数", "Stores with sales")
    assert (stores.table, stores.agg, stores.expr) == ("sales", "count_distinct", "store_id")
    assert {"门店数量", "多少个门店", "number of stores"} <= set(stores.synonyms)
    assert metrics["products_with_sales"].label.en == "Products with sales"
    # No id, key or code is a metric.
    for metric in model.metrics:
        counted = metric.agg in ("count", "count_distinct")
        assert counted or not metric.expr.endswith("_id"), metric.name


def test_report_says_what_became_what_and_why(retailer: dict) -> None:
    report = retailer["report"]
    assert {"sales_amount", "avg_discount", "returns_amount"} <= set(report.metrics)
    assert {"store", "city", "region", "metric_time"} <= set(report.dimensions)
    assert "sales.store_id → store.store_id" in report.joins
    skipped = {d.name: d for d in report.skipped}
    assert "products.unit_price" in skipped and "sales.store_id" in skipped
    zh, en = report.render("zh"), report.render("en")
    assert "销售额" in zh and "未采用" in zh and "products.unit_price" in zh
    assert "Sales amount" in en and "Not used" in en


# --- asking ---------------------------------------------------------------------------------
THIS_YEAR = "date >= DATE '2025-01-01' AND date < DATE '2026-01-01'"
# A drafted model declares no default period: a question without one covers all the data.
ALL_TIME = "date < DATE '2026-01-01'"


def test_sales_by_store(engine: DuckDBEngine, assistant: Assistant) -> None:
    expected = sql(
        engine,
        f"SELECT st.store_name, sum(s.amount) FROM sales s JOIN store st USING (store_id) "
        f"WHERE {ALL_TIME} GROUP BY 1 ORDER BY 2 DESC",
    )
    for question in ("各门店的销售额", "sales amount by store"):
        answer = assistant.ask(question)
        assert answer.status == "ok", answer.message
        assert answer.names == ["store", "sales_amount"]
        close(sorted(answer.rows, key=lambda r: -r[1]), expected)


def test_units_by_month(engine: DuckDBEngine, assistant: Assistant) -> None:
    answer = assistant.ask("2025年每月的销量")
    assert answer.status == "ok", answer.message
    expected = sql(
        engine,
        f"SELECT date_trunc('month', date)::DATE, sum(quantity) FROM sales "
        f"WHERE {THIS_YEAR} GROUP BY 1 ORDER BY 1",
    )
    assert len(expected) == 12
    assert sorted(answer.rows) == expected


def test_filter_on_a_city(engine: DuckDBEngine, assistant: Assistant) -> None:
    answer = assistant.ask("上海的销售额")
    assert answer.status == "ok", answer.message
    assert [f.values for f in answer.query.filters] == [["上海"]]
    expected = sql(
        engine,
        f"SELECT sum(s.amount) FROM sales s JOIN store st USING (store_id) "
        f"WHERE st.city = '上海' AND {ALL_TIME}",
    )
    close(answer.rows, expected)


def test_top_products(engine: DuckDBEngine, assistant: Assistant) -> None:
    answer = assistant.ask("销售额最高的3个产品")
    assert answer.status == "ok", answer.message
    expected = sql(
        engine,
        f"SELECT p.product_name, sum(s.amount) FROM sales s JOIN products p USING (product_id) "
        f"WHERE {ALL_TIME} GROUP BY 1 ORDER BY 2 DESC LIMIT 3",
    )
    close(answer.rows, expected)


def test_returns_reach_regions_through_sales(engine: DuckDBEngine, assistant: Assistant) -> None:
    answer = assistant.ask("2025年各区域的退货金额")
    assert answer.status == "ok", answer.message
    expected = sql(
        engine,
        "SELECT st.region, sum(r.amount) FROM returns r JOIN sales s USING (sale_id) "
        "JOIN store st USING (store_id) WHERE r.return_date >= DATE '2025-01-01' "
        "AND r.return_date < DATE '2026-01-01' GROUP BY 1 ORDER BY 2 DESC",
    )
    close(sorted(answer.rows, key=lambda r: -r[1]), expected)


def test_how_many_stores(engine: DuckDBEngine, assistant: Assistant) -> None:
    expected = sql(engine, "SELECT count(*) FROM store")
    for question in ("门店数量", "有多少个门店", "how many stores"):
        answer = assistant.ask(question)
        assert answer.status == "ok", answer.message
        assert answer.names == ["stores_with_sales"] and answer.rows == expected


def test_sales_against_targets_by_store(engine: DuckDBEngine, assistant: Assistant) -> None:
    answer = assistant.ask("2025年各门店的销售额和目标金额")
    assert answer.status == "ok", answer.message
    assert answer.names == ["store", "sales_amount", "target_amount"]
    targets = dict(
        sql(
            engine,
            "SELECT st.store_name, sum(t.target_amount) FROM targets t "
            "JOIN store st USING (store_id) GROUP BY 1",
        )
    )
    assert {row[0]: row[2] for row in answer.rows} == targets


# --- loading, piece by piece ----------------------------------------------------------------
def test_encodings_and_delimiters(tmp_path: Path) -> None:
    text = "城市,金额\n上海,1\n"
    for encoding, expected in [
        ("gbk", "gb18030"),
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16"),
    ]:
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(text.encode(encoding))
        assert detect_encoding(path) == expected
    assert sniff_delimiter("a;b;c\n1;2,5;3\n") == ";"
    assert sniff_delimiter("a\tb\n1\t2\n") == "\t"
    assert sniff_delimiter("a|b\n1|2\n") == "|"
    assert sniff_delimiter('a,b\n"1,5",2\n') == ","


def test_names_become_safe_identifiers() -> None:
    assert safe_identifier("Unit Price") == "unit_price"
    assert safe_identifier("unitPrice") == "unit_price"
    assert safe_identifier("2025 sales") == "t_2025_sales"
    assert safe_identifier("select") == "select_"  # would not read as a column
    assert safe_identifier("门店编号") == "store_id"
    assert safe_identifier("金额(元)") == "amount"
    assert safe_identifier("SKU编号") == "sku_id"
    assert safe_identifier("销售明细表") == "sales_line"
    assert safe_identifier("卡路里") is None  # unknown Chinese: the caller's fallback
    assert english_identifier("销售额") == "sales_amount"


def test_text_columns_are_typed(tmp_path: Path) -> None:
    header = "pct,money,code,cn_date,order_date,card,stamp,midnight,whole,word,blank"
    rows = [
        '12.5%,"¥1,234.50",007,2025年1月5日,20250105,12345678901234567890,'
        '2025-01-05 10:30:00,2025-01-05 00:00:00,"1,200",abc,',
        "7%,¥88,012,2025年12月31日,20251231,12345678901234567891,"
        "2025-02-01 08:00:00,2025-02-01 00:00:00,35,def,",
        "-,N/A,,#N/A,,,,,-,-,",  # how exports write "missing"
    ]
    (tmp_path / "mixed.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    database = tmp_path / "db.duckdb"
    (table,) = load_files([tmp_path / "mixed.csv"], database)
    types = {c.name: c.type for c in table.columns}
    assert types == {
        "pct": "DOUBLE",
        "money": "DOUBLE",
        "code": "VARCHAR",
        "cn_date": "DATE",
        "order_date": "DATE",
        "card": "VARCHAR",
        "stamp": "TIMESTAMP",
        "midnight": "DATE",
        "whole": "BIGINT",
        "word": "VARCHAR",
        "blank": "VARCHAR",
    }
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute("SELECT pct, money, code, cn_date, whole, word FROM mixed").fetchall()
    assert rows[0] == (pytest.approx(0.125), 1234.5, "007", date(2025, 1, 5), 1200, "abc")
    assert rows[2] == (None, None, None, None, None, "-")  # text keeps what was written


def test_a_duckdb_file_is_copied_and_left_alone(tmp_path: Path) -> None:
    source = tmp_path / "erp.duckdb"
    with duckdb.connect(str(source)) as con:
        con.execute("CREATE TABLE customers AS SELECT 1 AS customer_id, '北辰' AS name")
        con.execute("CREATE SCHEMA fin")
        con.execute("CREATE TABLE fin.invoices AS SELECT 7 AS invoice_id, 1 AS customer_id")
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    loaded = load_files([source], tmp_path / "out.duckdb")
    assert [t.name for t in loaded] == ["fin_invoices", "customers"]
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before
    with duckdb.connect(str(tmp_path / "out.duckdb"), read_only=True) as con:
        assert con.execute("SELECT * FROM customers").fetchall() == [(1, "北辰")]


def test_bad_input_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    database = tmp_path / "db.duckdb"
    with pytest.raises(CockpitError) as missing:
        load_files([tmp_path / "nope.csv"], database)
    assert missing.value.code == "data_file_missing" and "nope.csv" in missing.value.message("en")
    assert "找不到数据文件" in missing.value.message("zh")
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(CockpitError, match="Unsupported file type"):
        load_files([tmp_path / "notes.txt"], database)
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(CockpitError, match=r"save it as \.xlsx"):
        load_files([tmp_path / "old.xls"], database)
    (tmp_path / "good.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(CockpitError, match="broken.xlsx cannot be read"):
        load_files([tmp_path / "good.csv", tmp_path / "broken.xlsx"], database)
    assert not database.exists()  # created by the failed call, so removed again
    (tmp_path / "first.csv").write_text("x\n1\n", encoding="utf-8")
    load_files([tmp_path / "first.csv"], database)
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 garbage")
    with pytest.raises(CockpitError, match="broken.parquet cannot be read"):
        load_files([tmp_path / "good.csv", tmp_path / "broken.parquet"], database)
    # One transaction: good.csv, read before the broken file, was not kept either.
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("SELECT table_name FROM duckdb_tables()").fetchall() == [("first",)]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CockpitError, match="no CSV, Excel, Parquet or DuckDB"):
        load_files([empty], database)


# --- drafting, piece by piece ---------------------------------------------------------------
def _draft(tmp_path: Path, files: dict[str, str]) -> tuple[str, object, Path]:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    database = tmp_path / "db.duckdb"
    load_files([tmp_path / name for name in files], database)
    text, report = draft_model(database)
    path = tmp_path / "model.yaml"
    path.write_text(text, encoding="utf-8")
    return text, report, path


def test_chinese_names_without_glossary_words_keep_their_labels(tmp_path: Path) -> None:
    _text, report, path = _draft(
        tmp_path,
        {
            "健身记录.csv": "日期,卡路里,心情\n2025-01-01,300,好\n2025-01-02,250,一般\n2025-01-03,420,好\n"
        },
    )
    model = load_model(path)
    (table,) = model.tables
    assert (table.name, table.label.zh) == ("table_1", "健身记录")
    (metric,) = model.metrics  # no key: no row count
    assert (metric.expr, metric.label.zh, metric.time) == ("col_2", "卡路里", "date")
    assert model.dimension("col_3").label.zh == "心情"
    assert "table_1" in {d.name for d in report.of("note")}
    with DuckDBEngine(tmp_path / "db.duckdb") as engine:
        _model, issues = check_model(path, engine)
    assert [i for i in issues if i.severity == "error"] == []


def test_a_table_without_dates_gets_no_metrics_and_says_why(tmp_path: Path) -> None:
    text, report, path = _draft(tmp_path, {"prices.csv": "sku,price\nA1,10\nB2,12\n"})
    model, issues = read_model(path)
    assert model is not None and not [i for i in issues if i.severity == "error"]
    assert model.metrics == []
    assert any("date" in d.en for d in report.skipped)
    assert "metrics: []" in text


def test_integer_keys_join_only_when_the_name_says_so(tmp_path: Path) -> None:
    _text, report, path = _draft(
        tmp_path,
        {
            "items.csv": "id,item_name\n" + "".join(f"{i},item{i}\n" for i in range(1, 21)),
            "orders.csv": "order_id,order_date,item_id,quantity,note\n"
            + "".join(
                f"{i},2025-01-{i:02d},{i % 20 + 1},{i % 5 + 1},call before delivery {i}\n"
                for i in range(1, 29)
            ),
        },
    )
    model = load_model(path)
    # item_id → items.id (the name says so); quantity 1..5 is "in" 1..20 but is no key.
    assert [(j.from_table, j.to, tuple(j.on)) for j in model.joins] == [
        ("orders", "items", (("item_id", "id"),))
    ]
    assert {"orders_quantity", "orders_count"} <= set(model.metric_map)
    assert "note" not in model.dimension_map  # free text
    assert any(d.name == "orders.note" for d in report.skipped)
    assert model.dimension("item").expr == "item_name"


def test_a_dated_table_others_refer_to_keeps_its_amounts(tmp_path: Path) -> None:
    _text, _report, path = _draft(
        tmp_path,
        {
            "orders.csv": "order_no,order_date,channel,amount\n"
            + "".join(
                f"A{i:03d},2025-02-{i:02d},{'线上' if i % 2 else '门店'},{i * 10}\n"
                for i in range(1, 21)
            ),
            "payments.csv": "payment_id,order_no,paid_date,paid_amount\n"
            + "".join(f"{i},A{i:03d},2025-03-{i:02d},{i * 10}\n" for i in range(1, 16)),
        },
    )
    model = load_model(path)
    assert [(j.from_table, j.to) for j in model.joins] == [("payments", "orders")]
    assert {"orders_amount", "paid_amount", "orders_count", "payments_count"} <= set(
        model.metric_map
    )
    assert model.dimension("channel").table == "orders"


def test_draft_of_chosen_tables_and_unknown_table(retailer: dict) -> None:
    text, report = draft_model(retailer["database"], tables=["sales", "store"], name="shop")
    assert "name: shop" in text and "returns" not in report.metrics
    with pytest.raises(CockpitError) as err:
        draft_model(retailer["database"], tables=["salse"])
    assert err.value.code == "unknown_table" and "sales" in err.value.suggestions


def test_init_project_writes_the_database_and_the_model(retailer: dict, tmp_path: Path) -> None:
    result = init_project([retailer["data"]], tmp_path / "mine", name="shop")
    assert result.ok, [i.message("en") for i in result.issues]
    assert result.database == tmp_path / "mine" / "data.duckdb" and result.database.is_file()
    assert load_model(result.model).name == "shop"
    assert {t.name for t in result.tables} == set(retailer["loaded"])
    assert "sales_amount" in result.report.metrics
    with pytest.raises(CockpitError, match="already exists"):
        init_project([retailer["data"]], tmp_path / "mine")
    again = init_project([retailer["data"] / "sales.csv"], tmp_path / "mine", overwrite=True)
    assert [t.name for t in again.tables] == ["sales"] and again.ok


def test_the_demo_database_drafts_like_its_hand_written_model(
    demo_db: Path, tmp_path: Path
) -> None:
    """An existing DuckDB file, drafted as is: the joins a person wrote are found again."""
    text, _report = draft_model(demo_db, name="demo")
    path = tmp_path / "model.yaml"
    path.write_text(text, encoding="utf-8")
    with DuckDBEngine(demo_db) as engine:
        model, issues = check_model(path, engine)
    assert model is not None and [i.message("en") for i in issues] == []
    written = load_model()  # the demo's own model
    found = {(j.from_table, j.to, tuple(j.on)) for j in model.joins}
    assert {(j.from_table, j.to, tuple(j.on)) for j in written.joins} <= found
    assert model.table_map["order_lines"].primary_key == ["order_id", "line_no"]
    assert model.metric("balance").semi_additive  # AR aging is a month-end snapshot
    assert model.dimension("region").value_label_en == "region_name_en"


def test_cli_init_then_check_then_ask(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app

    data = tmp_path / "shop"
    data.mkdir()
    (data / "stores.csv").write_text(
        "store_id,store_name,city\n1,人民广场店,上海\n2,天河店,广州\n", encoding="utf-8"
    )
    (data / "sales.csv").write_text(
        "sale_id,sale_date,store_id,amount\n1,2025-01-05,1,100.5\n2,2025-02-03,1,50\n"
        "3,2025-02-07,2,80\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    out = tmp_path / "project"
    made = runner.invoke(app, ["init", str(data), "--out", str(out), "--lang", "en"])
    assert made.exit_code == 0, made.output
    database, model = out / "data.duckdb", out / "model.yaml"
    # A cockpit.toml beside them, so that `cockpit ask` in that folder needs no options.
    assert 'model = "model.yaml"' in (out / "cockpit.toml").read_text(encoding="utf-8")
    assert f"cd {out} && cockpit ask" in made.output
    checked = runner.invoke(app, ["check", str(model), "--db", str(database)])
    assert checked.exit_code == 0, checked.output
    asked = runner.invoke(
        app,
        ["ask", "amount by store in 2025", "--db", str(database), "--model", str(model), "--json"],
    )
    assert asked.exit_code == 0, asked.output
    rows = {row[0]: row[1] for row in json.loads(asked.output)["rows"]}
    assert rows == {"人民广场店": 150.5, "天河店": 80.0}
    again = runner.invoke(app, ["init", str(data), "--out", str(out)])
    assert again.exit_code == 1  # an existing (maybe hand-edited) model is not overwritten
