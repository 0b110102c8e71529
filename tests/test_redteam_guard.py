"""Red team: hundreds of hostile statements, and a fuzzer, against the SQL guard (issue 14).

The statements live in `tests/redteam/statements.yaml`, grouped by class (comment and meta
tricks, row-cap escapes, files and network, system functions, statements other than SELECT,
catalogs, bombs, recursion, Cartesian products, statement splitting, unicode, quoting, CTE
shadowing, DuckDB syntax, pseudo-columns). For each one the guard must either refuse it with
`SQLRejected` — never any other exception — or return one capped SELECT that

- DuckDB's own parser reads as one SELECT over model tables (or CTEs) only, with no table
  function but UNNEST, no function outside DuckDB's built-ins or known to reveal or reach
  the system, and a LIMIT of at most the cap on the outermost query;
- carries no comment and no sqlglot meta;
- run on a read-only copy of the demo database returns at most the cap — or is stopped by
  the time or memory limit, or fails in the binder — and never meets the database's own wall
  (external access disabled), which would mean the guard let it through.

The database file must be byte-identical afterwards. Whatever breaks one of these counts as
harmful; the suite asserts there are none. The judge below is written independently of the
guard: it does not import the guard's lists.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from semantic_layer.engine import DuckDBEngine
from semantic_layer.errors import ExecutionError
from semantic_layer.guard import SQLRejected, guard_sql
from semantic_layer.loader import load_model
from semantic_layer.security import SecuredEngine

MODEL = load_model()
TABLES = [t.name for t in MODEL.tables]
CAP = 50
TIMEOUT = 1.0  # seconds: a Cartesian product the guard lets through is stopped here
DATA = Path(__file__).parent / "redteam" / "statements.yaml"

# Classes the corpus must cover, each with at least this many statements.
REQUIRED_CLASSES = {
    "comment_meta": 20,
    "limit": 30,
    "file_network": 20,
    "system": 20,
    "statement": 40,
    "catalog": 20,
    "bomb": 20,
    "recursive": 5,
    "cross_join": 3,
    "multi_statement": 15,
    "unicode": 20,
    "quoting": 15,
    "cte_shadow": 10,
    "duckdb_syntax": 30,
    "columns": 15,
}


@dataclass(frozen=True)
class Attack:
    """One hostile statement and the class it belongs to."""

    kind: str
    name: str
    sql: str

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.name}"


def _load() -> list[Attack]:
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return [Attack(kind, item["id"], item["sql"]) for kind, items in data.items() for item in items]


def _generated() -> list[Attack]:
    """Statements too large to keep readable in the data file."""
    return [
        Attack("bomb", "deep-parens", "SELECT " + "(" * 3000 + "1" + ")" * 3000),
        Attack(
            "bomb",
            "deep-subqueries",
            "SELECT * FROM " + "(SELECT * FROM " * 300 + "orders" + ") t" * 300,
        ),
        Attack("bomb", "deep-function-nesting", "SELECT " + "abs(" * 2000 + "1" + ")" * 2000),
        Attack("bomb", "too-long", "SELECT 1 AS a" + ", 1 AS a" * 20_000),
        Attack("bomb", "many-unions", " UNION ALL ".join(["SELECT order_id FROM orders"] * 200)),
    ]


ATTACKS = _load() + _generated()


# --- the judge -----------------------------------------------------------------------------------

# DuckDB functions that read files or the network, reveal the system or the session, run SQL
# given as text, change state or make data out of nothing. Harmful wherever they appear.
HOSTILE_FUNCTION = re.compile(
    r"^(read_|glob$|sniff_csv$|parquet_|sqlite_|postgres_|mysql_|iceberg_|delta_|duckdb_|"
    r"pragma_|getenv$|getvariable$|current_setting$|which_secret$|query$|query_table$|"
    r"json_execute|load_extension$|version$|current_(user|role|database|schema|schemas|"
    r"catalog|query)$|session_user$|user$|nextval$|currval$|setseed$|range$|"
    r"generate_series$|test_)"
)
# DuckDB table reference types an answer never needs.
HOSTILE_REFERENCES = {"SHOW_REF", "PIVOT", "COLUMN_DATA", "DELIM_GET", "RECURSIVE_CTE_NODE"}
# Database errors that mean the statement reached a wall behind the guard.
BEHIND_THE_GUARD = re.compile(r"permission|external access|disabled|extension|file system", re.I)


@dataclass(frozen=True)
class Verdict:
    """What happened to one statement: its outcome, and why it is harmful ("" if it is not)."""

    outcome: str  # rejected | ran | stopped (time or memory limit) | failed (binder) | crashed
    harm: str
    detail: str


def _nodes(value: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


class Reader:
    """DuckDB's parser on a private in-memory database, reading SQL as the engine will."""

    def __init__(self) -> None:
        self.db = duckdb.connect(config={"enable_external_access": False})
        self.builtins = {
            name.lower()
            for (name,) in self.db.execute(
                "SELECT DISTINCT function_name FROM duckdb_functions() "
                "WHERE function_type IN ('scalar', 'aggregate', 'window', 'macro')"
            ).fetchall()
        } | {"unnest"}

    def problems(self, text: str, allowed: set[str], cap: int) -> list[str]:
        """Why `text` is not one capped SELECT over `allowed` tables ([] if it is)."""
        tree = json.loads(
            self.db.execute("SELECT json_serialize_sql(?)", [text]).fetchone()[0]  # type: ignore[index]
        )
        if tree.get("error"):
            return [f"DuckDB does not read it as a SELECT: {tree.get('error_message')}"]
        if len(tree["statements"]) != 1:
            return [f"DuckDB reads {len(tree['statements'])} statements"]
        root = tree["statements"][0]["node"]
        nodes = _nodes(root)
        ctes = {
            str(entry["key"]).lower()
            for node in nodes
            if isinstance(node.get("cte_map"), dict)
            for entry in node["cte_map"]["map"]
        }
        problems = []
        for node in nodes:
            kind = node.get("type")
            if kind in HOSTILE_REFERENCES:
                problems.append(f"reads {kind}")
            if kind == "BASE_TABLE":
                name = str(node["table_name"]).lower()
                if node.get("schema_name") or node.get("catalog_name"):
                    problems.append(f"reads {node['schema_name']}.{name}")
                elif name not in allowed | ctes:
                    problems.append(f"reads table {name}")
            if kind == "TABLE_FUNCTION":
                name = str(node["function"].get("function_name", "")).lower()
                if name != "unnest":
                    problems.append(f"calls table function {name}")
            if node.get("class") == "FUNCTION":
                name = str(node["function_name"]).lower()
                if HOSTILE_FUNCTION.match(name) or name not in self.builtins:
                    problems.append(f"calls {name}")
        if not _capped(root, cap):
            problems.append("no LIMIT within the cap on the outermost query")
        return problems


