"""Loading and validating semantic models: every problem at once, with file:line, in zh and en."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from semantic_layer.errors import MESSAGES, ModelError
from semantic_layer.loader import DEMO_MODEL, load_model, read_model

CONTRACT_METRICS = {
    "revenue",
    "cogs",
    "gross_profit",
    "gross_margin",
    "order_count",
    "avg_order_value",
    "units_sold",
    "avg_discount_rate",
    "active_customers",
    "invoiced_amount",
    "collections",
    "collection_rate",
    "ar_balance",
    "overdue_ar",
    "overdue_over_90",
    "overdue_ratio",
    "dso",
    "expenses",
    "expense_ratio",
    "operating_profit",
    "operating_margin",
    "revenue_budget",
    "revenue_attainment",
    "expense_budget",
    "expense_budget_usage",
    "purchase_amount",
    "inventory_value",
    "dio",
    "cash_inflow",
    "cash_outflow",
    "net_cash_flow",
    "operating_cash_flow",
}

BASE = """\
name: tiny
tables:
  - {name: sales, primary_key: [id], time_column: sold_on}
  - {name: shops, primary_key: [shop_id]}
joins:
  - {from: sales, to: shops, on: shop_id}
dimensions:
  - {name: shop, table: shops, expr: shop_name, label: {zh: 门店, en: Shop}}
metrics:
  - name: sales_amount
    label: {zh: 销售额, en: Sales}
    table: sales
    agg: sum
    expr: amount
    time: sold_on
"""


def write(tmp_path: Path, text: str, name: str = "model.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def codes(issues) -> list[str]:
    return [i.code for i in issues if i.severity == "error"]


def test_demo_model_loads_cleanly_with_every_contract_metric():
    model, issues = read_model(DEMO_MODEL)
    assert model is not None
    assert codes(issues) == []
    assert set(model.metric_map) >= CONTRACT_METRICS
    for metric in model.metrics:
        assert metric.label.zh and metric.label.en
        assert metric.description is not None, metric.name
        assert metric.synonyms, metric.name
    assert model.dimension("customer").parent == "region"
    assert model.dimension("product").parent == "product_line"


def test_demo_model_has_hierarchies_and_time_grains():
    model = load_model()
    assert {g.value for g in model.dimension("metric_time").grains} == {
        "day",
        "week",
        "month",
        "quarter",
        "year",
    }


def test_small_valid_model(tmp_path):
    model, issues = read_model(write(tmp_path, BASE))
    assert model is not None and codes(issues) == []


def test_malformed_yaml_reports_line_in_both_languages(tmp_path):
    path = write(tmp_path, BASE + "  - name: broken\n    label: {zh: 坏, en: [unclosed\n")
    model, issues = read_model(path)
    assert model is None
    assert codes(issues) == ["yaml_syntax"]
    assert issues[0].line is not None and issues[0].line >= 16
    assert "YAML 语法错误" in issues[0].message("zh")
    assert "YAML syntax error" in issues[0].message("en")
    assert f"{path}:{issues[0].line}" in issues[0].message("en")


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError) as caught:
        load_model(tmp_path / "nope.yaml")
    assert "找不到模型文件" in caught.value.message("zh")
    assert "Model file not found" in caught.value.message("en")


def test_every_problem_is_reported_at_once_with_lines_and_suggestions(tmp_path):
    text = (
        BASE
        + """\
  - name: sales_amount
    label: {zh: 重复, en: Dup}
    table: sales
    agg: sum
    expr: amount
    time: sold_on
  - name: margin
    label: {zh: 利润率, en: Margin}
    kind: derived
    expr: profitt / sales_amountt
  - name: bad_table
    label: {zh: 坏表, en: Bad table}
    table: salez
    agg: sum
    expr: amount
    time: sold_on
  - name: no_agg
    label: {zh: 缺聚合, en: No agg}
    table: sales
    expr: amount
    time: sold_on
  - name: a_loop
    label: {zh: 环A, en: Loop A}
    kind: derived
    expr: b_loop + 1
  - name: b_loop
    label: {zh: 环B, en: Loop B}
    kind: derived
    expr: a_loop * 2
  - name: clash
    label: {zh: 冲突, en: Clash}
    synonyms: [销售额]
    table: sales
    agg: count
    expr: id
    time: sold_on
"""
    )
    text = text.replace(
        "{from: sales, to: shops, on: shop_id}", "{from: sales, to: shopz, on: shop_id}"
    )
    path = write(tmp_path, text)
    model, issues = read_model(path)
    found = codes(issues)
    assert found.count("duplicate_name") == 1
    assert found.count("unknown_metric_ref") == 2
    assert "metric_cycle" in found
    assert "synonym_collision" in found
    assert "schema" in found  # the metric without `agg`
    unknown_tables = [i for i in issues if i.code == "unknown_table"]
    assert {i.params["name"] for i in unknown_tables} >= {"salez", "shopz"}
    salez = next(i for i in unknown_tables if i.params["name"] == "salez")
    assert "sales" in salez.suggestions
    assert salez.line == text.splitlines().index("    table: salez") + 1
    ref = next(
        i for i in issues if i.code == "unknown_metric_ref" and i.params["name"] == "sales_amountt"
    )
    assert ref.suggestions[0] == "sales_amount"
    assert "你是不是想用" in ref.message("zh") and "did you mean" in ref.message("en")
    with pytest.raises(ModelError) as caught:
        load_model(path)
    assert len(caught.value.issues) == len(found)
    assert "语义模型有" in caught.value.message("zh")
    assert "problem(s)" in caught.value.message("en")


def test_unreachable_table_in_metric_and_isolated_dimension(tmp_path):
    text = BASE.replace(
        "    time: sold_on\n", "    time: sold_on\n    filter: regions.name = '东'\n"
    )
    text = text.replace(
        "  - {name: shops, primary_key: [shop_id]}",
        "  - {name: shops, primary_key: [shop_id]}\n  - {name: regions}",
    )
    model, issues = read_model(write(tmp_path, text))
    assert "table_unreachable" in codes(issues)


def test_folder_of_files_merges_and_keeps_file_names(tmp_path):
    tables, rest = BASE.split("joins:\n")
    write(tmp_path, tables, "a.yaml")
    write(tmp_path, "joins:\n" + rest.replace("table: sales\n", "table: salez\n"), "b.yaml")
    model, issues = read_model(tmp_path)
    bad = [i for i in issues if i.code == "unknown_table"]
    assert bad and bad[0].file.endswith("b.yaml")


def test_bad_expression_is_reported(tmp_path):
    model, issues = read_model(write(tmp_path, BASE.replace("expr: amount", "expr: SUM(amount")))
    assert "bad_expression" in codes(issues)


def test_every_message_has_both_languages_with_the_same_placeholders():
    fields = string.Formatter()
    for code, (zh, en) in MESSAGES.items():
        assert zh and en, code
        assert re.search(r"[\u4e00-\u9fff]", zh), f"{code}: zh text has no Chinese"
        zh_names = {f for _, f, _, _ in fields.parse(zh) if f}
        en_names = {f for _, f, _, _ in fields.parse(en) if f}
        # English may use *_en variants of the same parameter.
        assert {n.removesuffix("_en") for n in en_names} <= {
            n.removesuffix("_en") for n in zh_names
        } | en_names, code
