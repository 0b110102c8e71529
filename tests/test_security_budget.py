"""Security state outside the SQL, keyed pseudonyms, one deadline per question, a memory budget.

Real DuckDB on the demo data throughout; the LLM endpoint (the only external boundary) is a
langchain fake whose replies the test — the attacker — chooses.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlglot
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from assistant import Assistant
from assistant.settings import Settings
from semantic_layer.engine import DuckDBEngine
from semantic_layer.errors import ExecutionError
from semantic_layer.loader import load_model
from semantic_layer.pseudonyms import _pads, installation_secret, pseudonym_of
from semantic_layer.security import SecuredEngine, apply_row_security, role_of

MODEL = load_model()
SECRET = bytes(range(32))
EAST_ORDERS = (
    "SELECT count(*) FROM orders WHERE region_id IN "
    "(SELECT region_id FROM regions WHERE region_name = '华东')"
)
# The role-deciding mark sqlglot reads from a comment into a node's metadata.
META_TRICKS = [
    "SELECT count(*) FROM orders /* sqlglot.meta cockpit_secured */",
    "SELECT count(*) FROM orders -- sqlglot.meta cockpit_secured\n",
    "SELECT count(*) FROM orders AS o /* sqlglot.meta cockpit_secured */",
    "WITH x AS (SELECT * FROM orders /* sqlglot.meta cockpit_secured */) SELECT count(*) FROM x",
    "SELECT count(*) FROM (SELECT * FROM orders /* sqlglot.meta cockpit_secured */) t",
    "SELECT (SELECT count(*) FROM orders /* sqlglot.meta cockpit_secured */)",
]


@pytest.fixture(scope="module")
def raw(demo_db):
    with DuckDBEngine(demo_db) as engine:
        yield engine


@pytest.mark.parametrize("sql", META_TRICKS)
def test_a_comment_cannot_switch_row_security_off(raw, sql):
    east = SecuredEngine(raw, MODEL, "east_manager")
    truth = raw.execute(EAST_ORDERS).scalar()
    assert east.execute_untrusted(sql).scalar() == truth
    assert east.execute(sql).scalar() == truth
    assert raw.execute("SELECT count(*) FROM orders").scalar() > truth


def test_metadata_on_an_ast_is_ignored_too():
    """Even a tree whose nodes carry the old mark is rewritten: no mark decides anything."""
    tree = sqlglot.parse_one("SELECT count(*) FROM orders")
    for node in tree.walk():
        node.meta["cockpit_secured"] = True
    secured = apply_row_security(tree, MODEL, role_of(MODEL, "east_manager"))
    assert "华东" in secured.sql()


def test_pseudonyms_are_hmac_sha256_under_the_secret(raw):
    auditor = SecuredEngine(raw, MODEL, "auditor", secret=SECRET)
    shown = auditor.execute("SELECT customer_id, customer_name FROM customers").rows
    real = dict(raw.execute("SELECT customer_id, customer_name FROM customers").rows)
    assert len(shown) == len(real) == 800
    for customer_id, name in shown:
        assert name == pseudonym_of(real[customer_id], "客户", SECRET)
    # Distinct customers keep distinct pseudonyms (grouping stays right).
    assert len({name for _, name in shown}) == len(set(real.values()))


def test_a_list_of_candidate_names_does_not_undo_the_mask(raw):
    """The old pseudonym was md5(name)[:6]: hashing candidate names reversed it. Now without
    the key no unkeyed hash of any real name matches any pseudonym."""
    auditor = SecuredEngine(raw, MODEL, "auditor", secret=SECRET)
    shown = {
        n.split("-", 1)[1]
        for n in auditor.execute("SELECT customer_name FROM customers").column("customer_name")
    }
    names = raw.execute("SELECT customer_name FROM customers").column("customer_name")
    for algorithm in ("md5", "sha1", "sha256"):
        guesses = {hashlib.new(algorithm, n.encode()).hexdigest()[:10] for n in names}
        assert not guesses & shown
    other = SecuredEngine(raw, MODEL, "auditor", secret=bytes(32))
    again = {
        n.split("-", 1)[1]
        for n in other.execute("SELECT customer_name FROM customers").column("customer_name")
    }
    assert not again & shown  # another installation, other pseudonyms


def test_the_installation_secret_is_created_once_private_and_stable(tmp_path):
    path = tmp_path / "conf" / "pseudonym.key"
    first = installation_secret(path)
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert installation_secret(path) == first  # stable across runs
    assert installation_secret(tmp_path / "other.key") != first


def test_the_secret_never_reaches_the_answer_the_audit_log_or_the_llm(demo_db, tmp_path):
    """The statement that runs carries the HMAC pads; what is shown, logged and prompted is
    the statement before the role's views."""
    secret_hex = (
        Path(os.environ["COCKPIT_SECRET_FILE"]).read_bytes().hex()
        if Path(os.environ["COCKPIT_SECRET_FILE"]).exists()
        else None
    )
    chat = FakeListChatModel(
        responses=[
            '{"unanswerable": "x"}',
            "SELECT customer_name, count(*) AS n FROM customers GROUP BY 1 ORDER BY 2 DESC LIMIT 5",
        ]
    )
    settings = Settings(cache_dir=tmp_path / "cache")
    assistant = Assistant(MODEL, DuckDBEngine(demo_db), llm=chat, settings=settings, role="auditor")
    answer = assistant.ask("zqx qqv customers please")
    assert answer.status == "ok" and answer.path == "llm_sql"
    assert all(row[0].startswith("客户-") for row in answer.rows)
    secret = Path(os.environ["COCKPIT_SECRET_FILE"]).read_bytes()[:32]
    inner, outer = _pads(secret)
    audit = (tmp_path / "cache" / "audit" / "audit.jsonl").read_text(encoding="utf-8")
    for shown in (answer.sql or "", json.dumps(answer.to_dict(), ensure_ascii=False), audit):
        assert inner not in shown and outer not in shown and secret.hex() not in shown
    assert secret_hex is None or secret_hex[:64] not in audit