def _capped(root: dict[str, Any], cap: int) -> bool:
    for modifier in root.get("modifiers") or []:
        if modifier.get("type") != "LIMIT_MODIFIER" or modifier.get("limit_type") != "ROW_COUNT":
            continue
        limit = modifier.get("limit") or {}
        text = str((limit.get("literal") or {}).get("text", ""))
        if limit.get("class") == "CONSTANT" and text.isdigit() and int(text) <= cap:
            return True
    return False


def _leftovers(query: exp.Expression) -> list[str]:
    """Comments or sqlglot meta still on the guarded AST: text that survived as state."""
    return [
        f"{node.key} keeps {node.comments or node._meta}"
        for node in query.walk()
        if node.comments or node._meta
    ]


class Court:
    """Judges each statement once; every test reads the same verdicts."""

    def __init__(self, engine: DuckDBEngine, schema: dict[str, dict[str, str]]) -> None:
        self.engine = engine
        self.schema = schema
        self.reader = Reader()
        self.allowed = {t.lower() for t in TABLES}
        self.verdicts: dict[str, Verdict] = {}

    def judge(self, attack: Attack) -> Verdict:
        if attack.id not in self.verdicts:
            self.verdicts[attack.id] = self._judge(attack.sql)
        return self.verdicts[attack.id]

    def _judge(self, sql: str) -> Verdict:
        try:
            guarded = guard_sql(sql, TABLES, max_rows=CAP, schema=self.schema)
        except SQLRejected as err:
            zh, en = err.message("zh"), err.message("en")
            harm = "" if "安全检查" in zh and "safety check" in en else "refusal without a message"
            return Verdict("rejected", harm, en)
        except Exception as err:  # any other exception is a traceback for the user
            return Verdict("crashed", f"{type(err).__name__} instead of SQLRejected: {err}", "")
        if not isinstance(guarded, exp.Query):
            return Verdict("accepted", f"not a query: {type(guarded).__name__}", "")
        text = guarded.sql(dialect="duckdb")
        problems = _leftovers(guarded) + self.reader.problems(text, self.allowed, CAP)
        if problems:  # not run: what it would do is already known to be wrong
            return Verdict("accepted", "; ".join(problems), text)
        try:
            result = self.engine.execute(text)
        except ExecutionError as err:
            message = err.message("en")
            if err.code in ("query_timeout", "out_of_memory", "result_too_large"):
                return Verdict("stopped", "", message)
            if BEHIND_THE_GUARD.search(message):
                return Verdict(
                    "failed", f"only the database's own wall stopped it: {message}", text
                )
            return Verdict("failed", "", message)
        except Exception as err:
            return Verdict("crashed", f"{type(err).__name__} from the engine: {err}", text)
        if len(result.rows) > CAP:
            return Verdict("ran", f"{len(result.rows)} rows, over the cap of {CAP}", text)
        return Verdict("ran", "", f"{len(result.rows)} rows")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def sandbox(demo_db, tmp_path_factory):
    """A copy of the demo database, its checksum before any attack, and a read-only engine."""
    copy = tmp_path_factory.mktemp("redteam") / "demo.duckdb"
    shutil.copy(demo_db, copy)
    checksum = _sha256(copy)
    with DuckDBEngine(copy, timeout=TIMEOUT, memory_limit="1GB") as engine:
        yield copy, checksum, engine


