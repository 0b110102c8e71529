"""Chinese questions on models whose labels are English only (imported from dbt): the words
people use (门店 for a location, 赔款支付 for a loss payment), a metric the question defines
that the model already has, and a follow-up of a question nobody understood — checked against
SQL on each project's own data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.settings import Settings
from eval.items import load_set

EXTERNAL = Path(__file__).resolve().parent.parent / "eval" / "external"


def _open(name: str, folder: Path) -> tuple[Assistant, Path]:
    eval_set = load_set(EXTERNAL / name)
    assert eval_set is not None
    database = eval_set.build(folder / "data.duckdb")
    settings = Settings().model_copy(update={"llm_model": None, "cache_dir": folder / "cache"})
    assistant = Assistant.open(
        model=eval_set.model, database=database, as_of=eval_set.as_of, settings=settings
    )
    return assistant, database


@pytest.fixture(scope="module")
def jaffle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Assistant, Path]]:
    assistant, database = _open("jaffle_sl", tmp_path_factory.mktemp("jaffle"))
    yield assistant, database
    assistant.engine.close()


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Assistant, Path]]:
    assistant, database = _open("acme_insurance", tmp_path_factory.mktemp("acme"))
    yield assistant, database
    assistant.engine.close()


def sql(assistant: Assistant, text: str) -> list[tuple]:
    """Hand-written SQL on the assistant's own database handle (one DuckDB connection)."""
    return assistant.engine.execute(text).rows


def test_a_location_is_asked_as_a_shop(jaffle):
    assistant, _ = jaffle
    answer = assistant.ask("各门店的订单数")
    assert answer.status == "ok", answer.message
    assert [d.name for d in answer.query.dimensions] == ["location_name"]
    expected = sql(
        assistant,
        "SELECT l.location_name, count(*) FROM orders o JOIN stg_locations l USING (location_id)"
        " GROUP BY 1",
    )
    assert sorted((r[0], int(r[1])) for r in answer.rows) == sorted(
        (name, int(n)) for name, n in expected
    )


def test_a_defined_metric_the_model_has_is_the_models(jaffle):
    assistant, _ = jaffle
    answer = assistant.ask("食品收入占总收入的比例是多少")
    assert answer.status == "ok", answer.message
    assert answer.query.metrics == ["food_revenue_pct"] and not answer.query.define
    ((expected,),) = sql(
        assistant,
        "SELECT sum(CASE WHEN is_food_item = 1 THEN product_price ELSE 0 END) / sum(product_price)"
        " FROM order_items",
    )
    assert answer.rows[0][0] == pytest.approx(float(expected))
    assert "Food Revenue %" in answer.interpretation  # said, so a person can check it
    # A definition the model does not have is still the question's own.
    ad_hoc = assistant.ask("订单成本占收入的比例是多少")
    assert ad_hoc.status == "ok" and ad_hoc.query.define


def test_a_loss_payment_is_asked_as_a_payment_of_claims(acme):
    assistant, _ = acme
    answer = assistant.ask("按理赔编号看赔款支付金额")
    assert answer.status == "ok", answer.message
    assert answer.query.metrics == ["loss_payment_amount"]
    expected = sql(
        assistant,
        "SELECT c.Company_Claim_Number, sum(a.Claim_Amount) FROM claim_amount a"
        " JOIN loss_payment USING (Claim_Amount_Identifier) JOIN claim c USING (Claim_Identifier)"
        " GROUP BY 1",
    )
    assert sorted((str(r[0]), float(r[1])) for r in answer.rows) == sorted(
        (str(k), float(v)) for k, v in expected
    )


def test_a_follow_up_of_a_question_nobody_understood_is_asked_again(acme):
    assistant, _ = acme
    chat = assistant.conversation()
    first = chat.ask("按理赔编号看总损耗额度")  # 损耗额度: nothing this model knows
    assert first.status == "clarify"
    follow = chat.ask("那赔款准备金呢")
    assert follow.status == "clarify" and not follow.rows
    assert "完整" in follow.message
    # A complete question after it is answered; after an answer, follow-ups continue it.
    assert chat.ask("赔款准备金是多少").status == "ok"
    assert chat.ask("那赔款支付呢").query.metrics == ["loss_payment_amount"]


def test_a_metric_the_data_cannot_compute_says_where_to_check(acme):
    """ACME's premium column holds text: the database refuses to sum it. The refusal names the
    metric and the command that checks the model against the data — and shows no number."""
    assistant, _ = acme
    answer = assistant.ask("总保费是多少")
    assert answer.status == "refused" and not answer.rows
    assert "「Premium」" in answer.message and "cockpit check --db" in answer.message
    english = assistant.ask("total premium")
    assert english.status == "refused" and "The definition of Premium" in english.message
