"""From the slots of a parse to a `SemanticQuery` — or to a targeted clarification.

Here live the conventions a person would otherwise have to guess (DESIGN.md, "Time
conventions"): no period means this year for flows and the latest snapshot for balances; a
follow-up edits the previous query; a word we could not place stops the answer rather than
being ignored. Every default applied is recorded as a note and shown in the interpretation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from assistant.understand.definitions import (
    Found,
    find_definitions,
    modelled,
    without_definitions,
)
from assistant.understand.lexicon import Lexicon
from assistant.understand.rules import Parse, parse
from semantic_layer import knowledge
from semantic_layer.catalog import Catalog, catalog
from semantic_layer.compiler import add_months, with_definitions
from semantic_layer.errors import QueryError
from semantic_layer.model import Grain, SemanticModel
from semantic_layer.query import (
    Compare,
    Definition,
    DimensionRef,
    Filter,
    Having,
    Intent,
    OrderBy,
    SemanticQuery,
    TimeRange,
)

EPOCH = date(1900, 1, 1)
# Festivals on the lunar calendar: recognised, but their dates move every year.
LUNAR = re.compile(
    r"春节|过年|除夕|元宵|清明|端午|七夕|中秋|重阳|腊八|chinese|lunar|spring festival|mid-autumn"
    r"|dragon boat|lantern festival"
)
# "drop table orders;", "select * from x", "1; delete from y --": commands, not questions.
SQL_LIKE = re.compile(
    r"(?i)\b(?:drop|delete|truncate|insert|update|alter|create|grant|attach|copy|pragma|install)"
    r"\s+(?:table|from|into|database|schema|index|view|or|user|extension|\w+\s+set)\b"
    r"|\bselect\b.+\bfrom\b|;\s*(?:--|$)|--\s*$|\bunion\s+select\b"
)
# Requests to change data, in words: never run, never answered with a number.
CHANGE_DATA = re.compile(
    r"删掉|删除|删了|清空|清除|篡改|更新数据|修改数据|插入|写入|改成\d"
    r"|\b(?:delete|drop|erase|wipe|remove|truncate|modify|overwrite|update|insert)\s+(?:the\s+|all\s+|some\s+)?"
    r"(?:table|tables|data|records?|rows?|orders?|customers?|database|everything|entries)\b"
)
REPLACE = re.compile(r"换成|改成|改为|换为|instead")
# The whole company, not the member the conversation was about.
WHOLE = re.compile(
    r"全公司|公司整体|整个公司|公司层面|company[- ]wide|the company'?s?\b"
    r"|across the company|\bcompany total\b|whole company|\boverall\b"
)
VERSUS = re.compile(r"比|vs|versus|compare|against")
SINCE = re.compile(r"since|以来|至今|迄今|到现在|到目前")


@dataclass(frozen=True)
class Context:
    """What understanding needs besides the question."""

    model: SemanticModel
    catalog: Catalog
    lexicon: Lexicon
    as_of: date
    coverage: dict[str, tuple[date, date]] = field(default_factory=dict)  # metric → data span
    # Metrics whose date column holds no date at all: they can be asked over all time only.
    undated: frozenset[str] = frozenset()


@dataclass
class Understanding:
    """The outcome of understanding one question."""

    status: str  # ok | clarify | refused
    query: SemanticQuery | None = None
    message: dict[str, str] = field(default_factory=dict)  # lang → text
    suggestions: list[dict[str, str]] = field(default_factory=list)  # lang → question
    notes: list[dict[str, str]] = field(default_factory=list)  # lang → text
    parse: Parse | None = None


def members(ctx: Context) -> dict[str, int]:
    """How many members each category dimension has (what a good breakdown needs to know)."""
    return {name: len(values) for name, values in ctx.lexicon.values.items()}


def _model_examples(ctx: Context) -> list[dict[str, str]]:
    """The model's example questions (declared, or built from its own labels)."""
    return [{"zh": e.zh, "en": e.en} for e in knowledge.examples(ctx.model, members(ctx))]


def language(text: str, wordless: str = "en") -> str:
    """zh if the question has any Chinese character, else en — or `wordless` (the configured
    language) when it has no letter at all and so tells none."""
    if any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return "zh"
    return "en" if any(ch.isalpha() for ch in text) else wordless


def understand(question: str, ctx: Context, previous: SemanticQuery | None = None) -> Understanding:
    """Understand a question, as a follow-up of `previous` when it reads like one."""
    if SQL_LIKE.search(question):
        return Understanding(
            "refused",
            None,
            {
                "zh": "这看起来是一条 SQL 语句或指令。Cockpit 只回答业务问题，不执行输入的 SQL，数据不会被修改。",
                "en": "This looks like an SQL statement or command. Cockpit answers business "
                "questions and never runs SQL it is given; no data is changed.",
            },
            _model_examples(ctx)[:2],
        )
    if CHANGE_DATA.search(question.lower()):
        return Understanding(
            "refused",
            None,
            {
                "zh": "Cockpit 是只读的：不能删除或修改数据，只能回答关于数据的问题。",
                "en": "Cockpit is read-only: it cannot delete or change data, only answer "
                "questions about it.",
            },
            _model_examples(ctx)[:1],
        )
    found = find_definitions(question, ctx.lexicon, ctx.model)
    carried = list(previous.define) if previous is not None else []
    if found or carried:
        return _with_definitions(question, ctx, previous, found, carried)
    return _understand(question, ctx, previous)


def _understand(
    question: str, ctx: Context, previous: SemanticQuery | None, defined: list[str] = ()
) -> Understanding:
    resolver = _Resolver(ctx, parse(question, ctx.lexicon, ctx.as_of))
    if defined:
        # The metrics the question defined are what it asks for, with whatever else it names.
        resolver.p.metrics = [*defined, *(m for m in resolver.p.metrics if m not in defined)]
    missing = resolver.not_modelled(question)
    if missing is not None:
        return missing
    if previous is not None and (not is_new(resolver.p) or _parts_of(resolver.p, previous, ctx)):
        return resolver.followup(previous)
    return resolver.fresh()


def _english(label: str | None) -> str | None:
    """A period label for an English sentence (本月 → this month; other Chinese: none)."""
    if not label or not re.search(r"[\u4e00-\u9fff]", label):
        return label
    from assistant.present import _english_label

    return _english_label(label)


def _parts_of(p: Parse, previous: SemanticQuery, ctx: Context) -> bool:
    """ "流入和流出分别是多少" after net cash flow: the metrics the previous one is made of
    continue the question, not start one."""
    if not p.metrics or p.times:
        return False
    cat = ctx.catalog
    before = {leaf for m in previous.metrics for leaf in cat.leaves(m)}
    now = {leaf for m in p.metrics for leaf in cat.leaves(m)}
    # Only the components of the previous (derived) metric, with no breakdown of their own.
    return (
        not p.dimensions
        and set(p.metrics) != set(previous.metrics)
        and set(p.metrics) <= before
        and now <= before
    )


def _with_definitions(
    question: str,
    ctx: Context,
    previous: SemanticQuery | None,
    found: list[Found],
    carried: list[Definition],
) -> Understanding:
    """Understand a question with metrics defined in it (or earlier in the conversation):
    the model is extended with them for this question, the defining clauses are taken out,
    and the query carries the definitions so that the compiler and follow-ups have them."""
    rest = without_definitions(question, found) if found else question
    same = {f.definition.name: modelled(f.definition, ctx.model) for f in found}
    if not carried and found and all(same.values()):
        # Every metric the question defines is one the model has: its governed 口径 answers.
        understood = _understand(rest, ctx, previous, [same[f.definition.name] for f in found])
        for f in found:
            label = ctx.model.metric(same[f.definition.name]).label
            understood.notes.append(
                {
                    "zh": f"「{f.definition.label}」即模型中的指标「{label.zh}」",
                    "en": f'"{f.definition.label}" is the model\'s metric "{label.en}"',
                }
            )
        return understood
    new = [f.definition for f in found]
    names = {d.name for d in new}
    definitions = [*(d for d in carried if d.name not in names), *new]
    probe = SemanticQuery(metrics=[definitions[0].name], define=definitions)
    try:
        extended = with_definitions(ctx.model, probe)
    except QueryError as err:
        return Understanding("clarify", None, {"zh": err.message("zh"), "en": err.message("en")})
    scoped = replace(ctx, model=extended, catalog=catalog(extended))
    understood = _understand(rest, scoped, previous, [d.name for d in new])
    if understood.query is None:
        return understood
    used = set(understood.query.metrics)
    if not used & {d.name for d in definitions}:
        return understood  # a new question about model metrics: the definitions stay behind
    query = understood.query.model_copy(update={"define": definitions})
    understood.notes.append(
        {
            "zh": "问题中定义的指标："
            + "；".join(f"{d.label} = {_readable(d.expr, extended, 'zh')}" for d in definitions),
            "en": "Defined in the question: "
            + "; ".join(f"{d.label} = {_readable(d.expr, extended, 'en')}" for d in definitions),
        }
    )
    return replace(understood, query=query)


