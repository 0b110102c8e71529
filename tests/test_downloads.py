"""What a business user downloads: Excel with real number formats, the KPI pack one metric per
row (CSV and Excel), periods named as people name them, and the executive summary's HTML
report from the app — all on the real demo database, values checked against separate questions."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from assistant import Assistant
from assistant.ui_helpers import csv_bytes, excel_bytes, has_report, report_html, table_frame

APP = str(Path(__file__).resolve().parent.parent / "app.py")
MONEY = '"¥"#,##0.00'


@pytest.fixture(scope="module")
def assistant(demo_db) -> Assistant:
    return Assistant.demo(database=demo_db)


def workbook(answer, lang: str):
    return load_workbook(io.BytesIO(excel_bytes(answer, lang)))


def column(sheet, header: str) -> list:
    """The cells under a header (row 1), as openpyxl cells."""
    headers = [c.value for c in sheet[1]]
    index = headers.index(header)
    return [row[index] for row in sheet.iter_rows(min_row=2)]


def test_excel_cells_carry_currency_and_percent_formats(assistant):
    answer = assistant.ask("2025年各区域收入和毛利率")
    sheet = workbook(answer, "zh")["data"]
    assert [c.value for c in sheet[1]] == ["区域", "营业收入", "毛利率"]
    assert all(c.font.bold for c in sheet[1]) and sheet.freeze_panes == "A2"
    revenue, margin = sheet["B2"], sheet["C2"]
    east = assistant.ask("2025年华东的收入和毛利率")
    assert sheet["A2"].value == "华东"
    assert revenue.value == pytest.approx(float(east.value("revenue")))  # a number, not text
    assert revenue.number_format == MONEY
    assert margin.value == pytest.approx(east.value("gross_margin"))
    assert margin.number_format == "0.0%"  # Excel shows 29.1%, not 0.2906129347522709


def test_excel_rate_changes_are_points_and_relative_changes_signed_percents(assistant):
    answer = assistant.ask("2025年各区域毛利率同比")
    sheet = workbook(answer, "zh")["data"]
    north = answer.records()[0]
    assert sheet["A2"].value == north["region"] == "华北"
    (change,) = [c for c in column(sheet, "毛利率增减")[:1]]
    assert change.value == pytest.approx(north["gross_margin__change"] * 100)  # -0.2 points
    assert change.number_format == '+0.0"个百分点";-0.0"个百分点";0.0"个百分点"'
    pct = column(sheet, "毛利率变化率")[0]
    assert pct.value == pytest.approx(north["gross_margin__change_pct"])
    assert pct.number_format == "+0.0%;-0.0%;0.0%"
    english = workbook(answer, "en")["data"]
    assert column(english, "Gross margin change")[0].number_format.endswith('0.0" pp"')
    # The table says the same: points for a rate's change.
    assert table_frame(answer, "zh").iloc[0].tolist()[3] == "-0.2个百分点"
    assert table_frame(answer, "en").iloc[0].tolist()[3] == "-0.2 pp"


def test_excel_periods_are_dates_by_grain_or_named_quarters(assistant):
    months = assistant.ask("2025年按月的收入")
    sheet = workbook(months, "zh")["data"]
    assert sheet["A2"].value == datetime(2025, 1, 1)  # a real date Excel can sort and filter
    assert sheet["A2"].number_format == 'yyyy"年"m"月"'
    assert workbook(months, "en")["data"]["A2"].number_format == "mmm yyyy"
    assert table_frame(months, "zh").iloc[2, 0] == "2025年3月"
    assert table_frame(months, "en").iloc[2, 0] == "Mar 2025"
    quarters = assistant.ask("2025年按季度的收入")
    assert [c.value for c in column(workbook(quarters, "zh")["data"], "时间")] == [
        "2025年Q1",
        "2025年Q2",
        "2025年Q3",
        "2025年Q4",
    ]
    assert column(workbook(quarters, "en")["data"], "Time")[3].value == "2025 Q4"


def test_the_summary_exports_one_metric_per_row(assistant):
    summary = assistant.ask("给我一份本月经营概况")
    assert summary.status == "ok" and len(summary.columns) == 28  # one row of 28 in the answer
    lines = csv_bytes(summary, "zh").decode("utf-8-sig").splitlines()
    assert lines[0] == "指标,本期,上期,增减,变化率"
    assert len(lines) == 1 + 7
    sheet = workbook(summary, "zh")["data"]
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    assert list(rows) == [
        "营业收入",
        "毛利率",
        "费用",
        "营业利润",
        "回款额",
        "逾期应收",
        "经营活动现金净流量",
    ]
    december = assistant.ask("2025年12月的收入")
    november = assistant.ask("2025年11月的收入")
    value, previous, change, pct = rows["营业收入"][1:5]
    assert value.value == pytest.approx(float(december.value()))
    assert previous.value == pytest.approx(float(november.value()))
    assert change.value == pytest.approx(float(december.value()) - float(november.value()))
    assert value.number_format == MONEY and pct.number_format == "+0.0%;-0.0%;0.0%"
    margin = rows["毛利率"]
    assert margin[1].number_format == "0.0%" and "个百分点" in margin[3].number_format
    # Operating cash flow went from −98万 to −614万: a percentage of a negative base means
    # nothing, so there is none (not "−526.8%").
    flow = rows["经营活动现金净流量"]
    assert flow[2].value < 0 and flow[4].value is None
    frame = table_frame(summary, "zh")
    assert list(frame.columns) == ["指标", "本期", "上期", "增减", "变化率"]
    assert frame.iloc[0].tolist() == [
        "营业收入",
        "¥7,902.31万",
        "¥6,272.64万",
        "+¥1,629.67万",
        "+26.0%",
    ]
    assert frame.iloc[6, 4] == "—"
    english = table_frame(summary, "en")
    assert list(english.columns) == ["Metric", "Value", "Previous period", "Change", "Change %"]
    assert english.iloc[0, 1] == "¥79.02M"


def test_only_a_summary_offers_the_report(assistant):
    assert has_report(assistant.ask("给我一份本月经营概况"))
    assert not has_report(assistant.ask("2025年各区域的收入"))
    assert not has_report(assistant.ask("预算"))


def test_the_app_offers_the_summary_as_the_html_report(demo_db, monkeypatch, assistant):
    monkeypatch.setenv("COCKPIT_DATABASE", str(demo_db))
    monkeypatch.setenv("COCKPIT_LANG", "zh")
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.chat_input[0].set_value("给我一份本月经营概况").run()
    assert not at.exception
    answer_block = at.chat_message[-1]
    labels = [e.proto.label for e in answer_block.get("download_button")]
    assert labels == ["下载 CSV", "下载 Excel", "下载报告（HTML）"]
    frame = answer_block.dataframe[0].value
    assert frame["指标"].tolist()[:2] == ["营业收入", "毛利率"] and len(frame) == 7
    # The download is the report `cockpit report` writes, for the answer's period.
    answer = at.session_state["turns"][-1]["answer"]
    page = report_html(assistant, answer, "zh").decode("utf-8")
    assert page.startswith("<!doctype html>")
    assert "经营简报 · 本月（2025-12-01 – 2025-12-31）" in page
    assert "<td>营业收入</td><td>7,902.31万</td>" in page
    assert "<svg" in page  # charts drawn offline, inline
    # Other answers offer no report.
    at.chat_input[0].set_value("2025年各区域的收入").run()
    labels = [e.proto.label for e in at.chat_message[-1].get("download_button")]
    assert labels == ["下载 CSV", "下载 Excel"]
