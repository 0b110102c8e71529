"""Importers: a dbt MetricFlow project and a Cube model become Cockpit models that answer.

Each fixture is written here: the source project, a DuckDB database with matching tables and
a little data. The imported YAML must load with no errors, pass `check_model` against the
database, and answer questions with the numbers a hand-written query gives.
"""

from __future__ import annotations

import re
import textwrap
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from assistant.api import Assistant
from assistant.settings import Settings
from semantic_layer.check import check_model
from semantic_layer.engine import DuckDBEngine
from semantic_layer.errors import ModelError
from semantic_layer.importers.common import ImportReport
from semantic_layer.importers.cube import import_cube
from semantic_layer.importers.dbt import import_dbt
from semantic_layer.loader import load_model, read_model

AS_OF = date(2025, 6, 30)

# --- a small shop: customers, orders, order items ------------------------------------------

SHOP_DATA = """
CREATE TABLE customers (customer_id INTEGER, customer_name VARCHAR, region VARCHAR);
INSERT INTO customers VALUES (1, 'Alice', 'North'), (2, 'Bob', 'South'), (3, 'Carol', 'North');
CREATE TABLE orders (
    order_id INTEGER, customer_id INTEGER, ordered_at DATE, status VARCHAR, amount DECIMAL(10, 2)
);
INSERT INTO orders VALUES
    (10, 1, DATE '2024-01-15', 'completed', 30.00),
    (11, 1, DATE '2024-03-02', 'completed', 12.50),
    (12, 2, DATE '2024-03-20', 'returned', 8.00),
    (13, 2, DATE '2024-11-11', 'completed', 45.00),
    (14, 3, DATE '2024-12-30', 'placed', 20.00),
    (15, 3, DATE '2025-02-01', 'completed', 16.00),
    (16, 1, DATE '2025-05-05', 'completed', 22.00);
CREATE TABLE order_items (
    order_item_id INTEGER, order_id INTEGER, ordered_at DATE, product_name VARCHAR,
    product_price DECIMAL(10, 2), quantity INTEGER
);
INSERT INTO order_items VALUES
    (100, 10, DATE '2024-01-15', 'Latte', 5.00, 4),
    (101, 10, DATE '2024-01-15', 'Bagel', 2.50, 4),
    (102, 11, DATE '2024-03-02', 'Latte', 5.00, 2),
    (103, 11, DATE '2024-03-02', 'Muffin', 2.50, 1),
    (104, 12, DATE '2024-03-20', 'Bagel', 2.00, 4),
    (105, 13, DATE '2024-11-11', 'Latte', 5.00, 9),
    (106, 14, DATE '2024-12-30', 'Muffin', 4.00, 5),
    (107, 15, DATE '2025-02-01', 'Latte', 4.00, 4),
    (108, 16, DATE '2025-05-05', 'Bagel', 2.75, 8);
"""


def make_database(path: Path, ddl: str) -> Path:
    connection = duckdb.connect(str(path))
    try:
        connection.execute(ddl)
    finally:
        connection.close()
    return path


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def scalar_rows(db: Path, sql: str) -> list[tuple]:
    with DuckDBEngine(db) as engine:
        return engine.execute(sql).rows


def assert_loads_and_checks(yaml_text: str, db: Path, tmp_path: Path) -> Path:
    """The imported YAML loads with no errors and fits the database (every metric runs)."""
    out = tmp_path / "model.yaml"
    out.write_text(yaml_text, encoding="utf-8")
    model, issues = read_model(out)
    errors = [i.message("en") for i in issues if i.severity == "error"]
    assert model is not None and not errors, "\n".join(errors) + "\n" + yaml_text
    with DuckDBEngine(db) as engine:
        _model, issues = check_model(out, engine)
    errors = [i.message("en") for i in issues if i.severity == "error"]
    assert not errors, "\n".join(errors) + "\n" + yaml_text
    return out


def assistant_for(model_file: Path, db: Path, tmp_path: Path) -> Assistant:
    settings = Settings(cache_dir=tmp_path / "cache")
    return Assistant(load_model(model_file), DuckDBEngine(db), as_of=AS_OF, settings=settings)


