"""The audit log: one JSON line per question — who asked, what ran, what came back.

Every question gets its line, whatever it contains: text that cannot be encoded (a lone
surrogate from a bad byte on the command line, '\\ud800' from JSON) is replaced before the
line is built, and the line is written as bytes with `errors="backslashreplace"`, so no
encoding error can drop it. The file is appended to directly rather than through `logging`,
whose handlers swallow a failed write (`handleError` prints to stderr and loses the line).

Rotated by size so it never fills the disk; if the log cannot be written (read-only cache
directory, full disk) the question is still answered and the failure is logged, never raised.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.answer import Answer

log = logging.getLogger("cockpit")

SURROGATE = re.compile("[\ud800-\udfff]")
MAX_QUESTION = 2000  # characters of a question kept in its line
MAX_MESSAGE = 500

# One lock per file: every Assistant writing the same log (one per as-of date in the app)
# takes turns, so lines never interleave and rotation happens once.
_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock(path: Path) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(path.resolve(), threading.Lock())


def valid_text(text: str) -> str:
    """`text` that encodes as UTF-8: a surrogate pair written as two code points becomes its
    character, a lone surrogate becomes U+FFFD."""
    if not SURROGATE.search(text):
        return text
    joined = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return SURROGATE.sub("\ufffd", joined)


def _plain(value: Any) -> Any:
    """A JSON-ready value whose strings are valid text (sql and messages can carry the question)."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if value is None or isinstance(value, bool | int | float):
        return value
    return valid_text(str(value))


class AuditLog:
    """Append-only JSON lines in `path`, rotated at `max_bytes` keeping `backups` old files."""

    def __init__(self, path: Path, max_bytes: int = 5_000_000, backups: int = 5) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self._enabled = False
        self._warned = False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "ab"):
                pass
        except OSError as err:
            log.warning("audit log disabled: cannot write %s (%s)", path, err)
            return
        self._enabled = True

    @property
    def enabled(self) -> bool:
        """False when the log's directory or file cannot be written."""
        return self._enabled

    def record(self, answer: Answer, role: str | None, seconds: float) -> None:
        """Append the line for one answered question; never raises."""
        if not self._enabled:
            return
        question = answer.question if isinstance(answer.question, str) else str(answer.question)
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "question": _plain(question[:MAX_QUESTION]),
            "role": _plain(role),
            "status": _plain(answer.status),
            "path": _plain(answer.path),
            "sql": _plain(answer.sql),
            "rows": len(answer.rows),
            "duration_ms": round(seconds * 1000, 2),
            "message": _plain(answer.message[:MAX_MESSAGE]) if answer.message else None,
        }
        # ensure_ascii=False keeps Chinese readable; json escapes control characters and NUL,
        # and backslashreplace covers anything valid_text could have missed.
        line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
        self._append(line.encode("utf-8", errors="backslashreplace"))

    def _append(self, data: bytes) -> None:
        try:
            with _lock(self.path):
                self._rotate(len(data))
                # One write of the whole line to a file opened for appending: another process
                # appending to the same log cannot split it.
                with open(self.path, "ab") as file:
                    file.write(data)
        except OSError as err:  # a full disk must not break answering
            if not self._warned:
                log.warning("audit log write failed for %s: %s", self.path, err)
                self._warned = True

    def _rotate(self, incoming: int) -> None:
        """audit.jsonl → audit.jsonl.1 → … → .{backups} (the oldest dropped) when full."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if self.max_bytes <= 0 or size == 0 or size + incoming <= self.max_bytes:
            return
        if self.backups <= 0:
            self.path.unlink()
            return
        for n in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{n + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
