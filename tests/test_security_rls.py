"""Row-level security and masking: each demo role sees exactly its filtered truth, whatever SQL.

The truth is hand-written SQL with the role's filter spelled out, run on the raw demo data.
Every bypass attempt — aliases, subqueries, CTEs, joins in every direction, set operations,
scalar subqueries, EXISTS, lateral joins, windows, case variations of table names — must
return the same values as that truth (or be refused), never a row outside the role.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from assistant.api import Assistant
from assistant.formatting import format_value
from assistant.insights.anomalies import scan_anomalies
from assistant.settings import Settings
from semantic_layer.compiler import add_months, compile_query
from semantic_layer.engine import DuckDBEngine
from semantic_layer.errors import CockpitError, QueryError
from semantic_layer.loader import load_model
from semantic_layer.query import SemanticQuery
from semantic_layer.security import SecuredEngine, role_of

MODEL = load_model()
ROLES = [r.name for r in MODEL.roles]
EAST = "华东"
EAST_ID = "(SELECT region_id FROM regions WHERE region_name = '华东')"
# The role's scope spelled out by hand, table by table, along the model's join paths.
E_ORDERS = f"(SELECT * FROM orders WHERE region_id IN {EAST_ID})"
E_LINES = f"(SELECT * FROM order_lines WHERE order_id IN (SELECT order_id FROM {E_ORDERS}))"
E_CUSTOMERS = f"(SELECT * FROM customers WHERE region_id IN {EAST_ID})"
E_REPS = f"(SELECT * FROM sales_reps WHERE region_id IN {EAST_ID})"
E_INVOICES = f"(SELECT * FROM invoices WHERE order_id IN (SELECT order_id FROM {E_ORDERS}))"
E_RECEIPTS = (
    f"(SELECT * FROM receipts WHERE customer_id IN (SELECT customer_id FROM {E_CUSTOMERS}))"
)
E_AGING = (
    f"(SELECT * FROM ar_aging_monthly WHERE customer_id IN (SELECT customer_id FROM {E_CUSTOMERS}))"
)
E_BUDGET = f"(SELECT * FROM revenue_budget WHERE region_id IN {EAST_ID})"
E_REGIONS = "(SELECT * FROM regions WHERE region_name = '华东')"
NOT_PAYROLL = "category IS DISTINCT FROM '工资薪酬'"  # expenses, their budget and cash flows
NOT_SUPPLIER_PAYMENTS = "category IS DISTINCT FROM '采购付款'"  # cash flows, for the auditor
DENIED_FOR_EAST = ["expenses", "expense_budget", "cash_flows", "purchases", "inventory_monthly"]
AMOUNT = re.compile(r"\d[\d,]*(\.\d+)?\s*(万|亿|元|%)")


@pytest.fixture(scope="module")
def raw(demo_db):
    with DuckDBEngine(demo_db) as engine:
        yield engine


@pytest.fixture(scope="module")
def engines(raw):
    return {role: SecuredEngine(raw, MODEL, role=role) for role in [None, *ROLES]}


def _rows(result) -> list[tuple]:
    """Rows in a canonical order, floats rounded (sums may add up in another order)."""
    out = [
        tuple(round(float(v), 4) if isinstance(v, float | Decimal) else v for v in row)
        for row in result.rows
    ]
    return sorted(out, key=repr)


def _no_figure(rows: list[tuple]) -> bool:
    """No row, or nothing but NULLs and zeros: a denied table shows no number."""
    return all(v is None or v == 0 for row in rows for v in row)


def bypass(id: str, sql: str, truth: str):
    return pytest.param(sql, truth, id=id)


# --- east_manager: only 华东 -------------------------------------------------------------------


def test_east_manager_revenue_2025_is_east_only(raw, engines):
    sql = (
        "SELECT sum(ol.amount) FROM order_lines ol JOIN orders o ON o.order_id = ol.order_id "
        "WHERE o.status = '已完成' AND o.order_date >= DATE '2025-01-01' "
        "AND o.order_date < DATE '2026-01-01'"
    )
    truth = raw.execute(
        sql + f" AND o.region_id IN {EAST_ID}",
    ).scalar()
    everyone = raw.execute(sql).scalar()
    got = engines["east_manager"].execute(sql).scalar()
    assert got == truth
    assert truth < everyone


@pytest.mark.parametrize(
    ("table", "scope"),
    [
        ("orders", E_ORDERS),
        ("order_lines", E_LINES),
        ("customers", E_CUSTOMERS),
        ("sales_reps", E_REPS),
        ("invoices", E_INVOICES),
        ("receipts", E_RECEIPTS),
        ("ar_aging_monthly", E_AGING),
        ("revenue_budget", E_BUDGET),
        ("regions", E_REGIONS),
    ],
)
def test_east_manager_sees_each_table_filtered(table, scope, raw, engines):
    got = engines["east_manager"].execute(f"SELECT * FROM {table}")
    truth = raw.execute(f"SELECT * FROM {scope} t")
    assert _rows(got) == _rows(truth)
    assert 0 < len(truth.rows) < raw.execute(f"SELECT count(*) FROM {table}").scalar()


EAST_BYPASSES = [
    bypass("alias-as", "SELECT count(*) FROM orders AS o", f"SELECT count(*) FROM {E_ORDERS}"),
    bypass(
        "alias-bare",
        "SELECT count(*), sum(o.customer_id) FROM orders o",
        f"SELECT count(*), sum(customer_id) FROM {E_ORDERS}",
    ),
    bypass(
        "alias-named-like-another-table",
        "SELECT count(*) FROM orders AS regions",
        f"SELECT count(*) FROM {E_ORDERS}",
    ),
    bypass(
        "subquery",
        "SELECT count(*) FROM (SELECT * FROM orders) x",
        f"SELECT count(*) FROM {E_ORDERS}",
    ),
    bypass(
        "nested-subqueries",
        "SELECT count(*) FROM (SELECT * FROM (SELECT * FROM (SELECT order_id FROM orders) a) b) c",
        f"SELECT count(*) FROM {E_ORDERS}",
    ),
    bypass(
        "derived-table-aliased-as-model-table",
        "SELECT count(*) FROM (SELECT * FROM orders) AS customers",
        f"SELECT count(*) FROM {E_ORDERS}",
    ),
    bypass(
        "cte",
        "WITH x AS (SELECT * FROM orders) SELECT count(*) FROM x",
        f"SELECT count(*) FROM {E_ORDERS}",
    ),
    bypass(
        "cte-chain",
        "WITH a AS (SELECT * FROM orders), b AS (SELECT * FROM a WHERE true) "
        "SELECT count(*) FROM b",
        f"SELECT count(*) FROM {E_ORDERS}",
    ),
    bypass(
        "cte-of-lines",
        "WITH x AS (SELECT * FROM order_lines) SELECT sum(amount) FROM x",
        f"SELECT sum(amount) FROM {E_LINES}",
    ),
    bypass(
        "join-orders-regions",
        "SELECT r.region_name, count(*) FROM orders o JOIN regions r "
        "ON o.region_id = r.region_id GROUP BY 1",
        f"SELECT '华东', count(*) FROM {E_ORDERS}",
    ),
    bypass(
        "join-regions-orders",
        "SELECT r.region_name, count(*) FROM regions r JOIN orders o "
        "ON o.region_id = r.region_id GROUP BY 1",
        f"SELECT '华东', count(*) FROM {E_ORDERS}",
    ),
    bypass(
        "left-join-orders-regions",
        "SELECT o.region_id, r.region_name, count(*) FROM orders o LEFT JOIN regions r "
        "ON o.region_id = r.region_id GROUP BY ALL",
        f"SELECT region_id, '华东', count(*) FROM {E_ORDERS} GROUP BY ALL",
    ),
    bypass(
        "left-join-regions-orders",
        "SELECT r.region_name, count(o.order_id) FROM regions r LEFT JOIN orders o "
        "ON o.region_id = r.region_id GROUP BY 1",
        f"SELECT '华东', count(*) FROM {E_ORDERS}",
    ),
    bypass(
        "right-join",
        "SELECT r.region_name, o.region_id, count(*) FROM regions r RIGHT JOIN orders o "
        "ON o.region_id = r.region_id GROUP BY ALL",
        f"SELECT '华东', region_id, count(*) FROM {E_ORDERS} GROUP BY ALL",
    ),
    bypass(
        "full-join",
        "SELECT r.region_name, o.region_id, count(*) FROM regions r FULL JOIN orders o "
        "ON o.region_id = r.region_id GROUP BY ALL",
        f"SELECT '华东', region_id, count(*) FROM {E_ORDERS} GROUP BY ALL",
    ),
    bypass(
        "cross-join-mismatch",
        "SELECT count(*) FROM regions, orders WHERE regions.region_id <> orders.region_id",
        "SELECT 0",
    ),
    bypass(
        "customers-left-join-orders",
        "SELECT c.region_id, count(o.order_id) FROM customers c LEFT JOIN orders o "
        "USING (customer_id) GROUP BY 1",
        f"SELECT c.region_id, count(o.order_id) FROM {E_CUSTOMERS} c LEFT JOIN {E_ORDERS} o "
        "USING (customer_id) GROUP BY 1",
    ),
    bypass(
        "customer-region-through-orders",
        "SELECT DISTINCT c.region_id FROM orders o JOIN customers c USING (customer_id)",
        f"SELECT {EAST_ID}",
    ),
    bypass(
        "region-name-through-customers",
        "SELECT r.region_name, sum(ol.amount) FROM order_lines ol JOIN orders o USING (order_id) "
        "JOIN customers c ON c.customer_id = o.customer_id "
        "JOIN regions r ON r.region_id = c.region_id GROUP BY 1",
        f"SELECT '华东', sum(amount) FROM {E_LINES}",
    ),
    bypass(
        "region-through-sales-reps",
        "SELECT s.region_id, count(*) FROM orders o JOIN sales_reps s USING (rep_id) GROUP BY 1",
        f"SELECT region_id, count(*) FROM {E_ORDERS} GROUP BY 1",
    ),
    bypass(
        "union-of-region-ids",
        "SELECT region_id FROM orders UNION SELECT region_id FROM customers "
        "UNION SELECT region_id FROM sales_reps UNION SELECT region_id FROM revenue_budget",
        f"SELECT {EAST_ID}",
    ),
    bypass(
        "union-all-count",
        "SELECT count(*) FROM (SELECT customer_id FROM orders UNION ALL "
        "SELECT customer_id FROM customers) u",
        f"SELECT (SELECT count(*) FROM {E_ORDERS}) + (SELECT count(*) FROM {E_CUSTOMERS})",
    ),
    bypass(
        "intersect",
        "SELECT region_id FROM regions INTERSECT SELECT region_id FROM orders",
        f"SELECT {EAST_ID}",
    ),
    bypass(
        "except-regions",
        "SELECT region_name FROM regions EXCEPT SELECT 'x'",
        "SELECT '华东'",
    ),
    bypass(
        "except-customers-without-orders",
        "SELECT customer_id FROM customers EXCEPT SELECT customer_id FROM orders",
        f"SELECT customer_id FROM {E_CUSTOMERS} EXCEPT SELECT customer_id FROM {E_ORDERS}",
    ),
    bypass(
        "scalar-subquery-in-select",
        "SELECT (SELECT sum(amount) FROM order_lines) AS total",
        f"SELECT sum(amount) FROM {E_LINES}",
    ),
    bypass(
        "scalar-subquery-in-where",
        "SELECT region_name FROM regions WHERE region_id = (SELECT max(region_id) FROM orders)",
        "SELECT '华东'",
    ),
    bypass(
        "scalar-count-of-regions",
        "SELECT (SELECT count(DISTINCT region_id) FROM orders), (SELECT count(*) FROM regions)",
        "SELECT 1, 1",
    ),
    bypass(
        "in-subquery-other-region",
        "SELECT count(*) FROM orders WHERE region_id IN "
        "(SELECT region_id FROM regions WHERE region_name = '华南')",
        "SELECT 0",
    ),
    bypass(
        "exists",
        "SELECT count(*) FROM customers c WHERE EXISTS "
        "(SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id)",
        f"SELECT count(*) FROM {E_CUSTOMERS} c WHERE EXISTS "
        f"(SELECT 1 FROM {E_ORDERS} o WHERE o.customer_id = c.customer_id)",
    ),
    bypass(
        "not-exists-regions-without-customers",
        "SELECT region_name FROM regions r WHERE NOT EXISTS "
        "(SELECT 1 FROM customers c WHERE c.region_id = r.region_id)",
        "SELECT 1 WHERE false",
    ),
    bypass(
        "lateral",
        "SELECT r.region_name, t.n FROM regions r, LATERAL "
        "(SELECT count(*) AS n FROM orders o WHERE o.region_id = r.region_id) t",
        f"SELECT '华东', count(*) FROM {E_ORDERS}",
    ),
    bypass(
        "lateral-join-on",
        "SELECT r.region_name, t.n FROM regions r JOIN LATERAL "
        "(SELECT count(*) AS n FROM customers c WHERE c.region_id = r.region_id) t ON true",
        f"SELECT '华东', count(*) FROM {E_CUSTOMERS}",
    ),
    bypass(
        "window-partition-by-region",
        "SELECT DISTINCT region_id, count(*) OVER (PARTITION BY region_id) FROM orders",
        f"SELECT region_id, count(*) FROM {E_ORDERS} GROUP BY 1",
    ),
    bypass(
        "window-over-everything",
        "SELECT DISTINCT sum(amount) OVER () FROM order_lines",
        f"SELECT sum(amount) FROM {E_LINES}",
    ),
    bypass(
        "group-by-region-id",
        "SELECT region_id, count(*) FROM orders GROUP BY region_id",
        f"SELECT region_id, count(*) FROM {E_ORDERS} GROUP BY 1",
    ),
    bypass(
        "group-by-customer-region-id",
        "SELECT region_id, count(*) FROM customers GROUP BY region_id",
        f"SELECT region_id, count(*) FROM {E_CUSTOMERS} GROUP BY 1",
    ),
    bypass(
        "budget-region-ids",
        "SELECT DISTINCT region_id FROM revenue_budget",
        f"SELECT {EAST_ID}",
    ),
    bypass("regions-alone", "SELECT * FROM regions", f"SELECT * FROM {E_REGIONS}"),
    bypass(
        "regions-by-other-id",
        "SELECT region_name FROM regions WHERE region_id <> 1",
        "SELECT 1 WHERE false",
    ),
    bypass(
        "regions-by-name",
        "SELECT region_id FROM regions WHERE region_name = '华南'",
        "SELECT 1 WHERE false",
    ),
    bypass("customers-star", "SELECT * FROM customers", f"SELECT * FROM {E_CUSTOMERS}"),
    bypass(
        "customers-of-other-regions",
        f"SELECT count(*) FROM customers WHERE region_id NOT IN {EAST_ID}",
        "SELECT 0",
    ),
    bypass(
        "revenue-filtered-on-other-region-id",
        "SELECT sum(ol.amount) FROM order_lines ol JOIN orders o USING (order_id) "
        "WHERE o.region_id = 2",
        "SELECT NULL",
    ),
    bypass(
        "revenue-filtered-on-other-region-name",
        "SELECT sum(ol.amount) FROM order_lines ol JOIN orders o USING (order_id) "
        "JOIN regions r ON r.region_id = o.region_id WHERE r.region_name = '华南'",
        "SELECT NULL",
    ),
    bypass(
        "lines-alone",
        "SELECT sum(amount), count(*) FROM order_lines",
        f"SELECT sum(amount), count(*) FROM {E_LINES}",
    ),
    bypass(
        "invoices-alone",
        "SELECT sum(amount), count(*) FROM invoices",
        f"SELECT sum(amount), count(*) FROM {E_INVOICES}",
    ),
    bypass(
        "invoices-without-visible-order",
        "SELECT count(*) FROM invoices i LEFT JOIN orders o USING (order_id) "
        "WHERE o.order_id IS NULL",
        "SELECT 0",
    ),
    bypass(
        "receipts-alone",
        "SELECT sum(amount) FROM receipts",
        f"SELECT sum(amount) FROM {E_RECEIPTS}",
    ),
    bypass(
        "aging-alone",
        "SELECT count(DISTINCT customer_id), sum(balance) FROM ar_aging_monthly",
        f"SELECT count(DISTINCT customer_id), sum(balance) FROM {E_AGING}",
    ),
    bypass(
        "revenue-2025",
        "SELECT sum(ol.amount) FROM order_lines ol JOIN orders o ON o.order_id = ol.order_id "
        "WHERE o.status = '已完成' AND year(o.order_date) = 2025",
        f"SELECT sum(ol.amount) FROM {E_LINES} ol JOIN orders o ON o.order_id = ol.order_id "
        "WHERE o.status = '已完成' AND year(o.order_date) = 2025",
    ),
    # Table names in another case: DuckDB matches identifiers case-insensitively.
    bypass("upper-table", "SELECT count(*) FROM ORDERS", f"SELECT count(*) FROM {E_ORDERS}"),
    bypass("quoted-table", 'SELECT count(*) FROM "orders"', f"SELECT count(*) FROM {E_ORDERS}"),
    bypass(
        "quoted-upper-table", 'SELECT count(*) FROM "ORDERS"', f"SELECT count(*) FROM {E_ORDERS}"
    ),
    bypass(
        "capitalised-table", "SELECT count(*) FROM Orders o", f"SELECT count(*) FROM {E_ORDERS}"
    ),
    bypass("upper-regions", "SELECT region_name FROM REGIONS", "SELECT '华东'"),
    bypass("quoted-capitalised-regions", 'SELECT region_name FROM "Regions"', "SELECT '华东'"),
    bypass(
        "upper-customers", "SELECT count(*) FROM CUSTOMERS", f"SELECT count(*) FROM {E_CUSTOMERS}"
    ),
    bypass(
        "capitalised-in-cte",
        "WITH x AS (SELECT * FROM Orders) SELECT count(*) FROM x",
        f"SELECT count(*) FROM {E_ORDERS}",
    ),
    bypass(
        "upper-in-scalar-subquery",
        "SELECT (SELECT sum(amount) FROM ORDER_LINES)",
        f"SELECT sum(amount) FROM {E_LINES}",
    ),
    bypass(
        "upper-in-union",
        "SELECT region_id FROM orders UNION SELECT region_id FROM CUSTOMERS",
        f"SELECT {EAST_ID}",
    ),
    bypass(
        "upper-in-join",
        "SELECT r.region_name, count(*) FROM ORDERS o JOIN Regions r "
        "ON o.region_id = r.region_id GROUP BY 1",
        f"SELECT '华东', count(*) FROM {E_ORDERS}",
    ),
]


@pytest.mark.parametrize(("sql", "truth"), EAST_BYPASSES)
def test_east_manager_bypass_attempt_returns_only_east(sql, truth, raw, engines):
    try:
        got = engines["east_manager"].execute(sql)
    except CockpitError:
        return  # refused: no row at all is fine
    assert _rows(got) == _rows(raw.execute(truth))


DENIED_FORMS = [
    "SELECT * FROM {t}",
    "SELECT count(*) FROM {t}",
    "SELECT sum({v}) FROM {t}",
    "SELECT sum({v}) FROM {T}",
    'SELECT sum({v}) FROM "{t}"',
    "SELECT sum(x.{v}) FROM {t} AS x",
    "WITH e AS (SELECT * FROM {t}) SELECT max({v}) FROM e",
    "SELECT (SELECT max({v}) FROM {t})",
    "SELECT count(*) FROM (SELECT {v} FROM {t} UNION ALL SELECT {v} FROM {t}) u",
    "SELECT DISTINCT sum({v}) OVER () FROM {t}",
]
DENIED_VALUE = {
    "expenses": "amount",
    "expense_budget": "amount",
    "cash_flows": "amount",
    "purchases": "amount",
    "inventory_monthly": "value",
}


@pytest.mark.parametrize("form", DENIED_FORMS)
@pytest.mark.parametrize("table", DENIED_FOR_EAST)
def test_east_manager_denied_tables_show_no_number(table, form, engines):
    sql = form.format(t=table, T=table.upper(), v=DENIED_VALUE[table])
    try:
        got = engines["east_manager"].execute(sql)
    except CockpitError:
        return
    assert _no_figure(got.rows), f"{sql} returned {got.rows[:3]}"


def test_east_manager_denied_table_joined_to_an_open_dimension(engines):
    got = engines["east_manager"].execute(
        "SELECT d.dept_name, sum(e.amount) FROM departments d "
        "LEFT JOIN expenses e USING (dept_id) GROUP BY 1"
    )
    assert got.rows and all(total is None for _, total in got.rows)


# --- sales_dept: everything except payroll --------------------------------------------------------

SALES_BYPASSES = [
    bypass(
        "expenses-total",
        "SELECT sum(amount) FROM expenses",
        f"SELECT sum(amount) FROM expenses WHERE {NOT_PAYROLL}",
    ),
    bypass(
        "by-category",
        "SELECT category, sum(amount) FROM expenses GROUP BY 1",
        f"SELECT category, sum(amount) FROM expenses WHERE {NOT_PAYROLL} GROUP BY 1",
    ),
    bypass(
        "budget-total",
        "SELECT sum(amount) FROM expense_budget",
        f"SELECT sum(amount) FROM expense_budget WHERE {NOT_PAYROLL}",
    ),
    bypass(
        "payroll-asked-directly",
        "SELECT sum(amount) FROM expenses WHERE category = '工资薪酬'",
        "SELECT NULL",
    ),
    bypass(
        "payroll-by-like",
        "SELECT sum(amount) FROM expenses WHERE category LIKE '工资%'",
        "SELECT NULL",
    ),
    bypass(
        "payroll-through-subquery",
        "SELECT sum(e.amount) FROM (SELECT * FROM expenses) e WHERE e.category = '工资薪酬'",
        "SELECT NULL",
    ),
    bypass(
        "payroll-through-cte",
        "WITH e AS (SELECT * FROM expenses WHERE category = '工资薪酬') SELECT count(*) FROM e",
        "SELECT 0",
    ),
    bypass(
        "categories-union",
        "SELECT category FROM expenses UNION SELECT category FROM expense_budget",
        f"SELECT category FROM expenses WHERE {NOT_PAYROLL} UNION "
        f"SELECT category FROM expense_budget WHERE {NOT_PAYROLL}",
    ),
    bypass(
        "window-by-category",
        "SELECT DISTINCT category, sum(amount) OVER (PARTITION BY category) FROM expenses",
        f"SELECT category, sum(amount) FROM expenses WHERE {NOT_PAYROLL} GROUP BY 1",
    ),
    bypass(
        "join-departments",
        "SELECT d.dept_name, sum(e.amount) FROM departments d JOIN expenses e USING (dept_id) "
        "GROUP BY 1",
        "SELECT d.dept_name, sum(e.amount) FROM departments d JOIN expenses e USING (dept_id) "
        f"WHERE e.{NOT_PAYROLL} GROUP BY 1",
    ),
    bypass(
        "difference-of-scalar-subqueries",
        "SELECT (SELECT sum(amount) FROM expenses) - "
        "(SELECT sum(amount) FROM expenses WHERE category <> '工资薪酬')",
        "SELECT 0",
    ),
    bypass(
        "lateral-per-department",
        "SELECT d.dept_name, t.s FROM departments d, LATERAL (SELECT sum(amount) AS s "
        "FROM expenses e WHERE e.dept_id = d.dept_id AND e.category = '工资薪酬') t",
        "SELECT dept_name, NULL FROM departments",
    ),
    bypass(
        "exists-payroll",
        "SELECT count(*) FROM departments d WHERE EXISTS (SELECT 1 FROM expenses e "
        "WHERE e.dept_id = d.dept_id AND e.category = '工资薪酬')",
        "SELECT 0",
    ),
    bypass(
        "budget-minus-visible",
        "SELECT sum(amount) FILTER (WHERE category = '工资薪酬') FROM expense_budget",
        "SELECT NULL",
    ),
    bypass(
        "upper-table",
        "SELECT sum(amount) FROM EXPENSES WHERE category = '工资薪酬'",
        "SELECT NULL",
    ),
    bypass(
        "quoted-capitalised-table",
        "SELECT sum(amount) FROM \"Expenses\" WHERE category = '工资薪酬'",
        "SELECT NULL",
    ),
    bypass(
        "revenue-is-not-restricted",
        "SELECT sum(amount) FROM order_lines",
        "SELECT sum(amount) FROM order_lines",
    ),
    # Payroll is paid out in cash too: the same concept, closed in cash_flows as well.
    bypass(
        "cash-outflow-total",
        "SELECT sum(amount) FROM cash_flows WHERE direction = '流出'",
        f"SELECT sum(amount) FROM cash_flows WHERE direction = '流出' AND {NOT_PAYROLL}",
    ),
    bypass(
        "cash-by-category",
        "SELECT category, sum(amount) FROM cash_flows GROUP BY 1",
        f"SELECT category, sum(amount) FROM cash_flows WHERE {NOT_PAYROLL} GROUP BY 1",
    ),
    bypass(
        "payroll-cash-asked-directly",
        "SELECT sum(amount) FROM cash_flows WHERE category = '工资薪酬'",
        "SELECT NULL",
    ),
    bypass(
        "payroll-cash-by-like",
        "SELECT count(*) FROM cash_flows WHERE category LIKE '%工资%'",
        "SELECT 0",
    ),
    bypass(
        "cash-minus-visible",
        "SELECT (SELECT sum(amount) FROM cash_flows) - "
        "(SELECT sum(amount) FROM cash_flows WHERE category <> '工资薪酬')",
        "SELECT 0",
    ),
    bypass(
        "categories-of-expenses-and-cash",
        "SELECT category FROM expenses UNION SELECT category FROM cash_flows",
        f"SELECT category FROM expenses WHERE {NOT_PAYROLL} UNION "
        f"SELECT category FROM cash_flows WHERE {NOT_PAYROLL}",
    ),
    bypass(
        "payroll-cash-through-cte",
        "WITH c AS (SELECT * FROM cash_flows) SELECT sum(amount) FROM c "
        "WHERE category = '工资薪酬'",
        "SELECT NULL",
    ),
]


@pytest.mark.parametrize(("sql", "truth"), SALES_BYPASSES)
def test_sales_dept_never_sees_payroll(sql, truth, raw, engines):
    try:
        got = engines["sales_dept"].execute(sql)
    except CockpitError:
        return
    assert _rows(got) == _rows(raw.execute(truth))


def _cash_outflow_by_category_2025(engine):
    """The compiled semantic query "2025 cash outflow by cash category", run on `engine`."""
    query = SemanticQuery(
        metrics=["cash_outflow"],
        dimensions=["cash_category"],
        time_range={"start": date(2025, 1, 1), "end": date(2026, 1, 1)},
    )
    return engine.execute(compile_query(MODEL, query).ast)


CASH_OUT_2025 = (
    "SELECT category, sum(amount) FROM cash_flows WHERE direction = '流出' "
    "AND txn_date >= DATE '2025-01-01' AND txn_date < DATE '2026-01-01'"
)


def test_sales_dept_cash_outflow_by_category_has_no_payroll(raw, engines):
    got = _cash_outflow_by_category_2025(engines["sales_dept"])
    truth = raw.execute(f"{CASH_OUT_2025} AND {NOT_PAYROLL} GROUP BY 1")
    assert _rows(got) == _rows(truth)
    assert "工资薪酬" not in {row[0] for row in got.rows}
    everyone = _cash_outflow_by_category_2025(engines[None])
    assert "工资薪酬" in {row[0] for row in everyone.rows}  # the data has payroll to hide


def test_sales_dept_asks_cash_outflow_by_category_without_payroll(assistant, raw):
    answer = assistant.ask("2025年各收支类别的现金流出", role="sales_dept")
    assert answer.status == "ok", answer.message
    truth = raw.execute(f"{CASH_OUT_2025} AND {NOT_PAYROLL} GROUP BY 1").rows
    assert sorted(answer.rows) == sorted(truth)
    assert "工资薪酬" not in " ".join(_texts(answer))


# --- auditor: pseudonyms for names, no cost --------------------------------------------------------

PSEUDONYM = re.compile(r"^(客户|销售代表)-[0-9a-f]{10}$")


@pytest.fixture(scope="module")
def real_names(raw) -> set[str]:
    names = {r[0] for r in raw.execute("SELECT customer_name FROM customers").rows}
    names |= {r[0] for r in raw.execute("SELECT rep_name FROM sales_reps").rows}
    return names


def _leaks(values, real_names: set[str]) -> list[str]:
    """Real names found in any of `values` (exactly or inside a longer text)."""
    found = []
    for value in values:
        if not isinstance(value, str):
            continue
        if value in real_names:
            found.append(value)
            continue
        found += [name for name in real_names if name in value]
    return found


def test_auditor_sees_pseudonyms_and_every_other_column(raw, engines):
    got = engines["auditor"].execute("SELECT * FROM customers ORDER BY customer_id")
    truth = raw.execute("SELECT * FROM customers ORDER BY customer_id")
    assert len(got.rows) == len(truth.rows) == 800
    name = got.names.index("customer_name")
    assert all(PSEUDONYM.match(row[name]) for row in got.rows)
    # The rest is untouched, and each customer keeps its own stable pseudonym.
    strip = [tuple(v for i, v in enumerate(row) if i != name) for row in got.rows]
    assert strip == [tuple(v for i, v in enumerate(row) if i != name) for row in truth.rows]
    assert len({row[name] for row in got.rows}) == 800
    again = engines["auditor"].execute("SELECT customer_name FROM customers ORDER BY customer_id")
    assert [r[0] for r in again.rows] == [row[name] for row in got.rows]


AUDITOR_NAME_ATTEMPTS = [
    pytest.param("SELECT customer_name FROM customers", id="names"),
    pytest.param("SELECT * FROM customers", id="star"),
    pytest.param("SELECT rep_name FROM sales_reps", id="rep-names"),
    pytest.param("SELECT * FROM sales_reps", id="reps-star"),
    pytest.param(
        "SELECT c.customer_name, sum(i.amount) FROM invoices i JOIN customers c "
        "USING (customer_id) GROUP BY 1",
        id="join",
    ),
    pytest.param("SELECT customer_name FROM (SELECT * FROM customers) t", id="subquery"),
    pytest.param("WITH x AS (SELECT customer_name AS n FROM customers) SELECT n FROM x", id="cte"),
    pytest.param(
        "SELECT customer_name FROM customers UNION SELECT rep_name FROM sales_reps", id="union"
    ),
    pytest.param("SELECT (SELECT max(customer_name) FROM customers)", id="scalar-subquery"),
    pytest.param(
        "SELECT o.order_id, t.customer_name FROM orders o, LATERAL (SELECT customer_name "
        "FROM customers c WHERE c.customer_id = o.customer_id) t LIMIT 50",
        id="lateral",
    ),
    pytest.param(
        "SELECT first_value(customer_name) OVER (ORDER BY customer_id) FROM customers",
        id="window",
    ),
    pytest.param(
        "SELECT upper(customer_name), reverse(customer_name), customer_name || '' FROM customers",
        id="string-functions",
    ),
    pytest.param("SELECT string_agg(customer_name, ',') FROM customers", id="string-agg"),
    pytest.param("SELECT CUSTOMER_NAME FROM CUSTOMERS", id="upper-table"),
    pytest.param('SELECT customer_name FROM "customers"', id="quoted-table"),
    pytest.param("SELECT customer_name FROM Customers c", id="capitalised-table"),
    pytest.param('SELECT rep_name FROM "SALES_REPS"', id="quoted-upper-reps"),
]


@pytest.mark.parametrize("sql", AUDITOR_NAME_ATTEMPTS)
def test_auditor_never_reads_a_real_name(sql, engines, real_names):
    try:
        got = engines["auditor"].execute(sql)
    except CockpitError:
        return
    assert got.rows
    leaked = _leaks([v for row in got.rows for v in row], real_names)
    assert not leaked, f"{sql} revealed {leaked[:3]}"


@pytest.mark.parametrize(
    "predicate",
    [
        "customer_name LIKE '%科技%'",
        "customer_name = (SELECT 'x')",
        "starts_with(customer_name, '北辰')",
        "regexp_matches(customer_name, '(有限公司|股份)')",
    ],
)
def test_auditor_cannot_probe_names_with_predicates(predicate, engines):
    """A predicate on a masked column sees the pseudonym, so it cannot test the real name."""
    got = engines["auditor"].execute(f"SELECT count(*) FROM customers WHERE {predicate}")
    assert got.scalar() == 0


def test_auditor_cannot_test_one_real_name(raw, engines):
    name = raw.execute("SELECT customer_name FROM customers ORDER BY customer_id LIMIT 1").scalar()
    probe = name.replace("'", "''")
    got = engines["auditor"].execute(
        f"SELECT count(*) FROM customers WHERE customer_name = '{probe}'"
    )
    assert got.scalar() == 0


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param("SELECT sum(cost_amount) FROM order_lines", id="sum"),
        pytest.param("SELECT max(cost_amount) FROM (SELECT * FROM order_lines) t", id="subquery"),
        pytest.param(
            "WITH x AS (SELECT cost_amount FROM order_lines) SELECT sum(cost_amount) FROM x",
            id="cte",
        ),
        pytest.param("SELECT sum(amount - cost_amount) FROM order_lines", id="gross-profit"),
        pytest.param(
            "SELECT DISTINCT sum(cost_amount) OVER () FROM order_lines", id="window-over-all"
        ),
        pytest.param("SELECT sum(cost_amount) FROM ORDER_LINES", id="upper-table"),
        pytest.param(
            "SELECT sum(ol.quantity * p.unit_cost) FROM order_lines ol JOIN products p "
            "USING (product_id)",
            id="cost-rebuilt-from-unit-cost",
        ),
        pytest.param("SELECT max(unit_cost) FROM products", id="unit-cost"),
    ],
)
def test_auditor_never_sees_cost(sql, engines):
    try:
        got = engines["auditor"].execute(sql)
    except CockpitError:
        return
    assert _no_figure(got.rows), f"{sql} returned {got.rows[:3]}"


AUDITOR_CASH = [
    bypass(
        "cash-by-category",
        "SELECT category, sum(amount) FROM cash_flows GROUP BY 1",
        f"SELECT category, sum(amount) FROM cash_flows WHERE {NOT_SUPPLIER_PAYMENTS} GROUP BY 1",
    ),
    bypass(
        "supplier-payments-asked-directly",
        "SELECT sum(amount) FROM cash_flows WHERE category = '采购付款'",
        "SELECT NULL",
    ),
    bypass(
        "operating-outflow-minus-visible",
        "SELECT (SELECT sum(amount) FROM cash_flows WHERE activity = '经营活动') - "
        "(SELECT sum(amount) FROM cash_flows WHERE activity = '经营活动' "
        "AND category <> '采购付款')",
        "SELECT 0",
    ),
    bypass(
        "supplier-payments-through-subquery",
        "SELECT sum(c.amount) FROM (SELECT * FROM cash_flows) c WHERE c.category LIKE '采购%'",
        "SELECT NULL",
    ),
    bypass(
        "payroll-is-not-cost",
        "SELECT sum(amount) FROM cash_flows WHERE category = '工资薪酬'",
        "SELECT sum(amount) FROM cash_flows WHERE category = '工资薪酬'",
    ),
]


@pytest.mark.parametrize(("sql", "truth"), AUDITOR_CASH)
def test_auditor_never_sees_supplier_payments(sql, truth, raw, engines):
    """Supplier payments repeat the purchase amounts the auditor may not see."""
    try:
        got = engines["auditor"].execute(sql)
    except CockpitError:
        return
    assert _rows(got) == _rows(raw.execute(truth))


def test_auditor_cash_outflow_by_category_has_no_supplier_payments(raw, engines):
    got = _cash_outflow_by_category_2025(engines["auditor"])
    truth = raw.execute(f"{CASH_OUT_2025} AND {NOT_SUPPLIER_PAYMENTS} GROUP BY 1")
    assert _rows(got) == _rows(truth)
    categories = {row[0] for row in got.rows}
    assert "采购付款" not in categories and "工资薪酬" in categories


def test_auditor_asks_cash_outflow_by_category_without_supplier_payments(assistant, raw):
    answer = assistant.ask("2025年各收支类别的现金流出", role="auditor")
    assert answer.status == "ok", answer.message
    truth = raw.execute(f"{CASH_OUT_2025} AND {NOT_SUPPLIER_PAYMENTS} GROUP BY 1").rows
    assert sorted(answer.rows) == sorted(truth)
    assert "采购付款" not in " ".join(_texts(answer))


def test_auditor_cost_column_reads_null_and_revenue_is_whole(raw, engines):
    got = engines["auditor"].execute("SELECT count(cost_amount), sum(amount) FROM order_lines")
    assert got.rows == [(0, raw.execute("SELECT sum(amount) FROM order_lines").scalar())]


@pytest.mark.parametrize("role", ["cfo", "finance_manager", "ar_manager", "sales_director"])
def test_unrestricted_roles_see_everything(role, raw, engines):
    sql = (
        "SELECT (SELECT count(*) FROM orders), (SELECT sum(amount) FROM expenses), "
        "(SELECT sum(cost_amount) FROM order_lines), (SELECT max(customer_name) FROM customers)"
    )
    assert engines[role].execute(sql).rows == raw.execute(sql).rows


# --- unknown roles -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["nobody", "EAST_MANAGER", "east_manager ", "", "cfo;"])
def test_an_unknown_role_is_an_error_not_a_bypass(name, raw):
    with pytest.raises(QueryError) as caught:
        SecuredEngine(raw, MODEL, role=name)
    assert "east_manager" in caught.value.message("en")
    with pytest.raises(QueryError):
        role_of(MODEL, name)


# --- through the Assistant ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("rls-cache")


@pytest.fixture(scope="module")
def assistant(demo_db, cache) -> Assistant:
    return Assistant.demo(database=demo_db, settings=Settings(cache_dir=cache))


def _texts(answer) -> list[str]:
    """Everything an answer shows a user, as text."""
    texts = [answer.narrative, answer.message, answer.interpretation, *answer.notes]
    texts += [s.text for s in answer.suggestions]
    texts += [str(v) for row in answer.rows for v in row]
    return [t for t in texts if t]


def _numbers(answer) -> list:
    return [
        v
        for row in answer.rows
        for v in row
        if isinstance(v, int | float | Decimal) and not isinstance(v, bool)
    ]


def _east_revenue(raw, start: date, end: date) -> Decimal:
    return raw.execute(
        f"SELECT sum(ol.amount) FROM {E_LINES} ol JOIN orders o ON o.order_id = ol.order_id "
        f"WHERE o.status = '已完成' AND o.order_date >= DATE '{start}' "
        f"AND o.order_date < DATE '{end}'"
    ).scalar()


def test_ask_revenue_by_region_as_east_manager(assistant, raw):
    answer = assistant.ask("2025年各区域的营业收入", role="east_manager")
    assert answer.status == "ok"
    assert answer.rows == [(EAST, _east_revenue(raw, date(2025, 1, 1), date(2026, 1, 1)))]
    others = {r[0] for r in raw.execute("SELECT region_name FROM regions").rows} - {EAST}
    assert not [t for t in _texts(answer) for o in others if o in t]


def test_ask_about_another_region_gives_no_number(assistant, raw):
    south = raw.execute(
        "SELECT sum(ol.amount) FROM order_lines ol JOIN orders o USING (order_id) "
        "JOIN regions r USING (region_id) WHERE r.region_name = '华南' AND o.status = '已完成' "
        "AND year(o.order_date) = 2025"
    ).scalar()
    for question in ("华南的收入", "2025年华南的营业收入", "华南和华北的毛利率"):
        answer = assistant.ask(question, role="east_manager")
        assert answer.status in ("ok", "refused", "clarify"), question
        assert not [v for v in _numbers(answer) if v], (question, answer.rows)
        assert not AMOUNT.search(answer.narrative), (question, answer.narrative)
        assert format_value(south, "yuan", "zh", compact=True) not in " ".join(_texts(answer))


def test_follow_up_to_another_region_gives_no_number(assistant):
    conversation = assistant.conversation(role="east_manager")
    first = conversation.ask("2025年华东的营业收入")
    assert first.status == "ok" and first.value()
    follow = conversation.ask("华南呢？")
    assert not [v for v in _numbers(follow) if v], follow.rows
    assert not AMOUNT.search(follow.narrative), follow.narrative


def _east_margin(raw, month: date) -> float:
    row = raw.execute(
        f"SELECT sum(ol.amount), sum(ol.cost_amount) FROM {E_LINES} ol "
        "JOIN orders o ON o.order_id = ol.order_id WHERE o.status = '已完成' "
        f"AND o.order_date >= DATE '{month}' AND o.order_date < DATE '{add_months(month, 1)}'"
    ).rows[0]
    return float((row[0] - row[1]) / row[0])


def test_explanation_as_east_manager_uses_east_numbers_only(assistant, raw):
    answer = assistant.ask("为什么2025年3月毛利率下降了", role="east_manager")
    assert answer.status == "ok", answer.message
    march = format_value(_east_margin(raw, date(2025, 3, 1)), "percent", "zh")
    february = format_value(_east_margin(raw, date(2025, 2, 1)), "percent", "zh")
    assert march in answer.narrative and february in answer.narrative, answer.narrative
    east_customers = {r[0] for r in raw.execute(f"SELECT customer_name FROM {E_CUSTOMERS}").rows}
    east_reps = {r[0] for r in raw.execute(f"SELECT rep_name FROM {E_REPS}").rows}
    regions = {r[0] for r in raw.execute("SELECT region_name FROM regions").rows}
    all_customers = {r[0] for r in raw.execute("SELECT customer_name FROM customers").rows}
    all_reps = {r[0] for r in raw.execute("SELECT rep_name FROM sales_reps").rows}
    outside = (regions - {EAST}) | (all_customers - east_customers) | (all_reps - east_reps)
    shown = [str(v) for row in answer.rows for v in row]
    shown += [answer.narrative, *[s.text for s in answer.suggestions]]
    assert not {name for name in outside for text in shown if name in text}


def test_summary_as_east_manager_shows_east_figures_or_is_refused(assistant, raw):
    answer = assistant.ask("本月经营概况", role="east_manager")
    if answer.status != "ok":
        assert not AMOUNT.search(answer.message), answer.message
        return
    east = _east_revenue(raw, date(2025, 12, 1), date(2026, 1, 1))
    assert format_value(east, "yuan", "zh", compact=True) in answer.narrative


def test_summary_as_sales_dept_leaves_payroll_out(assistant, raw):
    answer = assistant.ask("本月经营概况", role="sales_dept")
    assert answer.status == "ok", answer.message
    sql = (
        "SELECT sum(amount) FROM expenses WHERE expense_date >= DATE '2025-12-01' "
        "AND expense_date < DATE '2026-01-01'"
    )
    without = raw.execute(sql + f" AND {NOT_PAYROLL}").scalar()
    everything = raw.execute(sql).scalar()
    assert format_value(without, "yuan", "zh", compact=True) in answer.narrative
    assert format_value(everything, "yuan", "zh", compact=True) not in answer.narrative


def test_sales_dept_expense_answers_leave_payroll_out(assistant, raw):
    answer = assistant.ask("2025年各费用类别的费用", role="sales_dept")
    assert answer.status == "ok"
    truth = raw.execute(
        f"SELECT category, sum(amount) FROM expenses WHERE {NOT_PAYROLL} "
        "AND year(expense_date) = 2025 GROUP BY 1"
    ).rows
    assert sorted(answer.rows) == sorted(truth)
    payroll = assistant.ask("2025年工资薪酬费用", role="sales_dept")
    assert not [v for v in _numbers(payroll) if v]


def test_anomalies_as_east_manager_are_computed_on_east_data(assistant, raw):
    east_engine = SecuredEngine(raw, MODEL, role="east_manager")
    found = scan_anomalies(MODEL, east_engine, assistant.as_of)
    assert found, "the east data has anomalies (e.g. 90+ days overdue in 2025-08)"
    for anomaly in found:
        filters = [{"dimension": "region", "op": "=", "values": [EAST]}]
        if anomaly.dimension is not None:
            filters.append({"dimension": anomaly.dimension, "op": "=", "values": [anomaly.member]})
        query = SemanticQuery(
            metrics=[anomaly.metric],
            filters=filters,
            time_range={"start": anomaly.period, "end": add_months(anomaly.period, 1)},
        )
        truth = raw.execute(compile_query(MODEL, query).ast).scalar()
        assert truth is not None and float(truth) == pytest.approx(anomaly.value), anomaly
    answer = assistant.ask("2025年有哪些异常", role="east_manager")
    assert answer.status == "ok"
    reasons = {a.reason_zh for a in found}
    assert {row[-1] for row in answer.rows} <= reasons
    regions = {r[0] for r in raw.execute("SELECT region_name FROM regions").rows}
    assert {row[2] for row in answer.rows} & regions <= {EAST}
    # Company-level rows are the role's whole scope, not "the company".
    assert "全公司" not in {row[2] for row in answer.rows}
    assert "华东区经理可见范围" in {row[2] for row in answer.rows}


def test_alerts_as_east_manager_never_name_anything_outside_the_east(assistant, raw):
    outside = {
        r[0]
        for r in raw.execute(
            f"SELECT customer_name FROM customers WHERE region_id NOT IN {EAST_ID}"
        ).rows
    }
    outside |= {r[0] for r in raw.execute("SELECT region_name FROM regions").rows} - {EAST}
    for question in ("2025年10月有哪些预警", "2025年12月有哪些预警", "有哪些预警"):
        answer = assistant.ask(question, role="east_manager")
        assert answer.status == "ok"
        text = " ".join(_texts(answer))
        assert not {name for name in outside if name in text}, (question, text)


AUDITOR_QUESTIONS = [
    pytest.param("2025年各客户的营业收入", id="revenue-by-customer"),
    pytest.param("2025年收入最高的10个客户", id="top-10-customers"),
    pytest.param("哪些客户逾期最多", id="most-overdue-customers"),
    pytest.param("2025年各销售代表的收入", id="revenue-by-rep"),
    pytest.param("为什么2025年3月营业收入下降了", id="explain-revenue"),
    pytest.param("为什么2025年10月逾期应收增加了", id="explain-overdue"),
    pytest.param("2025年有哪些异常", id="anomalies"),
    pytest.param("2025年10月有哪些预警", id="alerts-october"),
    pytest.param("2025年12月有哪些预警", id="alerts-december"),
    pytest.param("本月经营概况", id="summary"),
    pytest.param("重工的收入", id="partial-name"),
    pytest.param("top 10 customers by revenue in 2025", id="top-10-english"),
]


@pytest.mark.parametrize("question", AUDITOR_QUESTIONS)
def test_auditor_answers_never_contain_a_real_name(question, assistant, real_names):
    answer = assistant.ask(question, role="auditor")
    assert answer.status in ("ok", "clarify", "refused", "error")
    leaked = _leaks(_texts(answer), real_names)
    assert not leaked, (question, leaked[:3])


@pytest.mark.parametrize(
    "question",
    [
        pytest.param("为什么2025年3月毛利率下降了", id="explain-gross-margin"),
        pytest.param("2025年毛利", id="gross-profit"),
        pytest.param("2025年各产品线的毛利率", id="gross-margin-by-product-line"),
    ],
)
def test_auditor_gets_no_figure_for_a_metric_built_on_cost(question, assistant):
    """cogs is denied: gross profit and margin are refused, never computed with cost = NULL."""
    answer = assistant.ask(question, role="auditor")
    assert answer.status != "ok" or not _numbers(answer), (answer.narrative, answer.rows[:3])
    assert "100.0%" not in answer.narrative


@pytest.mark.parametrize("role", ["nobody", "EAST_MANAGER", ""])
def test_ask_with_an_unknown_role_is_an_error(role, assistant):
    for question, lang in (("2025年各区域的营业收入", "zh"), ("revenue by region in 2025", "en")):
        answer = assistant.ask(question, role=role)
        assert answer.status == "error" and not answer.rows
        assert answer.message and answer.lang == lang
    with pytest.raises(CockpitError):
        assistant.conversation(role=role)


def test_every_question_is_audited_with_its_role(demo_db, tmp_path):
    assistant = Assistant.demo(database=demo_db, settings=Settings(cache_dir=tmp_path))
    assistant.ask("2025年各区域的营业收入", role="east_manager")
    assistant.ask("SELECT * FROM customers", role="auditor")
    assistant.ask("", role="sales_dept")
    assistant.ask("2025年各区域的营业收入", role="nobody")
    log = tmp_path / "audit" / "audit.jsonl"
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    seen = [(e["role"], e["status"]) for e in entries]
    assert ("east_manager", "ok") in seen
    assert ("auditor", "refused") in seen
    assert ("sales_dept", "error") in seen
    assert ("nobody", "error") in seen, "a question under an unknown role is not audited"
    east = next(e for e in entries if e["role"] == "east_manager")
    assert east["rows"] == 1 and east["sql"] and east["duration_ms"] >= 0


# --- the command line --------------------------------------------------------------------------


def _cli(*args: str, cache: Path):
    from typer.testing import CliRunner

    from assistant.cli import app

    env = {"COCKPIT_CACHE_DIR": str(cache), "COCKPIT_CONFIG": os.devnull, "COCKPIT_ROLE": None}
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def test_cli_query_and_ask_with_a_role(demo_db, cache, raw):
    others = {r[0] for r in raw.execute("SELECT region_name FROM regions").rows} - {EAST}
    query = _cli(
        "query",
        "-m",
        "revenue",
        "-b",
        "region",
        "--role",
        "east_manager",
        "--db",
        str(demo_db),
        cache=cache,
    )
    ask = _cli(
        "ask", "2025年各区域的营业收入", "--role", "east_manager", "--db", str(demo_db), cache=cache
    )
    for result in (query, ask):
        assert result.exit_code == 0, result.output
        assert EAST in result.output
        assert not {o for o in others if o in result.output}, result.output
    east = format_value(_east_revenue(raw, date(2025, 1, 1), date(2026, 1, 1)), "yuan", "zh")
    assert (
        east in ask.output
        or format_value(
            _east_revenue(raw, date(2025, 1, 1), date(2026, 1, 1)), "yuan", "zh", compact=True
        )
        in ask.output
    )


@pytest.mark.parametrize("role", ["nobody", "EAST_MANAGER"])
def test_cli_unknown_role_is_a_message(role, demo_db, cache):
    for args in (
        ("query", "-m", "revenue", "-b", "region"),
        ("ask", "2025年各区域的营业收入"),
    ):
        result = _cli(*args, "--role", role, "--db", str(demo_db), cache=cache)
        assert result.exit_code == 1, result.output
        assert role in result.output and "east_manager" in result.output
        assert not AMOUNT.search(result.output), result.output


def test_cli_injected_value_under_a_role(demo_db, cache):
    result = _cli(
        "query", "-m", "revenue", "-b", "region", "-w", "region=华南' OR '1'='1",
        "--role", "east_manager", "--db", str(demo_db),
        cache=cache,
    )  # fmt: skip
    assert "华南" not in result.output.replace("华南' OR", "")
    assert not AMOUNT.search(result.output.replace("1'='1", "")), result.output


# --- LLM-written SQL (a fake chat model stands in for the endpoint) ----------------------------


def _llm_assistant(demo_db, cache: Path, sql: str) -> Assistant:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    # The model first says no governed query fits, then writes SQL (the same SQL on repair).
    chat = FakeListChatModel(responses=[json.dumps({"unanswerable": "needs SQL"}), sql, sql, sql])
    return Assistant(MODEL, DuckDBEngine(demo_db), llm=chat, settings=Settings(cache_dir=cache))


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param(
            "SELECT r.region_name, count(*) AS n FROM orders o JOIN regions r "
            "ON r.region_id = o.region_id GROUP BY 1 ORDER BY 1",
            id="lower-case",
        ),
        pytest.param(
            "SELECT r.region_name, count(*) AS n FROM ORDERS o JOIN REGIONS r "
            "ON r.region_id = o.region_id GROUP BY 1 ORDER BY 1",
            id="upper-case-tables",
        ),
        pytest.param(
            "WITH x AS (SELECT * FROM Orders) SELECT r.region_name, count(*) AS n FROM x "
            'JOIN "Regions" r ON r.region_id = x.region_id GROUP BY 1 ORDER BY 1',
            id="cte-and-quoted",
        ),
    ],
)
def test_llm_written_sql_is_secured_for_the_role(sql, demo_db, cache, raw):
    assistant = _llm_assistant(demo_db, cache, sql)
    # A question the rules cannot place (so the attacker's SQL is what answers it).
    answer = assistant.ask("把订单按区域捋一遍给我瞅瞅", role="east_manager")
    assert answer.path == "llm_sql", (answer.status, answer.message)
    if answer.status == "ok":
        truth = raw.execute(f"SELECT count(*) FROM {E_ORDERS}").scalar()
        assert answer.rows == [(EAST, truth)], answer.rows
