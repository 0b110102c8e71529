"""The `cockpit` command, the read-only engine, settings and model checks, on real data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.settings import Settings
from semantic_layer.check import check_model
from semantic_layer.compiler import compile_query
from semantic_layer.engine import DuckDBEngine
from semantic_layer.errors import ExecutionError
from semantic_layer.loader import DEMO_MODEL, load_model
from semantic_layer.query import SemanticQuery

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env)


def test_query_prints_a_table_with_labels_and_values(demo_db):
    result = run(
        "query",
        "-m",
        "revenue",
        "-b",
        "region",
        "--from",
        "2025-01-01",
        "--to",
        "2026-01-01",
        "--db",
        str(demo_db),
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    with DuckDBEngine(demo_db) as con:  # same settings as any other open handle on the file
        expected = dict(
            con.execute(
                "SELECT r.region_name, SUM(l.amount)"
                " FROM order_lines l JOIN orders o USING (order_id)"
                " JOIN regions r ON r.region_id = o.region_id WHERE o.status = '已完成'"
                " AND o.order_date >= DATE '2025-01-01' AND o.order_date < DATE '2026-01-01'"
                " GROUP BY 1"
            ).rows
        )
    assert {r["region"]: float(r["revenue"]) for r in rows} == pytest.approx(
        {k: float(v) for k, v in expected.items()}
    )
    assert len(rows) == 7
    table = run("query", "-m", "revenue", "-b", "region", "--db", str(demo_db))
    assert table.exit_code == 0 and "营业收入" in table.output and "华东" in table.output
    english = run("query", "-m", "revenue", "--db", str(demo_db), "--lang", "en")
    assert "Revenue" in english.output


def test_query_errors_are_messages_not_tracebacks(demo_db):
    unknown = run("query", "-m", "revenu", "--db", str(demo_db))
    assert unknown.exit_code == 1
    assert "未知指标：revenu" in unknown.output and "revenue" in unknown.output
    assert "Traceback" not in unknown.output
    english = run("query", "-m", "revenu", "--db", str(demo_db), "--lang", "en")
    assert "Unknown metric: revenu" in english.output
    impossible = run("query", "-m", "revenue", "-b", "department", "--db", str(demo_db))
    assert impossible.exit_code == 1
    assert "无法按「部门」分析" in impossible.output and "费用" in impossible.output
    bad_json = run("query", "--json", '{"metrics": []}', "--db", str(demo_db))
    assert bad_json.exit_code == 1 and "查询无效" in bad_json.output
    missing_db = run("query", "-m", "revenue", "--db", "/nonexistent/x.duckdb")
    assert missing_db.exit_code == 1 and "找不到数据库文件" in missing_db.output


def test_sql_only_in_other_dialects(demo_db):
    result = run("query", "-m", "revenue", "-b", "metric_time:month", "--sql", "--dialect", "spark")
    assert result.exit_code == 0
    assert "TRUNC(" in result.output and "SELECT" in result.output


def test_metrics_lists_definitions():
    result = run("metrics")
    assert result.exit_code == 0
    assert "gross_margin" in result.output and "毛利 ÷ 营业收入" in result.output


def test_demo_command_writes_a_database(tmp_path):
    out = tmp_path / "tiny.duckdb"
    result = run("demo", "--out", str(out), "--scale", "1", "--seed", "7")
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(out), read_only=True) as con:
        assert con.execute("SELECT COUNT(*) FROM customers").fetchall()[0][0] == 800


def test_check_passes_on_the_demo_and_reports_bad_columns_with_lines(demo_db, tmp_path):
    ok = run("check", str(DEMO_MODEL), "--db", str(demo_db))
    assert ok.exit_code == 0 and "模型检查通过" in ok.output
    text = DEMO_MODEL.read_text(encoding="utf-8").replace("expr: cost_amount", "expr: cost_amt")
    broken = tmp_path / "model.yaml"
    broken.write_text(text, encoding="utf-8")
    with DuckDBEngine(demo_db) as engine:
        _, issues = check_model(broken, engine)
    bad = [i for i in issues if i.code == "unknown_column"]
    assert len(bad) == 1
    assert bad[0].line == text.splitlines().index("    expr: cost_amt") + 1
    assert "cost_amount" in bad[0].suggestions
    result = run("check", str(broken), "--db", str(demo_db), "--lang", "en")
    assert result.exit_code == 1
    assert "Table order_lines has no column cost_amt" in result.output
    assert f"{broken}:{bad[0].line}" in result.output


def test_check_reports_malformed_yaml_in_both_languages(tmp_path):
    broken = tmp_path / "bad.yaml"
    broken.write_text("name: x\nmetrics:\n  - name: [oops\n", encoding="utf-8")
    zh = run("check", str(broken))
    en = run("check", str(broken), "--lang", "en")
    assert zh.exit_code == en.exit_code == 1
    assert "YAML 语法错误" in zh.output and "YAML syntax error" in en.output


def test_engine_is_read_only_and_data_unchanged(demo_db, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, copy)
    with DuckDBEngine(copy) as engine:
        before = engine.execute("SELECT COUNT(*) FROM orders").scalar()
        for statement in (
            "DELETE FROM orders",
            "DROP TABLE orders",
            "CREATE TABLE x AS SELECT 1",
            "COPY orders TO '/tmp/leak.csv'",
            "SELECT * FROM read_csv_auto('/etc/passwd')",
        ):
            with pytest.raises(ExecutionError) as caught:
                engine.execute(statement)
            assert "数据库执行出错" in caught.value.message("zh")
        assert engine.execute("SELECT COUNT(*) FROM orders").scalar() == before
    assert not Path("/tmp/leak.csv").exists()


def test_engine_returns_typed_columns(demo_db):
    model = load_model()
    query = SemanticQuery(metrics=["revenue", "order_count"], dimensions=["metric_time:month"])
    with DuckDBEngine(demo_db) as engine:
        result = engine.execute(compile_query(model, query).ast)
    types = {c.name: c.type for c in result.columns}
    assert types["metric_time__month"] == "DATE"
    assert types["order_count"] == "BIGINT"
    assert types["revenue"].startswith("DECIMAL")
    assert len(result.rows) == 36  # 2023-01 … 2025-12


def test_settings_precedence(tmp_path, monkeypatch):
    config = tmp_path / "cockpit.toml"
    config.write_text('as_of = "2024-06-30"\nlang = "en"\ndatabase = "/from/file.duckdb"\n')
    monkeypatch.setenv("COCKPIT_CONFIG", str(config))
    monkeypatch.delenv("COCKPIT_DATABASE", raising=False)
    monkeypatch.delenv("COCKPIT_LANG", raising=False)
    from_file = Settings()
    assert str(from_file.as_of) == "2024-06-30" and from_file.lang == "en"
    monkeypatch.setenv("COCKPIT_DATABASE", "/from/env.duckdb")
    assert str(Settings().database) == "/from/env.duckdb"
    assert str(Settings(database="/from/arg.duckdb").database) == "/from/arg.duckdb"
    monkeypatch.delenv("COCKPIT_CONFIG")
    monkeypatch.chdir(tmp_path / "..")
    defaults = Settings()
    assert defaults.resolved_as_of(load_model().as_of).isoformat() == "2025-12-31"


def test_demo_database_is_built_once_in_the_cache(tmp_path):
    settings = Settings(cache_dir=tmp_path / "cache")
    first = settings.database_path()
    built = first.stat().st_mtime_ns
    assert first.parent == tmp_path / "cache" and first.suffix == ".duckdb"
    second = Settings(cache_dir=tmp_path / "cache").database_path()
    assert second == first and second.stat().st_mtime_ns == built
    with DuckDBEngine(first) as engine:
        assert engine.execute("SELECT COUNT(*) FROM regions").scalar() == 7
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # no temp files left


def test_check_finds_orphans_behind_a_required_join(demo_db, tmp_path):
    copy = tmp_path / "orphans.duckdb"
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{demo_db}' AS src (READ_ONLY)")
        con.execute(f"ATTACH '{copy}' AS dst")
        con.execute("COPY FROM DATABASE src TO dst")
        con.execute(
            "DELETE FROM dst.products WHERE product_id = (SELECT MIN(product_id) FROM dst.products)"
        )
    with DuckDBEngine(copy) as engine:
        _, issues = check_model(DEMO_MODEL, engine)
    orphans = [i for i in issues if i.code == "join_orphans"]
    assert orphans and orphans[0].params["to"] == "products" and orphans[0].line
    assert "required" in orphans[0].message("en") and "找不到" in orphans[0].message("zh")


def test_ask_answers_in_the_language_asked_for(demo_db, monkeypatch):
    """`--lang en` (or COCKPIT_LANG=en) answers a Chinese question in English — the same
    number; with neither, each answer follows its question's language."""
    monkeypatch.delenv("COCKPIT_LANG", raising=False)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    base = ["--db", str(demo_db), "--as-of", "2025-12-31", "--json"]
    chinese = json.loads(run("ask", "今年收入多少", *base).output)
    assert chinese["lang"] == "zh" and "营业收入" in chinese["narrative"]
    by_option = json.loads(run("ask", "今年收入多少", *base, "--lang", "en").output)
    by_env = json.loads(run("ask", "今年收入多少", *base, env={"COCKPIT_LANG": "en"}).output)
    for english in (by_option, by_env):
        assert english["lang"] == "en" and "Revenue" in english["narrative"]
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in english["narrative"])
        assert english["rows"] == chinese["rows"]
    assert json.loads(run("ask", "revenue this year", *base).output)["lang"] == "en"
    bad = run("ask", "今年收入多少", *base, "--lang", "fr")
    assert bad.exit_code == 2 and "zh" in bad.output and "en" in bad.output


def test_ask_prints_the_table_as_people_read_it(demo_db):
    """Periods by name, money in ¥ and 万 (one scale per column), month × member as a pivot —
    the same figures as the JSON answer."""
    base = ["--db", str(demo_db), "--as-of", "2025-12-31"]
    quarters = json.loads(run("ask", "今年各季度收入", *base, "--json").output)["rows"]
    text = run("ask", "今年各季度收入", *base).output
    assert "2025-10-01" not in text and "2025年Q4" in text
    q4 = float(quarters[-1][1])
    assert f"¥{q4 / 1e4:,.2f}万" in text
    pivot = run("ask", "2025年各月各区域收入", *base).output.splitlines()
    header = next(line for line in pivot if line.startswith("时间"))
    assert header.split()[1:] and all(name in header for name in ("华东", "西北"))
    assert sum(line.startswith("2025年") and "月" in line.split()[0] for line in pivot) == 12
