"""Run SQL on DuckDB, opened read-only with external access disabled.

The engine is the last stage of the pipeline: it receives a statement that was compiled (or,
later, guarded) and returns typed columns and rows. It can never change the data: the
database file is opened read-only, and DuckDB is told not to touch files or the network.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import duckdb
from sqlglot import exp

from semantic_layer.errors import ExecutionError
from semantic_layer.snapshots import SnapshotDates


@dataclass(frozen=True)
class ResultColumn:
    name: str
    type: str


@dataclass(frozen=True)
class Result:
    """Rows of a query with their column names and database types."""

    columns: tuple[ResultColumn, ...]
    rows: list[tuple[Any, ...]]
    sql: str

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def records(self) -> list[dict[str, Any]]:
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in self.rows]

    def column(self, name: str) -> list[Any]:
        index = self.names.index(name)
        return [row[index] for row in self.rows]

    def scalar(self) -> Any:
        """The single value of a one-row, one-column result (or of the first metric column)."""
        return self.rows[0][0] if self.rows else None

    def to_pandas(self):  # pandas is optional at this layer; imported only when asked for
        import pandas as pd

        return pd.DataFrame(self.rows, columns=self.names)


class Engine(Protocol):
    """What the pipeline needs of a database: run one statement, describe the tables."""

    dialect: str

    def execute(self, sql: str | exp.Expression) -> Result: ...

    def schema(self) -> dict[str, dict[str, str]]: ...


class _Connected:
    """What every engine over one connection shares: schema look-up and closing."""

    schema_name = "'main'"  # an SQL expression naming the schema whose tables are ours
    _connection: Any

    def execute(self, sql: str | exp.Expression) -> Result:  # pragma: no cover - abstract
        raise NotImplementedError

    def schema(self) -> dict[str, dict[str, str]]:
        """{table: {column: type}} for every table in the engine's schema."""
        result = self.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            f"WHERE table_schema = {self.schema_name} ORDER BY table_name, ordinal_position"
        )
        tables: dict[str, dict[str, str]] = {}
        for table, column, kind in result.rows:
            tables.setdefault(table, {})[column] = kind
        return tables

    def close(self) -> None:
        self._connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class DuckDBEngine(_Connected):
    """A read-only DuckDB database file."""

    dialect = "duckdb"

    def __init__(
        self, path: str | Path, timeout: float | None = 30.0, cache_size: int = 256
    ) -> None:
        """Open `path` read-only; `timeout` seconds is the longest any statement may run.

        Results are cached by (SQL, data version) — the file's modification time, size and
        inode — so a repeated question answers from memory until the data changes. A file
        replaced under us (a nightly load writes a new file and renames it over the old one) is
        reopened, so answers follow the new data rather than the old file still open."""
        self.path = Path(path)
        self.timeout = timeout
        self._cache: OrderedDict[tuple[str, tuple[int, ...]], Result] = OrderedDict()
        self._cache_size = cache_size
        if not self.path.is_file():
            raise ExecutionError("database_missing", path=str(self.path))
        self._lock = threading.Lock()
        self._connection = self._connect()
        self._inode = self.data_version()[2]
        self.snapshots = SnapshotDates(self)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        try:
            return duckdb.connect(
                str(self.path),
                read_only=True,
                # No files, no network, and nobody can switch that back on: the settings lock.
                config={"enable_external_access": False, "lock_configuration": True},
            )
        except duckdb.Error as err:
            raise ExecutionError(
                "database_corrupt", path=str(self.path), detail=str(err).splitlines()[0]
            ) from None

    def data_version(self) -> tuple[int, int, int]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            raise ExecutionError("database_missing", path=str(self.path)) from None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    def execute(self, sql: str | exp.Expression) -> Result:
        text = sql.sql(dialect=self.dialect) if isinstance(sql, exp.Expression) else sql
        version = self.data_version()
        if version[2] != self._inode:
            with self._lock:
                # DuckDB shares one open database per path within a process: close the old
                # file first, or connecting would hand back the old file's data.
                self._connection.close()
                self._connection, self._inode = self._connect(), version[2]
        key = (text, version)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        result = self._run(text)
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return result

    def _run(self, text: str) -> Result:
        # A cursor per call: DuckDB connections are not safe to share across threads
        # (Streamlit reruns scripts on worker threads).
        with self._lock:
            cursor = self._connection.cursor()
        timer = None
        if self.timeout:
            # The statement time limit: interrupt the query, not the whole process.
            timer = threading.Timer(self.timeout, cursor.interrupt)
            timer.daemon = True
            timer.start()
        try:
            cursor.execute(text)
            description = cursor.description or []
            rows = cursor.fetchall()
        except duckdb.InterruptException:
            raise ExecutionError("query_timeout", seconds=self.timeout) from None
        except duckdb.Error as err:
            raise ExecutionError("database_error", detail=str(err).splitlines()[0]) from err
        finally:
            if timer is not None:
                timer.cancel()
            cursor.close()
        columns = tuple(ResultColumn(d[0], str(d[1])) for d in description)
        return Result(columns=columns, rows=rows, sql=text)


class PostgresEngine(_Connected):
    """A PostgreSQL database over a real connection (`postgresql://user:pass@host/db`).

    The session is read-only (`default_transaction_read_only`) with a statement timeout, so
    the same promises hold as for DuckDB: nothing changes, nothing runs forever.
    """

    dialect = "postgres"

    def __init__(self, url: str, timeout: float | None = 30.0) -> None:
        import psycopg

        self.url = url
        self.timeout = timeout
        self.path = None
        options = "-c default_transaction_read_only=on"
        if timeout:
            options += f" -c statement_timeout={int(timeout * 1000)}"
        try:
            self._connection = psycopg.connect(url, options=options, autocommit=True)
        except psycopg.Error as err:
            raise ExecutionError("database_error", detail=str(err).splitlines()[0]) from None
        self._lock = threading.Lock()
        self.snapshots = None  # no data version: balances keep their MAX subquery

    def execute(self, sql: str | exp.Expression) -> Result:
        import psycopg

        text = sql.sql(dialect=self.dialect) if isinstance(sql, exp.Expression) else sql
        with self._lock:
            try:
                with self._connection.cursor() as cursor:
                    cursor.execute(text)
                    description = cursor.description or []
                    rows = [tuple(row) for row in cursor.fetchall()] if description else []
            except psycopg.errors.QueryCanceled:
                raise ExecutionError("query_timeout", seconds=self.timeout) from None
            except psycopg.Error as err:
                raise ExecutionError("database_error", detail=str(err).splitlines()[0]) from None
        columns = tuple(ResultColumn(d.name, str(d.type_code)) for d in description)
        return Result(columns=columns, rows=rows, sql=text)

    schema_name = "current_schema()"


def open_engine(target: str | Path, timeout: float | None = 30.0) -> Engine:
    """A DuckDB file path, or a `postgresql://` URL."""
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        return PostgresEngine(text, timeout=timeout)
    return DuckDBEngine(target, timeout=timeout)
