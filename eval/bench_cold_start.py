"""Benchmark: the CLI's cold start (the README reports the medians).

Run: python -m eval.bench_cold_start [--runs N] [--db demo.duckdb] [--question "…"]

Each run is a fresh Python process, as a user's shell starts one:

- `import assistant.cli`: the time the import itself takes, measured inside the process;
- first answer: from starting `python -m assistant.cli ask QUESTION` to the first line it
  prints (the 口径 line, before the table), measured from outside;
- whole command: from the start to the process's exit.

Prints the median and the minimum of each over the runs (the minimum is the machine without
its neighbours; the median what a user sees). `python -X importtime -m assistant.cli ask …`
shows what is imported on the way.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

QUESTION = "2025年各区域的毛利率"
IMPORT = (
    "import time; t = time.perf_counter(); import assistant.cli; print(time.perf_counter() - t)"
)


def time_import() -> float:
    """Seconds `import assistant.cli` takes in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", IMPORT], capture_output=True, text=True, check=True
    ).stdout
    return float(out.strip().splitlines()[-1])


def time_answer(question: str, db: Path | None) -> tuple[float, float]:
    """(start → first line printed, start → exit) of `cockpit ask QUESTION`, in seconds."""
    command = [sys.executable, "-m", "assistant.cli", "ask", question]
    if db is not None:
        command += ["--db", str(db)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    first_line = time.perf_counter() - started
    _, errors = process.communicate()
    total = time.perf_counter() - started
    if process.returncode != 0 or not first.strip():
        raise SystemExit(f"cockpit ask failed ({process.returncode}): {first}{errors}")
    return first_line, total


def _row(name: str, values: list[float]) -> str:
    return f"{name:<28} median {statistics.median(values):6.2f} s   min {min(values):6.2f} s"


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per measure")
    parser.add_argument("--db", type=Path, default=None, help="DuckDB file (default: the demo)")
    parser.add_argument("--question", default=QUESTION)
    args = parser.parse_args(argv)
    time_answer(args.question, args.db)  # warm the OS file cache and the demo database
    imports, firsts, totals = [], [], []
    for _ in range(args.runs):
        imports.append(time_import())
        first, total = time_answer(args.question, args.db)
        firsts.append(first)
        totals.append(total)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"cold start over {args.runs} fresh processes ({os.cpu_count()} CPUs, load {load:.1f})")
    print(_row("import assistant.cli", imports))
    print(_row("start → first answer line", firsts))
    print(_row("start → exit", totals))


if __name__ == "__main__":
    main()
