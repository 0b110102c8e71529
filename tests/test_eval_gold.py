"""The eval question set is well-formed and its gold answers run on the demo data.

These tests do not use the Assistant (that is what `python -m eval` measures): they check the
yardstick itself — every gold query parses, runs and returns rows named like the answer's
columns; the set has the size and mix issue 3 asks for; and the scoring rule behaves.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `eval/` is a folder of the repo, not an installed package
    sys.path.insert(0, str(ROOT))

from eval.gold import GoldDatabase, GoldResult  # noqa: E402
from eval.items import CATEGORIES, load_items  # noqa: E402
from eval.score import (  # noqa: E402
    METRIC_SUFFIXES,
    gold_dimensions,
    score_ok,
    score_refusal,
)
from semantic_layer.loader import load_model  # noqa: E402

ITEMS = load_items()
MODEL = load_model()
METRICS = {m.name for m in MODEL.metrics}
DIMENSIONS = {d.name for d in MODEL.dimensions if d.name != "metric_time"}
TIME_KEYS = {f"metric_time__{g}" for g in ("day", "week", "month", "quarter", "year")}
GOLD_TURNS = [
    pytest.param(turn, id=f"{item.id}#{n}" if item.conversation else item.id)
    for item in ITEMS
    for n, turn in enumerate(item.turns, start=1)
    if turn.gold_sql
]


# --- the set's size and mix ----------------------------------------------------------------


def test_set_size_and_language_mix() -> None:
    assert len(ITEMS) >= 260
    langs = Counter(i.lang for i in ITEMS)
    assert langs["zh"] / len(ITEMS) >= 0.60, langs
    assert langs["en"] / len(ITEMS) >= 0.25, langs


def test_conversations_and_refusals() -> None:
    conversations = [i for i in ITEMS if i.conversation]
    assert len(conversations) >= 22
    assert all(2 <= len(i.turns) <= 4 for i in conversations)
    must_refuse = [i for i in ITEMS if not i.conversation and i.expect == "refuse_or_clarify"]
    assert len(must_refuse) >= 22


def test_every_category_has_ten_items() -> None:
    counts = Counter(i.category for i in ITEMS)
    assert {c: counts[c] for c in CATEGORIES if counts[c] < 10} == {}


def test_ids_are_unique() -> None:
    ids = [i.id for i in ITEMS]
    assert len(ids) == len(set(ids))


def test_category_agrees_with_expectation() -> None:
    """refuse/clarify items must be refused; every other single question has a number."""
    wrong = [
        i.id
        for i in ITEMS
        if not i.conversation and (i.category in ("refuse", "clarify")) != (i.expect != "ok")
    ]
    assert wrong == []


def test_every_metric_is_asked(gold_db: GoldDatabase) -> None:
    """Each metric of the demo model is the gold answer of at least one question."""
    asked = {
        name.split("__")[0]
        for param in GOLD_TURNS
        for name in gold_db.run(param.values[0].gold_sql).names
    }
    assert sorted(METRICS - asked) == []


# --- every gold query ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gold_db(demo_db: Path):
    with GoldDatabase(demo_db) as db:
        yield db


@pytest.mark.parametrize("turn", GOLD_TURNS)
def test_gold_sql_runs_and_names_answer_columns(turn: Any, gold_db: GoldDatabase) -> None:
    result = gold_db.run(turn.gold_sql)
    assert result.rows, "the gold query returned no rows"
    assert len(set(result.names)) == len(result.names), f"duplicate columns {result.names}"
    unknown = [
        n
        for n in result.names
        if n not in METRICS
        and n not in DIMENSIONS
        and n not in TIME_KEYS
        and not (n.endswith(METRIC_SUFFIXES) and n.rsplit("__", 1)[0] in METRICS)
    ]
    assert unknown == [], "columns must be named like the answer's columns"
    nulls = [n for row in result.rows for n, v in zip(result.names, row, strict=True) if v is None]
    assert nulls == [], f"NULL in the gold (a wrong join or an empty period?): {nulls[:5]}"
    keys = gold_dimensions(result.names, METRICS)
    assert len(keys) < len(result.names), "a gold answer has at least one metric column"
    for key in keys:
        if key in TIME_KEYS:
            index = result.names.index(key)
            assert result.types[index] == "DATE", f"{key} must be a DATE, is {result.types[index]}"
    key_rows = [tuple(row[result.names.index(k)] for k in keys) for row in result.rows]
    assert len(set(key_rows)) == len(key_rows), "rows must be unique on the dimension columns"
    if turn.ordered:
        assert "ORDER BY" in turn.gold_sql.upper(), "an ordered gold needs an ORDER BY"


# --- the scoring rule ------------------------------------------------------------------------


@dataclass(frozen=True)
class Col:
    name: str
    kind: str


@dataclass(frozen=True)
class FakeAnswer:
    status: str
    columns: tuple[Col, ...] = ()
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    message: str = ""


GOLD = GoldResult(
    names=("region", "revenue", "revenue__share"),
    types=("VARCHAR", "DECIMAL(38,2)", "DOUBLE"),
    rows=(("华东", Decimal("100.00"), 0.625), ("华南", Decimal("60.00"), 0.375)),
)
COLUMNS = (
    Col("region", "dimension"),
    Col("revenue", "metric"),
    Col("revenue__share", "share"),
    Col("gross_margin", "metric"),
)


def test_score_ok_sorts_on_dimensions_and_allows_extra_metrics() -> None:
    answer = FakeAnswer(
        "ok", COLUMNS, [("华南", 60.0, 0.375, 0.3), ("华东", 100, 0.6250000001, 0.2)]
    )
    assert score_ok(answer, GOLD, METRICS, ordered=False).passed
    assert not score_ok(answer, GOLD, METRICS, ordered=True).passed


def test_score_ok_fails_on_values_rows_dimensions_and_status() -> None:
    wrong_value = FakeAnswer("ok", COLUMNS, [("华东", 100, 0.6, 0), ("华南", 60, 0.375, 0)])
    assert "revenue__share" in score_ok(wrong_value, GOLD, METRICS, False).reason
    missing_row = FakeAnswer("ok", COLUMNS, [("华东", 100, 0.625, 0)])
    assert "rows" in score_ok(missing_row, GOLD, METRICS, False).reason
    extra_dim = FakeAnswer(
        "ok",
        (*COLUMNS, Col("metric_time__month", "dimension")),
        [("华东", 100, 0.625, 0, date(2025, 1, 1)), ("华南", 60, 0.375, 0, date(2025, 1, 1))],
    )
    assert "dimensions" in score_ok(extra_dim, GOLD, METRICS, False).reason
    assert not score_ok(FakeAnswer("clarify"), GOLD, METRICS, False).passed


def test_score_ok_dates_must_be_dates() -> None:
    gold = GoldResult(
        ("metric_time__month", "revenue"), ("DATE", "DOUBLE"), ((date(2025, 1, 1), 1.0),)
    )
    cols = (Col("metric_time__month", "dimension"), Col("revenue", "metric"))
    assert score_ok(FakeAnswer("ok", cols, [(date(2025, 1, 1), 1.0)]), gold, METRICS, False).passed
    stamp = FakeAnswer("ok", cols, [(datetime(2025, 1, 1), 1.0)])
    assert not score_ok(stamp, gold, METRICS, False).passed


def test_score_ok_none_matches_only_none() -> None:
    gold = GoldResult(("revenue",), ("DOUBLE",), ((None,),))
    cols = (Col("revenue", "metric"),)
    assert score_ok(FakeAnswer("ok", cols, [(None,)]), gold, METRICS, False).passed
    assert not score_ok(FakeAnswer("ok", cols, [(0,)]), gold, METRICS, False).passed


def test_score_refusal_never_a_number() -> None:
    assert score_refusal(FakeAnswer("clarify")).passed
    assert score_refusal(FakeAnswer("refused")).passed
    assert not score_refusal(FakeAnswer("ok")).passed
    assert not score_refusal(FakeAnswer("error")).passed
    shown = FakeAnswer("refused", (Col("revenue", "metric"),), [(1.0,)])
    assert not score_refusal(shown).passed
