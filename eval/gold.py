"""Running the hand-written gold SQL on the same DuckDB file the assistant answers from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb


@dataclass(frozen=True)
class GoldResult:
    """The columns and rows a gold query returned (types as DuckDB names them)."""

    names: tuple[str, ...]
    types: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


class GoldDatabase:
    """A private, read-only view of the demo database for the gold queries.

    The file is ATTACHed from an in-memory DuckDB instance rather than opened with
    ``duckdb.connect(path)``: DuckDB refuses a second handle on a file that the assistant's
    engine already holds in this process with other settings; an attached copy is independent.
    Each distinct query runs once; its result is cached.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"database not found: {self.path}")
        self._connection = duckdb.connect()
        self._connection.execute(f"ATTACH '{self._quoted(self.path)}' AS gold (READ_ONLY)")
        self._connection.execute("USE gold")
        self._cache: dict[str, GoldResult] = {}

    @staticmethod
    def _quoted(path: Path) -> str:
        return str(path).replace("'", "''")

    def run(self, sql: str) -> GoldResult:
        """The result of one gold query (raises duckdb.Error if it does not run)."""
        cached = self._cache.get(sql)
        if cached is not None:
            return cached
        # On the connection itself: a cursor would be a new connection, outside `USE gold`.
        cursor = self._connection.execute(sql)
        description = cursor.description or []
        rows = tuple(tuple(r) for r in cursor.fetchall())
        result = GoldResult(
            names=tuple(d[0] for d in description),
            types=tuple(str(d[1]) for d in description),
            rows=rows,
        )
        self._cache[sql] = result
        return result

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> GoldDatabase:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
