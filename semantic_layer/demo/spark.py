"""Write the demo (or any DuckDB database) where Spark reads it: Parquet folders or tables.

Two ways, by what `--spark` names:

- a folder (`/data/cockpit`, `file:///data/cockpit`): one Parquet folder per table,
  `<folder>/<table>/part-00000.parquet`, written by DuckDB — no JVM, no metastore; the
  `SparkEngine` registers each folder as a view (`spark://local?warehouse=/data/cockpit`);
- a Spark URL as `--engine` takes it (`spark://host:7077?warehouse=hdfs://nn/dw`,
  `sc://host:15002/;…?database=demo`): Spark itself writes, Parquet folders under the
  warehouse URL or tables saved in the database (Databricks, a Hive metastore).

Either way the rows and types are DuckDB's own (DECIMAL stays DECIMAL, DATE stays DATE), so
the same question gives the same answer on both engines.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb

from semantic_layer.errors import ExecutionError
from semantic_layer.spark import is_spark_url, local_path, parse_target


def _source(database: Path) -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB attaching `database` read-only (no clash with an engine of
    this process that has the same file open with other settings)."""
    source = duckdb.connect()
    source.execute("ATTACH ? AS src (READ_ONLY)", [Path(database).as_posix()])
    source.execute("USE src")
    return source


def _tables(source: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        row[0]
        for row in source.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'src' "
            "AND table_schema = 'main' ORDER BY table_name"
        ).fetchall()
    ]


def write_parquet(database: Path, warehouse: Path) -> list[str]:
    """Every table of `database` as `<warehouse>/<table>/part-00000.parquet`.

    Each table is written beside its folder and swapped in whole, so an engine reading the
    warehouse meanwhile sees the old table or the new one, never half of one."""
    warehouse.mkdir(parents=True, exist_ok=True)
    source = _source(database)
    try:
        tables = _tables(source)
        for table in tables:
            fresh = warehouse / f".{table}.tmp"
            shutil.rmtree(fresh, ignore_errors=True)
            fresh.mkdir()
            source.table(table).write_parquet(str(fresh / "part-00000.parquet"))
            final = warehouse / table
            if final.exists():
                old = warehouse / f".{table}.old"
                shutil.rmtree(old, ignore_errors=True)
                final.rename(old)
                fresh.rename(final)
                shutil.rmtree(old)
            else:
                fresh.rename(final)
    finally:
        source.close()
    return tables


def write_with_spark(
    database: Path, session: Any, warehouse: str | None, target_db: str | None
) -> list[str]:
    """Every table of `database` written by Spark: Parquet under `warehouse` (a Hadoop URL),
    or saved as tables of `target_db` — replacing what was there."""
    source = _source(database)
    try:
        tables = _tables(source)
        for table in tables:
            frame = session.createDataFrame(source.table(table).to_arrow_table())
            writer = frame.write.mode("overwrite")
            if warehouse:
                writer.parquet(f"{warehouse.rstrip('/')}/{table}")
            else:
                writer.saveAsTable(f"{target_db}.{table}")
    finally:
        source.close()
    return tables


def copy_to_spark(database: Path, target: str, session: Any = None) -> list[str]:
    """The `cockpit demo --spark` step: `target` is a folder or a Spark URL (see the module)."""
    if not is_spark_url(target):
        local = local_path(target)
        if local is None:
            raise ExecutionError(
                "database_error",
                detail=f"{target}: name a local folder, or a Spark URL with ?warehouse=… or "
                "?database=… (spark://host:7077?warehouse=hdfs://…, sc://host:15002?database=…)",
            )
        return write_parquet(database, local)
    spec = parse_target(target)
    if not spec.warehouse and not spec.database:
        raise ExecutionError(
            "database_error",
            detail=f"{target}: say where the tables go (?warehouse=… or ?database=…)",
        )
    local = local_path(spec.warehouse) if spec.warehouse else None
    if local is not None:
        return write_parquet(database, local)  # a folder Spark reads: DuckDB writes it, no JVM
    from semantic_layer.spark import connect_session, local_session

    if session is not None:
        return write_with_spark(database, session, spec.warehouse, spec.database)
    if not spec.remote:
        # This process's session: it stays up for whatever the process asks of Spark next.
        session = local_session(spec.master or "local[*]")
        return write_with_spark(database, session, spec.warehouse, spec.database)
    # A Connect session of our own is released when done: left open, its client would try to
    # reach the server again when the process exits, long after the server may have gone.
    session = connect_session(spec.remote)
    try:
        return write_with_spark(database, session, spec.warehouse, spec.database)
    finally:
        session.stop()
