"""The Python API: `Assistant` answers questions; `Conversation` keeps follow-up state.

    a = Assistant.demo()
    ans = a.ask("2025年各区域的营业收入")
    conv = a.conversation(); conv.ask("2025年华东区的收入"); conv.ask("华南呢?")

`ask` never raises for anything a user can type: every outcome is an `Answer` with a status.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from assistant.answer import Answer, Suggestion
from assistant.charts import chart, named_rows
from assistant.present import CONTEXT_PERIODS, interpretation, narrative, restatement
from assistant.settings import Settings
from assistant.understand.lexicon import Lexicon
from assistant.understand.resolve import (
    EPOCH,
    Context,
    Understanding,
    is_new,
    language,
    understand,
)
from assistant.understand.vocabulary import remember_in
from semantic_layer.catalog import catalog
from semantic_layer.compiler import add_months, compile_for, with_definitions
from semantic_layer.engine import DuckDBEngine, Engine
from semantic_layer.errors import CockpitError
from semantic_layer.expressions import parse_expr, qualify
from semantic_layer.loader import load_model
from semantic_layer.model import MetricKind, SemanticModel
from semantic_layer.query import Compare, Intent, SemanticQuery
from semantic_layer.security import question_deadline

if TYPE_CHECKING:
    from assistant.llm.backend import LLMBackend

log = logging.getLogger("cockpit")


class Assistant:
    """Questions in, answers out, over one semantic model and one database."""

    def __init__(
        self,
        model: SemanticModel,
        engine: Engine,
        as_of: date | None = None,
        llm: Any = None,
        settings: Settings | None = None,
        role: str | None = None,
    ) -> None:
        """`llm`: a langchain chat model (tests pass fakes); by default one is built from the
        settings only if an LLM endpoint is configured — otherwise the rules answer alone.
        `role`: the model role whose row filters and masks apply to every statement."""
        from assistant.audit import AuditLog
        from semantic_layer.security import SecuredEngine

        self.raw_engine = engine.engine if isinstance(engine, SecuredEngine) else engine
        # Time columns stored as text or integer years are read as dates (said in `adapted`).
        model, self.adapted = _fit_to_database(model, self.raw_engine)
        self.model = model
        # Every statement — compiled, explained, summarised or LLM-written — is guarded here.
        self.engine = SecuredEngine(self.raw_engine, model, role, self._max_rows(settings))
        self.role = role
        self.settings = settings or Settings()
        self.as_of = _as_of(as_of) or model.as_of or date.today()
        self.catalog = catalog(model)
        remember_in(self.settings.cache_dir)  # word forms kept between starts
        self._scope()
        self._llm = llm
        self._backend: LLMBackend | None = None
        self._scoped: dict[str | None, Assistant] = {role: self}
        self.audit = AuditLog(self.settings.cache_dir / "audit" / "audit.jsonl")

    @staticmethod
    def _max_rows(settings: Settings | None) -> int:
        return (settings or Settings()).max_rows

    def _scope(self) -> None:
        """What understanding knows is what the role may see: member names (and each metric's
        data span) are read through the role's own secured engine, so a name outside the role
        is as unknown as a made-up one, and no prompt can carry it."""
        self.lexicon = Lexicon.build(self.model, self.engine)
        spans, undated = self._coverage()
        self.context = Context(
            self.model, self.catalog, self.lexicon, self.as_of, spans, frozenset(undated)
        )

    def for_role(self, role: str | None) -> Assistant:
        """The same assistant seen through `role`'s row filters and masks (built once)."""
        if role not in self._scoped:
            scoped = object.__new__(Assistant)
            scoped.__dict__.update(self.__dict__)
            from semantic_layer.security import SecuredEngine

            scoped.engine = SecuredEngine(self.raw_engine, self.model, role, self.settings.max_rows)
            scoped.role = role
            scoped._backend = None
            scoped._scope()
            self._scoped[role] = scoped
        return self._scoped[role]

    @property
    def llm_enabled(self) -> bool:
        return self._llm is not None or self.settings.llm_configured

    def backend(self) -> LLMBackend:
        """The LLM path, built on first use (nothing is loaded when no LLM is configured)."""
        if self._backend is None:
            from assistant.llm.backend import LLMBackend as Backend
            from assistant.llm.client import chat_model

            chat = self._llm if self._llm is not None else chat_model(self.settings)
            self._backend = Backend(
                chat,
                self.context,
                self.engine,
                self._index(),
                self.settings.query_timeout,
                send_rows=self.settings.llm_send_rows,
            )
        return self._backend

    def _index(self):
        """The retrieval index in the cache directory; None if chromadb cannot open it."""
        from assistant.llm.backend import examples_from_eval
        from assistant.llm.client import embedder
        from assistant.llm.retrieval import (
            CatalogIndex,
            catalog_items,
            example_items,
            fingerprint,
            hashed_ngrams,
        )

        embed = embedder(self.settings) or hashed_ngrams
        name = self.settings.embedding_model or "hashed-ngrams"
        try:
            hidden = self._hidden_from_prompts()
            # One index per what a prompt may contain: a role never reads another's index.
            scope = json.dumps(
                [sorted(hidden.dimensions), sorted(hidden.metrics), sorted(hidden.words)],
                ensure_ascii=False,
            )
            index = CatalogIndex(
                self.settings.cache_dir / "chroma",
                fingerprint(self.model, self.lexicon, name + scope),
                embed,
            )
            if index.empty:
                root = Path(__file__).resolve().parents[1]
                items = catalog_items(self.model, self.lexicon, hidden=hidden)
                examples = examples_from_eval(root, self.context) + self._good_examples()
                items += example_items([e for e in examples if not _mentions(e, hidden.words)])
                index.add(items)
        except Exception:  # retrieval is an aid: without it the prompt lists the catalogue
            log.exception("retrieval index unavailable")
            return None
        return index

    def _hidden_from_prompts(self):
        """What a prompt for this role may not contain: the role's masked dimensions and
        denied metrics, and every member name the unrestricted data has that the role's does
        not (read here, in process, only to keep them out of the prompt)."""
        from assistant.llm.retrieval import Hidden

        role = self.engine.role
        if role is None:
            return Hidden()
        full = Lexicon.build(self.model, self.raw_engine)
        masked = set(role.masked_dimensions)
        words: set[str] = set()
        for dimension, values in full.values.items():
            visible = set() if dimension in masked else set(self.lexicon.values.get(dimension, []))
            words.update(v for v in values if v not in visible and len(v) > 1)
        return Hidden(
            dimensions=frozenset(masked),
            metrics=frozenset(role.denied_metrics),
            words=frozenset(words),
        )

    def _examples_file(self) -> Path:
        return self.settings.cache_dir / "good_examples.jsonl"

    def _good_examples(self) -> list[tuple[str, dict]]:
        path = self._examples_file()
        if not path.exists():
            return []
        pairs = []
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            pairs.append((record["question"], record["query"]))
        return pairs

    def mark_good(self, answer: Answer) -> None:
        """Keep a question → query pair the user approved, as an example for the LLM."""
        if answer.status != "ok" or answer.query is None:
            return
        record = {
            "question": answer.question,
            "query": answer.query.model_dump(mode="json", exclude_defaults=True),
        }
        try:
            self.settings.cache_dir.mkdir(parents=True, exist_ok=True)
            with self._examples_file().open("a", encoding="utf-8") as out:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        except OSError as err:  # a thumbs-up must never crash the app
            log.warning("cannot keep the example: %s", err)
            return
        if self._backend is not None and self._backend.index is not None:
            from assistant.llm.retrieval import example_items

            self._backend.index.add(example_items([(record["question"], record["query"])]))

    @classmethod
    def demo(
        cls,
        database: str | Path | None = None,
        scale: int = 1,
        as_of: date | str | None = None,
        settings: Settings | None = None,
    ) -> Assistant:
        """The demo company: an existing demo database file, or the cached one (built once).

        `as_of` is a `date` or "YYYY-MM-DD". Raises `SettingsError` (a `CockpitError`, one line
        per bad setting) when an argument, an environment variable or the config file holds a
        value that cannot be used — at construction, never later per question."""
        from assistant.settings import load_settings

        settings = load_settings(base=settings, as_of=as_of, demo_scale=None if settings else scale)
        path = Path(database) if database is not None else settings.database_path()
        engine = DuckDBEngine(path, timeout=settings.query_timeout, **engine_budget(settings))
        return cls(load_model(), engine, settings.as_of, settings=settings, role=settings.role)

    @classmethod
    def open(
        cls,
        model: str | Path | None = None,
        database: str | Path | None = None,
        as_of: date | str | None = None,
        settings: Settings | None = None,
        role: str | None = None,
        engine: str | None = None,
    ) -> Assistant:
        """A model and database from arguments, else the environment and config (Settings).

        `as_of` is a `date` or "YYYY-MM-DD"; `engine` ("postgresql://…") queries PostgreSQL
        instead of a DuckDB file. Raises `SettingsError` (a `CockpitError`, one line per bad
        setting) for an unusable argument, environment variable or config file value."""
        from assistant.settings import load_settings

        settings = load_settings(
            base=settings, model=model, database=database, as_of=as_of, role=role, engine=engine
        )
        semantic_model = load_model(settings.model)
        from semantic_layer.engine import open_engine

        engine = open_engine(
            settings.engine or settings.database_path(),
            settings.query_timeout,
            **engine_budget(settings),
        )
        return cls(
            semantic_model,
            engine,
            settings.resolved_as_of(semantic_model.as_of),
            settings=settings,
            role=settings.role,
        )

    def conversation(self, role: str | None = ...) -> Conversation:  # type: ignore[assignment]
        """A conversation; `role` scopes it (by default the assistant's own role)."""
        return Conversation(self if role is ... else self.for_role(role))

    # --- asking -----------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        previous: SemanticQuery | None = None,
        lang: str | None = None,
        role: str | None = ...,  # type: ignore[assignment]
        after_unanswered: bool = False,
    ) -> Answer:
        """Answer one question (as a follow-up of `previous` when it reads like one).

        `role` scopes the answer to a model role; by default the assistant's own role.
        `after_unanswered`: the conversation's questions so far were not understood, so a
        follow-up ("那赔款准备金呢") cannot know what it continues and is asked again in full.
        Every question is written to the audit log.
        """
        if role is not ... and role != self.role:
            try:
                scoped = self.for_role(role)
            except CockpitError as err:
                lang = lang or language(str(question or ""))
                refused = Answer(
                    question=str(question), status="error", lang=lang, message=err.message(lang)
                )
                self.audit.record(refused, role, 0.0)  # a bad role is worth a line too
                return refused
            return scoped.ask(question, previous, lang, after_unanswered=after_unanswered)
        started = time.perf_counter()
        try:
            with question_deadline(self.settings.query_timeout):
                answer = self._ask(question, previous, lang, after_unanswered)
        except CockpitError as err:  # a database or model limit met on an insight path
            lang = lang or language(str(question or ""))
            answer = _refused(str(question), lang, err.message(lang))
        except Exception:  # a bug: the user gets a message, the audit log still gets its line
            log.exception("answering failed for %r", question)
            answer = self._internal_error(str(question), lang or "zh")
        self.audit.record(answer, self.role, time.perf_counter() - started)
        return answer

    def _ask(
        self,
        question: str,
        previous: SemanticQuery | None,
        lang: str | None,
        after_unanswered: bool = False,
    ) -> Answer:
        question, problem = _clean(question)
        lang = lang or language(question, self.settings.lang)
        if problem is not None:
            return Answer(question=question, status="error", lang=lang, message=problem[lang])
        insight = _insight_question(question)
        if insight is not None:
            from assistant.insights import answers

            try:
                return getattr(answers, f"{insight}_answer")(self, question, lang)
            except CockpitError as err:
                return _refused(question, lang, err.message(lang))
        started = time.perf_counter()
        try:
            understood = understand(question, self.context, previous)
        except Exception:  # a bug, not a user mistake: log it, answer without a traceback
            log.exception("understanding failed for %r", question)
            return self._internal_error(question, lang)
        timings = {"understand": time.perf_counter() - started}
        if after_unanswered and understood.parse is not None and not is_new(understood.parse):
            # It continues the question that got no answer: what it keeps of that question is
            # unknown, and an old answer's filters would make a confident wrong number.
            return Answer(
                question=question,
                status="clarify",
                lang=lang,  # type: ignore[arg-type]
                message=(
                    "前面的问题没有理解，这个追问不知道接着什么问。请把问题完整地问一次"
                    "（指标、范围和分组都写出来）。"
                    if lang == "zh"
                    else "The question before was not understood, so this follow-up has nothing "
                    "to continue. Please ask it in full (the metric, the scope and any breakdown)."
                ),
                suggestions=tuple(Suggestion(s[lang]) for s in understood.suggestions),
                timings=timings,
                reason="a follow-up of an unanswered question",
            )
        notice = ""
        if understood.status == "clarify" and self.llm_enabled:
            # Rules first; the LLM only for what they could not place, and only if configured.
            routed = self._ask_llm(question, previous, lang, timings)
            if isinstance(routed, Answer):
                return routed
            notice = routed
        if understood.status == "clarify" and self._scoped_rows():
            # The same words whether a name is unknown or outside the role: no existence oracle.
            notice = (notice + "\n" if notice else "") + (
                "（若它是一个名称：也可能不在你可查看的数据范围内。）"
                if lang == "zh"
                else "(If it is a name, it may also be outside the data you can see.)"
            )
        if understood.status != "ok" or understood.query is None:
            return Answer(
                question=question,
                status=understood.status,
                lang=lang,  # type: ignore[arg-type]
                message=understood.message.get(lang, "") + (f"\n{notice}" if notice else ""),
                suggestions=tuple(Suggestion(s[lang]) for s in understood.suggestions),
                timings=timings,
                reason="rules could not answer exactly" + (f"; {notice}" if notice else ""),
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
        plain: bool = False,
    ) -> Answer:
        """Compile, execute and present a SemanticQuery (the second half of `ask`).

        Explain and summary intents go to the insights unless `plain` asks for the numbers only.
        """
        timings = dict(timings or {})
        notes = list(notes or [])
        query, clipped = self._up_to_as_of(query, lang)
        if clipped:
            notes.append(clipped)
        try:  # metrics the question defines for itself join the model for this answer
            model = with_definitions(self.model, query)
        except CockpitError as err:
            return _refused(question, lang, err.message(lang), query, timings)
        # The insights work on the model's own metrics: a defined metric gets its numbers.
        plain = plain or bool(query.define)
        summary = not plain and query.intent is Intent.summary and not query.dimensions
        # A summary leaves out what the role may not see (and says so); anything else is refused.
        denied = None if summary else self._out_of_scope(query, lang, model)
        if denied is None:
            denied = self._unknown_members(query, lang)
        if denied is not None:
            return _refused(question, lang, denied, query, timings)
        if (
            not plain
            and query.intent is Intent.summary
            and not query.dimensions
            and query.time_range is not None
        ):
            from assistant.insights.answers import summary_answer

            return summary_answer(self, query, question, lang, timings, notes)
        if (
            not plain
            and query.intent is Intent.explain
            and len(query.metrics) == 1
            and not query.dimensions
        ):
            from assistant.insights.answers import explain_answer

            try:
                return explain_answer(self, query, question, lang, timings)
            except CockpitError as err:
                return _refused(question, lang, err.message(lang), query, timings)
        shown = query if plain else self._with_context(query)
        try:
            started = time.perf_counter()
            compiled = compile_for(self.engine, self.model, shown)
            timings["compile"] = time.perf_counter() - started
            started = time.perf_counter()
            result = self.engine.execute(compiled.ast)
            timings["execute"] = time.perf_counter() - started
            if shown is not query and not _compared(compiled.columns, result.rows):
                # No figure for the period before (the data starts later): the number alone.
                shown = query
                compiled = compile_for(self.engine, self.model, query)
                result = self.engine.execute(compiled.ast)
        except CockpitError as err:
            message = err.message(lang)
            if err.code == "database_error":
                # The model's SQL failed on this data (a text column summed, a renamed column):
                # say which metrics, and where the model is checked against the database.
                names = ("、" if lang == "zh" else ", ").join(
                    model.metric(m).label.get(lang) for m in query.metrics
                )
                message += (
                    f"\n指标「{names}」的定义可能与数据不符：`cockpit check --db` 会逐项检查模型。"
                    if lang == "zh"
                    else f"\nThe definition of {names} may not fit the data: `cockpit check "
                    "--db` checks the model item by item."
                )
            return _refused(question, lang, message, query, timings)
        except Exception:
            log.exception("running %r failed", question)
            return self._internal_error(question, lang)
        if shown is not query:
            words = CONTEXT_PERIODS.get(shown.compare, CONTEXT_PERIODS[Compare.previous_period])
            single = len(query.metrics) == 1
            notes.append(
                f"{'单个数字' if single else '各项数字'}附上与{words[0]}的对比"
                if lang == "zh"
                else f"{'A single number comes' if single else 'Each figure comes'} with {words[1]}"
                " for context"
            )
        started = time.perf_counter()
        labels = self._member_names(query, compiled.columns, result.rows)
        seen = named_rows(compiled.columns, result.rows, labels) if lang == "en" else result.rows
        # `query` stays the answer's query: a follow-up continues from what was asked, not
        # from the comparison added for context.
        answer = Answer(
            question=question,
            status="ok",
            lang=lang,
            query=query,
            sql=compiled.sql,
            columns=compiled.columns,
            rows=result.rows,
            interpretation=interpretation(shown, model, compiled, lang, notes, labels),
            narrative=narrative(shown, model, compiled.columns, seen, lang, labels),
            chart=chart(
                compiled.columns,
                seen,
                lang,
                model=model,
                query=shown,
                labels=labels if lang == "en" else None,
            ),
            restatement=restatement(
                query, model, self.lexicon.english, shown=shown if shown is not query else None
            ),
            labels=labels,
            notes=tuple(notes),
            timings=timings,
        )
        timings["present"] = time.perf_counter() - started
        return answer

    def _ask_llm(
        self, question: str, previous: SemanticQuery | None, lang: str, timings: dict[str, float]
    ) -> Answer | str:
        """The LLM path: an Answer, or a notice saying why it could not help."""
        from assistant.llm.backend import LLMUnavailable

        started = time.perf_counter()
        try:
            result = self.backend().understand(question, previous)
        except LLMUnavailable as err:
            log.warning("LLM unavailable: %s", err)
            return (
                "（LLM 暂不可用，已使用离线规则：" + str(err)[:120] + "）"
                if lang == "zh"
                else "(The LLM is unavailable; offline rules were used: " + str(err)[:120] + ")"
            )
        finally:
            timings["llm"] = time.perf_counter() - started
        if result.query is not None:
            answer = self.run(result.query, question, lang, timings)
            return replace(answer, path="llm", reason=result.reason)
        if result.sql is not None and result.rows is not None:
            return self._sql_answer(question, lang, result, timings)
        return (
            "（LLM 也未能给出可验证的查询：" + result.reason[:160] + "）"
            if lang == "zh"
            else "(The LLM could not produce a valid query either: " + result.reason[:160] + ")"
        )

    def _sql_answer(self, question: str, lang: str, result, timings: dict[str, float]) -> Answer:
        """Rows from guarded, LLM-written SQL — labelled as not a governed metric."""
        from semantic_layer.compiler import OutputColumn
        from semantic_layer.model import Label

        # The rows of the guarded dry run: LLM text never reaches the engine as an AST.
        rows = result.rows
        columns = tuple(
            OutputColumn(
                c.name,
                "metric"
                if any(k in c.type for k in ("INT", "DECIMAL", "DOUBLE", "FLOAT"))
                else "dimension",
                c.name,
                Label(zh=c.name, en=c.name),
            )
            for c in rows.columns
        )
        label = (
            "生成的 SQL，非治理指标：结果未经指标中心口径校验，请核对 SQL。"
            if lang == "zh"
            else "Generated SQL, not a governed metric: check the SQL before relying on it."
        )
        narrative = label
        if self.settings.llm_send_rows:
            narrative = self.backend().narrate(question, rows.names, rows.rows) + "\n" + label
        return Answer(
            question=question,
            status="ok",
            lang=lang,
            sql=result.sql,
            columns=columns,
            rows=rows.rows,
            narrative=narrative,
            interpretation=label,
            path="llm_sql",
            reason=result.reason,
            timings=timings,
            notes=(label,),
        )

    def _out_of_scope(
        self, query: SemanticQuery, lang: str, model: SemanticModel | None = None
    ) -> str | None:
        """Why the role may not see this at all (a denied metric, a closed table), or None.

        The SQL rewrite already keeps the data out; this says so instead of showing blanks.
        `model`: the model with the question's own definitions, if any.
        """
        role = self.engine.role
        if role is None:
            return None
        from semantic_layer.security import policies

        model = model or self.model
        cat = catalog(model)
        table_policies = policies(self.model, role, self.engine.secret, self.engine.dialect)
        for metric in query.metrics:
            leaves = cat.leaves(metric)
            label = model.metric(metric).label.get(lang)
            role_label = role.title(lang)
            if metric in role.denied_metrics or any(m in role.denied_metrics for m in leaves):
                return (
                    f"当前角色「{role_label}」无权查看「{label}」。"
                    if lang == "zh"
                    else f"The role '{role_label}' may not see '{label}'."
                )
            resolved = [cat.leaf(m) for m in leaves]
            hidden = any(
                table_policies[leaf.table.lower()].deny
                or any(
                    isinstance(table_policies[c.table.lower()].masked.get(c.name), exp.Null)
                    for c in leaf.expr.find_all(exp.Column)
                    if c.table and c.table.lower() in table_policies
                )
                for leaf in resolved
            )
            if hidden:
                return (
                    f"「{label}」的数据不在角色「{role_label}」的权限范围内。"
                    if lang == "zh"
                    else f"'{label}' is outside the data the role '{role_label}' may see."
                )
        return None

    def _scoped_rows(self) -> bool:
        """Whether this assistant's role sees only some rows."""
        role = self.engine.role
        return role is not None and bool(role.row_filters)

    def _unknown_members(self, query: SemanticQuery, lang: str) -> str | None:
        """A filter naming a member the data (as this role sees it) does not have.

        Outside the role and not existing at all read the same — one message, one status — so
        a role cannot probe which customers exist elsewhere. Only category dimensions whose
        members were all read are checked (a truncated list proves nothing)."""
        from assistant.understand.lexicon import MAX_VALUES

        for f in query.filters:
            if f.op not in ("=", "in"):
                continue
            known = self.lexicon.values.get(f.dimension)
            if known is None or len(known) >= MAX_VALUES:
                continue
            members = set(known)
            missing = [str(v) for v in f.values if str(v) not in members]
            if missing:
                dim = self.model.dimension(f.dimension).label.get(lang)
                return (
                    f"在你可查看的数据中没有{dim}「{'、'.join(missing)}」。请检查名称，或换一个{dim}。"
                    if lang == "zh"
                    else f"There is no {dim.lower()} '{', '.join(missing)}' in the data you can "
                    f"see. Check the name, or pick another {dim.lower()}."
                )
        return None

    @staticmethod
    def _internal_error(question: str, lang: str) -> Answer:
        message = (
            "内部错误：这个问题触发了一个程序问题，已记录。请换个问法再试。"
            if lang == "zh"
            else "Internal error: this question hit a bug, which has been logged. Please "
            "try rephrasing it."
        )
        return Answer(question=question, status="error", lang=lang, message=message)

    def _member_names(
        self, query: SemanticQuery, columns: Any, rows: Any
    ) -> dict[str, dict[str, str]]:
        """English names of the members an answer shows (its rows and its filters), from the
        role's own lexicon — the model's `value_labels` or `value_label_en` column — for
        whoever reads it in English (an English answer, or a Chinese one on an English page)."""
        english = self.lexicon.english
        shown: dict[str, set[str]] = {}
        for i, column in enumerate(columns):
            if column.kind == "dimension" and column.source in english:
                shown.setdefault(column.source, set()).update(str(r[i]) for r in rows)
        for f in query.filters:
            if f.dimension in english:
                shown.setdefault(f.dimension, set()).update(str(v) for v in f.values)
        return {
            dim: {v: english[dim][v] for v in values if v in english[dim]}
            for dim, values in shown.items()
        }

    def _with_context(self, query: SemanticQuery) -> SemanticQuery:
        """A single number of a flow over a period — or a topic's pack of them ("回款情况") —
        with the period before beside it (people read 6.86亿 as good or bad only next to last
        year's): a year or year-to-date against the same span a year earlier, a calendar month
        or quarter against the one before, any other span against the adjacent one of the same
        length. Balances, budgets and figures
        against them, rankings, all-time figures and metrics defined in the question stay as
        asked."""
        window = query.time_range
        packs = [set(topic.metrics) for topic in self.model.knowledge.topics]
        if (
            window is None
            or window.start <= EPOCH
            or (len(query.metrics) != 1 and set(query.metrics) not in packs)
            or query.dimensions
            or query.compare is not Compare.none
            or query.define
            or query.limit is not None
            or query.intent not in (Intent.lookup,)
        ):
            return query
        leaves = [leaf for metric in query.metrics for leaf in self.catalog.leaves(metric)]
        if any(self.model.metric(m).semi_additive or m in self._plans for m in leaves):
            return query  # a balance is read at a date; a figure against its plan is compared
        start, end = window.start, window.end
        if start.month == 1 and start.day == 1 and end <= date(start.year + 1, 1, 1):
            compare = Compare.yoy
        elif start.day == 1 and end == add_months(start, 1):
            compare = Compare.mom
        elif start.day == 1 and start.month % 3 == 1 and end == add_months(start, 3):
            compare = Compare.qoq
        else:
            compare = Compare.previous_period
        # Every comparison window ends by `start` (a year back: by `end` a year earlier). When
        # the data of every metric begins after it, there is nothing to set beside the number,
        # and no reason to read a period that holds nothing.
        before = add_months(end, -12) if compare is Compare.yoy else start
        firsts = [self.context.coverage[m][0] for m in leaves if m in self.context.coverage]
        if len(firsts) == len(leaves) and before <= min(firsts):
            return query
        return query.model_copy(update={"compare": compare})

    def _up_to_as_of(self, query: SemanticQuery, lang: str) -> tuple[SemanticQuery, str | None]:
        """A period that runs past the as-of date is counted up to it: "2024年" asked as of
        2024-06-30 is 2024-01-01 … 2024-06-30 (the comparison period shifts with it), as "今年"
        already is. Data after the as-of date is tomorrow's, not an answer; budgets alone may
        look ahead (a plan is written before its period)."""
        window = query.time_range
        end = self.as_of + timedelta(days=1)
        if window is None or window.end <= end or window.start >= end or not query.metrics:
            return query, None
        if all(m in self._plans for m in query.metrics):
            return query, None
        clipped = query.model_copy(update={"time_range": window.model_copy(update={"end": end})})
        label = window.label or f"{window.start} – {window.end - timedelta(days=1)}"
        if lang == "zh":
            return clipped, f"数据截至 {self.as_of}：{label}只计到 {self.as_of}"
        return clipped, f"Data as of {self.as_of}: {label} is counted up to {self.as_of}"

    @cached_property
    def _plans(self) -> frozenset[str]:
        """Budget metrics (a metric's `budget:`), which may hold figures for future periods."""
        return frozenset(self.catalog.budget_of.values())

    def _coverage(self) -> tuple[dict[str, tuple[date, date]], set[str]]:
        """The first and last date of each simple metric's data, to spot empty periods; and
        the metrics whose date column holds no date at all (undated facts)."""
        spans: dict[str, tuple[date, date]] = {}
        undated: set[str] = set()
        unreadable: set[str] = set()
        by_column: dict[str, tuple[date, date] | None] = {}
        for metric in self.model.metrics:
            if metric.kind is not MetricKind.simple or metric.table is None or not metric.time:
                continue
            column = qualify(parse_expr(metric.time), metric.table)
            key = column.sql()
            if key not in by_column:
                table = column.table if isinstance(column, exp.Column) else metric.table
                select = exp.select(
                    exp.Min(this=column.copy()),
                    exp.Max(this=column.copy()),
                    exp.Count(this=exp.Star()),
                )
                try:
                    row = self.engine.execute(select.from_(table)).rows[0]
                    by_column[key] = (row[0], row[1]) if row[0] is not None else None
                    if not row[2]:  # no row the role may see (or none at all): not undated
                        unreadable.add(key)
                except CockpitError:  # a table the role cannot read: unknown, not undated
                    by_column[key] = None
                    unreadable.add(key)
            first_last = by_column[key]
            if first_last is not None:
                first, last = _as_date(first_last[0]), _as_date(first_last[1])
                if metric.name not in self._plans:
                    last = min(last, self.as_of)  # after the as-of date: not yet, for a question
                spans[metric.name] = (first, last)
            elif key not in unreadable:
                undated.add(metric.name)
        return spans, undated