def _readable(expr: str, model: SemanticModel, lang: str) -> str:
    """`q_total_loss / premium` → "Total loss / Premium" (labels instead of names)."""

    def label(match: re.Match[str]) -> str:
        name = match.group(0)
        return model.metric(name).label.get(lang) if name in model.metric_map else name

    return re.sub(r"[A-Za-z_][A-Za-z0-9_]*", label, expr)


def _same_query(a: SemanticQuery, b: SemanticQuery) -> bool:
    """The same computation (a period's label aside: 今年 and 2025年 are one range)."""

    def plain(q: SemanticQuery) -> dict:
        data = q.model_dump(mode="json")
        if data.get("time_range"):
            data["time_range"].pop("label", None)
        return data

    return plain(a) == plain(b)


def is_new(p: Parse) -> bool:
    """The conversation policy: a question is a follow-up only when it is elliptical — it
    names no metric, or carries a follow-up cue (呢, 那, 再, 换成, 只看, 按…看, what about,
    instead, only…), or refers back (这个, 它, that month, them). A complete question starts
    fresh, whatever came before: "目前的应收余额" after "华东今年的收入" is the company's."""
    named = p.metrics or p.implied or p.intent is Intent.summary  # 买了多少 names revenue
    return bool(named) and not p.followup


class _Resolver:
    def __init__(self, ctx: Context, p: Parse) -> None:
        self.ctx = ctx
        self.p = p
        self.model = ctx.model
        self.notes: list[dict[str, str]] = []
        self.count_rows_as: str | None = None  # "有几个": count the rows meeting the condition
        self.compare_months: int | None = None  # a comparison that many months back

    # --- outcomes ----------------------------------------------------------------------------
    def clarify(
        self,
        zh: str,
        en: str,
        suggestions: list[dict[str, str]] | None = None,
        status: str = "clarify",
    ) -> Understanding:
        return Understanding(
            status, None, {"zh": zh, "en": en}, suggestions or [], self.notes, self.p
        )

    def note(self, zh: str, en: str) -> None:
        self.notes.append({"zh": zh, "en": en})

    def label(self, name: str, lang: str = "zh") -> str:
        if name in self.model.metric_map:
            return self.model.metric(name).label.get(lang)
        return self.model.dimension(name).label.get(lang)

    def example(
        self, metric: str, dimension: str | None = None, value: str | None = None
    ) -> dict[str, str]:
        """A question the system can answer, in both languages."""
        zh, en = self.label(metric, "zh"), self.label(metric, "en")
        if value is not None:
            return {"zh": f"{value}的{zh}", "en": f"{en} of {value}"}
        if dimension is not None:
            return {
                "zh": f"各{self.label(dimension, 'zh')}的{zh}",
                "en": f"{en} by {self.label(dimension, 'en').lower()}",
            }
        window = knowledge.default_window(self.model, self.ctx.as_of)
        if window.start is None:
            return {"zh": zh, "en": en}
        return {"zh": f"{window.label.zh}的{zh}", "en": f"{en} {window.label.en}"}

    def not_modelled(self, question: str) -> Understanding | None:
        """A concept the model says it lacks (净利润): refused, with what to ask instead."""
        for lacking in self.model.knowledge.lacks:
            if knowledge.compiled(lacking.patterns).search(question.lower()):
                zh, en = lacking.label.zh, lacking.label.en
                nearest = [m for m in lacking.suggest if m in self.model.metric_map]
                return self.clarify(
                    f"指标中心没有定义「{zh}」，无法给出准确数字。最接近的指标："
                    + "、".join(
                        f"{self.label(m)}（{self.model.metric(m).description.zh if self.model.metric(m).description else ''}）"
                        for m in nearest
                    ),
                    f"The metric catalogue does not define {en}, so there is no exact number. "
                    "Closest: " + ", ".join(self.label(m, "en") for m in nearest),
                    [self.example(m) for m in nearest],
                )
        return None

    # --- fresh questions ---------------------------------------------------------------------
    def fresh(self) -> Understanding:
        p = self.p
        if p.ambiguous and not p.metrics:
            word, names = p.ambiguous[0]
            named = [*p.dimensions, *p.values, *p.excluded]
            fitting = [
                n for n in names if named and all(self.ctx.catalog.reaches(n, d) for d in named)
            ]
            if len(fitting) == 1 and len(p.ambiguous) == 1:
                # "各个仓库…（数量）": of the quantities, only one can be split by warehouse.
                p.ambiguous = []
                p.metrics = fitting
                self.note(
                    f"「{word}」按{self.label(fitting[0])}理解（唯一能按所问维度分析的）",
                    f"'{word}' read as {self.label(fitting[0], 'en')} (the only one that fits "
                    "the breakdown asked)",
                )
        if p.ambiguous and not p.metrics:
            word, names = p.ambiguous[0]
            options_zh = "、".join(self.label(n) for n in names[:4])
            options_en = ", ".join(self.label(n, "en") for n in names[:4])
            return self.clarify(
                f"「{word}」可以指多个指标：{options_zh}。请说明是哪一个。",
                f"'{word}' can mean several metrics: {options_en}. Which one do you mean?",
                [self.example(n) for n in names[:3]],
            )
        if p.unknown:
            return self._unknown_words()
        if p.counted is not None:
            counted = self._count_of(p.counted)
            if counted is None:
                return self._cannot_count(p.counted)
            if p.conditions:
                return self._count_meeting(p.counted, counted)
            if counted not in p.metrics:
                self._note_metric(counted)  # "有多少客户": the model's count of them
            p.metrics = [counted, *(m for m in p.metrics if m not in (counted,))][:1]
            p.dimensions = [d for d in p.dimensions if d != p.counted]
        metrics = list(p.metrics)
        if not metrics and p.intent is Intent.summary:
            # For a period, only metrics with dates can be summarised (undated facts cannot).
            metrics = [
                m for m in knowledge.kpis(self.model) if not (p.times and m in self.ctx.undated)
            ]
            metrics = metrics or knowledge.kpis(self.model)
            self.note(
                "经营概况包含：" + "、".join(self.label(m) for m in metrics),
                "The overview shows: " + ", ".join(self.label(m, "en") for m in metrics),
            )
        if not metrics and p.implied:
            metrics = self._implied_metric()
        if not metrics and p.dimensions and not p.listing:
            metrics = self._metric_in_dimension_words()
        if not metrics and p.listing and (p.dimensions or p.values or p.described):
            return self._listing()
        compare_cue = p.ranking or p.compare or p.conditions or len(p.times) >= 2
        if not metrics and (p.values or p.dimensions) and compare_cue:
            metrics = self._default_metric()
        if not metrics:
            return self._no_metric()
        return self.build(self._ratio(self._budget_use(metrics)), [], [], None, None)

    def _listing(self) -> Understanding:
        """ "列出所有门店", "华东的客户有哪些": the members themselves, filtered as asked."""
        p = self.p
        names = list(dict.fromkeys([*p.dimensions, *p.described])) or list(p.values)[:1]
        filters = [
            Filter(dimension=name, op="in" if len(values) > 1 else "=", values=values)
            for name, values in p.values.items()
            if name not in names or len(names) > 1
        ]
        if not names or any(self._is_time(n) for n in names):
            return self._no_metric()
        query = SemanticQuery(
            dimensions=[DimensionRef(name=n) for n in names],
            filters=filters,
            limit=p.limit,
            intent=Intent.breakdown,
        )
        self.note(
            "列出成员（不涉及指标）：" + "、".join(self.label(n) for n in names),
            "Listing members (no metric): " + ", ".join(self.label(n, "en") for n in names),
        )
        return Understanding("ok", query, {}, [], self.notes, p)

    def _count_of(self, dimension: str) -> str | None:
        """The model's metric that counts the members of `dimension` ("how many customers"
        → "Customers with orders"): a count metric whose label names the same thing."""
        dim = self.model.dimension(dimension)
        words = {
            w
            for text in (dim.label.en.lower(), dimension.replace("_", " "), *dim.synonyms)
            for w in re.findall(r"[a-z]{3,}", text.lower())
            if w not in ("name", "names", "type", "code", "number", "id")
        }
        zh = dim.label.zh.removesuffix("名称").removesuffix("编号")
        for metric in self.model.metrics:
            if metric.name not in self.ctx.lexicon.counts:
                continue
            label = f"{metric.label.en} {metric.name}".lower().replace("_", " ")
            if any(re.search(rf"\b{w}s?\b", label) for w in words) or (
                len(zh) >= 2 and zh in metric.label.zh
            ):
                return metric.name
        return None

    def _count_meeting(self, dimension: str, counted: str) -> Understanding:
        """ "今年收入超过500万的客户有几个": how many members meet the condition — one number
        (the members themselves are a follow-up: "都是哪些客户")."""
        p = self.p
        metrics = [m for m in p.metrics if m != counted] or self._implied_metric()
        if len(metrics) != 1 or p.compare is not None or p.limit is not None:
            # The condition's metric is not said (or several are): never a guessed count.
            return self._condition_needs_metric(dimension)
        p.metrics = metrics
        if dimension not in p.dimensions:
            p.dimensions.append(dimension)
        self.count_rows_as = counted
        return self.build(metrics, [], [], None, None)

    def _condition_needs_metric(self, dimension: str) -> Understanding:
        headline = knowledge.kpis(self.model)[:3]
        zh, en = self.label(dimension), self.label(dimension, "en").lower()
        return self.clarify(
            f"条件是针对哪个指标的？例如「{self.label(headline[0])}超过100万的{zh}有几个」。",
            f"Which metric should meet the condition? E.g. 'how many {en} have "
            f"{self.label(headline[0], 'en').lower()} over 1 million'.",
            [self.example(m, dimension) for m in headline[:2]],
        )

    def _count_cannot_follow(self, previous: SemanticQuery) -> Understanding:
        names = [d.name for d in previous.dimensions]
        zh = "、".join(self.label(n) for n in names)
        en = ", ".join(self.label(n, "en").lower() for n in names)
        return self.clarify(
            f"上一问是满足条件的{zh}个数；这个追问无法在同一条件下给出准确数字。"
            f"可以问「都是哪些{zh}」看名单，或把条件和范围一起重新问一遍。",
            f"The previous answer counted the {en} meeting a condition; this follow-up cannot "
            f"keep that condition exactly. Ask 'which {en}' for the list, or ask the whole "
            "question again with its condition.",
            [{"zh": f"都是哪些{zh}", "en": f"which {en}"}],
        )

    def _cannot_count(self, dimension: str) -> Understanding:
        """ "How many customers" with no metric counting them: say so, never a split."""
        zh, en = self.label(dimension), self.label(dimension, "en")
        counts = [m for m in self.model.metrics if m.name in self.ctx.lexicon.counts][:3]
        return self.clarify(
            f"指标中心没有统计「{zh}」个数的指标，无法给出准确数字。"
            + ("可以问：" + "、".join(m.label.zh for m in counts) if counts else ""),
            f"The catalogue has no metric that counts {en.lower()}, so there is no exact number."
            + (" You could ask: " + ", ".join(m.label.en for m in counts) if counts else ""),
            [self.example(m.name) for m in counts],
        )

    def _ratio(self, metrics: list[str], previous: SemanticQuery | None = None) -> list[str]:
        """ "逾期占应收多少" / "其中逾期的占多少": the model's ratio of the part to the whole."""
        if not self.p.share or self.p.dimensions or self.p.values:
            return metrics
        pool = list(metrics) + (
            [m for m in previous.metrics if m not in metrics] if previous else []
        )
        for part in metrics:
            for whole in pool:
                if whole == part:
                    continue
                for candidate in self.model.metrics:
                    expr = candidate.expr.replace(" ", "")
                    if candidate.kind.value == "derived" and expr == f"{part}/{whole}":
                        self.p.share = False  # answered by the ratio itself
                        rest = [m for m in metrics if m not in (part, whole)]
                        return [candidate.name, *rest]
        return metrics

    def _implied_metric(self) -> list[str]:
        """The metric a verb implies (卖了多少 → revenue), fitted to what was named with it."""
        named = [*self.p.dimensions, *self.p.values]
        for alternatives in self.p.implied:
            # 买了多少 → revenue; from a supplier → purchases: the first that reaches all named.
            for metric in alternatives:
                if metric in self.model.metric_map and all(
                    self.ctx.catalog.reaches(metric, d) for d in named
                ):
                    self._note_metric(metric)
                    return [metric]
        return []

    def _default_metric(self) -> list[str]:
        """For "前5的客户" / "哪个仓库最多": the first metric that reaches what was named."""
        named = [*self.p.dimensions, *self.p.values]
        for metric in self.model.metrics:
            if all(self.ctx.catalog.reaches(metric.name, d) for d in named):
                self._note_metric(metric.name)
                return [metric.name]
        return []

    def _note_metric(self, metric: str) -> None:
        self.note(
            f"未指定指标：按{self.label(metric)}",
            f"No metric named: using {self.label(metric, 'en')}",
        )

    def _budget_use(self, metrics: list[str]) -> list[str]:
        """ "收入预算完成了多少" asks for attainment, not for the budget itself."""
        if not self.p.budget_use:
            return metrics
        out = []
        for metric in metrics:
            ratio = self._attainment_of(metric)
            out.append(ratio or metric)
        return list(dict.fromkeys(out))

    def _attainment_of(self, metric: str) -> str | None:
        cat = self.ctx.catalog
        budget_to_actual = {b: m for m, b in cat.budget_of.items()}
        actual = budget_to_actual.get(metric)
        if actual is None:
            return None
        for candidate in self.model.metrics:
            if (
                candidate.kind.value == "derived"
                and set(cat.leaves(candidate.name)) == {actual, metric}
                and "/" in candidate.expr
            ):
                return candidate.name
        return None

    def _unknown_words(self) -> Understanding:
        lunar = next((w for w in self.p.unknown if LUNAR.search(w)), None)
        if lunar is not None:
            # A real period, but its dates move every year: ask, never guess.
            return self.clarify(
                f"「{lunar}」的公历日期每年不同，无法确定准确的时间范围。"
                "请直接给出日期或月份，例如「2025年1月28日到2月4日」或「2025年1月」。",
                "This holiday falls on different dates every year (lunar calendar or solar "
                "terms), so it names no exact period. Please give the dates or the month, "
                "e.g. '2025-01-28 to 2025-02-04' or 'January 2025'.",
                [],
            )
        words = "、".join(f"「{w}」" for w in self.p.unknown)
        words_en = ", ".join(f"'{w}'" for w in self.p.unknown)
        suggestions = []
        if self.p.metrics:
            metric = self.p.metrics[0]
            suggestions.append(self.example(metric))
            for dim in knowledge.breakdowns(self.model, metric, members(self.ctx), limit=1):
                suggestions.append(self.example(metric, dim))
        elif self.p.values or self.p.dimensions:
            # "成都仓还有多少件货": the part understood (成都仓) says which metrics fit.
            suggestions += self._fitting_examples()
        else:
            # "付款额" in a model without it: the real metrics written most like it (回款额).
            suggestions += [self.example(m) for m in self._nearest_metrics(self.p.unknown)]
        if not suggestions:
            suggestions += _model_examples(self.ctx)[:2]
        return self.clarify(
            f"没有理解问题中的{words}：它不是已知的指标、维度或取值。请换个说法，或去掉这个词再问。",
            f"I did not understand {words_en}: it is not a known metric, dimension or value. "
            "Please rephrase, or ask without it.",
            suggestions[:3],
        )

    def _nearest_metrics(self, words: list[str]) -> list[str]:
        """Up to three metrics whose Chinese words share the most characters (at least two)
        with the words not understood: what the model has nearest to a concept it lacks."""
        typed = set("".join(w for w in words if not w.isascii()))
        scores: dict[str, int] = {}
        for metric in self.model.metrics:
            for surface in self.ctx.lexicon.surfaces_of(metric.name):
                shared = len(typed & set(surface))
                if shared >= 2:
                    scores[metric.name] = max(scores.get(metric.name, 0), shared)
        ranked = sorted(scores, key=lambda name: -scores[name])
        return ranked[:3]

    def _fitting_examples(self) -> list[dict[str, str]]:
        """Up to three questions with metrics that reach every dimension and value understood
        ("华东" → 华东的营业收入), phrased with that dimension or value."""
        p = self.p
        dims = [*p.dimensions, *p.values]
        value = next((v[0] for v in p.values.values()), None)
        dim = p.dimensions[0] if p.dimensions else None
        fitting = [
            m.name
            for m in self.model.metrics
            if all(self.ctx.catalog.reaches(m.name, d) for d in dims)
        ]
        return [self.example(m, dim, value) for m in fitting[:3]]

    def _no_metric(self) -> Understanding:
        p = self.p
        if p.empty and p.intent is None:
            examples = _model_examples(self.ctx)[:3]
            first = examples[0] if examples else {"zh": "", "en": ""}
            return self.clarify(
                "没能理解这个问题。可以问指标、时间和维度，例如「" + first["zh"] + "」。",
                "I could not understand the question. Ask about a metric, a period and a "
                "breakdown, e.g. '" + first["en"] + "'.",
                examples,
            )
        headline = knowledge.kpis(self.model)[:3]
        return self.clarify(
            "请说明想看哪个指标（例如" + "、".join(self.label(m) for m in headline) + "）。",
            "Which metric do you want to see (e.g. "
            + ", ".join(self.label(m, "en") for m in headline)
            + ")?",
            self._fitting_examples(),
        )

    # --- follow-ups -------------------------------------------------------------------------
    def followup(self, previous: SemanticQuery) -> Understanding:
        p = self.p
        if p.unknown:
            return self._unknown_words()
        if p.ambiguous and not p.metrics and self._related(previous) == previous.metrics:
            # "and the margin?" after gross profit: of the metrics the word can mean, the rate
            # of the amount asked before; when that does not decide it (after revenue: gross or
            # operating margin), ask which.
            word, names = p.ambiguous[0]
            amount_of = self.ctx.lexicon.amount_of
            rates = [n for n in names if amount_of.get(n) in previous.metrics]
            if len(rates) != 1:
                return self.fresh()
            p.ambiguous = []
            p.metrics = rates
        metrics = p.metrics or self._implied_metric() or self._related(previous)
        metrics = self._ratio(self._budget_use(metrics), previous)
        dims = [d for d in previous.dimensions]
        filters = list(previous.filters)
        if WHOLE.search(p.text.lower()):
            filters = []  # "全公司", "the company's": none of the previous filters
        replace_dims = bool(p.dimensions) and bool(REPLACE.search(p.text.lower()))
        if replace_dims:
            dims = [d for d in dims if self._is_time(d.name)]
        for dim in p.dimensions:
            if dim in p.values or dim in p.excluded:
                continue
            if all(d.name != dim for d in dims):
                dims.append(DimensionRef(name=dim))
        for dim, values in p.values.items():
            filters = [f for f in filters if f.dimension != dim]
            filters.append(
                Filter(dimension=dim, op="in" if len(values) > 1 else "=", values=values)
            )
            if p.drill:
                child = self._child(dim)
                dims = [d for d in dims if d.name != dim]
                if child and all(d.name != child for d in dims):
                    dims.append(DimensionRef(name=child))
            elif len(values) == 1:
                dims = [d for d in dims if d.name != dim]
        for dim, values in p.excluded.items():
            filters = [f for f in filters if f.dimension != dim]
            filters.append(
                Filter(dimension=dim, op="not_in" if len(values) > 1 else "!=", values=values)
            )
        if p.drill and not p.values:
            for ref in list(dims):
                child = self._child(ref.name)
                if child:
                    dims[dims.index(ref)] = DimensionRef(name=child)
                    break
        reach = self.ctx.catalog.reaches
        inherited = {d.name for d in previous.dimensions} - set(p.dimensions)
        dims = [
            d for d in dims if d.name not in inherited or all(reach(m, d.name) for m in metrics)
        ]
        kept = [
            f
            for f in filters
            if f.dimension in p.values or all(reach(m, f.dimension) for m in metrics)
        ]
        if len(kept) < len(filters):
            # "华东今年的收入" → "那费用呢": 华东's expenses cannot be told apart. Answering the
            # company's would look like 华东's: say so instead of dropping the filter.
            lost = [f for f in filters if f not in kept]
            return self._filter_cannot_follow(metrics, lost)
        filters = kept
        time_range = previous.time_range
        if (
            not p.times
            and time_range is not None
            and time_range.start <= EPOCH
            and time_range.label == f"截至{self.ctx.as_of}"
            and not self._balances(metrics)
        ):
            # After a balance read "as of today" (no period was said), a flow or a per-day
            # metric gets the period a question without one gets (库存 → 周转天数呢), not all time.
            fresh = self._time_range(metrics, None, None)
            if isinstance(fresh, Understanding):
                return fresh
            time_range = fresh[0]
        compare = p.compare or (None if p.times else previous.compare)
        if len(p.times) == 1 and _vs(p.text) and time_range is not None and compare is None:
            # "跟前年比呢" after a 2024 answer: keep 2024, compare with the period named.
            compare = self._compare_for(p.times[0].range, time_range, metrics)
            if compare is not None:
                p.times = []
            elif p.basis:
                return self._cannot_compare(p.times[0].range, time_range)
        if compare is Compare.none:
            compare = None
        if p.superlative and previous.limit:
            p.limit = previous.limit  # "最低的5个客户" → "最高的呢": the top 5, the other way
        limit = p.limit if p.limit is not None else previous.limit
        # Sorting follows the metrics: "same thing but by units sold" re-ranks by units.
        renamed = dict(zip(previous.metrics, metrics, strict=False))
        order = [
            OrderBy(
                field=f.field.replace(
                    f.field.split("__")[0], renamed.get(f.field.split("__")[0], metrics[0]), 1
                )
                if f.field.split("__")[0] not in metrics
                else f.field,
                desc=f.desc,
            )
            for f in previous.order_by
        ]
        if p.step and time_range is not None and not p.times:
            time_range = _step(time_range, p.step)
        if (
            len(p.times) == 1
            and time_range is not None
            and not _has_year(p.times[0].range.label)
            and time_range.start.year == (time_range.end - timedelta(days=1)).year
            and p.times[0].range.start.year != time_range.start.year
            and p.times[0].range.days <= 92
        ):
            # "11月那个月" after a 2024 answer means November 2024.
            p.times = [replace(p.times[0], range=_in_year(p.times[0].range, time_range.start.year))]
        if p.years_back and p.times:  # "3月的去年同期呢": that period, a year back
            p.times = [replace(t, range=_years_back(t.range, p.years_back)) for t in p.times]
        elif p.years_back and time_range is not None:
            time_range = _years_back(time_range, p.years_back)  # "去年同期呢"
        if len(p.times) == 1 and p.times[0].grain_hint is not None:
            # "11月那个月按类别拆一下": one period of the grain shown needs no time column.
            dims = [
                d
                for d in dims
                if not (self._is_metric_time(d) and d.grain == p.times[0].grain_hint)
            ]
        if p.limit is not None:
            order = []
        if previous.intent is Intent.share and p.intent is None and p.compare is None and dims:
            p.share = True  # "各渠道收入占比" → "去年呢": still the shares, of last year
        self._note_inherited(previous, filters, dims, time_range if not p.times else None, limit)
        understood = self.build(
            metrics,
            dims,
            filters,
            time_range if not p.times else None,
            compare,
            limit=limit,
            order=order,
            previous=previous,
        )
        if understood.query is not None and _same_query(understood.query, previous):
            # "and going out?" with "going out" unread: the previous answer again would look
            # like the answer to what was asked. A follow-up that changes nothing is asked again.
            return self.clarify(
                "这个追问没有改变上一问（指标、筛选、期间和拆分都一样），我不确定要看什么。"
                "可以说明要换成哪个指标、哪个期间或按什么拆分。",
                "This follow-up changes nothing in the previous question (same metric, "
                "filters, period and breakdown), so I am not sure what to show. Say which "
                "metric, period or breakdown you want instead.",
                [],
            )
        return understood

    def _values_the_metrics_reach(self, metrics: list[str]) -> None:
        """A member named the same in two dimensions (工资薪酬: an expense category and a cash
        category) is the one the metrics can be cut by."""
        reach = self.ctx.catalog.reaches
        known = self.ctx.lexicon.values
        for dim, values in list(self.p.values.items()):
            if all(reach(m, dim) for m in metrics):
                continue
            other = [
                d
                for d, members in known.items()
                if d != dim
                and d not in self.p.values
                and set(values) <= set(members)
                and all(reach(m, d) for m in metrics)
            ]
            if len(other) == 1:
                self.p.values[other[0]] = self.p.values.pop(dim)

    def _filter_cannot_follow(self, metrics: list[str], lost: list[Filter]) -> Understanding:
        names_zh = "、".join(self.label(m) for m in metrics)
        names_en = ", ".join(self.label(m, "en") for m in metrics)
        dims_zh = "、".join(self.label(f.dimension) for f in lost)
        dims_en = ", ".join(self.label(f.dimension, "en").lower() for f in lost)
        kept_zh = "、".join(v for f in lost for v in f.values)
        return self.clarify(
            f"「{names_zh}」无法按「{dims_zh}」筛选，上一问的「{kept_zh}」不能沿用，"
            "所以没有给出数字。可以问全公司的数（说“全公司”），或换一个能按"
            f"{dims_zh}看的指标。",
            f"{names_en} cannot be filtered by {dims_en}, so the previous question's "
            f"{kept_zh} cannot carry over and no number is given. Ask for the whole company's "
            f"(say 'the company's'), or a metric that can be split by {dims_en}.",
            [self.example(m) for m in metrics[:2]],
        )

    def _note_inherited(
        self,
        previous: SemanticQuery,
        filters: list[Filter],
        dims: list[DimensionRef],
        period: TimeRange | None,
        limit: int | None,
    ) -> None:
        """Say what a follow-up kept from the previous question ("沿用上一问：华东 · 2025年")."""
        p = self.p
        zh: list[str] = []
        en: list[str] = []
        for f in filters:
            if f in previous.filters and f.dimension not in p.values:
                values = "、".join(map(str, f.values))
                neg = f.op in ("!=", "not_in")
                zh.append(("非" if neg else "") + values)
                en.append(("not " if neg else "") + ", ".join(map(str, f.values)))
        if period is not None and period == previous.time_range:
            zh.append(period.label or f"{period.start}–{period.end}")
            en.append(period.label or f"{period.start} to {period.end}")
        kept = [d for d in dims if d in previous.dimensions and d.name not in p.dimensions]
        for ref in kept:
            zh.append("按" + self.label(ref.name))
            en.append("by " + self.label(ref.name, "en").lower())
        if limit is not None and limit == previous.limit and p.limit is None:
            zh.append(f"前{limit}")
            en.append(f"top {limit}")
        if zh:
            self.note(
                "沿用上一问：" + " · ".join(zh),
                "Kept from the previous question: " + " · ".join(en),
            )

    def _metric_in_dimension_words(self) -> list[str]:
        """ "各类费用的占比": the words read as a dimension (expense category) also name the
        metric (费用) — one metric only, never a guess between several."""
        lexicon = self.ctx.lexicon
        text = self.p.text.lower()
        found = {
            e.name
            for surface, entries in lexicon.surfaces.items()
            if len(surface) >= 2 and surface not in lexicon.derived and surface in text
            for e in entries
            if e.kind == "metric"
        }
        reach = [m for m in found if all(self.ctx.catalog.reaches(m, d) for d in self.p.dimensions)]
        if len(reach) == 1:
            self._note_metric(reach[0])
            return reach
        return []

    def _related(self, previous: SemanticQuery) -> list[str]:
        """An elliptical follow-up's metric, from what it says about the previous one:
        "净额呢" after inflow/outflow → their difference; "预算是多少" after expenses → the
        expense budget; else the previous metrics themselves."""
        p = self.p
        text = p.text.lower()
        if re.search(r"净额|净值|净流|\bnet\b", text):
            for (a, b), net in self.ctx.lexicon.difference_of.items():
                if a in previous.metrics or b in previous.metrics:
                    return [net]
        asks_budget = re.search(r"预算|\bbudget\b", text) and not p.budget_use
        if asks_budget and p.compare is not Compare.budget:  # "跟预算比呢" compares instead
            budgets = [self.ctx.catalog.budget_of.get(m) for m in previous.metrics]
            if budgets and all(budgets):
                return [b for b in budgets if b]
        return list(previous.metrics)

    def _child(self, dimension: str) -> str | None:
        return next((d.name for d in self.model.dimensions if d.parent == dimension), None)

    def _is_time(self, name: str) -> bool:
        dim = self.model.dimension_map.get(name)
        return dim is not None and dim.type == "time"

    # --- building the query -----------------------------------------------------------------
    def build(
        self,
        metrics: list[str],
        dims: list[DimensionRef],
        filters: list[Filter],
        time_range: TimeRange | None,
        compare: Compare | None,
        limit: int | None = None,
        order: list[OrderBy] | None = None,
        previous: SemanticQuery | None = None,
    ) -> Understanding:
        p = self.p
        cat = self.ctx.catalog
        self._values_the_metrics_reach(metrics)
        dims = list(dims)
        filters = list(filters)
        for options in p.dimension_options:
            reachable = [d for d in options if all(cat.reaches(m, d) for m in metrics)]
            chosen = reachable[0] if reachable else options[0]
            if all(d.name != chosen for d in dims):
                dims.append(DimensionRef(name=chosen))
        if previous is None:
            for dim, values in p.values.items():
                op = "in" if len(values) > 1 else "="
                filters.append(Filter(dimension=dim, op=op, values=values))
                # "电商渠道收入占比": the share of 电商 among channels — unless another breakdown
                # is named ("华南各渠道的占比": 华南 stays a filter).
                share_of_value = p.share and dim not in p.dimensions and not p.dimensions
                together = p.combine or dim in p.grouped
                if (len(values) > 1 and not together) or share_of_value:
                    dims.append(DimensionRef(name=dim))  # 华东和华南的收入 → one row each
            for dim, values in p.excluded.items():
                op = "not_in" if len(values) > 1 else "!="
                filters.append(Filter(dimension=dim, op=op, values=values))
            for dim in p.dimensions:
                described = (
                    dim in p.values and len(p.values[dim]) == 1 and not p.drill and not p.share
                )
                if not described and all(d.name != dim for d in dims):
                    dims.append(DimensionRef(name=dim))
            if p.drill:
                for dim, values in p.values.items():
                    child = self._child(dim)
                    if len(values) == 1 and child and all(d.name != child for d in dims):
                        dims = [d for d in dims if d.name != dim] + [DimensionRef(name=child)]
            if p.share:
                # "电商渠道收入占比" = the share of 电商 among channels: show all channels.
                for dim in list(p.values):
                    if any(d.name == dim for d in dims):
                        filters = [f for f in filters if f.dimension != dim]

        # Time: the period, the grain, the comparison.
        lang_range = self._time_range(metrics, time_range, previous)
        if isinstance(lang_range, Understanding):
            return lang_range
        time_range, compare_from_times = lang_range
        # The periods named say what is compared ("今年比前年翻倍了吗": 2023, not 同比's 2024);
        # only a budget comparison is not about periods.
        budget = p.compare if p.compare is Compare.budget else None
        compare = compare or budget or compare_from_times or p.compare
        if compare is None and p.intent is Intent.explain:
            # "为什么3月毛利率下降了": a change is explained against the period before.
            compare = Compare.previous_period
        grain = p.grain
        if grain is None and p.trend and p.intent is not Intent.explain:
            # ("为什么收入变化了" asks why, not for the series: the change word is not a trend.)
            grain = Grain.day if time_range.days <= 31 else Grain.month
        if grain is not None:
            dims = [d for d in dims if not self._is_metric_time(d)]
            dims.insert(0, DimensionRef(name="metric_time", grain=grain))
        elif len(p.times) >= 2 and compare is None:
            hint = p.times[0].grain_hint or Grain.month
            dims.insert(0, DimensionRef(name="metric_time", grain=hint))

        # The comparison "环比" is with the previous period of the same grain.
        if compare is Compare.previous_period and grain is None and self.compare_months is None:
            span = time_range.days
            if 28 <= span <= 31 and time_range.start.day == 1:
                compare = Compare.mom
            elif 89 <= span <= 92 and time_range.start.day == 1:
                compare = Compare.qoq

        if p.drill and not p.values and not any(not self._is_time(d.name) for d in dims):
            return self._rank_needs_dimension(metrics[0], split=True)  # "成本 breakdown 一下"

        # Ranking and top-N.
        order_by = list(order or [])
        if p.ascending is not None or p.ranking:
            category_dims = [d for d in dims if not self._is_time(d.name)]
            if not category_dims and not any(self._is_metric_time(d) for d in dims):
                return self._rank_needs_dimension(metrics[0])
            field_name = metrics[0]
            if compare is not None and compare is not Compare.budget:
                field_name = f"{metrics[0]}__change_pct"
            order_by = [OrderBy(field=field_name, desc=not p.ascending)]
            limit = p.limit if p.limit is not None else limit

        having = []
        if previous is not None and (previous.having or previous.count_rows_as):
            # "都是哪些客户" after "超过200万的客户有几个": the same members, the same condition —
            # kept only while the rows are the same members (a new breakdown would change it).
            same_rows = {d.name for d in dims} == {d.name for d in previous.dimensions}
            kept = same_rows and all(h.metric in metrics for h in previous.having)
            if kept and not p.conditions:
                having = list(previous.having)
            counting = previous.count_rows_as is not None and not p.listing
            if counting and same_rows and (kept or p.conditions):
                self.count_rows_as = previous.count_rows_as  # "去年呢", "超过1000万的呢"
            elif counting and not p.conditions:
                # "按区域看" after a count: a count per region is not something we compute, and
                # dropping the condition would count other members — ask instead.
                return self._count_cannot_follow(previous)
        for op, value, percent in p.conditions:
            metric = metrics[0]
            unit = self.model.metric(metric).unit
            if unit == "percent" and not percent and value > 1:
                value = value / 100  # "毛利率低于30" means 30%
            having.append(Having(metric=metric, op=op, value=value))
            if not any(not self._is_time(d.name) for d in dims):
                return self._condition_needs_dimension(metric)

        intent = self._intent(dims, compare, order_by, limit)
        # Refuse what cannot be answered exactly, with what can be asked instead.
        for metric in metrics:
            for name in [d.name for d in dims] + [f.dimension for f in filters]:
                if not cat.reaches(metric, name):
                    return self._unreachable(metric, name)
        conflict = self._fixed_filter_conflict(metrics, filters)
        if conflict is not None:
            return conflict
        if compare is Compare.budget and not any(m in cat.budget_of for m in metrics):
            return self._no_budget(metrics[0])
        coverage = self._coverage_problem(metrics, time_range)
        if coverage is not None:
            return coverage
        query = SemanticQuery(
            metrics=metrics,
            dimensions=dims,
            filters=filters,
            having=having,
            time_range=time_range,
            compare=compare or Compare.none,
            order_by=order_by,
            limit=limit,
            intent=intent if self.count_rows_as is None else Intent.lookup,
            count_rows_as=self.count_rows_as,
            compare_months=self.compare_months if compare is Compare.previous_period else None,
        )
        if self.count_rows_as is not None:
            self._note_count(query)
        return Understanding("ok", query, {}, [], self.notes, p)

    def _note_count(self, query: SemanticQuery) -> None:
        from assistant.present import having_text

        names = [d.name for d in query.dimensions]
        conditions = " · ".join(having_text(h, self.model, query, "zh") for h in query.having)
        conditions_en = " · ".join(having_text(h, self.model, query, "en") for h in query.having)
        self.note(
            f"计数：满足条件（{conditions}）的{'、'.join(self.label(n) for n in names)}个数；"
            "名单可以追问「都是哪些」",
            f"A count: how many {', '.join(self.label(n, 'en').lower() for n in names)} meet "
            f"{conditions_en}; ask 'which ones' for the list",
        )

    def _fixed_filter_conflict(
        self, metrics: list[str], filters: list[Filter]
    ) -> Understanding | None:
        """ "取消了多少订单": order count only counts completed orders, so any number is wrong."""
        from sqlglot import exp

        from semantic_layer.expressions import parse_expr, qualify

        for f in filters:
            dim = self.model.dimension(f.dimension)
            if dim.table is None or dim.expr is None:
                continue
            column = qualify(parse_expr(dim.expr), dim.table)
            for leaf in self._leaves(metrics):
                fixed = self.ctx.catalog.leaf(leaf).filter
                if fixed is None:
                    continue
                for eq in fixed.find_all(exp.EQ):
                    if eq.this == column and isinstance(eq.expression, exp.Literal):
                        allowed = eq.expression.this
                        keeps = f.op in ("=", "in") and allowed in map(str, f.values)
                        if f.op in ("=", "in") and not keeps:
                            metric = self.model.metric(leaf)
                            return self.clarify(
                                f"「{metric.label.zh}」按口径只统计{dim.label.zh}为「{allowed}」的数据，"
                                f"无法回答{dim.label.zh}为「{'、'.join(map(str, f.values))}」的问题。"
                                f"口径：{metric.description.zh if metric.description else ''}",
                                f"'{metric.label.en}' only counts {dim.label.en.lower()} = {allowed} by "
                                f"definition, so it cannot answer for {', '.join(map(str, f.values))}.",
                                [self.example(leaf)],
                                status="refused",
                            )
        return None

    def _is_metric_time(self, ref: DimensionRef) -> bool:
        dim = self.model.dimension_map.get(ref.name)
        return dim is not None and dim.metric_time

    def _intent(self, dims, compare, order_by, limit) -> Intent:
        p = self.p
        if p.intent is not None:
            return p.intent
        if p.share:
            return Intent.share
        if order_by or limit:
            return Intent.rank
        if compare is not None:
            return Intent.compare
        if any(self._is_metric_time(d) for d in dims):
            return Intent.trend
        if dims:
            return Intent.breakdown
        return Intent.lookup

    def _time_range(self, metrics, keep: TimeRange | None, previous: SemanticQuery | None):
        """The period asked for, or the convention when none was said."""
        p, as_of = self.p, self.ctx.as_of
        tomorrow = as_of + timedelta(days=1)
        if p.years_back and previous is None:
            # "去年同期的收入", "2025年3月去年同期的毛利率": the period asked, one year back.
            years, p.years_back = p.years_back, 0
            now = self._time_range(metrics, keep, None)
            if isinstance(now, Understanding) or now[1] is not None:
                return now
            return _years_back(now[0], years), None
        times = sorted(_same_year(p.times), key=lambda t: t.range.start)
        # "3月份毛利率跟去年3月比" (去年 read as 同比): one period said twice is one period.
        times = list({(t.range.start, t.range.end): t for t in times}.values())
        if len(times) >= 2:
            first, last = times[0].range, times[-1].range
            shift = _month_shift(first, last)
            months = _months_between(first.start, first.end)
            same_length = (
                first.days == last.days
                or shift in (1, 3, 12)
                or (months is not None and months == _months_between(last.start, last.end))
            )
            balances = self._balances(metrics)  # read at their ends: 6月底 vs 12月底
            if (same_length or balances) and (p.compare is not None or _vs(p.text)):
                compare = self._compare_for(first, last, metrics, balances)
                if compare is None:
                    return self._cannot_compare(first, last)
                return last, compare
            label = f"{times[0].range.label}–{times[-1].range.label}"
            return TimeRange(start=first.start, end=last.end, label=label), None
        if len(times) == 1 and p.change and SINCE.search(times[0].range.label or ""):
            # "has revenue doubled since 2023": the latest period of that length against it.
            first, last = _ends(times[0])
            compare = self._compare_for(first, last, metrics) if first and last else None
            if compare is None:
                return self._cannot_compare(first or times[0].range, last or times[0].range)
            return last, compare
        if times and p.basis and previous is None:
            # "应收余额跟去年年底比": now (the convention's period) against the period named.
            basis = times[0].range
            p.times = []
            now = self._time_range(metrics, None, None)
            if isinstance(now, Understanding):
                return now
            compare = self._compare_for(basis, now[0], metrics)
            if compare is None:
                return self._cannot_compare(basis, now[0])
            return now[0], compare
        if times:
            return times[0].range, None
        if keep is not None:
            return keep, None
        if p.all_years:
            self.note(f"历年：全部数据（截至 {as_of}）", f"Every year of the data (up to {as_of})")
            return TimeRange(start=EPOCH, end=tomorrow, label="历年"), None
        if p.intent is Intent.explain:
            start = date(as_of.year, as_of.month, 1)
            self.note(
                f"未指定时间：解释本月（{start} 至 {as_of}）相对上月的变化",
                f"No period given: explaining this month ({start} to {as_of}) vs the last",
            )
            return TimeRange(start=start, end=tomorrow, label="本月"), None
        if self._balances(metrics):
            self.note(
                f"未指定时间：取截至 {as_of} 的最新余额",
                f"No period given: the latest balance as of {as_of}",
            )
            return TimeRange(start=EPOCH, end=tomorrow, label=f"截至{as_of}"), None
        window = knowledge.default_window(self.model, as_of)
        if window.start is None:
            self.note(
                f"未指定时间：全部时间（截至 {as_of}）",
                f"No period given: all time (up to {as_of})",
            )
            return TimeRange(start=EPOCH, end=tomorrow, label=window.label.zh), None
        self.note(
            f"未指定时间：默认{window.label.zh}（{window.start} 至 {as_of}）",
            f"No period given: {window.label.en} ({window.start} to {as_of})",
        )
        return TimeRange(start=window.start, end=tomorrow, label=window.label.zh), None

    def _compare_for(
        self,
        before: TimeRange,
        now: TimeRange,
        metrics: list[str],
        balances: bool | None = None,
    ) -> Compare | None:
        """The comparison of `now` with `before` (remembering a shift of several months)."""
        balances = self._balances(metrics) if balances is None else balances
        found = _compare_for(before, now, balances)
        if found is None:
            return None
        self.compare_months = found[1]
        return found[0]

    def _balances(self, metrics: list[str]) -> bool:
        """Whether every metric is read at a snapshot (a balance), not summed over a period."""
        return all(self.model.metric(m).semi_additive for m in self._leaves(metrics))

    def _cannot_compare(self, first: TimeRange, second: TimeRange) -> Understanding:
        """Two periods whose distance is no comparison the engine makes exactly (6月底 vs
        12月底, 今年 vs 前年): asked again, never compared with the wrong period."""
        a = first.label or f"{first.start}–{first.end - timedelta(days=1)}"
        b = second.label or f"{second.start}–{second.end - timedelta(days=1)}"
        return self.clarify(
            f"无法直接比较「{a}」和「{b}」：可比较的是同比（相隔一年）、环比（上月、上季度）或相邻的"
            "同长度期间。可以分别问这两个期间，或按月看趋势。",
            f"'{_english(a)}' and '{_english(b)}' cannot be compared directly: a comparison is "
            "with a year earlier, the previous month or quarter, or the adjacent period of the "
            "same length. Ask for each period, or for the monthly trend.",
            [],
        )

    def _leaves(self, metrics: list[str]) -> list[str]:
        out: list[str] = []
        for metric in metrics:
            out += self.ctx.catalog.leaves(metric)
        return out

    def _coverage_problem(self, metrics: list[str], window: TimeRange) -> Understanding | None:
        """A period the data does not cover: refused when no metric has data in it, a note
        for each metric that has none (never a silent 0); a metric without any dates can only
        be asked over all time."""
        leaves = self._leaves(metrics)
        all_time = window.start <= EPOCH
        undated = [m for m in leaves if m in self.ctx.undated]
        if undated and not all_time:
            name = next(m for m in metrics if set(self.ctx.catalog.leaves(m)) & set(undated))
            return self.clarify(
                f"「{self.label(name)}」的日期在数据中为空，无法按期间统计，只能看全部时间的数字。",
                f"'{self.label(name, 'en')}' has no dates in the data, so it cannot be counted "
                "for a period — only over all time.",
                [
                    {
                        "zh": f"历史累计的{self.label(name)}",
                        "en": f"{self.label(name, 'en')} of all time",
                    }
                ],
                status="refused",
            )
        spans = [self.ctx.coverage[m] for m in leaves if m in self.ctx.coverage]
        if not spans:
            return None
        if not all_time:
            for metric in metrics:
                own = [
                    self.ctx.coverage[m]
                    for m in self.ctx.catalog.leaves(metric)
                    if m in self.ctx.coverage
                ]
                if own and not any(window.end > a and window.start <= b for a, b in own):
                    a, b = min(s[0] for s in own), max(s[1] for s in own)
                    self.note(
                        f"「{self.label(metric)}」在该期间没有数据（数据覆盖 {a} 至 {b}）",
                        f"'{self.label(metric, 'en')}' has no data in that period (the data "
                        f"covers {a} to {b})",
                    )
        first = min(s[0] for s in spans)
        last = max(s[1] for s in spans)
        if window.end > first and window.start <= last:
            return None
        metric = metrics[0]
        return self.clarify(
            f"{window.label or ''}（{window.start} 至 {window.end - timedelta(days=1)}）没有数据："
            f"数据覆盖 {first} 至 {last}。",
            f"There is no data for {_english(window.label) or 'that period'} ({window.start} to "
            f"{window.end - timedelta(days=1)}): the data covers {first} to {last}.",
            [
                {
                    "zh": f"{last.year}年的{self.label(metric)}",
                    "en": f"{self.label(metric, 'en')} in {last.year}",
                },
                {
                    "zh": f"近12个月每月的{self.label(metric)}",
                    "en": f"{self.label(metric, 'en')} by month, last 12 months",
                },
            ],
            status="refused",
        )

    def _unreachable(self, metric: str, dimension: str) -> Understanding:
        cat = self.ctx.catalog
        allowed = [d for d in cat.allowed_dimensions(metric) if not self._is_time(d)]
        related = [
            m.name
            for m in self.model.metrics
            if m.name != metric and cat.reaches(m.name, dimension)
        ][:2]
        suggestions = [self.example(m, dimension) for m in related]
        suggestions += [self.example(metric, d) for d in allowed[:1]]
        related_zh = "、".join(self.label(m) for m in related) or "无"
        related_en = ", ".join(self.label(m, "en") for m in related) or "none"
        return self.clarify(
            f"「{self.label(metric)}」无法按「{self.label(dimension)}」分析：两者在数据中没有关联，"
            f"给出数字会是错的。{self.label(metric)}可以按"
            + "、".join(self.label(d) for d in allowed[:6])
            + f"分析；可以按「{self.label(dimension)}」分析的指标有：{related_zh}。",
            f"'{self.label(metric, 'en')}' cannot be broken down by "
            f"'{self.label(dimension, 'en')}': they are not related in the data, so any number "
            f"would be wrong. It can be broken down by "
            + ", ".join(self.label(d, "en").lower() for d in allowed[:6])
            + f"; metrics that can be broken down by {self.label(dimension, 'en').lower()}: "
            + f"{related_en}.",
            suggestions[:3],
            status="refused",
        )

    def _no_budget(self, metric: str) -> Understanding:
        with_budget = list(self.ctx.catalog.budget_of)
        return self.clarify(
            f"「{self.label(metric)}」没有编制预算，无法做预算对比。有预算的指标："
            + "、".join(self.label(m) for m in with_budget),
            f"'{self.label(metric, 'en')}' has no budget to compare with. Metrics with a "
            "budget: " + ", ".join(self.label(m, "en") for m in with_budget),
            [
                {"zh": f"{self.label(m)}预算完成情况", "en": f"{self.label(m, 'en')} vs budget"}
                for m in with_budget[:2]
            ],
            status="refused",
        )

    def _rank_needs_dimension(self, metric: str, split: bool = False) -> Understanding:
        dims = [d for d in self.ctx.catalog.allowed_dimensions(metric) if not self._is_time(d)]
        return self.clarify(
            f"请说明按什么{'拆分' if split else '排名'}，例如按"
            + "、".join(self.label(d) for d in dims[:3])
            + "。",
            f"{'Split' if split else 'Rank'} by what? For example by "
            + ", ".join(self.label(d, "en").lower() for d in dims[:3])
            + ".",
            [self.example(metric, d) for d in dims[:3]],
        )

    def _condition_needs_dimension(self, metric: str) -> Understanding:
        dims = [d for d in self.ctx.catalog.allowed_dimensions(metric) if not self._is_time(d)]
        return self.clarify(
            "条件要作用在哪一类对象上？例如哪些"
            + "、".join(self.label(d) for d in dims[:3])
            + "。",
            "Which items should meet the condition? For example which "
            + ", ".join(self.label(d, "en").lower() for d in dims[:3])
            + ".",
            [self.example(metric, d) for d in dims[:3]],
        )


