"""Every eval question's compiled query transpiles to Trino, Spark, ClickHouse and Snowflake.

The SQL per dialect is kept in golden files (tests/golden/<dialect>.json), generated with
`python -m pytest tests/test_dialects.py --update-golden` and reviewed as diffs, never edited.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import sqlglot

from assistant import Assistant
from assistant.settings import Settings
from eval.items import load_items
from semantic_layer.compiler import compile_query

DIALECTS = ["trino", "spark", "clickhouse", "snowflake"]
GOLDEN = Path(__file__).parent / "golden"
QUESTIONS = Path(__file__).resolve().parent.parent / "eval" / "questions"


@pytest.fixture(scope="module")
def compiled(demo_db, tmp_path_factory) -> dict[str, object]:
    settings = Settings(cache_dir=tmp_path_factory.mktemp("dialects"))
    assistant = Assistant.demo(database=demo_db, as_of=date(2025, 12, 31), settings=settings)
    out = {}
    for item in load_items(QUESTIONS):
        conversation = assistant.conversation()
        for index, turn in enumerate(item.turns):
            answer = conversation.ask(turn.question)
            if answer.status == "ok" and answer.query is not None:
                out[f"{item.id}#{index}"] = compile_query(assistant.model, answer.query)
    assert len(out) > 300
    return out


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_eval_query_transpiles(compiled, dialect, update_golden):
    rendered = {}
    for key, query in sorted(compiled.items()):
        text = query.to_sql(dialect, pretty=False)
        assert sqlglot.parse_one(text, read=dialect) is not None, (key, dialect)
        rendered[key] = text
    path = GOLDEN / f"{dialect}.json"
    if update_golden or not path.exists():
        path.write_text(
            json.dumps(rendered, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
            encoding="utf-8",
        )
    golden = json.loads(path.read_text(encoding="utf-8"))
    changed = [k for k in rendered if golden.get(k) != rendered[k]]
    assert not changed, (
        f"{len(changed)} queries changed for {dialect}, e.g. {changed[:3]}; "
        "review and run with --update-golden"
    )
