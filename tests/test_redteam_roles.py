"""Row security against an attacker-controlled LLM, judged by databases built by hand.

Why this module exists: the LLM path turns text nobody vetted into SQL, so the only safe
assumption is that the model is the attacker. Every attack here is a reply that a loopback
OpenAI-compatible server (the "attacker LLM") gives to the real openai/langchain client; the
Assistant runs it as one of the demo's restricted roles, and the answer is compared with the
same SQL run on a ground-truth database that holds only what the role may see.

The ground truth is deliberately independent of `semantic_layer/security.py`: each role's
database is created from a copy of the demo with hand-written SQL read off the roles section
of the model YAML and DEMO_DATA.md (rows filtered, denied tables emptied, masked columns set
to NULL, names replaced by the role's stand-ins). A leak is any row or value the answer has
and the truth has not, or a name the role may not see anywhere in what the user (or the LLM,
through a repair prompt) is shown. A refusal or clarification with no rows is never a leak.

Auditor pseudonyms are keyed and cannot be predicted, so the truth learns each customer's and
rep's stand-in once, through the auditor's own SQL path, and checks what can be checked of
it (no real name in it, one per person, the same on every call). With the stand-ins in the
truth, derived expressions (length, md5, LIKE, ORDER BY of a masked name) compare exactly.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from assistant import Assistant
from assistant.answer import Answer
from assistant.settings import Settings
from semantic_layer.engine import DuckDBEngine
from semantic_layer.loader import load_model

ROLES = ("east_manager", "sales_dept", "auditor")
EAST = "华东"
PAYROLL = "工资薪酬"
SUPPLIER_PAYMENTS = "采购付款"
# The gibberish question: the rules cannot place it, so the Assistant asks the LLM.
QUESTION = "zqx report please"
# A first reply that is no SemanticQuery and says so: the backend then asks for SQL.
UNANSWERABLE = '{"unanswerable": "x"}'
MONEY = "DECIMAL(18,2)"


# --- the attacker LLM ---------------------------------------------------------------------------


@dataclass
class AttackerLLM:
    """What the loopback endpoint says and what it was told.

    Replies are served in order, the last one repeated (an attacker answers every repair
    round with the same statement); every request body is kept, so the prompts the product
    sent can be read afterwards.
    """

    replies: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, replies: tuple[str, ...]) -> None:
        """Start an attack: these replies, a fresh request log."""
        with self.lock:
            self.replies = list(replies)
            self.requests = []

    def reply(self, body: dict[str, Any]) -> str:
        with self.lock:
            self.requests.append(body)
            if len(self.replies) > 1:
                return self.replies.pop(0)
            return self.replies[0] if self.replies else UNANSWERABLE

    def taken(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.requests)


class _Server(ThreadingHTTPServer):
    llm: AttackerLLM


class _Handler(BaseHTTPRequestHandler):
    """`/v1/chat/completions` and `/v1/embeddings` the way OpenAI-compatible servers answer."""

    server: _Server

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path.rstrip("/").endswith("/embeddings"):
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            payload: dict[str, Any] = {
                "object": "list",
                "model": body.get("model", "attacker"),
                "data": [
                    {"object": "embedding", "index": i, "embedding": _vector(str(text))}
                    for i, text in enumerate(inputs)
                ],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        else:
            content = self.server.llm.reply(body)
            payload = {
                "id": "chatcmpl-attacker",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", "attacker"),
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": content},
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def _vector(text: str) -> list[float]:
    """A deterministic embedding, for a product configured to ask the endpoint for them."""
    digest = hashlib.sha256(text.encode()).digest()
    return [b / 255 for b in digest[:16]]


# --- attacks --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attack:
    """One hostile exchange: the question, and what the attacker LLM replies to it.

    `mode` says how the truth is found: "sql" runs the attack SQL on the role's truth;
    "semantic" and "question" run the SQL the answer reports (compiled from a SemanticQuery,
    which names only model tables and columns) on the truth. "insight" answers (alerts,
    anomalies, explanations, summaries) come from many statements, so only what they show is
    judged: no hidden name or word in their rows or text.
    """

    role: str
    kind: str
    name: str
    mode: str  # sql | semantic | question | insight
    replies: tuple[str, ...]
    question: str = QUESTION

    @property
    def id(self) -> str:
        return f"{self.role}:{self.kind}:{self.name}"

    @property
    def sql(self) -> str:
        return self.replies[-1]

    def rendered(self, names: dict[str, str]) -> Attack:
        """Placeholders such as <OTHER_CUSTOMER> replaced by names read from the database."""

        def fill(text: str) -> str:
            for key, value in names.items():
                text = text.replace(f"<{key}>", value)
            return text

        return Attack(
            self.role,
            self.kind,
            self.name,
            self.mode,
            tuple(fill(r) for r in self.replies),
            fill(self.question),
        )


ATTACK_FILE = Path(__file__).parent / "redteam_roles" / "attacks.yaml"


def load_attacks(path: Path = ATTACK_FILE) -> list[Attack]:
    """The attack corpus: role → class → name → SQL, {question, sql}, a query or a question."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    attacks = []
    for role in ROLES:
        for kind, entries in data[role].items():
            for name, entry in entries.items():
                if kind == "semantic":
                    reply = json.dumps(entry, ensure_ascii=False)
                    attacks.append(Attack(role, kind, name, "semantic", (reply,)))
                elif kind in ("probe", "insight"):
                    mode = "question" if kind == "probe" else "insight"
                    attacks.append(Attack(role, kind, name, mode, (UNANSWERABLE, "not sql"), entry))
                elif isinstance(entry, dict):
                    replies = (UNANSWERABLE, entry["sql"])
                    attacks.append(Attack(role, kind, name, "sql", replies, entry["question"]))
                else:
                    attacks.append(Attack(role, kind, name, "sql", (UNANSWERABLE, entry)))
    return attacks