YEAR_WORDS = re.compile(
    r"\d{2,4}\s*年|(?<!\d)(?:19|20)\d{2}(?!\d)|去年|今年|前年|明年|本年|上年|last year|this year"
    r"|next year|\bfy|'\d{2}\b"
)


def _has_year(label: str | None) -> bool:
    return bool(label and YEAR_WORDS.search(label.lower()))


def _in_year(window: TimeRange, year: int) -> TimeRange:
    """The same calendar period moved to `year` (3月 said after 2024年 → 2024-03)."""
    months = (year - window.start.year) * 12
    return TimeRange(
        start=add_months(window.start, months),
        end=add_months(window.end, months),
        label=window.label,
    )


def _same_year(times: list) -> list:
    """ "24年11月比10月": a period named without a year takes the year of the one named with."""
    with_year = [t for t in times if _has_year(t.range.label)]
    if len(times) < 2 or not with_year:
        return times
    year = with_year[0].range.start.year
    out = []
    for t in times:
        moved = _in_year(t.range, year)
        if (
            not _has_year(t.range.label)
            and t.range.start.year != year
            # "Q4 vs Q4 last year": moved, it would be the other period itself — it is this Q4.
            and all((o.range.start, o.range.end) != (moved.start, moved.end) for o in with_year)
        ):
            out.append(replace(t, range=moved))
        else:
            out.append(t)
    return out


