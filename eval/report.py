"""The eval's human-readable outputs: the console summary and the Markdown report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eval.runner import STAGES, ItemResult


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _one_line(text: str, width: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")


def _outcomes(counts: dict[str, int] | None) -> str:
    """correct 30 · wrong number 5 · no answer 4 · internal error 1 · other 0"""
    if not counts:
        return "n/a"
    order = ("correct", "wrong_number", "no_answer", "internal_error", "other")
    return " · ".join(f"{name.replace('_', ' ')} {counts.get(name, 0)}" for name in order)


def console_summary(summary: dict[str, Any]) -> str:
    """A compact plain-text summary for the terminal."""
    overall = summary["overall"]
    lines = [
        f"accuracy: {_pct(overall['accuracy'])} ({overall['passed']}/{overall['total']} items, "
        f"{summary['questions_asked']} questions asked)",
        "",
        "per category:",
    ]
    for name, acc in summary["per_category"].items():
        lines.append(f"  {name:<13} {_pct(acc['accuracy']):>7}  {acc['passed']:>3}/{acc['total']}")
    lines.append("per language:")
    for name, acc in summary["per_lang"].items():
        lines.append(f"  {name:<13} {_pct(acc['accuracy']):>7}  {acc['passed']:>3}/{acc['total']}")
    turns = summary["conversation_turns"]
    if turns["total"]:
        lines.append(
            f"conversation turns: {_pct(turns['accuracy'])} ({turns['passed']}/{turns['total']})"
        )
    refuse = summary["must_refuse"]
    lines.append(
        f"must refuse or clarify: {_pct(refuse['accuracy'])} "
        f"({refuse['passed']}/{refuse['total']}); "
        f"answered with a number: {len(summary['numbers_on_refusal'])} (must be 0)"
    )
    lines.append(f"outcomes (items): {_outcomes(summary.get('outcomes'))}")
    lines.append(f"outcomes (questions asked): {_outcomes(summary.get('turn_outcomes'))}")
    if summary["errors"] or summary["gold_errors"]:
        lines.append(
            f"exceptions from ask(): {summary['errors']}; "
            f"gold queries that failed: {summary['gold_errors']}"
        )
    lines.append("latency (ms):      p50      p95")
    for stage, stats in summary["latency_ms"].items():
        lines.append(f"  {stage:<13} {_ms(stats['p50']):>8} {_ms(stats['p95']):>8}")
    return "\n".join(lines)


def failure_text(result: ItemResult) -> str:
    """Every failed turn of an item: question, expected vs got, the query and the message."""
    lines = [f"✗ {result.id} [{result.category}/{result.lang}] {result.outcome.replace('_', ' ')}"]
    for n, turn in enumerate(result.turns, start=1):
        mark = "✓" if turn.passed else "✗"
        prefix = f"  turn {n} {mark} " if result.conversation else "  "
        lines.append(f"{prefix}Q: {turn.question}")
        if turn.passed:
            continue
        lines.append(f"    why: {turn.reason}")
        if turn.expect == "refuse_or_clarify":
            lines.append("    expected: clarify or refused, no rows")
        else:
            lines.append(
                f"    expected: {turn.gold_row_count} rows of {turn.gold_columns}; "
                f"first {turn.gold_rows[:3]}"
            )
        lines.append(
            f"    got: status={turn.status} {turn.row_count} rows of {turn.columns}; "
            f"first {turn.rows[:3]}"
        )
        if turn.query is not None:
            lines.append(f"    query: {_one_line(str(turn.query), 400)}")
        if turn.message:
            lines.append(f"    message: {_one_line(turn.message, 400)}")
        if turn.error:
            lines.append(f"    error: {turn.error}")
        if turn.gold_error:
            lines.append(f"    gold error: {turn.gold_error}")
    return "\n".join(lines)


def markdown(summary: dict[str, Any], results: Sequence[ItemResult], meta: dict[str, Any]) -> str:
    """The Markdown report: summary tables, then every failure."""
    overall = summary["overall"]
    out = [
        "# Cockpit eval report",
        "",
        f"- run at: {meta.get('started')}",
        f"- database: `{meta.get('database')}`",
        f"- questions: `{meta.get('questions')}`"
        + (f" (filter: {meta['filter']})" if meta.get("filter") else ""),
        f"- items: {overall['total']} ({summary['questions_asked']} questions asked)",
        f"- **accuracy: {_pct(overall['accuracy'])}** ({overall['passed']}/{overall['total']})",
        f"- must refuse or clarify: {_pct(summary['must_refuse']['accuracy'])}; "
        f"**answered with a number: {len(summary['numbers_on_refusal'])}** (must be 0)",
        f"- outcomes (items): {_outcomes(summary.get('outcomes'))}",
        f"- outcomes (questions asked): {_outcomes(summary.get('turn_outcomes'))}",
    ]
    turns = summary["conversation_turns"]
    if turns["total"]:
        out.append(
            f"- conversation turns: {_pct(turns['accuracy'])} ({turns['passed']}/{turns['total']})"
        )
    if summary["errors"] or summary["gold_errors"]:
        out.append(
            f"- exceptions from ask(): {summary['errors']}; "
            f"gold queries that failed: {summary['gold_errors']}"
        )
    out += ["", "## Accuracy per category", "", "| category | accuracy | passed | items |"]
    out.append("|---|---:|---:|---:|")
    for name, acc in summary["per_category"].items():
        out.append(f"| {name} | {_pct(acc['accuracy'])} | {acc['passed']} | {acc['total']} |")
    out += ["", "## Accuracy per language", "", "| language | accuracy | passed | items |"]
    out.append("|---|---:|---:|---:|")
    for name, acc in summary["per_lang"].items():
        out.append(f"| {name} | {_pct(acc['accuracy'])} | {acc['passed']} | {acc['total']} |")
    out += ["", "## Latency (ms)", "", "| stage | p50 | p95 | n |", "|---|---:|---:|---:|"]
    for stage, stats in summary["latency_ms"].items():
        out.append(f"| {stage} | {_ms(stats['p50'])} | {_ms(stats['p95'])} | {stats['n']} |")
    missing = [s for s in STAGES if not summary["latency_ms"].get(s, {}).get("n")]
    if missing:
        out += ["", f"Stages without timings in `Answer.timings`: {', '.join(missing)}."]
    if summary["numbers_on_refusal"]:
        out += ["", "## Must-refuse questions answered with a number", ""]
        for entry in summary["numbers_on_refusal"]:
            out.append(f"- `{entry['id']}` {_cell(entry['question'])} (status {entry['status']})")
    failures = [r for r in results if not r.passed]
    out += ["", f"## Failures ({len(failures)})", ""]
    if failures:
        out += [
            "| id | category | lang | outcome | question | why |",
            "|---|---|---|---|---|---|",
        ]
        for r in failures:
            for n, t in enumerate(r.turns, start=1):
                if t.passed:
                    continue
                qid = f"{r.id} (turn {n})" if r.conversation else r.id
                out.append(
                    f"| `{qid}` | {r.category} | {r.lang} | {t.outcome.replace('_', ' ')} | "
                    f"{_cell(t.question)} | "
                    f"{_cell(t.reason or t.error or '')} |"
                )
    else:
        out.append("None.")
    out.append("")
    return "\n".join(out)
