"""The Python API: `Assistant` answers questions; `Conversation` keeps follow-up state.

    a = Assistant.demo()
    ans = a.ask("2025年各区域的营业收入")
    conv = a.conversation(); conv.ask("2025年华东区的收入"); conv.ask("华南呢?")

`ask` never raises for anything a user can type: every outcome is an `Answer` with a status.
"""

from __future__ import annotations

import logging
import time
from datetime import date
from pathlib import Path

from sqlglot import exp

from assistant.answer import Answer, Suggestion
from assistant.charts import chart
from assistant.present import interpretation, narrative
from assistant.settings import Settings
from assistant.understand.lexicon import Lexicon
from assistant.understand.resolve import Context, Understanding, language, understand
from semantic_layer.catalog import catalog
from semantic_layer.compiler import compile_query
from semantic_layer.engine import DuckDBEngine, Engine
from semantic_layer.errors import CockpitError
from semantic_layer.expressions import parse_expr, qualify
from semantic_layer.loader import load_model
from semantic_layer.model import MetricKind, SemanticModel
from semantic_layer.query import SemanticQuery

log = logging.getLogger("cockpit")


class Assistant:
    """Questions in, answers out, over one semantic model and one database."""

    def __init__(self, model: SemanticModel, engine: Engine, as_of: date | None = None) -> None:
        self.model = model
        self.engine = engine
        self.as_of = as_of or model.as_of or date.today()
        self.catalog = catalog(model)
        self.lexicon = Lexicon.build(model, engine)
        self.context = Context(model, self.catalog, self.lexicon, self.as_of, self._coverage())

    @classmethod
    def demo(
        cls, database: str | Path | None = None, scale: int = 1, as_of: date | None = None
    ) -> Assistant:
        """The demo company: an existing demo database file, or the cached one (built once)."""
        settings = Settings(demo_scale=scale)
        path = Path(database) if database is not None else settings.database_path()
        return cls(load_model(), DuckDBEngine(path), as_of or settings.as_of)

    @classmethod
    def open(
        cls,
        model: str | Path | None = None,
        database: str | Path | None = None,
        as_of: date | None = None,
    ) -> Assistant:
        """A model and database from arguments, else the environment and config (Settings)."""
        overrides = {"model": model, "database": database, "as_of": as_of}
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
        semantic_model = load_model(settings.model)
        engine = DuckDBEngine(settings.database_path())
        return cls(semantic_model, engine, settings.resolved_as_of(semantic_model.as_of))

    def conversation(self) -> Conversation:
        return Conversation(self)

    # --- asking -----------------------------------------------------------------------------
    def ask(
        self, question: str, previous: SemanticQuery | None = None, lang: str | None = None
    ) -> Answer:
        """Answer one question (as a follow-up of `previous` when it reads like one)."""
        lang = lang or language(question)
        if not question or not question.strip():
            message = "请输入一个问题。" if lang == "zh" else "Please type a question."
            return Answer(question=question, status="error", lang=lang, message=message)
        started = time.perf_counter()
        try:
            understood = understand(question, self.context, previous)
        except Exception:  # a bug, not a user mistake: log it, answer without a traceback
            log.exception("understanding failed for %r", question)
            return self._internal_error(question, lang)
        timings = {"understand": time.perf_counter() - started}
        if understood.status != "ok" or understood.query is None:
            return Answer(
                question=question,
                status=understood.status,
                lang=lang,  # type: ignore[arg-type]
                message=understood.message.get(lang, ""),
                suggestions=tuple(Suggestion(s[lang]) for s in understood.suggestions),
                timings=timings,
            )
        notes = [n[lang] for n in understood.notes]
        return self.run(understood.query, question, lang, timings, notes)

    def run(
        self,
        query: SemanticQuery,
        question: str = "",
        lang: str = "zh",
        timings: dict[str, float] | None = None,
        notes: list[str] | None = None,
    ) -> Answer:
        """Compile, execute and present a SemanticQuery (the second half of `ask`)."""
        timings = dict(timings or {})
        notes = list(notes or [])
        try:
            started = time.perf_counter()
            compiled = compile_query(self.model, query, dialect=self.engine.dialect)
            timings["compile"] = time.perf_counter() - started
            started = time.perf_counter()
            result = self.engine.execute(compiled.ast)
            timings["execute"] = time.perf_counter() - started
        except CockpitError as err:
            return Answer(
                question=question,
                status="refused",
                lang=lang,
                query=query,
                message=err.message(lang),
                timings=timings,
            )
        except Exception:
            log.exception("running %r failed", question)
            return self._internal_error(question, lang)
        started = time.perf_counter()
        answer = Answer(
            question=question,
            status="ok",
            lang=lang,
            query=query,
            sql=compiled.sql,
            columns=compiled.columns,
            rows=result.rows,
            interpretation=interpretation(query, self.model, compiled, lang, notes),
            narrative=narrative(query, self.model, compiled.columns, result.rows, lang),
            chart=chart(compiled.columns, result.rows, lang),
            notes=tuple(notes),
            timings=timings,
        )
        timings["present"] = time.perf_counter() - started
        return answer

    @staticmethod
    def _internal_error(question: str, lang: str) -> Answer:
        message = (
            "内部错误：这个问题触发了一个程序问题，已记录。请换个问法再试。"
            if lang == "zh"
            else "Internal error: this question hit a bug, which has been logged. Please "
            "try rephrasing it."
        )
        return Answer(question=question, status="error", lang=lang, message=message)

    def _coverage(self) -> dict[str, tuple[date, date]]:
        """The first and last date of each simple metric's data, to spot empty periods."""
        spans: dict[str, tuple[date, date]] = {}
        by_column: dict[str, tuple[date, date] | None] = {}
        for metric in self.model.metrics:
            if metric.kind is not MetricKind.simple or metric.table is None or not metric.time:
                continue
            column = qualify(parse_expr(metric.time), metric.table)
            key = column.sql()
            if key not in by_column:
                table = column.table if isinstance(column, exp.Column) else metric.table
                select = exp.select(exp.Min(this=column.copy()), exp.Max(this=column.copy()))
                try:
                    row = self.engine.execute(select.from_(table)).rows[0]
                    by_column[key] = (row[0], row[1]) if row[0] is not None else None
                except CockpitError:
                    by_column[key] = None
            span = by_column[key]
            if span is not None:
                first, last = span
                spans[metric.name] = (_as_date(first), _as_date(last))
        return spans


def _as_date(value: object) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value  # type: ignore[return-value]


class Conversation:
    """A chat: follow-ups ("华南呢?", "按月看", "what about 2024?") edit the last query."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.history: list[Answer] = []
        self.state: SemanticQuery | None = None

    def ask(self, question: str) -> Answer:
        answer = self.assistant.ask(question, previous=self.state)
        self.history.append(answer)
        if answer.status == "ok" and answer.query is not None:
            self.state = answer.query
        return answer

    def reset(self) -> None:
        self.history.clear()
        self.state = None


__all__ = ["Assistant", "Conversation", "Understanding"]
