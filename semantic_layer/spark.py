"""Run SQL on Spark: a local session for development, a cluster or Spark Connect in production.

When the data outgrows one machine, the semantic model, the compiler, the guard and row
security stay as they are; only the engine changes. `SparkEngine` is that engine for Spark
SQL over pyspark (`pip install -e '.[spark]'`), selected by a URL like PostgreSQL's:

    spark://local?warehouse=/data/cockpit          a local session (local[*]) over Parquet folders
    local[2]?warehouse=/data/cockpit               the same, with two cores
    spark://master:7077?warehouse=hdfs://nn/dw     a standalone cluster, Parquet on HDFS (or s3a://)
    sc://host:15002?database=sales                 Spark Connect, the tables of database `sales`
    sc://<workspace>:443/;token=…;x-databricks-cluster-id=…?database=main.sales   Databricks

The promises are those of the DuckDB engine:

- **Read-only by construction.** The engine's session only reads: each Parquet folder of the
  warehouse is registered as a temporary view (no metastore, nothing written), reading files by
  path in SQL is switched off (`spark.sql.runSQLOnFiles`), and `execute` runs nothing but one
  query. It parses the text with sqlglot, refuses anything but a SELECT (Spark runs DDL and
  commands eagerly, inside `spark.sql`) and script transforms (`TRANSFORM … USING 'cmd'` runs a
  shell command), and sends Spark sqlglot's own rendering of the checked query — never the
  text it was given, so Spark cannot read into it anything the check did not see.
- **A time limit per statement.** Each statement runs in its own job group (a Spark Connect
  operation tag); a timer cancels the group when the limit passes, and the caller gets the
  same `query_timeout` message as on DuckDB.
- **Budgets.** Spark computes at most the rows the byte budget could hold
  (`rows_within`), fetched partition by partition and counted against `max_result_bytes`
  (`_Connected._fetch`): a result too large stops with a message, never after the whole of
  it was built in the JVM — where one oversized result would exhaust the heap and stop the
  session for every later question.
  A local session's JVM heap is the memory budget (`memory_limit`), spilling to `temp_dir`.
- **Typed like DuckDB.** Dates are `datetime.date`, decimals `Decimal`; column types read as
  DuckDB names them (`INTEGER`, `VARCHAR`, `DECIMAL(18,2)`), so code that looks at a type
  needs no second vocabulary.

Over a local warehouse the engine knows its data version (the Parquet files' times and sizes),
so snapshot dates are looked up once and results are cached, as on DuckDB; over a remote
store or a catalog it knows none, and balances keep their MAX subquery (always right).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from semantic_layer.engine import Result, ResultColumn, _Connected, estimate_bytes, rows_within
from semantic_layer.errors import ExecutionError
from semantic_layer.snapshots import SnapshotDates

log = logging.getLogger(__name__)
# How long past its limit the caller waits for a statement that does not stop when cancelled.
_GRACE_SECONDS = 10.0

# `spark://local`, `spark://local[4]`, `local[*]`: a session inside this process.
_LOCAL = re.compile(r"^(?:spark://)?local(?:\[(?P<cores>\d+|\*)\])?$")
# A table a warehouse folder may become: an SQL identifier, nothing to quote.
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Statements that change something, and constructs that run code outside SQL. The guard
# refuses them before the engine is reached; the engine refuses them again, so that no caller
# — ours or an embedding application's — can make a Spark session write or run a program.
_REFUSED = (
    exp.Command,
    exp.Create,
    exp.Insert,
    exp.Delete,
    exp.Update,
    exp.Drop,
    exp.Merge,
    exp.Alter,
    exp.Set,
    exp.Use,
    exp.QueryTransform,  # SELECT TRANSFORM(col) USING 'sh -c …': a process per partition
    exp.Hint,  # /*+ REPARTITION(100000) */: instructions to Spark, not part of an answer
)
# Spark functions that call arbitrary Java methods (sqlglot keeps them as Anonymous).
_CODE_FUNCTIONS = {"reflect", "java_method", "try_reflect"}

# Spark's type names as DuckDB spells them (the rest: Spark's own, upper-cased).
_TYPE_NAMES = {
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "string": "VARCHAR",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "timestamp_ntz": "TIMESTAMP",
    "binary": "BLOB",
    "void": "NULL",
}


def duckdb_type(spark_type: str) -> str:
    """A Spark type (`int`, `decimal(18,2)`) as DuckDB names it (`INTEGER`, `DECIMAL(18,2)`)."""
    return _TYPE_NAMES.get(spark_type, spark_type.upper())


@dataclass(frozen=True)
class SparkTarget:
    """Where a Spark engine runs and where its tables are, read from an engine URL."""

    master: str | None = None  # a classic master: local[2], spark://host:7077
    remote: str | None = None  # a Spark Connect URL: sc://host:15002/;token=…
    warehouse: str | None = None  # a folder (or URL) of Parquet folders, one per table
    database: str | None = None  # or: the tables of this database (catalog.schema)

    @property
    def local(self) -> bool:
        return self.master is not None and self.master.startswith("local")


def is_spark_url(text: str) -> bool:
    """Whether an engine setting names Spark (as opposed to a DuckDB file or PostgreSQL)."""
    base = text.split("?", 1)[0]
    return text.startswith(("spark://", "sc://")) or bool(_LOCAL.match(base))


def parse_target(text: str) -> SparkTarget:
    """`spark://local?warehouse=…`, `spark://host:7077?…`, `sc://host:15002/;…?database=…`.

    Cockpit's own parameters follow `?` (warehouse, database) and are taken off before the
    master or Spark Connect URL reaches Spark, which has its own `;key=value` parameters."""
    base, _, query = text.partition("?")
    # Percent-decoded, but a "+" stays a "+": a warehouse path is a path, not a form field.
    params = {
        unquote(key): unquote(value)
        for key, _, value in (part.partition("=") for part in query.split("&") if part)
    }
    unknown = set(params) - {"warehouse", "database"}
    if unknown:
        raise ExecutionError(
            "database_error",
            detail=f"unknown Spark engine parameter(s): {', '.join(sorted(unknown))} "
            "(expected warehouse=… or database=…)",
        )
    warehouse, database = params.get("warehouse") or None, params.get("database") or None
    local = _LOCAL.match(base)
    if local:
        cores = local.group("cores") or "*"
        return SparkTarget(master=f"local[{cores}]", warehouse=warehouse, database=database)
    if base.startswith("sc://"):
        return SparkTarget(remote=base, warehouse=warehouse, database=database)
    if base.startswith("spark://") and urlsplit(base).netloc:
        return SparkTarget(master=base, warehouse=warehouse, database=database)
    raise ExecutionError(
        "database_error",
        detail=f"not a Spark URL: {base} (spark://local, local[N], spark://host:7077, sc://host:15002)",
    )


def read_only_query(text: str, dialect: str = "spark") -> exp.Query:
    """The one query in `text`, or an `ExecutionError`: what a Spark (or Trino) session may be
    given. Comments go too: the caller sends the database this AST's rendering, not `text`."""
    try:
        statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
    except SqlglotError as err:
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ExecutionError(
            "database_error", detail=f"cannot read the statement: {detail}"
        ) from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise ExecutionError("database_error", detail="only one SELECT statement runs here")
    query = statements[0]
    for node in query.walk():
        node.comments = None  # never sent: Spark gets the rendering of the nodes alone
        if isinstance(node, _REFUSED) or (
            isinstance(node, exp.Anonymous) and str(node.name).lower() in _CODE_FUNCTIONS
        ):
            raise ExecutionError(
                "database_error", detail=f"{node.key.upper()} does not run on a read-only engine"
            )
    return query


