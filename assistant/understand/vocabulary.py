"""How people name a model's metrics and dimensions, derived from the model alone.

A model written by someone else (imported from dbt or Cube, drafted by `cockpit init`) names
things its own way: "Number of claims", "Avg claim amount", `company_claim_number`. People
ask "how many claims", "average claim amount", "by claim number", "理赔数量". This module
turns each label into the forms people use, generically:

- English inflection (claims ↔ claim, policies ↔ policy) by the `inflect` library;
- count metrics ("Number of claims", "Claim count", agg count over a table) also answer to
  "how many claims", "number of claim", "claims", "理赔数量", "多少个理赔";
- aggregation words: "avg"/"average"/"mean", and "total"/"sum of" before a summed measure;
- English-only labels get Chinese forms from the business glossary (revenue → 收入,
  orders → 订单), so a Chinese question works on an English model.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from semantic_layer.model import Dimension, Metric

AVERAGE = ("average", "avg", "mean")
COUNT_LABEL = re.compile(
    r"^(?:number of|no\.? of|count of|# of|num(?:ber)? of|total number of)\s+(?P<x>.+)$"
    r"|^(?P<y>.+?)\s+(?:count|counts|number)$"
)
ZH_COUNT = ("数量", "数", "个数", "总数")


@lru_cache(maxsize=1)
def _engine():
    import inflect

    return inflect.engine()


# Importing inflect takes a second or more (its functions are type-checked, compiled again at
# import), on every start of the CLI or the app. The forms it gives a model's labels are kept
# in the cache folder, so a later start reads them and never imports it. Words from questions
# are inflected in memory only: what people type is never written to disk.
_kept: dict[str, list[str]] = {}
_kept_file: Path | None = None
_unsaved = False
_PLAIN = re.compile(r"[a-z][a-z &\-]*[a-z]")


def remember_in(folder: Path) -> None:
    """Keep the forms of labels computed from now on in `folder` (and read those kept there)."""
    global _kept_file
    try:
        version = metadata.version("inflect")
    except metadata.PackageNotFoundError:
        version = "unknown"
    path = Path(folder) / f"inflections-{version}.json"
    if path == _kept_file:
        return
    _kept_file = path
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none yet, or unreadable: computed again
        return
    if isinstance(kept, dict):
        _kept.update((k, [str(f) for f in v]) for k, v in kept.items() if isinstance(v, list))


def save_forms() -> None:
    """Write the label forms computed since the last save (once per vocabulary built)."""
    global _unsaved
    if not _unsaved or _kept_file is None:
        return
    _unsaved = False
    try:
        _kept_file.parent.mkdir(parents=True, exist_ok=True)
        partial = _kept_file.with_name(f".{_kept_file.name}.{os.getpid()}")
        partial.write_text(json.dumps(_kept, ensure_ascii=False), encoding="utf-8")
        partial.replace(_kept_file)  # whole or not at all, for a process reading it now
    except OSError:  # a read-only cache: computed again next time
        pass


def label_inflections(phrase: str) -> list[str]:
    """`inflections` of a model's label, kept for the next start by `save_forms`."""
    global _unsaved
    if not _PLAIN.fullmatch(phrase):
        return []
    if phrase not in _kept:
        _kept[phrase] = _inflect(phrase)
        _unsaved = True
    return list(_kept[phrase])


def inflections(phrase: str) -> list[str]:
    """The phrase with its last English word in singular and plural ("claim amounts" ↔
    "claim amount"); [] for text that is not plain English words."""
    if not _PLAIN.fullmatch(phrase):
        return []
    if phrase in _kept:
        return list(_kept[phrase])
    return list(_inflected(phrase))


@lru_cache(maxsize=4096)
def _inflected(phrase: str) -> tuple[str, ...]:
    return tuple(_inflect(phrase))


def _inflect(phrase: str) -> list[str]:
    *head, last = phrase.split(" ")
    engine = _engine()
    forms = set()
    singular = engine.singular_noun(last)
    if singular:
        forms.add(" ".join([*head, singular]))
    else:
        forms.add(" ".join([*head, engine.plural_noun(last)]))
    forms.discard(phrase)
    return sorted(forms)


def _zh(words: str) -> list[str]:
    """Chinese for English words by the business glossary, in every way people say them
    (location: 地点, 门店); [] when a word is unknown."""
    from semantic_layer.draft import zh_forms

    split = [w for w in re.split(r"[\s_\-]+", words.lower()) if w]
    return zh_forms(split) if split else []