def by_first_column(rows: list[tuple]) -> dict:
    return {row[0]: float(row[-1]) for row in rows}


# --- dbt MetricFlow ------------------------------------------------------------------------

DBT_PROJECT = {
    "dbt_project.yml": """
        name: jaffle_shop
        version: "1.0.0"
        profile: jaffle_shop
        model-paths: ["models"]
    """,
    "models/customers.yml": """
        models:
          - name: customers
            description: One row per customer.
        semantic_models:
          - name: customers
            description: Customers of the shop.
            model: ref('customers')
            config:
              meta: {label_zh: 客户表}
            entities:
              - {name: customer, type: primary, expr: customer_id}
            dimensions:
              - name: customer_name
                type: categorical
                label: Customer
                config: {meta: {label_zh: 客户, synonyms: [client, 顾客]}}
              - {name: region, type: categorical, label: Region}
    """,
    "models/orders.yml": """
        semantic_models:
          - name: orders
            description: One row per order.
            model: "{{ ref('orders') }}"
            defaults:
              agg_time_dimension: ordered_at
            entities:
              - {name: order_id, type: primary}
              - {name: customer, type: foreign, expr: customer_id}
            dimensions:
              - name: ordered_at
                type: time
                label: Order date
                type_params: {time_granularity: day}
              - {name: status, type: categorical, label: Order status}
            measures:
              - {name: order_count, agg: sum, expr: 1, label: Orders}
              - {name: order_amount, agg: sum, expr: amount, description: Order amounts.}
              - {name: order_amount_median, agg: median, expr: amount}
              - {name: buyers, agg: count_distinct, expr: customer_id, label: Buyers}
          - name: order_items
            model: ref('order_items')
            defaults:
              agg_time_dimension: ordered_at
            entities:
              - {name: order_item, type: primary, expr: order_item_id}
              - {name: order_id, type: foreign}
            dimensions:
              - {name: ordered_at, type: time, type_params: {time_granularity: day}}
              - {name: product_name, type: categorical, label: Product}
            measures:
              - {name: item_revenue, agg: sum, expr: product_price * quantity}
              - {name: units, agg: sum, expr: quantity, label: Units sold}
    """,
    "models/metrics.yml": """
        metrics:
          - name: revenue
            label: Revenue
            description: Item sales of completed orders.
            type: simple
            type_params:
              measure: item_revenue
            filter: |
              {{ Dimension('order_id__status') }} = 'completed'
            config:
              meta: {label_zh: 收入, synonyms: [sales]}
          - name: order_count
            label: Order count
            type: simple
            type_params: {measure: order_count}
          - name: completed_orders
            label: Completed orders
            type: simple
            type_params:
              measure:
                name: order_count
                filter: "{{ Dimension('order_id__status') }} = 'completed'"
          - name: average_order_value
            label: Average order value
            type: ratio
            type_params: {numerator: revenue, denominator: completed_orders}
          - name: completion_rate
            label: Completion rate
            type: ratio
            type_params:
              numerator:
                name: order_count
                filter: "{{ Dimension('order_id__status') }} = 'completed'"
              denominator: order_count
          - name: revenue_per_buyer
            label: Revenue per buyer
            type: derived
            type_params:
              expr: rev / people
              metrics:
                - {name: revenue, alias: rev}
                - {name: buyers, alias: people}
          - name: revenue_growth_mom
            label: Revenue growth month over month
            type: derived
            type_params:
              expr: revenue - revenue_prev
              metrics:
                - {name: revenue}
                - {name: revenue, offset_window: 1 month, alias: revenue_prev}
          - name: cumulative_revenue
            label: Cumulative revenue
            type: cumulative
            type_params:
              measure: item_revenue
              cumulative_type_params: {window: 7 days}
          - name: median_order_amount
            label: Median order amount
            type: simple
            type_params: {measure: order_amount_median}
          - name: buyers
            label: Buyers
            type: simple
            type_params: {measure: buyers}
    """,
}