def _compare_for(
    before: TimeRange, now: TimeRange, balances: bool
) -> tuple[Compare, int | None] | None:
    """The comparison that puts `before` next to `now` exactly — with the months back when it
    is not the adjacent period (今年 vs 前年 → 24) — or None.

    Balances are read at the last snapshot of a period, so their periods are matched by their
    ends (去年年底 = the snapshot a year before today's); flows need periods of equal length."""
    length = None
    if balances:
        shift = _months_between(before.end, now.end)
        if now.start > EPOCH and before.start > EPOCH:
            same = _months_between(now.start, now.end) == _months_between(before.start, before.end)
            shift = shift if same else None
    elif (add_months(before.start, 12), add_months(before.end, 12)) == (now.start, now.end):
        return Compare.yoy, None  # 双十一 vs 去年双十一: the same days a year earlier
    else:
        shift = _month_shift(before, now)
        length = _months_between(now.start, now.end)
        if length is None or length != _months_between(before.start, before.end):
            # Not whole months: only the adjacent period of the same length in days.
            adjacent = before.end == now.start and before.days == now.days
            return (Compare.previous_period, None) if adjacent else None
    if shift is None or shift <= 0:
        return None
    known = {12: Compare.yoy, 1: Compare.mom, 3: Compare.qoq}
    if shift in known:
        return known[shift], None
    if shift == length:
        return Compare.previous_period, None  # 上半年 vs 下半年: the same length just before
    return Compare.previous_period, shift  # 今年 vs 前年; a balance 12月底 vs 6月底


