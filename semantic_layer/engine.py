"""Run SQL on DuckDB, opened read-only with external access disabled.

The engine is the last stage of the pipeline: it receives a statement that was compiled (or,
later, guarded) and returns typed columns and rows. It can never change the data: the
database file is opened read-only, and DuckDB is told not to touch files or the network.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import duckdb
from sqlglot import exp

from semantic_layer.errors import ConfigError, ExecutionError
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


def estimate_bytes(rows: list[tuple[Any, ...]]) -> int:
    """Roughly what `rows` occupy in Python (tuples, strings, numbers), from a sample.

    Exact sizing would cost as much as the rows; a sample of 64 rows is within a few percent
    for the tables people query, which is all a memory budget needs."""
    if not rows:
        return 0
    step = max(1, len(rows) // 64)
    sample = rows[::step][:64]
    total = 0
    for row in sample:
        total += sys.getsizeof(row) + sum(sys.getsizeof(v) for v in row)
    return total * len(rows) // len(sample)


def rows_within(budget: int, columns: int) -> int:
    """The most rows `estimate_bytes` can count without passing `budget`, plus one.

    A row costs at least its tuple (40 bytes and 8 per slot) and 16 bytes per value (None,
    the smallest object), so any more rows than this are over the budget whatever they hold:
    an engine may stop computing there and the answer is the same."""
    return budget // (40 + 24 * columns) + 1


def _seconds(limit: float | None) -> str:
    """A time limit as a message shows it: 30, 1.5, 0.001 (never 0.0 for a tiny one)."""
    return f"{limit:.3g}" if limit else "-"


class _Connected:
    """What every engine over one connection shares: schema look-up, fetching and closing."""

    schema_name = "'main'"  # an SQL expression naming the schema whose tables are ours
    _connection: Any
    max_result_bytes: int = 64 * 2**20

    def _fetch(self, cursor: Any) -> list[tuple[Any, ...]]:
        """All rows, in chunks, stopping as soon as the result outgrows its byte budget."""
        rows: list[tuple[Any, ...]] = []
        size = 0
        while True:
            chunk = [tuple(row) for row in cursor.fetchmany(10_000)]
            if not chunk:
                return rows
            size += estimate_bytes(chunk)
            if size > self.max_result_bytes:
                raise ExecutionError("result_too_large", mb=self.max_result_bytes // 2**20)
            rows.extend(chunk)

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


# The configuration each database file was first opened with in this process.
_OPENED_WITH: dict[str, dict[str, Any]] = {}


class DuckDBEngine(_Connected):
    """A read-only DuckDB database file."""

    dialect = "duckdb"

    def __init__(
        self,
        path: str | Path,
        timeout: float | None = 30.0,
        cache_size: int = 256,
        memory_limit: str | None = "2GB",
        temp_dir: str | Path | None = None,
        max_result_bytes: int = 64 * 2**20,
        cache_bytes: int = 256 * 2**20,
    ) -> None:
        """Open `path` read-only; `timeout` seconds is the longest any statement may run.

        Memory is budgeted three ways: DuckDB may use `memory_limit` (spilling to `temp_dir`),
        one result may hold `max_result_bytes` (estimated, checked while fetching), and the
        result cache keeps at most `cache_size` results and `cache_bytes` in all.

        Results are cached by (SQL, data version) — the file's modification time, size and
        inode — so a repeated question answers from memory until the data changes. A file
        replaced under us (a nightly load writes a new file and renames it over the old one) is
        reopened, so answers follow the new data rather than the old file still open."""
        self.path = Path(path)
        self.timeout = timeout
        self.memory_limit = memory_limit
        self.temp_dir = Path(temp_dir) if temp_dir is not None else None
        self.max_result_bytes = max_result_bytes
        self._cache: OrderedDict[tuple[str, tuple[int, ...]], tuple[Result, int]] = OrderedDict()
        self._cache_size = cache_size
        self._cache_bytes = cache_bytes
        self._cached_bytes = 0
        if not self.path.is_file():
            raise ExecutionError("database_missing", path=str(self.path))
        self._lock = threading.Lock()
        self._connection = self._connect()
        self._inode = self.data_version()[2]
        self.snapshots = SnapshotDates(self)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        # No files, no network, and nobody can switch that back on: the settings lock.
        config: dict[str, Any] = {
            "enable_external_access": False,
            "lock_configuration": True,
        }
        if self.memory_limit:
            config["memory_limit"] = self.memory_limit
        if self.temp_dir is not None:
            try:
                self.temp_dir.mkdir(parents=True, exist_ok=True)
                config["temp_directory"] = str(self.temp_dir)
            except OSError:  # an unwritable cache: DuckDB keeps its own default, still answers
                pass
        key = str(self.path.resolve())
        try:
            try:
                connection = duckdb.connect(str(self.path), read_only=True, config=config)
            except duckdb.ConnectionException as err:
                # DuckDB shares one instance per file in a process, with the configuration of
                # its first connection (ours too: read-only, no external access, locked); a
                # second engine with another memory budget joins it on the first one's terms.
                if "different configuration" not in str(err) or key not in _OPENED_WITH:
                    raise
                config = _OPENED_WITH[key]
                connection = duckdb.connect(str(self.path), read_only=True, config=config)
            _OPENED_WITH[key] = config
            return connection
        except duckdb.Error as err:
            refused = self._refused_setting(config)
            if refused is not None:
                setting, value = refused
                raise ConfigError(
                    f"{setting}_refused", value=value, detail=str(err).splitlines()[0]
                ) from None
            raise ExecutionError(
                "database_corrupt", path=str(self.path), detail=str(err).splitlines()[0]
            ) from None

    def _refused_setting(self, config: dict[str, Any]) -> tuple[str, str] | None:
        """When the file would not open, whether one of our settings was the cause: the file
        opens without it (DuckDB reports a memory limit of 0GB as an out-of-memory error
        while opening, which is no reason to call the file corrupt)."""
        optional = {"memory_limit": "memory_limit", "temp_directory": "temp_dir"}
        for key, setting in optional.items():
            if key not in config:
                continue
            safe = {k: v for k, v in config.items() if k != key}
            try:
                duckdb.connect(str(self.path), read_only=True, config=safe).close()
            except duckdb.Error:
                continue
            return setting, str(config[key])
        return None

    def data_version(self) -> tuple[int, int, int]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            raise ExecutionError("database_missing", path=str(self.path)) from None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    def execute(self, sql: str | exp.Expression, timeout: float | None = None) -> Result:
        """Run one statement (`timeout`: a shorter limit for this one, e.g. what is left of a
        question's deadline)."""
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
                return cached[0]
        result = self._run(text, timeout)
        size = estimate_bytes(result.rows) + sys.getsizeof(text)
        with self._lock:
            # A result bigger than a quarter of the budget would evict everything: not kept.
            if size <= self._cache_bytes // 4 and key not in self._cache:
                self._cache[key] = (result, size)
                self._cached_bytes += size
            while self._cache and (
                len(self._cache) > self._cache_size or self._cached_bytes > self._cache_bytes
            ):
                _, (_, dropped) = self._cache.popitem(last=False)
                self._cached_bytes -= dropped
        return result

    @property
    def cached_bytes(self) -> int:
        """The estimated size of the results the cache holds now."""
        return self._cached_bytes

    def _run(self, text: str, timeout: float | None = None) -> Result:
        # A cursor per call: DuckDB connections are not safe to share across threads
        # (Streamlit reruns scripts on worker threads).
        with self._lock:
            cursor = self._connection.cursor()
        limit = self.timeout
        if timeout is not None:
            limit = min(limit, timeout) if limit else timeout
        timer = None
        if limit:
            # The statement time limit: interrupt the query, not the whole process. Python's
            # timers overflow past TIMEOUT_MAX (~292 years), which would drop the limit silently.
            wait = min(max(limit, 0.001), threading.TIMEOUT_MAX)
            timer = threading.Timer(wait, cursor.interrupt)
            timer.daemon = True
            timer.start()
        try:
            cursor.execute(text)
            description = cursor.description or []
            rows = self._fetch(cursor)
        except duckdb.InterruptException:
            raise ExecutionError("query_timeout", seconds=_seconds(limit)) from None
        except duckdb.OutOfMemoryException:
            raise ExecutionError("out_of_memory", limit=self.memory_limit or "-") from None
        except duckdb.Error as err:
            raise ExecutionError("database_error", detail=str(err).splitlines()[0]) from err
        except UnicodeDecodeError:
            # DuckDB cut its own message inside a multi-byte character (json_extract on Chinese
            # text): an error without its words, never a crash.
            raise ExecutionError(
                "database_error", detail="the database's message could not be decoded"
            ) from None
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

    def __init__(
        self, url: str, timeout: float | None = 30.0, max_result_bytes: int = 64 * 2**20
    ) -> None:
        import psycopg

        self.url = url
        self.timeout = timeout
        self.max_result_bytes = max_result_bytes
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

    def execute(self, sql: str | exp.Expression, timeout: float | None = None) -> Result:
        """Run one statement (`timeout`: a shorter limit for this one)."""
        import psycopg

        text = sql.sql(dialect=self.dialect) if isinstance(sql, exp.Expression) else sql
        shorter = timeout is not None and (not self.timeout or timeout < self.timeout)
        with self._lock:
            try:
                with self._connection.cursor() as cursor:
                    if shorter:
                        cursor.execute(f"SET statement_timeout = {max(1, int(timeout * 1000))}")
                    try:
                        cursor.execute(text)
                        description = cursor.description or []
                        rows = self._fetch(cursor) if description else []
                    finally:
                        if shorter:
                            reset = int(self.timeout * 1000) if self.timeout else 0
                            cursor.execute(f"SET statement_timeout = {reset}")
            except psycopg.errors.QueryCanceled:
                seconds = _seconds(timeout if shorter else self.timeout)
                raise ExecutionError("query_timeout", seconds=seconds) from None
            except psycopg.Error as err:
                raise ExecutionError("database_error", detail=str(err).splitlines()[0]) from None
        columns = tuple(ResultColumn(d.name, str(d.type_code)) for d in description)
        return Result(columns=columns, rows=rows, sql=text)

    schema_name = "current_schema()"


def open_engine(target: str | Path, timeout: float | None = 30.0, **budget: Any) -> Engine:
    """A DuckDB file path, a `postgresql://` or `trino://` URL, or a Spark URL
    (`spark://local?warehouse=…`, `sc://host:15002?database=…`: `semantic_layer/spark.py`).
    `budget`: the memory settings (`memory_limit`, `temp_dir`, `max_result_bytes`, `cache_bytes`)."""
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        keep = {k: v for k, v in budget.items() if k == "max_result_bytes"}
        return PostgresEngine(text, timeout=timeout, **keep)
    if text.startswith("trino://"):
        from semantic_layer.trino import TrinoEngine

        keep = {k: v for k, v in budget.items() if k == "max_result_bytes"}
        return TrinoEngine(text, timeout=timeout, **keep)
    from semantic_layer.spark import SparkEngine, is_spark_url  # pyspark itself: only if used

    if isinstance(target, str) and is_spark_url(text):  # a Path is always a DuckDB file
        return SparkEngine(text, timeout=timeout, **budget)
    return DuckDBEngine(target, timeout=timeout, **budget)