def _has_cjk(text: str) -> bool:
    return bool(re.search(r"[\u3400-\u9fff]", text))


def metric_forms(metric: Metric) -> list[str]:
    """Extra ways to name `metric` beyond its name, labels and synonyms."""
    english = metric.label.en.lower().replace("_", " ").strip()
    forms: list[str] = []
    counted = None
    match = COUNT_LABEL.match(english)
    if match:
        counted = (match["x"] or match["y"]).strip()
    elif metric.agg is not None and metric.agg.value in ("count", "count_distinct"):
        counted = english
    if counted:
        things = {counted, *label_inflections(counted)}
        for thing in things:
            forms += [
                f"number of {thing}",
                f"how many {thing}",
                f"count of {thing}",
                f"{thing} count",
                f"total {thing}",
                f"# of {thing}",
                f"{thing}数",
                f"{thing}数量",
            ]
        for zh in _zh(counted):
            forms += [f"{zh}{suffix}" for suffix in ZH_COUNT] + [f"多少{zh}", f"多少个{zh}"]
    for prefix in AVERAGE:
        if english.startswith(prefix + " "):
            rest = english[len(prefix) + 1 :]
            forms += [f"{other} {rest}" for other in AVERAGE] + [
                f"{other} of {rest}" for other in AVERAGE
            ]
            for zh in _zh(rest):
                forms += [f"平均{zh}", f"{zh}平均值", f"{zh}均值"]
    if metric.agg is not None and metric.agg.value == "sum":
        forms += [f"total {english}", f"sum of {english}", f"{english} total"]
    if "%" in english:
        # "Food Revenue %": the share people call a percentage, a rate, a ratio, 占比.
        base = english.replace("%", "").strip()
        forms += [f"{base} {w}" for w in ("percentage", "percent", "pct", "share", "ratio", "rate")]
        forms += [f"{w} of {base}" for w in ("percentage", "share")]
        for zh in _zh(base):
            forms += [f"{zh}占比", f"{zh}比例", f"{zh}百分比"]
    bare = re.sub(r"\s+(?:amount|amounts|value|total)$", "", english)
    if bare != english and " " in bare:
        forms.append(bare)  # "loss payment amount" is asked as "loss payments"
    words = english.replace("%", "").split()
    if len(words) >= 3 and not counted:
        # "Order Gross Profit" is what people call "gross profit" (毛利) when nothing else is.
        forms.append(" ".join(words[-2:]))
        if not _has_cjk(metric.label.zh):
            forms += _zh(" ".join(words[-2:]))
    if not _has_cjk(metric.label.zh) and not counted:
        # (A count's bare noun — 理赔, "claim" — is not the count: "settle a claim", 理赔员.)
        for zh in _zh(english) or _zh(metric.name):
            # "赔款支付金额" is asked as 赔款支付, as "loss payment amount" is "loss payments".
            forms += [zh, zh[:-2]] if zh.endswith("金额") and len(zh) >= 5 else [zh]
    out = []
    for form in forms:
        out += [form, *label_inflections(form)]
    # (A count's bare noun — "claims" — is not the count either: "paid in expenses on claims"
    # asks an amount. Counts are named with a counting word: how many, number of, 数量.)
    return list(dict.fromkeys(f for f in out if f))


def dimension_forms(dim: Dimension) -> list[str]:
    """Extra ways to name a dimension: inflections and, for English-only labels, Chinese."""
    english = dim.label.en.lower().replace("_", " ").strip()
    forms = [english, *label_inflections(english)]
    # An identifier named from its column (company_claim_number → "claim number").
    words = [w for w in dim.name.lower().split("_") if w]
    if len(words) > 2 and words[-1] in ("number", "no", "id", "code", "key", "identifier"):
        tail = " ".join(words[-2:])
        forms += [tail, *label_inflections(tail), words[-2]]  # company_claim_number: "claim"
        forms += _zh(tail)  # 理赔编号
    # "Product name", "Location name": the thing itself ("by product", 各产品).
    # An identifier too: "Claim number" is how each claim is told apart ("for each claim").
    head = re.sub(r"\s+(?:name|title|number|no|id|identifier|code)$", "", english)
    if head != english and head:
        # Singular only: "how many customers" asks a count, not a list by customer name.
        forms.append(_engine().singular_noun(head) or head)
        forms += _zh(head)
    if not _has_cjk(dim.label.zh):
        forms += _zh(english) or _zh(dim.name)
    return list(dict.fromkeys(forms))