@pytest.fixture
def shop_db(tmp_path: Path) -> Path:
    return make_database(tmp_path / "shop.duckdb", SHOP_DATA)


@pytest.fixture
def dbt_project(tmp_path: Path) -> Path:
    root = tmp_path / "jaffle_shop"
    write(root, DBT_PROJECT)
    return root


def test_dbt_project_imports_to_a_model_that_fits_the_database(dbt_project, shop_db, tmp_path):
    text, report = import_dbt(dbt_project)
    assert isinstance(report, ImportReport) and report.source == "dbt"
    assert report.ok, report.problems
    assert_loads_and_checks(text, shop_db, tmp_path)
    model = yaml.safe_load(text)
    assert model["name"] == "jaffle_shop"
    tables = {t["name"]: t for t in model["tables"]}
    assert set(tables) == {"customers", "orders", "order_items"}
    assert tables["orders"]["primary_key"] == ["order_id"]
    assert tables["orders"]["time_column"] == "ordered_at"
    joins = {(j["from"], j["to"]): j["on"] for j in model["joins"]}
    assert joins == {("orders", "customers"): "customer_id", ("order_items", "orders"): "order_id"}
    metrics = {m["name"]: m for m in model["metrics"]}
    # A filter on another model's dimension is translated onto the table that holds it.
    assert metrics["revenue"]["filter"] == "orders.status = 'completed'"
    assert metrics["revenue"]["table"] == "order_items"
    assert metrics["revenue"]["label"] == {"zh": "收入", "en": "Revenue"}
    assert metrics["revenue"]["synonyms"] == ["sales"]
    assert metrics["completed_orders"]["filter"] == "orders.status = 'completed'"
    assert metrics["average_order_value"] == {
        **metrics["average_order_value"],
        "kind": "derived",
        "expr": "revenue / completed_orders",
    }
    assert metrics["revenue_per_buyer"]["expr"] == "revenue / buyers"
    # The filtered numerator of a ratio becomes a helper metric carrying the filter.
    helper = metrics["completion_rate_numerator"]
    assert helper["filter"] == "orders.status = 'completed'" and helper["agg"] == "sum"
    assert metrics["completion_rate"]["expr"] == "completion_rate_numerator / order_count"
    # Measures no metric covers become metrics of their own, dated by their time dimension.
    assert metrics["order_amount"]["time"] == "ordered_at"
    assert metrics["units"]["label"]["en"] == "Units sold"
    dimensions = {d["name"]: d for d in model["dimensions"]}
    assert dimensions["metric_time"]["metric_time"] is True
    assert dimensions["customer_name"]["label"] == {"zh": "客户", "en": "Customer"}
    # A dimension name used by two semantic models is qualified with the model name.
    assert {"orders_ordered_at", "order_items_ordered_at"} <= set(dimensions)


def test_dbt_report_lists_what_could_not_be_mapped_and_why(dbt_project):
    _text, report = import_dbt(dbt_project)
    unmapped = {(item.kind, item.name): item.reason for item in report.unmapped}
    assert "window" in unmapped[("metric", "cumulative_revenue")]
    assert "7 days" in unmapped[("metric", "cumulative_revenue")]
    assert "median" in unmapped[("measure", "order_amount_median")]
    assert "median" in unmapped[("metric", "median_order_amount")]
    assert "offset" in unmapped[("metric", "revenue_growth_mom")]
    mapped = {(item.kind, item.name): item.target for item in report.mapped}
    assert mapped[("metric", "revenue")] == "simple metric revenue"
    # A measure an unfiltered metric covers maps to that metric; the others to their own.
    assert mapped[("measure", "order_count")] == "metric order_count"
    assert mapped[("measure", "item_revenue")] == "simple metric item_revenue"
    assert mapped[("entity", "orders.customer")].startswith("join orders → customers")
    assert mapped[("semantic_model", "orders")] == "table orders"
    assert mapped[("dimension", "orders.status")] == "dimension status"
    # Every source metric and measure is accounted for, one way or the other.
    metrics = yaml.safe_load(DBT_PROJECT["models/metrics.yml"])["metrics"]
    assert {m["name"] for m in metrics} <= {n for k, n in (*mapped, *unmapped) if k == "metric"}
    assert "cumulative_revenue" in report.text() and "Not mapped" in report.text()


