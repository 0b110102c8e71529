"""`cockpit check` as a security gate: model expressions pass the SQL guard before anything runs
them, and role policies that hide a concept in one table but leave it readable in another are
reported — on models nobody here wrote as well as on the demo."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from semantic_layer.check import check_against_database, check_model
from semantic_layer.engine import DuckDBEngine
from semantic_layer.guard import guard_sql
from semantic_layer.loader import DEMO_MODEL, Locations, load_model, read_model
from semantic_layer.model import SemanticModel

# --- a small shop, written here: tables, data and a model --------------------------------------

SHOP = """\
name: shop
tables:
  - {name: sales, primary_key: [id], time_column: sold_on}
  - {name: shops, primary_key: [shop_id]}
joins:
  - {from: sales, to: shops, on: shop_id}
dimensions:
  - {name: shop, table: shops, expr: shop_name, label: {zh: 门店, en: Shop}}
  - {name: kind, table: sales, expr: kind, label: {zh: 类型, en: Kind}}
metrics:
  - name: sales_amount
    label: {zh: 销售额, en: Sales}
    table: sales
    agg: sum
    expr: amount
    filter: kind <> 'void'
    time: sold_on
"""


@pytest.fixture(scope="module")
def shop_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("shop") / "shop.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE shops (shop_id INTEGER, shop_name VARCHAR)")
        con.execute("INSERT INTO shops VALUES (1, 'North'), (2, 'South')")
        con.execute(
            "CREATE TABLE sales (id INTEGER, sold_on DATE, shop_id INTEGER, kind VARCHAR, "
            "amount DECIMAL(18,2))"
        )
        con.execute(
            "INSERT INTO sales VALUES (1, DATE '2025-01-02', 1, 'retail', 10), "
            "(2, DATE '2025-01-03', 2, 'void', 5)"
        )
    return path


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "model.yaml"
    path.write_text(text, encoding="utf-8")
    return path


HOSTILE = [
    pytest.param("current_setting('x')", id="current_setting"),
    pytest.param("getenv('HOME')", id="getenv"),
    pytest.param("read_csv('/etc/passwd')", id="read_csv"),
    pytest.param("(SELECT 1)", id="scalar-subquery"),
    pytest.param("other.db.table", id="other-schema-column"),
    pytest.param("amount + (SELECT max(amount) FROM other.sch.t)", id="subquery-other-schema"),
    pytest.param("amount * (SELECT count(*) FROM shops)", id="subquery-over-a-model-table"),
    pytest.param("amount IN (SELECT amount FROM sales)", id="in-subquery"),
    pytest.param("gеtenv('HOME')", id="cyrillic-lookalike"),
    pytest.param("upper(getenv('HOME'))", id="nested"),
]
# Where a hostile expression can be written: (old text, new text with {e}, owner kind, name).
PLACES = [
    pytest.param("    expr: amount\n", "    expr: {e}\n", "metric", "sales_amount", id="metric"),
    pytest.param(
        "    filter: kind <> 'void'\n",
        "    filter: {e} IS NOT NULL\n",
        "metric",
        "sales_amount",
        id="metric-filter",
    ),
    pytest.param("expr: shop_name,", 'expr: "{e}",', "dimension", "shop", id="dimension"),
]


@pytest.mark.parametrize(("old", "new", "kind", "name"), PLACES)
@pytest.mark.parametrize("expression", HOSTILE)
def test_hostile_expression_is_an_error_at_load_and_in_check(
    expression, old, new, kind, name, tmp_path, shop_db
):
    text = SHOP.replace(old, new.format(e=expression))
    path = write(tmp_path, text)
    model, issues = read_model(path)
    unsafe = [i for i in issues if i.code == "unsafe_expression"]
    assert len(unsafe) == 1, [i.message("en") for i in issues]
    issue = unsafe[0]
    assert issue.severity == "error"
    # The issue names its owner and where it was written, in both languages.
    written = next(n for n, line in enumerate(text.splitlines(), 1) if expression in line)
    assert (issue.file, issue.line) == (str(path), written)
    assert f"{kind} {name}" in issue.message("en") and "is not allowed" in issue.message("en")
    assert name in issue.message("zh") and "不允许使用" in issue.message("zh")
    assert f"{path}:{written}" in issue.message("zh")
    # check --db never reaches the database with it.
    with DuckDBEngine(shop_db) as engine:
        _, checked = check_model(path, engine)
    assert "unsafe_expression" in [i.code for i in checked if i.severity == "error"]


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("current_setting('x')", "function current_setting is not allowed"),
        ("getenv('HOME')", "function getenv is not allowed"),
        ("read_csv('/etc/passwd')", "function read_csv is not allowed"),
        ("(SELECT 1)", "a subquery is not allowed"),
        ("other.db.table", "a column of another schema or database: other.db."),
    ],
)
def test_the_reason_is_the_guards_own(expression, reason, tmp_path):
    _, issues = read_model(write(tmp_path, SHOP.replace("expr: amount\n", f"expr: {expression}\n")))
    unsafe = next(i for i in issues if i.code == "unsafe_expression")
    assert reason in unsafe.message("en")


def test_derived_metric_expression_is_guarded_too(tmp_path):
    text = SHOP + (
        "  - name: leak\n    label: {zh: 泄露, en: Leak}\n    kind: derived\n"
        "    expr: sales_amount * length(getenv('HOME'))\n"
    )
    _, issues = read_model(write(tmp_path, text))
    assert [i.params["owner_en"] for i in issues if i.code == "unsafe_expression"] == [
        "metric leak"
    ]


def test_the_cli_refuses_a_hostile_model(tmp_path, shop_db):
    from assistant.cli import app

    path = write(tmp_path, SHOP.replace("expr: amount\n", "expr: getenv('HOME')\n"))
    env = {"COCKPIT_CACHE_DIR": str(tmp_path), "COCKPIT_CONFIG": os.devnull}
    result = CliRunner().invoke(
        app, ["check", str(path), "--db", str(shop_db), "--lang", "en"], env=env
    )
    assert result.exit_code == 1
    assert "metric sales_amount is not allowed" in result.output
    assert str(Path.home()) not in result.output


class Recording:
    """An engine that keeps every statement check sends it (and runs it on the real one)."""

    def __init__(self, engine: DuckDBEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.sent: list[str] = []

    def schema(self) -> dict[str, dict[str, str]]:
        return self.engine.schema()

    def execute(self, sql):
        self.sent.append(sql if isinstance(sql, str) else sql.sql(dialect=self.dialect))
        return self.engine.execute(sql)


def test_check_builds_no_statement_the_guard_would_refuse(shop_db, tmp_path):
    model = load_model(write(tmp_path, SHOP))
    with DuckDBEngine(shop_db) as engine:
        recording = Recording(engine)
        assert check_against_database(model, recording) == []
        schema = engine.schema()
    tables = [t.name for t in model.tables]
    probes = [sql for sql in recording.sent if "DISTINCT" in sql]
    # Category members are read through the guard: it is what put the row cap on them.
    assert probes and all("LIMIT 1001" in sql for sql in probes), probes
    for sql in recording.sent:
        guard_sql(sql, tables, schema=schema)  # raises if a statement would not pass
    # Every dimension expression and the metric ran.
    assert any("shop_name" in sql for sql in recording.sent)
    assert any("kind" in sql and "DISTINCT" in sql for sql in recording.sent)
    assert any("SUM(" in sql for sql in recording.sent)


@pytest.mark.parametrize("expression", HOSTILE)
def test_check_against_database_runs_nothing_of_a_hostile_model(expression, shop_db, tmp_path):
    """A model built in code skips loading's validation; check still refuses to run it."""
    model = load_model(write(tmp_path, SHOP))
    data = model.model_dump(by_alias=True)
    data["metrics"][0]["expr"] = expression
    hostile = SemanticModel.model_validate(data)
    with DuckDBEngine(shop_db) as engine:
        recording = Recording(engine)
        issues = check_against_database(hostile, recording, Locations())
    assert recording.sent == []
    assert [i.code for i in issues] == ["unsafe_expression"]
    assert issues[0].params["owner_en"] == "metric sales_amount"


