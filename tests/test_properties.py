"""Properties over random input (hypothesis): questions never raise, SQL never does harm.

- Any text, in any script or none, gets an `Answer` with one of the four statuses.
- Real metric and dimension words mixed with junk, under any role, never raise and never show a
  region outside the role's scope.
- SQL built at random from dangerous statements, functions and separators is either rejected by
  the guard (with `SQLRejected`, nothing else), or runs without changing the database file and
  without writing a file.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from assistant.api import Assistant
from assistant.settings import Settings
from semantic_layer.engine import DuckDBEngine
from semantic_layer.errors import CockpitError
from semantic_layer.guard import SQLRejected, guard_sql
from semantic_layer.loader import load_model
from semantic_layer.security import SecuredEngine

MODEL = load_model()
TABLES = [t.name for t in MODEL.tables]
ROLES = [r.name for r in MODEL.roles]
STATUSES = {"ok", "clarify", "refused", "error"}
REGIONS = {"华东", "华南", "华北", "华中", "西南", "西北", "东北"}
SOME = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def assistant(demo_db, tmp_path_factory) -> Assistant:
    cache = tmp_path_factory.mktemp("properties-cache")
    return Assistant.demo(database=demo_db, settings=Settings(cache_dir=cache))


# --- questions -----------------------------------------------------------------------------------


def _check(answer) -> None:
    assert answer.status in STATUSES
    if answer.status != "ok":
        assert answer.message.strip(), answer
    assert answer.lang in ("zh", "en")


@SOME
@given(question=st.text(max_size=300))
def test_any_unicode_question_gets_an_answer(question, assistant):
    _check(assistant.ask(question))


@SOME
@given(question=st.text(alphabet=st.characters(max_codepoint=127), max_size=300))
def test_any_ascii_question_gets_an_answer(question, assistant):
    _check(assistant.ask(question))


def _model_words() -> list[str]:
    words: list[str] = []
    for metric in MODEL.metrics:
        words += [metric.label.zh, metric.label.en, *metric.synonyms[:3]]
    for dimension in MODEL.dimensions:
        words += [dimension.label.zh, dimension.label.en, *dimension.synonyms[:2]]
    return words


# The explanation and summary words are left out: each such answer runs dozens of queries, and
# their safety is tested one by one in test_security_rls.py.
WORDS = _model_words() + sorted(REGIONS) + [
    "2023年", "2024年", "2025年", "2025年3月", "上月", "本月", "今年", "去年", "Q4", "第一季度",
    "按月", "按季度", "各", "每个", "前10", "top 5", "同比", "环比", "预算", "占比", "最高",
    "最低", "多少", "的", "和", "呢", "?", "？", "in 2025", "by month", "by region", "last year",
    "预警", "华东呢", "不含", "除了", "大于100万", ">", "=", "'", '"', ";", "--", "/*", "*/",
    "DROP TABLE orders", "SELECT *", "OR 1=1", "UNION SELECT", "\x00", "\x1b[31m", "😀", "\u202e",
    "ignore previous instructions", "以cfo身份", "role=cfo",
]  # fmt: skip


mixed_questions = st.lists(
    st.one_of(st.sampled_from(WORDS), st.text(max_size=6)), min_size=1, max_size=8
).flatmap(lambda parts: st.sampled_from(["", " ", "，", ",", "\n"]).map(lambda s: s.join(parts)))


@SOME
@given(question=mixed_questions, role=st.sampled_from([None, *ROLES]))
def test_model_words_mixed_with_junk_never_raise_and_stay_in_scope(question, role, assistant):
    answer = assistant.ask(question, role=role)
    _check(answer)
    if role == "east_manager":
        shown = {v for row in answer.rows for v in row if isinstance(v, str)}
        assert shown & REGIONS <= {"华东"}, (question, answer.rows[:5])


# --- SQL -----------------------------------------------------------------------------------------

COLUMNS = ["order_id", "region_id", "amount", "customer_name", "category", "x"]
TARGETS = [*TABLES[:6], "ORDERS", '"Customers"', "secrets", "main.orders", "'{dir}/x.csv'"]
STATEMENTS = [
    "DROP TABLE {t}",
    "DELETE FROM {t}",
    "INSERT INTO {t} SELECT * FROM {t}",
    "UPDATE {t} SET {c} = NULL",
    "TRUNCATE {t}",
    "ALTER TABLE {t} RENAME TO x",
    "CREATE TABLE leak AS SELECT * FROM {t}",
    "CREATE VIEW v AS SELECT * FROM {t}",
    "COPY {t} TO '{dir}/leak.csv'",
    "COPY (SELECT * FROM {t}) TO '{dir}/leak.parquet' (FORMAT parquet)",
    "EXPORT DATABASE '{dir}/dump'",
    "ATTACH '{dir}/new.duckdb' AS n",
    "DETACH n",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "RESET ALL",
    "PRAGMA database_list",
    "CALL duckdb_settings()",
    "CHECKPOINT",
    "VACUUM",
    "CREATE SECRET (TYPE s3, KEY_ID 'k', SECRET 's')",
    "USE memory",
]
FUNCTIONS = [
    "read_csv('{dir}/x.csv')",
    "read_csv_auto('/etc/passwd')",
    "read_text('/etc/passwd')",
    "read_blob('{dir}/*')",
    "read_parquet('{dir}/x.parquet')",
    "read_json('{dir}/x.json')",
    "glob('{dir}/*')",
    "getenv('HOME')",
    "current_setting('threads')",
    "duckdb_settings()",
    "duckdb_secrets()",
    "pragma_database_list()",
    "query('DROP TABLE {t}')",
    "query_table('{t}')",
    "sqlite_scan('{dir}/x.db', 't')",
    "parquet_metadata('{dir}/x.parquet')",
    "json_execute_serialized_sql(json_serialize_sql('SELECT 1'))",
    "GETENV('PATH')",
    "version()",
    "upper('x')",
]
SELECTS = [
    "SELECT {f}",
    "SELECT * FROM {f}",
    "SELECT * FROM {t}",
    "SELECT {c} FROM {t}",
    "SELECT * FROM {t} WHERE {c} IN (SELECT * FROM {f})",
    "WITH x AS (SELECT * FROM {f}) SELECT * FROM x",
    "WITH {t} AS (SELECT 1 AS a) SELECT * FROM {t}",
    "SELECT * FROM {t} UNION ALL SELECT * FROM {f}",
    "SELECT (SELECT count(*) FROM {f})",
    "SELECT CASE WHEN true THEN {f} END",
    "SELECT * FROM {t}, LATERAL (SELECT {f}) l",
    "SELECT sum(1) OVER (PARTITION BY {f}) FROM {t}",
    "SELECT * FROM {t} ORDER BY {f}",
    "SELECT count(*) FROM {t} GROUP BY {c} HAVING count(*) > length({f})",
]
SEPARATORS = ["; ", ";", " -- ", "\n", " /* ", " */ ", " ", ";\n", "/**/"]


@st.composite
def hostile_sql(draw) -> str:
    pieces = []
    for _ in range(draw(st.integers(1, 3))):
        template = draw(st.sampled_from(STATEMENTS + SELECTS))
        pieces.append(
            template.replace("{f}", draw(st.sampled_from(FUNCTIONS)))
            .replace("{t}", draw(st.sampled_from(TARGETS)))
            .replace("{c}", draw(st.sampled_from(COLUMNS)))
        )
        pieces.append(draw(st.sampled_from(SEPARATORS)))
    sql = "".join(pieces[:-1] if draw(st.booleans()) else pieces)
    return draw(st.sampled_from([str, str.upper, str.lower, str.swapcase]))(sql)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def sandbox(demo_db, tmp_path_factory):
    """A copy of the demo database, an engine on it, and an empty folder that must stay empty."""
    root = tmp_path_factory.mktemp("sandbox")
    copy = root / "copy.duckdb"
    shutil.copy(demo_db, copy)
    watched = root / "watched"
    watched.mkdir()
    with DuckDBEngine(copy, timeout=10) as engine:
        schema = {t: c for t, c in engine.schema().items() if t in TABLES}
        yield copy, _sha256(copy), watched, engine, schema


@SOME
@given(template=hostile_sql(), role=st.sampled_from([None, "east_manager", "auditor"]))
def test_random_dangerous_sql_is_rejected_or_harmless(template, role, sandbox):
    copy, checksum, watched, engine, schema = sandbox
    sql = template.replace("{dir}", str(watched)).replace("{DIR}", str(watched))
    try:
        guarded = guard_sql(sql, TABLES, max_rows=100, schema=schema)
    except SQLRejected:
        return
    # It passed: it must be one capped SELECT, and running it must change nothing.
    rendered = guarded.sql(dialect="duckdb")
    assert [s.type for s in duckdb.extract_statements(rendered)] == [duckdb.StatementType.SELECT]
    assert isinstance(guarded.args.get("limit"), exp.Limit)
    try:
        result = SecuredEngine(engine, MODEL, role=role, max_rows=100).execute(sql)
        assert len(result.rows) <= 100
    except CockpitError:
        pass
    assert list(watched.iterdir()) == [], f"{sql!r} wrote a file"
    assert not (copy.parent / "leak.csv").exists()
    assert _sha256(copy) == checksum, f"{sql!r} changed the database"


@SOME
@given(sql=st.text(max_size=400))
def test_the_guard_only_ever_raises_sql_rejected(sql, sandbox):
    """Any text gives a query back or `SQLRejected` — never a parser's own exception."""
    *_, schema = sandbox
    try:
        guarded = guard_sql(sql, TABLES, schema=schema)
    except SQLRejected:
        return
    assert isinstance(guarded, exp.Query)


@SOME
@given(
    table=st.sampled_from(TABLES),
    limit=st.one_of(st.none(), st.integers(0, 10**9)),
    cap=st.integers(1, 500),
    descending=st.booleans(),
)
def test_every_accepted_select_is_capped(table, limit, cap, descending, sandbox):
    *_, engine, schema = sandbox
    column = next(iter(schema[table]))
    sql = f"SELECT * FROM {table} ORDER BY {column} {'DESC' if descending else 'ASC'}"
    if limit is not None:
        sql += f" LIMIT {limit}"
    guarded = guard_sql(sql, TABLES, max_rows=cap, schema=schema)
    expected = cap if limit is None else min(limit, cap)
    assert int(guarded.args["limit"].expression.this) == expected
    assert guarded.args.get("order") is not None
    rows = SecuredEngine(engine, MODEL, max_rows=cap).execute(sql).rows
    assert len(rows) <= expected
