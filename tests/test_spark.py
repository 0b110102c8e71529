"""The Spark engine on a real Spark: the whole eval set gives DuckDB's answers, a role sees only
its rows (pseudonyms equal to DuckDB's), and nothing runs but a read-only query within its time.

`.ci/run` installs a Java runtime (Debian's default-jre-headless) and pyspark; without either
these tests skip and say which is missing. One local Spark session (local[2]) serves the whole
module, with a Spark Connect server in the same JVM for the Connect path: the JVM is the
expensive part (about 15 s to start).
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import shutil
import socket
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from sqlglot import exp
from typer.testing import CliRunner

from assistant import Assistant
from assistant.cli import app
from assistant.settings import Settings
from eval.items import load_items
from semantic_layer.demo.spark import copy_to_spark, write_parquet
from semantic_layer.engine import DuckDBEngine, open_engine
from semantic_layer.errors import CockpitError, ExecutionError
from semantic_layer.loader import load_model
from semantic_layer.pseudonyms import pseudonym, pseudonym_of
from semantic_layer.security import SecuredEngine
from semantic_layer.spark import SparkEngine, SparkTarget, is_spark_url, parse_target

QUESTIONS = Path(__file__).resolve().parent.parent / "eval" / "questions"
AS_OF = date(2025, 12, 31)


def _missing() -> str | None:
    """Why Spark cannot run here (None: it can)."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -e '.[spark]'; .ci/run does)"
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and Path(java_home, "bin", "java").exists()):
        return "no Java runtime (.ci/spark.sh installs Debian's default-jre-headless as root)"
    return None


MISSING = _missing()
needs_spark = pytest.mark.skipif(MISSING is not None, reason=f"Spark cannot run: {MISSING}")


def test_spark_runs_where_ci_installed_it():
    """`.ci/run` sets COCKPIT_REQUIRE_SPARK once Java is there: then a skip of the Spark tests
    would hide that the engine was never tried, so it is a failure instead."""
    if os.environ.get("COCKPIT_REQUIRE_SPARK") != "1":
        pytest.skip("COCKPIT_REQUIRE_SPARK is not set (.ci/run sets it when Java is installed)")
    assert MISSING is None, f"Spark cannot run: {MISSING}"


def _connect_missing() -> str | None:
    for module in ("grpc", "grpc_status", "pyarrow", "pandas", "google.rpc"):
        try:
            if importlib.util.find_spec(module) is None:
                return f"{module} is missing (pip install -e '.[spark]')"
        except ModuleNotFoundError:
            return f"{module} is missing (pip install -e '.[spark]')"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the URL, without Spark -----------------------------------------------------------------


def test_spark_urls_name_a_master_or_a_connect_server_and_where_the_tables_are():
    assert parse_target("spark://local?warehouse=/data/dw") == SparkTarget(
        master="local[*]", warehouse="/data/dw"
    )
    assert parse_target("local[2]?warehouse=/dw").master == "local[2]"
    # A path is a path: "+" stays, percent escapes are read.
    assert parse_target("spark://local?warehouse=/tmp/a+b").warehouse == "/tmp/a+b"
    assert parse_target("spark://local?warehouse=/tmp/a%20b").warehouse == "/tmp/a b"
    assert parse_target("spark://local[*]").master == "local[*]"
    cluster = parse_target("spark://master:7077?warehouse=hdfs://nn/dw")
    assert (cluster.master, cluster.warehouse, cluster.local) == (
        "spark://master:7077",
        "hdfs://nn/dw",
        False,
    )
    databricks = parse_target(
        "sc://adb-1.azuredatabricks.net:443/;token=dapi1;x-databricks-cluster-id=0123?database=main.sales"
    )
    # Cockpit's parameters are taken off; Spark Connect's own `;key=value` ones stay.
    assert databricks.remote == (
        "sc://adb-1.azuredatabricks.net:443/;token=dapi1;x-databricks-cluster-id=0123"
    )
    assert databricks.database == "main.sales"
    assert is_spark_url("sc://host:15002") and is_spark_url("local[4]")
    assert not is_spark_url("local.duckdb") and not is_spark_url("/data/local")
    with pytest.raises(ExecutionError, match="unknown Spark engine parameter"):
        parse_target("spark://local?wharehouse=/dw")


