"""The code knows no company: the demo model's names live in its YAML, never in Python.

Reads every string the product code uses (not docstrings or comments: those may quote an
example) in `assistant/`, `app_pages/` and `app.py`, and fails on any that is one of the
demo's metric, dimension or table names, or that contains one of its labels, synonyms or
member names. A feature that needs such knowledge reads it from the model's `knowledge:`
section (or derives it) instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from semantic_layer.engine import DuckDBEngine
from semantic_layer.loader import load_model

ROOT = Path(__file__).resolve().parents[1]
CODE = sorted([*(ROOT / "assistant").rglob("*.py"), *(ROOT / "app_pages").glob("*.py")])
CODE.append(ROOT / "app.py")
# Words that are names in the demo but also plain vocabulary any model's UI uses.
GENERIC = {"时间", "期间", "金额", "数量", "日期", "月份", "类别", "类型", "状态", "名称"}
GENERIC |= {"预算完成率", "预算执行率"}  # budget attainment: the product's own wording
# Strings that are character tables, not words (traditional → simplified characters).
TABLES = {"assistant/understand/lexicon.py"}


def _strings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string constant that is not a docstring."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    ]


@pytest.fixture(scope="module")
def demo_words(demo_db) -> tuple[set[str], set[str]]:
    """(identifiers, words): the demo's names, and its labels, synonyms and members."""
    model = load_model()
    names = {t.name for t in model.tables} | set(model.metric_map) | set(model.dimension_map)
    names.discard("metric_time")  # the product's own name for "each metric's date"
    words: set[str] = set()
    for item in [*model.metrics, *model.dimensions]:
        words |= {item.label.zh, *item.synonyms}
    with DuckDBEngine(demo_db) as engine:
        for dim in model.dimensions:
            if dim.type == "category" and dim.table and dim.expr and dim.table != "calendar":
                rows = engine.execute(f"SELECT DISTINCT {dim.expr} FROM {dim.table}").rows
                words |= {str(r[0]) for r in rows if r[0] is not None}
    words = {w for w in words if len(w) >= 2 and not w.isascii() and w not in GENERIC}
    return names, words


def test_the_scan_reads_strings_and_would_catch_a_name(demo_words):
    names, words = demo_words
    assert {"revenue", "region", "orders"} <= names and {"华东", "毛利率"} <= words
    sample = ROOT / "assistant" / "api.py"
    assert any("内部错误" in text for _, text in _strings(sample))  # not empty, not docstrings


def test_no_demo_name_in_the_model_free_code(demo_words):
    names, words = demo_words
    found = []
    for path in CODE:
        for line, text in _strings(path):
            where = f"{path.relative_to(ROOT)}:{line}"
            if text in names:
                found.append(f"{where}: {text!r}")
            if str(path.relative_to(ROOT)) in TABLES and len(text) > 80 and " " not in text:
                continue
            found += [f"{where}: {word!r} in {text[:60]!r}" for word in words if word in text]
    assert not found, "\n".join(found)
