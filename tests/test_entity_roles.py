"""Entity roles (issue 15, item 3): a dimension with a `where` is an entity in a role.

Models often keep the parties of an agreement in one table with a role column — ACME's
`agreement_party_role` holds each policy's agent ('AG') and policy holder ('PH'). Joined whole
it fans out (two rows per policy); a dimension that says `where: party_role_code = 'AG'` joins
only the rows in that role, under its own alias, so "premium by agent" adds up exactly. Every
number here is compared with SQL written by hand against the built database (never with the
product's own compiled SQL), on ACME's data and on a small model written in this file.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from assistant import Assistant
from assistant.board import dimension_members
from assistant.llm.backend import LLMBackend
from assistant.settings import Settings
from assistant.understand.lexicon import Lexicon
from eval.items import load_set
from semantic_layer.check import check_against_database
from semantic_layer.compiler import compile_query
from semantic_layer.engine import DuckDBEngine
from semantic_layer.errors import ModelError
from semantic_layer.knowledge import member_counts
from semantic_layer.loader import Locations, load_model
from semantic_layer.model import Role, RowFilter, SemanticModel
from semantic_layer.query import Filter, SemanticQuery
from semantic_layer.security import SecuredEngine, apply_row_security
from semantic_layer.validate import unsafe_expressions

ROOT = Path(__file__).resolve().parents[1]
ACME = ROOT / "eval" / "external" / "acme_insurance"

# Premiums are the policy amounts whose row is in `premium` (the model's has_premium).
PREMIUM = (
    "FROM policy_amount pa JOIN premium pr ON pa.Policy_Amount_Identifier = "
    "pr.Policy_Amount_Identifier "
)
AGENT = "LEFT JOIN agreement_party_role ag ON ag.Agreement_Identifier = {key} AND ag.Party_Role_Code = 'AG' "
HOLDER = "LEFT JOIN agreement_party_role ph ON ph.Agreement_Identifier = {key} AND ph.Party_Role_Code = 'PH' "


def plain(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows with numbers as floats and keys as text, sorted: comparable across both sides."""

    def cell(value: Any) -> Any:
        if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
            return float(value)
        return value

    return sorted((tuple(cell(v) for v in row) for row in rows), key=repr)