def test_a_duckdb_file_called_like_a_spark_master_stays_a_duckdb_file(tmp_path, demo_db):
    odd = tmp_path / "local"
    shutil.copy(demo_db, odd)
    engine = open_engine(odd)  # a Path is a file, whatever its name
    assert isinstance(engine, DuckDBEngine)
    engine.close()


def test_trino_has_the_same_engine_shape_checked_without_a_server():
    """No Trino server runs here: its URL handling and its refusals are what can be checked."""
    from semantic_layer.spark import read_only_query
    from semantic_layer.trino import connection_args, duckdb_type

    assert connection_args("trino://analyst@trino.example.com/hive/sales") == {
        "host": "trino.example.com",
        "port": 443,
        "user": "analyst",
        "catalog": "hive",
        "schema": "sales",
        "http_scheme": "https",
    }
    local = connection_args("trino://cockpit@localhost:8080/memory/demo")
    assert (local["port"], local["http_scheme"]) == (8080, "http")
    assert connection_args("trino://a:s%40cret@h:443/c/s")["password"] == "s@cret"
    for bad in ("trino://h/only-catalog", "trino://a:pw@h:8080/c/s", "trino://h/c/s?x=1"):
        with pytest.raises(ExecutionError):
            connection_args(bad)
    for sql in ("DELETE FROM orders", "CREATE TABLE x AS SELECT 1", "SELECT 1; SELECT 2"):
        with pytest.raises(ExecutionError):
            read_only_query(sql, "trino")
    assert isinstance(read_only_query("SELECT order_id FROM orders", "trino"), exp.Select)
    assert [duckdb_type(t) for t in ("varchar(20)", "integer", "decimal(18,2)", "date")] == [
        "VARCHAR",
        "INTEGER",
        "DECIMAL(18,2)",
        "DATE",
    ]
    if importlib.util.find_spec("trino") is None:  # the client is an optional extra
        with pytest.raises(ExecutionError, match=r"\.\[trino\]"):
            open_engine("trino://cockpit@localhost:8080/memory/demo")


# --- one Spark for the module ---------------------------------------------------------------


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    """A local Spark session kept small (two cores, 1 GB, two shuffle partitions, no UI), with
    a Spark Connect server in the same JVM when the Connect client's packages are installed."""
    if MISSING is not None:
        pytest.skip(f"Spark cannot run: {MISSING}")
    from semantic_layer.spark import local_session

    conf = {"spark.sql.warehouse.dir": str(tmp_path_factory.mktemp("spark-catalog"))}
    port = None
    if _connect_missing() is None:
        port = _free_port()
        conf |= {
            "spark.plugins": "org.apache.spark.sql.connect.SparkConnectPlugin",
            "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(port),
        }
    started = time.perf_counter()
    session = local_session("local[2]", memory="1g", shuffle_partitions=2, conf=conf)
    print(f"\nSpark started in {time.perf_counter() - started:.1f}s")
    session.connect_port = port  # type: ignore[attr-defined]
    yield session
    session.stop()


@pytest.fixture(scope="module")
def warehouse(demo_db, tmp_path_factory) -> Path:
    """The demo as Parquet folders, written as `cockpit demo --spark DIR` writes them."""
    folder = tmp_path_factory.mktemp("warehouse")
    tables = copy_to_spark(demo_db, str(folder))
    assert len(tables) >= 15
    return folder


@pytest.fixture(scope="module")
def engine(spark, warehouse):
    with SparkEngine(SparkTarget(master="local[2]", warehouse=str(warehouse)), session=spark) as e:
        yield e


@pytest.fixture(scope="module")
def assistants(demo_db, engine, tmp_path_factory):
    settings = Settings(cache_dir=tmp_path_factory.mktemp("spark-cache"))
    duck = Assistant.demo(database=demo_db, as_of=AS_OF, settings=settings)
    on_spark = Assistant(load_model(), engine, as_of=AS_OF, settings=settings)
    return duck, on_spark


def same(a: object, b: object) -> bool:
    """Numbers within float tolerance (DECIMAL scales differ by engine); the rest exactly,
    type included: a date must come back as a date, not a timestamp or text."""
    if isinstance(a, int | float | Decimal) and isinstance(b, int | float | Decimal):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return a == b and type(a) is type(b)