def _ends(match) -> tuple[TimeRange | None, TimeRange | None]:
    """The first and the last whole period of a "since" range by its grain (since 2023 →
    2023 and 2025), None when the range does not end on a period's end."""
    months = {Grain.year: 12, Grain.quarter: 3, Grain.month: 1}.get(match.grain_hint)
    window = match.range
    if months is None or window.start.day != 1 or window.end.day != 1:
        return None, None
    first = TimeRange(start=window.start, end=add_months(window.start, months))
    last = TimeRange(start=add_months(window.end, -months), end=window.end)
    if _months_between(last.start, last.end) != months or last.start < first.end:
        return None, None
    yearly = months == 12 and window.start.month == 1
    return (
        TimeRange(
            start=first.start, end=first.end, label=f"{first.start.year}" if yearly else None
        ),
        TimeRange(start=last.start, end=last.end, label=f"{last.start.year}" if yearly else None),
    )


def _months_between(start: date, end: date) -> int | None:
    """Whole months from `start` to `end`, when both are the 1st of a month."""
    if start.day != 1 or end.day != 1:
        return None
    return (end.year - start.year) * 12 + end.month - start.month


def _years_back(window: TimeRange, years: int) -> TimeRange:
    """The same period `years` earlier; a balance "as of today" becomes as of that day."""
    end = add_months(window.end, -12 * years)
    if window.start <= EPOCH:
        return TimeRange(start=window.start, end=end, label=f"截至{end - timedelta(days=1)}")
    return TimeRange(start=add_months(window.start, -12 * years), end=end, label=None)


def _step(window: TimeRange, step: int) -> TimeRange:
    """The same-length period before (step -1) or after (+1): 2025-11 → 2025-10."""
    months = (window.end.year - window.start.year) * 12 + window.end.month - window.start.month
    if window.start.day == 1 and window.end.day == 1 and months:
        start = add_months(window.start, step * months)
        return TimeRange(start=start, end=add_months(window.end, step * months), label=None)
    days = timedelta(days=step * window.days)
    return TimeRange(start=window.start + days, end=window.end + days, label=None)


def _month_shift(first: TimeRange, last: TimeRange) -> int | None:
    """Whole months between two periods' starts, when both start on the 1st."""
    if first.start.day != 1 or last.start.day != 1:
        return None
    months = (last.start.year - first.start.year) * 12 + last.start.month - first.start.month
    return months if add_months(first.start, months) == last.start else None


def _vs(text: str) -> bool:
    return bool(VERSUS.search(text.lower()))
