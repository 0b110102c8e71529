"""Question pairs for the conversation-policy tests, generated from the demo eval sets.

Three kinds, each a frozen value the test asks and checks:

- `FreshPair`: two complete single questions; the second, asked after the first, must get
  the answer it gets alone.
- `EvalFollowup`: a later turn of an eval conversation with its gold, and the turn before.
- `SyntheticFollowup`: a single question plus a follow-up that swaps exactly one slot of its
  `SemanticQuery` (a filter member, the period or the metric), with the query it must become.

The cue list below is the issue's written policy, kept here rather than imported from the
parser so that a test of the policy does not read its answer from the code under test.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from eval.gold import GoldDatabase
from eval.items import Item, Turn, load_items
from eval.score import Verdict, score_ok, score_refusal
from semantic_layer.query import Compare, Filter, OrderBy, SemanticQuery, TimeRange

ROOT = Path(__file__).resolve().parents[1]
EVAL_SETS = ("questions", "holdout", "holdout2", "holdout3")  # the demo model's sets

# Issue 16's follow-up cues (呢, 那, 再, 换成, 只看, 按…看, 拆开, what about, instead, only,
# same for) and words referring back (这个, 它, them), plus near relatives. Deliberately wide:
# a single question dropped here is only left out of the fresh pairs.
CUE = re.compile(
    r"呢|那|再|换成|改成|只看|仅看|只要|按.{0,6}看|拆|同期|这个|这些|它|其中|还有"
    r"|\bwhat about\b|\bhow about\b|\binstead\b|\bonly\b|\bjust\b|\bsame\b|\bthem\b"
    r"|\bthose\b|\bthese\b|\bits\b|^\s*(?:and|then|now)\b",
    re.IGNORECASE,
)


# Words that take a follow-up to the whole company: the previous filters go (全公司呢).
COMPANY_WIDE = re.compile(
    r"全公司|整个公司|公司整体|公司的|\bcompany\b|\bcompany's\b|\boverall\b|\bacross\b",
    re.IGNORECASE,
)


def company_wide(question: str) -> bool:
    """Whether a follow-up asks about the whole company ("what about the company's?")."""
    return bool(COMPANY_WIDE.search(question))


def has_cue(question: str) -> bool:
    """Whether a question reads as elliptical by its words alone (例: "那华南呢")."""
    return bool(CUE.search(question))


@dataclass(frozen=True)
class Single:
    """One single eval question with a gold answer."""

    set: str
    id: str
    lang: str
    turn: Turn


@dataclass(frozen=True)
class FreshPair:
    first: Single
    second: Single

    @property
    def key(self) -> tuple[str, str]:
        return (self.first.turn.question, self.second.turn.question)


@dataclass(frozen=True)
class EvalFollowup:
    """Turn `index` (≥ 1) of a conversation; `turns[:index]` are asked before it."""

    set: str
    item: Item
    index: int

    @property
    def turn(self) -> Turn:
        return self.item.turns[self.index]

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(t.question for t in self.item.turns[: self.index + 1])

    @property
    def fresh(self) -> bool:
        """A complete question mid-conversation, as its author marked it ("fresh — …"); a
        note like "fresh for the channel but 'that month' refers back" is a follow-up."""
        return bool(re.match(r"fresh\s*[—-]", self.turn.note.strip(), re.IGNORECASE))


@dataclass(frozen=True)
class SyntheticFollowup:
    """`first` asked, then `followup`: the query must become `expected` (one slot changed)."""

    first: str
    followup: str
    slot: str  # filter | period | metric
    expected: SemanticQuery

    @property
    def key(self) -> tuple[str, str]:
        return (self.first, self.followup)


def load_sets() -> dict[str, list[Item]]:
    """Every demo eval set's items, by set name."""
    return {name: load_items(ROOT / "eval" / name) for name in EVAL_SETS}


