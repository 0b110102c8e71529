"""Asking every question, scoring every answer, and summarising accuracy and latency."""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from eval.gold import GoldDatabase, GoldResult
from eval.items import CATEGORIES, LANGS, Item, Turn
from eval.score import Verdict, answered_with_number, score_ok, score_refusal

STAGES = ("understand", "compile", "execute", "present")
ROWS_KEPT = 5  # rows of each answer kept in the JSON report

# What an answer amounts to, worst first (a conversation takes its worst turn's):
#   internal_error  ask() raised, or the answer's status is "error" (a bug, not a user mistake)
#   wrong_number    status "ok" but not the gold answer, or a number shown on a must-refuse item
#   no_answer       a clarification or refusal where the gold has an answer
#   other           anything else that failed (a broken gold query, an unknown status, …)
#   correct         passed
OUTCOMES = ("internal_error", "wrong_number", "no_answer", "other", "correct")


@dataclass
class TurnResult:
    """What one question got and whether it passed."""

    question: str
    expect: str
    passed: bool
    reason: str = ""
    status: str | None = None
    message: str = ""
    error: str | None = None  # an exception from ask()
    gold_error: str | None = None  # the gold query failed: the harness's fault
    columns: list[str] = field(default_factory=list)
    row_count: int = 0
    rows: list[list[Any]] = field(default_factory=list)
    gold_columns: list[str] = field(default_factory=list)
    gold_row_count: int = 0
    gold_rows: list[list[Any]] = field(default_factory=list)
    query: Any = None
    sql: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    total_ms: float | None = None
    number_on_refusal: bool = False
    outcome: str = "other"


@dataclass
class ItemResult:
    """One scored item: a question, or a conversation that passes only if every turn does."""

    id: str
    lang: str
    category: str
    expect: str
    conversation: bool
    passed: bool
    turns: list[TurnResult]
    outcome: str = "other"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _query_of(answer: Any) -> Any:
    query = getattr(answer, "query", None)
    if query is None:
        return None
    if hasattr(query, "model_dump"):
        try:
            return query.model_dump(mode="json")
        except Exception:  # a half-built query must not stop the run
            pass
    return str(query)


def _record_answer(result: TurnResult, answer: Any) -> None:
    result.status = getattr(answer, "status", None)
    result.message = str(getattr(answer, "message", "") or "")
    columns = tuple(getattr(answer, "columns", ()) or ())
    result.columns = [f"{c.name}:{c.kind}" for c in columns]
    rows = list(getattr(answer, "rows", ()) or ())
    result.row_count = len(rows)
    result.rows = [[_jsonable(v) for v in r] for r in rows[:ROWS_KEPT]]
    result.query = _query_of(answer)
    result.sql = getattr(answer, "sql", None)
    timings = getattr(answer, "timings", None) or {}
    result.timings_ms = {
        str(k): round(float(v) * 1000, 3) for k, v in timings.items() if isinstance(v, int | float)
    }


def _score_turn(
    turn: Turn,
    ask: Callable[[str], Any],
    gold_db: GoldDatabase,
    metric_names: Sequence[str],
) -> TurnResult:
    result = TurnResult(question=turn.question, expect=turn.expect, passed=False)
    gold: GoldResult | None = None
    if turn.gold_sql:
        try:
            gold = gold_db.run(turn.gold_sql)
        except Exception as err:  # a broken gold query fails the item, never the run
            result.gold_error = f"gold SQL failed: {type(err).__name__}: {err}"
        else:
            result.gold_columns = list(gold.names)
            result.gold_row_count = len(gold.rows)
            result.gold_rows = [[_jsonable(v) for v in r] for r in gold.rows[:ROWS_KEPT]]
    started = time.perf_counter()
    try:
        answer = ask(turn.question)
    except Exception as err:
        result.total_ms = round((time.perf_counter() - started) * 1000, 3)
        last = traceback.extract_tb(err.__traceback__)[-1:]
        where = f" at {last[0].filename}:{last[0].lineno}" if last else ""
        result.error = f"ask() raised {type(err).__name__}: {err}{where}"
        result.reason = result.error
        return result
    result.total_ms = round((time.perf_counter() - started) * 1000, 3)
    try:
        _record_answer(result, answer)
        if turn.expect == "refuse_or_clarify":
            verdict = score_refusal(answer)
            result.number_on_refusal = answered_with_number(answer)
        elif gold is None:
            verdict = Verdict(False, result.gold_error or "no gold")
        else:
            verdict = score_ok(answer, gold, metric_names, turn.ordered)
    except Exception as err:  # an answer of an unexpected shape
        verdict = Verdict(False, f"cannot score the answer: {type(err).__name__}: {err}")
    result.passed = verdict.passed
    result.reason = verdict.reason
    result.outcome = outcome_of(result)
    return result


def outcome_of(turn: TurnResult) -> str:
    """Which of OUTCOMES a scored turn is."""
    if turn.error is not None or turn.status == "error":
        return "internal_error"
    if turn.passed:
        return "correct"
    if turn.gold_error is not None:
        return "other"
    if turn.expect == "refuse_or_clarify":
        return "wrong_number" if turn.number_on_refusal else "other"
    if turn.status == "ok":
        return "wrong_number"
    if turn.status in ("clarify", "refused"):
        return "no_answer"
    return "other"


def worst(outcomes: Iterable[str]) -> str:
    """The worst of several outcomes (a conversation's, from its turns)."""
    return min(outcomes, key=OUTCOMES.index, default="other")