# --- the eval set ---------------------------------------------------------------------------


@needs_spark
def test_spark_gives_the_same_answers_as_duckdb_for_the_eval_set(assistants):
    duck, on_spark = assistants
    conversations = [[turn.question for turn in item.turns] for item in load_items(QUESTIONS)]
    assert len(conversations) > 300
    compared = asked = 0
    seconds = {"duckdb": 0.0, "spark": 0.0}
    for turns in conversations:
        duck_conv, spark_conv = duck.conversation(), on_spark.conversation()
        for question in turns:
            started = time.perf_counter()
            a = duck_conv.ask(question)
            seconds["duckdb"] += time.perf_counter() - started
            started = time.perf_counter()
            b = spark_conv.ask(question)
            seconds["spark"] += time.perf_counter() - started
            asked += 1
            assert a.status == b.status, (question, a.message, b.message)
            assert a.names == b.names, question
            assert len(a.rows) == len(b.rows), (question, a.rows[:3], b.rows[:3])
            for row_a, row_b in zip(a.rows, b.rows, strict=True):
                assert all(same(x, y) for x, y in zip(row_a, row_b, strict=True)), (
                    question,
                    row_a,
                    row_b,
                )
            compared += a.status == "ok"
    assert compared > 300
    # The README's timings come from this line (run with -s to see it).
    print(
        f"\neval set: {asked} questions, {compared} answered; DuckDB {seconds['duckdb']:.1f}s, "
        f"Spark local[2] {seconds['spark']:.1f}s"
    )


@needs_spark
def test_answers_are_typed_like_duckdb(assistants):
    duck, on_spark = assistants
    a, b = duck.ask("2025年各月收入"), on_spark.ask("2025年各月收入")
    assert b.status == "ok" and len(b.rows) == 12
    assert [type(v) for v in b.rows[0]] == [date, Decimal] == [type(v) for v in a.rows[0]]
    result = on_spark.raw_engine.execute(
        "SELECT order_date, channel, order_id, COUNT(*) AS n FROM orders "
        "GROUP BY order_date, channel, order_id LIMIT 1"
    )
    assert [c.type for c in result.columns] == ["DATE", "VARCHAR", "INTEGER", "BIGINT"]
    assert on_spark.raw_engine.schema()["order_lines"]["amount"] == "DECIMAL(18,2)"


@needs_spark
def test_the_warehouse_holds_the_same_data_as_duckdb(engine, demo_db):
    """Every table: the same row count and the same sum of every numeric column."""
    duck = DuckDBEngine(demo_db)
    for table, columns in duck.schema().items():
        numeric = [c for c, t in columns.items() if t.startswith(("INTEGER", "BIGINT", "DECIMAL"))]
        select = exp.select(exp.func("count", exp.Star()).as_("n")).from_(table)
        for column in numeric:
            select = select.select(exp.func("sum", exp.column(column)).as_(column))
        a, b = duck.execute(select).rows[0], engine.execute(select).rows[0]
        assert all(same(x, y) for x, y in zip(a, b, strict=True)), (table, a, b)
    duck.close()


# --- row security, masks and pseudonyms -----------------------------------------------------


def _plain(row: tuple) -> tuple:
    """A row comparable across engines (Decimal vs float, 9 significant digits)."""
    return tuple(
        float(f"{float(x):.9g}") if isinstance(x, int | float | Decimal) else str(x) for x in row
    )


ROLE_QUESTIONS = [
    "2025年各区域的收入",
    "2025年收入最高的5个客户",
    "各销售代表的收入",
    "应收账款余额",
    "2025年毛利率",
    "各仓库库存金额",
    "2025年各部门费用",
    "2025年各月经营现金流入",
]