def _compared(columns: Any, rows: Any) -> bool:
    """Whether the comparison column of a one-row answer holds a figure (not None, not 0)."""
    names = [c.name for c in columns]
    found = [i for i, name in enumerate(names) if name.endswith("__compare")]
    return bool(rows) and bool(found) and rows[0][found[0]] not in (None, 0)


def _fit_to_database(model: SemanticModel, engine: Engine) -> tuple[SemanticModel, list[str]]:
    """The model with its time columns read as dates on this database (see `adapt.py`)."""
    from semantic_layer.adapt import adapt_time_columns, drop_fanout_joins

    try:
        schema = engine.schema()
    except CockpitError:  # the database cannot be described: nothing to adapt
        return model, []
    model, notes = adapt_time_columns(model, schema)
    model, dropped = drop_fanout_joins(model, engine)
    for note in dropped:
        log.warning("%s", note)
    return model, notes + dropped


def engine_budget(settings: Settings) -> dict[str, Any]:
    """The memory budget of an engine, from the settings (DuckDB's limit and spill folder,
    the largest result, the result cache)."""
    return {
        "memory_limit": settings.memory_limit,
        "temp_dir": settings.resolved_temp_dir(),
        "max_result_bytes": settings.max_result_mb * 2**20,
        "cache_bytes": settings.cache_mb * 2**20,
    }


