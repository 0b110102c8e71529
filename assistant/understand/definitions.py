"""Metrics a question defines for itself.

"total loss, which is the sum of loss payment, loss reserve and expense payment";
"loss ratio is total loss divided by premium"; "毛利减费用"; "回款占收入的比例"; "revenue / orders".
Each becomes a `Definition` — a derived metric over the model's own metrics, compiled with the
same zero-guarding — carried in the `SemanticQuery` (so follow-ups keep it) and shown in the
口径 as defined in the question. Every operand must be exactly one model metric (or a number);
anything else leaves the question to the ordinary rules, which say what they did not understand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.understand.lexicon import Lexicon, normalize
from semantic_layer.model import MetricKind, SemanticModel
from semantic_layer.query import Definition

# The defining clause: "<name>[,] [which|that] is|= <body>" / "<name>是|为|等于|定义为<body>".
_EN_CLAUSE = re.compile(
    r"(?P<name>[a-z][a-z0-9 %\-]{1,40}?)\s*,?\s*(?:which|that)?\s*"
    r"(?:is defined as|is calculated as|is computed as|defined as|is|=|means)\s+(?:the\s+)?"
    r"(?P<body>(?:sum|total) of .+?|.+? (?:divided by|over|minus|less|plus|times) .+?|.+?\s*[/+*-]\s*.+?)"
    r"(?=\s*(?:[.;?!]|,\s*(?:what|show|give|list|how|and what)\b|\bwhat\b|$)"
    r"|,?\s+(?:in|for|during|by|last|this|per|each)\s)"
)
_ZH_CLAUSE = re.compile(
    r"(?P<name>[\u4e00-\u9fffA-Za-z]{2,12}?)(?:定义为|等于|是指|即|为|是|=)"
    r"(?P<body>[^，。；？！,;?!]+?(?:除以|减去|减|加上|加|乘以|/|\+|-|占)[^，。；？！,;?!]+?)"
    r"(?=[，。；？！,;?!]|$)"
)
# A bare expression with no name: "毛利减费用", "回款占收入的比例", "revenue / orders".
_ZH_BARE = re.compile(
    r"(?P<body>[\u4e00-\u9fffA-Za-z]{2,12}(?:除以|减去|减|占)[\u4e00-\u9fffA-Za-z]{2,12}?"
    r"(?:的(?:比例|比重|百分比|占比|比率))?)(?=[，。；？！,;?!是多少为]|$)"
)
# "revenue / order count in 2025", "gross profit divided by revenue by region".
_EN_BARE = re.compile(
    r"(?P<body>[a-z][a-z ]{1,40}?\s*(?:/|divided by)\s*[a-z][a-z ]{1,40}?)"
    r"(?=\s+(?:in|by|for|during|last|this|per|each|over)\b|\s*[.;?!,]|$)"
)
_SUM = re.compile(r"^(?:sum|total) of (?P<list>.+)$")
_EN_BINARY = re.compile(
    r"^(?P<a>.+?)\s*(?P<op>divided by|over|minus|less|plus|times|/|\+|\*|-)\s*(?P<b>.+)$"
)
_ZH_BINARY = re.compile(
    r"^(?P<a>.+?)(?P<op>除以|减去|减|加上|加|乘以|占|/|\+|-)(?P<b>.+?)(?:的(?:比例|比重|百分比|占比|比率))?$"
)
_ZH_SUM = re.compile(r"^(?P<list>.+?)(?:之和|的和|的总和|合计|总和)$")
OPS = {
    "divided by": "/",
    "over": "/",
    "/": "/",
    "除以": "/",
    "占": "/",
    "minus": "-",
    "less": "-",
    "-": "-",
    "减": "-",
    "减去": "-",
    "plus": "+",
    "+": "+",
    "加": "+",
    "加上": "+",
    "times": "*",
    "*": "*",
    "乘以": "*",
}


@dataclass(frozen=True)
class Found:
    """A definition and where it was written (to take it out of the question)."""

    definition: Definition
    start: int
    end: int
    name_text: str  # how the question names it ("loss ratio"), "" for a bare expression


def _metric(phrase: str, lexicon: Lexicon, known: dict[str, str] | None = None) -> str | None:
    """The one metric a phrase names exactly (allowing 'the', 'total', 的), a metric defined
    earlier in the question (`known`), or a number."""
    text = re.sub(r"^(?:the|total|our)\s+|\s+(?:amounts?)$", "", phrase.strip(" ,的"))
    for form in (phrase.strip(" ,的"), text):
        if known and form in known:
            return known[form]
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return text
    candidates = [phrase.strip(" ,的"), text]
    if re.search(r"[\u4e00-\u9fff]", text):
        # "2025年回款" → 回款: the operand is the longest tail that names a metric.
        candidates += [text[i:] for i in range(1, len(text) - 1)]
    for candidate in candidates:
        matches = lexicon.scan(normalize(candidate))
        if (
            len(matches) == 1
            and matches[0].start == 0
            and matches[0].end >= len(normalize(candidate)) - 1
            and matches[0].entries[0].kind == "metric"
            and len({e.name for e in matches[0].entries}) == 1
        ):
            return matches[0].entries[0].name
    return None


def _is_metric_name(text: str, lexicon: Lexicon) -> bool:
    """Whether `text`, exactly as written, is a name of a model metric."""
    entries = lexicon.surfaces.get(normalize(text), [])
    return any(e.kind == "metric" for e in entries)


def _operands(text: str) -> list[str]:
    return [p for p in re.split(r"\s*(?:,|、|\band\b|\bplus\b|和|与|加上|加|\+)\s*", text) if p]


def _body(body: str, lexicon: Lexicon, known: dict[str, str]) -> tuple[str, list[str]] | None:
    """The arithmetic a body describes over metric names, and the operator used."""
    body = body.strip()
    for pattern in (_SUM, _ZH_SUM):
        m = pattern.match(body)
        if m:
            names = [_metric(p, lexicon, known) for p in _operands(m["list"])]
            if len(names) >= 2 and all(names):
                return " + ".join(names), ["+"]  # type: ignore[arg-type]
    for pattern in (_EN_BINARY, _ZH_BINARY):
        m = pattern.match(body)
        if m:
            if re.search(r"各|每|\beach\b|\bevery\b|\bper\b", m["a"]):
                return None  # "各类费用占总费用的比例": each member's share, not a new metric
            a, b = _metric(m["a"], lexicon, known), _metric(m["b"], lexicon, known)
            if a and b and a != b:
                op = OPS[m["op"]]
                return f"{a} {op} {b}", [op]
    return None


def _slug(label: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
    if not base or not base[0].isalpha():
        base = "defined"
    name, n = f"q_{base}"[:40], 2
    while name in taken:
        name, n = f"q_{base}_{n}"[:40], n + 1
    return name


def _unit(expr: str, ops: list[str], model: SemanticModel) -> str:
    names = [n for n in re.findall(r"[a-z_][a-z0-9_]*", expr) if n in model.metric_map]
    units = {model.metric(n).unit for n in names}
    if "/" in ops:
        return "percent" if len(units) == 1 else "ratio"
    return units.pop() if len(units) == 1 else "ratio"


def find_definitions(question: str, lexicon: Lexicon, model: SemanticModel) -> list[Found]:
    """Definitions written in the question, left to right (at most a few)."""
    text = normalize(question)
    found: list[Found] = []
    taken = set(model.metric_map)
    known: dict[str, str] = {}  # names defined so far → their metric names
    for pattern in (_EN_CLAUSE, _ZH_CLAUSE, _ZH_BARE, _EN_BARE):
        for m in pattern.finditer(text):
            if any(m.start() < f.end and f.start < m.end() for f in found):
                continue
            parsed = _body(m["body"], lexicon, known)
            if parsed is None:
                continue
            expr, ops = parsed
            name_text = (m.groupdict().get("name") or "").strip(" ,")
            name_text = re.sub(r"^(?:and|so|let|where|if)\s+", "", name_text)
            if name_text and _is_metric_name(name_text, lexicon):
                continue  # "revenue is revenue / 2"? a model metric is not redefined
            # A bare expression is named by itself, without the period words before it.
            label = name_text or re.sub(r"^[\d年月季度的\s]+", "", m["body"].strip())
            name = _slug(label, taken)
            taken.add(name)
            definition = Definition(name=name, label=label, expr=expr, unit=_unit(expr, ops, model))
            found.append(Found(definition, m.start(), m.end(), name_text))
            if name_text:
                known[name_text] = name
    return sorted(found, key=lambda f: f.start)


def modelled(definition: Definition, model: SemanticModel) -> str | None:
    """The model's own derived metric computing what `definition` computes ("食品收入占总收入
    的比例" is the model's Food Revenue %), else None: the governed 口径 answers, by its name."""
    import sqlglot

    def canonical(expr: str) -> str | None:
        try:
            return sqlglot.parse_one(expr).sql(normalize=True)
        except sqlglot.errors.ParseError:
            return None

    wanted = canonical(definition.expr)
    for metric in model.metrics:
        if metric.kind is MetricKind.derived and metric.expr and canonical(metric.expr) == wanted:
            return metric.name
    return None


def without_definitions(question: str, found: list[Found]) -> str:
    """The question with each defining clause, and each later mention of a defined name,
    taken out: what is left says what to compute with them (by state, in 2019…)."""
    text = normalize(question)
    for item in sorted(found, key=lambda f: -f.start):
        text = text[: item.start] + " " + text[item.end :]
    for item in found:
        if item.name_text:
            text = re.sub(re.escape(item.name_text), " ", text)
    return re.sub(r"\s+", " ", text).strip(" ,;")
