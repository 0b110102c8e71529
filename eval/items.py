"""The question set: loading and checking the YAML items in eval/questions/.

An item is one question (or one conversation of 2–4 turns) with its gold answer. The format
is checked strictly when loading, so a typo in a key (`gold-sql`) is an error, not an item
that silently scores nothing.

    - id: zh-breakdown-001
      lang: zh                    # zh | en | mixed
      category: breakdown
      question: 2025年各区域的营业收入
      expect: ok                  # ok (default) | refuse_or_clarify
      ordered: false              # top-N: compare rows in order
      gold_sql: SELECT ...        # columns aliased to the answer's column names
    - id: conv-003
      lang: zh
      category: followup
      turns:
        - {question: 2025年华东区的收入, gold_sql: "..."}
        - {question: 华南呢?, gold_sql: "..."}

A folder with a `set.yaml` is a set over another model and database (eval/external/*):

    name: jaffle_sl
    model: model.yaml           # the semantic model, relative to the folder
    build: build.py             # defines build(path): writes the DuckDB file the set runs on
    as_of: 2020-08-31           # the "today" of the set's relative dates
    questions: questions        # the folder of item files (default: questions)
    known_check_errors: 0       # how many errors `cockpit check` reported at the first run
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

QUESTIONS_DIR = Path(__file__).parent / "questions"

LANGS = ("zh", "en", "mixed")
CATEGORIES = (
    "lookup",
    "time",
    "breakdown",
    "trend",
    "rank",
    "compare",
    "budget",
    "share",
    "filter",
    "balance",
    "multi_metric",
    "followup",
    "refuse",
    "clarify",
)
EXPECTS = ("ok", "refuse_or_clarify")

_ITEM_KEYS = {"id", "lang", "category", "question", "expect", "gold_sql", "ordered", "note"}
_CONVERSATION_KEYS = {"id", "lang", "category", "turns", "note"}
_TURN_KEYS = {"question", "expect", "gold_sql", "ordered", "note"}
_SET_KEYS = {
    "name",
    "model",
    "build",
    "as_of",
    "questions",
    "known_check_errors",
    "source",
    "note",
    "threshold",
}
SET_FILE = "set.yaml"


class ItemError(ValueError):
    """A question file that does not follow the format (the message names file and item)."""


@dataclass(frozen=True)
class Turn:
    """One question and what a correct answer is."""

    question: str
    expect: str = "ok"
    gold_sql: str | None = None
    ordered: bool = False
    note: str = ""


@dataclass(frozen=True)
class Item:
    """A scored unit: a single question, or a conversation (every turn must pass)."""

    id: str
    lang: str
    category: str
    turns: tuple[Turn, ...]
    conversation: bool
    source: str  # the file it came from, for messages
    note: str = ""

    @property
    def expect(self) -> str:
        """ok, or refuse_or_clarify when any turn must be refused or clarified."""
        if any(t.expect == "refuse_or_clarify" for t in self.turns):
            return "refuse_or_clarify"
        return "ok"

    @property
    def question(self) -> str:
        return " → ".join(t.question for t in self.turns)


def _fail(source: str, item_id: Any, message: str) -> ItemError:
    return ItemError(f"{source}: item {item_id!r}: {message}")


def _turn(raw: Any, source: str, item_id: str, where: str) -> Turn:
    if not isinstance(raw, dict):
        raise _fail(source, item_id, f"{where} must be a mapping")
    unknown = set(raw) - _TURN_KEYS
    if unknown:
        raise _fail(source, item_id, f"{where}: unknown keys {sorted(unknown)}")
    question = raw.get("question")
    if not isinstance(question, str) or not question.strip():
        raise _fail(source, item_id, f"{where}: question must be a non-empty string")
    expect = raw.get("expect", "ok")
    if expect not in EXPECTS:
        raise _fail(source, item_id, f"{where}: expect must be one of {EXPECTS}")
    gold_sql = raw.get("gold_sql")
    if expect == "ok" and (not isinstance(gold_sql, str) or not gold_sql.strip()):
        raise _fail(source, item_id, f"{where}: an ok question needs gold_sql")
    if expect == "refuse_or_clarify" and gold_sql is not None:
        raise _fail(source, item_id, f"{where}: a refuse_or_clarify question has no gold_sql")
    ordered = raw.get("ordered", False)
    if not isinstance(ordered, bool):
        raise _fail(source, item_id, f"{where}: ordered must be true or false")
    return Turn(
        question=question.strip(),
        expect=expect,
        gold_sql=gold_sql.strip() if gold_sql else None,
        ordered=ordered,
        note=str(raw.get("note", "")),
    )


def _item(raw: Any, source: str) -> Item:
    if not isinstance(raw, dict):
        raise ItemError(f"{source}: every entry must be a mapping, got {raw!r}")
    item_id = raw.get("id")
    if not isinstance(item_id, str) or not item_id:
        raise ItemError(f"{source}: an entry has no id: {raw!r}")
    conversation = "turns" in raw
    allowed = _CONVERSATION_KEYS if conversation else _ITEM_KEYS
    unknown = set(raw) - allowed
    if unknown:
        raise _fail(source, item_id, f"unknown keys {sorted(unknown)}")
    lang = raw.get("lang")
    if lang not in LANGS:
        raise _fail(source, item_id, f"lang must be one of {LANGS}, got {lang!r}")
    category = raw.get("category")
    if category not in CATEGORIES:
        raise _fail(source, item_id, f"category must be one of {CATEGORIES}, got {category!r}")
    if conversation != (category == "followup"):
        raise _fail(source, item_id, "conversations (turns:) and only they are 'followup' items")
    if conversation:
        raw_turns = raw["turns"]
        if not isinstance(raw_turns, list) or not 2 <= len(raw_turns) <= 4:
            raise _fail(source, item_id, "a conversation has 2 to 4 turns")
        turns = tuple(
            _turn(t, source, item_id, f"turn {n}") for n, t in enumerate(raw_turns, start=1)
        )
    else:
        turns = (_turn({k: v for k, v in raw.items() if k in _TURN_KEYS}, source, item_id, "it"),)
    return Item(
        id=item_id,
        lang=lang,
        category=category,
        turns=turns,
        conversation=conversation,
        source=source,
        note=str(raw.get("note", "")),
    )


def load_items(directory: str | Path | None = None) -> list[Item]:
    """Every item of every *.yaml file in `directory` (default eval/questions), in file order."""
    folder = Path(directory) if directory else QUESTIONS_DIR
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not files:
        raise ItemError(f"no question files (*.yaml) in {folder}")
    items: list[Item] = []
    seen: dict[str, str] = {}
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if data is None:
            continue
        if not isinstance(data, list):
            raise ItemError(f"{path.name}: a question file is a YAML list of items")
        for raw in data:
            item = _item(raw, path.name)
            if item.id in seen:
                raise _fail(path.name, item.id, f"duplicate id (also in {seen[item.id]})")
            seen[item.id] = path.name
            items.append(item)
    return items


def select(
    items: Iterable[Item],
    category: str | None = None,
    lang: str | None = None,
    limit: int | None = None,
) -> list[Item]:
    """The items of one category and/or language, at most `limit` of them."""
    chosen = [
        i
        for i in items
        if (category is None or i.category == category) and (lang is None or i.lang == lang)
    ]
    return chosen[:limit] if limit is not None else chosen


@dataclass(frozen=True)
class EvalSet:
    """A question set over its own model and database (a folder with a set.yaml)."""

    name: str
    folder: Path
    model: Path
    build_script: Path
    as_of: date
    questions: Path
    known_check_errors: int = 0
    threshold: dict | None = None  # this set's bar for `--check` (else eval/threshold.yaml)

    def build(self, path: str | Path) -> Path:
        """Run the set's build script: write its DuckDB database to `path`."""
        spec = importlib.util.spec_from_file_location(f"eval_set_{self.name}", self.build_script)
        if spec is None or spec.loader is None:
            raise ItemError(f"{self.build_script}: cannot load the build script")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return Path(module.build(Path(path)))