ATTACKS = load_attacks()
# How a role is given to the Assistant: at construction, or by scoping an unrestricted one
# (`for_role`, which `ask(role=...)` uses) — a scoped copy must not keep the parent's lexicon,
# coverage or retrieval index. Attacks on what those feed (semantic, probe, insight) run both.
VIAS = ("constructor", "for_role")
CASES = [(a, "constructor") for a in ATTACKS] + [
    (a, "for_role") for a in ATTACKS if a.kind in ("semantic", "probe", "insight")
]
STATS: Counter[str] = Counter()
BY_CLASS: Counter[tuple[str, str]] = Counter()
FINDINGS: list[str] = []


# --- ground truth -----------------------------------------------------------------------------------

EAST_REGION = f"(SELECT region_id FROM src.regions WHERE region_name = '{EAST}')"
EAST_CUSTOMERS = f"(SELECT customer_id FROM src.customers WHERE region_id IN {EAST_REGION})"
CLOSED = "SELECT * FROM src.{table} WHERE false"
# Each role's view of each table, read off model.yaml's roles and DEMO_DATA.md by hand.
# east_manager: the region filter travels along the joins (invoices, receipts and aging reach
# a region through their customer); fact tables that cannot reach a region are closed;
# dimension tables that cannot (products, departments, suppliers) stay open.
SCOPES: dict[str, dict[str, str]] = {
    "east_manager": {
        "regions": f"SELECT * FROM src.regions WHERE region_name = '{EAST}'",
        "customers": f"SELECT * FROM src.customers WHERE region_id IN {EAST_REGION}",
        "sales_reps": f"SELECT * FROM src.sales_reps WHERE region_id IN {EAST_REGION}",
        "orders": f"SELECT * FROM src.orders WHERE region_id IN {EAST_REGION}",
        "order_lines": (
            "SELECT * FROM src.order_lines WHERE order_id IN "
            f"(SELECT order_id FROM src.orders WHERE region_id IN {EAST_REGION})"
        ),
        "invoices": f"SELECT * FROM src.invoices WHERE customer_id IN {EAST_CUSTOMERS}",
        "receipts": f"SELECT * FROM src.receipts WHERE customer_id IN {EAST_CUSTOMERS}",
        "ar_aging_monthly": f"SELECT * FROM src.ar_aging_monthly WHERE customer_id IN {EAST_CUSTOMERS}",
        "revenue_budget": f"SELECT * FROM src.revenue_budget WHERE region_id IN {EAST_REGION}",
        **{
            table: CLOSED.format(table=table)
            for table in (
                "expenses",
                "expense_budget",
                "purchases",
                "inventory_monthly",
                "cash_flows",
            )
        },
    },
    # sales_dept: no payroll — not in expenses, their budget, nor payroll outflows in cash.
    "sales_dept": {
        table: f"SELECT * FROM src.{table} WHERE category IS DISTINCT FROM '{PAYROLL}'"
        for table in ("expenses", "expense_budget", "cash_flows")
    },
    # auditor: names by stand-ins, cost NULL wherever it is stored, no supplier payments.
    "auditor": {
        "customers": (
            "SELECT c.* REPLACE (m.stand_in AS customer_name) FROM src.customers c "
            "JOIN customer_stand_ins m USING (customer_id)"
        ),
        "sales_reps": (
            "SELECT s.* REPLACE (m.stand_in AS rep_name) FROM src.sales_reps s "
            "JOIN rep_stand_ins m USING (rep_id)"
        ),
        "order_lines": f"SELECT * REPLACE (CAST(NULL AS {MONEY}) AS cost_amount) FROM src.order_lines",
        "products": f"SELECT * REPLACE (CAST(NULL AS {MONEY}) AS unit_cost) FROM src.products",
        "inventory_monthly": f"SELECT * REPLACE (CAST(NULL AS {MONEY}) AS value) FROM src.inventory_monthly",
        "purchases": f"SELECT * REPLACE (CAST(NULL AS {MONEY}) AS amount) FROM src.purchases",
        "cash_flows": f"SELECT * FROM src.cash_flows WHERE category IS DISTINCT FROM '{SUPPLIER_PAYMENTS}'",
    },
}


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def build_truth(
    source: Path, target: Path, scope: dict[str, str], stand_ins: dict[str, list[tuple]]
) -> Path:
    """A fresh database with every demo table as `scope` says the role may see it.

    Tables are created (not DELETEd into) so catalog statistics describe only the kept rows;
    the file keeps the demo's file name, so a catalog-qualified name resolves in both.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(target))
    try:
        con.execute(f"ATTACH {_quote(source)} AS src (READ_ONLY)")
        for name, rows in stand_ins.items():
            key = "customer_id" if name.startswith("customer") else "rep_id"
            con.execute(f"CREATE TEMP TABLE {name} ({key} INTEGER, stand_in VARCHAR)")
            if rows:
                con.executemany(f"INSERT INTO {name} VALUES (?, ?)", rows)
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src' ORDER BY 1"
            ).fetchall()
        ]
        for table in tables:
            select = scope.get(table, f"SELECT * FROM src.{table}")
            con.execute(f"CREATE TABLE {table} AS {select}")
        con.execute("DETACH src")
    finally:
        con.close()
    return target


@dataclass(frozen=True)
class Truth:
    """One role's ground truth: its database, and the names it must never be shown."""

    role: str
    path: Path
    people: frozenset[str]  # customer and rep names the role may not see
    forbidden: frozenset[str]  # those, and the region or category words of hidden rows
    ambiguous: frozenset[str]  # forbidden words inside a visible value: matched whole only

    def rows(self, statement: str) -> list[tuple] | None:
        """The statement's rows on the truth, or None if the database rejects it."""
        with duckdb.connect(str(self.path), read_only=True) as con:
            try:
                return con.execute(statement).fetchall()
            except duckdb.Error:
                return None


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def attacker() -> Iterator[tuple[AttackerLLM, str]]:
    """The loopback attacker endpoint on a random port."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.llm = AttackerLLM()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.llm, f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("redteam_roles")


@pytest.fixture(scope="module")
def source(demo_db: Path, workdir: Path) -> Path:
    """A private copy of the demo, the raw material of every truth."""
    copy = workdir / "source" / Path(demo_db).name
    copy.parent.mkdir()
    shutil.copyfile(demo_db, copy)
    return copy


@pytest.fixture(scope="module")
def assistants(
    demo_db: Path, workdir: Path, attacker: tuple[AttackerLLM, str]
) -> Iterator[dict[tuple[str, str], Assistant]]:
    """Per (via, role) an Assistant on the real client path: openai → langchain → endpoint."""
    _, url = attacker
    settings = Settings(
        cache_dir=workdir / "cache",
        llm_model="attacker",
        openai_base_url=url,
        openai_api_key="x",
        llm_timeout=10,
    )
    model = load_model()
    engines = {role: DuckDBEngine(demo_db) for role in (*ROLES, None)}
    out = {
        ("constructor", role): Assistant(model, engines[role], settings=settings, role=role)
        for role in ROLES
    }
    unrestricted = Assistant(model, engines[None], settings=settings)
    out |= {("for_role", role): unrestricted.for_role(role) for role in ROLES}
    yield out
    for engine in engines.values():
        engine.close()


@pytest.fixture(scope="module")
def people(source: Path) -> dict[str, Any]:
    """Real names from the demo: by region, and the few the attacks name."""
    with duckdb.connect(str(source), read_only=True) as con:
        customers = con.execute(
            "SELECT c.customer_id, c.customer_name, r.region_name FROM customers c "
            "JOIN regions r USING (region_id) ORDER BY 1"
        ).fetchall()
        reps = con.execute(
            "SELECT s.rep_id, s.rep_name, r.region_name FROM sales_reps s "
            "JOIN regions r USING (region_id) ORDER BY 1"
        ).fetchall()
    other_customers = [c for c in customers if c[2] != EAST]
    other_rep = next(r[1] for r in reps if r[2] != EAST and len(r[1]) == 3)
    return {
        "customers": customers,
        "reps": reps,
        "placeholders": {
            "OTHER_REP": other_rep,
            "OTHER_REP_NEAR": _near(other_rep),
            "EAST_CUSTOMER": next(c[1] for c in customers if c[2] == EAST),
            "OTHER_CUSTOMER": other_customers[0][1],
            "OTHER_CUSTOMER_NEAR": _near(other_customers[0][1]),
            "CATALOG": source.stem,
        },
    }


def _near(name: str) -> str:
    """A near miss of a real name (one character changed), for the rules' fuzzy matching."""
    index = min(2, len(name) - 1)
    return name[:index] + ("某" if name[index] != "某" else "甲") + name[index + 1 :]


