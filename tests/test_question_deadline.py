"""One question, one time limit (issue 14): every statement run for a question — an
explanation's dozens, a summary's, an anomaly scan's — shares `query_timeout`; none renews it."""

from __future__ import annotations

import time

import pytest

from assistant import Assistant
from assistant.settings import Settings
from semantic_layer.errors import CockpitError
from semantic_layer.security import question_deadline


def test_a_statement_after_the_questions_deadline_does_not_run(demo_db, tmp_path):
    assistant = Assistant.demo(database=demo_db, settings=Settings(cache_dir=tmp_path))
    with question_deadline(0.001):
        time.sleep(0.01)
        with pytest.raises(CockpitError) as raised:
            assistant.engine.execute("SELECT COUNT(*) FROM orders")
    assert raised.value.code == "query_timeout"
    # Outside a question the engine's own limit applies, as before.
    assert assistant.engine.execute("SELECT COUNT(*) FROM orders").rows[0][0] > 0


@pytest.mark.parametrize("question", ["为什么今年90天以上逾期增加了", "今年有哪些异常"])
def test_an_insight_shares_one_limit_across_its_statements(demo_db, tmp_path, question):
    """Each of these runs dozens of statements of a few milliseconds each: with 20 ms for the
    whole question it is stopped with the time-limit message, never answered from part of
    its statements."""
    settings = Settings(cache_dir=tmp_path, query_timeout=0.02)
    assistant = Assistant.demo(database=demo_db, settings=settings)
    answer = assistant.ask(question)
    assert answer.status != "ok"
    assert "时间限制" in answer.message, answer.message
    # With the usual limit the same question is answered.
    generous = Assistant.demo(database=demo_db, settings=Settings(cache_dir=tmp_path))
    assert generous.ask(question).status == "ok"