def test_a_dimension_that_fails_on_the_database_is_named(shop_db, tmp_path):
    text = SHOP.replace("expr: shop_name,", 'expr: "shop_name + 1",')
    with DuckDBEngine(shop_db) as engine:
        _, issues = check_model(write(tmp_path, text), engine)
    failed = [i for i in issues if i.code == "dimension_check_failed"]
    assert failed and failed[0].params["dimension"] == "shop"
    assert "维度 shop 在数据库上执行失败" in failed[0].message("zh")


def test_the_demo_model_still_passes(demo_db):
    with DuckDBEngine(demo_db) as engine:
        _, issues = check_model(DEMO_MODEL, engine)
    assert issues == []


# --- role policies: a hidden concept readable elsewhere ---------------------------------------

# The demo's roles before payroll and supplier payments were closed in cash flows.
OLD_ROLES = """\
roles:
  - name: east_manager
    label: {zh: 华东区经理, en: East region manager}
    row_filters:
      - {dimension: region, values: [华东]}
  - name: sales_dept
    label: {zh: 销售部, en: Sales department}
    row_filters:
      - {dimension: expense_category, op: not_in, values: [工资薪酬], elsewhere: allow}
  - {name: cfo, label: {zh: 财务总监, en: CFO}}
  - {name: finance_manager, label: {zh: 财务经理, en: Finance manager}}
  - {name: ar_manager, label: {zh: 应收主管, en: AR manager}}
  - {name: sales_director, label: {zh: 销售总监, en: Sales director}}
  - name: auditor
    label: {zh: 外部审计, en: External auditor}
    masked_dimensions: [customer, sales_rep]
    denied_metrics: [cogs]
    masked_columns: [products.unit_cost, inventory_monthly.value, purchases.amount]
"""


