"""Importers on real projects nobody here wrote: the vendored dbt projects of eval/external.

jaffle_sl is dbt Labs' jaffle-sl-template; acme_insurance is dbt Labs' semantic-layer
benchmark insurance model. Each is imported as `cockpit import dbt` does; what maps and what
is listed as not mapped (with its reason) is asserted exactly, the numbers the imported
model gives are compared with hand-written SQL over the set's own database, and the
committed `model.yaml` must be what the importer writes today (it is generated, never edited).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from eval.items import EvalSet, load_set
from semantic_layer.check import check_model
from semantic_layer.compiler import compile_for
from semantic_layer.engine import DuckDBEngine
from semantic_layer.importers.common import ImportReport
from semantic_layer.importers.dbt import import_dbt
from semantic_layer.loader import load_model
from semantic_layer.model import SemanticModel
from semantic_layer.query import SemanticQuery

ROOT = Path(__file__).resolve().parent.parent
EXTERNAL = Path("eval") / "external"


@pytest.fixture(scope="module", params=["jaffle_sl", "acme_insurance"])
def external(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[EvalSet, Path]:
    eval_set = load_set(ROOT / EXTERNAL / request.param)
    assert eval_set is not None
    return eval_set, eval_set.build(tmp_path_factory.mktemp(request.param) / "data.duckdb")


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> tuple[SemanticModel, Path, ImportReport]:
    eval_set = load_set(ROOT / EXTERNAL / "acme_insurance")
    assert eval_set is not None
    database = eval_set.build(tmp_path_factory.mktemp("acme") / "data.duckdb")
    _text, report = import_dbt(eval_set.folder / "dbt")
    return load_model(eval_set.model), database, report


@pytest.fixture(scope="module")
def jaffle(tmp_path_factory: pytest.TempPathFactory) -> tuple[SemanticModel, Path, ImportReport]:
    eval_set = load_set(ROOT / EXTERNAL / "jaffle_sl")
    assert eval_set is not None
    database = eval_set.build(tmp_path_factory.mktemp("jaffle") / "data.duckdb")
    _text, report = import_dbt(eval_set.folder / "dbt")
    return load_model(eval_set.model), database, report


def run(model: SemanticModel, database: Path, **query: object) -> list[tuple]:
    with DuckDBEngine(database) as engine:
        return engine.execute(compile_for(engine, model, SemanticQuery(**query)).ast).rows


def gold(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def errors_of(model_path: Path, database: Path) -> list[str]:
    with DuckDBEngine(database) as engine:
        _model, issues = check_model(model_path, engine)
    return [i.message("en") for i in issues if i.severity == "error"]


def test_committed_model_is_what_the_importer_writes(
    external: tuple[EvalSet, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`model.yaml` is generated: `cockpit import dbt eval/external/<set>/dbt --out …`."""
    eval_set, _database = external
    monkeypatch.chdir(ROOT)
    text, report = import_dbt(EXTERNAL / eval_set.name / "dbt")
    assert report.ok, report.problems
    assert text == eval_set.model.read_text(encoding="utf-8"), (
        f"regenerate: cockpit import dbt {EXTERNAL / eval_set.name / 'dbt'} "
        f"--out {EXTERNAL / eval_set.name / 'model.yaml'}"
    )


def test_check_reports_no_case_differences(external: tuple[EvalSet, Path]) -> None:
    """The acme semantic YAML says `claim_identifier` where the CSV header says
    `Claim_Identifier`: DuckDB resolves that, so check does too (109 errors at the first run)."""
    eval_set, database = external
    errors = errors_of(eval_set.model, database)
    assert not [e for e in errors if "has no column" in e or "Unknown table" in e], errors
    if eval_set.name == "jaffle_sl":
        assert errors == []
    else:
        # One true error is left, and it is the data's: FireClaim.csv's Premium column is empty,
        # so read_csv types it VARCHAR and SUM(Premium) cannot run (see the next test).
        assert len(errors) == 1 and "Metric premium failed" in errors[0], errors
        assert "sum(VARCHAR)" in errors[0]