ANOMALY_WORDS = re.compile(r"异常|异动|离群|\banomal|\bunusual\b|\boutliers?\b|\bodd\b")
ALERT_WORDS = re.compile(r"预警|告警|警报|红灯|\balerts?\b|\bred flags?\b")


def _insight_question(question: str) -> str | None:
    """Questions about anomalies or alerts are answered by the insights, not by one query."""
    text = question.lower()
    if ALERT_WORDS.search(text):
        return "alerts"
    if ANOMALY_WORDS.search(text):
        return "anomaly"
    return None


MAX_QUESTION = 2000
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


def _clean(question: object) -> tuple[str, dict[str, str] | None]:
    """A question as valid text, or why it cannot be one (empty, binary, 100 KB…).

    Bytes are decoded, and lone surrogates (an undecodable byte from the shell, "\\ud800" from
    JSON) replaced: text that cannot be encoded would fail later, in the audit log or the UI."""
    from assistant.audit import valid_text

    if isinstance(question, bytes | bytearray):
        question = bytes(question).decode("utf-8", errors="replace")
    text = CONTROL.sub(" ", valid_text(str(question or ""))).strip()
    if not text:
        return text, {"zh": "请输入一个问题。", "en": "Please type a question."}
    if len(text) > MAX_QUESTION:
        return text[:200], {
            "zh": f"问题太长（{len(text)} 个字符，上限 {MAX_QUESTION}）。请只问一个具体的问题。",
            "en": f"The question is too long ({len(text)} characters, limit {MAX_QUESTION}). "
            "Please ask one specific question.",
        }
    return text, None


