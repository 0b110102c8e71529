"""The benchmark harness (`python -m eval.bench`): a smoke run on five questions at scale 1.

Only the report's shape and arithmetic are checked — never how fast anything was.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from eval import bench
from semantic_layer.demo import DEMO_SEED, DEMO_VERSION

STAGES = ("understand", "compile", "execute", "present")


@pytest.fixture(scope="module")
def report(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """One run of the harness on a cache directory that already holds the scale-1 demo."""
    cache = tmp_path_factory.mktemp("cache")
    shutil.copy(demo_db, cache / f"demo-v{DEMO_VERSION}-scale1-seed{DEMO_SEED}.duckdb")
    out = tmp_path_factory.mktemp("bench_report")
    argv = ["--scales", "1", "--limit", "5", "--repeat", "2"]
    code = bench.main([*argv, "--out", str(out), "--cache-dir", str(cache)])
    assert code == 0
    return json.loads((out / "report.json").read_text(encoding="utf-8")), out


def test_report_has_every_stage_and_the_floor(report: tuple[dict, Path]) -> None:
    data, out = report
    assert data["meta"]["repeat"] == 2
    [scale] = data["scales"]
    assert scale["scale"] == 1
    assert scale["questions"] == 5
    assert scale["size_mb"] > 0 and scale["peak_rss_mb"] > 0
    assert scale["generation"] is None  # cached, and --regenerate was not asked for
    latency = scale["latency_ms"]
    names = (*STAGES, "end_to_end", "end_to_end_with_gold", "gold", "compiled_sql", "asked_again")
    for name in names:
        assert latency[name]["n"] > 0, name
        assert latency[name]["p50"] <= latency[name]["p95"], name
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "## Scale 1" in markdown and "| end_to_end |" in markdown


def test_ratios_and_target_are_computed_from_the_medians(report: tuple[dict, Path]) -> None:
    [scale] = report[0]["scales"]
    paired = [t for t in scale["turns"] if t["ratio"] is not None]
    assert len(paired) == scale["with_gold"] > 0
    for t in paired:
        assert t["sql"] and t["gold_sql"]
        assert t["ratio"] == pytest.approx(t["end_to_end_ms"] / t["gold_ms"], rel=1e-2)
        assert t["overhead_ms"] == pytest.approx(t["end_to_end_ms"] - t["gold_ms"], abs=1e-2)
        assert set(STAGES) <= set(t["stages_ms"])
    target = scale["target"]
    met = [t for t in paired if t["end_to_end_ms"] <= 1.2 * t["gold_ms"] + 20]
    assert target["met"] == len(met) and target["total"] == len(paired)
    assert scale["asked_again_under_20ms"]["total"] == scale["answered"]
    assert [w["id"] for w in scale["worst"]] == [
        t["id"] for t in sorted(paired, key=lambda t: t["ratio"], reverse=True)[:10]
    ]


def _turn(id_: str, ours: float, gold: float, compiled: float) -> dict:
    return {
        "id": id_,
        "question": id_,
        "passed": True,
        "error": None,
        "first_ms": ours,
        "end_to_end_ms": ours,
        "cached_ms": 1.0,
        "stages_ms": {"execute": compiled + 1},
        "gold_ms": gold,
        "compiled_ms": compiled,
        "ratio": ours / gold,
        "overhead_ms": ours - gold,
        "compiled_ratio": compiled / gold,
        "gold_best_ms": gold,
        "compiled_best_ms": compiled,
        "rows": 1,
        "sql": f"-- ours {id_}",
        "gold_sql": f"-- gold {id_}",
    }


def test_slow_compiled_queries_and_growth(tmp_path: Path) -> None:
    database = tmp_path / "demo.duckdb"
    database.write_bytes(b"x" * 100_000)
    turns = [_turn("fast", 10, 5, 5), _turn("slow", 100, 10, 40), _turn("edge", 30, 10, 15)]
    measured = {"startup_s": 1, "peak_rss_after_start_mb": 1, "peak_rss_mb": 2, "turns": turns}
    small = bench.summarize_scale(1, database, {"seconds": 1.0}, measured)
    assert [t["id"] for t in small["slow_compiled"]] == ["slow"]  # 15 ms is not > 1.5 × 10 ms
    assert small["target"]["met"] == 2  # 100 ms > 1.2 × 10 + 20
    assert small["worst"][0]["id"] == "slow"
    big_file = tmp_path / "big.duckdb"
    big_file.write_bytes(b"x" * 1_000_000)
    big = bench.summarize_scale(10, big_file, {"seconds": 9.0}, measured)
    [step] = bench.growth([small, big])
    assert step["scale_ratio"] == 10 and step["size_ratio"] == 10 and step["seconds_ratio"] == 9
    assert "Growth between scales" in bench.markdown(
        {
            "meta": {
                "started": "now",
                "machine": "test",
                "code": "test",
                "questions": "q",
                "limit": None,
                "repeat": 1,
                "load_start": "0",
                "load_end": "0",
            },
            "scales": [small, big],
            "growth": [step],
        }
    )


@pytest.mark.parametrize(
    "question, gold, moved",
    [
        (
            "今年订单数",
            "SELECT COUNT(DISTINCT order_id) AS order_count FROM order_lines l JOIN orders o"
            " USING (order_id) WHERE o.status = '已完成' AND year(o.order_date) = 2025",
            "year(o.order_date) = 2024",
        ),
        (
            "2025年3月的毛利率",
            "SELECT (SUM(l.amount) - SUM(l.cost_amount)) / SUM(l.amount) AS gross_margin"
            " FROM order_lines l JOIN orders o USING (order_id) WHERE o.status = '已完成'"
            " AND year(o.order_date) = 2025 AND month(o.order_date) = 3",
            "month(o.order_date) = 2",
        ),
        (
            "最近三个月回款了多少",
            "SELECT SUM(amount) AS collections FROM receipts"
            " WHERE receipt_date >= DATE '2025-10-01' AND receipt_date < DATE '2026-01-01'",
            "DATE '2025-07-01'",
        ),
    ],
)
def test_the_floor_of_a_number_with_the_period_before_is_the_gold_for_both(
    demo_db: Path, question: str, gold: str, moved: str
) -> None:
    """A single number comes with the period before (issue 17): its floor adds the gold moved
    to that period — accepted only because it returns the very value the answer shows."""
    from assistant import Assistant

    assistant = Assistant.demo(database=demo_db)
    answer = assistant.ask(question)
    timing = bench.TurnTiming(id="x", category="", lang="zh", question=question, expect="ok")
    timing.gold_sql, timing.sql = gold, answer.sql
    floor = bench.Floor(demo_db)
    try:
        context = bench._context_gold(answer, timing, floor)
        assert context is not None and moved in context
        # A gold that does not return the value shown is not accepted (the gold alone counts).
        timing.gold_sql = gold.replace("SELECT ", "SELECT 2 * ", 1)
        assert bench._context_gold(answer, timing, floor) is None
    finally:
        floor.close()
