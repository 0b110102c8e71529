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