@pytest.fixture(scope="module")
def acme_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The imported model.yaml and the hand-written roles.yaml beside it, as one model folder —
    how a user adds to an imported model without editing what the importer writes."""
    folder = tmp_path_factory.mktemp("acme_model")
    for name in ("model.yaml", "roles.yaml"):
        shutil.copy(ACME / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory, acme_model: Path) -> tuple[SemanticModel, Path]:
    eval_set = load_set(ACME)
    assert eval_set is not None
    database = eval_set.build(tmp_path_factory.mktemp("acme_roles") / "data.duckdb")
    return load_model(acme_model), database


def run(model: SemanticModel, database: Path, query: SemanticQuery, role: Role | None = None):
    ast = compile_query(model, query).ast
    if role is not None:
        ast = apply_row_security(ast, model, role)
    return truth(database, ast.sql(dialect="duckdb"))


def with_roles(model: SemanticModel, *roles: Role) -> SemanticModel:
    """The model with these security roles (as a model file would declare them)."""
    fields = {name: getattr(model, name) for name in type(model).model_fields}
    fields["roles"] = list(roles)
    return type(model)(**fields)


def truth(database: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of one statement, read from the database attached read-only."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{database}' AS data (READ_ONLY)")
        con.execute("USE data")
        return con.execute(sql).fetchall()


# --- ACME: the model says agent and policy holder are parties in a role ------------------------
def test_the_data_has_two_parties_per_policy(acme):
    """The premise: joined whole, the role table would count every policy twice."""
    _, database = acme
    (rows, policies) = truth(
        database, "SELECT count(*), count(DISTINCT Agreement_Identifier) FROM agreement_party_role"
    )[0]
    assert rows == 2 * policies


def test_premium_by_agent_equals_hand_written_sql(acme):
    model, database = acme
    query = SemanticQuery(
        metrics=["total_policy_amount"],
        dimensions=["agent"],
        filters=[Filter(dimension="has_premium", values=["1"])],
    )
    want = truth(
        database,
        "SELECT ag.Party_Identifier, sum(pa.Policy_Amount) "
        + PREMIUM
        + AGENT.format(key="pa.Policy_Identifier")
        + "GROUP BY 1",
    )
    assert plain(run(model, database, query)) == plain(want)
    # The total per agent is the total: nothing counted twice.
    total = truth(database, "SELECT sum(pa.Policy_Amount) " + PREMIUM)[0][0]
    assert sum(float(v) for _, v in run(model, database, query)) == float(total)


def test_policies_per_policy_holder_equals_hand_written_sql(acme):
    model, database = acme
    query = SemanticQuery(metrics=["number_of_policies"], dimensions=["policy_holder"])
    want = truth(
        database,
        "SELECT ph.Party_Identifier, count(*) FROM policy p "
        + HOLDER.format(key="p.Policy_Identifier")
        + "GROUP BY 1",
    )
    assert plain(run(model, database, query)) == plain(want)
    assert (
        sum(n for _, n in run(model, database, query))
        == truth(database, "SELECT count(*) FROM policy")[0][0]
    )


def test_both_roles_in_one_query_get_their_own_alias(acme):
    model, database = acme
    query = SemanticQuery(
        metrics=["total_policy_amount", "number_of_policies"],
        dimensions=["agent", "policy_holder"],
    )
    sql = compile_query(model, query).sql
    assert "AS agreement_party_role__agent" in sql
    assert "AS agreement_party_role__policy_holder" in sql
    amounts = truth(
        database,
        "SELECT ag.Party_Identifier, ph.Party_Identifier, sum(pa.Policy_Amount) "
        "FROM policy_amount pa "
        + AGENT.format(key="pa.Policy_Identifier")
        + HOLDER.format(key="pa.Policy_Identifier")
        + "GROUP BY 1, 2",
    )
    policies = dict(
        ((a, h), n)
        for a, h, n in truth(
            database,
            "SELECT ag.Party_Identifier, ph.Party_Identifier, count(*) FROM policy p "
            + AGENT.format(key="p.Policy_Identifier")
            + HOLDER.format(key="p.Policy_Identifier")
            + "GROUP BY 1, 2",
        )
    )
    want = [(a, h, amount, policies.get((a, h))) for a, h, amount in amounts]
    assert plain(run(model, database, query)) == plain(want)
    # The agent and the policy holder of this data are different parties.
    assert all(a != h for a, h, *_ in run(model, database, query))


def test_a_filter_on_a_role_keeps_its_condition(acme):
    """`-w agent=2`: the policies whose agent is party 2. Party 1 holds policies but is
    nobody's agent, so filtering on it as an agent finds nothing."""
    model, database = acme
    (agent, holder) = truth(
        database,
        "SELECT max(CASE WHEN Party_Role_Code = 'AG' THEN Party_Identifier END), "
        "max(CASE WHEN Party_Role_Code = 'PH' THEN Party_Identifier END) "
        "FROM agreement_party_role",
    )[0]

    def amount(member: object) -> Any:
        query = SemanticQuery(
            metrics=["total_policy_amount"],
            filters=[Filter(dimension="agent", values=[str(member)])],
        )
        return run(model, database, query)[0][0]

    want = truth(
        database,
        "SELECT sum(pa.Policy_Amount) FROM policy_amount pa WHERE pa.Policy_Identifier IN "
        f"(SELECT Agreement_Identifier FROM agreement_party_role WHERE Party_Role_Code = 'AG' "
        f"AND Party_Identifier = {agent})",
    )[0][0]
    assert float(amount(agent)) == float(want)
    assert amount(holder) is None


def test_listing_a_role_lists_only_parties_in_it(acme):
    model, database = acme
    rows = run(model, database, SemanticQuery(metrics=[], dimensions=["agent"]))
    want = truth(
        database,
        "SELECT DISTINCT Party_Identifier FROM agreement_party_role WHERE Party_Role_Code = 'AG'",
    )
    assert plain(rows) == plain(want)


