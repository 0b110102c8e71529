"""The evaluation harness: a question set with gold answers, and the runner (`python -m eval`).

Accuracy by category and language, refusals that must never show a number, and latency per
pipeline stage. Benchmarks of single stages live next to it (bench_compile.py, bench_generate.py).
"""