def test_acme_checks_clean_on_data_typed_as_dbt_seed_types_it(
    acme: tuple[SemanticModel, Path, ImportReport], tmp_path: Path
) -> None:
    """dbt seed types a column with no values as an integer; loaded that way, check reports 0."""
    _model, database, _report = acme
    copy = tmp_path / "seeded.duckdb"
    shutil.copy(database, copy)
    with duckdb.connect(str(copy)) as connection:
        connection.execute("ALTER TABLE fire_claim ALTER COLUMN Premium SET DATA TYPE INTEGER")
    assert errors_of(ROOT / EXTERNAL / "acme_insurance" / "model.yaml", copy) == []


def test_acme_loss_payments_per_claim_are_the_loss_payment_rows(
    acme: tuple[SemanticModel, Path, ImportReport],
) -> None:
    """`{{ Dimension('claim_amount__has_loss_payment') }} = 1` over `has_loss_payment: expr "1"`
    means "the claim amount has a loss_payment row" — 1,200 / 2,300, not 4,600 / 9,000."""
    model, database, report = acme
    assert model.metric("loss_payment_amount").filter == (
        "NOT loss_payment.Claim_Amount_Identifier IS NULL"
    )
    assert model.metric("loss_reserve_amount").filter == (
        "NOT loss_reserve.Claim_Amount_Identifier IS NULL"
    )
    rows = run(
        model,
        database,
        metrics=["loss_payment_amount", "loss_reserve_amount", "total_loss_amount"],
        dimensions=["company_claim_number"],
    )
    got = {int(claim): tuple(float(v) for v in values) for claim, *values in rows}
    expected = gold(
        database,
        """
        SELECT c.Company_Claim_Number,
               SUM(a.Claim_Amount) FILTER (WHERE p.Claim_Amount_Identifier IS NOT NULL),
               SUM(a.Claim_Amount) FILTER (WHERE r.Claim_Amount_Identifier IS NOT NULL)
        FROM claim_amount a
        JOIN claim c USING (Claim_Identifier)
        LEFT JOIN loss_payment p USING (Claim_Amount_Identifier)
        LEFT JOIN loss_reserve r USING (Claim_Amount_Identifier)
        GROUP BY 1
        """,
    )
    assert got == {
        int(claim): (float(paid), float(reserved), float(paid + reserved))
        for claim, paid, reserved in expected
    }
    assert got == {12312701: (1200.0, 1000.0, 2200.0), 12312702: (2300.0, 2100.0, 4400.0)}
    # The total over every amount type, for contrast: what the old `1 = 1` filter gave.
    totals = run(
        model, database, metrics=["total_claim_amount"], dimensions=["company_claim_number"]
    )
    assert {int(c): float(v) for c, v in totals} == {12312701: 4600.0, 12312702: 9000.0}

    for name, table, key in (
        ("loss_payment.has_loss_payment", "loss_payment", "Claim_Amount_Identifier"),
        ("loss_reserve.has_loss_reserve", "loss_reserve", "Claim_Amount_Identifier"),
        ("expense_payment.has_expense_payment", "expense_payment", "Claim_Amount_Identifier"),
        ("expense_reserve.has_expense_reserve", "expense_reserve", "Claim_Amount_Identifier"),
        ("premium.has_premium", "premium", "Policy_Amount_Identifier"),
    ):
        item = report.find(name, "dimension")
        assert item is not None and item.target.startswith("dimension has_")
        assert item.reason == (
            f"the constant 1 holds where a row of {table} matches ({key} is set) and is empty "
            "elsewhere, as in MetricFlow's outer joins"
        )


def test_acme_where_on_a_constant_dimension(
    acme: tuple[SemanticModel, Path, ImportReport],
) -> None:
    """`-w has_premium=1` is the premium rows, not `WHERE 1 = '1'` (every policy amount)."""
    model, database, _report = acme
    where = [{"dimension": "has_premium", "op": "=", "values": ["1"]}]
    ((value,),) = run(model, database, metrics=["total_policy_amount"], filters=where)
    ((expected,),) = gold(
        database,
        "SELECT SUM(Policy_Amount) FROM policy_amount JOIN premium USING (Policy_Amount_Identifier)",
    )
    ((everything,),) = gold(database, "SELECT SUM(Policy_Amount) FROM policy_amount")
    assert float(value) == float(expected) == 98000.0 != float(everything)


