"""The LLM path, offline: langchain's fake chat models stand in for the endpoint (the only
external boundary); everything else — retrieval, validation, the guard, DuckDB — is real."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from typer.testing import CliRunner

from assistant import Assistant
from assistant.settings import Settings
from semantic_layer.engine import DuckDBEngine
from semantic_layer.loader import load_model

UNKNOWN_WORD = "深圳的收入"  # the rules cannot place 深圳: they ask; the LLM may map it


class Prompts(BaseCallbackHandler):
    """Records every prompt the fake model was given."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_chat_model_start(self, serialized: dict, messages: list, **kwargs: Any) -> None:
        self.seen.append("\n".join(str(m.content) for m in messages[0]))


def fake(*responses: str) -> tuple[FakeListChatModel, Prompts]:
    prompts = Prompts()
    return FakeListChatModel(responses=list(responses), callbacks=[prompts]), prompts


def make(demo_db, tmp_path, chat=None, **settings: Any) -> Assistant:
    config = Settings(cache_dir=tmp_path / "cache", **settings)
    return Assistant(load_model(), DuckDBEngine(demo_db), llm=chat, settings=config)


SOUTH_2025 = json.dumps(
    {
        "metrics": ["revenue"],
        "filters": [{"dimension": "region", "op": "=", "values": ["华南"]}],
        "time_range": {"start": "2025-01-01", "end": "2026-01-01", "label": "今年"},
    }
)


def revenue_south(demo_db):
    with DuckDBEngine(demo_db) as engine:
        return engine.execute(
            "SELECT SUM(l.amount) FROM order_lines l JOIN orders o USING (order_id) "
            "JOIN regions r ON r.region_id = o.region_id WHERE o.status = '已完成' "
            "AND r.region_name = '华南' AND o.order_date >= DATE '2025-01-01' "
            "AND o.order_date < DATE '2026-01-01'"
        ).scalar()


def test_valid_output_is_validated_and_answered(demo_db, tmp_path):
    chat, prompts = fake(f"好的：\n```json\n{SOUTH_2025}\n```")
    answer = make(demo_db, tmp_path, chat).ask(UNKNOWN_WORD)
    assert answer.status == "ok" and answer.path == "llm" and answer.reason == "llm"
    assert answer.value() == revenue_south(demo_db)
    # Only retrieved context, in the question's language, and the prompt file was used.
    assert "可用指标" in prompts.seen[0] and "revenue" in prompts.seen[0]


def test_rules_answer_first_and_the_llm_is_not_called(demo_db, tmp_path):
    chat, prompts = fake(SOUTH_2025)
    answer = make(demo_db, tmp_path, chat).ask("2025年华南的收入")
    assert answer.path == "rules" and prompts.seen == []


def test_invalid_json_gets_one_repair(demo_db, tmp_path):
    chat, prompts = fake("{metrics: [revenue]}", SOUTH_2025)
    answer = make(demo_db, tmp_path, chat).ask(UNKNOWN_WORD)
    assert answer.status == "ok" and answer.reason == "llm after one repair"
    assert "invalid JSON" in prompts.seen[1]


def test_unknown_metric_is_repaired_with_the_error(demo_db, tmp_path):
    wrong = SOUTH_2025.replace('"revenue"', '"turnover_total"')
    chat, prompts = fake(wrong, SOUTH_2025)
    answer = make(demo_db, tmp_path, chat).ask(UNKNOWN_WORD)
    assert answer.status == "ok" and answer.value() == revenue_south(demo_db)
    assert "Unknown metric: turnover_total" in prompts.seen[1]


def test_impossible_breakdown_from_the_llm_is_repaired_then_falls_back(demo_db, tmp_path):
    by_department = json.dumps({"metrics": ["revenue"], "dimensions": ["department"]})
    chat, prompts = fake(by_department, by_department, "not sql at all", "still not", "nope")
    answer = make(demo_db, tmp_path, chat).ask(UNKNOWN_WORD)
    assert answer.status == "clarify" and answer.rows == []
    assert "cannot be broken down" in prompts.seen[1]
    assert "LLM" in answer.message  # the user is told the LLM could not help either


def test_guarded_sql_mode_repairs_a_failing_query(demo_db, tmp_path):
    never_paid = (
        "SELECT c.customer_name FROM customers c WHERE c.customer_id IN (SELECT customer_id "
        "FROM orders WHERE order_date >= DATE '2025-01-01' AND status = '已完成') AND "
        "c.customer_id NOT IN (SELECT customer_id FROM receipts) ORDER BY 1"
    )
    chat, prompts = fake(
        json.dumps({"unanswerable": "needs an anti-join"}),
        "```sql\nSELECT customer_nam FROM customers\n```",  # a typo the database rejects
        never_paid,
    )
    answer = make(demo_db, tmp_path, chat).ask("列出2025年下过单但从未回款的客户名单")
    assert answer.status == "ok" and answer.path == "llm_sql"
    assert "非治理指标" in answer.narrative
    assert (
        "customer_nam" in prompts.seen[-1]
        and "Binder Error" in prompts.seen[-1]
        or ("customer_nam" in prompts.seen[-1])
    )
    with DuckDBEngine(demo_db) as engine:
        expected = engine.execute(never_paid).rows
    assert answer.rows == expected


