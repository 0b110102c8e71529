"""Time the demo data generator: ``python eval/bench_generate.py [--scale N] [--seed S]``.

Prints the wall-clock seconds of one ``generate`` call, so regressions in the scale-1 build
time (budget: well under 30 s on two cores) are easy to spot.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from semantic_layer.demo.generate import generate


def main(argv: list[str] | None = None) -> float:
    """Generate once into a temporary directory and print the elapsed seconds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        path = generate(Path(tmp) / "demo.duckdb", scale=args.scale, seed=args.seed)
        elapsed = time.perf_counter() - start
        size_mb = path.stat().st_size / 1e6
    print(f"scale={args.scale} seed={args.seed}: {elapsed:.2f} s ({size_mb:.1f} MB)")
    return elapsed


if __name__ == "__main__":
    main()
