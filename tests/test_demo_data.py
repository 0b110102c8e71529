"""Invariants of the generated demo warehouse (contract: shared/DEMO_DATA.md).

Every test runs SQL against the scale-1 database built once by the ``demo_db`` fixture and
asserts on values, so a generator change that breaks consistency or a planted event fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from semantic_layer.demo.generate import generate

AS_OF = "2025-12-31"

CONTRACT_COLUMNS: dict[str, list[str]] = {
    "regions": ["region_id", "region_name", "region_name_en"],
    "departments": ["dept_id", "dept_name", "dept_name_en"],
    "products": ["product_id", "product_name", "product_line", "unit_cost", "list_price"],
    "customers": [
        "customer_id", "customer_name", "industry", "region_id", "credit_rating", "created_date",
    ],
    "sales_reps": ["rep_id", "rep_name", "region_id"],
    "orders": ["order_id", "order_date", "customer_id", "rep_id", "region_id", "channel", "status"],
    "order_lines": [
        "order_id", "line_no", "product_id", "quantity", "unit_price", "discount_rate", "amount",
        "cost_amount",
    ],
    "invoices": ["invoice_id", "order_id", "customer_id", "invoice_date", "due_date", "amount"],
    "receipts": ["receipt_id", "invoice_id", "customer_id", "receipt_date", "amount"],
    "ar_aging_monthly": [
        "snapshot_date", "customer_id", "balance", "current_amount", "overdue_1_30",
        "overdue_31_60", "overdue_61_90", "overdue_over_90",
    ],
    "expenses": ["expense_id", "expense_date", "dept_id", "category", "amount"],
    "revenue_budget": ["month", "region_id", "product_line", "amount"],
    "expense_budget": ["month", "dept_id", "category", "amount"],
    "suppliers": ["supplier_id", "supplier_name", "supplier_type"],
    "purchases": [
        "purchase_id", "purchase_date", "supplier_id", "product_id", "quantity", "amount",
    ],
    "inventory_monthly": ["snapshot_date", "product_id", "warehouse", "quantity", "value"],
    "cash_flows": ["txn_id", "txn_date", "direction", "activity", "category", "amount"],
}  # fmt: skip

PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "regions": ("region_id",),
    "departments": ("dept_id",),
    "products": ("product_id",),
    "customers": ("customer_id",),
    "sales_reps": ("rep_id",),
    "orders": ("order_id",),
    "order_lines": ("order_id", "line_no"),
    "invoices": ("invoice_id",),
    "receipts": ("receipt_id",),
    "ar_aging_monthly": ("snapshot_date", "customer_id"),
    "expenses": ("expense_id",),
    "revenue_budget": ("month", "region_id", "product_line"),
    "expense_budget": ("month", "dept_id", "category"),
    "suppliers": ("supplier_id",),
    "purchases": ("purchase_id",),
    "inventory_monthly": ("snapshot_date", "product_id", "warehouse"),
    "cash_flows": ("txn_id",),
}

FOREIGN_KEYS: list[tuple[str, str, str, str]] = [
    ("customers", "region_id", "regions", "region_id"),
    ("sales_reps", "region_id", "regions", "region_id"),
    ("orders", "customer_id", "customers", "customer_id"),
    ("orders", "rep_id", "sales_reps", "rep_id"),
    ("orders", "region_id", "regions", "region_id"),
    ("order_lines", "order_id", "orders", "order_id"),
    ("order_lines", "product_id", "products", "product_id"),
    ("invoices", "order_id", "orders", "order_id"),
    ("invoices", "customer_id", "customers", "customer_id"),
    ("receipts", "invoice_id", "invoices", "invoice_id"),
    ("receipts", "customer_id", "customers", "customer_id"),
    ("ar_aging_monthly", "customer_id", "customers", "customer_id"),
    ("expenses", "dept_id", "departments", "dept_id"),
    ("revenue_budget", "region_id", "regions", "region_id"),
    ("expense_budget", "dept_id", "departments", "dept_id"),
    ("purchases", "supplier_id", "suppliers", "supplier_id"),
    ("purchases", "product_id", "products", "product_id"),
    ("inventory_monthly", "product_id", "products", "product_id"),
]

# Completed revenue and gross margin by month; reused by several event tests.
MONTHLY_GM_SQL = """
WITH lines AS (
    SELECT strftime(o.order_date, '%Y-%m') AS month, l.amount, l.cost_amount,
           r.region_name = '华南' AND o.channel = '电商' AND p.product_line = '智能终端'
               AS in_slice
    FROM orders AS o
    JOIN regions AS r ON r.region_id = o.region_id
    JOIN order_lines AS l ON l.order_id = o.order_id
    JOIN products AS p ON p.product_id = l.product_id
    WHERE o.status = '已完成'
)
SELECT month,
       SUM(amount) AS revenue,
       SUM(amount - cost_amount) / SUM(amount) AS gm,
       SUM(amount - cost_amount) FILTER (WHERE NOT in_slice)
           / SUM(amount) FILTER (WHERE NOT in_slice) AS gm_without_slice
FROM lines
GROUP BY 1
"""

SLICE_LINES_SQL = """
SELECT strftime(o.order_date, '%Y-%m') AS month, COUNT(*) AS n_lines,
       COUNT(DISTINCT o.order_id) AS n_orders
FROM orders AS o
JOIN regions AS r ON r.region_id = o.region_id
JOIN order_lines AS l ON l.order_id = o.order_id
JOIN products AS p ON p.product_id = l.product_id
WHERE r.region_name = '华南' AND o.channel = '电商' AND p.product_line = '智能终端'
GROUP BY 1
"""


@pytest.fixture(scope="module")
def con(demo_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only view of the demo database.

    ATTACH from a private in-memory instance rather than ``duckdb.connect(path)``: DuckDB
    refuses a second connection to a file that is already open in this process with another
    configuration (other test modules keep engines open on the same file).
    """
    connection = duckdb.connect()
    connection.execute(f"ATTACH '{demo_db}' AS demo (READ_ONLY)")
    connection.execute("USE demo")
    yield connection
    connection.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return con.execute(sql).fetchall()[0][0]