def test_dbt_import_answers_questions(dbt_project, shop_db, tmp_path):
    text, _report = import_dbt(dbt_project)
    model_file = assert_loads_and_checks(text, shop_db, tmp_path)
    assistant = assistant_for(model_file, shop_db, tmp_path)

    answer = assistant.ask("revenue by customer in 2024")
    assert answer.status == "ok", answer.message
    assert answer.query.metrics == ["revenue"]
    expected = scalar_rows(
        shop_db,
        """
        SELECT c.customer_name, SUM(i.product_price * i.quantity)
        FROM order_items i JOIN orders o USING (order_id) JOIN customers c USING (customer_id)
        WHERE o.status = 'completed' AND i.ordered_at >= DATE '2024-01-01'
          AND i.ordered_at < DATE '2025-01-01'
        GROUP BY 1
        """,
    )
    assert by_first_column(answer.rows) == by_first_column(expected) == {"Alice": 42.5, "Bob": 45.0}

    answer = assistant.ask("order count in 2024")
    assert answer.status == "ok", answer.message
    assert answer.query.metrics == ["order_count"]
    expected = scalar_rows(
        shop_db,
        "SELECT COUNT(*) FROM orders WHERE ordered_at >= DATE '2024-01-01' "
        "AND ordered_at < DATE '2025-01-01'",
    )
    assert answer.value() == expected[0][0] == 5

    answer = assistant.ask("2024年各客户的收入")  # the Chinese labels come from meta
    assert answer.status == "ok", answer.message
    assert by_first_column(answer.rows) == {"Alice": 42.5, "Bob": 45.0}

    answer = assistant.ask("completion rate in 2024")
    assert answer.status == "ok", answer.message
    assert answer.value() == pytest.approx(3 / 5)


def test_dbt_options_and_failures(dbt_project, tmp_path):
    text, _report = import_dbt(dbt_project, table_prefix="stg_", tables={"orders": "raw_orders"})
    names = {t["name"] for t in yaml.safe_load(text)["tables"]}
    assert names == {"stg_customers", "stg_raw_orders", "stg_order_items"}
    with pytest.raises(ModelError) as missing:
        import_dbt(tmp_path / "nowhere")
    assert missing.value.code == "file_missing"
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError):
        import_dbt(tmp_path / "empty")


def test_dbt_filters_that_cannot_be_translated_are_reported(tmp_path):
    files = dict(DBT_PROJECT)
    files["models/metrics.yml"] = """
        metrics:
          - name: big_spenders_revenue
            label: Big spenders revenue
            type: simple
            type_params: {measure: item_revenue}
            filter: "{{ Metric('order_amount', group_by=['customer']) }} > 100"
          - name: unknown_dimension_revenue
            label: Unknown dimension revenue
            type: simple
            type_params: {measure: item_revenue}
            filter: "{{ Dimension('order_id__channel') }} = 'web'"
          - name: monthly_revenue
            label: Revenue since March
            type: simple
            type_params: {measure: item_revenue}
            filter: "{{ TimeDimension('metric_time', 'month') }} >= '2024-03-01'"
    """
    write(tmp_path / "p", files)
    text, report = import_dbt(tmp_path / "p")
    unmapped = {item.name: item.reason for item in report.unmapped if item.kind == "metric"}
    assert "metric's value" in unmapped["big_spenders_revenue"]
    assert "order_id__channel" in unmapped["unknown_dimension_revenue"]
    metrics = {m["name"]: m for m in yaml.safe_load(text)["metrics"]}
    assert metrics["monthly_revenue"]["filter"] == (
        "DATE_TRUNC('MONTH', order_items.ordered_at) >= '2024-03-01'"
    )