def _refused(
    question: str,
    lang: str,
    message: str,
    query: SemanticQuery | None = None,
    timings: dict[str, float] | None = None,
) -> Answer:
    """A query that cannot be answered exactly: the reason, never a number."""
    return Answer(
        question=question,
        status="refused",
        lang=lang,
        query=query,
        message=message,
        timings=timings or {},
    )


def _as_of(value: date | str | None) -> date | None:
    """`as_of` as given to the API: a date or "YYYY-MM-DD" — anything else fails here, at
    construction, not later per question."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"as_of: {value!r} is not a date; use a date or 'YYYY-MM-DD'")


def _as_date(value: object) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value  # type: ignore[return-value]


class Conversation:
    """A chat: follow-ups ("华南呢?", "按月看", "what about 2024?") edit the last query."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.history: list[Answer] = []
        self.state: SemanticQuery | None = None

    def ask(self, question: str, lang: str | None = None) -> Answer:
        """Ask in the conversation; `lang` overrides the question's own language (a button
        labelled 华东 in an English page still wants an English answer)."""
        # Only the questions asked so far were not understood: a follow-up has no context it
        # could continue (with an earlier answer, it continues that one, as people expect).
        unanswered = (
            self.state is None and bool(self.history) and self.history[-1].status == "clarify"
        )
        answer = self.assistant.ask(
            question, previous=self.state, lang=lang, after_unanswered=unanswered
        )
        self.history.append(answer)
        if answer.status == "ok" and answer.query is not None:
            self.state = answer.query
        return answer

    def reset(self) -> None:
        self.history.clear()
        self.state = None


def _mentions(example: tuple[str, dict], words: frozenset[str]) -> bool:
    """Whether an example (question and query) contains any of `words`."""
    if not words:
        return False
    text = example[0] + json.dumps(example[1], ensure_ascii=False)
    return any(word in text for word in words)


__all__ = ["Assistant", "Conversation", "Understanding"]