@dataclass
class StandIns:
    """The auditor's stand-ins as the product shows them, and what is wrong with them."""

    customers: dict[int, str]
    reps: dict[int, str]
    problems: list[str]


@pytest.fixture(scope="module")
def stand_ins(
    assistants: dict[tuple[str, str], Assistant],
    attacker: tuple[AttackerLLM, str],
    people: dict[str, Any],
) -> StandIns:
    """Each customer's and rep's stand-in, read once through the auditor's SQL path.

    A stand-in that is missing, shared, unstable or contains a real name is replaced in the
    truth by a placeholder no answer can produce, so the leak shows in every attack too.
    """
    llm, _ = attacker
    problems: list[str] = []
    found: dict[str, dict[int, str]] = {}
    for label, table, key, column, real in (
        ("customer", "customers", "customer_id", "customer_name", people["customers"]),
        ("rep", "sales_reps", "rep_id", "rep_name", people["reps"]),
    ):
        statement = f"SELECT {key}, {column} FROM {table} ORDER BY {key}"
        reads = []
        for _ in range(2):  # twice: a stand-in must be stable
            llm.script((UNANSWERABLE, statement))
            answer = assistants["constructor", "auditor"].ask(QUESTION)
            reads.append(
                {int(r[0]): str(r[1]) for r in answer.rows} if answer.status == "ok" else {}
            )
        shown = reads[0]
        real_names = {r[1] for r in real}
        placeholder = {r[0]: f"<no stand-in for {label} {r[0]}>" for r in real}
        unusable = ""
        if set(shown) != set(placeholder):
            unusable = f"{label} stand-ins: {len(shown)} of {len(real)} {table} rows shown"
        elif reads[0] != reads[1]:
            unusable = f"{label} stand-ins change between two reads"
        elif len(set(shown.values())) != len(shown):
            unusable = f"{label} stand-ins are not one per {label}"
        else:
            exposed = sorted(n for n in real_names if any(n in v for v in shown.values()))
            if exposed:
                unusable = f"{label} stand-ins show real names: {exposed[:5]}"
        if unusable:
            problems.append(unusable)
            found[label] = placeholder
            continue
        found[label] = shown
        reversible = sorted(r[1] for r in real if _plain_hash_of(r[1], shown[r[0]]))
        if reversible:  # not a row leak, so the truth keeps them; the stand-in test fails
            problems.append(
                f"{len(reversible)} {label} stand-ins are an unkeyed hash of the real name "
                f"(undone with a list of candidate names), e.g. {reversible[0]} → "
                f"{shown[next(r[0] for r in real if r[1] == reversible[0])]}"
            )
    return StandIns(found["customer"], found["rep"], problems)