@needs_spark
@pytest.mark.parametrize("role", ["east_manager", "auditor", "sales_dept"])
def test_roles_see_the_same_rows_and_masks_on_spark(assistants, role):
    """Row filters, pseudonyms and hidden columns hold on Spark (masks spelled out, no
    `* REPLACE`), with the same rows as DuckDB — pseudonyms included, for the same secret."""
    duck, on_spark = (a.for_role(role) for a in assistants)
    answered = 0
    for question in ROLE_QUESTIONS:
        a, b = duck.ask(question), on_spark.ask(question)
        assert (a.status, a.names) == (b.status, b.names), (role, question, b.message)
        assert sorted(map(_plain, a.rows)) == sorted(map(_plain, b.rows)), (role, question)
        answered += a.status == "ok"
    assert answered >= 3
    if role == "auditor":
        top = on_spark.ask("2025年收入最高的5个客户")
        assert len(top.rows) == 5 and all(str(row[0]).startswith("客户-") for row in top.rows)
        secured = on_spark.engine.secure(exp.select("customer_name").from_("customers"))
        text = secured.sql(dialect="spark")
        assert "REPLACE" not in text.upper() and "SHA2" in text.upper()


@needs_spark
def test_a_role_sees_only_its_rows_on_spark(assistants):
    _, on_spark = assistants
    east = on_spark.for_role("east_manager")
    regions = east.ask("2025年各区域的收入")
    assert regions.status == "ok" and [row[0] for row in regions.rows] == ["华东"]
    # SQL from outside (an LLM) goes through the same views: only 华东's rows exist for it.
    rows = east.engine.execute_untrusted("SELECT DISTINCT region_id FROM orders").rows
    everything = on_spark.raw_engine.execute("SELECT DISTINCT region_id FROM orders").rows
    assert len(rows) == 1 and len(everything) == 7
    closed = east.engine.execute_untrusted("SELECT COUNT(*) FROM expenses").rows
    assert closed == [(0,)]  # expenses cannot reach a region: closed to the role


@needs_spark
def test_spark_computes_the_same_keyed_pseudonyms_as_python_and_duckdb(engine, demo_db):
    """The "spark" HMAC template, run on real Spark, is HMAC-SHA256 under the secret."""
    secret = hashlib.sha256(b"a test secret").digest()
    masked = pseudonym("customer_name", "客户", secret, "spark")
    select = exp.select(exp.column("customer_name"), masked.as_("p")).from_("customers")
    rows = engine.execute(select.order_by("customer_name")).rows
    assert len(rows) == 800
    assert all(p == pseudonym_of(name, "客户", secret) for name, p in rows)
    duck_select = exp.select(
        exp.column("customer_name"),
        pseudonym("customer_name", "客户", secret, "duckdb").as_("p"),
    ).from_("customers")
    with DuckDBEngine(demo_db) as duck:
        assert sorted(duck.execute(duck_select).rows) == sorted(rows)


# --- read-only, limits, budgets -------------------------------------------------------------


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@needs_spark
def test_the_spark_engine_runs_nothing_but_a_read_only_query(
    engine, assistants, warehouse, tmp_path
):
    _, on_spark = assistants
    before = _fingerprint(warehouse)
    marker = tmp_path / "pwned"
    statements = [
        "DELETE FROM orders",
        "DROP TABLE orders",
        "DROP VIEW orders",
        "CREATE TABLE x AS SELECT 1 AS a",
        "CREATE OR REPLACE TEMPORARY VIEW orders AS SELECT 1 AS a",
        "INSERT INTO orders SELECT * FROM orders",
        f"INSERT OVERWRITE DIRECTORY '{tmp_path}' SELECT * FROM orders",
        "SET spark.sql.runSQLOnFiles=true",
        "CACHE TABLE orders",
        "ADD JAR /tmp/x.jar",
        "SELECT 1 AS a; DROP VIEW orders",
        f"SELECT TRANSFORM(channel) USING 'touch {marker}' AS (x) FROM orders",
        "SELECT reflect('java.lang.System', 'getProperty', 'user.home') FROM orders",
        "SELECT java_method('java.lang.System', 'getenv', 'HOME') FROM orders",
    ]
    for sql in statements:
        with pytest.raises(ExecutionError):
            engine.execute(sql)
        with pytest.raises(CockpitError):  # and through the guard, as an LLM's SQL would go
            on_spark.engine.execute_untrusted(sql)
    # A query, but reading a file by path: Spark itself refuses (spark.sql.runSQLOnFiles off).
    with pytest.raises(ExecutionError):
        engine.execute(f"SELECT * FROM parquet.`{warehouse / 'orders'}`")
    assert not marker.exists()
    assert _fingerprint(warehouse) == before
    assert on_spark.ask("2025年订单数").status == "ok"