def run_items(
    items: Iterable[Item],
    assistant: Any,
    gold_db: GoldDatabase,
    metric_names: Sequence[str],
    on_result: Callable[[Item, ItemResult], None] | None = None,
) -> list[ItemResult]:
    """Ask every item (a fresh conversation for each multi-turn item) and score it."""
    results: list[ItemResult] = []
    for item in items:
        if item.conversation:
            try:
                ask = assistant.conversation().ask
            except Exception as err:
                message = f"conversation() raised {type(err).__name__}: {err}"

                def ask(_question: str, _message: str = message) -> Any:
                    raise RuntimeError(_message)
        else:
            ask = assistant.ask
        turns = [_score_turn(t, ask, gold_db, metric_names) for t in item.turns]
        result = ItemResult(
            id=item.id,
            lang=item.lang,
            category=item.category,
            expect=item.expect,
            conversation=item.conversation,
            passed=all(t.passed for t in turns),
            turns=turns,
            outcome=worst(t.outcome for t in turns),
        )
        results.append(result)
        if on_result is not None:
            on_result(item, result)
    return results


# --- summary ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) of a non-empty list, else None."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100)
    return ordered[int(rank) - 1]


def _accuracy(results: Sequence[ItemResult]) -> dict[str, Any]:
    passed = sum(r.passed for r in results)
    return {
        "passed": passed,
        "total": len(results),
        "accuracy": passed / len(results) if results else None,
    }


def summarize(results: Sequence[ItemResult]) -> dict[str, Any]:
    """Accuracy overall / per category / per language, refusals with numbers, latency."""
    categories = [c for c in CATEGORIES if any(r.category == c for r in results)]
    langs = [x for x in LANGS if any(r.lang == x for r in results)]
    turns = [t for r in results for t in r.turns]
    conversation_turns = [t for r in results if r.conversation for t in r.turns]
    numbers_on_refusal = [
        {"id": r.id, "question": t.question, "status": t.status}
        for r in results
        for t in r.turns
        if t.expect == "refuse_or_clarify" and t.number_on_refusal
    ]
    answered = [t for t in turns if t.error is None]
    latency: dict[str, dict[str, float | None]] = {}
    stage_names = list(STAGES) + sorted({k for t in answered for k in t.timings_ms} - set(STAGES))
    for stage in stage_names:
        values = [t.timings_ms[stage] for t in answered if stage in t.timings_ms]
        latency[stage] = {
            "p50": percentile(values, 50),
            "p95": percentile(values, 95),
            "n": len(values),
        }
    totals = [t.total_ms for t in answered if t.total_ms is not None]
    latency["end_to_end"] = {
        "p50": percentile(totals, 50),
        "p95": percentile(totals, 95),
        "n": len(totals),
    }
    return {
        "overall": _accuracy(results),
        "per_category": {c: _accuracy([r for r in results if r.category == c]) for c in categories},
        "per_lang": {x: _accuracy([r for r in results if r.lang == x]) for x in langs},
        "questions_asked": len(turns),
        "conversation_turns": {
            "passed": sum(t.passed for t in conversation_turns),
            "total": len(conversation_turns),
            "accuracy": (
                sum(t.passed for t in conversation_turns) / len(conversation_turns)
                if conversation_turns
                else None
            ),
        },
        "must_refuse": _accuracy(
            [r for r in results if not r.conversation and r.expect == "refuse_or_clarify"]
        ),
        "numbers_on_refusal": numbers_on_refusal,
        "outcomes": {o: sum(1 for r in results if r.outcome == o) for o in OUTCOMES},
        "turn_outcomes": {o: sum(1 for t in turns if t.outcome == o) for o in OUTCOMES},
        "errors": sum(1 for t in turns if t.error),
        "gold_errors": sum(1 for t in turns if t.gold_error),
        "latency_ms": latency,
    }


def check_thresholds(summary: dict[str, Any], threshold: dict[str, Any]) -> list[str]:
    """The ways the run falls short of the committed thresholds (empty: it passes)."""
    problems: list[str] = []
    overall = summary["overall"]["accuracy"]
    if overall is None or overall < float(threshold.get("overall", 0)):
        problems.append(f"overall accuracy {_pct(overall)} < {_pct(threshold.get('overall'))}")
    floor = float(threshold.get("per_category", 0))
    for category, acc in summary["per_category"].items():
        if acc["accuracy"] is not None and acc["accuracy"] < floor:
            problems.append(f"category {category} accuracy {_pct(acc['accuracy'])} < {_pct(floor)}")
    wrong = summary["outcomes"].get("wrong_number", 0)
    if wrong > int(threshold.get("max_wrong_numbers", 0)):
        problems.append(f"{wrong} item(s) answered with a wrong number (must be 0)")
    crashes = summary["outcomes"].get("internal_error", 0)
    if crashes > int(threshold.get("max_internal_errors", 0)):
        problems.append(f"{crashes} item(s) hit an internal error")
    allowed = int(threshold.get("max_numbers_on_refusal", 0))
    if len(summary["numbers_on_refusal"]) > allowed:
        problems.append(
            f"{len(summary['numbers_on_refusal'])} must-refuse question(s) answered with a number"
        )
    return problems


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.1%}"


def to_json(summary: dict[str, Any], results: Sequence[ItemResult], meta: dict[str, Any]) -> str:
    """The JSON report: run details, the summary and every item's result."""
    return json.dumps(
        {"meta": meta, "summary": summary, "items": [asdict(r) for r in results]},
        ensure_ascii=False,
        indent=1,
        default=_jsonable,
    )
