"""Importers are exact or say so: each dbt and Cube construct, written small in tmp_path.

Every construct either maps with the same meaning — and then the imported model's numbers
equal a hand-written query over the same DuckDB data — or is listed as not mapped with its
reason. Nothing is dropped silently: a constant dimension (`expr: "1"`) keeps its meaning
("a row of its table matches") instead of turning a filter into `1 = 1`.
"""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from semantic_layer.check import _Names, check_model
from semantic_layer.compiler import compile_for
from semantic_layer.engine import DuckDBEngine
from semantic_layer.importers.common import ImportReport
from semantic_layer.importers.cube import import_cube
from semantic_layer.importers.dbt import import_dbt
from semantic_layer.loader import load_model, read_model
from semantic_layer.query import SemanticQuery

DATA = """
CREATE TABLE customers (customer_id INTEGER, region VARCHAR, customer_name VARCHAR);
INSERT INTO customers VALUES (1, 'North', 'Alice'), (2, 'South', 'Bob'), (3, 'North', 'Carol');
CREATE TABLE orders (
    order_id INTEGER, customer_id INTEGER, ordered_at DATE, shipped_at DATE,
    amount DECIMAL(10, 2), status VARCHAR
);
INSERT INTO orders VALUES
    (10, 1, DATE '2024-01-15', DATE '2024-01-20', 30.00, 'completed'),
    (11, 1, DATE '2024-03-02', DATE '2024-03-05', 12.50, 'completed'),
    (12, 2, DATE '2024-03-20', DATE '2024-04-02', 8.00, 'returned'),
    (13, 2, DATE '2024-11-11', DATE '2024-11-12', 45.00, 'completed'),
    (14, 3, DATE '2024-12-30', DATE '2025-01-03', 20.00, 'placed'),
    (15, 3, DATE '2025-02-01', DATE '2025-02-02', 16.00, 'completed');
CREATE TABLE refunds (order_id INTEGER, refunded_at DATE, refund DECIMAL(10, 2));
INSERT INTO refunds VALUES (12, DATE '2024-03-25', 8.00), (14, DATE '2025-01-10', 5.00);
CREATE TABLE order_items (
    item_id INTEGER, order_id INTEGER, customer_id INTEGER, ordered_at DATE,
    price DECIMAL(10, 2), is_food BOOLEAN
);
INSERT INTO order_items VALUES
    (100, 10, 1, DATE '2024-01-15', 5.00, false),
    (101, 10, 1, DATE '2024-01-15', 2.50, true),
    (102, 12, 2, DATE '2024-03-20', 2.00, true),
    (103, 13, 2, DATE '2024-11-11', 5.00, false),
    (104, 14, 3, DATE '2024-12-30', 4.00, true),
    (105, 15, 3, DATE '2025-02-01', 4.00, false);
CREATE TABLE balances (account_id INTEGER, snapshot_date DATE, balance DECIMAL(10, 2));
INSERT INTO balances VALUES
    (1, DATE '2024-01-31', 100), (2, DATE '2024-01-31', 50),
    (1, DATE '2024-02-29', 120), (2, DATE '2024-02-29', 40);
CREATE TABLE flags (order_id INTEGER);
INSERT INTO flags VALUES (10);
"""


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("exact") / "shop.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(DATA)
    return path


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def sql(db: Path, text: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as connection:
        return connection.execute(text).fetchall()


class Imported:
    """An imported model written to disk, loaded, checked against `db`, ready to query."""

    def __init__(self, text: str, report: ImportReport, db: Path, folder: Path) -> None:
        self.text, self.report, self.db = text, report, db
        self.path = folder / "model.yaml"
        self.path.write_text(text, encoding="utf-8")
        model, issues = read_model(self.path)
        errors = [i.message("en") for i in issues if i.severity == "error"]
        assert model is not None and not errors, "\n".join(errors) + "\n" + text
        with DuckDBEngine(db) as engine:
            _model, issues = check_model(self.path, engine)
        errors = [i.message("en") for i in issues if i.severity == "error"]
        assert not errors, "\n".join(errors) + "\n" + text
        self.model = load_model(self.path)
        self.yaml = yaml.safe_load(text)

    def metric(self, name: str) -> dict:
        return next(m for m in self.yaml["metrics"] if m["name"] == name)

    def dimension(self, name: str) -> dict:
        return next(d for d in self.yaml["dimensions"] if d["name"] == name)

    def rows(self, **query: object) -> list[tuple]:
        with DuckDBEngine(self.db) as engine:
            compiled = compile_for(engine, self.model, SemanticQuery(**query))
            return engine.execute(compiled.ast).rows

    def value(self, metric: str, **query: object) -> float:
        rows = self.rows(metrics=[metric], **query)
        assert len(rows) == 1, rows
        return float(rows[0][-1])

    def unmapped(self) -> dict[tuple[str, str], str]:
        return {(i.kind, i.name): i.reason for i in self.report.unmapped}

    def mapped(self) -> dict[tuple[str, str], str]:
        return {(i.kind, i.name): i.reason for i in self.report.mapped}


# --- dbt MetricFlow --------------------------------------------------------------------------

DBT = {
    "dbt_project.yml": """
        name: shop
        model-paths: ["models"]
    """,
    "models/customers.yml": """
        semantic_models:
          - name: customers
            model: ref('customers')
            entities:
              - {name: customer, type: primary, expr: customer_id}
            dimensions:
              - {name: region, type: categorical, label: Region}
              - name: customer_name
                type: categorical
                label: Customer
                config: {meta: {label_zh: 客户}}
    """,
    "models/orders.yml": """
        semantic_models:
          - name: orders
            model: ref('orders')
            defaults: {agg_time_dimension: ordered_at}
            entities:
              - {name: order_id, type: primary}
              - {name: customer, type: foreign, expr: customer_id, description: who ordered}
            dimensions:
              - {name: ordered_at, type: time, type_params: {time_granularity: day}}
              - {name: shipped_at, type: time, type_params: {time_granularity: day}}
              - {name: status, type: categorical, is_partition: true}
            measures:
              - name: order_amount
                agg: sum
                expr: amount
                description: Sum of order amounts.
              - {name: order_count, agg: sum, expr: 1}
              - {name: shipped_amount, agg: sum, expr: amount, agg_time_dimension: shipped_at}
              - name: p90_amount
                agg: percentile
                expr: amount
                agg_params: {percentile: 0.9, use_discrete_percentile: true}
              - {name: median_amount, agg: median, expr: amount}
          - name: refunds
            model: ref('refunds')
            defaults: {agg_time_dimension: refunded_at}
            entities:
              - {name: order_id, type: primary}
            dimensions:
              - {name: has_refund, type: categorical, expr: "1"}
              - {name: refunded_at, type: time, type_params: {time_granularity: day}}
            measures:
              - {name: refund_total, agg: sum, expr: refund}
          - name: flags
            model: ref('flags')
            entities:
              - {name: order_id, type: foreign}
            dimensions:
              - {name: always, type: categorical, expr: "1"}
          - name: retired
            model: ref('orders')
            config: {enabled: false}
            entities:
              - {name: order_id, type: primary}
    """,
    "models/order_items.yml": """
        semantic_models:
          - name: order_items
            model: ref('order_items')
            defaults: {agg_time_dimension: ordered_at}
            entities:
              - {name: item, type: primary, expr: item_id}
              - {name: order_id, type: foreign}
              - {name: customer, type: foreign, expr: customer_id}
            dimensions:
              - {name: ordered_at, type: time, type_params: {time_granularity: day}}
              - {name: is_food, type: categorical}
            measures:
              - {name: item_revenue, agg: sum, expr: price}
              - {name: food_revenue, agg: sum, expr: "case when is_food then price else 0 end"}
    """,
    "models/balances.yml": """
        semantic_models:
          - name: balances
            model: ref('balances')
            defaults: {agg_time_dimension: snapshot_date}
            entities:
              - {name: account, type: primary, expr: account_id}
            dimensions:
              - {name: snapshot_date, type: time, type_params: {time_granularity: day}}
              - {name: other_date, type: time, expr: snapshot_date}
            measures:
              - name: closing_balance
                agg: sum
                expr: balance
                non_additive_dimension: {name: snapshot_date, window_choice: max}
              - name: opening_balance
                agg: sum
                expr: balance
                non_additive_dimension: {name: snapshot_date, window_choice: min}
              - name: per_account_balance
                agg: sum
                expr: balance
                non_additive_dimension:
                  name: snapshot_date
                  window_choice: max
                  window_groupings: [account]
              - name: other_balance
                agg: sum
                expr: balance
                non_additive_dimension: {name: other_date, window_choice: max}
    """,
    "models/metrics.yml": """
        metrics:
          - name: order_amount
            label: Order amount
            type: simple
            type_params: {measure: order_amount}
            config: {meta: {label_zh: 订单金额}}
          - name: refunded_orders
            label: Refunded orders
            type: simple
            type_params: {measure: order_count}
            filter: "{{ Dimension('order_id__has_refund') }} = 1"
          - name: orders_without_refund
            label: Orders without refund
            type: simple
            type_params: {measure: order_count}
            filter: "{{ Dimension('order_id__has_refund') }} IS NULL"
          - name: refunded_item_revenue
            label: Revenue of refunded orders
            type: simple
            type_params: {measure: item_revenue}
            filter: "{{ Dimension('order_id__has_refund') }} = 1"
          - name: north_refunds
            label: North refunds
            type: simple
            type_params: {measure: refund_total}
            filter: "{{ Dimension('order_id__customer__region') }} = 'North'"
          - name: south_refunds
            label: South refunds
            type: simple
            type_params: {measure: refund_total}
            filter: "{{ Dimension('region', entity_path=['order_id', 'customer']) }} = 'South'"
          - name: first_customer_amount
            label: First customer's amount
            type: simple
            type_params: {measure: order_amount}
            filter: "{{ Entity('customer') }} = 1"
          - name: revenue_since_march
            label: Revenue since March
            type: simple
            type_params: {measure: item_revenue}
            filter: "{{ TimeDimension('metric_time', 'month') }} >= '2024-03-01'"
          - name: amount_2024
            label: Amount ordered in 2024
            type: simple
            type_params: {measure: order_amount}
            filter: "{{ Dimension('order_id__ordered_at').date_part('year') }} = 2024"
          - name: amount_from_march
            label: Amount from March
            type: simple
            type_params: {measure: order_amount}
            filter:
              - "{{ Dimension('order_id__ordered_at').grain('month') }} >= '2024-03-01'"
              - "{{ Dimension('order_id__ordered_at__month') }} < '2025-01-01'"
          - name: fiscal_amount
            label: Fiscal amount
            type: simple
            type_params: {measure: order_amount}
            filter: "{{ TimeDimension('metric_time', 'fiscal_quarter') }} = '2024-01-01'"
          - name: north_item_revenue
            label: North item revenue by the order's customer
            type: simple
            type_params: {measure: item_revenue}
            filter: "{{ Dimension('order_id__customer__region') }} = 'North'"
          - name: big_customer_amount
            label: Big customers' amount
            type: simple
            type_params: {measure: order_amount}
            filter: "{{ Metric('order_amount', group_by=['customer']) }} > 50"
          - name: shipped_amount
            label: Shipped amount
            description: Amount by the day it shipped.
            type: simple
            type_params: {measure: shipped_amount}
          - name: refund_total
            type: simple
            type_params:
              measure: {name: refund_total, fill_nulls_with: 0, join_to_timespine: true}
            time_granularity: month
            owner: finance
          - name: old_metric
            type: simple
            type_params: {measure: order_amount}
            config: {enabled: false}
          - name: north_food_share
            label: Food share in the North
            type: ratio
            type_params: {numerator: food_revenue, denominator: item_revenue}
            filter: "{{ Dimension('customer__region') }} = 'North'"
          - name: food_revenue
            type: simple
            type_params: {measure: food_revenue}
          - name: item_revenue
            type: simple
            type_params: {measure: item_revenue}
          - name: north_net
            label: Net amount in the North
            type: derived
            type_params:
              expr: amount - refunds
              metrics:
                - {name: order_amount, alias: amount}
                - {name: refund_total, alias: refunds}
            filter: "{{ Dimension('order_id__customer__region') }} = 'North'"
          - name: amount_growth
            type: derived
            type_params:
              expr: amount - last_month
              metrics:
                - {name: order_amount, alias: amount}
                - {name: order_amount, alias: last_month, offset_window: 1 month}
          - name: amount_vs_month_start
            type: derived
            type_params:
              expr: amount - start
              metrics:
                - {name: order_amount, alias: amount}
                - {name: order_amount, alias: start, offset_to_grain: month}
          - name: rolling_amount
            type: cumulative
            type_params: {measure: order_amount, window: 7 days}
          - name: mtd_amount
            type: cumulative
            type_params: {measure: order_amount, grain_to_date: month}
          - name: running_amount
            type: cumulative
            type_params: {measure: order_amount}
          - name: refund_conversion
            type: conversion
            type_params:
              conversion_type_params:
                base_measure: order_count
                conversion_measure: refund_total
                entity: order_id
        saved_queries:
          - name: amounts_by_region
            query_params:
              metrics: [order_amount]
              group_by: ["Dimension('customer__region')"]
              where: ["{{ Dimension('customer__region') }} = 'North'"]
            exports:
              - {name: amounts_by_region, config: {export_as: table}}
    """,
}


@pytest.fixture(scope="module")
def dbt(db: Path, tmp_path_factory: pytest.TempPathFactory) -> Imported:
    root = write(tmp_path_factory.mktemp("dbt") / "shop", DBT)
    text, report = import_dbt(root)
    return Imported(text, report, db, root)


def test_dbt_constant_dimension_means_a_row_matches(dbt: Imported, db: Path) -> None:
    """`has_refund: expr "1"` is 1 where the order has a refund row, NULL elsewhere; a filter
    `= 1` on it is `key IS NOT NULL`, never `1 = 1`."""
    assert dbt.dimension("has_refund")["expr"] == "CASE WHEN NOT order_id IS NULL THEN 1 END"
    note = dbt.mapped()[("dimension", "refunds.has_refund")]
    assert "holds where a row of refunds matches" in note
    assert dbt.metric("refunded_orders")["filter"] == "NOT refunds.order_id IS NULL"
    assert dbt.metric("orders_without_refund")["filter"] == "refunds.order_id IS NULL"
    assert "1 = 1" not in dbt.text
    (expected,) = sql(db, "SELECT COUNT(*) FROM orders JOIN refunds USING (order_id)")[0]
    assert dbt.value("refunded_orders") == expected == 2
    (expected,) = sql(
        db, "SELECT COUNT(*) FROM orders WHERE order_id NOT IN (SELECT order_id FROM refunds)"
    )[0]
    assert dbt.value("orders_without_refund") == expected == 4
    (expected,) = sql(db, "SELECT SUM(price) FROM order_items JOIN refunds USING (order_id)")[0]
    assert dbt.value("refunded_item_revenue") == float(expected) == 6.0

    # Grouped by, and filtered by as the CLI's `-w has_refund=1` does: the orders that have one.
    by = dict(dbt.rows(metrics=["order_amount"], dimensions=["has_refund"]))
    assert {k: float(v) for k, v in by.items()} == {1: 28.0, None: 103.5}
    filtered = dbt.value(
        "order_amount", filters=[{"dimension": "has_refund", "op": "=", "values": ["1"]}]
    )
    (expected,) = sql(db, "SELECT SUM(amount) FROM orders JOIN refunds USING (order_id)")[0]
    assert filtered == float(expected) == 28.0

    # A constant on a table with no key column cannot say "a row matches": not mapped.
    reason = dbt.unmapped()[("dimension", "flags.always")]
    assert "is a constant" in reason and "primary or unique entity" in reason


def test_dbt_cli_where_on_a_constant_dimension(dbt: Imported) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app

    args = ["query", "--model", str(dbt.path), "--db", str(dbt.db), "-m", "order_amount"]
    shown = CliRunner().invoke(app, [*args, "-w", "has_refund=1", "--sql", "--lang", "en"])
    assert shown.exit_code == 0, shown.output
    assert "1 = '1'" not in shown.output and "refunds.order_id IS NULL" in shown.output
    ran = CliRunner().invoke(app, [*args, "-w", "has_refund=1", "--format", "csv"])
    assert ran.exit_code == 0, ran.output
    assert "28" in ran.output.splitlines()[-1]


def test_dbt_entity_paths_grains_and_date_parts(dbt: Imported, db: Path) -> None:
    metric = dbt.metric
    assert metric("north_refunds")["filter"] == "customers.region = 'North'"
    (expected,) = sql(
        db,
        "SELECT SUM(refund) FROM refunds JOIN orders USING (order_id) "
        "JOIN customers USING (customer_id) WHERE region = 'North'",
    )[0]
    assert dbt.value("north_refunds") == float(expected) == 5.0
    assert metric("south_refunds")["filter"] == "customers.region = 'South'"  # entity_path=
    assert dbt.value("south_refunds") == 8.0
    assert metric("first_customer_amount")["filter"] == "orders.customer_id = 1"
    assert dbt.value("first_customer_amount") == 42.5
    assert metric("revenue_since_march")["filter"] == (
        "DATE_TRUNC('MONTH', order_items.ordered_at) >= '2024-03-01'"
    )
    (expected,) = sql(db, "SELECT SUM(price) FROM order_items WHERE ordered_at >= '2024-03-01'")[0]
    assert dbt.value("revenue_since_march") == float(expected) == 15.0
    assert metric("amount_2024")["filter"] == "EXTRACT(YEAR FROM orders.ordered_at) = 2024"
    assert dbt.value("amount_2024") == 115.5
    assert metric("amount_from_march")["filter"] == (
        "DATE_TRUNC('MONTH', orders.ordered_at) >= '2024-03-01' "
        "AND DATE_TRUNC('MONTH', orders.ordered_at) < '2025-01-01'"
    )
    assert dbt.value("amount_from_march") == 12.5 + 8 + 45 + 20

    unmapped = dbt.unmapped()
    assert "custom granularity" in unmapped[("metric", "fiscal_amount")]
    assert "metric's value" in unmapped[("metric", "big_customer_amount")]
    # order_items joins customers directly; the filter names the way through orders. Both
    # happen to agree here, but they need not (an item's customer_id is its own column).
    assert unmapped[("metric", "north_item_revenue")] == (
        "order_id__customer__region names the join path order_items → orders → customers, "
        "but Cockpit joins order_items → customers, which may match other rows"
    )


def test_dbt_agg_time_dimension_and_balances(dbt: Imported, db: Path) -> None:
    assert dbt.metric("shipped_amount")["time"] == "shipped_at"
    in_2025 = {"start": date(2025, 1, 1), "end": date(2026, 1, 1)}
    (expected,) = sql(db, "SELECT SUM(amount) FROM orders WHERE year(shipped_at) = 2025")[0]
    assert dbt.value("shipped_amount", time_range=in_2025) == float(expected) == 36.0

    assert dbt.metric("closing_balance")["semi_additive"] is True
    assert dbt.value("closing_balance") == 160.0  # the last snapshot, never the sum (410)
    by_month = dbt.rows(metrics=["closing_balance"], dimensions=["metric_time:month"])
    assert [float(v) for _month, v in by_month] == [150.0, 160.0]
    unmapped = dbt.unmapped()
    assert "window_choice min" in unmapped[("measure", "opening_balance")]
    assert "window_groupings" in unmapped[("measure", "per_account_balance")]
    assert "not on the measure's own date" in unmapped[("measure", "other_balance")]
    assert unmapped[("measure", "p90_amount")].startswith(
        "the percentile (0.9, discrete) aggregation has no Cockpit equivalent"
    )
    assert unmapped[("measure", "median_amount")].startswith("the median aggregation")


def test_dbt_ratio_and_derived_filters_apply_to_each_input(dbt: Imported, db: Path) -> None:
    """MetricFlow applies a filter on a whole ratio or derived metric to every input."""
    assert dbt.metric("north_food_share")["expr"] == (
        "north_food_share_numerator / north_food_share_denominator"
    )
    assert dbt.metric("north_food_share_denominator")["filter"] == "customers.region = 'North'"
    ((food, total),) = sql(
        db,
        "SELECT SUM(CASE WHEN is_food THEN price ELSE 0 END), SUM(price) "
        "FROM order_items JOIN customers USING (customer_id) WHERE region = 'North'",
    )
    assert dbt.value("north_food_share") == pytest.approx(float(food / total)) == 6.5 / 15.5
    ((amount,),) = sql(
        db,
        "SELECT SUM(amount) FROM orders JOIN customers USING (customer_id) WHERE region = 'North'",
    )
    ((refunds,),) = sql(
        db,
        "SELECT SUM(refund) FROM refunds JOIN orders USING (order_id) "
        "JOIN customers USING (customer_id) WHERE region = 'North'",
    )
    assert dbt.value("north_net") == float(amount - refunds) == 73.5


def test_dbt_what_does_not_map_is_listed_with_its_reason(dbt: Imported) -> None:
    unmapped = dbt.unmapped()
    expected = {
        ("saved_query", "amounts_by_region"),
        ("semantic_model", "retired"),
        ("metric", "old_metric"),
        ("dimension", "flags.always"),
        ("measure", "opening_balance"),
        ("measure", "per_account_balance"),
        ("measure", "other_balance"),
        ("measure", "p90_amount"),
        ("measure", "median_amount"),
        ("metric", "fiscal_amount"),
        ("metric", "big_customer_amount"),
        ("metric", "north_item_revenue"),
        ("metric", "amount_growth"),
        ("metric", "amount_vs_month_start"),
        ("metric", "rolling_amount"),
        ("metric", "mtd_amount"),
        ("metric", "running_amount"),
        ("metric", "refund_conversion"),
        ("option", "orders.customer.description"),
        ("option", "refund_total.measure.fill_nulls_with"),
        ("option", "refund_total.measure.join_to_timespine"),
        ("option", "refund_total.time_granularity"),
        ("option", "refund_total.owner"),
    }
    assert set(unmapped) == expected, set(unmapped) ^ expected
    assert (
        "stored question (order_amount by Dimension('customer__region'), filtered)"
        in (unmapped[("saved_query", "amounts_by_region")])
    )
    assert "config.enabled: false" in unmapped[("metric", "old_metric")]
    assert "config.enabled: false" in unmapped[("semantic_model", "retired")]
    assert "offset by 1 month" in unmapped[("metric", "amount_growth")]
    assert "offset by month" in unmapped[("metric", "amount_vs_month_start")]
    assert "rolling window of 7 days" in unmapped[("metric", "rolling_amount")]
    assert "month-to-date" in unmapped[("metric", "mtd_amount")]
    assert "running total over all time" in unmapped[("metric", "running_amount")]
    assert "conversion (funnel)" in unmapped[("metric", "refund_conversion")]
    assert (
        "MetricFlow shows 0, Cockpit leaves it empty"
        in (unmapped[("option", "refund_total.measure.fill_nulls_with")])
    )
    assert (
        "every period of the time spine"
        in (unmapped[("option", "refund_total.measure.join_to_timespine")])
    )
    assert "default grain" in unmapped[("option", "refund_total.time_granularity")]
    assert "not a setting the importer knows" in unmapped[("option", "refund_total.owner")]
    # The metric itself maps, and says what it does not apply.
    assert (
        "fill_nulls_with and join_to_timespine not applied"
        in (dbt.mapped()[("metric", "refund_total")])
    )
    assert "over refund_total" in dbt.mapped()[("metric", "north_net")]
    # Nothing unknown slipped through: is_partition is known to change no number.
    assert ("option", "orders.status.is_partition") not in unmapped


def test_dbt_labels_and_descriptions(dbt: Imported) -> None:
    assert dbt.metric("order_amount")["label"] == {"zh": "订单金额", "en": "Order amount"}
    assert dbt.dimension("customer_name")["label"] == {"zh": "客户", "en": "Customer"}
    # A metric without a description takes its measure's.
    assert dbt.metric("order_amount")["description"]["en"] == "Sum of order amounts."
    assert dbt.metric("shipped_amount")["description"]["en"] == "Amount by the day it shipped."
    # The Chinese label copies the English one when the source has none, and the report says so.
    (note,) = [n for n in dbt.report.notes if "no Chinese text" in n.en]
    assert "their Chinese label is the English one" in note.en and "meta.label_zh" in note.en
    assert dbt.metric("refunded_orders")["label"] == {
        "zh": "Refunded orders",
        "en": "Refunded orders",
    }
    assert "说明：" in dbt.report.text("zh") and "Notes:" in dbt.report.text("en")
    assert "中文标签暂用英文" in dbt.report.to_dict()["notes_zh"][0]


# --- Cube ------------------------------------------------------------------------------------

CUBE = {
    "model/orders.yml": """
        cubes:
          - name: orders
            sql_table: public.orders
            title: Orders
            joins:
              - {name: customers, relationship: many_to_one, sql: "${CUBE}.customer_id = ${customers.id}"}
              - {name: refunds, relationship: one_to_one, sql: "{CUBE}.order_id = {refunds}.order_id"}
            dimensions:
              - {name: id, sql: "${CUBE}.order_id", type: number, primary_key: true}
              - {name: status, sql: "{CUBE}.status", type: string, title: Status}
              - name: ordered_at
                sql: "${CUBE.ordered_day}"
                type: time
                granularities: [{name: fiscal_year, interval: 1 year, offset: 3 months}]
              - {name: ordered_day, sql: ordered_at, type: time, public: false}
            measures:
              - {name: amount, sql: "${CUBE}.amount", type: sum, title: Amount}
              - name: refunded_amount
                sql: "{CUBE}.amount"
                type: sum
                title: Refunded amount
                filters: [{sql: "{refunds.has_refund} = 1"}]
              - {name: buyers, sql: customer_id, type: count_distinct_approx, title: Buyers}
              - {name: weekly_amount, sql: amount, type: sum, rolling_window: {trailing: 7 day}}
              - name: amount_last_year
                sql: "{amount}"
                type: number
                multi_stage: true
                time_shift: [{interval: 1 year, type: prior}]
              - {name: running_amount, sql: amount, type: running_total}
            segments:
              - {name: completed, sql: "{CUBE}.status = 'completed'"}
            pre_aggregations:
              - {name: main, measures: [amount], time_dimension: ordered_at, granularity: day}
            access_policy:
              - role: "*"
                row_level: {allow_all: true}
            refresh_key: {every: 1 hour}
            colour: blue
    """,
    "model/others.yml": """
        cubes:
          - name: refunds
            sql_table: refunds
            dimensions:
              - {name: order_id, sql: order_id, type: number, primary_key: true}
              - {name: has_refund, sql: 1, type: number, title: Has refund}
              - {name: refunded_at, sql: refunded_at, type: time}
          - name: customers
            sql_table: customers
            dimensions:
              - {name: id, sql: customer_id, type: number, primary_key: true}
              - {name: region, sql: "${CUBE}.region", type: string, title: Region}
          - name: flags
            sql_table: flags
            dimensions:
              - {name: always, sql: "1", type: number}
            measures:
              - {name: flag_count, type: count}
    """,
}


@pytest.fixture(scope="module")
def cube(db: Path, tmp_path_factory: pytest.TempPathFactory) -> Imported:
    root = write(tmp_path_factory.mktemp("cube") / "shop", CUBE)
    text, report = import_cube(root / "model")
    return Imported(text, report, db, root)


def test_cube_references_in_every_form(cube: Imported, db: Path) -> None:
    """`${CUBE}.x`, `{CUBE}.x`, `${CUBE.member}`, `{cube}.x`, `${cube.member}` all resolve."""
    assert cube.metric("amount")["expr"] == "amount"
    assert cube.dimension("ordered_at")["expr"] == "ordered_at"
    assert cube.dimension("region")["expr"] == "region"
    joins = {(j["from"], j["to"]): j["on"] for j in cube.yaml["joins"]}
    assert joins == {("orders", "customers"): "customer_id", ("orders", "refunds"): "order_id"}
    ((total,),) = sql(db, "SELECT SUM(amount) FROM orders")
    assert cube.value("amount") == float(total) == 131.5
    rows = cube.rows(metrics=["amount"], dimensions=["region"])
    assert {r: float(v) for r, v in rows} == {"North": 78.5, "South": 53.0}


def test_cube_constant_dimension_means_a_row_matches(cube: Imported, db: Path) -> None:
    assert cube.dimension("has_refund")["expr"] == "CASE WHEN NOT order_id IS NULL THEN 1 END"
    assert "Cube's outer joins" in cube.mapped()[("dimension", "refunds.has_refund")]
    assert cube.metric("refunded_amount")["filter"] == "NOT refunds.order_id IS NULL"
    ((expected,),) = sql(db, "SELECT SUM(amount) FROM orders JOIN refunds USING (order_id)")
    assert cube.value("refunded_amount") == float(expected) == 28.0
    by = cube.rows(metrics=["amount"], dimensions=["has_refund"])
    assert {k: float(v) for k, v in by} == {1: 28.0, None: 103.5}
    assert "no way to say that" in cube.unmapped()[("dimension", "flags.always")]


def test_cube_what_does_not_map_is_listed_with_its_reason(cube: Imported) -> None:
    unmapped = cube.unmapped()
    expected = {
        ("segment", "orders.completed"),
        ("pre_aggregation", "orders.main"),
        ("option", "orders.access_policy"),
        ("option", "orders.colour"),
        ("option", "orders.ordered_at.granularities"),
        ("measure", "orders.weekly_amount"),
        ("measure", "orders.amount_last_year"),
        ("measure", "orders.running_amount"),
        ("dimension", "orders.ordered_day"),
        ("dimension", "flags.always"),
        ("measure", "flags.flag_count"),
    }
    assert set(unmapped) == expected, set(unmapped) ^ expected
    assert "named filters" in unmapped[("segment", "orders.completed")]
    assert "Cube cache" in unmapped[("pre_aggregation", "orders.main")]
    assert "write the roles in the model" in unmapped[("option", "orders.access_policy")]
    assert "custom granularities" in unmapped[("option", "orders.ordered_at.granularities")]
    assert "rolling window" in unmapped[("measure", "orders.weekly_amount")]
    assert (
        "multi-stage measure (multi_stage, time_shift)"
        in (unmapped[("measure", "orders.amount_last_year")])
    )
    assert "running total" in unmapped[("measure", "orders.running_amount")]
    assert "public: false" in unmapped[("dimension", "orders.ordered_day")]
    # flags' only time dimension is not a column of it: its count has no date to go by.
    assert "time dimension" in unmapped[("measure", "flags.flag_count")]
    assert "counted exactly" in cube.mapped()[("measure", "orders.buyers")]
    assert any("first time dimension" in note.en for note in cube.report.notes)


# --- identifier case in `cockpit check` --------------------------------------------------------

CASE_MODEL = """
name: cased
tables:
  - {name: claims, primary_key: [claim_id], time_column: opened_on}
dimensions:
  - {name: state, table: claims, expr: state_code, label: {zh: 州, en: State}}
metrics:
  - name: claim_amount
    label: {zh: 理赔金额, en: Claim amount}
    table: claims
    agg: sum
    expr: claim_AMOUNT
    time: opened_on
"""


def test_check_resolves_identifier_case_by_the_engine_rule(tmp_path: Path) -> None:
    """DuckDB matches identifiers case-insensitively: a model saying `claim_id` over a column
    `Claim_Id` runs, so it is no error; a column that is really missing still is."""
    database = tmp_path / "cased.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(
            "CREATE TABLE Claims (Claim_Id INTEGER, Opened_On DATE, State_Code VARCHAR, "
            "Claim_Amount DOUBLE); INSERT INTO Claims VALUES (1, DATE '2024-01-02', 'TX', 10.5)"
        )
    path = tmp_path / "model.yaml"
    path.write_text(CASE_MODEL, encoding="utf-8")
    with DuckDBEngine(database) as engine:
        _model, issues = check_model(path, engine)
    assert [i.message("en") for i in issues if i.severity == "error"] == []

    path.write_text(CASE_MODEL.replace("expr: state_code", "expr: state_name"), encoding="utf-8")
    with DuckDBEngine(database) as engine:
        _model, issues = check_model(path, engine)
    errors = [i for i in issues if i.severity == "error"]
    assert len(errors) == 1 and errors[0].code == "unknown_column"
    assert (
        errors[0]
        .message("en")
        .endswith("Table claims has no column state_name (did you mean: State_Code)")
    )


def test_identifier_rules_per_dialect() -> None:
    """PostgreSQL folds an unquoted name to lower case and then matches exactly."""
    duck, postgres = _Names("duckdb"), _Names("postgres")
    assert duck.resolve("claim_id", ["Claim_Id", "other"]) == ["Claim_Id"]
    assert postgres.resolve("claim_id", ["Claim_Id"]) == []
    assert postgres.resolve("Claim_Id", ["claim_id"]) == ["claim_id"]
    assert postgres.resolve("Claim_Id", ["Claim_Id"]) == []
    assert postgres.resolve("id", ["id", "ID"]) == ["id"]