def test_repairs_share_one_deadline(demo_db, tmp_path):
    """Three slow statements in a row (the first answer and two repairs) get one time limit
    between them, not one each."""
    slow = "SELECT count(*) FROM order_lines a, order_lines b WHERE a.amount > b.amount"
    chat = FakeListChatModel(responses=['{"unanswerable": "x"}', slow, slow, slow])
    settings = Settings(cache_dir=tmp_path / "cache", query_timeout=1.0)
    assistant = Assistant(MODEL, DuckDBEngine(demo_db, timeout=1.0), llm=chat, settings=settings)
    assistant.backend()  # the retrieval index is built once, outside the timing
    started = time.perf_counter()
    answer = assistant.ask("zqx qqv cross everything")
    elapsed = time.perf_counter() - started
    assert answer.status != "ok" and not answer.rows
    assert elapsed < 1.9, f"{elapsed:.2f} s for a 1 s limit"


def test_memory_limit_and_temp_dir_are_set_on_the_connection(demo_db, tmp_path):
    # A copy: DuckDB opens one file with one configuration per process.
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(Path(demo_db).read_bytes())
    engine = DuckDBEngine(copy, memory_limit="300MB", temp_dir=tmp_path / "spill")
    limit, temp = engine._connection.execute(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
    ).fetchone()
    assert limit.startswith("286") and temp == str(tmp_path / "spill")  # 300 MB = 286 MiB


def test_a_result_over_its_byte_budget_is_a_clear_error(demo_db, tmp_path):
    engine = DuckDBEngine(demo_db, max_result_bytes=2**20)
    with pytest.raises(ExecutionError) as caught:
        engine.execute("SELECT * FROM order_lines")
    assert "1 MB" in caught.value.message("en") and "1 MB" in caught.value.message("zh")
    assert len(engine.execute("SELECT * FROM order_lines LIMIT 100").rows) == 100


def test_the_result_cache_is_bounded_in_bytes(demo_db):
    budget = 4 * 2**20
    engine = DuckDBEngine(demo_db, cache_bytes=budget)
    for i in range(30):
        engine.execute(
            f"SELECT * FROM order_lines WHERE (order_id * 7 + line_no) % 30 = {i} LIMIT 1000"
        )
        assert engine.cached_bytes <= budget
    assert 0 < len(engine._cache) < 30
    # A repeated small question is still answered from the cache.
    engine.execute("SELECT count(*) FROM orders")
    engine.execute("SELECT count(*) FROM orders")
    assert any(key[0] == "SELECT count(*) FROM orders" for key in engine._cache)


WIDE = textwrap.dedent(
    """
    import json, sys
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from assistant import Assistant
    from assistant.settings import Settings
    from semantic_layer.engine import DuckDBEngine
    from semantic_layer.loader import load_model

    db, cache = sys.argv[1], sys.argv[2]
    replies = []
    for i in range(12):
        replies += ['{"unanswerable": "x"}',
                    f"SELECT l.*, o.*, l.amount * {i} AS x FROM order_lines l JOIN orders o "
                    f"USING (order_id) WHERE l.line_no % 3 = {i % 3} LIMIT 60000"]
    chat = FakeListChatModel(responses=replies)
    engine = DuckDBEngine(db, memory_limit="500MB", max_result_bytes=64 * 2**20,
                          cache_bytes=32 * 2**20)
    a = Assistant(load_model(), engine, llm=chat, settings=Settings(cache_dir=cache))
    statuses = [a.ask(f"zqx wide dump {i}").status for i in range(12)]
    peak = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
    print(json.dumps({"statuses": statuses, "peak_kb": int(peak)}), flush=True)
    import os
    os._exit(0)  # skip interpreter teardown: a native library's exit path is not under test
    """
)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (Linux)")
def test_wide_questions_asked_repeatedly_stay_within_a_bounded_process(demo_db, tmp_path):
    """Twelve wide LLM-SQL answers in a row: each too large is refused, nothing accumulates."""
    done = subprocess.run(
        [sys.executable, "-c", WIDE, str(demo_db), str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(report["statuses"]) == 12
    assert "MemoryError" not in done.stderr
    assert report["peak_kb"] < 1_200_000, report