def test_row_security_applies_through_a_role(acme):
    """A role restricted to one agent sees that agent's policies; the role rows inside the
    filtered join are rewritten like every model table (a masked agent shows a pseudonym)."""
    model, database = acme
    agent = truth(
        database,
        "SELECT max(Party_Identifier) FROM agreement_party_role WHERE Party_Role_Code = 'AG'",
    )[0][0]
    holder = truth(
        database,
        "SELECT max(Party_Identifier) FROM agreement_party_role WHERE Party_Role_Code = 'PH'",
    )[0][0]
    query = SemanticQuery(metrics=["number_of_policies"])
    mine = Role(name="one_agent", row_filters=[RowFilter(dimension="agent", values=[agent])])
    other = Role(name="not_an_agent", row_filters=[RowFilter(dimension="agent", values=[holder])])
    masked = Role(name="no_names", masked_dimensions=["agent"])
    model = with_roles(model, mine, other, masked)
    want = truth(
        database,
        "SELECT count(*) FROM policy WHERE Policy_Identifier IN (SELECT Agreement_Identifier "
        f"FROM agreement_party_role WHERE Party_Role_Code = 'AG' AND Party_Identifier = {agent})",
    )[0][0]
    assert run(model, database, query, mine)[0][0] == want
    assert run(model, database, query, other)[0][0] is None  # party 1 is nobody's agent

    by_agent = SemanticQuery(metrics=["number_of_policies"], dimensions=["agent"])
    ast = apply_row_security(compile_query(model, by_agent).ast, model, masked)
    sql = ast.sql(dialect="duckdb")
    # The stored table inside the role's join is the secured view, not the raw table.
    assert sql.count("FROM agreement_party_role") == sql.count("REPLACE")
    rows = run(model, database, by_agent, masked)
    assert rows and all(str(key) != str(agent) for key, _ in rows)
    assert sum(n for _, n in rows) == truth(database, "SELECT count(*) FROM policy")[0][0]


def test_questions_by_role_are_understood_from_the_model_words(acme, acme_model, tmp_path):
    """ "by agent" / 按代理人 come from the dimension's label: no parser rule names them."""
    model, database = acme
    eval_set = load_set(ACME)
    assert eval_set is not None
    settings = Settings().model_copy(update={"llm_model": None, "cache_dir": tmp_path})
    copy = tmp_path / "asked.duckdb"  # the assistant's engine holds its file its own way
    copy.write_bytes(database.read_bytes())
    assistant = Assistant.open(
        model=acme_model, database=copy, as_of=eval_set.as_of, settings=settings
    )
    want = truth(
        database,
        "SELECT ag.Party_Identifier, sum(pa.Policy_Amount) FROM policy_amount pa "
        + AGENT.format(key="pa.Policy_Identifier")
        + "GROUP BY 1",
    )
    answer = assistant.ask("total policy amount by agent")
    assert answer.status == "ok", answer.message
    assert plain(answer.rows) == plain(want)
    answer = assistant.ask("各投保人的保单数量")
    assert answer.status == "ok", answer.message
    assert answer.query.dimensions[0].name == "policy_holder"
    want = truth(
        database,
        "SELECT ph.Party_Identifier, count(*) FROM policy p "
        + HOLDER.format(key="p.Policy_Identifier")
        + "GROUP BY 1",
    )
    assert plain(answer.rows) == plain(want)
    # "sold" means policies sold: the model says so (knowledge.implies), not the code.
    answer = assistant.ask("which agent sold the most")
    assert answer.status == "ok", answer.message
    top = truth(
        database,
        "SELECT ag.Party_Identifier, count(*) FROM policy p "
        + AGENT.format(key="p.Policy_Identifier")
        + "GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
    )
    assert plain(answer.rows) == plain(top)


def test_check_accepts_the_role_dimensions(acme):
    model, database = acme
    with DuckDBEngine(database) as engine:
        issues = check_against_database(model, engine, Locations())
    assert not [i for i in issues if "agent" in str(i.params) or "holder" in str(i.params)]


# --- members: what the parser, the board and default breakdowns offer for a role ---------------
def parties(database: Path, role: str | None = None) -> list[str]:
    """The party identifiers in `role` (None: in any role), by hand, as text, sorted."""
    where = f"AND Party_Role_Code = '{role}'" if role else ""
    rows = truth(
        database,
        "SELECT DISTINCT Party_Identifier FROM agreement_party_role "
        f"WHERE Party_Identifier IS NOT NULL {where}",
    )
    return sorted(str(r[0]) for r in rows)