def test_acme_not_mapped_exactly(acme: tuple[SemanticModel, Path, ImportReport]) -> None:
    _model, _database, report = acme
    unmapped = {(i.kind, i.name): i.reason for i in report.unmapped}
    joins_nothing = {
        "agreement.product_identifier",
        "agreement_assessments.agreement_identifier",
        "agreement_party_role.party_identifier",
        "assessment_party_role.party_identifier",
        "assessment_result.assessment_sdentifier",
        "claim.occurrence_identifier",
        "claim_amount.claim_offer_identifier",
        "fire_claim.claim",
        "occurrence_events.geographic_location_identifier",
        "policy.geographic_location_identifier",
        "policy_amount.insurable_object",
        "policy_coverage_detail.insurable_object",
        "policy_coverage_detail.coverage",
    }
    unreached = {
        "agreement": ["agreement_name", "agreement_original_inception_date"],
        "assessment": [
            "assessment_description",
            "begin_date",
            "end_date",
            "assessment_reason_description",
        ],
        "assessment_result": ["assessment_result_type_code"],
        "assessment_party_role": ["end_date", "begin_date", "party_role_code"],
        "occurrence_events": [
            "catastrophic_event_indicator",
            "occurrence_begin_date",
            "occurrence_end_date",
            "occurrence_begin_time",
            "occurrence_end_time",
            "occurrence_name",
        ],
        "organization": [
            "industry_code",
            "organization_name",
            "dun_and_bradstreet_identifier",
            "organization_type_code",
            "alternate_name",
            "organization_description",
            "acronym_name",
            "industry_type_code",
        ],
        "party": ["party_name", "begin_date", "end_date", "party_type_code"],
    }
    expected = (
        {("entity", name) for name in joins_nothing}
        | {("dimension", f"{sm}.{dim}") for sm, dims in unreached.items() for dim in dims}
        | {("option", "agreement_party_role.party_identifier.description")}
    )
    assert set(unmapped) == expected, set(unmapped) ^ expected
    for name in joins_nothing:
        assert unmapped[("entity", name)].endswith("as its primary entity, so it joins nothing")
    for sm, dims in unreached.items():
        for dim in dims:
            assert "no metric's table reaches table" in unmapped[("dimension", f"{sm}.{dim}")]
    assert (
        "carry no label or description"
        in (unmapped[("option", "agreement_party_role.party_identifier.description")])
    )
    # Every metric maps, with the meaning it has in dbt.
    metrics = {i.name: i.target for i in report.mapped if i.kind == "metric"}
    assert metrics == {
        "loss_payment_amount": "simple metric loss_payment_amount",
        "loss_reserve_amount": "simple metric loss_reserve_amount",
        "total_loss_amount": "derived metric total_loss_amount",
    }
    (note,) = report.notes
    assert note.en.startswith("72 of 72 metric and dimension labels have no Chinese text")


