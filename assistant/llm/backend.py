"""LLM understanding: a question the rules could not place → a validated `SemanticQuery`,
or, when no governed query can express it, guarded SQL.

The LLM is an upgrade, never a requirement, and never trusted: its output is parsed as JSON,
validated against the `SemanticQuery` schema, then compiled against the semantic layer; an
error gets one repair round carrying the error, then the answer falls back to clarification.
Generated SQL passes the SQL guard and gets up to two repair rounds with the database's error.
The LLM sees the question, the schema and retrieved catalogue entries — never data rows,
unless the user explicitly allows it.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlglot import exp
from sqlglot.errors import ParseError

from assistant.llm.redact import redact
from assistant.llm.retrieval import CatalogIndex
from assistant.understand.resolve import Context, language
from semantic_layer.compiler import compile_query
from semantic_layer.engine import Engine
from semantic_layer.errors import CockpitError, ExecutionError
from semantic_layer.expressions import parse_expr, qualify
from semantic_layer.guard import guard_sql
from semantic_layer.model import SemanticModel
from semantic_layer.query import SemanticQuery

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
JSON_BLOCK = re.compile(r"\{.*\}", re.S)
SQL_FENCE = re.compile(r"```(?:sql)?\s*(.*?)```", re.S | re.I)


def prompt(name: str, lang: str) -> str:
    """A prompt template from prompts/, in the question's language."""
    return (PROMPTS / f"{name}.{lang}.txt").read_text(encoding="utf-8")


def describe_dimension(model: SemanticModel, name: str, lang: str) -> str:
    """A dimension as the prompt lists it: its label, and for a role dimension what it reads
    and which rows (`Agent — Party identifier where Party role code = 'AG'`). Without the
    condition an LLM sees two dimensions over one column with nothing to tell them apart, and
    no reason to pick the agent's for "by agent"."""
    dim = model.dimension(name)
    label = dim.label.get(lang)
    if dim.where is None or dim.table is None or dim.expr is None:
        return label
    # The model's own words for a column: the label of the plain dimension reading it.
    words: dict[tuple[str, str], str] = {}
    for other in model.dimensions:
        if other.where is None and other.table and other.expr and not other.sources:
            try:
                node = qualify(parse_expr(other.expr), other.table)
            except ParseError:
                continue
            if isinstance(node, exp.Column):
                words.setdefault((node.table.lower(), node.name.lower()), other.label.get(lang))

    def say(text: str) -> str:
        def word(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column):
                return exp.Var(this=words.get((node.table.lower(), node.name.lower()), node.name))
            return node

        return qualify(parse_expr(text), dim.table).transform(word).sql("duckdb")

    try:
        what, rows = say(dim.expr), say(dim.where)
    except ParseError:
        return label
    if lang == "zh":
        return f"{label} — {what}，仅限 {rows} 的行"
    return f"{label} — {what} where {rows}"


class LLMUnavailable(Exception):
    """The endpoint failed (down, timeout, refused): the caller degrades to the rules."""


@dataclass
class LLMResult:
    """What the LLM path produced: a governed query, or guarded SQL with its result."""

    query: SemanticQuery | None = None
    sql: str | None = None  # the guarded statement, before the role's views (text, not an AST)
    rows: Any = None  # the engine's result of that statement
    reason: str = ""
    attempts: list[str] = field(default_factory=list)  # raw outputs, for the audit trail