@pytest.fixture(scope="module")
def acme_assistant(
    tmp_path_factory: pytest.TempPathFactory, acme: tuple[SemanticModel, Path], acme_model: Path
) -> Assistant:
    _, database = acme
    eval_set = load_set(ACME)
    assert eval_set is not None
    folder = tmp_path_factory.mktemp("acme_members")
    settings = Settings().model_copy(update={"llm_model": None, "cache_dir": folder / "cache"})
    copy = folder / "asked.duckdb"  # the assistant's engine holds its file its own way
    copy.write_bytes(database.read_bytes())
    return Assistant.open(model=acme_model, database=copy, as_of=eval_set.as_of, settings=settings)


def test_a_role_offers_only_the_parties_in_it(acme, acme_assistant):
    """Issue 15: the parser's value words, the board's filter choices and the member counts
    behind default breakdowns list an agent from the agent's rows — a policy holder offered
    as an agent would be a filter that finds nothing."""
    _, database = acme
    everyone, agents, holders = parties(database), parties(database, "AG"), parties(database, "PH")
    # The premise: the column holds parties of both roles, and the roles differ.
    assert agents and holders and agents != everyone and holders != everyone
    assert set(agents).isdisjoint(holders)

    lexicon = acme_assistant.lexicon
    assert lexicon.values["agent"] == agents
    assert lexicon.values["policy_holder"] == holders
    assert lexicon.values["party_identifier_dim"] == everyone  # the plain column: every party
    # The words the parser reads as an agent name agents only (a holder's stays the holder's).
    words = {
        (e.name, e.value)
        for entries in lexicon.surfaces.values()
        for e in entries
        if e.kind == "value"
    }
    assert {v for d, v in words if d == "agent"} == set(agents)
    assert {v for d, v in words if d == "policy_holder"} == set(holders)

    assert sorted(dimension_members(acme_assistant, "agent")) == agents
    assert sorted(dimension_members(acme_assistant, "policy_holder")) == holders
    assert sorted(dimension_members(acme_assistant, "party_identifier_dim")) == everyone

    counts = member_counts(acme_assistant.model, acme_assistant.engine)
    assert counts["agent"] == len(agents) and counts["policy_holder"] == len(holders)
    assert counts["party_identifier_dim"] == len(everyone) != counts["agent"]


def test_members_of_a_role_pass_through_row_security(trades):
    """Through a secured engine a role's members are the rows the user may see *and* the
    rows in the role: a user who may see only Acorn's rows sees Acorn as a seller, and no
    buyer at all (Acorn never buys)."""
    path, database = trades
    text = TRADES.replace(
        "metrics:",
        "  - {name: firm, label: {zh: 公司, en: Firm}, table: firms, expr: firm_name}\nmetrics:",
    )
    path.write_text(text, encoding="utf-8")
    acorn = Role(name="acorn", row_filters=[RowFilter(dimension="firm", values=["Acorn"])])
    model = with_roles(load_model(path), acorn)

    def hand(side: str, only_acorn: bool) -> list[str]:
        mine = " AND firm_id IN (SELECT firm_id FROM firms WHERE firm_name = 'Acorn')"
        rows = truth(
            database,
            f"SELECT DISTINCT firm_id FROM deal_parties WHERE side = '{side}'"
            + (mine if only_acorn else ""),
        )
        return sorted(r[0] for r in rows)

    everyone = sorted(r[0] for r in truth(database, "SELECT DISTINCT firm_id FROM deal_parties"))
    with DuckDBEngine(database) as raw:
        whole = Lexicon.build(model, raw)
        secured = SecuredEngine(raw, model, "acorn")
        seen = Lexicon.build(model, secured)
        counts = member_counts(model, secured)
    assert whole.values["seller"] == hand("sell", False) == ["A", "B"] != everyone
    assert whole.values["buyer"] == hand("buy", False) == ["B", "C"]
    assert whole.values["seller_name"] == ["Acorn", "Birch"]
    assert seen.values["seller"] == hand("sell", True) == ["A"]
    assert seen.values.get("buyer", []) == hand("buy", True) == []
    assert seen.values["seller_name"] == ["Acorn"]
    assert counts["seller"] == 1 and counts["buyer"] == 0 and counts["seller_name"] == 1