def singles(sets: dict[str, list[Item]]) -> list[Single]:
    """Single questions that must be answered, with their gold, from every set."""
    return [
        Single(name, item.id, item.lang, item.turns[0])
        for name, items in sets.items()
        for item in items
        if not item.conversation and item.expect == "ok" and item.turns[0].gold_sql
    ]


def fresh_pairs(pool: list[Single], count: int, seed: int) -> list[FreshPair]:
    """`count` distinct (first, second) pairs; the second is a complete question (no cue).
    Drawn from the sets alone, so the sample does not move when the product changes."""
    complete = [s for s in pool if not has_cue(s.turn.question)]
    rng = random.Random(seed)
    pairs: dict[tuple[str, str], FreshPair] = {}
    while len(pairs) < count:
        pair = FreshPair(rng.choice(pool), rng.choice(complete))
        if pair.first.turn.question != pair.second.turn.question:
            pairs.setdefault(pair.key, pair)
    return list(pairs.values())


def eval_followups(sets: dict[str, list[Item]]) -> list[EvalFollowup]:
    """Every later turn of every conversation in every set."""
    return [
        EvalFollowup(name, item, index)
        for name, items in sets.items()
        for item in items
        if item.conversation
        for index in range(1, len(item.turns))
    ]


def score(answer, turn: Turn, gold: GoldDatabase, metric_names: list[str]) -> Verdict:
    """The eval's own verdict on one turn (eval/score.py)."""
    if turn.expect == "refuse_or_clarify":
        return score_refusal(answer)
    return score_ok(answer, gold.run(turn.gold_sql), metric_names, turn.ordered)


# --- synthetic follow-ups -------------------------------------------------------------------


def _plain(query: SemanticQuery) -> dict:
    """A query as data, a period's label and the filters' order aside (今年 and 2025年 are
    one range; 华东 and 电商 in either order are one scope)."""
    data = query.model_dump(mode="json")
    if data.get("time_range"):
        data["time_range"].pop("label", None)
    data["filters"] = sorted(data["filters"], key=lambda f: repr(sorted(f.items())))
    return data


def same_query(a: SemanticQuery | None, b: SemanticQuery | None) -> bool:
    return a is not None and b is not None and _plain(a) == _plain(b)


def changed_slots(a: SemanticQuery, b: SemanticQuery) -> list[str]:
    """The top-level fields two queries differ in (a period's label aside)."""
    x, y = _plain(a), _plain(b)
    return sorted(k for k in x if x[k] != y[k])


def _editable(query: SemanticQuery) -> bool:
    """One metric, nothing that a one-slot edit would have to carry along in words."""
    return (
        len(query.metrics) == 1
        and not query.define
        and not query.having
        and query.count_rows_as is None
        and query.compare is Compare.none
    )


