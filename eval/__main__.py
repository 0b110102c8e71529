"""`python -m eval`: ask every question of the set, score the answers, report.

    python -m eval                              # all questions, report in eval/report.md (+ .json)
    python -m eval --category rank --verbose    # one category, print each failure
    python -m eval --check                      # exit 1 below eval/threshold.yaml (CI)
    python -m eval --questions eval/external/jaffle_sl   # a set with its own model and data

Exit status: 0 done (and, with --check, thresholds met); 1 thresholds not met; 2 the run
could not start (no Assistant, bad question file, missing database).
"""

from __future__ import annotations

import argparse
import inspect
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from eval.gold import GoldDatabase
from eval.items import (
    CATEGORIES,
    LANGS,
    QUESTIONS_DIR,
    EvalSet,
    ItemError,
    load_items,
    load_set,
    select,
)
from eval.report import console_summary, failure_text, markdown
from eval.runner import check_thresholds, run_items, summarize, to_json

EVAL_DIR = Path(__file__).parent
THRESHOLD_FILE = EVAL_DIR / "threshold.yaml"
DEFAULT_REPORT = EVAL_DIR / "report.md"
DEMO_AS_OF = date(2025, 12, 31)  # the question set's relative dates assume this "today"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m eval", description="Accuracy and latency of Cockpit on the question set."
    )
    parser.add_argument("--questions", type=Path, default=QUESTIONS_DIR, help="question folder")
    parser.add_argument(
        "--database",
        type=Path,
        default=None,
        help="DuckDB file (default: the demo cache; for a set with set.yaml, built into the cache)",
    )
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT, help="Markdown report")
    parser.add_argument("--category", choices=CATEGORIES, help="only this category")
    parser.add_argument("--lang", choices=LANGS, help="only this language")
    parser.add_argument("--limit", type=int, default=None, help="at most N items")
    parser.add_argument("--verbose", action="store_true", help="print each failure")
    parser.add_argument("--check", action="store_true", help=f"exit 1 below {THRESHOLD_FILE.name}")
    parser.add_argument(
        "--backend",
        choices=["rules", "llm"],
        default="rules",
        help="rules: offline rules only (default); llm: rules then the configured LLM endpoint",
    )
    return parser.parse_args(argv)


def _database(explicit: Path | None, eval_set: EvalSet | None = None) -> Path:
    if explicit is not None:
        return explicit
    from assistant.settings import Settings

    if eval_set is not None:
        return set_database(eval_set, Path(Settings().cache_dir))
    from semantic_layer.demo import demo_database

    return demo_database(Settings().cache_dir)


def set_database(eval_set: EvalSet, cache_dir: Path) -> Path:
    """Build the set's database afresh in the cache (a few seconds at most; never committed)."""
    return eval_set.build(cache_dir / "eval-external" / f"{eval_set.name}.duckdb")


def _assistant(database: Path, backend: str = "rules", eval_set: EvalSet | None = None) -> Any:
    from assistant import Assistant
    from assistant.settings import Settings

    settings = Settings()
    if backend == "rules":
        settings = settings.model_copy(update={"llm_model": None})  # never call an endpoint
    elif not settings.llm_configured:
        raise RuntimeError(
            "--backend llm needs OPENAI_API_KEY / OPENAI_BASE_URL and COCKPIT_LLM_MODEL"
        )
    if eval_set is not None:
        return Assistant.open(
            model=eval_set.model, database=database, as_of=eval_set.as_of, settings=settings
        )
    parameters = inspect.signature(Assistant.demo).parameters
    if "as_of" in parameters:
        return Assistant.demo(database=database, as_of=DEMO_AS_OF, settings=settings)
    return Assistant.demo(database=database)


def _metric_names(eval_set: EvalSet | None = None) -> list[str]:
    from semantic_layer.loader import load_model

    model = load_model(eval_set.model) if eval_set is not None else load_model()
    return [m.name for m in model.metrics]


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        eval_set = load_set(args.questions)
        folder = eval_set.questions if eval_set is not None else args.questions
        items = select(load_items(folder), args.category, args.lang, args.limit)
    except (ItemError, OSError, yaml.YAMLError) as err:
        print(f"cannot read the questions: {err}", file=sys.stderr)
        return 2
    if not items:
        print("no questions match the filter", file=sys.stderr)
        return 2
    threshold = yaml.safe_load(THRESHOLD_FILE.read_text(encoding="utf-8")) if args.check else {}
    if args.check and eval_set is not None and eval_set.threshold is not None:
        threshold = eval_set.threshold  # an external set holds its own bar
    try:
        database = _database(args.database, eval_set)
        gold_db = GoldDatabase(database)
    except Exception as err:
        print(f"cannot open the database: {err}", file=sys.stderr)
        return 2
    try:
        assistant = _assistant(database, args.backend, eval_set)
    except Exception as err:
        print(f"cannot start the Assistant: {type(err).__name__}: {err}", file=sys.stderr)
        return 2

    def progress(_item: Any, result: Any) -> None:
        if args.verbose and not result.passed:
            print(failure_text(result), flush=True)

    started = datetime.now().isoformat(timespec="seconds")
    with gold_db:
        results = run_items(items, assistant, gold_db, _metric_names(eval_set), on_result=progress)
    summary = summarize(results)
    filters = [
        f"{k}={v}"
        for k, v in (("category", args.category), ("lang", args.lang), ("limit", args.limit))
        if v is not None
    ]
    meta = {
        "started": started,
        "database": str(database),
        "questions": str(args.questions),
        "model": str(eval_set.model) if eval_set is not None else "demo",
        "as_of": (eval_set.as_of if eval_set is not None else DEMO_AS_OF).isoformat(),
        "filter": ", ".join(filters),
    }
    print(console_summary(summary))
    report = args.report
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(markdown(summary, results, meta), encoding="utf-8")
    report.with_suffix(".json").write_text(to_json(summary, results, meta), encoding="utf-8")
    print(f"report: {report} (+ {report.with_suffix('.json').name})")
    if args.check:
        problems = check_thresholds(summary, threshold)
        for problem in problems:
            print(f"FAIL: {problem}", file=sys.stderr)
        if problems:
            return 1
        print("thresholds met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