class LLMBackend:
    """Understanding and SQL writing through any langchain chat model."""

    def __init__(
        self,
        chat_model: Any,
        context: Context,
        engine: Engine,
        index: CatalogIndex | None = None,
        time_limit: float = 30.0,
        send_rows: bool = False,
    ) -> None:
        """`time_limit`: database seconds one question may spend across all its statements
        (the first attempt and every repair share it). `send_rows`: the LLM may see data
        (`llm_send_rows`); off, a database error reaches a repair prompt without the values
        it quotes."""
        self.chat = chat_model
        self.ctx = context
        self.engine = engine
        self.index = index
        self.time_limit = time_limit
        self.send_rows = send_rows

    # --- calling the model ------------------------------------------------------------------
    def _call(self, messages: list[tuple[str, str]]) -> str:
        try:
            reply = self.chat.invoke(messages)
        except Exception as err:  # network, timeout, auth: all mean "not available now"
            raise LLMUnavailable(f"{type(err).__name__}: {str(err)[:200]}") from err
        content = reply.content if hasattr(reply, "content") else str(reply)
        return content if isinstance(content, str) else json.dumps(content)

    # --- context for the prompt ---------------------------------------------------------------
    def _context(self, question: str, lang: str) -> dict[str, str]:
        model = self.ctx.model
        if self.index is not None and not self.index.empty:
            metrics = [h.name for h in self.index.search(question, "metric", 10)]
            dimensions = [h.name for h in self.index.search(question, "dimension", 8)]
            values = self.index.search(question, "value", 12)
            examples = self.index.search(question, "example", 5)
        else:  # no index (tests, tiny models): the catalogue is small enough to list
            role = getattr(self.engine, "role", None)
            denied = set(role.denied_metrics) if role is not None else set()
            metrics = [m.name for m in model.metrics if m.name not in denied]
            dimensions = [d.name for d in model.dimensions]
            values, examples = [], []
        if "metric_time" not in dimensions and "metric_time" in model.dimension_map:
            dimensions.insert(0, "metric_time")
        zh = lang == "zh"
        metric_lines = []
        for name in metrics:
            metric = model.metric(name)
            definition = metric.description.get(lang) if metric.description else ""
            metric_lines.append(f"- {name}: {metric.label.get(lang)} — {definition}")
        dimension_lines = [f"- {n}: {describe_dimension(model, n, lang)}" for n in dimensions]
        value_lines = []
        for hit in values:
            payload = json.loads(hit.payload)
            value_lines.append(f"- {payload['dimension']} = {payload['value']}")
        example_lines = [f"- {h.text} → {h.payload}" for h in examples]
        none = "（无）" if zh else "(none)"
        as_of = self.ctx.as_of
        return {
            "as_of": as_of.isoformat(),
            "year_start": date(as_of.year, 1, 1).isoformat(),
            "metrics": "\n".join(metric_lines) or none,
            "dimensions": "\n".join(dimension_lines) or none,
            "values": "\n".join(value_lines) or none,
            "examples": "\n".join(example_lines) or none,
        }

    # --- question → SemanticQuery -----------------------------------------------------------
    def understand(self, question: str, previous: SemanticQuery | None = None) -> LLMResult:
        """A validated SemanticQuery, or guarded SQL, or a result with only a reason."""
        lang = language(question)
        values = self._context(question, lang)
        previous_text = ""
        if previous is not None:
            dumped = previous.model_dump_json(exclude_defaults=True)
            previous_text = (
                f"\n上一轮的查询（本问题可能是追问）：{dumped}\n"
                if lang == "zh"
                else f"\nThe previous query (this may be a follow-up): {dumped}\n"
            )
        text = prompt("understand", lang).format(
            question=question, previous=previous_text, **values
        )
        messages: list[tuple[str, str]] = [("human", text)]
        result = LLMResult()
        for attempt in range(2):  # the first answer, then one repair round
            output = self._call(messages)
            result.attempts.append(output)
            query, error, unanswerable = self._validate(output)
            if query is not None:
                result.query = query
                result.reason = "llm" if attempt == 0 else "llm after one repair"
                return result
            if unanswerable:
                break
            messages += [
                ("ai", output),
                ("human", prompt("repair", lang).format(error=error, previous_output=output)),
            ]
        # Not expressible as a governed query: let the model write guarded SQL.
        return self.write_sql(question, result)

    def _validate(self, output: str) -> tuple[SemanticQuery | None, str, bool]:
        match = JSON_BLOCK.search(output)
        if match is None:
            return None, "the output is not a JSON object", False
        try:
            data = json.loads(match.group(0))
        except json.JSONDecodeError as err:
            return None, f"invalid JSON: {err}", False
        if isinstance(data, dict) and "unanswerable" in data:
            return None, str(data["unanswerable"]), True
        try:
            query = SemanticQuery.model_validate(data)
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()[:5]
            )
            return None, f"schema: {problems}", False
        try:
            compile_query(self.ctx.model, query)
        except CockpitError as err:
            return None, err.message("en"), False
        return query, "", False

    # --- guarded SQL --------------------------------------------------------------------------
    def write_sql(self, question: str, result: LLMResult | None = None) -> LLMResult:
        """SQL over the model's tables, guarded; up to two repairs with the database's error."""
        result = result or LLMResult()
        lang = language(question)
        model = self.ctx.model
        tables = [t.name for t in model.tables]
        schema = self.engine.schema()
        schema_lines = [
            f"- {t}({', '.join(f'{c} {k}' for c, k in schema.get(t, {}).items())})" for t in tables
        ]
        join_lines = [f"- {j.from_table}.{j.on[0][0]} → {j.to}.{j.on[0][1]}" for j in model.joins]
        values = self._context(question, lang)
        text = prompt("sql", lang).format(
            question=question,
            as_of=self.ctx.as_of.isoformat(),
            schema="\n".join(schema_lines),
            joins="\n".join(join_lines),
            metrics=values["metrics"],
        )
        messages: list[tuple[str, str]] = [("human", text)]
        # One deadline for the question: repairs share the time limit, they do not renew it.
        deadline = time.monotonic() + self.time_limit
        for attempt in range(3):  # the first answer, then two repair rounds
            left = deadline - time.monotonic()
            if left <= 0:
                result.reason = f"time limit of {self.time_limit:g} s reached"
                break
            output = self._call(messages)
            result.attempts.append(output)
            sql = _sql_of(output)
            try:
                # A clear reason for the repair before anything runs; its text is what the
                # answer shows (the statement as run carries the role's views: never shown).
                guarded = guard_sql(sql, tables).sql(dialect="duckdb", pretty=True)
                # Text, not the parsed tree: the engine parses it again, dropping comments and
                # metadata, and checks every column; its rows are the answer's.
                rows = _execute(self.engine, sql, deadline - time.monotonic())
            except CockpitError as err:
                error = err.message("en")
                told = error if self.send_rows else _without_data(err, schema)
                messages += [
                    ("ai", output),
                    ("human", prompt("sql_repair", lang).format(error=told, previous_output=sql)),
                ]
                result.reason = error
                continue
            result.sql = guarded
            result.rows = rows
            result.reason = (
                "generated SQL" if attempt == 0 else f"generated SQL after {attempt} repair(s)"
            )
            return result
        return result

    def narrate(self, question: str, columns: list[str], rows: list[tuple]) -> str:
        """Only with llm_send_rows: a narrative written by the model from the result rows."""
        lang = language(question)
        sample = [dict(zip(columns, map(str, r), strict=True)) for r in rows[:50]]
        ask = (
            "用两三句话回答问题，引用结果中的数字："
            if lang == "zh"
            else "Answer the question in two or three sentences, quoting the numbers: "
        )
        return self._call(
            [("human", f"{ask}\n{question}\n{json.dumps(sample, ensure_ascii=False)}")]
        )