def _shift_year(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _whole_year(window: TimeRange) -> bool:
    return (
        (window.start.month, window.start.day) == (1, 1)
        and (window.end.month, window.end.day) == (1, 1)
        and window.end.year == window.start.year + 1
    )


def synthetic_followups(
    answers: Iterator[tuple[Single, SemanticQuery]],
    assistant,
    seed: int,
    per_slot: int,
) -> list[SyntheticFollowup]:
    """For each answered single question (one metric, no comparison), follow-ups that swap
    one slot: another member of its one-value filter (那<member>呢 / what about <member>?),
    the period a year back (去年呢 for a whole year before last year, else 去年同期呢 /
    and last year? / same period last year?), and another metric of the same kind that reaches
    its dimensions and filters (<label>呢 / what about <label>?). At most `per_slot` of each
    kind, drawn with `seed`."""
    model, lexicon, reaches = assistant.model, assistant.lexicon, assistant.catalog.reaches
    as_of = assistant.as_of
    balances = {m.name for m in model.metrics if _is_balance(assistant, m.name)}
    budgets = set(assistant.catalog.budget_of.values())
    made: dict[tuple[str, str], SyntheticFollowup] = {}

    def add(first: Single, followup: str, slot: str, expected: SemanticQuery) -> None:
        item = SyntheticFollowup(first.turn.question, followup, slot, expected)
        made.setdefault(item.key, item)

    for single, query in answers:
        if not _editable(query):
            continue
        # Seeded by the question too: what one question gets does not depend on the others.
        rng = random.Random(f"{seed}:{single.turn.question}")
        zh = single.lang != "en"
        # A filter member swapped.
        for index, f in enumerate(query.filters):
            if f.op != "=" or len(f.values) != 1:
                continue
            # A bare letter (信用等级 "D") is not what anyone says alone: "D级客户呢" is.
            others = [
                v
                for v in lexicon.values.get(f.dimension, [])
                if v != str(f.values[0]) and len(v) > 1
            ]
            if not others:
                continue
            other = rng.choice(others)
            filters = list(query.filters)
            filters[index] = Filter(dimension=f.dimension, op="=", values=[other])
            said = f"那{other}呢" if zh else f"what about {other}?"
            add(single, said, "filter", query.model_copy(update={"filters": filters}))
        # The period a year back.
        window = query.time_range
        covered = _first_day(assistant, query.metrics[0])
        if window is not None and window.start.year > 2000 and covered is not None:
            back = TimeRange(start=_shift_year(window.start, -1), end=_shift_year(window.end, -1))
            if _whole_year(window) and window.start.year != as_of.year - 1:
                last = TimeRange(start=date(as_of.year - 1, 1, 1), end=date(as_of.year, 1, 1))
                said = "去年呢" if zh else "and last year?"
                if last.start >= covered and (last.start, last.end) != (window.start, window.end):
                    add(single, said, "period", query.model_copy(update={"time_range": last}))
            if back.start >= covered:
                said = "去年同期呢" if zh else "what about the same period last year?"
                add(single, said, "period", query.model_copy(update={"time_range": back}))
        # Another metric of the same kind.
        metric = query.metrics[0]
        used = [d.name for d in query.dimensions] + [f.dimension for f in query.filters]
        candidates = [
            m.name
            for m in model.metrics
            if m.name != metric
            and (m.name in balances) == (metric in balances)
            and (m.name in budgets) == (metric in budgets)
            and m.unit == model.metric(metric).unit
            and all(reaches(m.name, d) for d in used if not d.startswith("metric_time"))
        ]
        if candidates:
            other = model.metric(rng.choice(candidates))
            order = [
                OrderBy(field=o.field.replace(metric, other.name, 1), desc=o.desc)
                for o in query.order_by
            ]
            said = f"{other.label.zh}呢" if zh else f"what about {other.label.en.lower()}?"
            add(
                single,
                said,
                "metric",
                query.model_copy(update={"metrics": [other.name], "order_by": order}),
            )
    # The first `per_slot` of each kind in an order fixed by the questions' own text: a change
    # in how one question is answered moves only that question's follow-ups in or out.
    chosen: list[SyntheticFollowup] = []
    for slot in ("filter", "period", "metric"):
        kind = sorted((m for m in made.values() if m.slot == slot), key=lambda m: _hash(seed, m))
        chosen += kind[:per_slot]
    return chosen


def _hash(seed: int, item: SyntheticFollowup) -> str:
    return hashlib.sha256(f"{seed}:{item.first}:{item.followup}".encode()).hexdigest()


def _first_day(assistant, metric: str) -> date | None:
    """The first day every part of `metric` has data (a period before it is refused)."""
    spans = [assistant.context.coverage.get(leaf) for leaf in assistant.catalog.leaves(metric)]
    return max(s[0] for s in spans) if spans and all(spans) else None


def _is_balance(assistant, metric: str) -> bool:
    """A balance (its value is the last snapshot in a period) — every leaf semi-additive."""
    leaves = assistant.catalog.leaves(metric)
    return all(assistant.model.metric(leaf).semi_additive for leaf in leaves)