# --- Cube ----------------------------------------------------------------------------------

CUBE_MODEL = {
    "model/cubes/orders.yml": """
        cubes:
          - name: orders
            sql_table: public.orders
            title: Orders
            meta: {zh: 订单}
            joins:
              - name: customers
                relationship: many_to_one
                sql: "{CUBE}.customer_id = {customers.id}"
            dimensions:
              - {name: id, sql: order_id, type: number, primary_key: true}
              - {name: status, sql: "{CUBE}.status", type: string, title: Order status}
              - {name: ordered_at, sql: ordered_at, type: time, title: Order date}
              - name: size
                type: string
                title: Order size
                case:
                  when: [{sql: "{CUBE}.amount >= 25", label: large}]
                  else: {label: small}
              - {name: customer_region, sql: "{customers.region}", type: string}
            measures:
              - {name: count, type: count, title: Order count}
              - {name: total_amount, sql: amount, type: sum, title: Sales amount}
              - name: completed_amount
                sql: amount
                type: sum
                title: Completed sales
                filters: [{sql: "{status} = 'completed'"}]
              - name: average_amount
                type: number
                sql: "{total_amount} / {count}"
                title: Average order amount
              - name: weekly_amount
                sql: amount
                type: sum
                rolling_window: {trailing: 7 day}
            segments:
              - {name: completed, sql: "{CUBE}.status = 'completed'"}
    """,
    "model/cubes/customers.yml": """
        cubes:
          - name: customers
            sql: SELECT * FROM public.customers
            dimensions:
              - {name: id, sql: customer_id, type: number, primary_key: true}
              - {name: name, sql: customer_name, type: string, title: Customer}
              - {name: region, sql: region, type: string, title: Region}
            joins:
              - name: orders
                relationship: one_to_many
                sql: "{CUBE}.customer_id = {orders}.customer_id"
            measures:
              - {name: count, type: count, title: Customer count}
          - name: order_items
            sql_table: order_items
            joins:
              - {name: orders, relationship: many_to_one, sql: "{CUBE.order_id} = {orders.id}"}
            dimensions:
              - {name: id, sql: order_item_id, type: number, primary_key: true}
              - {name: order_id, sql: order_id, type: number, public: false}
              - {name: product, sql: product_name, type: string, title: Product}
            measures:
              - {name: units, sql: quantity, type: sum, title: Units sold}
          - name: big_orders
            sql: SELECT * FROM public.orders WHERE amount > 20
            measures:
              - {name: count, type: count}
    """,
    "model/views/sales.yml": """
        views:
          - name: sales
            cubes:
              - {join_path: orders, includes: "*"}
    """,
}


@pytest.fixture
def cube_model(tmp_path: Path) -> Path:
    write(tmp_path / "shop_cube", CUBE_MODEL)
    return tmp_path / "shop_cube" / "model"