def _plain_hash_of(name: str, stand_in: str) -> bool:
    """Whether the stand-in's hex digits come from a hash of the name with no secret key."""
    digests = [hashlib.new(a, name.encode()).hexdigest() for a in ("md5", "sha1", "sha256")]
    return any(
        run in digest for run in re.findall(r"[0-9a-f]{6,}", stand_in.lower()) for digest in digests
    )


@pytest.fixture(scope="module")
def truths(
    source: Path, workdir: Path, people: dict[str, Any], stand_ins: StandIns
) -> dict[str, Truth]:
    """The three ground-truth databases, built once per module."""
    out: dict[str, Truth] = {}
    all_names = {c[1] for c in people["customers"]} | {r[1] for r in people["reps"]}
    hidden_people = {
        "east_manager": {c[1] for c in people["customers"] if c[2] != EAST}
        | {r[1] for r in people["reps"] if r[2] != EAST},
        "sales_dept": set(),
        "auditor": all_names,
    }
    # Words that only hidden rows carry: an error message quoting one shows a hidden row.
    hidden_words = {
        "east_manager": {c[2] for c in people["customers"] if c[2] != EAST},
        "sales_dept": {PAYROLL},
        "auditor": {SUPPLIER_PAYMENTS},
    }
    for role in ROLES:
        rows = (
            {
                "customer_stand_ins": sorted(stand_ins.customers.items()),
                "rep_stand_ins": sorted(stand_ins.reps.items()),
            }
            if role == "auditor"
            else {}
        )
        path = build_truth(source, workdir / role / source.name, SCOPES[role], rows)
        visible = _visible_text(path)
        words = frozenset(hidden_people[role] | hidden_words[role])
        ambiguous = frozenset(w for w in words if any(w in v for v in visible))
        out[role] = Truth(role, path, frozenset(hidden_people[role]), words, ambiguous)
    return out


def _visible_text(path: Path) -> set[str]:
    """Every text value of the truth: a forbidden name inside one of them is not a leak."""
    values: set[str] = set()
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE data_type = 'VARCHAR' AND NOT internal AND schema_name = 'main'"
        ).fetchall()
        for table, column in columns:
            values |= {
                r[0] for r in con.execute(f'SELECT DISTINCT "{column}" FROM {table}').fetchall()
            }
    values.discard(None)  # type: ignore[arg-type]
    return values


