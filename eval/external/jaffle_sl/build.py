"""Build the jaffle-sl-template database from data/: the dbt project's staging and mart models.

The SQL below restates, for DuckDB, what the template's dbt models compute (models/staging/*.sql
and models/marts/customer360/*.sql at the commit named in NOTICE.md), including their quirks:
`customers.lifetime_spend` sums `order_total` over the order *items* join, as upstream does.
Only the tables the semantic models read are kept: customers, orders, order_items,
stg_locations, stg_products.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

DATA = Path(__file__).parent / "data"

STATEMENTS = (
    """CREATE TEMP TABLE stg_customers AS
       SELECT id AS customer_id, name AS customer_name FROM raw_customers""",
    """CREATE TABLE stg_locations AS
       SELECT id AS location_id, name AS location_name, tax_rate,
              date_trunc('day', opened_at) AS opened_at
       FROM raw_stores""",
    """CREATE TEMP TABLE stg_order_items AS
       SELECT id AS order_item_id, order_id, sku AS product_id FROM raw_items""",
    """CREATE TEMP TABLE stg_orders AS
       SELECT id AS order_id, store_id AS location_id, customer AS customer_id,
              order_total / 100.0 AS order_total, tax_paid / 100.0 AS tax_paid,
              date_trunc('day', ordered_at) AS ordered_at
       FROM raw_orders""",
    """CREATE TABLE stg_products AS
       SELECT sku AS product_id, name AS product_name, type AS product_type,
              description AS product_description, price / 100.0 AS product_price,
              CASE WHEN type = 'jaffle' THEN 1 ELSE 0 END AS is_food_item,
              CASE WHEN type = 'beverage' THEN 1 ELSE 0 END AS is_drink_item
       FROM raw_products""",
    """CREATE TEMP TABLE stg_supplies AS
       SELECT id AS supply_id, sku AS product_id, name AS supply_name,
              cost / 100.0 AS supply_cost, perishable AS is_perishable_supply
       FROM raw_supplies""",
    """CREATE TABLE order_items AS
       WITH order_supplies_summary AS (
           SELECT product_id, sum(supply_cost) AS supply_cost FROM stg_supplies GROUP BY 1
       )
       SELECT i.*, p.product_price, s.supply_cost, p.is_food_item, p.is_drink_item, o.ordered_at
       FROM stg_order_items i
       LEFT JOIN stg_orders o ON i.order_id = o.order_id
       LEFT JOIN stg_products p ON i.product_id = p.product_id
       LEFT JOIN order_supplies_summary s ON i.product_id = s.product_id""",
    """CREATE TABLE orders AS
       WITH order_items_summary AS (
           SELECT order_id, sum(supply_cost) AS order_cost,
                  sum(is_food_item) AS count_food_items, sum(is_drink_item) AS count_drink_items
           FROM order_items GROUP BY 1
       )
       SELECT o.*, s.count_food_items > 0 AS is_food_order,
              s.count_drink_items > 0 AS is_drink_order, s.order_cost
       FROM stg_orders o LEFT JOIN order_items_summary s ON o.order_id = s.order_id""",
    """CREATE TABLE customers AS
       WITH order_summary AS (
           SELECT o.customer_id,
                  count(DISTINCT o.order_id) AS count_lifetime_orders,
                  count(DISTINCT o.order_id) > 1 AS is_repeat_buyer,
                  min(o.ordered_at) AS first_ordered_at,
                  max(o.ordered_at) AS last_ordered_at,
                  sum(i.product_price) AS lifetime_spend_pretax,
                  sum(o.order_total) AS lifetime_spend
           FROM orders o LEFT JOIN order_items i ON o.order_id = i.order_id
           GROUP BY 1
       )
       SELECT c.*, s.count_lifetime_orders, s.first_ordered_at, s.last_ordered_at,
              s.lifetime_spend_pretax, s.lifetime_spend,
              CASE WHEN s.is_repeat_buyer THEN 'returning' ELSE 'new' END AS customer_type
       FROM stg_customers c LEFT JOIN order_summary s ON c.customer_id = s.customer_id""",
)


def build(path: str | Path) -> Path:
    """Write the database to `path` (replacing it) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        for csv in sorted(DATA.glob("raw_*.csv")):
            con.execute(
                f"CREATE TEMP TABLE {csv.stem} AS SELECT * FROM read_csv(?, header = true)",
                [str(csv)],
            )
        for statement in STATEMENTS:
            con.execute(statement)
    return path