def test_cube_model_imports_and_answers(cube_model, shop_db, tmp_path):
    text, report = import_cube(cube_model)
    assert report.source == "cube" and report.ok, report.problems
    model_file = assert_loads_and_checks(text, shop_db, tmp_path)
    model = yaml.safe_load(text)
    tables = {t["name"]: t for t in model["tables"]}
    assert set(tables) == {"orders", "customers", "order_items"}  # public.orders → orders
    assert tables["orders"]["primary_key"] == ["order_id"]
    assert model["joins"][0] == {"from": "orders", "to": "customers", "on": "customer_id"}
    metrics = {m["name"]: m for m in model["metrics"]}
    # `count` is a member of two cubes: both names are qualified with their cube.
    assert metrics["orders_count"]["agg"] == "count"
    assert metrics["orders_count"]["label"]["en"] == "Order count"
    assert metrics["completed_amount"]["filter"] == "status = 'completed'"
    assert metrics["average_amount"] == {
        **metrics["average_amount"],
        "kind": "derived",
        "expr": "total_amount / orders_count",
    }
    assert metrics["total_amount"]["time"] == "ordered_at"
    # A cube without a time dimension is dated by the nearest cube it joins to.
    assert metrics["units"]["time"] == "orders.ordered_at"
    # The same relationship declared from both sides makes one join.
    sides = [report.find("customers.orders", "join"), report.find("orders.customers", "join")]
    assert all(side.target.startswith("join orders → customers") for side in sides)
    assert sum("already" in side.reason for side in sides) == 1
    assert ("order_items", "orders") in {(j["from"], j["to"]) for j in model["joins"]}
    dimensions = {d["name"]: d for d in model["dimensions"]}
    assert dimensions["size"]["expr"] == "CASE WHEN amount >= 25 THEN 'large' ELSE 'small' END"
    assert "id" not in dimensions and "orders_id" not in dimensions

    unmapped = {(item.kind, item.name): item.reason for item in report.unmapped}
    assert "window" in unmapped[("measure", "orders.weekly_amount")]
    assert "query" in unmapped[("cube", "big_orders")]
    assert ("view", "sales") in unmapped and ("segment", "orders.completed") in unmapped
    assert "own table" in unmapped[("dimension", "orders.customer_region")]
    assert "time dimension" in unmapped[("measure", "customers.count")]
    assert "public: false" in unmapped[("dimension", "order_items.order_id")]

    assistant = assistant_for(model_file, shop_db, tmp_path)
    answer = assistant.ask("sales amount by customer in 2024")
    assert answer.status == "ok", answer.message
    assert answer.query.metrics == ["total_amount"]
    expected = scalar_rows(
        shop_db,
        """
        SELECT c.customer_name, SUM(o.amount) FROM orders o JOIN customers c USING (customer_id)
        WHERE o.ordered_at >= DATE '2024-01-01' AND o.ordered_at < DATE '2025-01-01'
        GROUP BY 1
        """,
    )
    assert by_first_column(answer.rows) == by_first_column(expected)
    assert by_first_column(expected) == {"Alice": 42.5, "Bob": 53.0, "Carol": 20.0}

    answer = assistant.ask("average order amount in 2024")
    assert answer.status == "ok", answer.message
    assert answer.value() == pytest.approx((42.5 + 53.0 + 20.0) / 5)


DBT_MEASURE_KINDS = {
    "models/balances.yml": """
        semantic_models:
          - name: balances
            model: ref('account_balances')
            defaults: {agg_time_dimension: snapshot_date}
            entities:
              - {name: account, type: primary, expr: account_id}
              - {name: owner, type: natural, expr: owner_id}
            dimensions:
              - name: snapshot_date
                type: time
                type_params: {time_granularity: month}
              - {name: is_active, type: categorical}
            measures:
              - name: closing_balance
                agg: sum
                expr: balance
                non_additive_dimension: {name: snapshot_date, window_choice: max}
              - name: opening_balance
                agg: sum
                expr: balance
                non_additive_dimension: {name: snapshot_date}
              - {name: active_accounts, agg: sum_boolean, expr: is_active}
              - name: p90_balance
                agg: percentile
                expr: balance
                agg_params: {percentile: 0.9}
              - just a string
    """,
    "models/broken.yml": "semantic_models: [ {name: x\n",
}


def test_dbt_measure_kinds_map_or_say_why(tmp_path):
    write(
        tmp_path / "p",
        DBT_MEASURE_KINDS,
    )
    text, report = import_dbt(tmp_path / "p")
    out = tmp_path / "model.yaml"
    out.write_text(text, encoding="utf-8")
    model, issues = read_model(out)
    assert model is not None and not [i for i in issues if i.severity == "error"], text
    assert model.metric("closing_balance").semi_additive
    assert model.metric("active_accounts").expr == "CAST(is_active AS INT)"
    assert model.metric("active_accounts").unit == "count"
    assert model.metric("closing_balance").unit == "yuan"  # Cockpit's default: money
    assert model.dimension("snapshot_date").grains[0].value == "month"
    assert model.table_map["account_balances"].time_column == "snapshot_date"
    unmapped = {(item.kind, item.name): item.reason for item in report.unmapped}
    assert "last snapshot" in unmapped[("measure", "opening_balance")]
    assert "percentile" in unmapped[("measure", "p90_balance")]
    assert "natural" in unmapped[("entity", "balances.owner")]
    assert "malformed" in unmapped[("measure", "balances.measures[4]")]
    assert "not valid YAML" in next(i.reason for i in report.unmapped if i.kind == "file")
    assert report.to_dict()["unmapped"][0]["kind"] == "file"