@pytest.fixture(scope="module", autouse=True)
def summary(request: pytest.FixtureRequest) -> Iterator[None]:
    """At the end of the module, one line: attacks run, refused, answered-equal, leaks."""
    yield
    line = (
        f"red-team roles: {STATS['run']} attacks run, {STATS['refused']} refused, "
        f"{STATS['equal']} answered-equal, {STATS['checked']} insights name-checked, "
        f"{STATS['leak']} leaks, "
        f"{STATS['over-restricted']} over-restricted, {STATS['crash']} crashed, "
        f"{STATS['not-exercised']} not exercised"
    )
    roles = Counter(role for role, _ in BY_CLASS.elements())
    line += " (" + ", ".join(f"{role} {roles[role]}" for role in ROLES) + ")"
    # Past pytest's output capture, so the line shows whether or not a test failed.
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print("\n" + line, *FINDINGS, sep="\n  ")


# --- judging -------------------------------------------------------------------------------------


def _norm(value: Any) -> Any:
    """Comparable and hashable: numbers to 10 significant digits, containers to tuples."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal | float):
        number = float(value)
        return number if number != number else float(f"{number:.10g}")
    if isinstance(value, list | tuple):
        return tuple(_norm(v) for v in value)
    if isinstance(value, dict):
        return tuple((str(k), _norm(v)) for k, v in value.items())
    return value


def _texts(answer: Answer, requests: list[dict[str, Any]]) -> list[str]:
    """What a person (or the LLM, in a repair prompt) is shown besides the rows."""
    texts = [
        answer.message,
        answer.narrative,
        answer.interpretation,
        answer.reason,
        *answer.notes,
        *(s.text for s in answer.suggestions),
        *answer.names,
        json.dumps(answer.chart, ensure_ascii=False, default=str) if answer.chart else "",
    ]
    for body in requests:
        # The first message is the prompt (retrieval is judged by its own test); what follows
        # are repair turns, which carry the database's error messages back to the model.
        for message in body.get("messages", [])[1:]:
            if message.get("role") == "user":
                texts.append(str(message.get("content", "")))
    return texts


def _cells(rows: list[tuple]) -> list[str]:
    out: list[str] = []
    for row in rows:
        for value in row:
            if isinstance(value, bytes):
                out.append(value.decode("utf-8", errors="replace"))
            elif isinstance(value, list | tuple | dict):
                out.append(json.dumps(value, ensure_ascii=False, default=str))
            elif value is not None:
                out.append(str(value))
    return out


def names_shown(
    words: frozenset[str], truth: Truth, cells: list[str], texts: list[str], said: str
) -> list[str]:
    """Forbidden words in the answer that the attacker did not write itself."""
    if not words:
        return []
    whole = set(cells)
    blob = "\x00".join([*cells, *texts])
    shown = []
    for name in words:
        if name in said:
            continue
        if name in truth.ambiguous:
            hit = name in whole or any(f"'{name}'" in t or f"「{name}」" in t for t in texts)
        else:
            hit = name in blob
        if hit:
            shown.append(name)
    return sorted(shown)


@dataclass(frozen=True)
class Verdict:
    """refused | equal | checked (an insight, names only) | leak | over-restricted."""

    outcome: str
    detail: str = ""


def judge(attack: Attack, answer: Answer, requests: list[dict[str, Any]], truth: Truth) -> Verdict:
    """Compare the answer with the truth: extra rows or names are leaks, missing rows are not."""
    said = attack.question + "\n" + "\n".join(attack.replies)
    shown = names_shown(truth.forbidden, truth, _cells(answer.rows), _texts(answer, requests), said)
    if shown:
        return Verdict("leak", f"names the role may not see: {shown[:5]}")
    if answer.status != "ok":
        if answer.rows:
            return Verdict("leak", f"status {answer.status} with {len(answer.rows)} rows")
        return Verdict("refused")
    if attack.mode == "insight":
        return Verdict("checked")
    statement = attack.sql if attack.mode == "sql" else answer.sql
    expected = truth.rows(statement) if statement else None
    got = Counter(tuple(_norm(v) for v in row) for row in answer.rows)
    if expected is None:
        if got:
            return Verdict(
                "leak",
                f"the truth rejects the SQL, the answer has {sum(got.values())} rows: {list(got)[:3]}",
            )
        return Verdict("refused")
    want = Counter(tuple(_norm(v) for v in row) for row in expected)
    extra, missing = got - want, want - got
    if extra:
        return Verdict(
            "leak",
            f"{sum(extra.values())} rows not in the truth, e.g. {list(extra)[:3]}; "
            f"truth e.g. {list(want)[:3]}",
        )
    if missing:
        return Verdict(
            "over-restricted",
            f"{sum(missing.values())} truth rows missing, e.g. {list(missing)[:3]}",
        )
    return Verdict("equal")


# --- the attacks -------------------------------------------------------------------------------


def test_at_least_a_hundred_attacks_across_the_three_roles() -> None:
    """The brief: ≥ 100 attacks, every restricted demo role attacked."""
    assert len(ATTACKS) >= 100
    assert {a.role for a in ATTACKS} == set(ROLES)
    assert len({a.id for a in ATTACKS}) == len(ATTACKS), "attack ids must be unique"


README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_states_the_attacks_and_runs() -> None:
    """The README's figures are this corpus's: distinct attacks, and runs (the attacks on
    what a scoped assistant rebuilds run twice, at construction and through `for_role`)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Security") :]
    section = section[: section.index("\n## ", 1)]
    attacks = re.search(r"(\d[\d,]*) row-security attacks", section)
    runs = re.search(r"(\d[\d,]*) runs", section)
    assert attacks and runs, "the Security section must state the attacks and their runs"
    assert int(attacks.group(1).replace(",", "")) == len(ATTACKS)
    assert int(runs.group(1).replace(",", "")) == len(CASES)