def test_the_demo_models_members_are_unchanged(model, engine, demo_db, tmp_path):
    """A model without roles lists what it always listed: each category dimension's distinct
    values from its table (written here as plain SQL from the model's own text)."""
    lexicon = Lexicon.build(model, engine)
    counts = member_counts(model, engine)
    settings = Settings().model_copy(update={"llm_model": None, "cache_dir": tmp_path})
    assistant = Assistant(model, DuckDBEngine(demo_db), settings=settings)
    checked = 0
    for dim in model.dimensions:
        if dim.type != "category" or dim.table is None or dim.expr is None:
            continue
        with DuckDBEngine(demo_db) as db:
            rows = db.execute(
                f"SELECT DISTINCT {dim.expr} FROM {dim.table} WHERE ({dim.expr}) IS NOT NULL"
            ).rows
        want = sorted(str(r[0]) for r in rows)
        assert lexicon.values[dim.name] == want, dim.name
        assert counts[dim.name] == len(want), dim.name
        assert sorted(dimension_members(assistant, dim.name)) == want[:500], dim.name
        checked += 1
    assert checked >= 10
    # English names still come from the model's English-name column.
    assert lexicon.english["region"]["华东"] == "East"


def test_the_llm_prompt_says_which_rows_a_role_reads(acme_assistant):
    """The understanding prompt describes a role dimension by its column and its condition,
    in the model's words, so an LLM can tell the agent from the policy holder."""
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    seen: list[str] = []

    class Prompts(BaseCallbackHandler):
        def on_chat_model_start(self, serialized: dict, messages: list, **kwargs: Any) -> None:
            seen.append("\n".join(str(m.content) for m in messages[0]))

    reply = '{"metrics": ["total_policy_amount"], "dimensions": ["agent"]}'
    chat = FakeListChatModel(responses=[reply, reply], callbacks=[Prompts()])
    backend = LLMBackend(chat, acme_assistant.context, acme_assistant.engine)
    result = backend.understand("policy amount for each broker")
    assert result.query is not None and result.query.dimensions[0].name == "agent"
    lines = seen[0].splitlines()
    assert "- agent: Agent — Party identifier dim where Party role code = 'AG'" in lines
    assert (
        "- policy_holder: Policy holder — Party identifier dim where Party role code = 'PH'"
        in lines
    )
    assert "- party_identifier_dim: Party identifier dim" in lines  # no role: the label alone
    backend.understand("各经纪人的保单金额")
    assert "- agent: 代理人 — Party identifier dim，仅限 Party role code = 'AG' 的行" in (
        seen[1].splitlines()
    )


# --- a small model written here: nothing of it is ACME's ---------------------------------------
TRADES = """\
name: trades
tables:
  - {name: deals, primary_key: [deal_id], time_column: closed_on}
  - {name: deal_parties}
  - {name: firms, primary_key: [firm_id]}
joins:
  - {from: deals, to: deal_parties, on: deal_id}
  - {from: deal_parties, to: firms, on: firm_id}
dimensions:
  - name: seller
    label: {zh: 卖方, en: Seller}
    table: deal_parties
    expr: firm_id
    where: side = 'sell'
  - name: buyer
    label: {zh: 买方, en: Buyer}
    table: deal_parties
    expr: firm_id
    where: side = 'buy'
  - name: seller_name
    label: {zh: 卖方名称, en: Seller name}
    table: deal_parties
    expr: firms.firm_name
    where: side = 'sell'
metrics:
  - {name: volume, label: {zh: 成交额, en: Volume}, table: deals, agg: sum, expr: amount,
     time: closed_on}
  - {name: deals, label: {zh: 成交笔数, en: Deals}, table: deals, agg: count, expr: deal_id,
     time: closed_on, unit: count}
"""


@pytest.fixture
def trades(tmp_path: Path) -> tuple[Path, Path]:
    database = tmp_path / "trades.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("CREATE TABLE deals (deal_id INTEGER, closed_on DATE, amount DOUBLE)")
        con.execute(
            "INSERT INTO deals VALUES (1, DATE '2025-01-02', 100), (2, DATE '2025-01-05', 40), "
            "(3, DATE '2025-02-01', 7)"
        )
        con.execute("CREATE TABLE deal_parties (deal_id INTEGER, firm_id VARCHAR, side VARCHAR)")
        con.execute(
            "INSERT INTO deal_parties VALUES (1, 'A', 'sell'), (1, 'B', 'buy'), "
            "(1, 'C', 'broker'), (2, 'A', 'sell'), (2, 'C', 'buy'), (3, 'B', 'sell')"
        )
        con.execute("CREATE TABLE firms (firm_id VARCHAR, firm_name VARCHAR)")
        con.execute("INSERT INTO firms VALUES ('A', 'Acorn'), ('B', 'Birch'), ('C', 'Cedar')")
    path = tmp_path / "trades.yaml"
    path.write_text(TRADES, encoding="utf-8")
    return path, database