# --------------------------------------------------------------------------------------------
# Shape: tables, columns, types, sizes, keys
# --------------------------------------------------------------------------------------------


def test_tables_and_columns_match_contract(con: duckdb.DuckDBPyConnection) -> None:
    tables = {
        r[0]
        for r in rows(
            con, "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'demo'"
        )
    }
    assert tables == set(CONTRACT_COLUMNS)
    for table, columns in CONTRACT_COLUMNS.items():
        actual = [
            r[0]
            for r in rows(
                con,
                "SELECT column_name FROM information_schema.columns WHERE table_catalog = "
                f"'demo' AND table_name = '{table}' ORDER BY ordinal_position",
            )
        ]
        assert actual == columns, table


def test_column_types(con: duckdb.DuckDBPyConnection) -> None:
    types = {
        (t, c): d
        for t, c, d in rows(
            con,
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = 'demo'",
        )
    }
    for (table, column), dtype in types.items():
        if column.endswith("_id") or column in {"quantity", "line_no"}:
            assert dtype == "INTEGER", (table, column, dtype)
        elif column.endswith("_date") or column in {"month"}:
            assert dtype == "DATE", (table, column, dtype)
        elif column in {
            "amount", "cost_amount", "unit_price", "unit_cost", "list_price", "value", "balance",
            "current_amount", "overdue_1_30", "overdue_31_60", "overdue_61_90", "overdue_over_90",
        }:  # fmt: skip
            assert dtype == "DECIMAL(18,2)", (table, column, dtype)
    assert types[("order_lines", "discount_rate")] == "DECIMAL(5,4)"


def test_row_counts(con: duckdb.DuckDBPyConnection) -> None:
    count = {t: scalar(con, f"SELECT COUNT(*) FROM {t}") for t in CONTRACT_COLUMNS}
    assert count["regions"] == 7
    assert count["departments"] == 8
    assert count["products"] == 48
    assert count["customers"] == 800
    assert count["sales_reps"] == 40
    assert 110_000 <= count["orders"] <= 130_000
    assert 270_000 <= count["order_lines"] <= 330_000
    assert 2.3 <= count["order_lines"] / count["orders"] <= 2.8
    assert 0.88 <= count["invoices"] / count["orders"] <= 0.92
    assert count["invoices"] < count["receipts"] < 1.3 * count["invoices"]
    assert 10_000 <= count["ar_aging_monthly"] <= 36 * 800
    assert count["expenses"] >= 3_000
    assert count["revenue_budget"] == 36 * 7 * 4
    assert count["suppliers"] >= 20
    assert count["purchases"] >= 1_000
    assert count["inventory_monthly"] == 36 * 36 * 4  # physical products x warehouses x months
    assert count["cash_flows"] > count["receipts"]


def test_primary_keys_unique(con: duckdb.DuckDBPyConnection) -> None:
    for table, key in PRIMARY_KEYS.items():
        cols = ", ".join(key)
        dupes = scalar(
            con,
            f"SELECT COUNT(*) FROM (SELECT {cols} FROM {table} GROUP BY ALL HAVING COUNT(*) > 1)",
        )
        nulls = scalar(
            con, f"SELECT COUNT(*) FROM {table} WHERE " + " OR ".join(f"{c} IS NULL" for c in key)
        )
        assert (dupes, nulls) == (0, 0), table
    # Surrogate ids are dense 1..n.
    for table, (key,) in [(t, k) for t, k in PRIMARY_KEYS.items() if len(k) == 1]:
        assert rows(con, f"SELECT MIN({key}), MAX({key}) = COUNT(*) FROM {table}")[0] == (1, True)


def test_names_unique_and_realistic(con: duckdb.DuckDBPyConnection) -> None:
    for table, column in [
        ("customers", "customer_name"),
        ("products", "product_name"),
        ("suppliers", "supplier_name"),
        ("sales_reps", "rep_name"),
    ]:
        n, distinct = rows(con, f"SELECT COUNT(*), COUNT(DISTINCT {column}) FROM {table}")[0]
        assert n == distinct, table
    companies = scalar(
        con,
        "SELECT AVG(CASE WHEN regexp_matches(customer_name, '(公司|局|委员会|中心|医院|学院|学校|"
        "中学|大学)$') THEN 1 ELSE 0 END) FROM customers WHERE customer_name <> '北辰重工'",
    )
    assert companies == 1
    assert scalar(con, "SELECT MIN(length(customer_name)) FROM customers") >= 4
    assert (
        scalar(con, "SELECT COUNT(*) FROM suppliers WHERE NOT suffix(supplier_name, '有限公司')")
        == 0
    )


