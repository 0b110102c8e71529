"""Topic packs: "回款情况" / "how are collections doing" answers the pack the model declares
(`knowledge.topics`), each figure beside the period before — checked against SQL on the demo,
and absent from a model that declares no topics."""

from __future__ import annotations

import math

import pytest

from assistant import Assistant
from semantic_layer import load_model
from semantic_layer.engine import DuckDBEngine


@pytest.fixture(scope="module")
def assistant(demo_db) -> Assistant:
    return Assistant.demo(database=demo_db)


def sql(demo_db, text: str) -> list[tuple]:
    with DuckDBEngine(demo_db) as engine:
        return engine.execute(text).rows


def values(answer) -> dict[str, object]:
    assert answer.status == "ok", answer.message
    return dict(zip([c.name for c in answer.columns], answer.rows[0], strict=True))


def flows(demo_db, year: int) -> tuple[float, float]:
    """Collections and the collection rate of `year`, straight from the tables."""
    ((collected,),) = sql(
        demo_db, f"SELECT sum(amount) FROM receipts WHERE year(receipt_date) = {year}"
    )
    ((invoiced,),) = sql(
        demo_db, f"SELECT sum(amount) FROM invoices WHERE year(invoice_date) = {year}"
    )
    return float(collected), float(collected) / float(invoiced)


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("回款情况", "zh"),
        ("今年回款情况怎么样", "zh"),
        ("how are collections doing this year", "en"),
    ],
)
def test_a_topic_answers_its_pack_with_the_year_before(assistant, demo_db, question, lang):
    answer = assistant.ask(question)
    got = values(answer)
    assert answer.query.metrics == ["collections", "collection_rate"]
    now, before = flows(demo_db, 2025), flows(demo_db, 2024)
    assert math.isclose(float(got["collections"]), now[0], rel_tol=1e-9)
    assert math.isclose(float(got["collections__compare"]), before[0], rel_tol=1e-9)
    assert math.isclose(got["collection_rate"], now[1], rel_tol=1e-9)
    assert math.isclose(got["collection_rate__compare"], before[1], rel_tol=1e-9)
    said = "各项数字附上与上年同期的对比" if lang == "zh" else "Each figure comes with"
    assert said in answer.interpretation
    rate_word = "回款率" if lang == "zh" else "Collection rate"
    assert rate_word in answer.narrative


def test_a_topic_by_region_keeps_the_breakdown(assistant, demo_db):
    answer = assistant.ask("各区域回款情况")
    assert answer.status == "ok"
    assert [c.name for c in answer.columns] == ["region", "collections", "collection_rate"]
    expected = dict(
        sql(
            demo_db,
            "SELECT r.region_name, sum(x.amount) FROM receipts x JOIN customers c USING (customer_id)"
            " JOIN regions r ON r.region_id = c.region_id WHERE year(x.receipt_date) = 2025"
            " GROUP BY 1",
        )
    )
    assert {row[0]: float(row[1]) for row in answer.rows} == pytest.approx(
        {k: float(v) for k, v in expected.items()}
    )


def test_the_overdue_topic_is_the_total_and_its_buckets(assistant, demo_db):
    answer = assistant.ask("华东的逾期情况")
    got = values(answer)
    buckets = ["overdue_1_30", "overdue_31_60", "overdue_61_90", "overdue_over_90"]
    assert answer.query.metrics == ["overdue_ar", "overdue_ratio", *buckets]
    (row,) = sql(
        demo_db,
        "SELECT sum(a.overdue_1_30), sum(a.overdue_31_60), sum(a.overdue_61_90),"
        " sum(a.overdue_over_90), sum(a.balance) FROM ar_aging_monthly a"
        " JOIN customers c USING (customer_id) JOIN regions r ON r.region_id = c.region_id"
        " WHERE r.region_name = '华东' AND a.snapshot_date ="
        " (SELECT max(snapshot_date) FROM ar_aging_monthly WHERE year(snapshot_date) = 2025)",
    )
    assert [float(got[b]) for b in buckets] == pytest.approx([float(v) for v in row[:4]])
    assert float(got["overdue_ar"]) == pytest.approx(sum(float(v) for v in row[:4]))
    assert got["overdue_ratio"] == pytest.approx(float(got["overdue_ar"]) / float(row[4]))


def test_the_summary_words_of_a_topic_are_the_topic(assistant):
    answer = assistant.ask("collections overview last quarter")
    assert answer.query.metrics == ["collections", "collection_rate"]
    assert "collections__compare" in [c.name for c in answer.columns]


def test_a_model_without_topics_answers_the_one_metric(demo_db):
    model = load_model()
    bare = model.model_copy(update={"knowledge": model.knowledge.model_copy(update={"topics": []})})
    demo = Assistant.demo(database=demo_db)
    answer = Assistant(bare, demo.engine, demo.as_of, settings=demo.settings).ask("回款情况")
    assert answer.status == "ok"
    assert answer.query.metrics == ["collections"]