def with_roles(roles: str, tmp_path: Path) -> Path:
    """A copy of the demo model with its `roles:` section replaced."""
    text = DEMO_MODEL.read_text(encoding="utf-8")
    start, end = text.index("\nroles:\n"), text.index("\nalerts:\n")
    return write(tmp_path, text[: start + 1] + roles + text[end:])


def leaks(issues) -> list[tuple[str, str, str]]:
    return sorted(
        (str(i.params["role"]), str(i.params["table"]), str(i.params["fix"]))
        for i in issues
        if i.code == "policy_leak"
    )


EXPECTED_OLD = [
    (
        "auditor",
        "cash_flows",
        "{dimension: cash_category, op: not_in, values: [采购付款], elsewhere: allow}",
    ),
    (
        "sales_dept",
        "cash_flows",
        "{dimension: cash_category, op: not_in, values: [工资薪酬], elsewhere: allow}",
    ),
]


def test_the_old_demo_roles_leak_payroll_and_supplier_payments(tmp_path):
    path = with_roles(OLD_ROLES, tmp_path)
    model, issues = read_model(path)
    assert model is not None
    assert leaks(issues) == EXPECTED_OLD
    assert all(i.severity == "warning" for i in issues if i.code == "policy_leak")
    sales = next(i for i in issues if i.code == "policy_leak" and i.params["role"] == "sales_dept")
    text = path.read_text(encoding="utf-8").splitlines()
    assert "expense_category" in text[sales.line - 1]  # the row filter that leaks
    assert "角色 sales_dept 看不到" in sales.message("zh") and "工资薪酬" in sales.message("zh")
    assert "Role sales_dept cannot see" in sales.message("en")
    auditor = next(i for i in issues if i.code == "policy_leak" and i.params["role"] == "auditor")
    assert "purchases.amount" in auditor.message("en") and "采购付款" in auditor.message("en")


def test_the_old_demo_roles_leak_with_the_database_too(tmp_path, demo_db):
    with DuckDBEngine(demo_db) as engine:
        _, issues = check_model(with_roles(OLD_ROLES, tmp_path), engine)
    assert leaks(issues) == EXPECTED_OLD
    assert [i.code for i in issues if i.severity == "error"] == []


def test_the_demo_roles_leak_nothing(demo_db):
    _, issues = read_model(DEMO_MODEL)
    assert leaks(issues) == []
    with DuckDBEngine(demo_db) as engine:
        _, checked = check_model(DEMO_MODEL, engine)
    assert leaks(checked) == []


def test_cli_check_shows_the_leak_as_a_warning(tmp_path):
    from assistant.cli import app

    path = with_roles(OLD_ROLES, tmp_path)
    env = {"COCKPIT_CACHE_DIR": str(tmp_path), "COCKPIT_CONFIG": os.devnull}
    result = CliRunner().invoke(app, ["check", str(path), "--lang", "en"], env=env)
    assert result.exit_code == 0, result.output  # a warning, not an error
    assert "warning:" in result.output and "Role auditor cannot see" in result.output


