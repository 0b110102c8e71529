"""The 驾驶舱 board: pinned questions re-run against the current data, as KPI tiles and charts.

A pin keeps the question and its `SemanticQuery` — never the numbers — so a board always shows
what the data says today. A relative period is kept as a keyword (`ytd`, `this_month`,
`last_12_months`…) and resolved against the as-of date each time the board runs, with the same
time grammar a question goes through, so a tile reads exactly what asking again would give.

    store = BoardStore()                       # SQLite in the user data directory
    answer = assistant.ask("今年的营业收入")
    store.pin("main", None, answer.question, answer.query, as_of=assistant.as_of)
    tiles = run_board(assistant, store.get("main", None), filters=[region_filter])

Boards are kept per role (`None` or "*" is "all data") and travel as YAML (`export_yaml`,
`BoardStore.import_yaml`); the demo ships `semantic_layer/demo/board.yaml`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import platformdirs
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.charts import chart
from assistant.formatting import as_number, format_value
from assistant.present import describe_range
from assistant.understand.time_words import find_times
from semantic_layer.compiler import add_months
from semantic_layer.errors import CockpitError
from semantic_layer.members import read_members
from semantic_layer.model import Grain, SemanticModel
from semantic_layer.query import Compare, DimensionRef, Filter, Intent, SemanticQuery, TimeRange

if TYPE_CHECKING:
    from assistant.answer import Answer
    from assistant.api import Assistant
    from assistant.insights.alerts import FiredAlert

DEFAULT_BOARD_FILE = Path(__file__).resolve().parents[1] / "semantic_layer" / "demo" / "board.yaml"
ALL_DATA = "*"  # the role key of boards seen without a role (the app's "全部数据")


# --- errors -----------------------------------------------------------------------------------
class BoardError(Exception):
    """A user's mistake with boards (unknown board, malformed YAML), said in both languages."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en
        super().__init__(f"{zh} / {en}")

    def message(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


# --- periods ----------------------------------------------------------------------------------
# Keyword → the words the question grammar resolves it from (zh, en). Resolving through
# `find_times` keeps one definition of 本月, YTD, 近12个月… for questions and boards alike.
PERIODS: dict[str, tuple[str, str]] = {
    "to_date": ("截至今天", "as of today"),  # a balance's latest snapshot on or before D
    "this_month": ("本月", "this month"),
    "last_month": ("上月", "last month"),
    "this_quarter": ("本季度", "this quarter"),
    "last_quarter": ("上季度", "last quarter"),
    "ytd": ("年初至今", "year to date"),
    "last_year": ("去年", "last year"),
    "last_3_months": ("近3个月", "last 3 months"),
    "last_6_months": ("近6个月", "last 6 months"),
    "last_12_months": ("近12个月", "last 12 months"),
}
EPOCH = date(1900, 1, 1)  # the start the parser gives "as of D" (no time words, a balance)


def period_label(keyword: str, lang: str = "zh") -> str:
    """本月 / this month for `this_month`; the keyword itself when unknown."""
    words = PERIODS.get(keyword)
    return keyword if words is None else words[0 if lang == "zh" else 1]


def resolve_period(period: str, as_of: date, lang: str = "zh") -> TimeRange:
    """A keyword (`ytd`) or period words ("2025-12", "2025Q4", "上月") → absolute dates at D.

    Raises `BoardError` for words that are no period."""
    if period == "to_date":
        label = period_label(period, lang)
        return TimeRange(start=EPOCH, end=as_of + timedelta(days=1), label=label)
    words = PERIODS.get(period)
    text = words[0] if words else period.strip().replace("-Q", "Q").replace("-q", "Q")
    found = find_times(text, as_of)
    if not found:
        raise BoardError(
            f"无法识别期间「{period}」：可用 {', '.join(PERIODS)}，或 2025-12、2025Q4、2025",
            f"Cannot read the period {period!r}: use {', '.join(PERIODS)}, or 2025-12, "
            "2025Q4, 2025",
        )
    window = found[0].range
    label = period_label(period, lang) if words else window.label
    return window.model_copy(update={"label": label})


def infer_period(window: TimeRange | None, as_of: date | None = None) -> str | None:
    """The keyword a query's resolved period came from, or None when it is a fixed period.

    "今年" asked on 2025-12-31 resolved to 2025-01-01 – 2026-01-01, as did "2025年" and "近12个月";
    the label (the user's words) decides: re-read at other dates, "今年" moves like `ytd`,
    "2025年" or "12月" does not (fixed dates), "近12个月" moves like `last_12_months`. Words
    that cannot be re-read (none, or generated ones) take the first matching keyword."""
    if window is None:
        return None
    if window.start <= EPOCH and (as_of is None or window.end == as_of + timedelta(days=1)):
        return "to_date"
    span = (window.start, window.end)
    candidates = [
        k for k in PERIODS if k != "to_date" and (as_of is None or _span(k, as_of) == span)
    ]
    if not candidates:
        return None
    if window.label:
        probes = [date(2019, 6, 15), date(2021, 2, 10)]
        readings = [find_times(window.label, probe) for probe in probes]
        if all(len(r) == 1 for r in readings):
            spans = [(r[0].range.start, r[0].range.end) for r in readings]
            for keyword in candidates:
                if all(_span(keyword, p) == s for p, s in zip(probes, spans, strict=True)):
                    return keyword
            return None  # the user's words name other dates ("2025年", "12月"): keep them
    return candidates[0] if as_of is not None else None


def _span(keyword: str, as_of: date) -> tuple[date, date]:
    window = resolve_period(keyword, as_of)
    return window.start, window.end


# --- boards and pins --------------------------------------------------------------------------
@dataclass(frozen=True)
class Pin:
    """A pinned question: its words, its query (without dates when `period` is relative) and
    the period keyword resolved at run time (None: the query's own fixed dates)."""

    question: str
    query: SemanticQuery
    period: str | None = None
    title: str | None = None
    id: int | None = None  # the row id in the store; None for a pin read from YAML

    def query_at(self, as_of: date, lang: str = "zh") -> SemanticQuery:
        """The query with its period resolved against `as_of`."""
        if self.period is None:
            return self.query
        return self.query.model_copy(
            update={"time_range": resolve_period(self.period, as_of, lang)}
        )


@dataclass(frozen=True)
class Board:
    """A titled, ordered list of pins, kept for one role."""

    name: str
    title: str
    role: str = ALL_DATA
    pins: tuple[Pin, ...] = ()


def _role_key(role: str | None) -> str:
    return ALL_DATA if role in (None, "", ALL_DATA) else str(role)


def split_period(query: SemanticQuery, as_of: date | None) -> tuple[SemanticQuery, str | None]:
    """A query as a pin keeps it: a relative period becomes a keyword and leaves the query."""
    period = infer_period(query.time_range, as_of)
    if period is None:
        return query, None
    return query.model_copy(update={"time_range": None}), period


class BoardStore:
    """Boards in a small SQLite file: `path`, else `COCKPIT_BOARD_DB`, else the user data
    directory's `cockpit/boards.sqlite`. Each call opens its own connection, so Streamlit
    sessions and a cron job can share the file."""

    def __init__(self, path: str | Path | None = None) -> None:
        env = os.environ.get("COCKPIT_BOARD_DB")
        default = platformdirs.user_data_path("cockpit") / "boards.sqlite"
        self.path = Path(path) if path is not None else Path(env) if env else default
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA foreign_keys = ON")
        return db

    # --- writing ----------------------------------------------------------------------------
    def create(self, board: str, role: str | None, title: str | None = None) -> Board:
        """An empty board (or the existing one of that name, retitled when `title` is given)."""
        name = _board_name(board)
        with closing(self._connect()) as db, db:
            row = db.execute(
                "SELECT id FROM boards WHERE role = ? AND name = ?", (_role_key(role), name)
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO boards (role, name, title, updated) VALUES (?, ?, ?, ?)",
                    (_role_key(role), name, title or name, _now()),
                )
            elif title:
                db.execute(
                    "UPDATE boards SET title = ?, updated = ? WHERE id = ?", (title, _now(), row[0])
                )
        return self.get(name, role)

    def pin(
        self,
        board: str,
        role: str | None,
        question: str,
        query: SemanticQuery,
        title: str | None = None,
        *,
        as_of: date | None = None,
        period: str | None = ...,  # type: ignore[assignment]
    ) -> Pin:
        """Pin a question and its query to `board` (created if new) for `role`, at the end.

        `as_of`: the date the query's period was resolved against (the assistant's), so
        "今年" is stored as `ytd` and re-resolved when the board runs; without it the period
        is read from the query's label alone. `period` sets the keyword explicitly (None:
        keep the query's dates fixed)."""
        if period is ...:
            stored, keyword = split_period(query, as_of)
        elif period is None:
            stored, keyword = query, None
        else:
            resolve_period(period, as_of or date.today())  # a clear error for a bad keyword
            stored, keyword = query.model_copy(update={"time_range": None}), period
        target = self.create(board, role)
        with closing(self._connect()) as db, db:
            board_id = self._id(db, target.name, role)
            position = db.execute(
                "SELECT COALESCE(MAX(position), -1) + 1 FROM pins WHERE board_id = ?", (board_id,)
            ).fetchone()[0]
            cursor = db.execute(
                "INSERT INTO pins (board_id, position, title, question, query, period, created)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    board_id,
                    position,
                    title,
                    question,
                    json.dumps(query_to_dict(stored), ensure_ascii=False),
                    keyword,
                    _now(),
                ),
            )
            db.execute("UPDATE boards SET updated = ? WHERE id = ?", (_now(), board_id))
            pin_id = cursor.lastrowid
        return Pin(question, stored, keyword, title, pin_id)

    def reorder(self, board: str, role: str | None, pin_ids: Sequence[int]) -> Board:
        """Put the pins in the order of `pin_ids`; pins not named keep their order, after."""
        current = self.get(board, role)
        known = [p.id for p in current.pins]
        unknown = [i for i in pin_ids if i not in known]
        if unknown:
            raise BoardError(
                f"看板「{board}」中没有这些固定项：{unknown}",
                f"Board {board!r} has no pins {unknown}",
            )
        order = list(dict.fromkeys(pin_ids)) + [i for i in known if i not in pin_ids]
        with closing(self._connect()) as db, db:
            for position, pin_id in enumerate(order):
                db.execute("UPDATE pins SET position = ? WHERE id = ?", (position, pin_id))
        return self.get(board, role)

    def move(self, board: str, role: str | None, pin_id: int, offset: int) -> Board:
        """Move one pin `offset` places up (negative) or down (positive)."""
        ids = [p.id for p in self.get(board, role).pins]
        if pin_id not in ids:
            raise BoardError(
                f"看板「{board}」中没有固定项 {pin_id}", f"Board {board!r} has no pin {pin_id}"
            )
        index = ids.index(pin_id)
        ids.insert(max(0, min(len(ids) - 1, index + offset)), ids.pop(index))
        return self.reorder(board, role, ids)  # type: ignore[arg-type]

    def remove(self, board: str, role: str | None, pin_id: int | None = None) -> None:
        """Remove one pin, or the whole board when `pin_id` is None."""
        with closing(self._connect()) as db, db:
            board_id = self._id(db, board, role)
            if pin_id is None:
                db.execute("DELETE FROM boards WHERE id = ?", (board_id,))
                return
            gone = db.execute(
                "DELETE FROM pins WHERE id = ? AND board_id = ?", (pin_id, board_id)
            ).rowcount
            if not gone:
                raise BoardError(
                    f"看板「{board}」中没有固定项 {pin_id}", f"Board {board!r} has no pin {pin_id}"
                )

    def save(self, board: Board, role: str | None, replace_existing: bool = True) -> Board:
        """Store a whole board (from YAML) for `role`, replacing one of the same name."""
        with closing(self._connect()) as db, db:
            row = db.execute(
                "SELECT id FROM boards WHERE role = ? AND name = ?", (_role_key(role), board.name)
            ).fetchone()
            if row is not None:
                if not replace_existing:
                    raise BoardError(
                        f"看板「{board.name}」已存在", f"A board named {board.name!r} exists"
                    )
                db.execute("DELETE FROM boards WHERE id = ?", (row[0],))
            board_id = db.execute(
                "INSERT INTO boards (role, name, title, updated) VALUES (?, ?, ?, ?)",
                (_role_key(role), board.name, board.title, _now()),
            ).lastrowid
            for position, pin in enumerate(board.pins):
                db.execute(
                    "INSERT INTO pins (board_id, position, title, question, query, period, created)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        board_id,
                        position,
                        pin.title,
                        pin.question,
                        json.dumps(query_to_dict(pin.query), ensure_ascii=False),
                        pin.period,
                        _now(),
                    ),
                )
        return self.get(board.name, role)

    def import_yaml(self, text: str, role: str | None, replace_existing: bool = True) -> Board:
        """Store a board exported with `export_yaml` (any role's) for `role`."""
        return self.save(load_board_yaml(text), role, replace_existing)

    def ensure_default(self, role: str | None, assistant: Assistant | None = None) -> None:
        """Give a role without boards the demo board, when the model has its metrics."""
        if self.list_boards(role):
            return
        board = default_board(assistant)
        if board is not None:
            self.save(board, role)

    # --- reading ----------------------------------------------------------------------------
    def list_boards(self, role: str | None) -> list[Board]:
        """Every board of `role`, by name."""
        with closing(self._connect()) as db:
            names = [
                r[0]
                for r in db.execute(
                    "SELECT name FROM boards WHERE role = ? ORDER BY name", (_role_key(role),)
                )
            ]
        return [self.get(name, role) for name in names]

    def get(self, board: str, role: str | None) -> Board:
        """One board with its pins in order; `BoardError` when the role has no such board."""
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT id, name, title FROM boards WHERE role = ? AND name = ?",
                (_role_key(role), board),
            ).fetchone()
            if row is None:
                raise _not_found(board, role)
            pins = db.execute(
                "SELECT id, title, question, query, period FROM pins WHERE board_id = ?"
                " ORDER BY position, id",
                (row[0],),
            ).fetchall()
        return Board(
            row[1],
            row[2],
            _role_key(role),
            tuple(
                Pin(question, query_from_dict(json.loads(query)), period, title, pin_id)
                for pin_id, title, question, query, period in pins
            ),
        )

    def _id(self, db: sqlite3.Connection, board: str, role: str | None) -> int:
        row = db.execute(
            "SELECT id FROM boards WHERE role = ? AND name = ?", (_role_key(role), board)
        ).fetchone()
        if row is None:
            raise _not_found(board, role)
        return row[0]