# Minutes of work for two cores, in small steps: Spark's tasks notice a cancellation between
# batches of rows, so the statement must stop within a second of the limit, not just return.
SLOW = "SELECT COUNT(*) FROM orders CROSS JOIN range(2000000000) WHERE order_id > id"


def _settled(spark) -> bool:
    """Whether the cancelled statement's tasks are gone (not left running on the cores)."""
    tracker = spark.sparkContext.statusTracker()
    for _ in range(100):
        if not tracker.getActiveStageIds():
            return True
        time.sleep(0.1)
    return False


@needs_spark
def test_a_statement_over_the_time_limit_is_cancelled_and_says_which_limit(spark, warehouse):
    engine = SparkEngine(SparkTarget(master="local[2]", warehouse=str(warehouse)), session=spark)
    started = time.perf_counter()
    with pytest.raises(ExecutionError) as caught:
        engine.execute(SLOW, timeout=1.5)  # a question's deadline, shorter than the engine's 30 s
    assert time.perf_counter() - started < 15
    assert "1.5" in caught.value.message("zh") and "1.5" in caught.value.message("en")
    assert _settled(spark)  # its job group was cancelled, its tasks stopped
    assert engine.execute("SELECT COUNT(*) FROM regions").rows == [(7,)]  # the session goes on
    engine.timeout = 1.0
    with pytest.raises(ExecutionError, match="1.0"):
        engine.execute(SLOW)
    assert _settled(spark)
    engine.close()


@needs_spark
def test_the_row_cap_and_the_result_budget_hold_on_spark(spark, warehouse, demo_db):
    engine = SparkEngine(
        SparkTarget(master="local[2]", warehouse=str(warehouse)),
        session=spark,
        max_result_bytes=2**20,
    )
    capped = SecuredEngine(engine, load_model(), max_rows=7)
    assert len(capped.execute("SELECT order_id FROM orders").rows) == 7
    assert "LIMIT 7" in capped.secure("SELECT order_id FROM orders LIMIT 500").sql("spark")
    # Results over 1 MB may travel through the block manager, fetched by host: it must be one
    # this machine reaches, whatever its host name resolves to.
    executors = spark.sparkContext._jsc.sc().statusTracker().getExecutorInfos()
    assert {e.host() for e in executors} <= {"127.0.0.1", "localhost"}
    with pytest.raises(ExecutionError) as caught:
        engine.execute("SELECT * FROM order_lines")  # 300,000 rows: far over 1 MB
    assert "1 MB" in caught.value.message("en")
    # Spark stopped at the rows the budget could hold, so the session is whole for what follows.
    with DuckDBEngine(demo_db) as duck:
        lines = duck.execute("SELECT count(*) FROM order_lines").rows
    assert lines[0][0] > 100_000
    assert engine.execute("SELECT count(*) FROM order_lines").rows == lines
    engine.close()


@needs_spark
def test_new_files_in_the_warehouse_are_read_not_a_cached_answer(spark, warehouse, tmp_path):
    """The data version covers the Parquet files: a table rewritten under a running engine is
    read anew (its view remade), not answered from the result cache."""
    copy = tmp_path / "dw"
    shutil.copytree(warehouse, copy)
    engine = SparkEngine(SparkTarget(master="local[2]", warehouse=str(copy)), session=spark)
    assert engine.execute("SELECT COUNT(*) FROM regions").rows == [(7,)]
    source = duckdb.connect()
    source.read_parquet(str(copy / "regions" / "part-00000.parquet")).limit(3).write_parquet(
        str(tmp_path / "regions.parquet")
    )
    source.close()
    shutil.rmtree(copy / "regions")
    (copy / "regions").mkdir()
    shutil.move(tmp_path / "regions.parquet", copy / "regions" / "part-00000.parquet")
    assert engine.execute("SELECT COUNT(*) FROM regions").rows == [(3,)]
    engine.close()


# --- selecting Spark: the setting, the CLI, the demo ----------------------------------------


