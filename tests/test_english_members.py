"""English pages and answers name members in English where the model does (`value_labels` or a
`value_label_en` column): East for 华东 — while the rows keep the data's own values."""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.ui_helpers import chips, table_frame
from semantic_layer.engine import DuckDBEngine


@pytest.fixture(scope="module")
def assistant(demo_db) -> Assistant:
    return Assistant.demo(database=demo_db)


@pytest.fixture(scope="module")
def english_names(demo_db) -> dict[str, str]:
    with DuckDBEngine(demo_db) as engine:  # the same settings as the assistant's handle
        return dict(engine.execute("SELECT region_name, region_name_en FROM regions").rows)


def test_an_english_answer_names_regions_in_english(assistant, english_names):
    answer = assistant.ask("gross margin by region in 2025")
    assert answer.status == "ok" and answer.lang == "en"
    stored = [row[0] for row in answer.rows]
    assert set(stored) == set(english_names)  # the rows keep the data's values
    frame = table_frame(answer, "en")
    assert list(frame.iloc[:, 0]) == [english_names[v] for v in stored]
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in answer.narrative)
    top = max(answer.rows, key=lambda r: r[1])[0]
    assert english_names[top] in answer.narrative
    bars = answer.chart["data"]["values"] if "data" in answer.chart else []
    assert not bars or {b.get("region") for b in bars} <= set(english_names.values())


def test_a_filter_reads_in_english_and_its_chip_can_be_removed(assistant, english_names):
    answer = assistant.ask("revenue of 华东 by channel in 2025", lang="en")
    assert answer.status == "ok"
    line = answer.restatement["en"]
    assert f"Region = {english_names['华东']}" in line and "华东" not in line
    assert "华东" in answer.restatement["zh"]
    filters = [c for c in chips(answer, assistant.model, "en") if c.kind == "filter"]
    assert [c.text for c in filters] == [f"Region = {english_names['华东']}"]
    chinese = assistant.ask("2025年华东各渠道的收入")
    assert [c.text for c in chips(chinese, assistant.model, "zh") if c.kind == "filter"] == [
        "区域 = 华东"
    ]
    # The same Chinese answer on an English page: its chips and table in English.
    assert [c.text for c in chips(chinese, assistant.model, "en") if c.kind == "filter"] == [
        f"Region = {english_names['华东']}"
    ]


def test_a_chinese_answer_keeps_chinese_names(assistant):
    answer = assistant.ask("2025年各区域的毛利率")
    frame = table_frame(answer, "zh")
    assert "华东" in list(frame.iloc[:, 0])
    assert "华东" in answer.narrative or "华北" in answer.narrative


def test_an_english_why_names_drivers_in_english(assistant, english_names):
    answer = assistant.ask("why did gross margin drop in march 2025")
    assert answer.status == "ok" and answer.lang == "en"
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in answer.narrative), answer.narrative
    assert english_names["华南"] in answer.narrative  # the slice behind the drop (see README)
    members = [row[1] for row in answer.rows]
    assert english_names["华南"] in members and "华南" not in members
    steps = [v["step"] for v in answer.chart["data"]["values"]]
    assert not any("\u4e00" <= ch <= "\u9fff" for step in steps for ch in str(step))
    chinese = assistant.ask("为什么2025年3月毛利率下降了")
    assert "华南" in chinese.narrative
