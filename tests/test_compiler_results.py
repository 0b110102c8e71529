"""Compiled SemanticQueries give the same numbers as hand-written SQL on the demo database.

Each case pairs a SemanticQuery with a check query written by hand from the metric
definitions (口径) in DEMO_DATA.md — not from the compiler's output. Both run on the same
DuckDB file; results are compared row by row on the dimension keys (STYLE.md habit 7).

Check-query conventions: columns are named exactly like the compiled result's columns (that is
the explicit name mapping), and every compiled column must be produced by the check query.
Time keys are built with make_date()/ISO weekday arithmetic rather than DATE_TRUNC, so they do
not share the compiler's construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from compare_util import assert_same_result

from semantic_layer.compiler import compile_query
from semantic_layer.errors import QueryError
from semantic_layer.query import SemanticQuery

# --- building blocks of the check queries ------------------------------------------------

# Completed order lines with their order's attributes: the rows every sales metric reads.
SOLD = """(
    SELECT ol.order_id, ol.product_id, ol.quantity, ol.unit_price, ol.amount, ol.cost_amount,
           o.order_date, o.customer_id, o.rep_id, o.region_id, o.channel
    FROM order_lines AS ol
    JOIN orders AS o ON o.order_id = ol.order_id
    WHERE o.status = '已完成'
)"""


def day_of(col: str) -> str:
    return f"CAST({col} AS DATE)"


def week_of(col: str) -> str:
    """The Monday of the ISO week: 2025-01-01 (a Wednesday) → 2024-12-30."""
    return f"(CAST({col} AS DATE) - CAST(isodow({col}) - 1 AS INTEGER))"


def month_of(col: str) -> str:
    return f"make_date(year({col}), month({col}), 1)"


def quarter_of(col: str) -> str:
    return f"make_date(year({col}), (quarter({col}) - 1) * 3 + 1, 1)"


def year_of(col: str) -> str:
    return f"make_date(year({col}), 1, 1)"


def months_later(key_sql: str, months: int) -> str:
    """A period key moved forward, so a comparison period lines up with the current one."""
    return f"CAST({key_sql} + INTERVAL {months} MONTH AS DATE)"


def within(col: str, start: str, end: str) -> str:
    """start <= col < end (end exclusive, like SemanticQuery.time_range)."""
    return f"{col} >= DATE '{start}' AND {col} < DATE '{end}'"


def with_compare(current: str, previous: str, keys: list[str], metrics: list[str]) -> str:
    """Join current values with comparison values (already keyed like the current ones)."""
    on = " AND ".join(f"c.{k} IS NOT DISTINCT FROM p.{k}" for k in keys) or "TRUE"
    cols = [f"c.{k} AS {k}" for k in keys]
    for m in metrics:
        cols += [
            f"c.{m} AS {m}",
            f"p.{m} AS {m}__compare",
            f"c.{m} - p.{m} AS {m}__change",
            f"CAST(c.{m} - p.{m} AS DOUBLE) / NULLIF(ABS(p.{m}), 0) AS {m}__change_pct",
        ]
    return (
        f"WITH c AS ({current}), p AS ({previous}) "
        f"SELECT {', '.join(cols)} FROM c LEFT JOIN p ON {on}"
    )


def last_snapshots(table: str, key_sql: str, start: str | None, end: str | None) -> str:
    """(key, d): the last snapshot date of the whole table inside each period of the range."""
    where = f"WHERE {within('snapshot_date', start, end)}" if start and end else ""
    return f"SELECT {key_sql} AS k, MAX(snapshot_date) AS d FROM {table} {where} GROUP BY 1"


Y2025 = {"start": "2025-01-01", "end": "2026-01-01"}
Y2024 = {"start": "2024-01-01", "end": "2025-01-01"}
MAR2025 = {"start": "2025-03-01", "end": "2025-04-01"}
H1_2025 = {"start": "2025-01-01", "end": "2025-07-01"}


@dataclass(frozen=True)
class Case:
    id: str
    query: dict[str, Any]
    sql: str
    ordered: bool = False  # top-N: compare in the result's order, not sorted by key
    allow_null: bool = False  # NULL is the right answer for some cells


CASES: list[Case] = []


def case(id: str, query: dict[str, Any], sql: str, **options: bool) -> None:
    CASES.append(Case(id, query, sql, **options))


# --- sales metrics -------------------------------------------------------------------------

case(
    "sales_pnl_by_month_2025",
    {
        "metrics": ["revenue", "cogs", "gross_profit", "gross_margin"],
        "dimensions": ["metric_time:month"],
        "time_range": Y2025,
        "intent": "trend",
    },
    f"""
    SELECT {month_of("order_date")} AS metric_time__month,
           SUM(amount) AS revenue,
           SUM(cost_amount) AS cogs,
           SUM(amount) - SUM(cost_amount) AS gross_profit,
           (SUM(amount) - SUM(cost_amount)) / SUM(amount) AS gross_margin
    FROM {SOLD}
    WHERE {within("order_date", "2025-01-01", "2026-01-01")}
    GROUP BY 1
    """,
)

case(
    "orders_aov_units_by_channel_2024",
    {
        "metrics": ["order_count", "avg_order_value", "units_sold"],
        "dimensions": ["channel"],
        "time_range": Y2024,
    },
    f"""
    SELECT channel,
           COUNT(DISTINCT order_id) AS order_count,
           SUM(amount) / COUNT(DISTINCT order_id) AS avg_order_value,
           SUM(quantity) AS units_sold
    FROM {SOLD}
    WHERE year(order_date) = 2024
    GROUP BY channel
    """,
)

case(
    "discount_by_product_line_2025_03",
    {
        "metrics": ["list_amount", "avg_discount_rate"],
        "dimensions": ["product_line"],
        "time_range": MAR2025,
    },
    f"""
    SELECT p.product_line,
           SUM(s.quantity * s.unit_price) AS list_amount,
           1 - SUM(s.amount) / SUM(s.quantity * s.unit_price) AS avg_discount_rate
    FROM {SOLD} AS s
    JOIN products AS p ON p.product_id = s.product_id
    WHERE {within("s.order_date", "2025-03-01", "2025-04-01")}
    GROUP BY p.product_line
    """,
)

case(
    "active_customers_by_region_quarter_2025",
    {
        "metrics": ["active_customers"],
        "dimensions": ["region", "metric_time:quarter"],
        "time_range": Y2025,
    },
    f"""
    SELECT r.region_name AS region,
           {quarter_of("s.order_date")} AS metric_time__quarter,
           COUNT(DISTINCT s.customer_id) AS active_customers
    FROM {SOLD} AS s
    JOIN regions AS r ON r.region_id = s.region_id
    WHERE year(s.order_date) = 2025
    GROUP BY 1, 2
    """,
)

case(
    "revenue_by_industry_2025",
    {"metrics": ["revenue"], "dimensions": ["industry"], "time_range": Y2025},
    f"""
    SELECT c.industry, SUM(s.amount) AS revenue
    FROM {SOLD} AS s
    JOIN customers AS c ON c.customer_id = s.customer_id
    WHERE year(s.order_date) = 2025
    GROUP BY c.industry
    """,
)

case(
    "revenue_margin_by_credit_rating_2024",
    {
        "metrics": ["revenue", "gross_margin"],
        "dimensions": ["credit_rating"],
        "time_range": Y2024,
    },
    f"""
    SELECT c.credit_rating,
           SUM(s.amount) AS revenue,
           1 - SUM(s.cost_amount) / SUM(s.amount) AS gross_margin
    FROM {SOLD} AS s
    JOIN customers AS c ON c.customer_id = s.customer_id
    WHERE year(s.order_date) = 2024
    GROUP BY c.credit_rating
    """,
)

case(
    "revenue_by_sales_rep_h1_2025",
    {"metrics": ["revenue", "order_count"], "dimensions": ["sales_rep"], "time_range": H1_2025},
    f"""
    SELECT sr.rep_name AS sales_rep,
           SUM(s.amount) AS revenue,
           COUNT(DISTINCT s.order_id) AS order_count
    FROM {SOLD} AS s
    JOIN sales_reps AS sr ON sr.rep_id = s.rep_id
    WHERE {within("s.order_date", "2025-01-01", "2025-07-01")}
    GROUP BY sr.rep_name
    """,
)

case(
    "revenue_by_day_south_filter_eq",
    {
        "metrics": ["revenue"],
        "dimensions": ["metric_time:day"],
        "filters": [{"dimension": "region", "op": "=", "values": ["华南"]}],
        "time_range": {"start": "2025-03-01", "end": "2025-03-15"},
    },
    f"""
    SELECT {day_of("s.order_date")} AS metric_time__day, SUM(s.amount) AS revenue
    FROM {SOLD} AS s
    JOIN regions AS r ON r.region_id = s.region_id
    WHERE r.region_name = '华南' AND {within("s.order_date", "2025-03-01", "2025-03-15")}
    GROUP BY 1
    """,
)

case(
    "revenue_by_iso_week_2025_jan_feb",
    {
        "metrics": ["revenue", "units_sold"],
        "dimensions": ["metric_time:week"],
        "time_range": {"start": "2025-01-01", "end": "2025-03-01"},
    },
    f"""
    SELECT {week_of("order_date")} AS metric_time__week,
           SUM(amount) AS revenue,
           SUM(quantity) AS units_sold
    FROM {SOLD}
    WHERE {within("order_date", "2025-01-01", "2025-03-01")}
    GROUP BY 1
    """,
)

case(
    "revenue_by_year_all_time",
    {"metrics": ["revenue", "gross_profit"], "dimensions": ["metric_time:year"]},
    f"""
    SELECT {year_of("order_date")} AS metric_time__year,
           SUM(amount) AS revenue,
           SUM(amount - cost_amount) AS gross_profit
    FROM {SOLD}
    GROUP BY 1
    """,
)

# --- comparisons -----------------------------------------------------------------------------

case(
    "revenue_yoy_by_month_2025",
    {
        "metrics": ["revenue"],
        "dimensions": ["metric_time:month"],
        "time_range": Y2025,
        "compare": "yoy",
    },
    with_compare(
        f"""SELECT {month_of("order_date")} AS metric_time__month, SUM(amount) AS revenue
            FROM {SOLD} WHERE year(order_date) = 2025 GROUP BY 1""",
        f"""SELECT make_date(year(order_date) + 1, month(order_date), 1) AS metric_time__month,
                   SUM(amount) AS revenue
            FROM {SOLD} WHERE year(order_date) = 2024 GROUP BY 1""",
        ["metric_time__month"],
        ["revenue"],
    ),
)

case(
    "revenue_mom_by_month_h1_2025",
    {
        "metrics": ["revenue", "order_count"],
        "dimensions": ["metric_time:month"],
        "time_range": H1_2025,
        "compare": "mom",
    },
    with_compare(
        f"""SELECT {month_of("order_date")} AS metric_time__month,
                   SUM(amount) AS revenue, COUNT(DISTINCT order_id) AS order_count
            FROM {SOLD} WHERE {within("order_date", "2025-01-01", "2025-07-01")} GROUP BY 1""",
        f"""SELECT {months_later(month_of("order_date"), 1)} AS metric_time__month,
                   SUM(amount) AS revenue, COUNT(DISTINCT order_id) AS order_count
            FROM {SOLD} WHERE {within("order_date", "2024-12-01", "2025-06-01")} GROUP BY 1""",
        ["metric_time__month"],
        ["revenue", "order_count"],
    ),
)

case(
    "gross_margin_qoq_by_quarter_2025",
    {
        "metrics": ["gross_margin"],
        "dimensions": ["metric_time:quarter"],
        "time_range": Y2025,
        "compare": "qoq",
    },
    with_compare(
        f"""SELECT {quarter_of("order_date")} AS metric_time__quarter,
                   (SUM(amount) - SUM(cost_amount)) / SUM(amount) AS gross_margin
            FROM {SOLD} WHERE year(order_date) = 2025 GROUP BY 1""",
        f"""SELECT {months_later(quarter_of("order_date"), 3)} AS metric_time__quarter,
                   (SUM(amount) - SUM(cost_amount)) / SUM(amount) AS gross_margin
            FROM {SOLD} WHERE {within("order_date", "2024-10-01", "2025-10-01")} GROUP BY 1""",
        ["metric_time__quarter"],
        ["gross_margin"],
    ),
)

case(
    "expenses_previous_period_by_month_and_department",
    {
        "metrics": ["expenses"],
        "dimensions": ["metric_time:month", "department"],
        "time_range": H1_2025,
        "compare": "previous_period",
    },
    with_compare(
        f"""SELECT {month_of("e.expense_date")} AS metric_time__month,
                   d.dept_name AS department, SUM(e.amount) AS expenses
            FROM expenses AS e JOIN departments AS d ON d.dept_id = e.dept_id
            WHERE {within("e.expense_date", "2025-01-01", "2025-07-01")} GROUP BY 1, 2""",
        f"""SELECT {months_later(month_of("e.expense_date"), 1)} AS metric_time__month,
                   d.dept_name AS department, SUM(e.amount) AS expenses
            FROM expenses AS e JOIN departments AS d ON d.dept_id = e.dept_id
            WHERE {within("e.expense_date", "2024-12-01", "2025-06-01")} GROUP BY 1, 2""",
        ["metric_time__month", "department"],
        ["expenses"],
    ),
)

case(
    "revenue_previous_period_no_grain_quarter_range_by_region",
    # 2025-04-01..2025-07-01 starts on the 1st and spans 3 months → 2025-01-01..2025-04-01.
    {
        "metrics": ["revenue"],
        "dimensions": ["region"],
        "time_range": {"start": "2025-04-01", "end": "2025-07-01"},
        "compare": "previous_period",
    },
    with_compare(
        f"""SELECT r.region_name AS region, SUM(s.amount) AS revenue
            FROM {SOLD} AS s JOIN regions AS r ON r.region_id = s.region_id
            WHERE {within("s.order_date", "2025-04-01", "2025-07-01")} GROUP BY 1""",
        f"""SELECT r.region_name AS region, SUM(s.amount) AS revenue
            FROM {SOLD} AS s JOIN regions AS r ON r.region_id = s.region_id
            WHERE {within("s.order_date", "2025-01-01", "2025-04-01")} GROUP BY 1""",
        ["region"],
        ["revenue"],
    ),
)

case(
    "collections_previous_period_no_grain_14_days",
    # Does not start on the 1st: shifted back by its 14 days → 2025-02-24..2025-03-10.
    {
        "metrics": ["collections"],
        "time_range": {"start": "2025-03-10", "end": "2025-03-24"},
        "compare": "previous_period",
    },
    with_compare(
        f"""SELECT SUM(amount) AS collections FROM receipts
            WHERE {within("receipt_date", "2025-03-10", "2025-03-24")}""",
        f"""SELECT SUM(amount) AS collections FROM receipts
            WHERE {within("receipt_date", "2025-02-24", "2025-03-10")}""",
        [],
        ["collections"],
    ),
)

case(
    "invoiced_previous_period_no_grain_half_month_by_rating",
    # Starts on the 1st, 15 days long → ceil to 1 whole month back: 2025-02-01..2025-02-16.
    {
        "metrics": ["invoiced_amount"],
        "dimensions": ["credit_rating"],
        "time_range": {"start": "2025-03-01", "end": "2025-03-16"},
        "compare": "previous_period",
    },
    with_compare(
        f"""SELECT c.credit_rating, SUM(i.amount) AS invoiced_amount
            FROM invoices AS i JOIN customers AS c ON c.customer_id = i.customer_id
            WHERE {within("i.invoice_date", "2025-03-01", "2025-03-16")} GROUP BY 1""",
        f"""SELECT c.credit_rating, SUM(i.amount) AS invoiced_amount
            FROM invoices AS i JOIN customers AS c ON c.customer_id = i.customer_id
            WHERE {within("i.invoice_date", "2025-02-01", "2025-02-16")} GROUP BY 1""",
        ["credit_rating"],
        ["invoiced_amount"],
    ),
)

case(
    "revenue_previous_period_by_week",
    # With a week grain the previous period is the week before each week.
    {
        "metrics": ["revenue"],
        "dimensions": ["metric_time:week"],
        "time_range": {"start": "2025-03-03", "end": "2025-03-31"},
        "compare": "previous_period",
    },
    with_compare(
        f"""SELECT {week_of("order_date")} AS metric_time__week, SUM(amount) AS revenue
            FROM {SOLD} WHERE {within("order_date", "2025-03-03", "2025-03-31")} GROUP BY 1""",
        f"""SELECT {week_of("order_date")} + 7 AS metric_time__week, SUM(amount) AS revenue
            FROM {SOLD} WHERE {within("order_date", "2025-02-24", "2025-03-24")} GROUP BY 1""",
        ["metric_time__week"],
        ["revenue"],
    ),
)

case(
    "revenue_previous_period_by_day_and_channel",
    # A day grain: the previous period of each day is the day before, channel by channel.
    {
        "metrics": ["revenue", "order_count"],
        "dimensions": ["metric_time:day", "channel"],
        "time_range": {"start": "2025-03-01", "end": "2025-03-08"},
        "compare": "previous_period",
    },
    with_compare(
        f"""SELECT {day_of("order_date")} AS metric_time__day, channel,
                   SUM(amount) AS revenue, COUNT(DISTINCT order_id) AS order_count
            FROM {SOLD} WHERE {within("order_date", "2025-03-01", "2025-03-08")} GROUP BY 1, 2""",
        f"""SELECT {day_of("order_date")} + 1 AS metric_time__day, channel,
                   SUM(amount) AS revenue, COUNT(DISTINCT order_id) AS order_count
            FROM {SOLD} WHERE {within("order_date", "2025-02-28", "2025-03-07")} GROUP BY 1, 2""",
        ["metric_time__day", "channel"],
        ["revenue", "order_count"],
    ),
)

case(
    "revenue_vs_budget_by_region_2025",
    {
        "metrics": ["revenue"],
        "dimensions": ["region"],
        "time_range": Y2025,
        "compare": "budget",
    },
    with_compare(
        f"""SELECT r.region_name AS region, SUM(s.amount) AS revenue
            FROM {SOLD} AS s JOIN regions AS r ON r.region_id = s.region_id
            WHERE year(s.order_date) = 2025 GROUP BY 1""",
        """SELECT r.region_name AS region, SUM(b.amount) AS revenue
           FROM revenue_budget AS b JOIN regions AS r ON r.region_id = b.region_id
           WHERE year(b.month) = 2025 GROUP BY 1""",
        ["region"],
        ["revenue"],
    ),
)

case(
    "expenses_vs_budget_by_department_quarter_2025",
    {
        "metrics": ["expenses"],
        "dimensions": ["department", "metric_time:quarter"],
        "time_range": Y2025,
        "compare": "budget",
    },
    with_compare(
        f"""SELECT d.dept_name AS department,
                   {quarter_of("e.expense_date")} AS metric_time__quarter,
                   SUM(e.amount) AS expenses
            FROM expenses AS e JOIN departments AS d ON d.dept_id = e.dept_id
            WHERE year(e.expense_date) = 2025 GROUP BY 1, 2""",
        f"""SELECT d.dept_name AS department, {quarter_of("b.month")} AS metric_time__quarter,
                   SUM(b.amount) AS expenses
            FROM expense_budget AS b JOIN departments AS d ON d.dept_id = b.dept_id
            WHERE year(b.month) = 2025 GROUP BY 1, 2""",
        ["department", "metric_time__quarter"],
        ["expenses"],
    ),
)

case(
    "ar_balance_yoy_no_grain_by_region",
    # Last snapshot inside 2025 (2025-12-31) against the last one inside 2024.
    {
        "metrics": ["ar_balance"],
        "dimensions": ["region"],
        "time_range": Y2025,
        "compare": "yoy",
    },
    with_compare(
        f"""SELECT r.region_name AS region, SUM(a.balance) AS ar_balance
            FROM ar_aging_monthly AS a
            JOIN customers AS c ON c.customer_id = a.customer_id
            JOIN regions AS r ON r.region_id = c.region_id
            WHERE a.snapshot_date = (SELECT MAX(snapshot_date) FROM ar_aging_monthly
                                     WHERE {within("snapshot_date", "2025-01-01", "2026-01-01")})
            GROUP BY 1""",
        f"""SELECT r.region_name AS region, SUM(a.balance) AS ar_balance
            FROM ar_aging_monthly AS a
            JOIN customers AS c ON c.customer_id = a.customer_id
            JOIN regions AS r ON r.region_id = c.region_id
            WHERE a.snapshot_date = (SELECT MAX(snapshot_date) FROM ar_aging_monthly
                                     WHERE {within("snapshot_date", "2024-01-01", "2025-01-01")})
            GROUP BY 1""",
        ["region"],
        ["ar_balance"],
    ),
)

case(
    "inventory_value_mom_by_month_h1_2025",
    {
        "metrics": ["inventory_value"],
        "dimensions": ["metric_time:month"],
        "time_range": H1_2025,
        "compare": "mom",
    },
    with_compare(
        f"""WITH last AS ({
            last_snapshots(
                "inventory_monthly", month_of("snapshot_date"), "2025-01-01", "2025-07-01"
            )
        })
            SELECT last.k AS metric_time__month, SUM(i.value) AS inventory_value
            FROM inventory_monthly AS i JOIN last ON i.snapshot_date = last.d GROUP BY 1""",
        f"""WITH last AS ({
            last_snapshots(
                "inventory_monthly", month_of("snapshot_date"), "2024-12-01", "2025-06-01"
            )
        })
            SELECT {months_later("last.k", 1)} AS metric_time__month,
                   SUM(i.value) AS inventory_value
            FROM inventory_monthly AS i JOIN last ON i.snapshot_date = last.d GROUP BY 1""",
        ["metric_time__month"],
        ["inventory_value"],
    ),
)


def _operating_profit_by_quarter(start: str, end: str, years_later: int) -> str:
    key_s = f"make_date(year(order_date) + {years_later}, (quarter(order_date) - 1) * 3 + 1, 1)"
    key_e = f"make_date(year(expense_date) + {years_later}, (quarter(expense_date) - 1) * 3 + 1, 1)"
    return f"""
        SELECT s.k AS metric_time__quarter, s.gp - e.x AS operating_profit
        FROM (SELECT {key_s} AS k, SUM(amount) - SUM(cost_amount) AS gp FROM {SOLD}
              WHERE {within("order_date", start, end)} GROUP BY 1) AS s
        JOIN (SELECT {key_e} AS k, SUM(amount) AS x FROM expenses
              WHERE {within("expense_date", start, end)} GROUP BY 1) AS e ON e.k = s.k"""


case(
    "operating_profit_yoy_by_quarter_2025",
    {
        "metrics": ["operating_profit"],
        "dimensions": ["metric_time:quarter"],
        "time_range": Y2025,
        "compare": "yoy",
    },
    with_compare(
        _operating_profit_by_quarter("2025-01-01", "2026-01-01", 0),
        _operating_profit_by_quarter("2024-01-01", "2025-01-01", 1),
        ["metric_time__quarter"],
        ["operating_profit"],
    ),
)

# --- several fact tables in one query ------------------------------------------------------

case(
    "revenue_and_expenses_by_month_2025",
    {
        "metrics": [
            "revenue",
            "expenses",
            "expense_ratio",
            "operating_profit",
            "operating_margin",
        ],
        "dimensions": ["metric_time:month"],
        "time_range": Y2025,
    },
    f"""
    WITH s AS (SELECT {month_of("order_date")} AS k, SUM(amount) AS revenue,
                      SUM(cost_amount) AS cogs
               FROM {SOLD} WHERE year(order_date) = 2025 GROUP BY 1),
         e AS (SELECT {month_of("expense_date")} AS k, SUM(amount) AS expenses
               FROM expenses WHERE year(expense_date) = 2025 GROUP BY 1)
    SELECT COALESCE(s.k, e.k) AS metric_time__month,
           s.revenue, e.expenses,
           e.expenses / s.revenue AS expense_ratio,
           s.revenue - s.cogs - e.expenses AS operating_profit,
           (s.revenue - s.cogs - e.expenses) / s.revenue AS operating_margin
    FROM s FULL OUTER JOIN e ON e.k = s.k
    """,
)

case(
    "revenue_budget_attainment_by_region_2025",
    {
        "metrics": ["revenue", "revenue_budget", "revenue_attainment"],
        "dimensions": ["region"],
        "time_range": Y2025,
    },
    f"""
    WITH s AS (SELECT r.region_name AS region, SUM(x.amount) AS revenue
               FROM {SOLD} AS x JOIN regions AS r ON r.region_id = x.region_id
               WHERE year(x.order_date) = 2025 GROUP BY 1),
         b AS (SELECT r.region_name AS region, SUM(rb.amount) AS revenue_budget
               FROM revenue_budget AS rb JOIN regions AS r ON r.region_id = rb.region_id
               WHERE year(rb.month) = 2025 GROUP BY 1)
    SELECT COALESCE(s.region, b.region) AS region, s.revenue, b.revenue_budget,
           s.revenue / b.revenue_budget AS revenue_attainment
    FROM s FULL OUTER JOIN b ON b.region = s.region
    """,
)

case(
    "operating_profit_by_quarter_2024_2025",
    {
        "metrics": ["operating_profit"],
        "dimensions": ["metric_time:quarter"],
        "time_range": {"start": "2024-01-01", "end": "2026-01-01"},
    },
    _operating_profit_by_quarter("2024-01-01", "2026-01-01", 0),
)

case(
    "collections_invoiced_rate_by_month_2025",
    {
        "metrics": ["collections", "invoiced_amount", "collection_rate"],
        "dimensions": ["metric_time:month"],
        "time_range": Y2025,
    },
    f"""
    WITH c AS (SELECT {month_of("receipt_date")} AS k, SUM(amount) AS collections
               FROM receipts WHERE year(receipt_date) = 2025 GROUP BY 1),
         i AS (SELECT {month_of("invoice_date")} AS k, SUM(amount) AS invoiced_amount
               FROM invoices WHERE year(invoice_date) = 2025 GROUP BY 1)
    SELECT COALESCE(c.k, i.k) AS metric_time__month, c.collections, i.invoiced_amount,
           c.collections / i.invoiced_amount AS collection_rate
    FROM c FULL OUTER JOIN i ON i.k = c.k
    """,
)

case(
    "expense_budget_usage_by_department_category_2025",
    {
        "metrics": ["expenses", "expense_budget", "expense_budget_usage"],
        "dimensions": ["department", "expense_category"],
        "time_range": Y2025,
    },
    """
    WITH e AS (SELECT d.dept_name AS department, x.category AS expense_category,
                      SUM(x.amount) AS expenses
               FROM expenses AS x JOIN departments AS d ON d.dept_id = x.dept_id
               WHERE year(x.expense_date) = 2025 GROUP BY 1, 2),
         b AS (SELECT d.dept_name AS department, eb.category AS expense_category,
                      SUM(eb.amount) AS expense_budget
               FROM expense_budget AS eb JOIN departments AS d ON d.dept_id = eb.dept_id
               WHERE year(eb.month) = 2025 GROUP BY 1, 2)
    SELECT COALESCE(e.department, b.department) AS department,
           COALESCE(e.expense_category, b.expense_category) AS expense_category,
           e.expenses, b.expense_budget, e.expenses / b.expense_budget AS expense_budget_usage
    FROM e FULL OUTER JOIN b
      ON b.department = e.department AND b.expense_category = e.expense_category
    """,
)

case(
    "revenue_budget_attainment_by_product_line_2025",
    {
        "metrics": ["revenue", "revenue_budget", "revenue_attainment"],
        "dimensions": ["product_line"],
        "time_range": Y2025,
    },
    f"""
    WITH s AS (SELECT p.product_line, SUM(x.amount) AS revenue
               FROM {SOLD} AS x JOIN products AS p ON p.product_id = x.product_id
               WHERE year(x.order_date) = 2025 GROUP BY 1),
         b AS (SELECT product_line, SUM(amount) AS revenue_budget
               FROM revenue_budget WHERE year(month) = 2025 GROUP BY 1)
    SELECT COALESCE(s.product_line, b.product_line) AS product_line,
           s.revenue, b.revenue_budget, s.revenue / b.revenue_budget AS revenue_attainment
    FROM s FULL OUTER JOIN b ON b.product_line = s.product_line
    """,
)

case(
    "purchases_by_supplier_type_month_h1_2025",
    {
        "metrics": ["purchase_amount"],
        "dimensions": ["supplier_type", "metric_time:month"],
        "time_range": H1_2025,
    },
    f"""
    SELECT su.supplier_type, {month_of("pu.purchase_date")} AS metric_time__month,
           SUM(pu.amount) AS purchase_amount
    FROM purchases AS pu JOIN suppliers AS su ON su.supplier_id = pu.supplier_id
    WHERE {within("pu.purchase_date", "2025-01-01", "2025-07-01")}
    GROUP BY 1, 2
    """,
)

# --- balances (semi-additive): the last snapshot inside each period --------------------------

case(
    "receivables_by_month_2025",
    {
        "metrics": ["ar_balance", "overdue_ar", "overdue_over_90", "overdue_ratio"],
        "dimensions": ["metric_time:month"],
        "time_range": Y2025,
    },
    f"""
    WITH last AS ({
        last_snapshots("ar_aging_monthly", month_of("snapshot_date"), "2025-01-01", "2026-01-01")
    })
    SELECT last.k AS metric_time__month,
           SUM(a.balance) AS ar_balance,
           SUM(a.overdue_1_30 + a.overdue_31_60 + a.overdue_61_90 + a.overdue_over_90)
               AS overdue_ar,
           SUM(a.overdue_over_90) AS overdue_over_90,
           SUM(a.overdue_1_30 + a.overdue_31_60 + a.overdue_61_90 + a.overdue_over_90)
               / SUM(a.balance) AS overdue_ratio
    FROM ar_aging_monthly AS a JOIN last ON a.snapshot_date = last.d
    GROUP BY 1
    """,
)

case(
    "aging_buckets_by_region_by_quarter_2025",
    {
        "metrics": ["ar_current", "overdue_1_30", "overdue_31_60", "overdue_61_90"],
        "dimensions": ["metric_time:quarter", "region"],
        "time_range": Y2025,
    },
    f"""
    WITH last AS ({
        last_snapshots("ar_aging_monthly", quarter_of("snapshot_date"), "2025-01-01", "2026-01-01")
    })
    SELECT last.k AS metric_time__quarter, r.region_name AS region,
           SUM(a.current_amount) AS ar_current, SUM(a.overdue_1_30) AS overdue_1_30,
           SUM(a.overdue_31_60) AS overdue_31_60, SUM(a.overdue_61_90) AS overdue_61_90
    FROM ar_aging_monthly AS a JOIN last ON a.snapshot_date = last.d
    JOIN customers AS c ON c.customer_id = a.customer_id
    JOIN regions AS r ON r.region_id = c.region_id
    GROUP BY 1, 2
    """,
)

case(
    "ar_balance_by_quarter_2024_2025",
    {
        "metrics": ["ar_balance"],
        "dimensions": ["metric_time:quarter"],
        "time_range": {"start": "2024-01-01", "end": "2026-01-01"},
    },
    f"""
    WITH last AS ({
        last_snapshots("ar_aging_monthly", quarter_of("snapshot_date"), "2024-01-01", "2026-01-01")
    })
    SELECT last.k AS metric_time__quarter, SUM(a.balance) AS ar_balance
    FROM ar_aging_monthly AS a JOIN last ON a.snapshot_date = last.d
    GROUP BY 1
    """,
)

case(
    "inventory_by_year_all_time",
    {"metrics": ["inventory_value", "inventory_quantity"], "dimensions": ["metric_time:year"]},
    f"""
    WITH last AS ({last_snapshots("inventory_monthly", year_of("snapshot_date"), None, None)})
    SELECT last.k AS metric_time__year,
           SUM(i.value) AS inventory_value, SUM(i.quantity) AS inventory_quantity
    FROM inventory_monthly AS i JOIN last ON i.snapshot_date = last.d
    GROUP BY 1
    """,
)

case(
    "ar_balance_by_year_and_industry",
    {"metrics": ["ar_balance", "overdue_ratio"], "dimensions": ["metric_time:year", "industry"]},
    f"""
    WITH last AS ({last_snapshots("ar_aging_monthly", year_of("snapshot_date"), None, None)})
    SELECT last.k AS metric_time__year, c.industry,
           SUM(a.balance) AS ar_balance,
           SUM(a.overdue_1_30 + a.overdue_31_60 + a.overdue_61_90 + a.overdue_over_90)
               / SUM(a.balance) AS overdue_ratio
    FROM ar_aging_monthly AS a
    JOIN last ON a.snapshot_date = last.d
    JOIN customers AS c ON c.customer_id = a.customer_id
    GROUP BY 1, 2
    """,
)

case(
    "top5_customers_overdue_90_q4_2025",
    # No grain: the last snapshot inside the range (2025-12-31); top 5 customers.
    {
        "metrics": ["overdue_over_90"],
        "dimensions": ["customer"],
        "time_range": {"start": "2025-10-01", "end": "2026-01-01"},
        "order_by": [{"field": "overdue_over_90", "desc": True}],
        "limit": 5,
        "intent": "rank",
    },
    f"""
    SELECT c.customer_name AS customer, SUM(a.overdue_over_90) AS overdue_over_90
    FROM ar_aging_monthly AS a JOIN customers AS c ON c.customer_id = a.customer_id
    WHERE a.snapshot_date = (SELECT MAX(snapshot_date) FROM ar_aging_monthly
                             WHERE {within("snapshot_date", "2025-10-01", "2026-01-01")})
    GROUP BY 1
    ORDER BY overdue_over_90 DESC, customer
    LIMIT 5
    """,
    ordered=True,
)

case(
    "ar_balance_by_region_month_h2_2025",
    {
        "metrics": ["ar_balance", "overdue_ar"],
        "dimensions": ["region", "metric_time:month"],
        "time_range": {"start": "2025-07-01", "end": "2026-01-01"},
    },
    f"""
    WITH last AS ({
        last_snapshots("ar_aging_monthly", month_of("snapshot_date"), "2025-07-01", "2026-01-01")
    })
    SELECT r.region_name AS region, last.k AS metric_time__month,
           SUM(a.balance) AS ar_balance,
           SUM(a.overdue_1_30 + a.overdue_31_60 + a.overdue_61_90 + a.overdue_over_90)
               AS overdue_ar
    FROM ar_aging_monthly AS a
    JOIN last ON a.snapshot_date = last.d
    JOIN customers AS c ON c.customer_id = a.customer_id
    JOIN regions AS r ON r.region_id = c.region_id
    GROUP BY 1, 2
    """,
)

case(
    "ar_no_grain_mid_month_range_by_credit_rating",
    # 2025-01-01..2025-06-15: the last snapshot inside is 2025-05-31, not 2025-06-30.
    {
        "metrics": ["ar_balance", "overdue_ar"],
        "dimensions": ["credit_rating"],
        "time_range": {"start": "2025-01-01", "end": "2025-06-15"},
    },
    """
    SELECT c.credit_rating, SUM(a.balance) AS ar_balance,
           SUM(a.overdue_1_30 + a.overdue_31_60 + a.overdue_61_90 + a.overdue_over_90)
               AS overdue_ar
    FROM ar_aging_monthly AS a JOIN customers AS c ON c.customer_id = a.customer_id
    WHERE a.snapshot_date = DATE '2025-05-31'
    GROUP BY 1
    """,
)

case(
    "overdue_by_industry_dec_2025",
    {
        "metrics": ["overdue_ar", "overdue_ratio"],
        "dimensions": ["industry"],
        "time_range": {"start": "2025-12-01", "end": "2026-01-01"},
    },
    """
    SELECT c.industry,
           SUM(a.overdue_1_30 + a.overdue_31_60 + a.overdue_61_90 + a.overdue_over_90)
               AS overdue_ar,
           SUM(a.overdue_1_30 + a.overdue_31_60 + a.overdue_61_90 + a.overdue_over_90)
               / SUM(a.balance) AS overdue_ratio
    FROM ar_aging_monthly AS a JOIN customers AS c ON c.customer_id = a.customer_id
    WHERE a.snapshot_date = DATE '2025-12-31'
    GROUP BY 1
    """,
)

case(
    "dso_by_month_2025",
    {"metrics": ["dso"], "dimensions": ["metric_time:month"], "time_range": Y2025},
    f"""
    WITH last AS ({
        last_snapshots("ar_aging_monthly", month_of("snapshot_date"), "2025-01-01", "2026-01-01")
    }),
         ar AS (SELECT last.k, SUM(a.balance) AS bal
                FROM ar_aging_monthly AS a JOIN last ON a.snapshot_date = last.d GROUP BY 1),
         rev AS (SELECT {month_of("order_date")} AS k, SUM(amount) AS revenue
                 FROM {SOLD} WHERE year(order_date) = 2025 GROUP BY 1)
    SELECT rev.k AS metric_time__month,
           ar.bal / rev.revenue * day(last_day(rev.k)) AS dso
    FROM rev JOIN ar ON ar.k = rev.k
    """,
)

case(
    "dso_no_grain_2025_by_region",
    # ar_balance at 2025-12-31 / revenue of 2025 × 365 days.
    {"metrics": ["dso", "ar_balance"], "dimensions": ["region"], "time_range": Y2025},
    f"""
    WITH ar AS (SELECT r.region_name AS region, SUM(a.balance) AS bal
                FROM ar_aging_monthly AS a
                JOIN customers AS c ON c.customer_id = a.customer_id
                JOIN regions AS r ON r.region_id = c.region_id
                WHERE a.snapshot_date = DATE '2025-12-31' GROUP BY 1),
         rev AS (SELECT r.region_name AS region, SUM(s.amount) AS revenue
                 FROM {SOLD} AS s JOIN regions AS r ON r.region_id = s.region_id
                 WHERE year(s.order_date) = 2025 GROUP BY 1)
    SELECT rev.region, ar.bal AS ar_balance, ar.bal / rev.revenue * 365 AS dso
    FROM rev JOIN ar ON ar.region = rev.region
    """,
)

case(
    "dso_by_quarter_partial_range",
    # 2025-02-01..2025-11-01: Q1 counts 59 days (snapshot 03-31), Q4 31 days (snapshot 10-31).
    {
        "metrics": ["dso"],
        "dimensions": ["metric_time:quarter"],
        "time_range": {"start": "2025-02-01", "end": "2025-11-01"},
    },
    f"""
    WITH days(k, n, snap) AS (VALUES
            (DATE '2025-01-01', 59, DATE '2025-03-31'),
            (DATE '2025-04-01', 91, DATE '2025-06-30'),
            (DATE '2025-07-01', 92, DATE '2025-09-30'),
            (DATE '2025-10-01', 31, DATE '2025-10-31')),
         ar AS (SELECT days.k, SUM(a.balance) AS bal
                FROM ar_aging_monthly AS a JOIN days ON a.snapshot_date = days.snap
                GROUP BY 1),
         rev AS (SELECT {quarter_of("order_date")} AS k, SUM(amount) AS revenue
                 FROM {SOLD} WHERE {within("order_date", "2025-02-01", "2025-11-01")}
                 GROUP BY 1)
    SELECT days.k AS metric_time__quarter, ar.bal / rev.revenue * days.n AS dso
    FROM days JOIN ar ON ar.k = days.k JOIN rev ON rev.k = days.k
    """,
)

case(
    "inventory_by_product_line_warehouse_2025",
    # No grain: the last snapshot inside 2025 (2025-12-31).
    {
        "metrics": ["inventory_value", "inventory_quantity"],
        "dimensions": ["product_line", "warehouse"],
        "time_range": Y2025,
    },
    """
    SELECT p.product_line, i.warehouse,
           SUM(i.value) AS inventory_value, SUM(i.quantity) AS inventory_quantity
    FROM inventory_monthly AS i JOIN products AS p ON p.product_id = i.product_id
    WHERE i.snapshot_date = DATE '2025-12-31'
    GROUP BY 1, 2
    """,
)

case(
    "dio_by_quarter_2025",
    {
        "metrics": ["inventory_value", "cogs", "dio"],
        "dimensions": ["metric_time:quarter"],
        "time_range": Y2025,
    },
    f"""
    WITH days(k, n, snap) AS (VALUES
            (DATE '2025-01-01', 90, DATE '2025-03-31'),
            (DATE '2025-04-01', 91, DATE '2025-06-30'),
            (DATE '2025-07-01', 92, DATE '2025-09-30'),
            (DATE '2025-10-01', 92, DATE '2025-12-31')),
         inv AS (SELECT days.k, SUM(i.value) AS inventory_value
                 FROM inventory_monthly AS i JOIN days ON i.snapshot_date = days.snap
                 GROUP BY 1),
         c AS (SELECT {quarter_of("order_date")} AS k, SUM(cost_amount) AS cogs
               FROM {SOLD} WHERE year(order_date) = 2025 GROUP BY 1)
    SELECT days.k AS metric_time__quarter, inv.inventory_value, c.cogs,
           inv.inventory_value / c.cogs * days.n AS dio
    FROM days JOIN inv ON inv.k = days.k JOIN c ON c.k = days.k
    """,
)

case(
    "dio_by_month_range_from_mid_january",
    # 2025-01-15..2025-04-01: January counts 17 days and cogs from the 15th on.
    {
        "metrics": ["dio"],
        "dimensions": ["metric_time:month"],
        "time_range": {"start": "2025-01-15", "end": "2025-04-01"},
    },
    f"""
    WITH days(k, n, snap) AS (VALUES
            (DATE '2025-01-01', 17, DATE '2025-01-31'),
            (DATE '2025-02-01', 28, DATE '2025-02-28'),
            (DATE '2025-03-01', 31, DATE '2025-03-31')),
         inv AS (SELECT days.k, SUM(i.value) AS v
                 FROM inventory_monthly AS i JOIN days ON i.snapshot_date = days.snap
                 GROUP BY 1),
         c AS (SELECT {month_of("order_date")} AS k, SUM(cost_amount) AS cogs
               FROM {SOLD} WHERE {within("order_date", "2025-01-15", "2025-04-01")}
               GROUP BY 1)
    SELECT days.k AS metric_time__month, inv.v / c.cogs * days.n AS dio
    FROM days JOIN inv ON inv.k = days.k JOIN c ON c.k = days.k
    """,
)

# --- cash ------------------------------------------------------------------------------------

case(
    "cash_by_activity_2023_2025",
    {
        "metrics": ["cash_inflow", "cash_outflow", "net_cash_flow"],
        "dimensions": ["cash_activity"],
        "time_range": {"start": "2023-01-01", "end": "2026-01-01"},
    },
    """
    SELECT activity AS cash_activity,
           SUM(amount) FILTER (WHERE direction = '流入') AS cash_inflow,
           SUM(amount) FILTER (WHERE direction = '流出') AS cash_outflow,
           SUM(amount) FILTER (WHERE direction = '流入')
               - SUM(amount) FILTER (WHERE direction = '流出') AS net_cash_flow
    FROM cash_flows
    WHERE txn_date >= DATE '2023-01-01' AND txn_date < DATE '2026-01-01'
    GROUP BY 1
    """,
)

case(
    "operating_cash_flow_by_direction_2025",
    {"metrics": ["operating_cash_flow"], "dimensions": ["cash_direction"], "time_range": Y2025},
    """
    SELECT direction AS cash_direction,
           SUM(CASE direction WHEN '流入' THEN amount WHEN '流出' THEN -amount END)
               AS operating_cash_flow
    FROM cash_flows
    WHERE activity = '经营活动' AND year(txn_date) = 2025
    GROUP BY 1
    """,
)

case(
    "cash_in_out_by_direction_and_year",
    # cash_inflow has no rows in the outflow direction (and vice versa): NULL there.
    {
        "metrics": ["cash_inflow", "cash_outflow"],
        "dimensions": ["cash_direction", "metric_time:year"],
        "time_range": {"start": "2024-01-01", "end": "2026-01-01"},
    },
    f"""
    SELECT d.direction AS cash_direction, y.k AS metric_time__year,
           (SELECT SUM(amount) FROM cash_flows AS f
            WHERE f.direction = '流入' AND f.direction = d.direction
              AND {year_of("f.txn_date")} = y.k) AS cash_inflow,
           (SELECT SUM(amount) FROM cash_flows AS f
            WHERE f.direction = '流出' AND f.direction = d.direction
              AND {year_of("f.txn_date")} = y.k) AS cash_outflow
    FROM (SELECT DISTINCT direction FROM cash_flows) AS d
    CROSS JOIN (VALUES (DATE '2024-01-01'), (DATE '2025-01-01')) AS y(k)
    """,
    allow_null=True,
)

case(
    "operating_cash_outflow_by_category_2025_filter_activity",
    {
        "metrics": ["cash_outflow"],
        "dimensions": ["cash_category"],
        "filters": [{"dimension": "cash_activity", "op": "=", "values": ["经营活动"]}],
        "time_range": Y2025,
    },
    """
    SELECT category AS cash_category, SUM(amount) AS cash_outflow
    FROM cash_flows
    WHERE direction = '流出' AND activity = '经营活动' AND year(txn_date) = 2025
    GROUP BY 1
    """,
)

case(
    "operating_and_net_cash_flow_by_month_2025",
    {
        "metrics": ["operating_cash_flow", "net_cash_flow"],
        "dimensions": ["metric_time:month"],
        "time_range": Y2025,
    },
    f"""
    SELECT {month_of("txn_date")} AS metric_time__month,
           SUM(amount) FILTER (WHERE activity = '经营活动' AND direction = '流入')
             - SUM(amount) FILTER (WHERE activity = '经营活动' AND direction = '流出')
               AS operating_cash_flow,
           SUM(amount) FILTER (WHERE direction = '流入')
             - SUM(amount) FILTER (WHERE direction = '流出') AS net_cash_flow
    FROM cash_flows
    WHERE year(txn_date) = 2025
    GROUP BY 1
    """,
)

# --- filters of every op ---------------------------------------------------------------------

case(
    "revenue_by_region_filter_not_equal",
    {
        "metrics": ["revenue"],
        "dimensions": ["region"],
        "filters": [{"dimension": "region", "op": "!=", "values": ["华东"]}],
        "time_range": Y2025,
    },
    f"""
    SELECT r.region_name AS region, SUM(s.amount) AS revenue
    FROM {SOLD} AS s JOIN regions AS r ON r.region_id = s.region_id
    WHERE r.region_name <> '华东' AND year(s.order_date) = 2025
    GROUP BY 1
    """,
)

case(
    "revenue_by_product_line_filter_in_and_eq",
    {
        "metrics": ["revenue", "units_sold", "avg_discount_rate"],
        "dimensions": ["product_line"],
        "filters": [
            {"dimension": "region", "op": "in", "values": ["华南", "华北"]},
            {"dimension": "channel", "op": "=", "values": ["电商"]},
        ],
        "time_range": MAR2025,
    },
    f"""
    SELECT p.product_line, SUM(s.amount) AS revenue, SUM(s.quantity) AS units_sold,
           1 - SUM(s.amount) / SUM(s.quantity * s.unit_price) AS avg_discount_rate
    FROM {SOLD} AS s
    JOIN products AS p ON p.product_id = s.product_id
    JOIN regions AS r ON r.region_id = s.region_id
    WHERE r.region_name IN ('华南', '华北') AND s.channel = '电商'
      AND {within("s.order_date", "2025-03-01", "2025-04-01")}
    GROUP BY 1
    """,
)

case(
    "expenses_by_category_filter_not_in_department",
    {
        "metrics": ["expenses"],
        "dimensions": ["expense_category"],
        "filters": [{"dimension": "department", "op": "not_in", "values": ["销售部", "研发部"]}],
        "time_range": Y2025,
    },
    """
    SELECT e.category AS expense_category, SUM(e.amount) AS expenses
    FROM expenses AS e JOIN departments AS d ON d.dept_id = e.dept_id
    WHERE d.dept_name NOT IN ('销售部', '研发部') AND year(e.expense_date) = 2025
    GROUP BY 1
    """,
)

case(
    "revenue_by_channel_filter_order_date_greater",
    {
        "metrics": ["revenue", "active_customers"],
        "dimensions": ["channel"],
        "filters": [{"dimension": "order_date", "op": ">", "values": ["2025-06-30"]}],
    },
    f"""
    SELECT channel, SUM(amount) AS revenue, COUNT(DISTINCT customer_id) AS active_customers
    FROM {SOLD}
    WHERE order_date > DATE '2025-06-30'
    GROUP BY 1
    """,
)

case(
    "revenue_by_month_filter_order_date_between",
    # between is inclusive on both ends.
    {
        "metrics": ["revenue"],
        "dimensions": ["metric_time:month"],
        "filters": [
            {"dimension": "order_date", "op": "between", "values": ["2025-02-01", "2025-03-31"]}
        ],
    },
    f"""
    SELECT {month_of("order_date")} AS metric_time__month, SUM(amount) AS revenue
    FROM {SOLD}
    WHERE order_date >= DATE '2025-02-01' AND order_date <= DATE '2025-03-31'
    GROUP BY 1
    """,
)

case(
    "revenue_by_customer_filter_contains",
    {
        "metrics": ["revenue", "order_count"],
        "dimensions": ["customer"],
        "filters": [{"dimension": "customer", "op": "contains", "values": ["科技"]}],
        "time_range": Y2025,
    },
    f"""
    SELECT c.customer_name AS customer, SUM(s.amount) AS revenue,
           COUNT(DISTINCT s.order_id) AS order_count
    FROM {SOLD} AS s JOIN customers AS c ON c.customer_id = s.customer_id
    WHERE c.customer_name LIKE '%科技%' AND year(s.order_date) = 2025
    GROUP BY 1
    """,
)

case(
    "overdue_90_by_customer_month_filter_contains",
    # The 北辰重工 event: balances by month for one customer picked by a name fragment.
    {
        "metrics": ["ar_balance", "overdue_over_90"],
        "dimensions": ["customer", "metric_time:month"],
        "filters": [{"dimension": "customer", "op": "contains", "values": ["北辰"]}],
        "time_range": {"start": "2025-06-01", "end": "2026-01-01"},
    },
    """
    SELECT c.customer_name AS customer, make_date(year(a.snapshot_date),
           month(a.snapshot_date), 1) AS metric_time__month,
           SUM(a.balance) AS ar_balance, SUM(a.overdue_over_90) AS overdue_over_90
    FROM ar_aging_monthly AS a JOIN customers AS c ON c.customer_id = a.customer_id
    WHERE c.customer_name LIKE '%北辰%'
      AND a.snapshot_date = last_day(a.snapshot_date)
      AND a.snapshot_date >= DATE '2025-06-01' AND a.snapshot_date < DATE '2026-01-01'
    GROUP BY 1, 2
    """,
)

# --- having, top-N, share ----------------------------------------------------------------------

case(
    "regions_with_gross_margin_below_034_in_march_2025",
    {
        "metrics": ["gross_margin"],
        "dimensions": ["region"],
        "having": [{"metric": "gross_margin", "op": "<", "value": 0.34}],
        "time_range": MAR2025,
    },
    f"""
    SELECT r.region_name AS region,
           (SUM(s.amount) - SUM(s.cost_amount)) / SUM(s.amount) AS gross_margin
    FROM {SOLD} AS s JOIN regions AS r ON r.region_id = s.region_id
    WHERE {within("s.order_date", "2025-03-01", "2025-04-01")}
    GROUP BY 1
    HAVING (SUM(s.amount) - SUM(s.cost_amount)) / SUM(s.amount) < 0.34
    """,
)

case(
    "customers_with_revenue_over_3m_2025",
    {
        "metrics": ["revenue"],
        "dimensions": ["customer"],
        "having": [{"metric": "revenue", "op": ">", "value": 3_000_000}],
        "time_range": Y2025,
    },
    f"""
    SELECT c.customer_name AS customer, SUM(s.amount) AS revenue
    FROM {SOLD} AS s JOIN customers AS c ON c.customer_id = s.customer_id
    WHERE year(s.order_date) = 2025
    GROUP BY 1
    HAVING SUM(s.amount) > 3000000
    """,
)

case(
    "top5_products_by_revenue_2025",
    {
        "metrics": ["revenue"],
        "dimensions": ["product"],
        "time_range": Y2025,
        "order_by": [{"field": "revenue", "desc": True}],
        "limit": 5,
        "intent": "rank",
    },
    f"""
    SELECT p.product_name AS product, SUM(s.amount) AS revenue
    FROM {SOLD} AS s JOIN products AS p ON p.product_id = s.product_id
    WHERE year(s.order_date) = 2025
    GROUP BY 1
    ORDER BY revenue DESC, product
    LIMIT 5
    """,
    ordered=True,
)

case(
    "bottom3_regions_by_revenue_2025",
    {
        "metrics": ["revenue"],
        "dimensions": ["region"],
        "time_range": Y2025,
        "order_by": [{"field": "revenue", "desc": False}],
        "limit": 3,
        "intent": "rank",
    },
    f"""
    SELECT r.region_name AS region, SUM(s.amount) AS revenue
    FROM {SOLD} AS s JOIN regions AS r ON r.region_id = s.region_id
    WHERE year(s.order_date) = 2025
    GROUP BY 1
    ORDER BY revenue ASC, region
    LIMIT 3
    """,
    ordered=True,
)

case(
    "revenue_share_by_product_line_2025",
    {
        "metrics": ["revenue"],
        "dimensions": ["product_line"],
        "time_range": Y2025,
        "intent": "share",
    },
    f"""
    WITH t AS (SELECT p.product_line, SUM(s.amount) AS revenue
               FROM {SOLD} AS s JOIN products AS p ON p.product_id = s.product_id
               WHERE year(s.order_date) = 2025 GROUP BY 1)
    SELECT product_line, revenue,
           revenue / (SELECT SUM(amount) FROM {SOLD} WHERE year(order_date) = 2025)
               AS revenue__share
    FROM t
    """,
)

case(
    "revenue_share_by_region_within_month_q1_2025",
    {
        "metrics": ["revenue"],
        "dimensions": ["metric_time:month", "region"],
        "time_range": {"start": "2025-01-01", "end": "2025-04-01"},
        "intent": "share",
    },
    f"""
    WITH t AS (SELECT {month_of("s.order_date")} AS metric_time__month,
                      r.region_name AS region, SUM(s.amount) AS revenue
               FROM {SOLD} AS s JOIN regions AS r ON r.region_id = s.region_id
               WHERE {within("s.order_date", "2025-01-01", "2025-04-01")} GROUP BY 1, 2),
         m AS (SELECT {month_of("order_date")} AS metric_time__month, SUM(amount) AS total
               FROM {SOLD} WHERE {within("order_date", "2025-01-01", "2025-04-01")}
               GROUP BY 1)
    SELECT t.metric_time__month, t.region, t.revenue, t.revenue / m.total AS revenue__share
    FROM t JOIN m ON m.metric_time__month = t.metric_time__month
    """,
)

# --- dimensions reached through several joins ---------------------------------------------------

case(
    "collections_by_region_2025",
    {
        "metrics": ["collections", "invoiced_amount", "collection_rate"],
        "dimensions": ["region"],
        "time_range": Y2025,
    },
    """
    WITH c AS (SELECT r.region_name AS region, SUM(x.amount) AS collections
               FROM receipts AS x
               JOIN customers AS cu ON cu.customer_id = x.customer_id
               JOIN regions AS r ON r.region_id = cu.region_id
               WHERE year(x.receipt_date) = 2025 GROUP BY 1),
         i AS (SELECT r.region_name AS region, SUM(x.amount) AS invoiced_amount
               FROM invoices AS x
               JOIN customers AS cu ON cu.customer_id = x.customer_id
               JOIN regions AS r ON r.region_id = cu.region_id
               WHERE year(x.invoice_date) = 2025 GROUP BY 1)
    SELECT COALESCE(c.region, i.region) AS region, c.collections, i.invoiced_amount,
           c.collections / i.invoiced_amount AS collection_rate
    FROM c FULL OUTER JOIN i ON i.region = c.region
    """,
)

case(
    "expense_budget_by_category_quarter_2025",
    {
        "metrics": ["expense_budget"],
        "dimensions": ["expense_category", "metric_time:quarter"],
        "time_range": Y2025,
    },
    f"""
    SELECT category AS expense_category, {quarter_of("month")} AS metric_time__quarter,
           SUM(amount) AS expense_budget
    FROM expense_budget
    WHERE year(month) = 2025
    GROUP BY 1, 2
    """,
)

case(
    "revenue_budget_by_region_product_line_h1_2025",
    {
        "metrics": ["revenue_budget"],
        "dimensions": ["region", "product_line"],
        "time_range": H1_2025,
    },
    """
    SELECT r.region_name AS region, b.product_line, SUM(b.amount) AS revenue_budget
    FROM revenue_budget AS b JOIN regions AS r ON r.region_id = b.region_id
    WHERE b.month >= DATE '2025-01-01' AND b.month < DATE '2025-07-01'
    GROUP BY 1, 2
    """,
)

case(
    "inventory_value_by_product_month_filter_line",
    {
        "metrics": ["inventory_value"],
        "dimensions": ["product", "metric_time:month"],
        "filters": [{"dimension": "product_line", "op": "=", "values": ["工业传感器"]}],
        "time_range": {"start": "2025-10-01", "end": "2026-01-01"},
    },
    f"""
    WITH last AS ({
        last_snapshots("inventory_monthly", month_of("snapshot_date"), "2025-10-01", "2026-01-01")
    })
    SELECT p.product_name AS product, last.k AS metric_time__month,
           SUM(i.value) AS inventory_value
    FROM inventory_monthly AS i
    JOIN last ON i.snapshot_date = last.d
    JOIN products AS p ON p.product_id = i.product_id
    WHERE p.product_line = '工业传感器'
    GROUP BY 1, 2
    """,
)


# --- more edge cases: default top-N order, periods cut by the range, cohorts ---------------

case(
    "top3_months_by_revenue_2025_default_order",
    # A limit without order_by ranks months by the metric, not by date.
    {"metrics": ["revenue"], "dimensions": ["metric_time:month"], "time_range": Y2025, "limit": 3},
    f"""
    SELECT {month_of("order_date")} AS metric_time__month, SUM(amount) AS revenue
    FROM {SOLD}
    WHERE year(order_date) = 2025
    GROUP BY 1
    ORDER BY revenue DESC
    LIMIT 3
    """,
    ordered=True,
)


def _dso_per_row(rows: list[tuple[str, int, str, str, str]]) -> str:
    """dso per month key from (key, days, AR snapshot, first order date, end exclusive)."""
    values = ", ".join(
        f"(DATE '{k}', {n}, DATE '{snap}', DATE '{lo}', DATE '{hi}')" for k, n, snap, lo, hi in rows
    )
    return f"""
        WITH days(k, n, snap, lo, hi) AS (VALUES {values})
        SELECT days.k AS metric_time__month,
               (SELECT SUM(balance) FROM ar_aging_monthly WHERE snapshot_date = days.snap)
               / (SELECT SUM(amount) FROM {SOLD}
                  WHERE order_date >= days.lo AND order_date < days.hi)
               * days.n AS dso
        FROM days"""


case(
    "dso_mom_by_month_range_from_mid_january",
    # Current 2025-01-15..2025-04-01, comparison 2024-12-15..2025-03-01: January's
    # comparison is 2024-12-15..2025-01-01 (17 days, snapshot 2024-12-31).
    {
        "metrics": ["dso"],
        "dimensions": ["metric_time:month"],
        "time_range": {"start": "2025-01-15", "end": "2025-04-01"},
        "compare": "mom",
    },
    with_compare(
        _dso_per_row(
            [
                ("2025-01-01", 17, "2025-01-31", "2025-01-15", "2025-02-01"),
                ("2025-02-01", 28, "2025-02-28", "2025-02-01", "2025-03-01"),
                ("2025-03-01", 31, "2025-03-31", "2025-03-01", "2025-04-01"),
            ]
        ),
        _dso_per_row(
            [
                ("2025-01-01", 17, "2024-12-31", "2024-12-15", "2025-01-01"),
                ("2025-02-01", 31, "2025-01-31", "2025-01-01", "2025-02-01"),
                ("2025-03-01", 28, "2025-02-28", "2025-02-01", "2025-03-01"),
            ]
        ),
        ["metric_time__month"],
        ["dso"],
    ),
)

case(
    "ar_balance_by_iso_week_mar_apr_2025",
    # Only weeks that contain a month-end snapshot have a balance.
    {
        "metrics": ["ar_balance"],
        "dimensions": ["metric_time:week"],
        "time_range": {"start": "2025-03-01", "end": "2025-05-01"},
    },
    f"""
    SELECT {week_of("snapshot_date")} AS metric_time__week, SUM(balance) AS ar_balance
    FROM ar_aging_monthly
    WHERE snapshot_date IN (DATE '2025-03-31', DATE '2025-04-30')
    GROUP BY 1
    """,
)

case(
    "revenue_yoy_by_customer_cohort_year",
    # customer_created_date is an attribute of the customer, not the metric's date: the
    # comparison is the same cohort's revenue one year earlier (2024), not the previous cohort.
    {
        "metrics": ["revenue"],
        "dimensions": ["customer_created_date:year"],
        "time_range": Y2025,
        "compare": "yoy",
    },
    with_compare(
        f"""SELECT {year_of("c.created_date")} AS customer_created_date__year,
                   SUM(s.amount) AS revenue
            FROM {SOLD} AS s JOIN customers AS c ON c.customer_id = s.customer_id
            WHERE year(s.order_date) = 2025 GROUP BY 1""",
        f"""SELECT {year_of("c.created_date")} AS customer_created_date__year,
                   SUM(s.amount) AS revenue
            FROM {SOLD} AS s JOIN customers AS c ON c.customer_id = s.customer_id
            WHERE year(s.order_date) = 2024 GROUP BY 1""",
        ["customer_created_date__year"],
        ["revenue"],
    ),
    # Customers created in 2025 bought nothing in 2024: their comparison is rightly NULL.
    allow_null=True,
)

case(
    "revenue_yoy_of_customers_created_since_2023_by_region",
    # The filter picks a set of customers; last year's revenue is of the same customers.
    {
        "metrics": ["revenue"],
        "dimensions": ["region"],
        "filters": [{"dimension": "customer_created_date", "op": ">=", "values": ["2023-01-01"]}],
        "time_range": Y2025,
        "compare": "yoy",
    },
    with_compare(
        f"""SELECT r.region_name AS region, SUM(s.amount) AS revenue
            FROM {SOLD} AS s
            JOIN customers AS c ON c.customer_id = s.customer_id
            JOIN regions AS r ON r.region_id = s.region_id
            WHERE c.created_date >= DATE '2023-01-01' AND year(s.order_date) = 2025
            GROUP BY 1""",
        f"""SELECT r.region_name AS region, SUM(s.amount) AS revenue
            FROM {SOLD} AS s
            JOIN customers AS c ON c.customer_id = s.customer_id
            JOIN regions AS r ON r.region_id = s.region_id
            WHERE c.created_date >= DATE '2023-01-01' AND year(s.order_date) = 2024
            GROUP BY 1""",
        ["region"],
        ["revenue"],
    ),
)


case(
    "top3_regions_by_revenue_growth_yoy_2025",
    # Ranking by a comparison column.
    {
        "metrics": ["revenue"],
        "dimensions": ["region"],
        "time_range": Y2025,
        "compare": "yoy",
        "order_by": [{"field": "revenue__change_pct", "desc": True}],
        "limit": 3,
    },
    with_compare(
        f"""SELECT r.region_name AS region, SUM(s.amount) AS revenue
            FROM {SOLD} AS s JOIN regions AS r ON r.region_id = s.region_id
            WHERE year(s.order_date) = 2025 GROUP BY 1""",
        f"""SELECT r.region_name AS region, SUM(s.amount) AS revenue
            FROM {SOLD} AS s JOIN regions AS r ON r.region_id = s.region_id
            WHERE year(s.order_date) = 2024 GROUP BY 1""",
        ["region"],
        ["revenue"],
    )
    + " ORDER BY revenue__change_pct DESC LIMIT 3",
    ordered=True,
)

case(
    "overdue_ratio_previous_period_by_quarter_2025",
    # Balances compared one quarter back: each quarter's last snapshot vs the previous one's.
    {
        "metrics": ["overdue_ratio"],
        "dimensions": ["metric_time:quarter"],
        "time_range": Y2025,
        "compare": "previous_period",
    },
    with_compare(
        """SELECT make_date(year(snapshot_date), (quarter(snapshot_date) - 1) * 3 + 1, 1)
                      AS metric_time__quarter,
                  SUM(overdue_1_30 + overdue_31_60 + overdue_61_90 + overdue_over_90)
                      / SUM(balance) AS overdue_ratio
           FROM ar_aging_monthly
           WHERE snapshot_date IN (DATE '2025-03-31', DATE '2025-06-30',
                                   DATE '2025-09-30', DATE '2025-12-31')
           GROUP BY 1""",
        """SELECT CAST(make_date(year(snapshot_date), (quarter(snapshot_date) - 1) * 3 + 1, 1)
                       + INTERVAL 3 MONTH AS DATE) AS metric_time__quarter,
                  SUM(overdue_1_30 + overdue_31_60 + overdue_61_90 + overdue_over_90)
                      / SUM(balance) AS overdue_ratio
           FROM ar_aging_monthly
           WHERE snapshot_date IN (DATE '2024-12-31', DATE '2025-03-31',
                                   DATE '2025-06-30', DATE '2025-09-30')
           GROUP BY 1""",
        ["metric_time__quarter"],
        ["overdue_ratio"],
    ),
)


# --- the tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("dates", ["subquery", "literal"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_compiled_query_matches_hand_written_sql(case: Case, dates: str, model, engine) -> None:
    """Both ways of finding a balance's last snapshot: by subquery (no database at compile
    time) and as literal dates read from the engine."""
    query = SemanticQuery.model_validate(case.query)
    snapshots = engine.snapshots if dates == "literal" else None
    compiled = compile_query(model, query, snapshots=snapshots)
    if snapshots is not None:
        assert "MAX(" not in compiled.sql.upper().replace(" ", "")
    actual = engine.execute(compiled.ast)
    expected = engine.execute(case.sql)
    keys = [ref.key for ref in query.dimensions]
    assert actual.names[: len(keys)] == keys, "dimension keys come first, named name__grain"
    assert sorted(actual.names) == sorted(expected.names), (
        "the check query must produce every compiled column (and only those): "
        f"compiled {actual.names}, check {expected.names}"
    )
    assert [c.name for c in compiled.columns] == actual.names
    assert_same_result(actual, expected, keys, ordered=case.ordered, allow_null=case.allow_null)


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


def test_every_metric_of_the_model_has_a_case(model) -> None:
    covered: set[str] = set()
    for c in CASES:
        covered.update(c.query["metrics"])
        covered.update(h["metric"] for h in c.query.get("having", []))
    missing = sorted(m.name for m in model.metrics if m.name not in covered)
    assert not missing, f"metrics without a result case in {__name__}: {missing}"


def test_cases_cover_every_comparison_grain_and_filter_op() -> None:
    queries = [SemanticQuery.model_validate(c.query) for c in CASES]
    compares = {q.compare.value for q in queries}
    assert compares >= {"none", "yoy", "mom", "qoq", "previous_period", "budget"}
    # previous_period both with a metric_time grain and without one
    pp = [q for q in queries if q.compare.value == "previous_period"]
    assert any(any(d.grain for d in q.dimensions) for q in pp)
    assert any(not any(d.grain for d in q.dimensions) for q in pp)
    # budget for both metrics that have one
    budget_metrics = {m for q in queries if q.compare.value == "budget" for m in q.metrics}
    assert {"revenue", "expenses"} <= budget_metrics
    grains = {d.grain.value for q in queries for d in q.dimensions if d.grain}
    assert grains >= {"day", "week", "month", "quarter", "year"}
    ops = {f.op for q in queries for f in q.filters}
    assert ops >= {"=", "!=", "in", "not_in", ">", "between", "contains"}
    assert any(q.having for q in queries)
    assert any(q.limit for q in queries)
    assert any(q.intent.value == "share" for q in queries)


# --- refusals (no database needed); user values stay literals (runs on the DB) ---------


def test_revenue_by_department_is_refused_with_the_allowed_dimensions(model) -> None:
    query = SemanticQuery(metrics=["revenue"], dimensions=["department"])
    with pytest.raises(QueryError) as info:
        compile_query(model, query)
    err = info.value
    zh, en = err.message("zh"), err.message("en")
    assert "营业收入" in zh and "部门" in zh
    assert "Revenue" in en and "Department" in en
    for allowed_zh, allowed_en in [("区域", "Region"), ("产品线", "Product line")]:
        assert allowed_zh in zh
        assert allowed_en in en
    # The refused dimension must not also be offered in the list of allowed ones.
    allowed_zh_list = zh.split("可用的维度")[1].split("。")[0]
    allowed_en_list = en.split("Dimensions it can use")[1].split(". ")[0]
    assert "区域" in allowed_zh_list and "部门" not in allowed_zh_list
    assert "Region" in allowed_en_list and "Department" not in allowed_en_list


def test_unknown_metric_suggests_the_closest_names(model) -> None:
    with pytest.raises(QueryError) as info:
        compile_query(model, SemanticQuery(metrics=["revenu"]))
    err = info.value
    assert "revenue" in err.suggestions
    assert "revenu" in err.message("en") and "revenue" in err.message("en")
    assert "revenue" in err.message("zh")


def test_budget_comparison_of_a_metric_without_budget_is_refused(model) -> None:
    query = SemanticQuery(
        metrics=["gross_margin"],
        time_range={"start": "2025-01-01", "end": "2026-01-01"},
        compare="budget",
    )
    with pytest.raises(QueryError) as info:
        compile_query(model, query)
    assert "毛利率" in info.value.message("zh")
    assert "Gross margin" in info.value.message("en")


@pytest.mark.parametrize(
    ("metrics", "dimensions", "filters"),
    [
        (["revenue"], ["channel"], []),
        (["revenue"], [], [{"dimension": "channel", "op": "=", "values": ["直销"]}]),
        (["revenue"], ["customer"], []),
        (
            ["expenses"],
            ["department"],
            [{"dimension": "expense_date", "op": ">", "values": ["2025-06-30"]}],
        ),
    ],
    ids=[
        "revenue_by_channel",
        "revenue_filtered_by_channel",
        "revenue_by_customer",
        "expenses_filtered_by_expense_date",
    ],
)
def test_budget_comparison_by_a_dimension_the_budget_lacks_is_a_query_error(
    model, metrics, dimensions, filters
) -> None:
    # The revenue budget is set by region and product line only, the expense budget by
    # department, category and month: a split it cannot follow must be an explained refusal
    # (QueryError in both languages), never a crash.
    query = SemanticQuery(
        metrics=metrics,
        dimensions=dimensions,
        filters=filters,
        time_range={"start": "2025-01-01", "end": "2026-01-01"},
        compare="budget",
    )
    with pytest.raises(QueryError) as info:
        compile_query(model, query)
    assert info.value.message("zh") and info.value.message("en")


def test_dso_without_a_period_is_refused(model) -> None:
    with pytest.raises(QueryError) as info:
        compile_query(model, SemanticQuery(metrics=["dso"], dimensions=["region"]))
    assert "应收账款周转天数" in info.value.message("zh")
    assert "Days sales outstanding" in info.value.message("en")


@pytest.mark.parametrize(
    ("op", "hostile"),
    [
        ("=", "x' OR '1'='1"),
        ("in", "x' OR '1'='1"),
        ("contains", "x' OR '1'='1"),
        ("contains", "%"),  # a LIKE wildcard would match every name
        ("contains", "_"),
    ],
)
def test_quoted_filter_value_is_a_literal_not_sql(model, engine, op: str, hostile: str) -> None:
    query = SemanticQuery(
        metrics=["revenue"],
        dimensions=["customer"],
        filters=[{"dimension": "customer", "op": op, "values": [hostile]}],
        time_range={"start": "2025-01-01", "end": "2026-01-01"},
    )
    compiled = compile_query(model, query)
    result = engine.execute(compiled.ast)
    assert result.rows == []
    # The same query without the filter does return customers: the empty result is the filter.
    unfiltered = engine.execute(compile_query(model, query.model_copy(update={"filters": []})).ast)
    assert len(unfiltered.rows) > 100