def test_jaffle_not_mapped_exactly(jaffle: tuple[SemanticModel, Path, ImportReport]) -> None:
    _model, _database, report = jaffle
    unmapped = {(i.kind, i.name): i.reason for i in report.unmapped}
    percentile = (
        "the percentile (0.5, approximate) aggregation has no Cockpit equivalent "
        "(Cockpit aggregates with sum, count, count_distinct, avg, min and max)"
    )
    fill = (
        "fill_nulls_with 0: where the metric has no rows (a period or group without data) "
        "MetricFlow shows 0, Cockpit leaves it empty; where there are rows the values are the same"
    )
    assert unmapped == {
        ("saved_query", "new_customer_orders"): (
            "a saved query is a stored question (orders by Dimension('customer__customer_name'), "
            "TimeDimension('metric_time', 'day'), filtered); Cockpit keeps no stored queries, so "
            "ask it as a question; its exports (new_customer_orders, new_customer_orders_view) "
            "are tables dbt writes"
        ),
        ("saved_query", "order_metrics"): (
            "a saved query is a stored question (orders, large_order, food_orders, order_total "
            "by Entity('order_id'), TimeDimension('metric_time', 'day'), "
            "Dimension('customer__customer_name'), Dimension('customer__customer_type'), "
            "TimeDimension('customer__first_ordered_at', 'day')); Cockpit keeps no stored "
            "queries, so ask it as a question; its exports (order_data_key_metrics) are tables "
            "dbt writes"
        ),
        ("saved_query", "weekly_revenue"): (
            "a saved query is a stored question (revenue by TimeDimension('metric_time', "
            "'week')); Cockpit keeps no stored queries, so ask it as a question; its exports "
            "(weekly_revenue) are tables dbt writes"
        ),
        ("saved_query", "total_orders_full_aggregate"): (
            "a saved query is a stored question (orders); Cockpit keeps no stored queries, so "
            "ask it as a question"
        ),
        ("measure", "median_revenue"): percentile,
        ("metric", "median_revenue"): f"its measure median_revenue: {percentile}",
        ("metric", "revenue_growth_mom"): (
            "its input revenue is offset by 1 month; Cockpit has no shifted metrics (ask for a "
            "comparison such as 同比/环比 instead)"
        ),
        ("metric", "cumulative_revenue"): (
            "a running total over all time (each period sums everything before it): Cockpit "
            "has no window metrics"
        ),
        ("metric", "orders_last_7_days"): (
            "a cumulative metric over a rolling window of 7 days (each period sums the 7 days "
            "before it): Cockpit has no window metrics"
        ),
        ("option", "revenue.measure.fill_nulls_with"): fill,
        ("option", "orders_fill_nulls_with_zero.measure.fill_nulls_with"): fill,
        ("option", "orders_fill_nulls_with_zero.measure.join_to_timespine"): (
            "join_to_timespine: MetricFlow lists every period of the time spine, those without "
            "data too; Cockpit lists the periods that have data"
        ),
    }
    mapped = {(i.kind, i.name): i.reason for i in report.mapped}
    assert mapped[("metric", "revenue")] == (
        "fill_nulls_with not applied: see the options not mapped"
    )
    assert mapped[("metric", "twice_orders_fill_nulls_with_0")] == (
        "over orders_fill_nulls_with_zero, whose fill_nulls_with / join_to_timespine is not applied"
    )


def test_jaffle_metrics_equal_hand_written_sql(
    jaffle: tuple[SemanticModel, Path, ImportReport],
) -> None:
    model, database, _report = jaffle
    names = [
        "revenue",
        "orders",
        "large_order",
        "food_orders",
        "new_customer",
        "food_revenue_pct",
        "order_gross_profit",
    ]
    ((*got,),) = [tuple(float(v) for v in row) for row in run(model, database, metrics=names)]
    ((*expected,),) = gold(
        database,
        """
        SELECT
            (SELECT SUM(product_price) FROM order_items),
            (SELECT COUNT(*) FROM orders),
            (SELECT COUNT(*) FROM orders WHERE order_total >= 20),
            (SELECT COUNT(*) FROM orders WHERE is_food_order),
            (SELECT COUNT(DISTINCT o.customer_id) FROM orders o
               JOIN customers c USING (customer_id) WHERE c.customer_type = 'new'),
            (SELECT SUM(CASE WHEN is_food_item = 1 THEN product_price ELSE 0 END)
               / SUM(product_price) FROM order_items),
            (SELECT SUM(product_price) FROM order_items) - (SELECT SUM(order_cost) FROM orders)
        """,
    )
    assert got == pytest.approx([float(v) for v in expected])
    assert got[:2] == [69942.0, 6664.0]  # the set's README figures
    text = yaml.safe_load((ROOT / EXTERNAL / "jaffle_sl" / "model.yaml").read_text("utf-8"))
    filters = {m["name"]: m.get("filter") for m in text["metrics"]}
    assert filters["large_order"] == "orders.order_total >= 20"
    assert filters["food_orders"] == "orders.is_food_order = TRUE"
    assert filters["new_customer"] == "customers.customer_type = 'new'"
