"""`Answer`: everything one question produced, read alike by the UI, the CLI and the eval.

It carries every intermediate (the understood `SemanticQuery`, the SQL, the rows, the chart,
the narrative, what was not understood) so nobody has to recompute or guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from semantic_layer.compiler import OutputColumn
from semantic_layer.query import SemanticQuery

Status = Literal["ok", "clarify", "refused", "error"]


@dataclass(frozen=True)
class Suggestion:
    """A question the user can ask instead (a button in the UI)."""

    text: str
    reason: str = ""


@dataclass(frozen=True)
class Answer:
    """The answer to one question.

    status: "ok" (numbers), "clarify" (we need the user to pick or rephrase), "refused" (the
    question is understood but cannot be answered exactly: never a number), "error" (bad input
    or a failure, with a message).
    """

    question: str
    status: Status
    lang: str = "zh"
    query: SemanticQuery | None = None
    sql: str | None = None
    columns: tuple[OutputColumn, ...] = ()
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    interpretation: str = ""
    narrative: str = ""
    chart: dict[str, Any] | None = None
    suggestions: tuple[Suggestion, ...] = ()
    message: str = ""  # for clarify / refused / error: what exactly was not understood and why
    path: str = "rules"  # which path answered: "rules", "llm" or "llm_sql" (generated SQL)
    reason: str = ""  # why that path answered
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    notes: tuple[str, ...] = ()  # defaults we applied (e.g. "no period given: this year")
    # What was computed, in one checkable line per language: metric · filters · period ·
    # breakdown · comparison · ranking ("营业收入 · 区域 = 华东 · 今年 · 按月").
    restatement: dict[str, str] = field(default_factory=dict)
    # The English names of the members this answer shows, by dimension: {"region": {"华东":
    # "East"}} when the model names them in English. `rows` keep the data's own values (a
    # follow-up filters by them); tables, charts and chips on an English page show these.
    labels: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def records(self) -> list[dict[str, Any]]:
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in self.rows]

    def value(self, column: str | None = None, row: int = 0) -> Any:
        """One cell; by default the first metric of the first row."""
        if not self.rows:
            return None
        if column is None:
            column = next(c.name for c in self.columns if c.kind == "metric")
        return self.rows[row][self.names.index(column)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for `cockpit ask --json` and the eval report)."""
        return {
            "question": self.question,
            "status": self.status,
            "lang": self.lang,
            "query": self.query.model_dump(mode="json") if self.query else None,
            "sql": self.sql,
            "restatement": dict(self.restatement),
            "columns": [
                {"name": c.name, "kind": c.kind, "label": c.label.get(self.lang), "unit": c.unit}
                for c in self.columns
            ],
            "rows": [[_jsonable(v) for v in row] for row in self.rows],
            "interpretation": self.interpretation,
            "narrative": self.narrative,
            "message": self.message,
            "suggestions": [s.text for s in self.suggestions],
            "path": self.path,
            "reason": self.reason,
            "timings_ms": {k: round(v * 1000, 3) for k, v in self.timings.items()},
            "notes": list(self.notes),
            "labels": {dim: dict(names) for dim, names in self.labels.items()},
        }


def _jsonable(value: Any) -> Any:
    from datetime import date
    from decimal import Decimal

    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value