# A model nobody here wrote: a clinic whose visits carry a diagnosis category and whose ledger
# carries the same words as entry types.
CLINIC = """\
name: clinic
tables:
  - {name: visits, primary_key: [visit_id], time_column: day, label: {zh: 就诊, en: Visits}}
  - {name: ledger, primary_key: [entry_id], time_column: day, label: {zh: 流水, en: Ledger}}
  - {name: wards, primary_key: [ward_id], label: {zh: 病区, en: Wards}}
  - {name: salaries, primary_key: [id], time_column: day, label: {zh: 薪资, en: Salaries}}
joins:
  - {from: visits, to: wards, on: ward_id}
dimensions:
  - name: diagnosis
    table: visits
    expr: diagnosis
    label: {zh: 诊断, en: Diagnosis}
    value_labels: {精神科: Psychiatry, 内科: Internal medicine}
  - name: ward
    table: wards
    expr: ward_name
    label: {zh: 病区, en: Ward}
    value_labels: {精神科病区: Psychiatry ward}
  - name: entry_type
    table: ledger
    expr: entry_type
    label: {zh: 流水类型, en: Entry type}
    value_labels: {精神科收费: Psychiatry fees, 工资发放: Salary payments}
    value_synonyms:
      精神科收费: [psychiatry]
      工资发放: [发工资]
      设备: [外包薪资, contractor salaries]
metrics:
  - name: visit_fees
    label: {zh: 诊疗费, en: Visit fees}
    table: visits
    agg: sum
    expr: fee
    time: day
  - name: ledger_amount
    label: {zh: 流水金额, en: Ledger amount}
    table: ledger
    agg: sum
    expr: amount
    time: day
  - name: salary_cost
    label: {zh: 薪资, en: Salary}
    synonyms: [工资, salaries]
    table: salaries
    agg: sum
    expr: amount
    time: day
roles:
"""


def clinic(roles: str, tmp_path: Path) -> list:
    model, issues = read_model(write(tmp_path, CLINIC + roles))
    assert model is not None and not [i for i in issues if i.severity == "error"], issues
    return [i for i in issues if i.code == "policy_leak"]


def test_a_hidden_member_named_the_same_in_another_table_is_reported(tmp_path):
    found = clinic(
        "  - name: front_desk\n    row_filters:\n"
        "      - {dimension: diagnosis, op: not_in, values: [精神科], elsewhere: allow}\n",
        tmp_path,
    )
    # The ledger's 精神科收费 has the synonym "psychiatry", the label of the hidden 精神科.
    # The ward 精神科病区 only contains the word: a row filter matches whole words only.
    assert [(i.params["table"], i.params["fix"]) for i in found] == [
        ("ledger", "{dimension: entry_type, op: not_in, values: [精神科收费], elsewhere: allow}")
    ]


def test_restricting_the_other_table_too_silences_the_warning(tmp_path):
    assert not clinic(
        "  - name: front_desk\n    row_filters:\n"
        "      - {dimension: diagnosis, op: not_in, values: [精神科], elsewhere: allow}\n"
        "      - {dimension: entry_type, op: not_in, values: [精神科收费], elsewhere: allow}\n",
        tmp_path,
    )


def test_a_fail_closed_filter_leaves_nothing_to_leak(tmp_path):
    """elsewhere: deny closes the ledger to the role: nothing to read there."""
    assert not clinic(
        "  - name: front_desk\n    row_filters:\n"
        "      - {dimension: diagnosis, op: not_in, values: [精神科]}\n",
        tmp_path,
    )


def test_a_denied_metric_named_in_another_fact_tables_member_is_reported(tmp_path):
    found = clinic("  - name: intern\n    denied_metrics: [salary_cost]\n", tmp_path)
    # 工资发放 contains 工资 (a synonym of the denied metric); 设备's synonyms only contain
    # 薪资 inside a longer phrase, which does not count for synonyms.
    assert [(i.params["table"], i.params["fix"]) for i in found] == [
        ("ledger", "{dimension: entry_type, op: not_in, values: [工资发放], elsewhere: allow}")
    ]
    assert "metric salary_cost (Salary)" in found[0].message("en")


def test_masking_the_other_tables_amounts_silences_the_concept_warning(tmp_path):
    assert not clinic(
        "  - name: intern\n    denied_metrics: [salary_cost]\n"
        "    masked_columns: [ledger.amount]\n",
        tmp_path,
    )


def test_a_masked_column_is_named_by_the_metrics_that_read_it(tmp_path):
    found = clinic("  - name: intern\n    masked_columns: [salaries.amount]\n", tmp_path)
    assert [i.params["table"] for i in found] == ["ledger"]
    assert "column salaries.amount (Salary)" in found[0].message("en")
    assert "列 salaries.amount（薪资）" in found[0].message("zh")


def test_a_table_whose_label_names_the_hidden_concept_is_reported(tmp_path):
    text = CLINIC.replace(
        "  - {name: wards, primary_key: [ward_id], label: {zh: 病区, en: Wards}}\n",
        "  - {name: wards, primary_key: [ward_id], label: {zh: 病区, en: Wards}}\n"
        "  - {name: payroll_runs, primary_key: [id], label: {zh: 工资批次, en: Payroll runs}}\n",
    )
    model, issues = read_model(
        write(tmp_path, text + "  - name: intern\n    denied_metrics: [salary_cost]\n")
    )
    assert model is not None
    tables = sorted(i.params["table"] for i in issues if i.code == "policy_leak")
    assert tables == ["ledger", "payroll_runs"]
