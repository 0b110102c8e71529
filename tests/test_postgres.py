"""The PostgreSQL engine: same answers as DuckDB for the whole eval set (needs a server).

`.ci/run` starts a local PostgreSQL and sets COCKPIT_TEST_POSTGRES; without it these skip.
"""

from __future__ import annotations

import math
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.settings import Settings
from eval.items import load_items
from semantic_layer.demo.postgres import copy_to_postgres
from semantic_layer.engine import PostgresEngine
from semantic_layer.loader import load_model

URL = os.environ.get("COCKPIT_TEST_POSTGRES")
pytestmark = pytest.mark.skipif(not URL, reason="COCKPIT_TEST_POSTGRES is not set")
QUESTIONS = Path(__file__).resolve().parent.parent / "eval" / "questions"


@pytest.fixture(scope="module")
def assistants(demo_db, tmp_path_factory):
    copy_to_postgres(demo_db, URL, replace=True)
    settings = Settings(cache_dir=tmp_path_factory.mktemp("pg-cache"))
    duck = Assistant.demo(database=demo_db, as_of=date(2025, 12, 31), settings=settings)
    pg = Assistant(load_model(), PostgresEngine(URL), as_of=date(2025, 12, 31), settings=settings)
    return duck, pg


def same(a: object, b: object) -> bool:
    if isinstance(a, int | float | Decimal) and isinstance(b, int | float | Decimal):
        x, y = float(a), float(b)
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def test_postgres_gives_the_same_answers_as_duckdb_for_the_eval_set(assistants):
    duck, pg = assistants
    questions = []
    for item in load_items(QUESTIONS):
        questions.append([turn.question for turn in item.turns])
    assert len(questions) > 300
    compared = 0
    for turns in questions:
        duck_conv, pg_conv = duck.conversation(), pg.conversation()
        for question in turns:
            a, b = duck_conv.ask(question), pg_conv.ask(question)
            assert a.status == b.status, (question, a.message, b.message)
            assert a.names == b.names, question
            assert len(a.rows) == len(b.rows), question
            for row_a, row_b in zip(a.rows, b.rows, strict=True):
                assert all(same(x, y) for x, y in zip(row_a, row_b, strict=True)), (
                    question,
                    row_a,
                    row_b,
                )
            compared += a.status == "ok"
    assert compared > 300


def test_postgres_session_is_read_only(assistants):
    from semantic_layer.errors import CockpitError

    _, pg = assistants
    with pytest.raises(CockpitError):
        pg.raw_engine.execute("DELETE FROM orders")
    assert pg.ask("2025年订单数").status == "ok"


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
]


@pytest.mark.parametrize("role", ["east_manager", "auditor", "sales_dept"])
def test_roles_see_the_same_rows_and_masks_on_postgres(assistants, role):
    """Row filters, pseudonyms and hidden columns hold on PostgreSQL too (no `* REPLACE`)."""
    duck, pg = (a.for_role(role) for a in assistants)
    answered = 0
    for question in ROLE_QUESTIONS:
        a, b = duck.ask(question), pg.ask(question)
        assert (a.status, a.names) == (b.status, b.names), (role, question, b.message)
        assert sorted(map(_plain, a.rows)) == sorted(map(_plain, b.rows)), (role, question)
        answered += a.status == "ok"
    assert answered >= 3
    if role == "auditor":
        top = pg.ask("2025年收入最高的5个客户")
        assert all(str(row[0]).startswith("客户-") for row in top.rows)


def test_a_statement_over_the_time_limit_says_which_limit():
    from semantic_layer.errors import ExecutionError

    engine = PostgresEngine(URL, timeout=0.5)
    with pytest.raises(ExecutionError) as caught:
        engine.execute("SELECT pg_sleep(3)")
    assert "0.5" in caught.value.message("zh") and "0.5" in caught.value.message("en")
    engine.close()
