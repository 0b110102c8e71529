"""The lexicon: every word a question can use for a metric, a dimension or a dimension value.

Built from the semantic layer (names, zh/en labels, synonyms) and from the data itself (the
distinct values of each category dimension, with their English names), so a model author who
adds a synonym or a region teaches the parser without touching code. Matching is longest-first
over the raw text, which works for Chinese (no spaces) and English (word boundaries) alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from rapidfuzz import fuzz, process

from semantic_layer.engine import Engine
from semantic_layer.errors import CockpitError
from semantic_layer.model import Knowledge, MetricKind, SemanticModel

Kind = Literal["metric", "dimension", "value"]
KIND_RANK = {"metric": 0, "dimension": 1, "value": 2}

# Suffixes people drop when naming companies and regions: 北辰重工有限公司 → 北辰重工.
COMPANY_SUFFIX = re.compile(r"(股份有限公司|有限责任公司|有限公司|集团公司|集团|公司)$")
# Dimensions whose values are too many to list in a prompt but fine to match (customers…).
MAX_VALUES = 20_000
LATIN = re.compile(r"[a-z0-9]")
# Words the grammar reads (not in the lexicon) that typo correction must also know: 走式 → 走势.
GRAMMAR_WORDS = ("走势", "趋势", "同比", "环比", "占比", "排名", "预算", "构成", "增长", "下降")
# Ordinary English words that must never be "corrected" into catalogue words.
COMMON_ENGLISH = set(
    # Verbs that say how a fact happened, which the metric's own date already means: "orders
    # placed in 2019", "premium written", "claims opened", "policies that took effect".
    """placed written opened paid issued booked filed submitted recorded received generated
    made took effect came happened occurred incurred registered created logged earned gave
    offered granted
    """
    """a about above across actual actually add added after again against ago all almost along
    already also although always am among amount an and another any anything are around as ask
    asked at average away back bad based be became because become been before begin beginning
    behind being below best better between big bigger biggest both bought break breakdown bring
    brought business but buy by call called can cannot change changed changes chart check
    clear clearly close closing come comes coming company compare compared comparing
    comparison could count country current currently daily data day days did do does doing
    done down drop dropped due during each early earlier either else end ended ending enough
    especially even ever every everything example far fast fell few figure figures final
    first fit following for found from full get gets getting give given go goes going gone
    good got great group grow growing grown grew growth had half happen happened has have
    having he her here hold holding high higher highest him his hit hold how however i if in include
    included including increase increased instead into is it its itself just keep kind know
    known large larger largest last late latest least left less let level levels like
    likely list little long look looking looks lot low lower lowest made main make makes
    making many may maybe me mean means might mine month months more most move moved moves
    moving much must my need needs never new next no not now number numbers of off often
    on once one only or order other others our ours out over overall own part past per
    percent perform performance performed performing period perhaps place please point poor
    fall falls fell falling drop drops dropped dropping jump jumps jumped spike spiked surge
    surged decline declined declining rise rises risen climb climbed plunge plunged dip dipped
    plus pretty previous probably put quarter quarters quite rate rather really recent recently
    report right rise rising rose run running same say second see seem seems set several
    shall she should show showed shown shows side since sit sits sitting small stack stacks smaller so some something
    start started still stuff such sum summary sure take than that the their them then there
    these they thing things think this those though three through till time times to today
    together told too top total totals trend trended trending two under until up upon us
    use used using value values very view want wanted was way we week weeks well went were
    what whats when where whether which while who whole why will with within without work
    worse worst would year years yes yesterday yet you your""".split()
)
GENERIC_DIMENSION_WORDS = ("类别", "类型", "category", "type")


@dataclass(frozen=True)
class Entry:
    """What a surface form means: a metric, a dimension, or one value of a dimension."""

    kind: Kind
    name: str  # metric or dimension name
    value: str | None = None  # the value as stored in the database


@dataclass(frozen=True)
class Match:
    start: int
    end: int
    text: str
    entries: tuple[Entry, ...]
    fuzzy: bool = False


# Traditional characters common in business questions → simplified (銷售額 → 销售额).
TRADITIONAL = str.maketrans(
    "銷額個戶營業潤應帳賬費數據區華東單價庫齡貨現資產負債統計報務來們這還點總員類別線倉購採與從後會時間"
    "週動變號張為門場錢實際勞環較長條圖買賣貿選損標準達態況績銀進運輸導團歷嗎麼幾網預算項純餘觀劃",
    "销额个户营业润应账账费数据区华东单价库龄货现资产负债统计报务来们这还点总员类别线仓购采与从后会时间"
    "周动变号张为门场钱实际劳环较长条图买卖贸选损标准达态况绩银进运输导团历吗么几网预算项纯余观划",
)
# Characters people type by mistake with pinyin input, and what they meant in our words
# (毛利律 → 毛利率, 应收帐款 → 应收账款, 库纯 → 库存, 消售额 → 销售额). Used only where the
# corrected pair is part of a known word and the typed pair is not.
CONFUSABLE = {"律": "率", "绿": "率", "帐": "账", "纯": "存", "消": "销", "汇": "回", "式": "势"}


def normalize(text: str) -> str:
    """Full-width → half-width, simplified, lower case, single spaces: how we compare text."""
    text = unicodedata.normalize("NFKC", text).translate(TRADITIONAL).lower()
    return re.sub(r"\s+", " ", text).strip()


def _variants(word: str) -> list[str]:
    """A surface form, its English plural, and "avg" for "average"."""
    out = [word, *_plural(word)]
    if word.startswith("average "):
        out += [_ for w in out for _ in ("avg " + w[len("average ") :],)]
    return out


def _plural(word: str) -> list[str]:
    if not re.fullmatch(r"[a-z][a-z &\-]*[a-z]", word):
        return []
    if word.endswith("y") and not word.endswith(("ay", "ey", "oy")):
        return [word[:-1] + "ies"]
    if word.endswith(("s", "x", "ch", "sh")):
        return [word + "es"]
    return [word + "s"]


class Lexicon:
    """Surface forms → meanings, with longest-match and fuzzy look-up."""

    def __init__(self) -> None:
        # (b, a) when dimension b is an entity that has attribute a: (customer, industry),
        # (customer, region). "制造业客户" then means customers in manufacturing, not a split.
        self.attribute_of: set[tuple[str, str]] = set()
        self.surfaces: dict[str, list[Entry]] = {}
        self.metric_names: set[str] = set()
        # Dimensions on tables that are things (customers, products), not facts: only these
        # can be "described" (制造业客户) rather than split by.
        self.entities: set[str] = set()
        # supplier → supplier_type: what "各类供应商" splits by.
        self.type_of: dict[str, str] = {}
        self.values: dict[str, list[str]] = {}  # dimension → its values (for suggestions)
        # dimension → {stored value: its English name} (the model's `value_labels`, else its
        # `value_label_en` column): what an English answer shows for 华东.
        self.english: dict[str, dict[str, str]] = {}
        # (a, b) → the metric defined as a − b: "cash in, cash out and net" names it as "net".
        self.difference_of: dict[tuple[str, str], str] = {}
        # percent metric → the amount it is a ratio of: "GM和GM%" names both.
        self.amount_of: dict[str, str] = {}
        # The model's business knowledge (verbs that imply metrics, metric groups…).
        self.knowledge = Knowledge()
        # dimension → how people write any of its members ("{}区", "{} region").
        self.value_forms: dict[str, list[str]] = {}
        # Surfaces derived from labels (not declared): read when written, never a fuzzy
        # target — "claim" is not a typo of the derived "claims", nor 理赔员 of 理赔数.
        self.derived: set[str] = set()
        self.counts: set[str] = set()  # metrics that count things (agg count, count_distinct)
        self.money: set[str] = set()  # metrics in money: an amount, never a quantity
        self.pieces_of: dict[str, str] = {}
        # metric → its figure against its own plan (expenses → expenses ÷ expense budget), and
        # each plan → the metric it plans: "费用预算完成率" is the expenses' ratio to plan.
        self.plan_ratio: dict[str, str] = {}
        self.planned_by: dict[str, str] = {}
        self.max_length = 1

    def add(self, surface: str, entry: Entry) -> None:
        key = normalize(surface)
        if not key:
            return
        entries = self.surfaces.setdefault(key, [])
        if entry not in entries:
            entries.append(entry)
            entries.sort(key=lambda e: KIND_RANK[e.kind])
        self.max_length = max(self.max_length, len(key))

    @classmethod
    def build(cls, model: SemanticModel, engine: Engine | None = None) -> Lexicon:
        """Terms from the model, plus dimension values read from the database when given."""
        lexicon = cls()
        lexicon.knowledge = model.knowledge
        lexicon.value_forms = {d.name: d.value_forms for d in model.dimensions if d.value_forms}
        lexicon.metric_names = set(model.metric_map)
        lexicon.counts = {
            m.name for m in model.metrics if m.agg is not None and m.agg.value.startswith("count")
        }
        lexicon.money = {m.name for m in model.metrics if m.unit == "yuan"}
        # A money metric → the one quantity metric of its table ("多少件库存": the pieces).
        units: dict[str, list[str]] = {}
        for m in model.metrics:
            if m.unit == "units" and m.table and m.kind is MetricKind.simple:
                units.setdefault(m.table, []).append(m.name)
        lexicon.pieces_of = {
            m.name: units[m.table][0]
            for m in model.metrics
            if m.name in lexicon.money and len(units.get(m.table or "", [])) == 1
        }
        lexicon.plan_ratio, lexicon.planned_by = _plans(model)
        lexicon.difference_of, lexicon.amount_of = _relations(model)
        for metric in model.metrics:
            entry = Entry("metric", metric.name)
            words = [metric.name, metric.name.replace("_", " "), metric.label.zh, metric.label.en]
            for word in [*words, *metric.synonyms]:
                for variant in _variants(normalize(word)):
                    lexicon.add(variant, entry)
        for dim in model.dimensions:
            entry = Entry("dimension", dim.name)
            words = [dim.name, dim.name.replace("_", " "), dim.label.zh, dim.label.en]
            for word in [*words, *dim.synonyms]:
                lexicon.add(word, entry)
                for plural in _plural(normalize(word)):
                    lexicon.add(plural, entry)
        lexicon._add_derived_forms(model)
        from semantic_layer.graph import JoinGraph

        graph = JoinGraph(model)
        facts = {m.table for m in model.metrics if m.table}
        lexicon.entities = {d.name for d in model.dimensions if d.table and d.table not in facts}
        for dim in model.dimensions:
            parent = model.dimension_map.get(dim.parent) if dim.parent else None
            if parent is not None and any(
                w in parent.label.zh + parent.label.en.lower()
                for w in ("类型", "类别", "type", "category")
            ):
                lexicon.type_of[dim.name] = parent.name
        tables = [(d.name, d.table) for d in model.dimensions if d.table]
        for b, b_table in tables:
            for a, a_table in tables:
                if a != b and graph.reachable(b_table, a_table):
                    lexicon.attribute_of.add((b, a))
        # Generic words ("类别", "type") name whichever dimension the metric can reach.
        for dim in model.dimensions:
            zh, en = dim.label.zh, normalize(dim.label.en)
            for generic in GENERIC_DIMENSION_WORDS:
                if zh.endswith(generic) or en.endswith(generic):
                    lexicon.add(generic, Entry("dimension", dim.name))
        if engine is not None:
            lexicon._add_values(model, engine)
        return lexicon

    def _add_derived_forms(self, model: SemanticModel) -> None:
        """Forms people use that the model did not list (claims, how many claims, 收入 for an
        English "Revenue"): added only where no declared word already means something, so
        the model's own words always win."""
        from assistant.understand.vocabulary import dimension_forms, metric_forms, save_forms

        soft: dict[str, set[Entry]] = {}
        for metric in model.metrics:
            for form in metric_forms(metric):
                soft.setdefault(normalize(form), set()).add(Entry("metric", metric.name))
        for dim in model.dimensions:
            for form in dimension_forms(dim):
                soft.setdefault(normalize(form), set()).add(Entry("dimension", dim.name))
        save_forms()  # the labels' word forms, for the next start
        for surface, entries in soft.items():
            if surface and surface not in self.surfaces and len(entries) == 1:
                self.add(surface, next(iter(entries)))
                self.derived.add(surface)

    def _add_values(self, model: SemanticModel, engine: Engine) -> None:
        """Each category dimension's members as the parser's value words, read through the
        compiler's listing (`semantic_layer.members`): a role dimension offers only the
        parties in its role, and a secured engine only the members its role may see."""
        from semantic_layer.errors import QueryError
        from semantic_layer.members import read_members

        for dim in model.dimensions:
            if dim.type != "category" or dim.table is None or dim.expr is None:
                continue
            try:
                rows = read_members(model, engine, dim.name, MAX_VALUES, english=True)
            except QueryError:
                continue  # the model cannot list this dimension on its own: no names
            except CockpitError as err:
                if _statement_error(err):
                    continue  # this dimension's expression does not run on this data: no names
                raise  # a broken database file fails here, loudly
            self.values[dim.name] = sorted(str(r[0]) for r in rows)
            for row in rows:
                stored = str(row[0])
                entry = Entry("value", dim.name, stored)
                for alias in self._aliases(stored, dim.value_forms):
                    self.add(alias, entry)
                for word in dim.value_synonyms.get(stored, []):
                    self.add(word, entry)
                english = [row[1]] if len(row) > 1 and row[1] else []
                english += [dim.value_labels[stored]] if stored in dim.value_labels else []
                if english and str(english[-1]) != stored:
                    self.english.setdefault(dim.name, {})[stored] = str(english[-1])
                for word in english:
                    for alias in self._english_aliases(normalize(str(word)), dim.value_forms):
                        self.add(alias, entry)

    @staticmethod
    def _aliases(value: str, forms: list[str]) -> list[str]:
        """How people write a stored value: 北辰重工有限公司 → 北辰重工, 华东 → 华东区, A → A级."""
        if len(value) == 1 and value.isascii():
            # A bare letter would match the English article "a": only qualified forms count.
            return (
                [f"{value}{s}" for s in ("级", "类", "等级", "级别")]
                + [f"{p} {value}" for p in ("rating", "grade", "class", "tier")]
                + [
                    f"{value}-rated",
                    f"{value} rated",
                    f"rated {value}",
                    f"{value}-grade",
                    f"{value}-class",
                ]
            )
        aliases = [value, value.replace(" ", "")]
        short = COMPANY_SUFFIX.sub("", value)
        if short != value and len(short) >= 2:
            aliases.append(short)
        if value.endswith("活动") and len(value) > 3:
            aliases.append(value[:-2])  # 经营活动 → 经营
        # The model's forms with Chinese in them: 华东 → 华东区 ("{}区"); 市场推广 → 市场推广费.
        aliases += [
            form.replace("{}", value)
            for form in forms
            if not form.replace("{}", "").isascii() and form.replace("{}", "") not in value
        ]
        return aliases

    @staticmethod
    def _english_aliases(word: str, forms: list[str]) -> list[str]:
        """The model's English forms: South → South China ("{} china"); Sales → sales team."""
        return [word] + [
            normalize(form.replace("{}", word))
            for form in forms
            if form.replace("{}", "").isascii()
        ]

    def correct(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """Fix one-character input-method slips in place (same length, so spans still fit)."""
        if not hasattr(self, "_pairs"):
            words = [*self.surfaces, *GRAMMAR_WORDS]
            self._pairs = {s[i : i + 2] for s in words for i in range(len(s) - 1)}
        chars, fixes = list(text), []
        for i, char in enumerate(chars):
            meant = CONFUSABLE.get(char)
            if meant is None:
                continue
            left = chars[i - 1] if i else ""
            right = chars[i + 1] if i + 1 < len(chars) else ""
            typed_known = (left + char) in self._pairs or (char + right) in self._pairs
            meant_known = (left + meant) in self._pairs or (meant + right) in self._pairs
            if meant_known and not typed_known:
                chars[i] = meant
                fixes.append((char, meant))
        text = "".join(chars)
        return self._correct_english(text, fixes), fixes

    def _correct_english(self, text: str, fixes: list[tuple[str, str]]) -> str:
        """custmers → customers, revnue → revenue: long words one or two letters off."""
        if not hasattr(self, "_words"):
            self._words = sorted({w for s in self.surfaces for w in re.findall(r"[a-z]{3,}", s)})
            self._known = set(self._words)

        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            if word in self._known or word in COMMON_ENGLISH:
                return word
            for cut in range(3, len(word) - 2):  # grossmargin → gross margin
                joined = f"{word[:cut]} {word[cut:]}"
                if joined in self.surfaces:
                    fixes.append((word, joined))
                    return joined
            best = process.extractOne(word, self._words, scorer=fuzz.ratio, score_cutoff=84)
            if best is None or abs(len(best[0]) - len(word)) > 2:
                return word
            fixes.append((word, best[0]))
            return best[0]

        return re.sub(r"[a-z]{5,}", fix, text)

    # --- matching -------------------------------------------------------------------------
    def scan(self, text: str, taken: Iterable[tuple[int, int]] = ()) -> list[Match]:
        """The matches that cover the most of `text` (skipping spans already used).

        Chosen by dynamic programming, not greedily: in "仓库存金额" the greedy choice 仓库
        would leave 存金额 unread, while 仓 + 库存金额 reads the metric. Ties go to fewer,
        longer matches.
        """
        n = len(text)
        blocked = [False] * (n + 1)
        for start, end in taken:
            for i in range(max(start, 0), min(end, n)):
                blocked[i] = True
        candidates: list[list[Match]] = [[] for _ in range(n)]
        for i in range(n):
            if blocked[i] or text[i] == " ":
                continue
            for length in range(min(self.max_length, n - i), 0, -1):
                end = i + length
                if blocked[end - 1]:
                    continue
                piece = text[i:end]
                entries = self.surfaces.get(piece)
                if entries and not any(blocked[i:end]) and self._bounded(text, i, end):
                    candidates[i].append(Match(i, end, piece, tuple(entries)))
        # best[i] = (characters covered from i on, -matches, of them by metric words, match):
        # fewer, longer words first (费用类别, not 费用|类别); then metric words win.
        best: list[tuple[int, int, int, Match | None]] = [(0, 0, 0, None)] * (n + 1)
        for i in range(n - 1, -1, -1):
            covered, count, metric, _ = best[i + 1]
            choice = (covered, count, metric, None)
            for match in candidates[i]:
                after = best[match.end]
                length = match.end - match.start
                is_metric = length if match.entries[0].kind == "metric" else 0
                option = (after[0] + length, after[1] - 1, after[2] + is_metric, match)
                if option[:3] > choice[:3]:
                    choice = option
            best[i] = choice
        matches, i = [], 0
        while i < n:
            match = best[i][3]
            if match is None:
                i += 1
            else:
                matches.append(match)
                i = match.end
        return matches

    @staticmethod
    def _bounded(text: str, start: int, end: int) -> bool:
        """English words match whole words only ("rev" must not match inside "revenue")."""
        if LATIN.match(text[start]) and start > 0 and LATIN.match(text[start - 1]):
            return False
        return not (LATIN.match(text[end - 1]) and end < len(text) and LATIN.match(text[end]))

    def fuzzy(self, chunk: str) -> Match | None:
        """A near-miss (typo) for a leftover chunk: 毛利律 → 毛利率, revnue → revenue."""
        chunk = chunk.strip()
        if len(chunk) < 3:
            return None
        cjk = not LATIN.search(chunk)
        if cjk:
            # Same length, one character different, and the two sound alike: a wrong character
            # typed by pinyin input (毛利律 → 毛利率). Characters that sound different are
            # another word, not a slip (付款额 is not 回款额, 采购量 is not 采购额).
            for surface, entries in self.surfaces.items():
                if (
                    surface not in self.derived
                    and len(surface) == len(chunk)
                    and (entries[0].kind != "value" or len(chunk) >= 4)
                    and not self._siblings(chunk, surface)
                ):
                    changed = [(a, b) for a, b in zip(chunk, surface, strict=True) if a != b]
                    if len(changed) == 1 and _sound_alike(*changed[0]):
                        return Match(0, len(chunk), surface, tuple(entries), fuzzy=True)
            return None
        if len(chunk) < 5:
            return None
        choices = [s for s in self.surfaces if LATIN.match(s) and s not in self.derived]
        best = process.extractOne(chunk, choices, scorer=fuzz.ratio, score_cutoff=85)
        if best is None:
            return None
        from assistant.understand.vocabulary import inflections

        entries = self.surfaces[best[0]]
        if self._siblings(chunk, best[0]):
            return None
        if best[0] in inflections(chunk) and any(e.name in self.counts for e in entries):
            # "settle a claim" is not "claims" (the count of claims): another word, not a slip.
            return None
        return Match(0, len(chunk), best[0], tuple(self.surfaces[best[0]]), fuzzy=True)

    def _siblings(self, typed: str, meant: str) -> bool:
        """Whether turning `typed` into `meant` would cross a pair the model says are never
        one another (应付/应收, inflow/outflow): a near miss there is a different concept."""
        for group in self.knowledge.siblings:
            for a in group:
                for b in group:
                    if a != b and a in typed and b in meant and a not in meant:
                        return True
        return False

    def metric_words(self) -> set[str]:
        """Every English word of a metric's or dimension's declared surface (not derived
        forms): left unread in a question, such a word names something unresolved."""
        if not hasattr(self, "_metric_words"):
            self._metric_words = {
                word
                for surface, entries in self.surfaces.items()
                if surface not in self.derived
                and any(e.kind in ("metric", "dimension") for e in entries)
                for word in re.findall(r"[a-z]{3,}", surface)
            }
        return self._metric_words

    def english_words(self) -> set[str]:
        """Every English word that is part of some surface form."""
        if not hasattr(self, "_known"):
            self._correct_english("", [])
        return self._known

    def surfaces_of(self, name: str) -> list[str]:
        """Every surface form of a metric or dimension."""
        if not hasattr(self, "_by_name"):
            self._by_name: dict[str, list[str]] = {}
            for surface, entries in self.surfaces.items():
                for entry in entries:
                    if entry.kind != "value":
                        self._by_name.setdefault(entry.name, []).append(surface)
        return self._by_name.get(name, [])

    def containing(self, chunk: str, kind: Kind = "metric") -> list[str]:
        """Names whose surface forms contain `chunk` (a vague word: 预算 → two budgets)."""
        names: dict[str, None] = {}
        for surface, entries in self.surfaces.items():
            if chunk in surface and surface not in self.derived:
                names.update({e.name: None for e in entries if e.kind == kind})
        return list(names)


def _statement_error(err: Exception) -> bool:
    """An error in one statement (types, a binder error), not in the database itself."""
    detail = str(getattr(err, "params", {}).get("detail", ""))
    return detail.startswith(("Binder Error", "Conversion Error", "Catalog Error"))


def _metric_and_operand(model: SemanticModel):
    """Derived metrics written as a metric, an operator and an operand: (metric, the
    expression, the first metric's name, the second's when it is a metric too)."""
    from sqlglot import exp

    from semantic_layer.expressions import parse_expr

    for metric in model.metrics:
        if metric.kind.value != "derived" or not metric.expr:
            continue
        node = parse_expr(metric.expr)
        left, right = node.args.get("this"), node.args.get("expression")
        if not isinstance(left, exp.Column) or left.name not in model.metric_map:
            continue
        other = right.name if isinstance(right, exp.Column) else None
        yield metric, node, left.name, other if other in model.metric_map else None


def _relations(model: SemanticModel) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """Derived metrics that are one metric minus another (净现金流 = 流入 − 流出), and percent
    metrics that are one metric over another (毛利率 = 毛利 ÷ 收入, mapped to 毛利)."""
    from sqlglot import exp

    differences: dict[tuple[str, str], str] = {}
    amounts: dict[str, str] = {}
    for metric, node, left, other in _metric_and_operand(model):
        if isinstance(node, exp.Sub):
            if other is not None:
                differences[(left, other)] = metric.name
        elif isinstance(node, exp.Div) and metric.unit == "percent":
            amounts[metric.name] = left
    return differences, amounts


def _plans(model: SemanticModel) -> tuple[dict[str, str], dict[str, str]]:
    """Each metric with a plan (`budget:`) → the derived metric that is it over its plan, and
    each plan → the metric it plans."""
    from sqlglot import exp

    planned_by = {m.budget: m.name for m in model.metrics if m.budget}
    ratios: dict[str, str] = {}
    for metric, node, left, other in _metric_and_operand(model):
        if isinstance(node, exp.Div) and other is not None and planned_by.get(other) == left:
            ratios.setdefault(left, metric.name)
    return ratios, planned_by


@lru_cache(maxsize=4096)
def _readings(char: str) -> frozenset[str]:
    """Every pinyin reading of a character, without tones (率: lv, shuai)."""
    from pypinyin import Style, pinyin

    return frozenset(pinyin(char, style=Style.NORMAL, heteronym=True)[0])


def _sound_alike(typed: str, meant: str) -> bool:
    """Whether two characters share a reading, as a pinyin input method's slip does."""
    return bool(_readings(typed) & _readings(meant))
