"""Benchmark: how long `compile_query` takes per query (the README reports p50 / p95).

Run: python eval/bench_compile.py [--repeat N]
The query set spans simple lookups, trends, multi-fact joins, balances and comparisons.
"""

from __future__ import annotations

import argparse
import statistics
import time

from semantic_layer.compiler import compile_query
from semantic_layer.loader import load_model
from semantic_layer.query import SemanticQuery

YEAR = {"start": "2025-01-01", "end": "2026-01-01"}
QUERIES = [
    {"metrics": ["revenue"], "time_range": YEAR},
    {"metrics": ["revenue", "gross_margin"], "dimensions": ["region"], "time_range": YEAR},
    {
        "metrics": ["revenue"],
        "dimensions": ["metric_time:month"],
        "compare": "yoy",
        "time_range": YEAR,
    },
    {
        "metrics": ["revenue", "expenses", "operating_profit"],
        "dimensions": ["metric_time:month"],
        "time_range": YEAR,
    },
    {
        "metrics": ["ar_balance", "overdue_ratio", "dso"],
        "dimensions": ["metric_time:quarter"],
        "time_range": YEAR,
    },
    {
        "metrics": ["revenue", "revenue_attainment"],
        "dimensions": ["region", "product_line"],
        "compare": "budget",
        "time_range": YEAR,
    },
    {
        "metrics": ["revenue"],
        "dimensions": ["product"],
        "order_by": [{"field": "revenue"}],
        "limit": 5,
        "time_range": YEAR,
    },
    {"metrics": ["revenue"], "dimensions": ["channel"], "intent": "share", "time_range": YEAR},
    {
        "metrics": ["gross_margin"],
        "dimensions": ["customer"],
        "having": [{"metric": "gross_margin", "op": "<", "value": 0.2}],
        "time_range": YEAR,
    },
    {
        "metrics": ["net_cash_flow", "operating_cash_flow"],
        "dimensions": ["metric_time:month"],
        "compare": "mom",
        "time_range": YEAR,
    },
    {"metrics": ["inventory_value", "dio"], "dimensions": ["product_line"], "time_range": YEAR},
    {
        "metrics": ["collections", "collection_rate"],
        "dimensions": ["region"],
        "filters": [{"dimension": "industry", "op": "in", "values": ["制造业", "能源"]}],
        "compare": "previous_period",
        "time_range": YEAR,
    },
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    model = load_model()
    queries = [SemanticQuery.model_validate(q) for q in QUERIES]
    cold_started = time.perf_counter()
    for query in queries:
        compile_query(model, query)
    cold = (time.perf_counter() - cold_started) / len(queries)
    samples = []
    for _ in range(args.repeat):
        for query in queries:
            started = time.perf_counter()
            compile_query(model, query)
            samples.append(time.perf_counter() - started)
    samples.sort()
    p50 = statistics.median(samples) * 1000
    p95 = samples[int(len(samples) * 0.95)] * 1000
    print(f"compile_query: {len(queries)} queries × {args.repeat}")
    print(f"  first compile (cold caches): {cold * 1000:.2f} ms/query")
    print(f"  p50 {p50:.2f} ms   p95 {p95:.2f} ms   max {samples[-1] * 1000:.2f} ms")


if __name__ == "__main__":
    main()
