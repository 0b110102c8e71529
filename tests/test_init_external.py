"""`cockpit init` on data nobody here wrote: the public insurance benchmark's CSVs and the jaffle
shop's raw CSVs (both vendored under eval/external/), drafted as a new user would draft them.

What a draft must get right before anyone edits it: identifiers people quote (policy number,
claim number) are dimensions and never summed; every table of things has a count with the
words people use for it ("Number of claims", 理赔数量, "how many claims"); English headers get
English labels, and a Chinese label only where a translation is known; and `cockpit ask` run in
the output folder — with no option and no environment variable — answers from the new model
and database. Every number is checked against SQL written here over the original CSV files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from assistant.api import Assistant
from assistant.settings import Settings
from semantic_layer.draft import InitResult, draft_model, init_project
from semantic_layer.ingest import load_files
from semantic_layer.loader import load_model
from semantic_layer.model import SemanticModel

EXTERNAL = Path(__file__).resolve().parent.parent / "eval" / "external"
# The insurance build script reads every CSV of data/ (one seed table each).
ACME = EXTERNAL / "acme_insurance" / "data"
JAFFLE = EXTERNAL / "jaffle_sl" / "data"
TODAY = date(2026, 12, 6)
# The installed console script, as a user runs it (else the module, e.g. in a bare checkout).
_SCRIPT = Path(sys.executable).with_name("cockpit")
COCKPIT = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "assistant.cli"]
CJK = re.compile(r"[\u3400-\u9fff]")
# A column whose values only identify rows: never an amount to add up or average.
IDENTIFIER = re.compile(r"(^|_)(id|identifier|key|uuid|number|no|num|code|sku)$|^id$")


def csv_sql(query: str) -> list[tuple]:
    """A hand-written check query over the original CSV files (not over what init loaded)."""
    with duckdb.connect() as con:
        return con.execute(query).fetchall()


def csv(path: Path) -> str:
    """A CSV file as a DuckDB table expression, header read as written."""
    return f"read_csv('{path}', header = true)"


def drafted(tmp: Path, source: Path) -> tuple[InitResult, SemanticModel]:
    """The CSVs of `source` copied (init never writes its input, but a copy proves nothing
    else is read), loaded and drafted into `tmp`/out."""
    data = tmp / "data"
    data.mkdir(parents=True)
    for file in sorted(source.glob("*.csv")):
        shutil.copy(file, data / file.name)
    result = init_project([data], tmp / "out", name="mine", today=TODAY)
    assert result.ok, [i.message("en") for i in result.issues if i.severity == "error"]
    return result, load_model(result.model)


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> tuple[InitResult, SemanticModel]:
    return drafted(tmp_path_factory.mktemp("acme"), ACME)


@pytest.fixture(scope="module")
def jaffle(tmp_path_factory: pytest.TempPathFactory) -> tuple[InitResult, SemanticModel]:
    return drafted(tmp_path_factory.mktemp("jaffle"), JAFFLE)


def ask_in(folder: Path, question: str) -> dict:
    """`cockpit ask QUESTION --json` as a user runs it: in `folder`, no --model/--db, and no
    COCKPIT_* variable that would point elsewhere (only a private cache directory)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
    env["COCKPIT_CACHE_DIR"] = str(folder / ".cache")
    done = subprocess.run(
        [*COCKPIT, "ask", question, "--json"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def no_identifier_is_added_up(model: SemanticModel) -> None:
    """No sum, average, min or max over an id, a key, a number people quote or a code."""
    keys = {(t.name, k) for t in model.tables for k in t.primary_key}
    joined = {(j.from_table, a) for j in model.joins for a, _b in j.on}
    for metric in model.metrics:
        if metric.agg in ("sum", "avg", "min", "max"):
            assert not IDENTIFIER.search(metric.expr.lower()), metric.name
            assert (metric.table, metric.expr) not in keys | joined, metric.name


def labels_are_in_their_language(model: SemanticModel) -> None:
    """English headers: English in `en`; in `zh` a translation, or the English itself — never a
    half-translated "Policy coverage detail生效日期"."""
    items = [*model.tables, *model.dimensions, *model.metrics]
    for item in items:
        assert not CJK.search(item.label.en), (item.name, item.label.en)
        zh = item.label.zh
        if CJK.search(zh):
            assert not re.search(r"[a-z]{3,}", zh), (item.name, zh)
        else:
            assert zh == item.label.en, (item.name, zh, item.label.en)


# --- the insurance benchmark ----------------------------------------------------------------
def test_insurance_identifiers_are_dimensions_never_summed(acme: tuple) -> None:
    _result, model = acme
    claim_number = model.dimension("claim_number")
    assert (claim_number.table, claim_number.expr, claim_number.type) == (
        "claim",
        "company_claim_number",
        "category",
    )
    assert (claim_number.label.en, claim_number.label.zh) == ("Claim number", "理赔编号")
    policy_number = model.dimension("policy_number")
    assert (policy_number.table, policy_number.label.en, policy_number.label.zh) == (
        "policy",
        "Policy number",
        "保单号",
    )
    no_identifier_is_added_up(model)
    # The surrogate keys are keys (and join), not metrics: policy_amount reaches policy.
    keys = {t.name: t.primary_key for t in model.tables}
    assert keys["claim"] == ["claim_identifier"] and keys["policy"] == ["policy_identifier"]
    joins = {(j.from_table, j.to) for j in model.joins}
    assert {("policy_amount", "policy"), ("claim_amount", "claim")} <= joins
    assert ("claim", "claim_coverage") not in joins  # claim's own id refers to nothing
    sums = {m.name: m for m in model.metrics if m.agg == "sum"}
    assert set(sums) == {"claim_amount", "policy_amount"}


def test_insurance_counts_per_entity_with_their_words(acme: tuple) -> None:
    _result, model = acme
    claims, policies = model.metric("claim_count"), model.metric("policy_count")
    assert (claims.agg, claims.table) == ("count", "claim")
    assert (claims.label.en, claims.label.zh) == ("Number of claims", "理赔数量")
    assert {"how many claims", "claims count", "理赔数", "多少个理赔"} <= set(claims.synonyms)
    assert (policies.label.en, policies.label.zh) == ("Number of policies", "保单数量")
    assert {"how many policies", "policies count", "保单数", "多少个保单"} <= set(policies.synonyms)
    labels_are_in_their_language(model)


def test_insurance_history_gets_its_last_date_as_of(acme: tuple) -> None:
    """The data ended in 2019: 'today' is its last date — of all the facts, so that no claim
    falls outside "all time" (the largest table's last date would drop the second claim)."""
    result, model = acme
    last = csv_sql(f"SELECT max(Claim_Open_Date) FROM {csv(ACME / 'Claim.csv')}")[0][0]
    assert model.as_of == last == result.report.as_of


def test_insurance_ask_in_the_folder(acme: tuple) -> None:
    result, _model = acme
    folder = result.model.parent
    assert (folder / "cockpit.toml").read_text(encoding="utf-8").count("model.yaml") == 1
    claims = csv_sql(f"SELECT count(Company_Claim_Number) FROM {csv(ACME / 'Claim.csv')}")
    answer = ask_in(folder, "how many claims are there")
    assert answer["status"] == "ok" and answer["query"]["metrics"] == ["claim_count"]
    assert [tuple(r) for r in answer["rows"]] == claims
    policies = csv_sql(f"SELECT count(*) FROM {csv(ACME / 'Policy.csv')}")
    answer = ask_in(folder, "number of policies")
    assert answer["status"] == "ok" and answer["query"]["metrics"] == ["policy_count"]
    assert [tuple(r) for r in answer["rows"]] == policies


def test_insurance_questions_by_identifier(acme: tuple, tmp_path: Path) -> None:
    """In-process, over the same files: the identifier as a breakdown, Chinese words."""
    result, model = acme
    settings = Settings(model=result.model, database=result.database, cache_dir=tmp_path)
    assistant = Assistant.open(settings=settings)
    try:
        expected = csv_sql(
            f"SELECT CAST(c.Company_Claim_Number AS VARCHAR), sum(a.Claim_Amount) "
            f"FROM {csv(ACME / 'Claim_Amount.csv')} a "
            f"JOIN {csv(ACME / 'Claim.csv')} c USING (Claim_Identifier) GROUP BY 1 ORDER BY 1"
        )
        answer = assistant.ask("claim amount by claim number")
        assert answer.status == "ok", answer.message
        assert answer.names == ["claim_number", "claim_amount"]
        assert sorted(answer.rows) == expected
        for question in ("理赔数量", "多少个理赔"):
            answer = assistant.ask(question)
            assert answer.status == "ok", answer.message
            assert answer.names == ["claim_count"] and answer.rows == [(2,)]
    finally:
        assistant.engine.close()


# --- the jaffle shop ------------------------------------------------------------------------
def test_jaffle_counts_ids_and_labels(jaffle: tuple) -> None:
    _result, model = jaffle
    no_identifier_is_added_up(model)
    labels_are_in_their_language(model)
    orders = model.metric("raw_orders_count")
    assert (orders.label.en, orders.label.zh) == ("Number of orders", "订单数量")
    assert "how many orders" in orders.synonyms
    # Customers have no date: counted as the customers the orders name — and since every
    # customer has an order, that is also what "number of customers" means over all time.
    customers = model.metric("customers_with_orders")
    assert (customers.table, customers.agg, customers.expr) == (
        "raw_orders",
        "count_distinct",
        "customer",
    )
    assert (customers.label.en, customers.label.zh) == ("Customers with orders", "有订单的客户数")
    assert {"number of customers", "how many customers", "客户数量"} <= set(customers.synonyms)
    # The pipeline prefix is not part of what a table holds: raw_customers are customers.
    assert model.dimension("customer").label.en == "Customer"
    assert "id" not in model.dimension("order").synonyms  # "id" names every table's key


def test_jaffle_ask_in_the_folder(jaffle: tuple) -> None:
    result, _model = jaffle
    folder = result.model.parent
    orders = csv_sql(f"SELECT count(*) FROM {csv(JAFFLE / 'raw_orders.csv')}")
    answer = ask_in(folder, "how many orders are there")
    assert answer["status"] == "ok" and [tuple(r) for r in answer["rows"]] == orders
    customers = csv_sql(f"SELECT count(*) FROM {csv(JAFFLE / 'raw_customers.csv')}")
    ordering = csv_sql(f"SELECT count(DISTINCT customer) FROM {csv(JAFFLE / 'raw_orders.csv')}")
    assert customers == ordering  # what makes "number of customers" a name of the metric
    answer = ask_in(folder, "number of customers")
    assert answer["status"] == "ok" and [tuple(r) for r in answer["rows"]] == customers


# --- pieces ---------------------------------------------------------------------------------
def test_business_numbers_stay_text_and_keys_stay_integers(tmp_path: Path) -> None:
    (tmp_path / "policy.csv").write_text(
        "Policy_Identifier,Policy_Number,PolicyNo,Premium\n1,31003000336,7,100\n"
        "2,31003000337,8,200\n",
        encoding="utf-8",
    )
    (table,) = load_files([tmp_path / "policy.csv"], tmp_path / "db.duckdb")
    types = {c.name: c.type for c in table.columns}
    assert types == {
        "policy_identifier": "BIGINT",
        "policy_number": "VARCHAR",
        "policy_no": "VARCHAR",
        "premium": "BIGINT",
    }
    with duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True) as con:
        assert con.execute("SELECT policy_number FROM policy").fetchall() == [
            ("31003000336",),
            ("31003000337",),
        ]


def _dated(folder: Path, sales_end: str, returns_end: str) -> Path:
    folder.mkdir()
    (folder / "sales.csv").write_text(
        f"sale_id,sale_date,amount\n1,2024-03-01,10\n2,{sales_end},20\n", encoding="utf-8"
    )
    (folder / "returns.csv").write_text(
        f"return_id,sale_id,return_date,amount\n1,1,2024-03-05,5\n2,2,{returns_end},7\n",
        encoding="utf-8",
    )
    database = folder / "db.duckdb"
    load_files([folder / "sales.csv", folder / "returns.csv"], database)
    return database


def test_as_of_only_for_a_finished_history(tmp_path: Path) -> None:
    # Two years old: history. Its as-of is the last date of any fact (the returns), so that
    # "all time" keeps every row.
    history = _dated(tmp_path / "old", "2024-12-28", "2025-01-09")
    text, report = draft_model(history, today=TODAY)
    assert report.as_of == date(2025, 1, 9) and "as_of: 2025-01-09" in text
    # Data that reaches into the last month is live: today is the real date.
    live = _dated(tmp_path / "live", "2026-11-30", "2026-12-02")
    text, report = draft_model(live, today=TODAY)
    assert report.as_of is None and "as_of" not in text


def _shop(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "sales.csv").write_text(
        "order_no,sale_date,customer_id,amount\nA-1,2025-01-05,C9,100\nA-2,2025-02-03,C7,50\n",
        encoding="utf-8",
    )
    return folder


def test_an_order_number_and_an_unresolved_customer_id_are_dimensions(tmp_path: Path) -> None:
    result = init_project([_shop(tmp_path / "shop")], tmp_path / "out", today=TODAY)
    model = load_model(result.model)
    order = model.dimension("order_number")
    assert (order.expr, order.label.en, order.label.zh) == ("order_no", "Order number", "订单编号")
    customer = model.dimension("customer_id")  # no customers table: the id is their name
    assert (customer.label.en, customer.label.zh) == ("Customer ID", "客户编号")
    assert model.metric("sales_count").label.en == "Number of sales"
    no_identifier_is_added_up(model)


def test_cockpit_toml_is_written_and_never_overwritten_without_force(tmp_path: Path) -> None:
    data = _shop(tmp_path / "shop")
    out = tmp_path / "out"
    out.mkdir()
    own = '# mine\nlang = "en"\nmodel = "elsewhere.yaml"\n'
    (out / "cockpit.toml").write_text(own, encoding="utf-8")
    from semantic_layer.errors import CockpitError

    with pytest.raises(CockpitError, match="cockpit.toml already exists"):
        init_project([data], out, today=TODAY)
    assert (out / "cockpit.toml").read_text(encoding="utf-8") == own
    assert not (out / "model.yaml").exists()
    result = init_project([data], out, overwrite=True, today=TODAY)
    text = result.config.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert 'model = "model.yaml"' in text and 'database = "data.duckdb"' in text
    assert 'lang = "en"' in text and "# mine" in text and "elsewhere" not in text


def test_cli_init_prints_how_to_ask_in_the_folder(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app

    out = tmp_path / "project"
    runner = CliRunner()
    made = runner.invoke(app, ["init", str(_shop(tmp_path / "shop")), "--out", str(out)])
    assert made.exit_code == 0, made.output
    assert f"cd {out} && cockpit ask" in made.output
    assert (out / "cockpit.toml").is_file()
    # The same folder again: the config names this model and database, so only the model
    # and database stop it (they may have been edited), and --force replaces them.
    again = runner.invoke(app, ["init", str(tmp_path / "shop"), "--out", str(out)])
    assert again.exit_code == 1 and "cockpit.toml" not in again.output
    forced = runner.invoke(app, ["init", str(tmp_path / "shop"), "--out", str(out), "--force"])
    assert forced.exit_code == 0, forced.output


def test_short_numbers_are_no_members(tmp_path: Path) -> None:
    """Order no. 12 as a member would turn "top 12" or "2025年" into a filter: not a dimension,
    and the report says why; and a `goods_num` (how Chinese schemas often name a quantity) is
    still a measure."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "orders.csv").write_text(
        "order_no,order_date,goods_num\n12,2025-01-01,5\n2025,2025-01-02,6\n", encoding="utf-8"
    )
    result = init_project([folder], tmp_path / "out", today=TODAY)
    model = load_model(result.model)
    assert "order_number" not in model.dimension_map
    skipped = {d.name: d.en for d in result.report.skipped}
    assert "short numbers" in skipped["orders.order_no"]
    assert model.metric("goods_num").agg == "sum"