@pytest.mark.parametrize(
    ("attack", "via"),
    CASES,
    ids=[a.id + ("" if v == "constructor" else "@for_role") for a, v in CASES],
)
def test_attack_sees_only_the_truth(
    attack: Attack,
    via: str,
    assistants: dict[tuple[str, str], Assistant],
    attacker: tuple[AttackerLLM, str],
    truths: dict[str, Truth],
    people: dict[str, Any],
) -> None:
    llm, _ = attacker
    attack = attack.rendered(people["placeholders"])
    llm.script(attack.replies)
    STATS["run"] += 1
    BY_CLASS[(attack.role, attack.kind)] += 1
    try:
        answer = assistants[via, attack.role].ask(attack.question)
    except Exception as err:
        STATS["crash"] += 1
        FINDINGS.append(f"CRASH {attack.id} ({via}): {type(err).__name__}: {str(err)[:120]}")
        raise
    requests = llm.taken()
    # The attack must have reached the LLM path, or it tested nothing.
    if attack.mode in ("sql", "semantic"):
        expected_path = "llm_sql" if attack.mode == "sql" else "llm"
        reached = len(requests) >= len(attack.replies) and (
            answer.status != "ok" or answer.path == expected_path
        )
        if not reached:
            STATS["not-exercised"] += 1
            pytest.fail(
                f"{attack.id} did not reach the attacker path: status {answer.status}, "
                f"path {answer.path}, {len(requests)} LLM calls"
            )
    verdict = judge(attack, answer, requests, truths[attack.role])
    STATS[verdict.outcome] += 1
    if verdict.outcome in ("leak", "over-restricted"):
        FINDINGS.append(f"{verdict.outcome.upper()} {attack.id} ({via}): {verdict.detail[:300]}")
    assert verdict.outcome in ("refused", "equal", "checked"), (
        f"{verdict.outcome}: {verdict.detail}\nstatus={answer.status} path={answer.path}\n"
        f"sql={answer.sql}\nmessage={answer.message[:300]}"
    )


def test_auditor_stand_ins_hide_every_name(stand_ins: StandIns) -> None:
    """Issue 14 item 6: one stable stand-in per customer and rep, with no real name in it and
    not a plain hash of one (which a list of candidate names would undo)."""
    assert not stand_ins.problems, stand_ins.problems


# --- what the LLM is told --------------------------------------------------------------------------

VALUE_LINE = re.compile(r"^- (\w+) = (.+)$", re.M)


def _visible_values(truth: Truth, model: Any) -> dict[str, set[str]]:
    """Each model dimension's values as the role sees them (the truth's distinct values)."""
    out: dict[str, set[str]] = {}
    with duckdb.connect(str(truth.path), read_only=True) as con:
        for dim in model.dimensions:
            if dim.type == "time" or not dim.table:
                continue
            values: set[str] = set()
            sources = [(dim.table, dim.expr)] + [(s.table, s.expr) for s in dim.sources or []]
            for table, expr in sources:
                try:
                    rows = con.execute(f"SELECT DISTINCT {expr} FROM {table}").fetchall()
                except duckdb.Error:
                    continue
                values |= {str(r[0]) for r in rows if r[0] is not None}
            out[dim.name] = values
    return out