def load_set(folder: str | Path) -> EvalSet | None:
    """The set described by `folder`/set.yaml, or None when the folder has none."""
    folder = Path(folder)
    path = folder / SET_FILE
    if not path.is_file():
        return None
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ItemError(f"{path}: a set file is a mapping")
    unknown = set(raw) - _SET_KEYS
    if unknown:
        raise ItemError(f"{path}: unknown keys {sorted(unknown)}")
    missing = [k for k in ("name", "model", "build", "as_of") if k not in raw]
    if missing:
        raise ItemError(f"{path}: missing {missing}")
    as_of = raw["as_of"]
    if not isinstance(as_of, date):
        try:
            as_of = date.fromisoformat(str(as_of))
        except ValueError as err:
            raise ItemError(f"{path}: as_of must be a date (YYYY-MM-DD): {err}") from err
    eval_set = EvalSet(
        name=str(raw["name"]),
        folder=folder,
        model=folder / str(raw["model"]),
        build_script=folder / str(raw["build"]),
        as_of=as_of,
        questions=folder / str(raw.get("questions", "questions")),
        known_check_errors=int(raw.get("known_check_errors", 0)),
        threshold=raw.get("threshold"),
    )
    for what in (eval_set.model, eval_set.build_script, eval_set.questions):
        if not what.exists():
            raise ItemError(f"{path}: {what} does not exist")
    return eval_set
