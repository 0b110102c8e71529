"""The snapshot dates of each balance table, read once per data version.

A balance (inventory, receivables) is the last snapshot inside each period. Written as a
subquery — `snapshot_date IN (SELECT MAX(snapshot_date) …)` — DuckDB scans the table twice and
cannot skip row groups. Knowing which dates exist, the compiler writes them as literals instead
(`snapshot_date = DATE '2025-12-31'`): half the time at scale 10, and the SQL shown to the user
says which day the balance is from.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlglot import exp

# (fact table, its date expression) → every snapshot date present, or None when unknown.
SnapshotLookup = Callable[[str, exp.Expression], Sequence[date] | None]

MAX_DATES = 5000  # beyond this a literal list is no faster than the subquery


class SnapshotDates:
    """A `SnapshotLookup` over an engine, cached by (table, expression, data version).

    Engines without a data version (PostgreSQL: another client may write at any time) get no
    dates, so the compiler keeps the subquery — always right, just slower. Run through a
    `SecuredEngine`, the dates are those the role may see, like the subquery's."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self._cache: dict[tuple[str, str, Any], tuple[date, ...] | None] = {}
        self._lock = threading.Lock()

    def __call__(self, table: str, column: exp.Expression) -> Sequence[date] | None:
        version_of = getattr(self.engine, "data_version", None)
        version = version_of() if version_of else None
        if version is None:
            return None
        key = (table, column.sql(), version)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        found = self._read(table, column)
        with self._lock:
            if len(self._cache) > 64:  # old data versions
                self._cache.clear()
            self._cache[key] = found
        return found

    def _read(self, table: str, column: exp.Expression) -> tuple[date, ...] | None:
        # A secured engine caps rows; a capped list would silently miss dates, so ask for one
        # more than we accept and give up (keep the subquery) when it comes back full.
        cap = getattr(self.engine, "max_rows", None)
        accept = min(MAX_DATES, cap - 1) if cap else MAX_DATES
        not_null = exp.Not(this=exp.Is(this=column.copy(), expression=exp.null()))
        select = (
            exp.select(exp.alias_(column.copy(), "snapshot_date"))
            .distinct()
            .from_(table)
            .where(not_null)
            .limit(accept + 1)
        )
        rows = self.engine.execute(select).rows
        # Only plain dates: timestamps would need time-of-day care, so they keep the subquery.
        if len(rows) > accept or any(type(row[0]) is not date for row in rows):
            return None
        return tuple(sorted(row[0] for row in rows))