CUBE_LOOP = """
    cubes:
      - name: sales
        sql_table: sales
        dimensions:
          - {name: sold_at, sql: sold_at, type: time}
        measures:
          - {name: a, type: number, sql: "{b} + 1"}
          - {name: b, type: number, sql: "{a} + 1"}
          - {name: amount, type: sum, sql: amount}
"""


def test_what_the_loader_still_rejects_is_reported_not_hidden(tmp_path):
    write(tmp_path, {"loop.yml": CUBE_LOOP})
    text, report = import_cube(tmp_path / "loop.yml")
    assert not report.ok and any("cycle" in problem.en for problem in report.problems)
    assert "problems to fix by hand" in text and "problems to fix by hand" in report.text()


def test_cli_import_writes_a_model_that_checks(dbt_project, cube_model, shop_db, tmp_path):
    from typer.testing import CliRunner

    from assistant.cli import app

    runner = CliRunner()
    for kind, source in (("dbt", dbt_project), ("cube", cube_model)):
        out = tmp_path / f"{kind}.yaml"
        result = runner.invoke(app, ["import", kind, str(source), "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert out.exists() and "cockpit check" in result.output
        checked = runner.invoke(app, ["check", str(out), "--db", str(shop_db)])
        assert checked.exit_code == 0, checked.output
    as_json = runner.invoke(app, ["import", "dbt", str(dbt_project), "--json"])
    assert as_json.exit_code == 0 and '"unmapped"' in as_json.output


CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_report_reads_in_chinese(dbt_project, cube_model, tmp_path):
    write(tmp_path / "loop", {"loop.yml": CUBE_LOOP})
    write(tmp_path / "kinds", DBT_MEASURE_KINDS)
    reports = [
        import_dbt(dbt_project)[1],
        import_dbt(tmp_path / "kinds")[1],
        import_cube(cube_model)[1],
        import_cube(tmp_path / "loop" / "loop.yml")[1],
    ]
    for report in reports:
        items = [*report.mapped, *report.unmapped]
        # Every reason and note, and every "what it became", has a Chinese text of its own.
        for item in items:
            for phrase in (item.why, item.became):
                if phrase:
                    assert CJK.search(phrase.zh) and phrase.zh != phrase.en, (item, phrase)
        assert all(CJK.search(problem.zh) for problem in report.problems)
        zh = report.text("zh")
        assert zh.startswith("已导入") and "Not mapped" not in zh and "Mapped:" not in zh
        assert ("未映射：" in zh) == bool(report.unmapped)
        for item in report.unmapped:
            assert item.why.zh in zh and item.why.en not in zh
        # English stays as it was, and the JSON carries both.
        assert report.text() == report.text("en") and "已导入" not in report.text()
        data = report.to_dict()
        assert [i.get("reason_zh") for i in data["unmapped"]] == [i.why.zh for i in report.unmapped]
        assert data["problems_zh"] == [p.zh for p in report.problems]


def test_cli_import_speaks_the_chosen_language(dbt_project):
    from typer.testing import CliRunner

    from assistant.cli import app

    runner = CliRunner()
    zh = runner.invoke(app, ["import", "dbt", str(dbt_project), "--lang", "zh"])
    assert zh.exit_code == 0, zh.output
    assert "未映射：" in zh.output and "Not mapped" not in zh.output
    assert "Cockpit 没有窗口类指标" in zh.output  # cumulative_revenue's reason, in Chinese
    en = runner.invoke(app, ["import", "dbt", str(dbt_project), "--lang", "en"])
    assert en.exit_code == 0 and "Not mapped:" in en.output and "未映射" not in en.output