def _without_data(err: CockpitError, schema: dict[str, dict[str, str]]) -> str:
    """The error for a repair prompt when the LLM may not see data: the database's own words
    with every value a row could have put there taken out (`redact`). The guard's and the
    compiler's messages come from the statement and the model alone, and pass as they are."""
    if err.code != "database_error":
        return err.message("en")
    names = [*schema, *(c for columns in schema.values() for c in columns)]
    names += [f"{table}.{column}" for table, columns in schema.items() for column in columns]
    detail = redact(str(err.params.get("detail", "")), names)
    return ExecutionError("database_error", detail=detail).message("en")


def _execute(engine: Engine, sql: str, left: float):
    """Run LLM text through the secured engine's untrusted entry, within what is left."""
    untrusted = getattr(engine, "execute_untrusted", None)
    if untrusted is not None:
        return untrusted(sql, timeout=max(left, 0.001))
    return engine.execute(sql)


def _sql_of(output: str) -> str:
    fenced = SQL_FENCE.search(output)
    return (fenced.group(1) if fenced else output).strip().rstrip(";").strip()


def examples_from_eval(root: Path, context: Context) -> list[tuple[str, dict]]:
    """Seed examples: eval questions the rules understand, with their SemanticQuery."""
    import yaml

    from assistant.understand.resolve import understand

    pairs: list[tuple[str, dict]] = []
    for file in sorted((root / "eval" / "questions").glob("*.yaml")):
        for item in yaml.safe_load(file.read_text(encoding="utf-8")) or []:
            questions = [item["question"]] if "question" in item else []
            for question in questions:
                understood = understand(question, context)
                if understood.status == "ok" and understood.query is not None:
                    dumped = understood.query.model_dump(mode="json", exclude_defaults=True)
                    pairs.append((question, dumped))
    return pairs