def spark_fixes(query: exp.Query) -> exp.Query:
    """Rewrite what sqlglot renders for Spark but Spark reads otherwise (in place).

    A day-grain `DATE_TRUNC('day', d)` on a DATE becomes Spark's `TRUNC(d, 'DAY')`, and Spark's
    TRUNC knows only YEAR, QUARTER, MONTH and WEEK: every other unit gives NULL, so "sales per
    day" came back as one row dated NULL. A date truncated to its day is the date itself."""
    for node in list(query.find_all(exp.DateTrunc)):
        unit = node.args.get("unit")
        if unit is not None and unit.name.upper() in ("DAY", "DD", "D"):
            node.replace(exp.cast(node.this.copy(), exp.DataType.Type.DATE))
    return query


def spark_memory(size: str | None) -> str | None:
    """DuckDB's memory setting ("2GB", "512MB", "1.5GB") as a JVM size ("2048m")."""
    if not size:
        return None
    found = re.match(r"(?i)^\s*(\d+(?:\.\d+)?)\s*([mgt])i?b\s*$", size)
    if not found:
        return None
    factor = {"m": 1, "g": 1024, "t": 1024 * 1024}[found.group(2).lower()]
    return f"{max(256, int(float(found.group(1)) * factor))}m"


def local_session(
    master: str = "local[*]",
    memory: str | None = None,
    temp_dir: str | Path | None = None,
    shuffle_partitions: int | None = None,
    conf: dict[str, str] | None = None,
) -> Any:
    """This process's Spark session on `master` (started on first use: the JVM takes seconds).

    Spark allows one SparkContext per process: a second call returns the running session,
    and settings that only apply at start (driver memory, cores) keep their first values."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ExecutionError(
            "database_error", detail="pyspark is not installed: pip install -e '.[spark]'"
        ) from None
    cores = os.cpu_count() or 2
    builder = (
        SparkSession.builder.master(master)
        .appName("cockpit")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        # The small results of an analytics question need few shuffle partitions; the default
        # 200 is for clusters and costs a task each (AQE coalesces, but only after the fact).
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions or max(2, cores)))
        .config("spark.sql.session.timeZone", "UTC")
    )
    if master.startswith("local"):
        # A Spark inside this process listens on loopback only: its driver and block manager
        # ports are nobody else's business. The in-process executor names its host from the
        # environment, not from these settings: on a machine whose host name resolves to an
        # interface that cannot reach itself, task results over 1 MB (kept in the block manager
        # and fetched by host) were lost — so the JVM is started with loopback there too, and
        # results up to 64 MB go straight back to the driver.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("SPARK_LOCAL_HOSTNAME", "localhost")
        builder = (
            builder.config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.task.maxDirectResultSize", str(64 * 2**20))
        )
    if memory:
        builder = builder.config("spark.driver.memory", memory)
    if temp_dir is not None:
        builder = builder.config("spark.local.dir", str(temp_dir))
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as err:  # no Java, a JVM that would not start: a message, not a traceback
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ExecutionError("database_error", detail=f"Spark did not start: {detail}") from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def connect_session(url: str) -> Any:
    """A new Spark Connect session on `url` (`sc://host:15002/;token=…`)."""
    try:
        # The Connect module's own builder: pyspark's generic one also marks the whole process
        # as "Spark Connect mode", which would turn a local session's calls remote too.
        from pyspark.sql.connect.session import SparkSession as ConnectSession

        return ConnectSession.builder.remote(url).create()
    except ImportError:
        raise ExecutionError(
            "database_error",
            detail="Spark Connect needs pyspark's client extras: pip install 'pyspark[connect]>=4'",
        ) from None
    except Exception as err:
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ExecutionError("database_error", detail=f"Spark Connect: {detail}") from None


def is_connect(session: Any) -> bool:
    """Whether `session` is a Spark Connect client (no SparkContext, no JVM in this process)."""
    return type(session).__module__.startswith("pyspark.sql.connect")


def parquet_tables(warehouse: Path) -> dict[str, Path]:
    """{table: folder} for every Parquet folder (or `table.parquet` file) in `warehouse`."""
    tables: dict[str, Path] = {}
    for entry in sorted(warehouse.iterdir()):
        name = entry.name.removesuffix(".parquet")
        if not _TABLE_NAME.match(name):
            continue  # hidden folders, a half-written `.orders.tmp`, Spark's `_SUCCESS`
        files = list(entry.iterdir()) if entry.is_dir() else [entry]
        if any(f.is_file() and f.suffix == ".parquet" for f in files):
            tables[name] = entry
    return tables


class _Rows:
    """A DataFrame's rows as a DB-API cursor's `fetchmany`, for `_Connected._fetch`.

    `toLocalIterator` brings one partition at a time to the driver, so the byte budget stops
    a large result after the partition that crossed it, not after all of it."""

    def __init__(self, frame: Any) -> None:
        self._rows: Iterator[Any] = iter(frame.toLocalIterator())

    def fetchmany(self, size: int) -> list[Any]:
        return list(islice(self._rows, size))


class SparkEngine(_Connected):
    """Spark SQL over a session that only reads (see the module's docstring for the URLs)."""

    dialect = "spark"

    def __init__(
        self,
        target: str | SparkTarget = "spark://local",
        *,
        session: Any = None,
        timeout: float | None = 30.0,
        max_result_bytes: int = 64 * 2**20,
        memory_limit: str | None = "2GB",
        temp_dir: str | Path | None = None,
        cache_size: int = 256,
        cache_bytes: int = 256 * 2**20,
    ) -> None:
        """Open `target`; `session` reuses a running Spark session (tests, notebooks).

        A session of our own is never shared with the caller: the engine works in a new
        session of it (`newSession`: the same JVM, its own temporary views and settings), so
        the views it registers cannot clash with another engine's or be replaced by the caller."""
        self.target = parse_target(target) if isinstance(target, str) else target
        self.timeout = timeout
        self.max_result_bytes = max_result_bytes
        self.memory_limit = memory_limit
        self._cache: OrderedDict[tuple[str, Any], tuple[Result, int]] = OrderedDict()
        self._cache_size = cache_size
        self._cache_bytes = cache_bytes
        self._cached_bytes = 0
        self._lock = threading.RLock()
        warehouse = self.target.warehouse
        self._local_dir = local_path(warehouse) if warehouse else None
        if self._local_dir is not None and not self._local_dir.is_dir():
            raise ExecutionError("database_missing", path=str(self._local_dir))
        self.path = self._local_dir
        if session is None and self.target.remote:
            self._session = connect_session(self.target.remote)
            self._owned = True
        else:
            base = session or local_session(
                self.target.master or "local[*]", spark_memory(memory_limit), temp_dir
            )
            # A Connect session has no `newSession`; one the caller handed us is used as is.
            self._session = base if is_connect(base) else base.newSession()
            self._owned = False
        self._connect = is_connect(self._session)
        self._lock_down()
        if self.target.database:
            self._use_database(self.target.database)
        self._views: dict[str, str] = {}
        self._version: Any = None
        self._schema: dict[str, dict[str, str]] | None = None
        if warehouse:
            self._register(warehouse)
        self.snapshots = SnapshotDates(self) if self._local_dir is not None else None

    # --- the session -----------------------------------------------------------------------
    @property
    def session(self) -> Any:
        """The Spark session the engine reads through (read-only by the engine's own rules)."""
        return self._session

    def _lock_down(self) -> None:
        # `SELECT * FROM parquet.`/any/path``: reading files by path is the one way a query
        # could reach data outside the registered tables. The guard refuses the syntax too.
        try:
            self._session.conf.set("spark.sql.runSQLOnFiles", "false")
        except Exception:  # a managed service may forbid setting it; its grants decide there
            if not self._connect:
                raise
            log.warning("Spark Connect: could not switch off spark.sql.runSQLOnFiles")

    def _use_database(self, name: str) -> None:
        catalog, _, database = name.rpartition(".")
        try:
            if catalog:
                self._session.catalog.setCurrentCatalog(catalog)
            self._session.catalog.setCurrentDatabase(database)
        except Exception as err:
            raise ExecutionError("database_error", detail=_first_line(err)) from None

    def _register(self, warehouse: str) -> None:
        """Every Parquet folder of the warehouse as a temporary view named after it."""
        if self._local_dir is not None:
            folders = {name: str(path) for name, path in parquet_tables(self._local_dir).items()}
        else:
            folders = self._remote_folders(warehouse)
        for name, folder in folders.items():
            try:
                self._session.read.parquet(folder).createOrReplaceTempView(name)
            except Exception as err:
                raise ExecutionError("database_error", detail=_first_line(err)) from None
        for stale in set(self._views) - set(folders):
            self._session.catalog.dropTempView(stale)
        self._views = folders
        self._schema = None
        self._version = self.data_version()

    def _remote_folders(self, warehouse: str) -> dict[str, str]:
        """The Parquet folders under a Hadoop URL (hdfs://, s3a://, abfss://), listed by the JVM."""
        if self._connect:
            raise ExecutionError(
                "database_error",
                detail="over Spark Connect, name a database (?database=…), not a warehouse folder",
            )
        jvm = self._session.sparkContext._jvm
        root = jvm.org.apache.hadoop.fs.Path(warehouse.rstrip("/"))
        fs = root.getFileSystem(self._session.sparkContext._jsc.hadoopConfiguration())
        folders: dict[str, str] = {}
        for status in fs.listStatus(root):
            name = status.getPath().getName().removesuffix(".parquet")
            if _TABLE_NAME.match(name):
                folders[name] = status.getPath().toString()
        return folders

    def data_version(self) -> tuple[int, int, int] | None:
        """The local warehouse's version (latest change, bytes, files); None when unknown.

        Over a remote store or a catalog another writer may change the data at any moment:
        no version, so no cached results and no snapshot-date literals."""
        if self._local_dir is None:
            return None
        latest = size = count = 0
        try:
            for folder in parquet_tables(self._local_dir).values():
                files = [folder] if folder.is_file() else list(folder.iterdir())
                for file in files:
                    stat = file.stat()
                    latest, size, count = (
                        max(latest, stat.st_mtime_ns),
                        size + stat.st_size,
                        count + 1,
                    )
        except FileNotFoundError:  # a table being replaced as we look: the next look sees it
            return (latest, size, -1)
        return (latest, size, count)

    # --- running ---------------------------------------------------------------------------
    def execute(self, sql: str | exp.Expression, timeout: float | None = None) -> Result:
        """Run one query (`timeout`: a shorter limit for this one, e.g. what is left of a
        question's deadline). Anything but a query is refused before Spark sees it."""
        text = sql.sql(dialect=self.dialect) if isinstance(sql, exp.Expression) else sql
        statement = spark_fixes(read_only_query(text)).sql(dialect=self.dialect)
        version = self.data_version()
        if version is not None and version != self._version:
            with self._lock:
                # New files: Spark lists a folder's files when the view is made, so remake them.
                self._register(self.target.warehouse or "")
                self._cache.clear()
                self._cached_bytes = 0
                version = self._version
        if version is None:
            return self._run(statement, text, timeout)
        key = (statement, version)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached[0]
        result = self._run(statement, text, timeout)
        size = estimate_bytes(result.rows) + sys.getsizeof(statement)
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

    def _run(self, statement: str, text: str, timeout: float | None) -> Result:
        limit = self.timeout
        if timeout is not None:
            limit = min(limit, timeout) if limit else timeout
        if not limit:
            return self._run_here(statement, text, None)
        # The statement runs in a thread of its own and the caller waits at most the limit plus
        # a grace period: cancelling normally ends it within a second, but a cluster or Connect
        # server that stops answering (a lost connection, a wedged server) must not hold a
        # question forever. A statement abandoned that way is left to its daemon thread.
        outcome: Future[Result] = Future()

        def work() -> None:
            try:
                outcome.set_result(self._run_here(statement, text, limit))
            except BaseException as err:  # handed to the caller as raised
                outcome.set_exception(err)

        threading.Thread(target=work, name="cockpit-spark-statement", daemon=True).start()
        try:
            return outcome.result(timeout=limit + _GRACE_SECONDS)
        except FutureTimeout:
            log.warning("Spark: a statement did not stop %ss after its limit", _GRACE_SECONDS)
            raise ExecutionError("query_timeout", seconds=round(limit, 1)) from None

    def _run_here(self, statement: str, text: str, limit: float | None) -> Result:
        group = f"cockpit-{uuid.uuid4().hex}"
        fired, done = threading.Event(), threading.Event()
        self._start_group(group)
        if limit:

            def watch() -> None:
                if done.wait(max(limit, 0.001)):
                    return
                fired.set()
                # Again every half second until the statement gives up: a job that was still
                # being planned when the limit passed starts after the first cancel.
                while True:
                    self._cancel_group(group)
                    if done.wait(0.5):
                        return

            threading.Thread(target=watch, name=f"{group}-limit", daemon=True).start()
        try:
            frame = self._session.sql(statement)
            fields = frame.schema.fields
            ceiling = rows_within(self.max_result_bytes, len(fields))
            rows = self._fetch(_Rows(frame.limit(ceiling)))
        except ExecutionError:
            raise
        except Exception as err:
            if fired.is_set():
                seconds = round(limit, 1) if limit else self.timeout
                raise ExecutionError("query_timeout", seconds=seconds) from None
            detail = _first_line(err)
            if "OutOfMemoryError" in str(err) or "Java heap space" in str(err):
                raise ExecutionError("out_of_memory", limit=self.memory_limit or "-") from None
            if "maxResultSize" in str(err):
                mb = self.max_result_bytes // 2**20
                raise ExecutionError("result_too_large", mb=mb) from None
            raise ExecutionError("database_error", detail=detail) from None
        finally:
            done.set()
            self._end_group(group)
        columns = tuple(
            ResultColumn(f.name, duckdb_type(f.dataType.simpleString())) for f in fields
        )
        return Result(columns=columns, rows=rows, sql=text)

    def _start_group(self, group: str) -> None:
        """Mark every job this thread starts for the statement (thread-local in Spark)."""
        if self._connect:
            self._session.addTag(group)
        else:
            self._session.sparkContext.setJobGroup(group, "cockpit query", interruptOnCancel=True)

    def _cancel_group(self, group: str) -> None:
        """Stop the statement's jobs: the classic job group, or the Connect operation tag."""
        try:
            if self._connect:
                self._session.interruptTag(group)
            else:
                # The group is this statement's alone: its later jobs are cancelled as they start.
                self._session.sparkContext._jsc.sc().cancelJobGroupAndFutureJobs(group)
        except Exception:  # the statement ended as we cancelled it: nothing left to stop
            log.debug("cancelling %s found nothing to stop", group, exc_info=True)

    def _end_group(self, group: str) -> None:
        if self._connect:
            self._session.removeTag(group)
        else:
            self._session.sparkContext.setLocalProperty("spark.jobGroup.id", None)

    # --- describing ------------------------------------------------------------------------
    def schema(self) -> dict[str, dict[str, str]]:
        """{table: {column: type}}: the warehouse's views, or the database's tables."""
        with self._lock:
            if self._schema is not None:
                return self._schema
        try:
            if self._views:
                names = list(self._views)
            else:
                names = [t.name for t in self._session.catalog.listTables() if not t.isTemporary]
            tables = {
                name: {
                    f.name: duckdb_type(f.dataType.simpleString())
                    for f in self._session.table(name).schema.fields
                }
                for name in names
            }
        except Exception as err:
            raise ExecutionError("database_error", detail=_first_line(err)) from None
        with self._lock:
            self._schema = tables
        return tables

    @property
    def cached_bytes(self) -> int:
        """The estimated size of the results the cache holds now."""
        return self._cached_bytes

    def close(self) -> None:
        """Drop the engine's views (the JVM stays up for the next engine of this process)."""
        try:
            if self._owned:
                self._session.stop()
            else:
                for name in self._views:
                    self._session.catalog.dropTempView(name)
        except Exception:  # a session already stopped has nothing left to drop
            log.debug("closing the Spark engine", exc_info=True)
        self._views = {}


def local_path(warehouse: str) -> Path | None:
    """The local folder a warehouse setting names (a path or file: URL); None for hdfs://, s3a://…"""
    parts = urlsplit(warehouse)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    if len(parts.scheme) > 1:  # a Windows drive letter ("C:") is one character
        return None
    return Path(warehouse).expanduser()


def _first_line(err: BaseException) -> str:
    """An error's first line: Spark's messages go on with a JVM stack trace nobody should see
    (py4j's own "An error occurred while calling o44.collectToPython." line is skipped)."""
    for line in str(err).splitlines():
        line = line.strip().removeprefix(":").strip()
        if line and not line.startswith("An error occurred while calling"):
            return line[:500]
    return type(err).__name__