def test_dimension_values(con: duckdb.DuckDBPyConnection) -> None:
    assert rows(con, "SELECT region_name, region_name_en FROM regions ORDER BY region_id") == [
        ("华东", "East"), ("华南", "South"), ("华北", "North"), ("华中", "Central"),
        ("西南", "Southwest"), ("西北", "Northwest"), ("东北", "Northeast"),
    ]  # fmt: skip
    assert rows(con, "SELECT dept_name, dept_name_en FROM departments ORDER BY dept_id") == [
        ("销售部", "Sales"), ("市场部", "Marketing"), ("研发部", "R&D"), ("生产部", "Production"),
        ("采购部", "Procurement"), ("财务部", "Finance"), ("人力资源部", "HR"),
        ("行政部", "Administration"),
    ]  # fmt: skip

    def values(sql: str) -> set[Any]:
        return {r[0] for r in rows(con, sql)}

    assert values("SELECT DISTINCT product_line FROM products") == {
        "智能终端", "工业传感器", "软件服务", "配件耗材"
    }  # fmt: skip
    assert values("SELECT DISTINCT industry FROM customers") == {
        "制造业", "零售", "金融", "政府", "教育", "医疗", "能源"
    }  # fmt: skip
    assert values("SELECT DISTINCT credit_rating FROM customers") == {"A", "B", "C", "D"}
    assert values("SELECT DISTINCT channel FROM orders") == {"直销", "经销", "电商"}
    assert values("SELECT DISTINCT status FROM orders") == {"已完成", "已取消", "已退货"}
    assert values("SELECT DISTINCT category FROM expenses") == {
        "工资薪酬", "差旅费", "市场推广", "研发投入", "办公费", "租赁费", "折旧摊销"
    }  # fmt: skip
    assert values("SELECT DISTINCT warehouse FROM inventory_monthly") == {
        "上海仓", "广州仓", "北京仓", "成都仓"
    }  # fmt: skip
    assert values("SELECT DISTINCT supplier_type FROM suppliers") == {
        "原材料", "电子元器件", "外包服务", "物流"
    }  # fmt: skip
    assert values("SELECT DISTINCT direction FROM cash_flows") == {"流入", "流出"}
    assert values("SELECT DISTINCT activity FROM cash_flows") == {
        "经营活动",
        "投资活动",
        "筹资活动",
    }
    assert (
        rows(con, "SELECT product_line, COUNT(*) FROM products GROUP BY 1 HAVING COUNT(*) <> 12")
        == []
    )


def test_products_prices(con: duckdb.DuckDBPyConnection) -> None:
    assert scalar(con, "SELECT COUNT(*) FROM products WHERE NOT list_price > unit_cost") == 0
    by_line = {
        line: (float(margin), float(price))
        for line, margin, price in rows(
            con,
            "SELECT product_line, AVG(1 - unit_cost / list_price), MEDIAN(list_price) "
            "FROM products GROUP BY 1",
        )
    }
    assert max(by_line, key=lambda k: by_line[k][0]) == "软件服务"
    assert min(by_line, key=lambda k: by_line[k][1]) == "配件耗材"


def test_dates_inside_period(con: duckdb.DuckDBPyConnection) -> None:
    for table, column in [
        ("orders", "order_date"), ("invoices", "invoice_date"), ("receipts", "receipt_date"),
        ("expenses", "expense_date"), ("purchases", "purchase_date"), ("cash_flows", "txn_date"),
        ("ar_aging_monthly", "snapshot_date"), ("inventory_monthly", "snapshot_date"),
        ("revenue_budget", "month"), ("expense_budget", "month"),
    ]:  # fmt: skip
        lo, hi = rows(con, f"SELECT MIN({column}), MAX({column}) FROM {table}")[0]
        assert str(lo) >= "2023-01-01" and str(hi) <= AS_OF, (table, column, lo, hi)
    assert str(scalar(con, "SELECT MAX(created_date) FROM customers")) <= AS_OF
    assert scalar(con, "SELECT COUNT(*) FROM orders WHERE order_date >= DATE '2025-12-01'") > 0
    month_ends = rows(con, "SELECT DISTINCT snapshot_date FROM ar_aging_monthly ORDER BY 1")
    assert len(month_ends) == 36
    assert (
        scalar(
            con,
            "SELECT COUNT(*) FROM ar_aging_monthly WHERE snapshot_date <> last_day(snapshot_date)",
        )
        == 0
    )
    assert scalar(con, "SELECT COUNT(*) FROM revenue_budget WHERE day(month) <> 1") == 0


# --------------------------------------------------------------------------------------------
# Referential integrity and master-data consistency
# --------------------------------------------------------------------------------------------


def test_referential_integrity(con: duckdb.DuckDBPyConnection) -> None:
    for child, col, parent, pcol in FOREIGN_KEYS:
        orphans = scalar(
            con,
            f"SELECT COUNT(*) FROM {child} AS c WHERE c.{col} IS NULL OR NOT EXISTS "
            f"(SELECT 1 FROM {parent} AS p WHERE p.{pcol} = c.{col})",
        )
        assert orphans == 0, (child, col)
    for table, column in [("revenue_budget", "product_line")]:
        assert (
            scalar(
                con,
                f"SELECT COUNT(*) FROM {table} WHERE {column} NOT IN "
                "(SELECT product_line FROM products)",
            )
            == 0
        )


def test_order_region_and_rep_follow_customer(con: duckdb.DuckDBPyConnection) -> None:
    assert (
        scalar(
            con,
            "SELECT COUNT(*) FROM orders o JOIN customers c USING (customer_id) "
            "WHERE o.region_id <> c.region_id",
        )
        == 0
    )
    assert (
        scalar(
            con,
            "SELECT COUNT(*) FROM orders o JOIN sales_reps r USING (rep_id) "
            "WHERE o.region_id <> r.region_id",
        )
        == 0
    )
    assert scalar(con, "SELECT COUNT(DISTINCT region_id) FROM sales_reps") == 7
    assert (
        scalar(
            con,
            "SELECT COUNT(*) FROM orders o JOIN customers c USING (customer_id) "
            "WHERE o.order_date < c.created_date",
        )
        == 0
    )


def test_status_and_channel_mix(con: duckdb.DuckDBPyConnection) -> None:
    status = dict(
        rows(con, "SELECT status, COUNT(*) / SUM(COUNT(*)) OVER () FROM orders GROUP BY 1")
    )
    assert abs(status["已完成"] - 0.90) < 0.015
    assert abs(status["已取消"] - 0.06) < 0.01
    assert abs(status["已退货"] - 0.04) < 0.01
    channel = dict(
        rows(con, "SELECT channel, COUNT(*) / SUM(COUNT(*)) OVER () FROM orders GROUP BY 1")
    )
    assert abs(channel["直销"] - 0.45) < 0.04
    assert abs(channel["经销"] - 0.35) < 0.04
    assert abs(channel["电商"] - 0.20) < 0.04
    lo, hi = rows(
        con, "SELECT MIN(n), MAX(n) FROM (SELECT COUNT(*) n FROM order_lines GROUP BY order_id)"
    )[0]
    assert (lo, hi) == (1, 5)
    assert (
        scalar(
            con,
            "SELECT COUNT(*) FROM (SELECT order_id FROM order_lines GROUP BY 1 "
            "HAVING MAX(line_no) <> COUNT(*) OR MIN(line_no) <> 1)",
        )
        == 0
    )


