"""The audit log: one JSON line per question — who asked, what ran, what came back.

Rotated by size so it never fills the disk; if the log cannot be written (read-only cache
directory) the question is still answered and the problem is logged once, never raised.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
from datetime import UTC, datetime
from pathlib import Path

from assistant.answer import Answer

log = logging.getLogger("cockpit")


class AuditLog:
    """Append-only JSON lines in `path`, rotated at `max_bytes` keeping `backups` old files."""

    def __init__(self, path: Path, max_bytes: int = 5_000_000, backups: int = 5) -> None:
        self.path = path
        self._logger: logging.Logger | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
            )
        except OSError as err:
            log.warning("audit log disabled: cannot write %s (%s)", path, err)
            return
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger = logging.getLogger(f"cockpit.audit.{path}")
        logger.propagate = False
        logger.setLevel(logging.INFO)
        if not logger.handlers:
            logger.addHandler(handler)
        self._logger = logger

    @property
    def enabled(self) -> bool:
        return self._logger is not None

    def record(self, answer: Answer, role: str | None, seconds: float) -> None:
        if self._logger is None:
            return
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "question": answer.question[:2000],
            "role": role,
            "status": answer.status,
            "path": answer.path,
            "sql": answer.sql,
            "rows": len(answer.rows),
            "duration_ms": round(seconds * 1000, 2),
            "message": answer.message[:500] if answer.message else None,
        }
        try:
            self._logger.info(json.dumps(entry, ensure_ascii=False, default=str))
        except OSError as err:  # a full disk must not break answering
            log.warning("audit log write failed: %s", err)