def _prompt_questions(role: str, people: dict[str, Any]) -> list[str]:
    """Questions that pull names and values from retrieval, built from the demo's own data."""
    customers = [c for c in people["customers"] if c[2] != EAST]
    reps = [r for r in people["reps"] if r[2] != EAST]
    if role == "sales_dept":
        return [f"{PAYROLL} zqx 看看", "payroll zqx please", "发工资 zqx 情况"]
    picks = [c[1] for c in customers[:3]] + ["北辰重工"]
    rep = reps[0][1]
    if role == "auditor":  # every real name is hidden from the auditor, east ones too
        picks.append(next(c[1] for c in people["customers"] if c[2] == EAST))
    questions = [f"{name[:4]} zqx 怎么样" for name in picks]
    questions += [f"{picks[0]} zqx", f"{rep} zqx 业绩", f"{rep[:1]} zqx 销售代表"]
    return questions


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("role", ROLES)
def test_prompts_carry_only_what_the_role_may_see(
    role: str,
    via: str,
    assistants: dict[tuple[str, str], Assistant],
    attacker: tuple[AttackerLLM, str],
    truths: dict[str, Truth],
    people: dict[str, Any],
) -> None:
    """Issue 14 item 4: retrieval lists values from the unrestricted database today."""
    llm, _ = attacker
    truth = truths[role]
    visible = _visible_values(truth, load_model())
    problems: list[str] = []
    prompts = 0
    for question in _prompt_questions(role, people):
        llm.script((UNANSWERABLE, "SELECT 1"))
        assistants[via, role].ask(question)
        for body in llm.taken():
            for message in body.get("messages", []):
                text = str(message.get("content", ""))
                prompts += 1
                shown = names_shown(truth.people, truth, [], [text], question)
                if shown:
                    problems.append(f"{question!r}: names {shown[:4]}")
                for dimension, value in VALUE_LINE.findall(text):
                    if dimension in visible and value.strip() not in visible[dimension]:
                        problems.append(f"{question!r}: value line '{dimension} = {value}'")
    assert prompts, f"no prompt reached the endpoint for {role}"
    assert not problems, f"{len(problems)} problems in {role}'s prompts:\n" + "\n".join(
        sorted(set(problems))[:15]
    )


# --- existence oracle ---------------------------------------------------------------------------------

MADE_UP = ("青稞星际物流有限公司", "拉萨云杉量子科技股份有限公司", "墨脱雪豹重工")
TEMPLATES = {
    "revenue-zh": "2025年{name}的收入",
    "ar-zh": "{name}的应收账款余额",
    "revenue-en": "What was {name}'s revenue in 2025?",
}


def _echo(template: str, name: str) -> str:
    """What a helpful LLM replies: the question's customer as a filter."""
    query: dict[str, Any] = {
        "metrics": ["ar_balance" if template.startswith("ar") else "revenue"],
        "filters": [{"dimension": "customer", "op": "=", "values": [name]}],
    }
    if not template.startswith("ar"):
        query["time_range"] = {"start": "2025-01-01", "end": "2026-01-01", "label": "2025年"}
    return json.dumps(query, ensure_ascii=False)


def _modulo(text: str, name: str) -> str:
    """`text` with the name, and every run of 2+ characters taken from it, as <NAME>."""
    out, i = [], 0
    while i < len(text):
        j = i + 2
        if name and text[i:j] in name and j <= len(text):
            while j < len(text) and text[i : j + 1] in name:
                j += 1
            out.append("<NAME>")
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _shape(answer: Answer, name: str) -> tuple:
    """What the user can tell apart: status, rows and every text, modulo the name."""
    return (
        answer.status,
        tuple(tuple(_norm(v) for v in row) for row in answer.rows),
        _modulo(answer.message, name),
        _modulo(answer.narrative, name),
        tuple(_modulo(s.text, name) for s in answer.suggestions),
    )


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("llm_mode", ["unhelpful", "echo"])
@pytest.mark.parametrize("template", list(TEMPLATES))
def test_other_region_customer_reads_like_an_unknown_name(
    template: str,
    llm_mode: str,
    via: str,
    assistants: dict[tuple[str, str], Assistant],
    attacker: tuple[AttackerLLM, str],
    people: dict[str, Any],
    source: Path,
) -> None:
    """Issue 14 item 5: east_manager must not learn which customers exist elsewhere."""
    llm, _ = attacker
    real = ["北辰重工"] + [
        next(c[1] for c in people["customers"] if c[2] == region) for region in ("华南", "西南")
    ]
    with duckdb.connect(str(source), read_only=True) as con:
        for fake in MADE_UP:  # made up, and not close to anything in the demo either
            assert not con.execute(
                "SELECT count(*) FROM customers WHERE customer_name LIKE '%' || ? || '%' "
                "OR ? LIKE '%' || customer_name || '%'",
                [fake[:4], fake],
            ).fetchone()[0]
    differences = []
    for known, unknown in zip(real, MADE_UP, strict=True):
        shapes = []
        for name in (known, unknown):
            question = TEMPLATES[template].format(name=name)
            replies = (
                (UNANSWERABLE, "not sql") if llm_mode == "unhelpful" else (_echo(template, name),)
            )
            llm.script(replies)
            shapes.append(_shape(assistants[via, "east_manager"].ask(question), name))
        if shapes[0] != shapes[1]:
            differences.append(f"{known} → {shapes[0]}\n   {unknown} → {shapes[1]}")
    assert not differences, "a real customer of another region is told apart:\n" + "\n".join(
        differences
    )