@pytest.fixture(scope="module")
def court(sandbox) -> Court:
    _, _, engine = sandbox
    schema = {t: c for t, c in engine.schema().items() if t in TABLES}
    return Court(engine, schema)


# --- the corpus ----------------------------------------------------------------------------------


README = Path(__file__).resolve().parents[1] / "README.md"


def readme_figure(pattern: str) -> tuple[int, ...]:
    """The numbers the README's Security section states where `pattern` matches (its groups),
    so the README and this suite cannot drift apart: "552 hostile statements in 15 classes"."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Security") :]
    found = re.search(pattern, section[: section.index("\n## ", 1)], re.S)
    assert found, f"the README's Security section no longer says {pattern!r}"
    return tuple(int(g.replace(",", "")) for g in found.groups())


def test_the_corpus_is_large_and_covers_every_class():
    ids = [a.id for a in ATTACKS]
    assert len(ATTACKS) >= 300
    kinds = Counter(a.kind for a in ATTACKS)
    statements, classes = readme_figure(r"(\d[\d,]*) hostile statements in (\d+) classes")
    assert (len(ATTACKS), len(kinds)) == (statements, classes)
    assert len(set(ids)) == len(ids), [i for i, n in Counter(ids).items() if n > 1]
    sizes = Counter(a.kind for a in ATTACKS)
    short = {k: (sizes[k], n) for k, n in REQUIRED_CLASSES.items() if sizes[k] < n}
    assert not short, f"classes with too few statements (have, want): {short}"


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.id for a in ATTACKS])
def test_hostile_statement_is_refused_or_harmless(attack, court):
    verdict = court.judge(attack)
    assert not verdict.harm, f"{attack.id}: {verdict.harm}\n{attack.sql[:500]!r}"


def test_no_harmful_statement_is_accepted(court, capsys):
    verdicts = {a.id: court.judge(a) for a in ATTACKS}
    outcomes = Counter(v.outcome for v in verdicts.values())
    harmful = {i: v.harm for i, v in verdicts.items() if v.harm}
    by_class = Counter(a.kind for a in ATTACKS)
    rejected_by_class = Counter(a.kind for a in ATTACKS if verdicts[a.id].outcome == "rejected")
    with capsys.disabled():
        print(
            f"\nred team: {len(verdicts)} statements, {outcomes['rejected']} rejected, "
            f"{len(verdicts) - outcomes['rejected'] - len(harmful)} accepted and harmless "
            f"({outcomes['ran']} ran within the cap, {outcomes['stopped']} stopped by a limit, "
            f"{outcomes['failed']} failed in the database), {len(harmful)} harmful"
        )
        for kind in by_class:
            print(
                f"  {kind:16} {by_class[kind]:4} statements, {rejected_by_class[kind]:4} rejected"
            )
    assert harmful == {}
    refused, accepted = readme_figure(r"(\d[\d,]*) refused, (\d[\d,]*) accepted and harmless")
    assert (outcomes["rejected"], len(verdicts) - outcomes["rejected"]) == (refused, accepted)
    # Not vacuous: the judge ran real queries, and refused ones are the majority.
    assert outcomes["ran"] >= 50
    assert outcomes["rejected"] > len(verdicts) / 2


def test_the_database_file_is_unchanged(court, sandbox):
    """Every statement has been judged (and run if accepted): the file is byte-identical."""
    copy, checksum, engine = sandbox
    for attack in ATTACKS:
        court.judge(attack)
    assert engine.execute("SELECT count(*) FROM orders").scalar() > 0
    assert _sha256(copy) == checksum


# --- comment and meta tricks do not switch row security off --------------------------------------

META_PAIRS = [
    (
        "SELECT DISTINCT region_id FROM orders /* sqlglot.meta cockpit_secured */ ORDER BY 1",
        "SELECT DISTINCT region_id FROM orders ORDER BY 1",
    ),
    (
        "SELECT count(*) AS n FROM orders o -- sqlglot.meta cockpit_secured\n",
        "SELECT count(*) AS n FROM orders o",
    ),
    (
        "SELECT c.customer_name FROM customers c /* sqlglot.meta cockpit_secured */ "
        "ORDER BY c.customer_id",
        "SELECT c.customer_name FROM customers c ORDER BY c.customer_id",
    ),
    (
        "SELECT /*+ sqlglot.meta cockpit_secured */ sum(amount) AS s FROM order_lines",
        "SELECT sum(amount) AS s FROM order_lines",
    ),
]


@pytest.mark.parametrize("role", ["east_manager", "auditor"])
@pytest.mark.parametrize(("tricked", "clean"), META_PAIRS)
def test_a_meta_comment_changes_nothing_for_a_role(tricked, clean, role, sandbox):
    """The secured answer to the tricked statement is the secured answer without the trick."""
    _, _, engine = sandbox
    secured = SecuredEngine(engine, MODEL, role=role, max_rows=CAP)
    assert secured.execute(tricked).rows == secured.execute(clean).rows


# --- fuzz ----------------------------------------------------------------------------------------

SOURCES = [
    *TABLES,
    "orders o",
    'orders AS "sqlglot.meta cockpit_secured"',
    "information_schema.tables",
    "main.orders",
    "memory.main.x",
    "duckdb_settings()",
    "read_csv('/etc/passwd')",
    "'/etc/passwd'",
    "range(1000000000000)",
    "sqlite_master",
    "\u043erders",
    "secrets",
    "(SELECT * FROM orders)",
    "(PIVOT orders ON status USING count(*))",
    "unnest([1, 2])",
    "(VALUES (1))",
]
PROJECTIONS = [
    "*",
    "count(*)",
    "order_id",
    "rowid",
    "o",
    "getenv('HOME')",
    "current_setting('threads')",
    "1",
    "'a;b'",
    "$$;$$",
    "repeat('x', 1000000000)",
    "COLUMNS(*)",
    "#1",
    "$1",
    "version()",
    "md5(status)",
    "list_transform([1], x -> x + 1)",
    "{'a': 1}.a",
    "(SELECT 1)",
    "unnest([1, 2])",
    "generate_series(1, 10)",
    "printf('%2000000000d', 1)",
    "replace(repeat('a', 1000), 'a', repeat('a', 1000))",
    "e'\\''",
]
CLAUSES = [
    "",
    "WHERE 1 = 1",
    "WHERE order_id IN (SELECT order_id FROM order_lines)",
    "GROUP BY ALL",
    "ORDER BY 1",
    "ORDER BY ALL",
    "QUALIFY row_number() OVER () < 5",
    "UNION ALL SELECT 1",
    "UNION SELECT * FROM duckdb_settings()",
    "CROSS JOIN orders b",
]
LIMITS = [
    "",
    "LIMIT 5",
    "LIMIT 100 PERCENT",
    "LIMIT 100%",
    "LIMIT 1.5",
    "LIMIT 1e9",
    "LIMIT -1",
    "LIMIT ALL",
    "LIMIT NULL",
    "LIMIT (SELECT 1)",
    "LIMIT 10 OFFSET 5",
    "OFFSET 1e30",
    "FETCH FIRST 5 ROWS ONLY",
    "FETCH FIRST 5 ROWS WITH TIES",
    "USING SAMPLE 10%",
    "LIMIT '5'",
    "LIMIT 5 WITH TIES",
]
TRICKS = [
    "",
    " /* sqlglot.meta cockpit_secured */ ",
    " -- sqlglot.meta cockpit_secured\n",
    " /*+ hint */ ",
    "; DROP TABLE orders",
    ";",
    "\u200b",
    "\x00",
    "\u202e",
    " --",
    " /*",
    " */",
    "'",
    '"',
    "$$",
    "\r",
    "\u2028",
    "\ud800",
]


@st.composite
def grammar_statements(draw: st.DrawFn) -> str:
    """A SELECT assembled from legitimate and hostile fragments, with a trick spliced in."""
    # Half the fragments are ordinary, so that many statements pass and their caps are checked.
    projections = draw(st.lists(_half(PROJECTIONS[:3], PROJECTIONS), min_size=1, max_size=3))
    parts = [
        draw(st.sampled_from(["SELECT", "SELECT DISTINCT", "FROM", "WITH x AS (SELECT 1) SELECT"])),
        ", ".join(projections),
        "FROM",
        draw(_half(TABLES, SOURCES)),
        draw(_half([""], CLAUSES)),
        draw(_half(LIMITS[:2], LIMITS)),
    ]
    if parts[0] == "FROM":  # DuckDB's FROM-first form
        parts = ["FROM", parts[3], "SELECT", parts[1], parts[4], parts[5]]
    at = draw(st.integers(0, len(parts)))
    parts.insert(at, draw(_half([""], TRICKS)))
    return " ".join(parts)


def _half(ordinary: list[str], any_: list[str]) -> st.SearchStrategy[str]:
    """An ordinary fragment half the time, any fragment otherwise."""
    return st.one_of(st.sampled_from(ordinary), st.sampled_from(any_))


@st.composite
def mutated_attacks(draw: st.DrawFn) -> str:
    """A corpus statement with a few characters inserted or deleted somewhere."""
    sql = draw(st.sampled_from([a.sql for a in ATTACKS if len(a.sql) < 2000]))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(sql)))
        if draw(st.booleans()):
            sql = sql[:at] + draw(st.text(min_size=1, max_size=4)) + sql[at:]
        else:
            sql = sql[:at] + sql[at + draw(st.integers(1, 4)) :]
    return sql


FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _check_fuzzed(sql: str, court: Court) -> None:
    """SQLRejected, or a capped, inert, read-only query AST as DuckDB reads it — nothing else."""
    try:
        guarded = guard_sql(sql, TABLES, max_rows=CAP, schema=court.schema)
    except SQLRejected:
        return
    assert isinstance(guarded, exp.Query)
    limit = guarded.args.get("limit")
    assert isinstance(limit, exp.Limit) and int(limit.expression.this) <= CAP
    assert _leftovers(guarded) == []
    assert court.reader.problems(guarded.sql(dialect="duckdb"), court.allowed, CAP) == []


@FUZZ
@given(sql=grammar_statements())
def test_fuzz_grammar_fragments(sql, court):
    _check_fuzzed(sql, court)


@FUZZ
@given(sql=mutated_attacks())
def test_fuzz_mutated_corpus(sql, court):
    _check_fuzzed(sql, court)


@FUZZ
@given(sql=st.text(max_size=200))
def test_fuzz_random_text(sql, court):
    _check_fuzzed(sql, court)


def test_the_readme_states_the_fuzz_size():
    fuzz = [name for name in globals() if name.startswith("test_fuzz_")]
    (per_run,) = readme_figure(r"hypothesis\s+fuzz of the guard \((\d[\d,]*) statements a run")
    assert len(fuzz) * FUZZ.max_examples == per_run
