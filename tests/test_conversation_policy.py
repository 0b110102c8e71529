"""The conversation policy, tested both ways at scale on the eval set's own questions:

- a complete question asked after another (it names a metric, carries no follow-up cue) is a
  fresh question: its answer equals the same question asked alone;
- an elliptical question ("那华南呢", "按月看", "what about last year?") edits the previous
  query and says what it kept.

Plus near-miss safety: a concept the model lacks next to one it has (应付/应收) is refused,
never mapped onto its sibling.
"""

from __future__ import annotations

import glob
import random

import pytest
import yaml

from assistant import Assistant
from assistant.settings import Settings
from semantic_layer.engine import DuckDBEngine
from semantic_layer.loader import load_model

CUES = ("呢", "那", "再", "换成", "只看", "按", "what about", "instead", "only", "and ", "same")


def _singles() -> list[str]:
    questions = []
    for file in sorted(glob.glob("eval/questions/*.yaml")):
        if "refuse" in file or "followup" in file:
            continue
        with open(file, encoding="utf-8") as handle:
            items = yaml.safe_load(handle) or []
        for item in items:
            question = item.get("question")
            if question and not any(c in question.lower() for c in CUES):
                questions.append(question)
    return questions


@pytest.fixture(scope="module")
def assistant(demo_db, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return Assistant(load_model(), DuckDBEngine(demo_db), settings=Settings(cache_dir=cache))


def test_a_complete_question_after_another_starts_fresh(assistant):
    """80 pairs drawn from the eval set: the second question's answer is the answer it gets
    alone — no filter, period or ranking leaks from the first."""
    singles = _singles()
    rng = random.Random(16)
    checked = 0
    for _ in range(80):
        first, second = rng.sample(singles, 2)
        alone = assistant.ask(second)
        if alone.status != "ok":
            continue
        conversation = assistant.conversation()
        conversation.ask(first)
        after = conversation.ask(second)
        assert after.status == "ok", (first, second, after.message)
        assert after.query == alone.query, (first, second)
        assert after.rows == alone.rows, (first, second)
        assert not any("沿用上一问" in n or "Kept from" in n for n in after.notes), after.notes
        checked += 1
    assert checked >= 50


@pytest.mark.parametrize(
    ("first", "followup", "kept"),
    [
        ("华东今年的收入", "那华南呢", "今年"),
        ("2025年各区域的毛利率", "按月看", "按区域"),
        ("revenue by region in 2024", "what about gross margin?", "2024"),
        ("今年收入前5的客户", "换成毛利", "前5"),
        ("今年电商渠道的收入", "只看华东", "电商"),
    ],
)
def test_an_elliptical_question_edits_the_previous_and_says_what_it_kept(
    assistant, first, followup, kept
):
    conversation = assistant.conversation()
    before = conversation.ask(first)
    assert before.status == "ok", before.message
    after = conversation.ask(followup)
    assert after.status == "ok", after.message
    assert after.query != before.query
    said = " ".join(after.notes)
    assert ("沿用上一问" in said or "Kept from the previous question" in said) and kept in said, (
        said
    )


def test_a_fresh_question_does_not_inherit_a_region(assistant, engine):
    conversation = assistant.conversation()
    conversation.ask("华东今年的收入")
    balance = conversation.ask("目前的应收余额是多少")
    alone = assistant.ask("目前的应收余额是多少")
    assert balance.status == "ok" and balance.rows == alone.rows
    assert not balance.query.filters


@pytest.mark.parametrize(
    "question",
    [
        "目前应付账款余额是多少",
        "应付账款周转天数是多少",
        "how much do we owe our suppliers",
        "今年营业外收入有多少",
    ],
)
def test_a_concept_the_model_lacks_is_refused_not_mapped_to_its_sibling(assistant, question):
    answer = assistant.ask(question)
    assert answer.status in ("clarify", "refused"), (question, answer.query)
    assert not answer.rows
    assert answer.suggestions  # the nearest real metrics, to ask instead


def test_fuzzy_matching_never_crosses_siblings(assistant):
    lexicon = assistant.lexicon
    assert (
        lexicon.fuzzy("应付账款") is None
        or lexicon.fuzzy("应付账款").entries[0].name != "ar_balance"
    )
    assert lexicon._siblings("应付账款", "应收账款") and not lexicon._siblings(
        "应收帐款", "应收账款"
    )


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("how much cash came in last month", "and going out?"),  # "going out" unread
        ("2025年华东的收入", "华东呢?"),  # nothing new at all
    ],
)
def test_a_follow_up_that_changes_nothing_is_asked_again(assistant, first, then):
    """The previous answer repeated would read as the answer to the follow-up: asked again."""
    conversation = assistant.conversation()
    assert conversation.ask(first).status == "ok"
    again = conversation.ask(then)
    assert again.status == "clarify" and not again.rows, again.rows
    assert conversation.ask("按月看").status == "ok"  # the conversation goes on from the first


def test_a_flow_after_a_balance_gets_the_period_a_fresh_question_gets(assistant):
    """应收余额 is read as of today (no period said); 回款呢 then is this year's collections —
    the same as asking 今年的回款 — not collections over all time."""
    conversation = assistant.conversation()
    conversation.ask("应收余额")
    after = conversation.ask("回款呢?")
    fresh = assistant.ask("今年的回款额")
    assert after.status == "ok" and after.query.time_range.start == fresh.query.time_range.start
    assert after.value("collections") == fresh.value("collections")
    conversation = assistant.conversation()
    conversation.ask("what's our inventory worth right now")
    days = conversation.ask("and DIO?")
    assert days.status == "ok" and days.value("dio") == assistant.ask("今年的存货周转天数").value(
        "dio"
    )