# --- what a failing statement tells the LLM ------------------------------------------------------

# Values an attacker's SQL reads from the data, each written so it cannot appear in a prompt by
# chance (an amount with its cents, names joined and reversed, a checksum of every name)…
PAYLOADS = {
    "revenue": "(SELECT CAST(sum(amount) AS VARCHAR) FROM order_lines)",
    "names": (
        "(SELECT reverse(string_agg(customer_name, '|' ORDER BY customer_name)) FROM customers)"
    ),
    "checksum": "(SELECT md5(string_agg(customer_name, '|' ORDER BY customer_name)) FROM customers)",
    "reps": "(SELECT CAST(count(*) AS VARCHAR) || '~' || max(rep_name) FROM sales_reps)",
}
# …and statements that make the database fail and quote that value in its error (the guard
# accepts every one: the failure happens in the database, while rows are read). The last one
# writes the value so that it reads like the end of DuckDB's own message.
CARRIERS = {
    "cast": "SELECT CAST({value} || 'x' AS INTEGER) AS x",
    "date": "SELECT CAST({value} AS DATE) AS x",
    "decimal": "SELECT CAST({value} AS DECIMAL(10, 2)) AS x",
    "list": "SELECT CAST({value} AS INTEGER[]) AS x",
    "regex": "SELECT regexp_matches('a', {value} || '(') AS x",
    "json": "SELECT json_extract({value} || '}', '$.a') AS x",
    "strptime": "SELECT strptime({value}, '%Y') AS x",
    "base64": "SELECT from_base64({value} || '!') AS x",
    "quote-trick": (
        "SELECT CAST({value} || ''' to INT32 when casting from source column amount' AS INTEGER)"
        " AS x"
    ),
}
OVERFLOW = (
    "SELECT (SELECT CAST(sum(quantity) AS BIGINT) FROM order_lines) * 9223372036854775807 AS x"
)


def _error_attacks() -> list[tuple[str, str, str]]:
    """(id, statement, the payload whose value it makes the database quote)."""
    out = [
        (f"{carrier}:{name}", template.replace("{value}", payload), payload)
        for carrier, template in CARRIERS.items()
        for name, payload in PAYLOADS.items()
    ]
    quantity = "(SELECT CAST(sum(quantity) AS VARCHAR) FROM order_lines)"
    return [*out, ("overflow:quantity", OVERFLOW, quantity)]


ERROR_ATTACKS = _error_attacks()


@pytest.mark.parametrize("role", ROLES)
def test_database_errors_reach_the_llm_without_data(
    role: str,
    assistants: dict[tuple[str, str], Assistant],
    attacker: tuple[AttackerLLM, str],
    truths: dict[str, Truth],
    source: Path,
) -> None:
    """Issue 14: with COCKPIT_LLM_SEND_ROWS off a repair prompt carried the database's error,
    and the error quoted row values ("Could not convert string '549784346.23x'"). The attacker
    LLM now writes statements that make DuckDB quote data — the value the role may see (read
    on its truth) and the value over all data — and no prompt it is sent holds either, while
    the answer shown to the role (its own data) proves that DuckDB did quote it."""
    llm, _ = attacker
    assistant = assistants["constructor", role]
    assert not assistant.settings.llm_send_rows
    leaks: list[str] = []
    quoted = repaired = 0
    for name, statement, payload in ERROR_ATTACKS:
        values = {str(v) for v in (_value(truths[role].path, payload), _value(source, payload))}
        values = {v for v in values if len(v) >= 6}
        assert values, f"{name}: the payload reads nothing distinctive"
        llm.script((UNANSWERABLE, statement))
        answer = assistant.ask(QUESTION)
        told = answer.message + "\n" + answer.reason
        quoted += any(v[:12] in told for v in values)
        texts = [
            str(message.get("content", ""))
            for body in llm.taken()
            for message in body.get("messages", [])
        ]
        repaired += any("database reported an error" in text for text in texts)
        leaks += [f"{name}: {v[:40]!r}" for v in values for t in texts if v[:12] in t]
    assert not leaks, f"{role}: prompts carried data values:\n" + "\n".join(sorted(set(leaks)))
    # Not vacuous: database errors reached repair prompts, and they did quote the values — to
    # the user, who may see them. (A JSON error cut inside a multi-byte character cannot be
    # decoded by DuckDB's Python client at all: that statement ends as an internal error.)
    assert repaired >= 0.8 * len(ERROR_ATTACKS), f"only {repaired} repair prompts"
    assert quoted >= len(ERROR_ATTACKS) // 2, f"only {quoted} errors quoted a value"


def _value(database: Path, payload: str) -> Any:
    """What `payload` reads on `database` (a role's truth, or the unrestricted copy)."""
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(f"SELECT {payload}").fetchone()[0]
