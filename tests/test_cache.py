"""The result cache: a repeated question answers from memory until the data changes."""

from __future__ import annotations

import os
import shutil

from semantic_layer.engine import DuckDBEngine


def test_repeated_statements_come_from_the_cache_until_the_file_changes(demo_db, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, copy)
    engine = DuckDBEngine(copy)
    sql = "SELECT COUNT(*) FROM orders"
    first = engine.execute(sql)
    assert engine.execute(sql) is first  # served from the cache
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # "new data"
    again = engine.execute(sql)
    assert again is not first and again.rows == first.rows
    engine.close()


def test_the_cache_is_bounded(demo_db):
    engine = DuckDBEngine(demo_db, cache_size=3)
    for n in range(10):
        engine.execute(f"SELECT {n} AS n")
    assert len(engine._cache) == 3
    engine.close()


def test_a_database_replaced_by_a_new_file_is_reopened(demo_db, tmp_path):
    """A nightly load writes a new file and renames it over the old one: answers follow."""
    import duckdb

    live = tmp_path / "live.duckdb"
    shutil.copy(demo_db, live)
    engine = DuckDBEngine(live)
    sql = "SELECT COUNT(*) FROM orders"
    before = engine.execute(sql).scalar()
    staged = tmp_path / "staged.duckdb"
    shutil.copy(demo_db, staged)
    with duckdb.connect(str(staged)) as con:
        con.execute("DELETE FROM orders WHERE order_id % 2 = 0")
        expected = con.execute(sql).fetchone()[0]
    os.replace(staged, live)
    assert expected < before
    assert engine.execute(sql).scalar() == expected
    engine.close()


def test_a_deleted_database_is_a_clear_error(demo_db, tmp_path):
    from semantic_layer.errors import ExecutionError

    gone = tmp_path / "gone.duckdb"
    shutil.copy(demo_db, gone)
    engine = DuckDBEngine(gone)
    gone.unlink()
    try:
        engine.execute("SELECT 1")
    except ExecutionError as err:
        assert "gone.duckdb" in err.message("en")
    else:
        raise AssertionError("no error for a deleted database")
