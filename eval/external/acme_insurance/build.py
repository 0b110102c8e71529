"""Build the ACME insurance database from data/: each dbt model of dbt/models/omg_models/ as a table.

Upstream loads the CSVs with `dbt seed` into a schema `dbt_cdw_benchmark__seed` and every model
selects its columns from one seed table. Here each CSV is read into a temporary table named as
dbt names the seed (the file name, lower case) and each model's own SQL, with that schema
prefix dropped, creates the table the semantic models `ref()`. Column names keep the CSVs'
case, as they come out of `dbt seed`.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

HERE = Path(__file__).parent
DATA = HERE / "data"
MODELS = HERE / "dbt" / "models" / "omg_models"
SEED_SCHEMA = re.compile(r"\bdbt_cdw_benchmark__seed\.", re.IGNORECASE)


def build(path: str | Path) -> Path:
    """Write the database to `path` (replacing it) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        for csv in sorted(DATA.glob("*.csv")):
            seed = csv.stem.lower()
            con.execute(
                f'CREATE TEMP TABLE "{seed}" AS SELECT * FROM read_csv(?, header = true)',
                [str(csv)],
            )
        for sql in sorted(MODELS.glob("*.sql")):
            select = SEED_SCHEMA.sub("", sql.read_text(encoding="utf-8"))
            con.execute(f'CREATE TABLE "{sql.stem}" AS {select}')
    return path