@needs_spark
def test_cockpit_engine_selects_spark_like_postgresql(spark, warehouse, monkeypatch, tmp_path):
    monkeypatch.setenv("COCKPIT_ENGINE", f"spark://local[2]?warehouse={warehouse}")
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path))
    assistant = Assistant.open(as_of=AS_OF)  # the running session: getOrCreate returns it
    assert isinstance(assistant.raw_engine, SparkEngine)
    assert assistant.engine.dialect == "spark"
    answer = assistant.ask("2025年订单数")
    assert answer.status == "ok" and answer.rows[0][0] > 1000
    assistant.raw_engine.close()


@needs_spark
def test_cockpit_demo_writes_parquet_spark_reads(spark, tmp_path):
    out, folder = tmp_path / "demo.duckdb", tmp_path / "dw"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--spark", str(folder)])
    assert result.exit_code == 0, result.output
    assert "tables for Spark" in result.output
    engine = SparkEngine(SparkTarget(master="local[2]", warehouse=str(folder)), session=spark)
    with DuckDBEngine(out) as duck:
        assert set(engine.schema()) == set(duck.schema())
        for table in ("orders", "order_lines", "ar_aging_monthly"):
            count = exp.select(exp.func("count", exp.Star())).from_(table)
            assert engine.execute(count).rows == duck.execute(count).rows
    engine.close()
    # Written again over itself: tables are swapped whole, nothing half-written is left.
    write_parquet(out, folder)
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []
    # `cockpit check --engine` checks the model against the warehouse, as the README says.
    url = f"spark://local[2]?warehouse={folder}"
    checked = CliRunner().invoke(app, ["check", "--engine", url, "--lang", "en"])
    assert checked.exit_code == 0 and "Model OK" in checked.output, checked.output
    shutil.rmtree(folder / "revenue_budget")
    checked = CliRunner().invoke(app, ["check", "--engine", url, "--lang", "en"])
    assert checked.exit_code == 1 and "revenue_budget" in checked.output, checked.output


# --- Spark Connect (Databricks' way in): a server in the test JVM ---------------------------


@needs_spark
def test_spark_connect_answers_like_duckdb_and_cancels_by_tag(spark, demo_db, assistants, tmp_path):
    """Tables saved in a database through Spark Connect (how `cockpit demo --spark sc://…`
    loads a cluster), read by an engine on `sc://…?database=…`: a role's answers equal
    DuckDB's, and the time limit interrupts the operation by its tag."""
    reason = _connect_missing()
    if reason is not None or spark.connect_port is None:
        pytest.skip(f"Spark Connect client: {reason}")
    spark.sql("CREATE DATABASE IF NOT EXISTS cockpit_demo")  # the test's own catalog
    url = f"sc://127.0.0.1:{spark.connect_port}?database=cockpit_demo"
    tables = copy_to_spark(demo_db, url)
    assert "orders" in tables
    engine = open_engine(url, timeout=30.0)
    try:
        _ask_over_connect(engine, spark, assistants, tmp_path)
    finally:
        engine.close()  # an open Connect client would retry its server at exit, for minutes


def _ask_over_connect(engine, spark, assistants, tmp_path) -> None:
    assert isinstance(engine, SparkEngine) and engine.session is not spark
    assert engine.data_version() is None  # a catalog another writer may change: no caching
    duck, _ = assistants
    settings = Settings(cache_dir=tmp_path)
    remote = Assistant(load_model(), engine, as_of=AS_OF, settings=settings, role="east_manager")
    east = duck.for_role("east_manager")
    for question in ROLE_QUESTIONS[:4]:
        a, b = east.ask(question), remote.ask(question)
        assert (a.status, a.names) == (b.status, b.names), (question, b.message)
        assert sorted(map(_plain, a.rows)) == sorted(map(_plain, b.rows)), question
    started = time.perf_counter()
    with pytest.raises(ExecutionError, match="1.5"):
        engine.execute(SLOW, timeout=1.5)
    assert time.perf_counter() - started < 20
    assert _settled(spark)  # interrupted by its operation tag, not left running
    assert engine.execute("SELECT COUNT(*) FROM regions").rows == [(7,)]
    with pytest.raises(ExecutionError):
        engine.execute("DROP TABLE orders")