# --------------------------------------------------------------------------------------------
# Order lines, invoices, receipts
# --------------------------------------------------------------------------------------------


def test_line_amounts(con: duckdb.DuckDBPyConnection) -> None:
    bad_amount = scalar(
        con,
        "SELECT COUNT(*) FROM order_lines "
        "WHERE amount <> ROUND(quantity * unit_price * (1 - discount_rate), 2)",
    )
    bad_cost = scalar(
        con,
        "SELECT COUNT(*) FROM order_lines l JOIN products p USING (product_id) "
        "WHERE l.cost_amount <> l.quantity * p.unit_cost",
    )
    assert (bad_amount, bad_cost) == (0, 0)
    assert scalar(con, "SELECT MIN(quantity) FROM order_lines") >= 1
    lo, hi = rows(
        con,
        "SELECT MIN(unit_price / list_price), MAX(unit_price / list_price) "
        "FROM order_lines JOIN products USING (product_id)",
    )[0]
    assert lo >= 0.85
    assert hi <= 1.05
    # Outside the planted promotion every discount is a normal 2-8%.
    assert (
        scalar(
            con,
            "SELECT COUNT(*) FROM order_lines WHERE discount_rate <> 0.30 "
            "AND discount_rate NOT BETWEEN 0.02 AND 0.08",
        )
        == 0
    )


def test_amounts_positive(con: duckdb.DuckDBPyConnection) -> None:
    for table in (
        "order_lines", "invoices", "receipts", "expenses", "purchases", "cash_flows",
        "revenue_budget", "expense_budget",
    ):  # fmt: skip
        assert scalar(con, f"SELECT COUNT(*) FROM {table} WHERE NOT amount > 0") == 0, table
    assert scalar(con, "SELECT COUNT(*) FROM order_lines WHERE NOT cost_amount > 0") == 0


def test_one_invoice_per_completed_order(con: duckdb.DuckDBPyConnection) -> None:
    per_order = rows(
        con,
        "SELECT o.status, COUNT(i.invoice_id) AS n FROM orders o "
        "LEFT JOIN invoices i USING (order_id) GROUP BY o.order_id, o.status",
    )
    assert all((n == 1) == (status == "已完成") for status, n in per_order)
    assert all(n <= 1 for _, n in per_order)
    mismatches = scalar(
        con,
        """
        SELECT COUNT(*) FROM invoices i
        JOIN orders o USING (order_id)
        JOIN (SELECT order_id, SUM(amount) AS total FROM order_lines GROUP BY 1) t USING (order_id)
        JOIN customers c ON c.customer_id = i.customer_id
        WHERE i.amount <> t.total
           OR i.customer_id <> o.customer_id
           OR i.invoice_date - o.order_date NOT BETWEEN 0 AND 5
           OR i.invoice_date > DATE '2025-12-31'
           OR i.due_date - i.invoice_date <> CASE c.credit_rating
                  WHEN 'A' THEN 30 WHEN 'B' THEN 60 ELSE 90 END
        """,
    )
    assert mismatches == 0


def test_receipts_never_exceed_invoices(con: duckdb.DuckDBPyConnection) -> None:
    assert (
        scalar(
            con,
            "SELECT COUNT(*) FROM invoices i JOIN (SELECT invoice_id, SUM(amount) paid "
            "FROM receipts GROUP BY 1) r USING (invoice_id) WHERE r.paid > i.amount",
        )
        == 0
    )
    assert (
        scalar(
            con,
            "SELECT COUNT(*) FROM receipts r JOIN invoices i USING (invoice_id) "
            "WHERE r.receipt_date < i.invoice_date OR r.receipt_date > DATE '2025-12-31' "
            "OR r.customer_id <> i.customer_id OR r.amount <= 0",
        )
        == 0
    )
    n_inv, two_part, unpaid_old, unpaid_recent, recent = rows(
        con,
        """
        WITH paid AS (
            SELECT i.invoice_id, i.invoice_date, i.amount, COUNT(r.receipt_id) AS n,
                   COALESCE(SUM(r.amount), 0) AS paid
            FROM invoices i LEFT JOIN receipts r USING (invoice_id) GROUP BY ALL
        )
        SELECT COUNT(*),
               COUNT(*) FILTER (WHERE n = 2),
               COUNT(*) FILTER (WHERE paid = 0 AND invoice_date < DATE '2025-01-01'),
               COUNT(*) FILTER (WHERE paid < amount AND invoice_date >= DATE '2025-12-01'),
               COUNT(*) FILTER (WHERE invoice_date >= DATE '2025-12-01')
        FROM paid
        """,
    )[0]
    assert 0.10 < two_part / n_inv < 0.25  # partial payments in two instalments
    assert 0 < unpaid_old / n_inv < 0.01  # a small share never paid
    assert unpaid_recent / recent > 0.9  # recent invoices mostly still open at the as-of date


def test_payment_timing_by_rating(con: duckdb.DuckDBPyConnection) -> None:
    delay = dict(
        rows(
            con,
            """
            SELECT c.credit_rating, AVG(r.receipt_date - i.due_date)
            FROM receipts r JOIN invoices i USING (invoice_id)
            JOIN customers c ON c.customer_id = i.customer_id
            WHERE i.invoice_date < DATE '2025-06-01'
            GROUP BY 1
            """,
        )
    )
    assert delay["A"] < delay["B"] < delay["C"] < delay["D"]
    assert -15 < delay["A"] < 10