def test_roles_are_a_model_feature_not_an_acme_one(trades):
    path, database = trades
    model = load_model(path)
    by_seller = run(model, database, SemanticQuery(metrics=["volume"], dimensions=["seller"]))
    assert plain(by_seller) == [("A", 140.0), ("B", 7.0)]
    both = run(
        model, database, SemanticQuery(metrics=["volume", "deals"], dimensions=["seller", "buyer"])
    )
    assert plain(both) == plain([("A", "B", 100.0, 1), ("A", "C", 40.0, 1), ("B", None, 7.0, 1)])
    buyer_c = SemanticQuery(metrics=["volume"], filters=[Filter(dimension="buyer", values=["C"])])
    assert run(model, database, buyer_c) == [(40.0,)]


def test_a_role_reads_a_name_one_join_on_from_its_row(trades):
    """`expr: firms.firm_name` on the seller's row: the seller's name, its own alias of firms
    (the buyer's firm would be another), and a listing of sellers names only sellers."""
    path, database = trades
    model = load_model(path)
    rows = run(
        model, database, SemanticQuery(metrics=["volume"], dimensions=["seller_name", "buyer"])
    )
    assert plain(rows) == plain([("Acorn", "B", 100.0), ("Acorn", "C", 40.0), ("Birch", None, 7.0)])
    listed = run(model, database, SemanticQuery(metrics=[], dimensions=["seller_name"]))
    assert plain(listed) == [("Acorn",), ("Birch",)]
    named = SemanticQuery(
        metrics=["deals"], filters=[Filter(dimension="seller_name", values=["Birch"])]
    )
    assert run(model, database, named) == [(1,)]
    with DuckDBEngine(database) as engine:
        assert check_against_database(model, engine, Locations()) == []
    # A role's row security reaches through the name as well.
    role = Role(name="acorn", row_filters=[RowFilter(dimension="seller_name", values=["Acorn"])])
    secured = with_roles(model, role)
    assert run(secured, database, SemanticQuery(metrics=["volume"]), role) == [(140.0,)]


def test_check_refuses_a_hostile_role_condition(trades):
    path, database = trades
    for hostile in ("side = 'sell' OR getenv('HOME') IS NOT NULL", "side IN (SELECT 1)"):
        text = TRADES.replace("where: side = 'sell'", f'where: "{hostile}"')
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ModelError) as err:
            load_model(path)
        assert "seller" in str(err.value)
    # Built in code (no loading to stop it), check still refuses to run it.
    path.write_text(TRADES, encoding="utf-8")
    model = load_model(path)
    raw = model.model_dump(by_alias=True)
    raw["dimensions"][0]["where"] = "side = 'sell' OR getenv('HOME') IS NOT NULL"
    hostile_model = SemanticModel.model_validate(raw)
    issues = unsafe_expressions(hostile_model, Locations())
    assert [i.code for i in issues] == ["unsafe_expression"]
    with DuckDBEngine(database) as engine:
        issues = check_against_database(hostile_model, engine, Locations())
    assert [i.code for i in issues] == ["unsafe_expression"]


def test_a_role_condition_reads_only_its_own_table(trades):
    path, _ = trades
    path.write_text(TRADES.replace("where: side = 'sell'", "where: firms.firm_name = 'x'"))
    with pytest.raises(ModelError) as err:
        load_model(path)
    assert "firms" in str(err.value)


def test_check_finds_a_role_with_several_rows_per_key(trades):
    """`side IN ('sell', 'buy')` is no role: deal 1 has two rows in it, and check says so
    (for both dimensions of that condition)."""
    path, database = trades
    path.write_text(TRADES.replace("where: side = 'sell'", "where: side IN ('sell', 'buy')"))
    model = load_model(path)
    with DuckDBEngine(database) as engine:
        issues = check_against_database(model, engine, Locations())
        assert [i.params.get("dimension") for i in issues] == ["seller", "seller_name"]
        assert "deal_id" in issues[0].message("en")
        path.write_text(TRADES, encoding="utf-8")
        assert check_against_database(load_model(path), engine, Locations()) == []