SCHEMA = """
CREATE TABLE IF NOT EXISTS boards (
    id INTEGER PRIMARY KEY,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    updated TEXT NOT NULL,
    UNIQUE (role, name)
);
CREATE TABLE IF NOT EXISTS pins (
    id INTEGER PRIMARY KEY,
    board_id INTEGER NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    title TEXT,
    question TEXT NOT NULL,
    query TEXT NOT NULL,   -- SemanticQuery JSON; no dates when period is set
    period TEXT,           -- a PERIODS keyword resolved at run time, or NULL (fixed dates)
    created TEXT NOT NULL
);
"""


def _not_found(board: str, role: str | None) -> BoardError:
    who = _role_key(role)
    return BoardError(
        f"角色「{who}」没有名为「{board}」的看板", f"Role {who!r} has no board named {board!r}"
    )


def _board_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise BoardError(
            "看板名称不能为空，且不超过100个字符", "A board name needs 1-100 characters"
        )
    return name


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def pin_answer(
    store: BoardStore,
    assistant: Assistant,
    answer: Answer,
    board: str | None = None,
    title: str | None = None,
    as_of: date | None = None,
) -> Pin:
    """Pin a chat answer for the assistant's role: to `board`, else the role's first board (a
    role without boards first gets the demo board, as the board page shows it). The period is
    read against `as_of`, the date the answer was asked at (default: the assistant's as-of).
    `BoardError` for an answer without numbers."""
    if answer.status != "ok" or answer.query is None:
        raise BoardError(
            "只有算出结果的答案才能固定到看板。", "Only an answer with numbers can be pinned."
        )
    role = assistant.role
    if board is None:
        store.ensure_default(role, assistant)
        boards = store.list_boards(role)
        board = boards[0].name if boards else "default"
    day = as_of or assistant.as_of
    return store.pin(board, role, answer.question, answer.query, title, as_of=day)