# --------------------------------------------------------------------------------------------
# Receivables aging
# --------------------------------------------------------------------------------------------


AR_CHECK_SQL = """
WITH month_ends AS (
    SELECT CAST(DATE '2023-02-01' + INTERVAL (k) MONTH - INTERVAL 1 DAY AS DATE) AS snapshot_date
    FROM range(36) AS t(k)
),
invoiced AS (
    SELECT m.snapshot_date, i.customer_id, SUM(i.amount) AS amount
    FROM month_ends m JOIN invoices i ON i.invoice_date <= m.snapshot_date
    GROUP BY ALL
),
received AS (
    SELECT m.snapshot_date, r.customer_id, SUM(r.amount) AS amount
    FROM month_ends m JOIN receipts r ON r.receipt_date <= m.snapshot_date
    GROUP BY ALL
),
per_invoice AS (
    SELECT m.snapshot_date, i.customer_id, m.snapshot_date - i.due_date AS dpd,
           i.amount - COALESCE((
               SELECT SUM(r.amount) FROM receipts r
               WHERE r.invoice_id = i.invoice_id AND r.receipt_date <= m.snapshot_date
           ), 0) AS open_amount
    FROM month_ends m JOIN invoices i ON i.invoice_date <= m.snapshot_date
),
buckets AS (
    SELECT snapshot_date, customer_id,
           SUM(open_amount) FILTER (WHERE dpd <= 0) AS b0,
           SUM(open_amount) FILTER (WHERE dpd BETWEEN 1 AND 30) AS b1,
           SUM(open_amount) FILTER (WHERE dpd BETWEEN 31 AND 60) AS b2,
           SUM(open_amount) FILTER (WHERE dpd BETWEEN 61 AND 90) AS b3,
           SUM(open_amount) FILTER (WHERE dpd > 90) AS b4
    FROM per_invoice GROUP BY ALL
),
expected AS (
    SELECT v.snapshot_date, v.customer_id, v.amount - COALESCE(r.amount, 0) AS balance,
           COALESCE(b0, 0) AS b0, COALESCE(b1, 0) AS b1, COALESCE(b2, 0) AS b2,
           COALESCE(b3, 0) AS b3, COALESCE(b4, 0) AS b4
    FROM invoiced v
    LEFT JOIN received r USING (snapshot_date, customer_id)
    JOIN buckets b USING (snapshot_date, customer_id)
    WHERE v.amount - COALESCE(r.amount, 0) <> 0
)
SELECT COUNT(*) AS compared,
       COUNT(*) FILTER (
           WHERE e.snapshot_date IS NULL OR a.snapshot_date IS NULL
              OR e.balance <> a.balance OR e.b0 <> a.current_amount
              OR e.b1 <> a.overdue_1_30 OR e.b2 <> a.overdue_31_60
              OR e.b3 <> a.overdue_61_90 OR e.b4 <> a.overdue_over_90
       ) AS mismatches
FROM expected e FULL JOIN ar_aging_monthly a USING (snapshot_date, customer_id)
"""


def test_ar_aging_reconciles_with_invoices_and_receipts(con: duckdb.DuckDBPyConnection) -> None:
    compared, mismatches = rows(con, AR_CHECK_SQL)[0]
    assert compared == scalar(con, "SELECT COUNT(*) FROM ar_aging_monthly")
    assert mismatches == 0


def test_ar_buckets_sum_to_balance(con: duckdb.DuckDBPyConnection) -> None:
    assert (
        scalar(
            con,
            "SELECT COUNT(*) FROM ar_aging_monthly WHERE balance <> current_amount + overdue_1_30 "
            "+ overdue_31_60 + overdue_61_90 + overdue_over_90 OR balance <= 0 "
            "OR LEAST(current_amount, overdue_1_30, overdue_31_60, overdue_61_90, "
            "overdue_over_90) < 0",
        )
        == 0
    )
    # Year-end receivables are a plausible 1.5-4 months of revenue.
    balance = scalar(
        con, "SELECT SUM(balance) FROM ar_aging_monthly WHERE snapshot_date = DATE '2025-12-31'"
    )
    revenue = scalar(
        con,
        "SELECT SUM(amount) FROM order_lines JOIN orders USING (order_id) "
        "WHERE status = '已完成' AND year(order_date) = 2025",
    )
    assert 1.5 / 12 < balance / revenue < 4 / 12


# --------------------------------------------------------------------------------------------
# Cash, purchases, inventory, expenses, budgets
# --------------------------------------------------------------------------------------------


