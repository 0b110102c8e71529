"""How data/ was made (run once by hand; the eval never runs this).

The jaffle-sl-template ships its raw CSVs from jafgen, dbt Labs' Jaffle Shop generator, but
its two large files (raw_orders, raw_items) could not be vendored. The same generator
(github.com/dbt-labs/jaffle-shop-generator, Apache-2.0, commit fd533ab — the last one whose
raw_items has the template's `id, order_id, sku` columns) was run for two years with fixed
seeds (numpy's, the random module's and a seeded uuid4), then sampled deterministically: every customer whose
md5(id) is divisible by 40, with all of their orders and items. Products, supplies and stores
are kept whole.

    python make_data.py /path/to/jaffle-shop-generator@fd533ab /tmp/out

needs numpy, Faker and rich.
"""

from __future__ import annotations

import csv
import hashlib
import os
import random
import sys
import uuid
from pathlib import Path

SEED = 20180901
YEARS = 2
KEEP_ONE_IN = 40
HERE = Path(__file__).parent


def _generate(generator: Path, out: Path) -> Path:
    sys.path.insert(0, str(generator))
    import numpy as np

    rng = random.Random(SEED)
    uuid.uuid4 = lambda: uuid.UUID(int=rng.getrandbits(128), version=4)  # deterministic ids
    np.random.seed(SEED)
    random.seed(SEED)  # the simulation also draws from the random module
    from jafgen.simulation import Simulation

    out.mkdir(parents=True, exist_ok=True)
    os.chdir(out)
    simulation = Simulation(YEARS, "raw")
    simulation.run_simulation()
    simulation.save_results()
    return out / "jaffle-data"


def _keep(customer_id: str) -> bool:
    return int(hashlib.md5(customer_id.encode()).hexdigest(), 16) % KEEP_ONE_IN == 0


def _copy(source: Path, name: str, keep=lambda row: True) -> set[str]:
    with open(source / name, newline="") as f:
        reader = csv.DictReader(f)
        rows = [r for r in reader if keep(r)]
        fields = reader.fieldnames or []
    with open(HERE / "data" / name, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return {r["id"] for r in rows if "id" in r}


def main() -> None:
    raw = _generate(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve())
    customers = _copy(raw, "raw_customers.csv", lambda r: _keep(r["id"]))
    orders = _copy(raw, "raw_orders.csv", lambda r: r["customer"] in customers)
    _copy(raw, "raw_items.csv", lambda r: r["order_id"] in orders)
    for name in ("raw_products.csv", "raw_stores.csv", "raw_supplies.csv"):
        _copy(raw, name)


if __name__ == "__main__":
    main()