# --- YAML -------------------------------------------------------------------------------------
class _PinFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    question: str
    query: dict[str, Any]
    period: str | None = None
    title: str | None = None


class _BoardFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    title: str | None = None
    pins: list[_PinFile] = Field(default_factory=list)


def query_to_dict(query: SemanticQuery) -> dict[str, Any]:
    """A query as compact JSON/YAML: defaults left out, dimensions as "metric_time:month"."""
    data = query.model_dump(mode="json", exclude_defaults=True)
    if query.dimensions:
        data["dimensions"] = [str(d) for d in query.dimensions]
    return data


def query_from_dict(data: dict[str, Any]) -> SemanticQuery:
    return SemanticQuery.model_validate(data)


def export_yaml(board: Board) -> str:
    """The board as YAML, to share and version (no role: the importer chooses)."""
    data: dict[str, Any] = {"name": board.name, "title": board.title, "pins": []}
    for pin in board.pins:
        entry: dict[str, Any] = {"question": pin.question}
        if pin.title:
            entry["title"] = pin.title
        if pin.period:
            entry["period"] = pin.period
        entry["query"] = query_to_dict(pin.query)
        data["pins"].append(entry)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def load_board_yaml(text: str) -> Board:
    """A board from YAML; `BoardError` saying what is wrong (syntax, a field, a query)."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise BoardError(f"看板 YAML 语法错误：{err}", f"Board YAML syntax error: {err}") from None
    try:
        parsed = _BoardFile.model_validate(raw)
    except ValidationError as err:
        detail = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in err.errors()
        )
        raise BoardError(f"看板 YAML 字段有误：{detail}", f"Invalid board YAML: {detail}") from None
    pins = []
    for index, entry in enumerate(parsed.pins, 1):
        try:
            query = query_from_dict(entry.query)
        except ValidationError as err:
            detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
            raise BoardError(
                f"第 {index} 个固定项的查询无效：{detail}",
                f"Pin {index} has an invalid query: {detail}",
            ) from None
        if entry.period is not None:
            if entry.period not in PERIODS:
                raise BoardError(
                    f"第 {index} 个固定项的期间「{entry.period}」未知：可用 {', '.join(PERIODS)}",
                    f"Pin {index} has an unknown period {entry.period!r}: use {', '.join(PERIODS)}",
                )
            query = query.model_copy(update={"time_range": None})
        pins.append(Pin(entry.question, query, entry.period, entry.title))
    return Board(_board_name(parsed.name), parsed.title or parsed.name, ALL_DATA, tuple(pins))


def default_board(assistant: Assistant | None = None) -> Board | None:
    """The demo board (`semantic_layer/demo/board.yaml`) for a model with all its metrics;
    for any other model a board derived from its own headline metrics — each over the year
    to date, then the first one by its first breakdown — so no board page starts empty."""
    board = load_board_yaml(DEFAULT_BOARD_FILE.read_text(encoding="utf-8"))
    if assistant is None:
        return board
    metrics = assistant.model.metric_map
    if all(m in metrics for pin in board.pins for m in pin.query.metrics):
        return board
    return _derived_board(assistant)


def _derived_board(assistant: Assistant) -> Board | None:
    from assistant.insights.summary import usable_kpis
    from semantic_layer import knowledge

    model = assistant.model
    start = date(assistant.as_of.year, 1, 1)
    window = TimeRange(start=start, end=assistant.as_of + timedelta(days=1), label="今年")
    kpis = usable_kpis(assistant, window)
    pins = [
        Pin(
            question=f"今年的{model.metric(name).label.zh}",
            query=SemanticQuery(metrics=[name]),
            period="ytd",
            title=model.metric(name).label.zh,
        )
        for name in kpis
    ]
    if kpis:
        counts = {d: len(v) for d, v in assistant.lexicon.values.items()}
        split = knowledge.breakdowns(model, kpis[0], counts, limit=1)
        if split:
            label = model.dimension(split[0]).label.zh
            pins.append(
                Pin(
                    question=f"今年各{label}的{model.metric(kpis[0]).label.zh}",
                    query=SemanticQuery(metrics=[kpis[0]], dimensions=[split[0]]),
                    period="ytd",
                )
            )
    if not pins:
        return None
    title = (model.label.zh + " · " + model.label.en) if model.label else "驾驶舱 · Board"
    return Board(name="default", title=title, pins=tuple(pins))


# --- running a board --------------------------------------------------------------------------
@dataclass(frozen=True)
class Delta:
    """A tile's change against a comparison period, and whether it is good news.

    `change` is relative (0.052 = +5.2%) or, for rates, in percentage points (`points`)."""

    basis: Literal["mom", "qoq", "yoy"]
    previous: float | None
    change: float | None
    points: bool
    good: bool | None  # None: no change, or no comparison

    @property
    def arrow(self) -> str:
        if not self.change:
            return "–"
        return "▲" if self.change > 0 else "▼"

    @property
    def colour(self) -> str:
        """green for good news, red for bad, grey for none (up is good unless the metric
        says lower is better)."""
        return {True: "green", False: "red", None: "gray"}[self.good]

    def text(self, lang: str = "zh") -> str:
        """+5.2% / −0.4个百分点 (pp); — without a comparison."""
        if self.change is None:
            return "—"
        if self.points:
            return f"{self.change * 100:+.1f}{'个百分点' if lang == 'zh' else ' pp'}"
        return f"{self.change * 100:+.1f}%"

    def basis_label(self, lang: str = "zh") -> str:
        zh = {"mom": "环比", "qoq": "环比", "yoy": "同比"}
        en = {"mom": "MoM", "qoq": "QoQ", "yoy": "YoY"}
        return (zh if lang == "zh" else en)[self.basis]


@dataclass(frozen=True)
class Tile:
    """One pin (one metric of it, for a single-number pin) as the board shows it now.

    kind "kpi": a single number with `value`, `mom`/`yoy` deltas and a 12-month `sparkline`;
    kind "chart": a breakdown or trend, shown by `chart`. A pin that cannot be answered for the
    viewer (a role without access, an unknown metric) keeps status and message, never a number.
    """

    pin: Pin
    pin_index: int
    kind: Literal["kpi", "chart"]
    status: str  # the Answer's: ok | refused | error | clarify
    answer: Answer
    metric: str | None = None
    label: str = ""
    unit: str | None = None
    higher_is_better: bool = True
    value: float | None = None
    period: TimeRange | None = None
    mom: Delta | None = None
    yoy: Delta | None = None
    sparkline: tuple[tuple[date, float | None], ...] = ()
    budget: float | None = None  # for a pin compared with its budget ("今年收入和预算比")
    chart: dict[str, Any] | None = None
    alerts: tuple[FiredAlert, ...] = ()
    filtered: bool = False  # the board's shared filters apply to this tile
    unfiltered: tuple[str, ...] = ()  # dimensions of the shared filters it cannot reach
    lang: str = "zh"
    denied: bool = False  # the viewer's role may not see this metric at all (left out)

    @property
    def message(self) -> str:
        return self.answer.message

    @property
    def title(self) -> str:
        """The pin's title (a pin of several metrics: each metric's label), else the metric's
        label (KPI) or the question (chart)."""
        if self.pin.title and (self.kind == "chart" or len(self.pin.query.metrics) == 1):
            return self.pin.title
        return self.label or self.pin.question

    def value_text(self, lang: str | None = None) -> str:
        return format_value(self.value, self.unit, lang or self.lang, compact=True)

    def period_text(self, lang: str | None = None) -> str:
        return describe_range(self.period, lang or self.lang)

    @property
    def attainment(self) -> float | None:
        """Value ÷ budget, for a pin compared with its budget."""
        if self.value is None or not self.budget:
            return None
        return self.value / self.budget


def as_filters(filters: Iterable[Filter | dict[str, Any]] | None) -> list[Filter]:
    """Filters from Filter objects or {dimension, op, values} dicts."""
    return [f if isinstance(f, Filter) else Filter.model_validate(f) for f in filters or ()]


def with_filters(
    assistant: Assistant, query: SemanticQuery, filters: Sequence[Filter]
) -> tuple[SemanticQuery, tuple[str, ...]]:
    """The query with the shared filters its metrics can reach (replacing its own filter on
    that dimension), and the dimensions it could not take. A breakdown by the filter's own
    dimension (revenue by region under region = 华东) keeps every member — one fat bar says
    nothing — and is marked as not filtered."""
    skipped = []
    current = list(query.filters)
    split_by = {d.name for d in query.dimensions}
    for flt in filters:
        reachable = flt.dimension in assistant.model.dimension_map and all(
            m in assistant.model.metric_map and assistant.catalog.reaches(m, flt.dimension)
            for m in query.metrics
        )
        if not reachable or flt.dimension in split_by:
            skipped.append(flt.dimension)
            continue
        current = [f for f in current if f.dimension != flt.dimension] + [flt]
    return query.model_copy(update={"filters": current}), tuple(skipped)


def run_board(
    assistant: Assistant,
    board: Board,
    as_of: date | None = None,
    filters: Iterable[Filter | dict[str, Any]] | None = None,
    period: str | None = None,
    role: str | None = ...,  # type: ignore[assignment]
    lang: str = "zh",
    sparkline_months: int = 12,
) -> list[Tile]:
    """Re-run every pin of `board` on the current data, seen through `role` (by default the
    assistant's own), relative periods resolved against `as_of` (default the assistant's).

    `filters` (e.g. region = 华东) apply to the pins whose metrics reach their dimension;
    `period` (a keyword or "2025-12", "2025Q4", "上月"…) replaces the period of every
    single-number or breakdown pin, and ends the span of every trend pin."""
    return view_board(assistant, board, as_of, filters, period, role, lang, sparkline_months).tiles


def _alert_day(day: date, override: TimeRange | None) -> date:
    if override is None:
        return day
    return min(day, override.end - timedelta(days=1))


def _pin_query(pin: Pin, day: date, override: TimeRange | None, lang: str) -> SemanticQuery:
    timed = any(d.name == "metric_time" or d.grain is not None for d in pin.query.dimensions)
    if override is None:
        return pin.query_at(day, lang)
    if timed:  # a trend keeps its own span, ending where the chosen period ends
        end_day = override.end - timedelta(days=1)
        return pin.query_at(min(day, end_day), lang) if pin.period else pin.query
    return pin.query.model_copy(update={"time_range": override})


def _pin_tiles(
    assistant: Assistant,
    pin: Pin,
    index: int,
    day: date,
    shared: list[Filter],
    override: TimeRange | None,
    alerts: list[FiredAlert],
    lang: str,
    months: int,
) -> list[Tile]:
    query = _pin_query(pin, day, override, lang)
    if _kind(query) == "kpi" and query.intent is not Intent.explain:
        # One tile per metric, each run on its own (metrics are aggregated independently, so
        # the numbers are the same): a filter or a role then applies to each metric it can.
        return [
            _kpi_tile(assistant, pin, index, _single(query, name), shared, alerts, lang, months)
            for name in query.metrics
        ]
    query, unfiltered = with_filters(assistant, query, shared)
    answer = assistant.run(query, pin.question, lang)
    spec = answer.chart
    if answer.status == "ok" and query.intent is not Intent.explain:
        names = answer.labels if lang == "en" else None  # East for 华东 on an English board
        spec = chart(
            answer.columns,
            answer.rows,
            lang,
            model=assistant.model,
            query=answer.query,
            labels=names,
        )
    return [
        Tile(
            pin=pin,
            pin_index=index,
            kind="chart",
            status=answer.status,
            answer=answer,
            period=query.time_range,
            chart=spec if answer.status == "ok" else None,
            alerts=tuple(a for a in alerts if a.metric in query.metrics),
            filtered=bool(shared) and len(unfiltered) < len(shared),
            unfiltered=unfiltered,
            lang=lang,
        )
    ]


def _single(query: SemanticQuery, metric: str) -> SemanticQuery:
    """One metric of a single-number query (a summary's KPI pack is read as plain numbers)."""
    intent = Intent.lookup if query.intent is Intent.summary else query.intent
    having = [h for h in query.having if h.metric == metric]
    return query.model_copy(
        update={"metrics": [metric], "having": having, "order_by": [], "intent": intent}
    )


def _kpi_tile(
    assistant: Assistant,
    pin: Pin,
    index: int,
    query: SemanticQuery,
    shared: list[Filter],
    alerts: list[FiredAlert],
    lang: str,
    months: int,
) -> Tile:
    (name,) = query.metrics
    query, unfiltered = with_filters(assistant, query, shared)
    answer = assistant.run(query, pin.question, lang)
    metric = assistant.model.metric_map.get(name)
    tile = Tile(
        pin=pin,
        pin_index=index,
        kind="kpi",
        status=answer.status,
        answer=answer,
        metric=name,
        label=metric.label.get(lang) if metric else name,
        unit=metric.unit if metric else None,
        higher_is_better=metric.higher_is_better if metric else True,
        period=query.time_range,
        alerts=tuple(a for a in alerts if a.metric == name),
        filtered=bool(shared) and len(unfiltered) < len(shared),
        unfiltered=unfiltered,
        lang=lang,
    )
    if answer.status != "ok" or metric is None or len(answer.rows) != 1:
        return tile
    value = as_number(answer.value(name))
    mom_basis = _mom_basis(assistant, query)
    mom = _compared(assistant, query, mom_basis, lang) if mom_basis else {}
    yoy = _compared(assistant, query, Compare.yoy, lang)
    return replace(
        tile,
        value=value,
        mom=_delta(mom_basis, value, mom.get(name), metric) if mom_basis else None,
        yoy=_delta(Compare.yoy, value, yoy.get(name), metric),
        sparkline=_sparklines(assistant, query, months, lang).get(name, ()),
        budget=as_number(answer.value(f"{name}__compare"))
        if query.compare is Compare.budget
        else None,
        chart=answer.chart,
    )


def _kind(query: SemanticQuery) -> Literal["kpi", "chart"]:
    return "chart" if query.dimensions else "kpi"


def _mom_basis(assistant: Assistant, query: SemanticQuery) -> Compare | None:
    """环比 against the month before for a month (or less) and for balances (the snapshot a
    month earlier); against the quarter before for a quarter (so far); none for longer spans
    (YTD, a year), where the year-over-year change is the one that means something."""
    window = query.time_range
    if window is None:
        return None
    balances = all(
        assistant.model.metric(leaf).semi_additive
        for m in query.metrics
        for leaf in assistant.catalog.leaves(m)
    )
    if balances or window.end <= add_months(date(window.start.year, window.start.month, 1), 1):
        return Compare.mom
    quarter_start = window.start.month in (1, 4, 7, 10) and window.start.day == 1
    if quarter_start and window.end <= add_months(window.start, 3):
        return Compare.qoq
    return None


def _compared(
    assistant: Assistant, query: SemanticQuery, compare: Compare, lang: str
) -> dict[str, float | None]:
    """Each metric's value in the comparison period (same filters, role and dates shifted)."""
    if query.compare is compare:
        shifted = query
    else:
        shifted = query.model_copy(update={"compare": compare, "intent": Intent.compare})
    answer = assistant.run(shifted, "", lang, plain=True)
    if answer.status != "ok" or not answer.rows:
        return {}
    return {m: as_number(answer.value(f"{m}__compare")) for m in query.metrics}


def _delta(basis: Compare, value: float | None, previous: float | None, metric) -> Delta:
    points = metric.unit == "percent"
    change = None
    if value is not None and previous is not None:
        if points:
            change = value - previous
        elif previous:
            change = (value - previous) / abs(previous)
    good = None if not change else (change > 0) == metric.higher_is_better
    return Delta(basis.value, previous, change, points, good)  # type: ignore[arg-type]


def _sparklines(
    assistant: Assistant, query: SemanticQuery, months: int, lang: str
) -> dict[str, tuple[tuple[date, float | None], ...]]:
    """Each metric by month over the `months` months ending with the period's last month."""
    window = query.time_range
    if window is None or months < 1:
        return {}
    last = window.end - timedelta(days=1)
    start = add_months(date(last.year, last.month, 1), -(months - 1))
    trend = SemanticQuery(
        metrics=query.metrics,
        dimensions=[DimensionRef(name="metric_time", grain=Grain.month)],
        filters=query.filters,
        time_range=TimeRange(start=start, end=window.end),
        intent=Intent.trend,
    )
    answer = assistant.run(trend, "", lang, plain=True)
    if answer.status != "ok":
        return {}
    key = trend.dimensions[0].key
    series: dict[str, list[tuple[date, float | None]]] = {m: [] for m in query.metrics}
    for record in answer.records():
        month = record[key]
        month = month.date() if isinstance(month, datetime) else month
        for m in query.metrics:
            series[m].append((month, as_number(record[m])))
    return {m: tuple(sorted(points)) for m, points in series.items()}


def firing_alerts(
    assistant: Assistant, as_of: date | None = None, filters: Iterable[Filter | dict] | None = None
) -> list[FiredAlert]:
    """The alert rules firing in the month containing `as_of`, inside the assistant's role and
    the shared filters: a rule whose metric reaches a filter's dimension is evaluated inside it
    (华东's gross margin, 华东's customers); the others stay company-wide. Worst first; an
    alert rule never breaks the board."""
    from assistant.insights.alerts import evaluate_alerts

    shared = as_filters(filters)
    model = assistant.model
    if shared:
        rules = []
        for rule in model.alerts:
            scope = list(rule.filters)
            for flt in shared:
                if flt.dimension in model.dimension_map and assistant.catalog.reaches(
                    rule.metric, flt.dimension
                ):
                    scope = [f for f in scope if f.dimension != flt.dimension]
                    scope.append(type(rule).Scope(**flt.model_dump()))
            rules.append(rule.model_copy(update={"filters": scope}))
        model = model.model_copy(update={"alerts": rules})
    try:
        return evaluate_alerts(model, assistant.engine, as_of or assistant.as_of)
    except CockpitError:
        return []


def dimension_members(assistant: Assistant, dimension: str, limit: int = 500) -> list[str]:
    """The values of a category dimension the assistant's role may see, sorted — read through
    the compiler's listing, so a role dimension (agents) offers only the parties in its role."""
    dim = assistant.model.dimension(dimension)
    if dim.table is None or dim.expr is None:
        return []
    try:
        rows = read_members(assistant.model, assistant.engine, dimension, limit)
    except CockpitError:
        return []
    return [str(r[0]) for r in rows]


@dataclass
class BoardView:
    """What a page or a push shows: the tiles, the alerts and the settings they were run with."""

    board: Board
    tiles: list[Tile]
    alerts: list[FiredAlert] = field(default_factory=list)
    as_of: date | None = None
    period: str | None = None
    filters: list[Filter] = field(default_factory=list)
    role: str | None = None


def view_board(
    assistant: Assistant,
    board: Board,
    as_of: date | None = None,
    filters: Iterable[Filter | dict[str, Any]] | None = None,
    period: str | None = None,
    role: str | None = ...,  # type: ignore[assignment]
    lang: str = "zh",
    sparkline_months: int = 12,
) -> BoardView:
    """`run_board` plus the alerts firing, in one object for the page and the push."""
    scoped = assistant if role is ... else assistant.for_role(None if role == ALL_DATA else role)
    day = as_of or scoped.as_of
    shared = as_filters(filters)
    override = resolve_period(period, day, lang) if period else None
    alerts = firing_alerts(scoped, _alert_day(day, override), shared)
    tiles: list[Tile] = []
    for index, pin in enumerate(board.pins):
        tiles += _pin_tiles(
            scoped, pin, index, day, shared, override, alerts, lang, sparkline_months
        )
    tiles = _distinct_titles([_mark_denied(scoped, tile) for tile in tiles], lang)
    return BoardView(board, tiles, alerts, day, period, shared, scoped.role)


def _distinct_titles(tiles: list[Tile], lang: str) -> list[Tile]:
    """Two number tiles of one metric (今年的毛利率 and a pinned 本月毛利率) are told apart by
    their periods — 今年毛利率, 本月毛利率 — instead of two tiles titled 毛利率."""
    counts: dict[str, int] = {}
    for tile in tiles:
        if tile.kind == "kpi":
            counts[tile.title] = counts.get(tile.title, 0) + 1
    out = []
    for tile in tiles:
        window = tile.period
        if tile.kind != "kpi" or counts[tile.title] < 2 or window is None or tile.pin.title:
            out.append(tile)
            continue
        words = window.label or describe_range(window, lang)
        label = f"{words}{tile.label}" if lang == "zh" else f"{tile.label} ({words})"
        out.append(replace(tile, label=label))
    return out


def _mark_denied(assistant: Assistant, tile: Tile) -> Tile:
    """A tile refused because the role may not see its metric is marked, so a page can leave
    it out and say so instead of showing "—"."""
    if tile.status != "refused":
        return tile
    query = tile.answer.query or tile.pin.query
    if tile.metric is not None:
        query = _single(query, tile.metric)
    return replace(tile, denied=assistant._out_of_scope(query, "en") is not None)


def role_scope(assistant: Assistant, dimension: str) -> list[str] | None:
    """The members the assistant's role is held to on `dimension` (east_manager → [华东]),
    or None when the role does not restrict it. A board filter on it offers nothing more."""
    role = assistant.engine.role
    if role is None:
        return None
    for rule in role.row_filters:
        if rule.dimension == dimension and rule.op in ("=", "in"):
            return [str(v) for v in rule.values]
    return None


def not_filtered_text(model: SemanticModel, dimensions: Iterable[str], lang: str) -> str:
    """不受「区域」筛选影响 / Not filtered by Region: the note on a tile whose figures these
    filters (or the role's scope) do not narrow — the whole company's number under a filtered
    board; "" when there are none. The page and every pushed format say it the same way."""
    labels = dict.fromkeys(model.dimension(d).label.get(lang) for d in dimensions)
    if not labels:
        return ""
    if lang == "zh":
        return f"不受「{'、'.join(labels)}」筛选影响"
    return f"Not filtered by {', '.join(labels)}"


def unreached(assistant: Assistant, tile: Tile, dimensions: Sequence[str]) -> tuple[str, ...]:
    """The dimensions (of a filter or of the role's scope) that the tile's metrics cannot
    reach: its figures are not narrowed by them, and the board says so."""
    metrics = [tile.metric] if tile.metric else list(tile.pin.query.metrics)
    return tuple(
        d
        for d in dimensions
        if not all(
            m in assistant.model.metric_map and assistant.catalog.reaches(m, d) for m in metrics
        )
    )


__all__ = [
    "ALL_DATA",
    "PERIODS",
    "Board",
    "BoardError",
    "BoardStore",
    "BoardView",
    "Delta",
    "Pin",
    "Tile",
    "default_board",
    "dimension_members",
    "export_yaml",
    "firing_alerts",
    "infer_period",
    "load_board_yaml",
    "period_label",
    "pin_answer",
    "resolve_period",
    "role_scope",
    "run_board",
    "unreached",
    "view_board",
]