def test_operating_inflows_follow_receipts(con: duckdb.DuckDBPyConnection) -> None:
    assert scalar(con, "SELECT MIN(amount) FROM cash_flows") > 0
    assert rows(
        con,
        "SELECT DISTINCT category FROM cash_flows "
        "WHERE direction = '流入' AND activity = '经营活动'",
    ) == [("销售回款",)]
    diff = scalar(
        con,
        """
        SELECT COUNT(*) FROM (
            SELECT date_trunc('month', receipt_date) AS m, COUNT(*) AS n, SUM(amount) AS amt
            FROM receipts GROUP BY 1
        ) r FULL JOIN (
            SELECT date_trunc('month', txn_date) AS m, COUNT(*) AS n, SUM(amount) AS amt
            FROM cash_flows WHERE direction = '流入' AND activity = '经营活动' GROUP BY 1
        ) c USING (m)
        WHERE r.amt IS DISTINCT FROM c.amt OR r.n IS DISTINCT FROM c.n
        """,
    )
    assert diff == 0
    categories = {
        (d, a, c)
        for d, a, c in rows(con, "SELECT DISTINCT direction, activity, category FROM cash_flows")
    }
    assert {
        ("流出", "经营活动", "采购付款"),
        ("流出", "经营活动", "工资薪酬"),
        ("流出", "经营活动", "费用支付"),
        ("流出", "经营活动", "税费"),
        ("流出", "投资活动", "设备购置"),
        ("流入", "筹资活动", "银行借款"),
    } <= categories
    # Purchase payments lag purchases: cumulative payments never exceed cumulative purchases.
    assert (
        scalar(
            con,
            """
        WITH p AS (SELECT date_trunc('month', purchase_date) m, SUM(amount) a
                   FROM purchases GROUP BY 1),
             c AS (SELECT date_trunc('month', txn_date) m, SUM(amount) a FROM cash_flows
                   WHERE category = '采购付款' GROUP BY 1),
             j AS (SELECT m, SUM(COALESCE(p.a, 0)) OVER w AS bought,
                          SUM(COALESCE(c.a, 0)) OVER w AS paid
                   FROM p FULL JOIN c USING (m) WINDOW w AS (ORDER BY m))
        SELECT COUNT(*) FROM j WHERE paid > bought
        """,
        )
        == 0
    )
    # Payroll paid follows the payroll expense of the previous month.
    assert (
        scalar(
            con,
            """
        SELECT COUNT(*) FROM (
            SELECT date_trunc('month', expense_date) + INTERVAL 1 MONTH AS m, SUM(amount) a
            FROM expenses WHERE category = '工资薪酬' GROUP BY 1
        ) e JOIN (
            SELECT date_trunc('month', txn_date) AS m, SUM(amount) a FROM cash_flows
            WHERE category = '工资薪酬' GROUP BY 1
        ) c USING (m) WHERE e.a <> c.a
        """,
        )
        == 0
    )


def test_inventory_values_and_cover(con: duckdb.DuckDBPyConnection) -> None:
    assert (
        scalar(
            con,
            "SELECT COUNT(*) FROM inventory_monthly i JOIN products p USING (product_id) "
            "WHERE i.value <> i.quantity * p.unit_cost OR i.quantity < 0",
        )
        == 0
    )
    assert (
        scalar(
            con,
            "SELECT COUNT(*) FROM inventory_monthly JOIN products USING (product_id) "
            "WHERE product_line = '软件服务'",
        )
        == 0
    )
    cover = rows(
        con,
        """
        WITH stock AS (
            SELECT snapshot_date, product_line, SUM(quantity) AS qty
            FROM inventory_monthly JOIN products USING (product_id) GROUP BY ALL
        ), sold AS (
            SELECT last_day(order_date) AS snapshot_date, product_line, SUM(quantity) AS qty
            FROM orders JOIN order_lines USING (order_id) JOIN products USING (product_id)
            WHERE status = '已完成' GROUP BY ALL
        )
        SELECT MIN(stock.qty / sold.qty), MAX(stock.qty / sold.qty)
        FROM stock JOIN sold USING (snapshot_date, product_line)
        """,
    )[0]
    assert cover[0] >= 1.0
    assert cover[1] <= 3.0


def test_purchases_replenish_sales(con: duckdb.DuckDBPyConnection) -> None:
    ratios = rows(
        con,
        """
        WITH bought AS (SELECT product_id, SUM(quantity) q FROM purchases GROUP BY 1),
             sold AS (SELECT product_id, SUM(quantity) q FROM order_lines JOIN orders
                      USING (order_id) WHERE status = '已完成' GROUP BY 1)
        SELECT product_id, bought.q / sold.q FROM sold LEFT JOIN bought USING (product_id)
        """,
    )
    assert len(ratios) == 48
    assert all(r is not None and 0.85 <= r <= 1.3 for _, r in ratios)
    assert (
        scalar(
            con,
            "SELECT COUNT(*) FROM purchases pu JOIN products p USING (product_id) "
            "WHERE pu.amount NOT BETWEEN ROUND(pu.quantity * p.unit_cost * 0.95, 2) "
            "AND pu.quantity * p.unit_cost OR pu.quantity <= 0",
        )
        == 0
    )
    # Suppliers of the right kind: hardware from 电子元器件, accessories from 原材料 suppliers.
    assert rows(
        con,
        "SELECT DISTINCT product_line, supplier_type FROM purchases JOIN products "
        "USING (product_id) JOIN suppliers USING (supplier_id) ORDER BY ALL",
    ) == [
        ("工业传感器", "电子元器件"), ("智能终端", "电子元器件"), ("软件服务", "外包服务"),
        ("配件耗材", "原材料"),
    ]  # fmt: skip


def test_expenses_structure(con: duckdb.DuckDBPyConnection) -> None:
    depts = dict(
        rows(
            con,
            "SELECT category, list(DISTINCT dept_name ORDER BY dept_name) FROM expenses "
            "JOIN departments USING (dept_id) GROUP BY 1",
        )
    )
    assert depts["研发投入"] == ["研发部"]
    for everywhere in ("工资薪酬", "办公费", "租赁费", "折旧摊销"):
        assert len(depts[everywhere]) == 8, everywhere
    marketing_share = scalar(
        con,
        "SELECT SUM(amount) FILTER (WHERE dept_name = '市场部') / SUM(amount) FROM expenses "
        "JOIN departments USING (dept_id) WHERE category = '市场推广'",
    )
    assert marketing_share > 0.8
    # Many vouchers per cell, every month.
    assert (
        scalar(
            con,
            "SELECT MIN(n) FROM (SELECT COUNT(*) n FROM expenses "
            "GROUP BY date_trunc('month', expense_date), dept_id, category)",
        )
        >= 2
    )
    ratio = rows(
        con,
        """
        SELECT d, e / r FROM (
            SELECT year(expense_date) AS d, SUM(amount) AS e FROM expenses GROUP BY 1
        ) JOIN (
            SELECT year(order_date) AS d, SUM(amount) AS r FROM orders JOIN order_lines
            USING (order_id) WHERE status = '已完成' GROUP BY 1
        ) USING (d)
        """,
    )
    assert all(0.15 < float(x) < 0.35 for _, x in ratio)


