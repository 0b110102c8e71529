"""Copy a demo (or any) DuckDB database into PostgreSQL, for the PostgreSQL engine path."""

from __future__ import annotations

from pathlib import Path

import duckdb

TYPES = {
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "DATE": "date",
    "VARCHAR": "text",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "TIMESTAMP": "timestamp",
}


def _pg_type(duck_type: str) -> str:
    if duck_type.startswith("DECIMAL"):
        return duck_type.replace("DECIMAL", "numeric")
    return TYPES.get(duck_type, "text")


def copy_to_postgres(database: Path, url: str, replace: bool = False) -> list[str]:
    """Create every table of `database` in PostgreSQL at `url` and copy the rows (COPY)."""
    import psycopg

    # A private in-memory instance attaching the file read-only: it does not clash with an
    # engine of this process that has the same file open with other settings.
    source = duckdb.connect()
    source.execute(f"ATTACH '{Path(database).as_posix()}' AS src (READ_ONLY)")
    source.execute("USE src")
    tables = [
        r[0]
        for r in source.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'src' "
            "AND table_schema = 'main' ORDER BY table_name"
        ).fetchall()
    ]
    with psycopg.connect(url, autocommit=True) as target:
        for table in tables:
            columns = source.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_catalog = 'src' AND table_schema = 'main' AND table_name = ? "
                "ORDER BY ordinal_position",
                [table],
            ).fetchall()
            if replace:
                target.execute(f'DROP TABLE IF EXISTS "{table}"')
            definition = ", ".join(f'"{c}" {_pg_type(t)}' for c, t in columns)
            target.execute(f'CREATE TABLE "{table}" ({definition})')
            names = ", ".join(f'"{c}"' for c, _ in columns)
            with (
                target.cursor() as cursor,
                cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy,
            ):
                for row in source.execute(f'SELECT * FROM "{table}"').fetchall():
                    copy.write_row(row)
            # Statistics now, not whenever autovacuum gets to it: planned as empty tables, a
            # role's semi-join filters ran into the statement timeout.
            target.execute(f'ANALYZE "{table}"')
    source.close()
    return tables
