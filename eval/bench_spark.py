"""`python -m eval.bench_spark`: the eval set on Spark local against DuckDB, at several scales.

    python -m eval.bench_spark                       # scales 1 and 10, every question
    python -m eval.bench_spark --scales 1 --limit 40 --cores 2

For each scale the demo database is built in the cache (as `eval.bench` builds it), written
as Parquet folders (`cockpit demo --spark` writes the same), and every question of the eval
set — each turn of a conversation too — is asked once on DuckDB and once on a local Spark
session over those folders, each engine without a result cache so both do the real work. The
report gives the total and p50/p95 per question for each engine, and how many answers were
identical (status, columns and every value; numbers to 1e-9 relative).

Spark on one machine is slower than DuckDB: every statement is planned by the JVM and run as
tasks. The figures say how much, so that nobody mistakes the path to a cluster for a speed-up
on a laptop. Exit status: 0 done (even with differences, which are listed); 2 Spark cannot run.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from eval.bench import DEMO_AS_OF, _scales
from eval.items import QUESTIONS_DIR, load_items
from eval.runner import percentile


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float | Decimal) and isinstance(b, int | float | Decimal):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def _identical(a: Any, b: Any) -> bool:
    if (a.status, a.names, len(a.rows)) != (b.status, b.names, len(b.rows)):
        return False
    return all(
        all(_same(x, y) for x, y in zip(ra, rb, strict=True))
        for ra, rb in zip(a.rows, b.rows, strict=True)
    )


def measure_scale(scale: int, cache_dir: Path, cores: int, limit: int | None) -> dict[str, Any]:
    """Ask every question on both engines at one scale; timings in milliseconds."""
    from assistant import Assistant
    from assistant.settings import Settings
    from semantic_layer.demo import demo_database
    from semantic_layer.demo.spark import write_parquet
    from semantic_layer.engine import DuckDBEngine
    from semantic_layer.loader import load_model
    from semantic_layer.spark import SparkEngine, SparkTarget

    print(f"scale {scale}: the demo database …", file=sys.stderr, flush=True)
    database = demo_database(cache_dir, scale=scale)  # built in the cache when missing
    conversations = [[t.question for t in item.turns] for item in load_items(QUESTIONS_DIR)]
    if limit:
        conversations = conversations[:limit]
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Path(tmp) / "dw"
        started = time.perf_counter()
        write_parquet(database, warehouse)
        written = time.perf_counter() - started
        settings = Settings(cache_dir=Path(tmp) / "cache")
        model = load_model()
        duck = Assistant(model, DuckDBEngine(database, cache_size=0), DEMO_AS_OF, settings=settings)
        started = time.perf_counter()
        spark_engine = SparkEngine(
            SparkTarget(master=f"local[{cores}]", warehouse=str(warehouse)), cache_size=0
        )
        opened = time.perf_counter() - started
        spark = Assistant(model, spark_engine, DEMO_AS_OF, settings=settings)
        spark.ask("2025年收入")  # the JVM's first query compiles its code paths: not timed
        seconds: dict[str, list[float]] = {"duckdb": [], "spark": []}
        identical, different = 0, []
        for turns in conversations:
            by_engine = {"duckdb": duck.conversation(), "spark": spark.conversation()}
            for question in turns:
                answers = {}
                for name, conversation in by_engine.items():
                    started = time.perf_counter()
                    answers[name] = conversation.ask(question)
                    seconds[name].append(time.perf_counter() - started)
                if _identical(answers["duckdb"], answers["spark"]):
                    identical += 1
                else:
                    different.append(question)
        spark_engine.close()
    return {
        "scale": scale,
        "questions": len(seconds["duckdb"]),
        "identical": identical,
        "different": different,
        "parquet_s": written,
        "spark_start_s": opened,
        **{
            name: {
                "total_s": sum(values),
                "p50_ms": statistics.median(values) * 1000,
                "p95_ms": percentile([v * 1000 for v in values], 95),
            }
            for name, values in seconds.items()
        },
    }


def markdown(rows: list[dict[str, Any]], cores: int) -> str:
    lines = [
        f"Eval set on DuckDB and on Spark local[{cores}] ({date.today().isoformat()}), "
        "no result cache on either:",
        "",
        "| scale | questions | identical | DuckDB total | DuckDB p50 / p95 | Spark total "
        "| Spark p50 / p95 | Spark start | Parquet write |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        d, s = r["duckdb"], r["spark"]
        lines.append(
            f"| {r['scale']} | {r['questions']} | {r['identical']} | {d['total_s']:.1f} s "
            f"| {d['p50_ms']:.0f} / {d['p95_ms']:.0f} ms | {s['total_s']:.1f} s "
            f"| {s['p50_ms']:.0f} / {s['p95_ms']:.0f} ms | {r['spark_start_s']:.1f} s "
            f"| {r['parquet_s']:.1f} s |"
        )
    for r in rows:
        for question in r["different"]:
            lines.append(f"- scale {r['scale']}: different answer for {question!r}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_spark", description=__doc__)
    parser.add_argument("--scales", default="1,10", type=_scales, help="e.g. 1,10")
    parser.add_argument("--limit", type=int, default=None, help="at most N conversations")
    parser.add_argument("--cores", type=int, default=2, help="Spark local[N]")
    parser.add_argument("--cache-dir", type=Path, default=None, help="demo databases")
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = parser.parse_args(argv)
    from assistant.settings import Settings
    from semantic_layer.errors import ExecutionError

    cache_dir = args.cache_dir or Settings().cache_dir
    try:
        rows = [measure_scale(s, cache_dir, args.cores, args.limit) for s in args.scales]
    except ExecutionError as err:
        print(err.message("en"), file=sys.stderr)
        return 2
    text = markdown(rows, args.cores)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