def test_expense_budget_covers_expense_cells(con: duckdb.DuckDBPyConnection) -> None:
    pairs_with_expenses = scalar(
        con, "SELECT COUNT(*) FROM (SELECT DISTINCT dept_id, category FROM expenses)"
    )
    assert scalar(con, "SELECT COUNT(*) FROM expense_budget") == 36 * pairs_with_expenses
    unmatched = scalar(
        con,
        """
        SELECT COUNT(*) FROM (
            SELECT date_trunc('month', expense_date) AS month, dept_id, category
            FROM expenses GROUP BY ALL
        ) e FULL JOIN expense_budget b USING (month, dept_id, category)
        WHERE e.dept_id IS NULL OR b.dept_id IS NULL
        """,
    )
    assert unmatched == 0
    usage = dict(
        rows(
            con,
            """
            SELECT strftime(b.month, '%Y-%m'), SUM(e.amount) / SUM(b.amount)
            FROM expense_budget b JOIN (
                SELECT date_trunc('month', expense_date) AS month, dept_id, category,
                       SUM(amount) AS amount
                FROM expenses GROUP BY ALL
            ) e USING (month, dept_id, category)
            GROUP BY 1
            """,
        )
    )
    campaign_month = usage.pop("2024-11")  # event 3 pushes this month over budget
    assert all(0.93 < float(u) < 1.07 for u in usage.values())
    assert campaign_month > max(usage.values())


def test_revenue_budget_is_plausible(con: duckdb.DuckDBPyConnection) -> None:
    grid = scalar(
        con,
        "SELECT COUNT(DISTINCT (month, region_id, product_line)) FROM revenue_budget "
        "WHERE amount > 0",
    )
    assert grid == 36 * 7 * 4
    attainment = rows(
        con,
        """
        SELECT r.m, r.rev / b.bud FROM (
            SELECT date_trunc('month', order_date) AS m, SUM(amount) AS rev
            FROM orders JOIN order_lines USING (order_id) WHERE status = '已完成' GROUP BY 1
        ) r JOIN (SELECT month AS m, SUM(amount) AS bud FROM revenue_budget GROUP BY 1) b
        USING (m)
        """,
    )
    assert len(attainment) == 36
    assert all(0.85 <= float(a) <= 1.15 for _, a in attainment)


# --------------------------------------------------------------------------------------------
# Planted events
# --------------------------------------------------------------------------------------------


def test_event_1_clearance_promotion(con: duckdb.DuckDBPyConnection) -> None:
    promo_discounts = rows(
        con,
        """
        SELECT (strftime(o.order_date, '%Y-%m') = '2025-03' AND r.region_name = '华南'
                AND o.channel = '电商' AND p.product_line = '智能终端') AS in_promo,
               MIN(l.discount_rate), MAX(l.discount_rate)
        FROM orders o JOIN regions r USING (region_id) JOIN order_lines l USING (order_id)
        JOIN products p USING (product_id) GROUP BY 1 ORDER BY 1
        """,
    )
    assert promo_discounts == [
        (False, Decimal("0.0200"), Decimal("0.0800")),
        (True, Decimal("0.3000"), Decimal("0.3000")),
    ]
    volume = {m: (lines, orders) for m, lines, orders in rows(con, SLICE_LINES_SQL)}
    # About twice the slice's usual volume: compare with neighbouring months (February is left
    # out for its Spring Festival dip) and with March a year earlier (one year less growth).
    for i, what in enumerate(("lines", "orders")):
        usual = sum(volume[m][i] for m in ("2025-01", "2025-04", "2025-05")) / 3
        assert 1.6 <= volume["2025-03"][i] / usual <= 2.6, what
        assert 1.6 <= volume["2025-03"][i] / volume["2024-03"][i] <= 3.2, what

    gm = {m: (float(g), float(gx)) for m, _, g, gx in rows(con, MONTHLY_GM_SQL)}
    march, february, last_march = gm["2025-03"][0], gm["2025-02"][0], gm["2024-03"][0]
    assert march <= february - 0.015
    assert march <= last_march - 0.015
    # The slice explains the drop: without it March is back in line with February.
    assert abs(gm["2025-03"][1] - february) <= 0.005
    # And 2025-03 is the only month with a drop like that.
    others = [g for m, (g, _) in gm.items() if m != "2025-03"]
    assert march < min(others) - 0.005


def test_event_2_beichen_stops_paying(con: duckdb.DuckDBPyConnection) -> None:
    ((cid, region, rating),) = rows(
        con,
        "SELECT customer_id, region_name, credit_rating FROM customers "
        "JOIN regions USING (region_id) WHERE customer_name = '北辰重工'",
    )
    assert (region, rating) == ("华北", "A")
    stats = rows(
        con,
        f"""
        SELECT i.invoice_date >= DATE '2025-06-01' AS late_period,
               COUNT(DISTINCT i.invoice_id) AS n_invoices,
               COUNT(r.receipt_id) AS n_receipts,
               COUNT(r.receipt_id) FILTER (WHERE r.receipt_date >= DATE '2025-06-01') AS n_after,
               SUM(i.amount) FILTER (WHERE r.receipt_id IS NULL) AS unpaid
        FROM invoices i LEFT JOIN receipts r USING (invoice_id)
        WHERE i.customer_id = {cid} GROUP BY 1 ORDER BY 1
        """,
    )
    (_, n_before, _, paid_after_june, unpaid_before), (_, n_from_june, n_rec_from_june, _, _) = (
        stats
    )
    assert n_from_june > 50  # keeps ordering
    assert n_rec_from_june == 0  # but pays none of those invoices
    assert paid_after_june > 0  # earlier invoices keep being paid after June
    assert unpaid_before is None  # every earlier invoice was paid in full

    over_90 = dict(
        rows(
            con,
            f"""
            SELECT strftime(snapshot_date, '%Y-%m'), SUM(overdue_over_90)
                FILTER (WHERE customer_id = {cid})
            FROM ar_aging_monthly WHERE snapshot_date >= DATE '2025-05-01' GROUP BY 1
            """,
        )
    )
    series = [over_90[m] or 0 for m in ("2025-08", "2025-09", "2025-10", "2025-11", "2025-12")]
    assert series[0] == 0
    assert series[0] <= series[1] < series[2] < series[3] < series[4]
    total, mine = rows(
        con,
        f"SELECT SUM(overdue_over_90), SUM(overdue_over_90) FILTER (WHERE customer_id = {cid}) "
        "FROM ar_aging_monthly WHERE snapshot_date = DATE '2025-12-31'",
    )[0]
    assert mine / total > 0.5
    top = rows(
        con,
        "SELECT customer_id FROM orders JOIN order_lines USING (order_id) "
        "WHERE status = '已完成' GROUP BY 1 ORDER BY SUM(amount) DESC LIMIT 3",
    )
    assert (cid,) in top