def test_sql_that_tries_to_escape_the_guard_never_runs(demo_db, tmp_path):
    escape = "SELECT * FROM read_csv_auto('/etc/passwd')"
    chat, prompts = fake(
        json.dumps({"unanswerable": "x"}),
        escape,
        "DROP TABLE orders",
        "SELECT 1; DELETE FROM orders",
    )
    answer = make(demo_db, tmp_path, chat).ask("列出2025年下过单但从未回款的客户名单")
    assert answer.status == "clarify" and answer.rows == []
    assert "read_csv_auto is not allowed" in prompts.seen[2]
    assert "only SELECT is allowed" in prompts.seen[3]
    with DuckDBEngine(demo_db) as engine:
        assert engine.execute("SELECT COUNT(*) FROM orders").scalar() > 100_000


class Down(FakeListChatModel):
    """An endpoint that is down."""

    def _call(self, *args: Any, **kwargs: Any) -> str:
        raise ConnectionError("connection refused")


def test_endpoint_down_degrades_to_the_rules_with_a_notice(demo_db, tmp_path):
    answer = make(demo_db, tmp_path, Down(responses=[])).ask(UNKNOWN_WORD)
    assert answer.status == "clarify" and answer.rows == []
    assert "LLM 暂不可用" in answer.message and "connection refused" in answer.message
    assert make(demo_db, tmp_path, Down(responses=[])).ask("2025年的收入").status == "ok"


def test_real_client_against_a_closed_port_fails_fast(demo_db, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: nothing listens
    assistant = make(
        demo_db,
        tmp_path,
        llm_model="test-model",
        openai_base_url=f"http://127.0.0.1:{port}/v1",
        openai_api_key="sk-test",
        llm_timeout=3,
    )
    answer = assistant.ask("what about Shenzhen sales?")
    assert answer.status == "clarify" and "unavailable" in answer.message
    assert answer.timings["llm"] < 15


def test_no_llm_configured_changes_nothing(demo_db, tmp_path):
    assistant = make(demo_db, tmp_path)
    assert not assistant.llm_enabled
    answer = assistant.ask(UNKNOWN_WORD)
    assert answer.status == "clarify" and answer.path == "rules"
    assert assistant._backend is None and not (tmp_path / "cache" / "chroma").exists()


def test_retrieval_finds_the_right_entries_and_is_reused(demo_db, tmp_path):
    chat, _ = fake(SOUTH_2025)
    assistant = make(demo_db, tmp_path, chat)
    index = assistant.backend().index
    assert index is not None and not index.empty
    assert index.search("毛利率多少", "metric", 3)[0].name == "gross_margin"
    assert index.search("华南 sales", "value", 3)[0].text.startswith("华南")
    assert index.search("各区域的营业收入", "example", 1)[0].kind == "example"
    count = index.collection.count()
    again = make(demo_db, tmp_path, fake(SOUTH_2025)[0]).backend().index
    assert again.name == index.name and again.collection.count() == count


def test_marked_good_answers_become_examples(demo_db, tmp_path):
    chat, _ = fake(SOUTH_2025)
    assistant = make(demo_db, tmp_path, chat)
    good = assistant.ask("2025年华南的毛利率")
    assistant.backend()
    assistant.mark_good(good)
    hits = assistant.backend().index.search("2025年华南的毛利率", "example", 1)
    assert hits[0].text == "2025年华南的毛利率"
    assert "gross_margin" in hits[0].payload


def test_rows_are_not_sent_unless_allowed(demo_db, tmp_path):
    chat, prompts = fake(
        json.dumps({"unanswerable": "x"}), "SELECT region_name FROM regions ORDER BY 1"
    )
    answer = make(demo_db, tmp_path, chat).ask("列出所有区域名称清单")
    assert answer.path == "llm_sql"
    assert all("西北" not in p.split("Question")[-1] for p in prompts.seen[1:])
    chat, prompts = fake(
        json.dumps({"unanswerable": "x"}),
        "SELECT region_name FROM regions ORDER BY 1",
        "七个区域。",
    )
    allowed = make(demo_db, tmp_path, chat, llm_send_rows=True).ask("列出所有区域名称清单")
    assert "七个区域" in allowed.narrative and "西北" in prompts.seen[-1]


def test_doctor_reports_the_configuration(demo_db, tmp_path, monkeypatch):
    from assistant.cli import app

    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("COCKPIT_LLM_MODEL", raising=False)
    result = CliRunner().invoke(app, ["doctor", "--db", str(demo_db)])
    assert result.exit_code == 0, result.output
    assert "未配置 LLM" in result.output or "no LLM" in result.output
    assert "34" in result.output or "metrics" in result.output


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_prompt_file_is_used_and_has_both_languages(lang):
    from assistant.llm.backend import PROMPTS, prompt

    names = {p.name.rsplit(".", 2)[0] for p in PROMPTS.glob("*.txt")}
    assert names == {"understand", "repair", "sql", "sql_repair"}
    source = (PROMPTS.parent / "assistant" / "llm" / "backend.py").read_text()
    for name in names:
        assert f'prompt("{name}"' in source
        assert prompt(name, lang).strip()
