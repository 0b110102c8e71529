"""Every answer restates what it computed in one line a person can check (zh and en), built
from the query itself; the CLI prints it first."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from assistant import Assistant
from assistant.cli import app
from assistant.settings import Settings
from semantic_layer.engine import DuckDBEngine
from semantic_layer.loader import load_model


@pytest.fixture(scope="module")
def assistant(demo_db, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return Assistant(load_model(), DuckDBEngine(demo_db), settings=Settings(cache_dir=cache))


@pytest.mark.parametrize(
    ("question", "zh", "en"),
    [
        (
            "华东今年每月的收入",
            "营业收入 · 区域 = 华东 · 今年 · 按月",
            "Revenue · Region = East · this year · by month",
        ),
        ("2025年收入前5的客户", "营业收入 · 2025年 · 按客户 · 前5", "by customer · top 5"),
        ("今年电商渠道收入同比", "营业收入 · 渠道 = 电商 · 今年 · 同比", "vs a year earlier"),
    ],
)
def test_the_restatement_says_what_was_computed(assistant, question, zh, en):
    answer = assistant.ask(question)
    assert answer.status == "ok", answer.message
    assert answer.restatement["zh"] == zh
    assert en in answer.restatement["en"]
    assert answer.to_dict()["restatement"] == answer.restatement


def test_a_follow_up_restates_its_new_filter_and_says_what_it_kept(assistant):
    conversation = assistant.conversation()
    conversation.ask("华东今年的收入")
    answer = conversation.ask("那华南呢")
    # The number comes with last year's beside it, and the line says so.
    assert answer.restatement["zh"] == "营业收入 · 区域 = 华南 · 今年 · 对比上年同期"
    assert any("沿用上一问" in note and "今年" in note for note in answer.notes)


def test_the_cli_prints_the_restatement_first(demo_db, tmp_path):
    result = CliRunner().invoke(
        app,
        ["ask", "华东今年每月的收入", "--db", str(demo_db)],
        env={"COCKPIT_CACHE_DIR": str(tmp_path)},
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "口径：营业收入 · 区域 = 华东 · 今年 · 按月"