def test_event_3_marketing_campaign(con: duckdb.DuckDBPyConnection) -> None:
    cell = dict(
        (m, (float(a), float(b)))
        for m, a, b in rows(
            con,
            """
            SELECT strftime(b.month, '%Y-%m'), SUM(e.amount), ANY_VALUE(b.amount)
            FROM expense_budget b JOIN departments d USING (dept_id)
            JOIN expenses e ON e.dept_id = b.dept_id AND e.category = b.category
             AND date_trunc('month', e.expense_date) = b.month
            WHERE d.dept_name = '市场部' AND b.category = '市场推广'
            GROUP BY 1
            """,
        )
    )
    spend, budget = cell["2024-11"]
    usual = sum(cell[m][0] for m in ("2024-09", "2024-10", "2024-12")) / 3
    usual_budget = (cell["2024-10"][1] + cell["2024-12"][1]) / 2
    assert 2.5 <= spend / budget <= 3.5
    assert 2.4 <= spend / usual <= 3.6
    assert 0.85 <= budget / usual_budget <= 1.2
    assert all(0.8 <= a / b <= 1.25 for m, (a, b) in cell.items() if m != "2024-11")


def test_event_4_seasonality_and_growth(con: duckdb.DuckDBPyConnection) -> None:
    monthly = {
        (y, m): float(v)
        for y, m, v in rows(
            con,
            "SELECT year(order_date), month(order_date), SUM(amount) FROM orders "
            "JOIN order_lines USING (order_id) WHERE status = '已完成' GROUP BY 1, 2",
        )
    }
    for y in (2023, 2024, 2025):
        assert monthly[(y, 2)] < 0.8 * min(monthly[(y, 1)], monthly[(y, 3)])
        quarters = [sum(monthly[(y, m)] for m in range(q * 3 + 1, q * 3 + 4)) for q in range(4)]
        assert quarters[3] == max(quarters)
        assert monthly[(y, 12)] == max(monthly[(y, m)] for m in range(1, 13))
    yearly = {y: sum(v for (yy, _), v in monthly.items() if yy == y) for y in (2023, 2024, 2025)}
    assert 5e8 <= yearly[2025] <= 9e8
    assert 0.10 <= yearly[2024] / yearly[2023] - 1 <= 0.20
    assert 0.10 <= yearly[2025] / yearly[2024] - 1 <= 0.20
    software = dict(
        rows(
            con,
            "SELECT year(order_date), SUM(amount) FROM orders JOIN order_lines USING (order_id) "
            "JOIN products USING (product_id) WHERE status = '已完成' "
            "AND product_line = '软件服务' GROUP BY 1",
        )
    )
    assert 0.30 <= software[2024] / software[2023] - 1 <= 0.50
    assert 0.30 <= software[2025] / software[2024] - 1 <= 0.50


# --------------------------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------------------------


def _differences(a: Path, b: Path) -> dict[str, int]:
    """Rows that differ, per table, between two databases (symmetric EXCEPT ALL)."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
    out = {}
    for table in CONTRACT_COLUMNS:
        out[table] = scalar(
            con,
            f"SELECT COUNT(*) FROM ((SELECT * FROM a.{table} EXCEPT ALL SELECT * FROM b.{table})"
            f" UNION ALL (SELECT * FROM b.{table} EXCEPT ALL SELECT * FROM a.{table}))",
        )
    con.close()
    return out


def test_generation_is_deterministic(tmp_path: Path) -> None:
    first = generate(tmp_path / "a.duckdb", scale=1, seed=42)
    second = generate(tmp_path / "b.duckdb", scale=1, seed=42)
    assert first == tmp_path / "a.duckdb" and first.is_file()
    assert set(_differences(first, second).values()) == {0}
    other = generate(tmp_path / "c.duckdb", scale=1, seed=7)
    differing = {t for t, n in _differences(first, other).items() if n}
    assert {"orders", "order_lines", "invoices", "receipts", "customers"} <= differing
    # Overwrites in place and leaves no temporary files behind.
    generate(first, scale=1, seed=7)
    assert set(_differences(first, other).values()) == {0}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.duckdb", "b.duckdb", "c.duckdb"]


@pytest.mark.parametrize("scale", [20, 50])
def test_customer_names_stay_unique_at_large_scales(scale: int) -> None:
    """`python -m eval.bench --scales 1,10,50` builds scale 50: names must not run out."""
    import numpy as np

    from semantic_layer.demo.generate import _customers, _reps

    rng = np.random.default_rng(42)
    customers = _customers(rng, scale, _reps(rng, scale))
    names = list(customers.name)
    assert len(names) == 800 * scale == len(set(names))
    assert all(
        str(n).endswith(("公司", "局", "委员会", "中心", "院", "学校", "中学", "大学"))
        or n == "北辰重工"
        for n in names
    )
