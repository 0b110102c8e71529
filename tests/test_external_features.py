"""Every feature on the external models (eval/external/*): models and data nobody here wrote.

Issue 15, item 9: the accuracy sets say whether questions are understood; this file says
whether each *feature* serves a model that is not the demo — ask (lookups, breakdowns,
rankings, trends, year-over-year and month-over-month), clarifications and refusals with
that model's own suggestions, why, the anomaly scan, the executive summary, the report,
alerts, the board, push and both app pages — on dbt Labs' jaffle-sl-template and ACME
insurance models. Every number is compared with SQL written by hand for this file against the
built database (never with the product's own compiled SQL), and every message and suggestion
is read for the demo company's words, because a feature that still assumes the demo shows
them (or crashes, or comes out empty) on anyone else's data.

The databases are built once per module into a temporary folder by each set's `build.py`.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import streamlit as st
import yaml
from app_cards import kpi_cards
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from assistant import Answer, Assistant
from assistant.board import Board, BoardStore, Tile, default_board, pin_answer, view_board
from assistant.cli import app as cli
from assistant.formatting import format_value
from assistant.insights.alerts import evaluate_alerts
from assistant.insights.anomalies import scan_anomalies
from assistant.insights.explain import explain
from assistant.insights.summary import usable_kpis
from assistant.push import push, render_board, render_summary
from assistant.settings import Settings
from assistant.ui_helpers import example_questions
from eval.items import EvalSet, load_set
from semantic_layer import knowledge
from semantic_layer.compiler import add_months
from semantic_layer.loader import load_model
from semantic_layer.model import SemanticModel
from semantic_layer.query import TimeRange

ROOT = Path(__file__).resolve().parents[1]
EXTERNAL = ROOT / "eval" / "external"
APP = str(ROOT / "app.py")
BOARD_PAGE = str(ROOT / "app_pages" / "board.py")
SETS = ["jaffle_sl", "acme_insurance"]
CJK = re.compile(r"[\u3400-\u9fff\uff08\uff09\u3001\u3002\uff0c\uff1a]")
# Words the demo uses that are also plain vocabulary of any model's UI (as in
# test_no_company_in_code.py): never counted as a demo leak.
GENERIC_ZH = {"时间", "期间", "金额", "数量", "日期", "月份", "类别", "类型", "状态", "名称"}
GENERIC_ZH |= {"预算完成率", "预算执行率"}
GENERIC_EN = {"Time", "Status"}


# --- hand-written SQL -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Measure:
    """One metric written by hand: its aggregate over `source` (joined as the model says),
    the row condition, and the date that places a row in a period (None: the data holds no
    date for it, so only all-time questions have a number)."""

    select: str
    source: str
    day: str | None
    where: str = "TRUE"


J_ITEMS = (
    "order_items oi JOIN orders o ON oi.order_id = o.order_id "
    "JOIN stg_products p ON oi.product_id = p.product_id "
    "JOIN stg_locations l ON o.location_id = l.location_id "
    "JOIN customers c ON o.customer_id = c.customer_id"
)
J_ORDERS = (
    "orders o JOIN stg_locations l ON o.location_id = l.location_id "
    "JOIN customers c ON o.customer_id = c.customer_id"
)
J_ITEM_DAY = "CAST(oi.ordered_at AS DATE)"
J_ORDER_DAY = "CAST(o.ordered_at AS DATE)"
JAFFLE_MEASURES = {
    "revenue": Measure("sum(oi.product_price)", J_ITEMS, J_ITEM_DAY),
    "food_revenue": Measure(
        "sum(CASE WHEN oi.is_food_item = 1 THEN oi.product_price ELSE 0 END)", J_ITEMS, J_ITEM_DAY
    ),
    "order_cost": Measure("sum(o.order_cost)", J_ORDERS, J_ORDER_DAY),
    "order_total": Measure("sum(o.order_total)", J_ORDERS, J_ORDER_DAY),
    "orders": Measure("count(*)", J_ORDERS, J_ORDER_DAY),
    "count_lifetime_orders": Measure(
        "sum(c.count_lifetime_orders)", "customers c", "CAST(c.first_ordered_at AS DATE)"
    ),
    "lifetime_spend_pretax": Measure(
        "sum(c.lifetime_spend_pretax)", "customers c", "CAST(c.first_ordered_at AS DATE)"
    ),
}
# A dimension as a condition on one member (`?`), valid in every source above that has its table.
JAFFLE_MEMBERS = {
    "location_name": "l.location_name = ?",
    "customer_type": "c.customer_type = ?",
    "customer_name": "c.customer_name = ?",
    "is_food_order": "lower(CAST(o.is_food_order AS VARCHAR)) = lower(?)",
    "is_drink_order": "lower(CAST(o.is_drink_order AS VARCHAR)) = lower(?)",
    "order_item_is_food_item": "CAST(oi.is_food_item AS VARCHAR) = ?",
    "order_item_is_drink_item": "CAST(oi.is_drink_item AS VARCHAR) = ?",
    "stg_products_is_food_item": "CAST(p.is_food_item AS VARCHAR) = ?",
    "stg_products_is_drink_item": "CAST(p.is_drink_item AS VARCHAR) = ?",
    "product_name": "p.product_name = ?",
    "product_type": "p.product_type = ?",
}

A_LOSS_PAYMENT = "ca.Claim_Amount_Identifier IN (SELECT Claim_Amount_Identifier FROM loss_payment)"
A_LOSS_RESERVE = "ca.Claim_Amount_Identifier IN (SELECT Claim_Amount_Identifier FROM loss_reserve)"
ACME_MEASURES = {
    # Claim amounts and claims carry no dates in this data (Event_Date, Claims_Made_Date empty).
    "loss_payment_amount": Measure("sum(ca.Claim_Amount)", "claim_amount ca", None, A_LOSS_PAYMENT),
    "loss_reserve_amount": Measure("sum(ca.Claim_Amount)", "claim_amount ca", None, A_LOSS_RESERVE),
    "total_claim_amount": Measure("sum(ca.Claim_Amount)", "claim_amount ca", None),
    "claims": Measure("count(cl.Company_Claim_Number)", "claim cl", None),
    "avg_time_to_settle_claim": Measure(
        "avg(date_diff('day', cl.Claim_Open_Date, cl.Claim_Close_Date))", "claim cl", None
    ),
    # The Premium column of FireClaim.csv is empty (text): the sum of nothing.
    "premium": Measure(
        "sum(TRY_CAST(f.Premium AS DOUBLE))", "fire_claim f", "make_date(f.Year_Built, 1, 1)"
    ),
    "total_policy_amount": Measure(
        "sum(pa.Policy_Amount)",
        "policy_amount pa JOIN policy p ON pa.Policy_Identifier = p.Policy_Identifier",
        "pa.Effective_Date",
    ),
    "number_of_policies": Measure("count(*)", "policy p", "p.Effective_Date"),
}
ACME_MEMBERS = {
    "policy_number": "CAST(p.Policy_Number AS VARCHAR) = ?",
    # Through the fire claim on the policy (the joins to agreement_party_role repeat keys in
    # this data, so Cockpit leaves them out and the board filters by the claim's attributes).
    "fireplace": (
        "CAST(p.Policy_Identifier AS VARCHAR) IN (SELECT CAST(PolicyNo AS VARCHAR) FROM fire_claim "
        "WHERE CAST(Fireplace AS VARCHAR) = ?)"
    ),
    "company_claim_number": "CAST(cl.Company_Claim_Number AS VARCHAR) = ?",
    "party_identifier_dim": (
        "p.Policy_Identifier IN (SELECT Agreement_Identifier FROM agreement_party_role "
        "WHERE CAST(Party_Identifier AS VARCHAR) = ?)"
    ),
    "agreement_party_role_party_role_code": (
        "p.Policy_Identifier IN (SELECT Agreement_Identifier FROM agreement_party_role "
        "WHERE Party_Role_Code = ?)"
    ),
}


class Truth:
    """The built database opened a second time, for SQL written by hand.

    Attached from an in-memory DuckDB: a second `connect` on the file the assistant's
    engine holds (with other settings) would be refused in this process."""

    def __init__(self, path: Path, measures: dict[str, Measure], members: dict[str, str]):
        self.db = duckdb.connect()
        self.db.execute(f"ATTACH '{path}' AS data (READ_ONLY)")
        self.db.execute("USE data")
        self.measures = measures
        self.members = members

    def dated(self, metric: str) -> bool:
        """Whether the data places `metric` in periods at all."""
        return self.measures[metric].day is not None

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row of one hand-written query."""
        return [tuple(r) for r in self.db.execute(sql, list(params)).fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The single value of a one-row, one-column query."""
        (row,) = self.rows(sql, params)
        return row[0]

    def value(
        self,
        metric: str,
        start: date | None = None,
        end: date | None = None,
        where: dict[str, str] | None = None,
    ) -> float | None:
        """`metric` over [start, end) (None: all time), inside `where` (dimension: member)."""
        measure = self.measures.get(metric)
        assert measure is not None, f"no hand-written SQL for {metric} yet: add it to this file"
        conditions, params = [measure.where], []
        if start is not None and start > date(1901, 1, 1):
            assert measure.day is not None
            conditions.append(f"{measure.day} >= ?")
            params.append(start)
        if end is not None and measure.day is not None:
            conditions.append(f"({measure.day} < ? OR {measure.day} IS NULL)")
            params.append(end)
        for dimension, member in (where or {}).items():
            condition = self.members.get(dimension)
            assert condition is not None, f"no hand-written SQL for {dimension} yet"
            conditions.append(condition)
            params.append(str(member))
        sql = f"SELECT {measure.select} FROM {measure.source} WHERE {' AND '.join(conditions)}"
        found = self.one(sql, params)
        return None if found is None else float(found)

    def close(self) -> None:
        self.db.close()


# --- what each model is asked -----------------------------------------------------------------------
@dataclass(frozen=True)
class Asked:
    """A question with the hand-written SQL of its answer: the SQL's columns are the
    answer's `columns`, in order (rows in order too when `ordered`)."""

    question: str
    sql: str
    columns: tuple[str, ...]
    ordered: bool = False


@dataclass(frozen=True)
class Why:
    """A "why" question: the metric, the two periods, and a dimension whose members'
    values are checked one by one."""

    question: str
    metric: str
    current: tuple[date, date]
    baseline: tuple[date, date]
    dimension: str


@dataclass(frozen=True)
class Site:
    """Everything this file asks of one external model."""

    name: str
    measures: dict[str, Measure]
    members: dict[str, str]
    asked: tuple[Asked, ...]
    unclear: tuple[str, ...]  # questions that must get a clarification or a refusal
    why: tuple[Why, ...]
    summaries: tuple[tuple[str, str], ...]  # (question, lang)
    report_period: str
    alert_rules: tuple[dict[str, Any], ...]
    alert_days: tuple[tuple[date, str], ...]  # (as-of, grain) to evaluate the rules at
    cli_alert_day: date
    pins: tuple[str, ...]  # questions pinned to a board (single numbers and a breakdown)
    app_lang: str
    app_question: Asked
    app_identifier: str | None = None  # a dimension column of the app answer read as text


JAFFLE = Site(
    name="jaffle_sl",
    measures=JAFFLE_MEASURES,
    members=JAFFLE_MEMBERS,
    asked=(
        Asked(
            "total revenue",
            "SELECT sum(product_price) FROM order_items WHERE CAST(ordered_at AS DATE) <= DATE '2020-08-31'",
            ("revenue",),
        ),
        Asked(
            "how many orders in 2019",
            "SELECT count(*) FROM orders WHERE ordered_at >= DATE '2019-01-01' AND ordered_at < DATE '2020-01-01'",
            ("orders",),
        ),
        Asked(
            "2019年的Orders",
            "SELECT count(*) FROM orders WHERE ordered_at >= DATE '2019-01-01' AND ordered_at < DATE '2020-01-01'",
            ("orders",),
        ),
        Asked(
            "revenue by location",
            "SELECT l.location_name, sum(oi.product_price) FROM order_items oi "
            "JOIN orders o ON oi.order_id = o.order_id "
            "JOIN stg_locations l ON o.location_id = l.location_id GROUP BY 1",
            ("location_name", "revenue"),
        ),
        Asked(
            "2019年各Location name的Orders",
            "SELECT l.location_name, count(*) FROM orders o "
            "JOIN stg_locations l ON o.location_id = l.location_id "
            "WHERE o.ordered_at >= DATE '2019-01-01' AND o.ordered_at < DATE '2020-01-01' GROUP BY 1",
            ("location_name", "orders"),
        ),
        Asked(
            "top 3 products by revenue",
            "SELECT p.product_name, sum(oi.product_price) AS r FROM order_items oi "
            "JOIN stg_products p ON oi.product_id = p.product_id GROUP BY 1 ORDER BY r DESC LIMIT 3",
            ("product_name", "revenue"),
            ordered=True,
        ),
        Asked(
            "Revenue最高的3个Product name",
            "SELECT p.product_name, sum(oi.product_price) AS r FROM order_items oi "
            "JOIN stg_products p ON oi.product_id = p.product_id GROUP BY 1 ORDER BY r DESC LIMIT 3",
            ("product_name", "revenue"),
            ordered=True,
        ),
        Asked(
            "revenue by month in 2020",
            "SELECT CAST(date_trunc('month', ordered_at) AS DATE) AS m, sum(product_price) "
            "FROM order_items WHERE ordered_at >= DATE '2020-01-01' AND ordered_at < DATE '2021-01-01' "
            "GROUP BY 1 ORDER BY 1",
            ("metric_time__month", "revenue"),
            ordered=True,
        ),
        Asked(
            "Revenue按月趋势",
            "SELECT CAST(date_trunc('month', ordered_at) AS DATE) AS m, sum(product_price) "
            "FROM order_items GROUP BY 1 ORDER BY 1",
            ("metric_time__month", "revenue"),
            ordered=True,
        ),
        Asked(
            "revenue this year vs last year",
            "SELECT (SELECT sum(product_price) FROM order_items WHERE ordered_at >= DATE '2020-01-01' "
            "AND ordered_at < DATE '2020-09-01'), (SELECT sum(product_price) FROM order_items "
            "WHERE ordered_at >= DATE '2019-01-01' AND ordered_at < DATE '2019-09-01')",
            ("revenue", "revenue__compare"),
        ),
        Asked(
            "今年Revenue同比",
            "SELECT (SELECT sum(product_price) FROM order_items WHERE ordered_at >= DATE '2020-01-01' "
            "AND ordered_at < DATE '2020-09-01'), (SELECT sum(product_price) FROM order_items "
            "WHERE ordered_at >= DATE '2019-01-01' AND ordered_at < DATE '2019-09-01')",
            ("revenue", "revenue__compare"),
        ),
        Asked(
            "revenue in August 2020 vs last month",
            "SELECT (SELECT sum(product_price) FROM order_items WHERE ordered_at >= DATE '2020-08-01' "
            "AND ordered_at < DATE '2020-09-01'), (SELECT sum(product_price) FROM order_items "
            "WHERE ordered_at >= DATE '2020-07-01' AND ordered_at < DATE '2020-08-01')",
            ("revenue", "revenue__compare"),
        ),
        Asked(
            "2020年8月Revenue环比",
            "SELECT (SELECT sum(product_price) FROM order_items WHERE ordered_at >= DATE '2020-08-01' "
            "AND ordered_at < DATE '2020-09-01'), (SELECT sum(product_price) FROM order_items "
            "WHERE ordered_at >= DATE '2020-07-01' AND ordered_at < DATE '2020-08-01')",
            ("revenue", "revenue__compare"),
        ),
    ),
    unclear=(
        "net profit",
        "净利润是多少",
        "revenue by department",
        "各部门的Revenue",
        "show me the data",
        "blah blah",
    ),
    why=(
        Why(
            "why did revenue change in August 2020",
            "revenue",
            (date(2020, 8, 1), date(2020, 9, 1)),
            (date(2020, 7, 1), date(2020, 8, 1)),
            "location_name",
        ),
        Why(
            "为什么2020年8月Revenue上升了",
            "revenue",
            (date(2020, 8, 1), date(2020, 9, 1)),
            (date(2020, 7, 1), date(2020, 8, 1)),
            "location_name",
        ),
    ),
    summaries=(
        ("经营概况", "zh"),
        ("executive summary", "en"),
        ("2020年8月经营概况", "zh"),
        ("business summary for August 2020", "en"),
    ),
    report_period="2020-08",
    alert_rules=(
        {
            "name": "revenue_floor",
            "metric": "revenue",
            "op": "<",
            "value": 5000,
            "severity": "critical",
        },
        {"name": "revenue_jump", "metric": "revenue", "change": "mom", "op": ">", "value": 0.05},
        {
            "name": "quiet_location",
            "metric": "orders",
            "dimensions": ["location_name"],
            "op": "<",
            "value": 100,
            "severity": "info",
        },
        {
            "name": "busy_brooklyn",
            "metric": "orders",
            "filters": [{"dimension": "location_name", "values": ["Brooklyn"]}],
            "op": ">",
            "value": 145,
        },
    ),
    alert_days=((date(2020, 8, 31), "month"), (date(2020, 7, 31), "month")),
    cli_alert_day=date(2020, 7, 31),
    pins=("今年的Revenue", "how many orders in 2019", "revenue by location"),
    app_lang="zh",
    app_question=Asked(
        "revenue by location",
        "SELECT l.location_name, sum(oi.product_price) FROM order_items oi "
        "JOIN orders o ON oi.order_id = o.order_id "
        "JOIN stg_locations l ON o.location_id = l.location_id GROUP BY 1",
        ("location_name", "revenue"),
    ),
)

ACME = Site(
    name="acme_insurance",
    measures=ACME_MEASURES,
    members=ACME_MEMBERS,
    asked=(
        Asked(
            "total claim amount",
            "SELECT sum(Claim_Amount) FROM claim_amount",
            ("total_claim_amount",),
        ),
        Asked("how many claims", "SELECT count(Company_Claim_Number) FROM claim", ("claims",)),
        Asked("理赔数量", "SELECT count(Company_Claim_Number) FROM claim", ("claims",)),
        Asked(
            "number of policies",
            "SELECT count(*) FROM policy WHERE Effective_Date <= DATE '2019-12-31'",
            ("number_of_policies",),
        ),
        Asked(
            "loss amount",
            "SELECT (SELECT sum(Claim_Amount) FROM claim_amount ca WHERE "
            + A_LOSS_PAYMENT
            + ") + (SELECT sum(Claim_Amount) FROM claim_amount ca WHERE "
            + A_LOSS_RESERVE
            + ")",
            ("total_loss_amount",),
        ),
        Asked(
            "loss payment amount by claim number",
            "SELECT cl.Company_Claim_Number, sum(ca.Claim_Amount) FROM claim_amount ca "
            "JOIN claim cl ON ca.Claim_Identifier = cl.Claim_Identifier WHERE "
            + A_LOSS_PAYMENT
            + " GROUP BY 1",
            ("company_claim_number", "loss_payment_amount"),
        ),
        Asked(
            "各Company claim number的Loss Payment Amount",
            "SELECT cl.Company_Claim_Number, sum(ca.Claim_Amount) FROM claim_amount ca "
            "JOIN claim cl ON ca.Claim_Identifier = cl.Claim_Identifier WHERE "
            + A_LOSS_PAYMENT
            + " GROUP BY 1",
            ("company_claim_number", "loss_payment_amount"),
        ),
        Asked(
            "total policy amount by policy number",
            "SELECT p.Policy_Number, sum(pa.Policy_Amount) FROM policy_amount pa "
            "JOIN policy p ON pa.Policy_Identifier = p.Policy_Identifier "
            "WHERE pa.Effective_Date <= DATE '2019-12-31' GROUP BY 1",
            ("policy_number", "total_policy_amount"),
        ),
        Asked(
            "top 1 policy number by total policy amount",
            "SELECT p.Policy_Number, sum(pa.Policy_Amount) AS s FROM policy_amount pa "
            "JOIN policy p ON pa.Policy_Identifier = p.Policy_Identifier "
            "WHERE pa.Effective_Date <= DATE '2019-12-31' GROUP BY 1 ORDER BY s DESC LIMIT 1",
            ("policy_number", "total_policy_amount"),
            ordered=True,
        ),
        Asked(
            "total policy amount by year",
            "SELECT CAST(date_trunc('year', Effective_Date) AS DATE), sum(Policy_Amount) "
            "FROM policy_amount WHERE Effective_Date <= DATE '2019-12-31' GROUP BY 1 ORDER BY 1",
            ("metric_time__year", "total_policy_amount"),
            ordered=True,
        ),
        Asked(
            "Total policy amount按年趋势",
            "SELECT CAST(date_trunc('year', Effective_Date) AS DATE), sum(Policy_Amount) "
            "FROM policy_amount WHERE Effective_Date <= DATE '2019-12-31' GROUP BY 1 ORDER BY 1",
            ("metric_time__year", "total_policy_amount"),
            ordered=True,
        ),
        Asked(
            "total policy amount in 2019 year over year",
            "SELECT (SELECT sum(Policy_Amount) FROM policy_amount WHERE year(Effective_Date) = 2019), "
            "(SELECT sum(Policy_Amount) FROM policy_amount WHERE year(Effective_Date) = 2018)",
            ("total_policy_amount", "total_policy_amount__compare"),
        ),
        Asked(
            "2019年Total policy amount同比",
            "SELECT (SELECT sum(Policy_Amount) FROM policy_amount WHERE year(Effective_Date) = 2019), "
            "(SELECT sum(Policy_Amount) FROM policy_amount WHERE year(Effective_Date) = 2018)",
            ("total_policy_amount", "total_policy_amount__compare"),
        ),
    ),
    unclear=(
        "net profit",
        "净利润是多少",
        "claims by department",
        "各区域的Claims",
        "show me the data",
        "blah blah",
    ),
    why=(
        Why(
            "why did total policy amount change in 2019",
            "total_policy_amount",
            (date(2019, 1, 1), date(2020, 1, 1)),
            (date(2018, 1, 1), date(2019, 1, 1)),
            "policy_number",
        ),
        Why(
            "为什么2019年Total policy amount上升了",
            "total_policy_amount",
            (date(2019, 1, 1), date(2020, 1, 1)),
            (date(2018, 1, 1), date(2019, 1, 1)),
            "policy_number",
        ),
    ),
    summaries=(
        ("经营概况", "zh"),
        ("executive summary", "en"),
        ("2019年经营概况", "zh"),
        ("business summary for 2019", "en"),
    ),
    report_period="2019",
    alert_rules=(
        {
            "name": "big_policy_year",
            "metric": "total_policy_amount",
            "op": ">",
            "value": 1500000,
            "grain": "year",
            "severity": "critical",
        },
        {
            "name": "policy_growth",
            "metric": "total_policy_amount",
            "change": "yoy",
            "op": ">",
            "value": 0.5,
            "grain": "year",
        },
        {
            "name": "per_policy",
            "metric": "total_policy_amount",
            "dimensions": ["policy_number"],
            "op": ">",
            "value": 500000,
            "grain": "year",
            "severity": "info",
        },
        {"name": "new_policy_month", "metric": "total_policy_amount", "op": ">=", "value": 600000},
    ),
    alert_days=(
        (date(2019, 12, 31), "year"),
        (date(2018, 12, 31), "year"),
        (date(2019, 6, 30), "month"),
        (date(2019, 5, 31), "month"),
    ),
    cli_alert_day=date(2019, 6, 30),
    pins=(
        "2019年Total policy amount",
        "number of policies",
        "total policy amount by policy number",
    ),
    app_lang="en",
    app_question=Asked(
        "total policy amount by policy number",
        "SELECT p.Policy_Number, sum(pa.Policy_Amount) FROM policy_amount pa "
        "JOIN policy p ON pa.Policy_Identifier = p.Policy_Identifier "
        "WHERE pa.Effective_Date <= DATE '2019-12-31' GROUP BY 1",
        ("policy_number", "total_policy_amount"),
    ),
    app_identifier="policy_number",
)
SITES = {site.name: site for site in (JAFFLE, ACME)}
# Tests are parametrized by position: both models are asked as many questions of each kind.
assert len(JAFFLE.asked) == len(ACME.asked) and len(JAFFLE.unclear) == len(ACME.unclear)


# --- fixtures -------------------------------------------------------------------------------------
@dataclass
class External:
    """One external model with its freshly built database, an offline assistant on it and
    a second, independent handle for hand-written SQL."""

    site: Site
    eval_set: EvalSet
    database: Path
    folder: Path
    assistant: Assistant
    truth: Truth
    vocabulary: str  # every name, label, synonym, description and member of the model
    asked: dict[tuple[str, str | None], Answer] = field(default_factory=dict)

    @property
    def model(self) -> SemanticModel:
        return self.assistant.model

    @property
    def as_of(self) -> date:
        return self.eval_set.as_of

    def ask(self, question: str, lang: str | None = None) -> Answer:
        """Ask once per module (the same question is asked by several tests)."""
        key = (question, lang)
        if key not in self.asked:
            self.asked[key] = self.assistant.ask(question, lang=lang)
        return self.asked[key]


def _offline(cache: Path) -> Settings:
    """Settings for a test: no LLM, a private cache (audit log, outbox, indexes)."""
    return Settings().model_copy(update={"llm_model": None, "cache_dir": cache})


def _vocabulary(assistant: Assistant) -> str:
    """The model's own words, lower case: a demo word found here is this model's too."""
    model = assistant.model
    words: list[str] = [model.name]
    for item in [*model.metrics, *model.dimensions, *model.tables]:
        words.append(item.name)
        label = getattr(item, "label", None)
        if label is not None:
            words += [label.zh, label.en]
        words += list(getattr(item, "synonyms", []) or [])
        description = getattr(item, "description", None)
        if description is not None:
            words += (
                [description] if isinstance(description, str) else [description.zh, description.en]
            )
    for values in assistant.lexicon.values.values():
        words += [str(v) for v in values]
    return "\n".join(words).lower()


@pytest.fixture(scope="module", params=SETS)
def ext(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[External]:
    """The model, its database built once into tmp, and an offline Assistant at its as-of."""
    site = SITES[request.param]
    eval_set = load_set(EXTERNAL / site.name)
    assert eval_set is not None
    folder = tmp_path_factory.mktemp(site.name)
    database = eval_set.build(folder / "data.duckdb")
    assistant = Assistant.open(
        model=eval_set.model,
        database=database,
        as_of=eval_set.as_of,
        settings=_offline(folder / "cache"),
    )
    truth = Truth(database, site.measures, site.members)
    yield External(site, eval_set, database, folder, assistant, truth, _vocabulary(assistant))
    truth.close()


@pytest.fixture(scope="module")
def demo_words(demo_db: Path) -> tuple[set[str], set[str]]:
    """(Chinese words, English phrases) naming the demo company's metrics, dimensions and
    members — what a feature that still assumes the demo would show on another model."""
    model = load_model()
    zh: set[str] = set()
    en: set[str] = set()
    for item in [*model.metrics, *model.dimensions]:
        zh |= {item.label.zh, *(s for s in item.synonyms if not s.isascii())}
        en.add(item.label.en)
    db = duckdb.connect()
    db.execute(f"ATTACH '{demo_db}' AS demo (READ_ONLY)")
    db.execute("USE demo")
    for dim in model.dimensions:
        if dim.type == "category" and dim.table and dim.expr and dim.table != "calendar":
            rows = db.execute(f"SELECT DISTINCT {dim.expr} FROM {dim.table}").fetchall()
            zh |= {str(r[0]) for r in rows if r[0] is not None}
    db.close()
    zh = {w for w in zh if len(w) >= 2 and not w.isascii() and w not in GENERIC_ZH}
    en = {w for w in en if w not in GENERIC_EN}
    return zh, en


def demo_leaks(
    text: str, ext: External, words: tuple[set[str], set[str]], asked: str = ""
) -> list[str]:
    """The demo's words in `text` that are neither this model's own nor typed by the user."""
    zh, en = words
    asked = asked.lower()
    found = [w for w in zh if w in text and w.lower() not in ext.vocabulary and w not in asked]
    for phrase in en:
        pattern = re.compile(rf"\b{re.escape(phrase.lower())}\b")
        mine = pattern.search(ext.vocabulary) or pattern.search(asked)
        if pattern.search(text.lower()) and not mine:
            found.append(phrase)
    return sorted(found)


def test_the_leak_check_would_catch_the_demos_words(
    ext: External, demo_words: tuple[set[str], set[str]]
) -> None:
    """The check every test below relies on finds the demo's words and passes this model's."""
    assert {"区域", "毛利率", "华东"} <= set(demo_leaks("华东各区域的毛利率", ext, demo_words))
    assert {"Gross margin", "Region"} <= set(demo_leaks("Gross margin by region", ext, demo_words))
    own = " ".join(m.label.get(lang) for m in ext.model.metrics for lang in ("zh", "en"))
    assert demo_leaks(own, ext, demo_words) == []
    assert demo_leaks("华东的毛利率", ext, demo_words, asked="华东的毛利率") == []


def answer_text(answer: Answer) -> str:
    """Everything a person reads in an answer."""
    parts = [answer.message, answer.narrative, answer.interpretation, *answer.notes]
    parts += [s.text for s in answer.suggestions]
    parts += [str(cell) for row in answer.rows for cell in row if isinstance(cell, str)]
    return "\n".join(p for p in parts if p)


def chinese_in_english(answer: Answer) -> list[str]:
    """Lines of an English answer that carry Chinese text (these models' labels are all
    English, so any Chinese comes from the product)."""
    if answer.lang != "en":
        return []
    return [line for line in answer_text(answer).splitlines() if CJK.search(line)]


def norm(value: Any) -> Any:
    """A cell comparable across the answer and DuckDB: numbers to 4 places, dates as dates."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        return round(float(value), 4)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    try:
        return round(float(text), 4)
    except ValueError:
        return text


def rows_of(answer: Answer, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """The answer's rows restricted to `columns` (in that order), normalised."""
    missing = [c for c in columns if c not in answer.names]
    assert not missing, f"{answer.question!r}: no column {missing} in {answer.names}"
    return [tuple(norm(r[c]) for c in columns) for r in answer.records()]


def close(a: float | None, b: float | None) -> bool:
    """Equal numbers (or both missing), to a cent of rounding. No row at all ("—") and a
    count of zero say the same thing: nothing matched."""
    if a is None or b is None:
        return (a is None and b is None) or (a or 0) == (b or 0) == 0
    return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b))) + 0.005


def period_before(start: date, end: date) -> tuple[date, date] | None:
    """The previous whole month or year of a whole month or year, else None."""
    if end == add_months(start, 1) and start.day == 1:
        return add_months(start, -1), start
    if end == add_months(start, 12) and (start.month, start.day) == (1, 1):
        return add_months(start, -12), start
    return None


def change(value: float | None, before: float | None) -> float | None:
    """The relative change the product shows (None without a base to compare with)."""
    if value is None or not before:
        return None
    return (value - before) / abs(before)


def percent(fraction: float | None) -> str:
    return "—" if fraction is None else f"{fraction * 100:+.1f}%"


# --- ask --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("index", range(len(JAFFLE.asked)))
def test_questions_are_answered_with_the_numbers_sql_gives(ext: External, index: int) -> None:
    """Lookups, breakdowns, rankings, trends, year-over-year and month-over-month, in both
    languages, each equal to the hand-written SQL on the built database."""
    case = ext.site.asked[index]
    answer = ext.ask(case.question)
    assert answer.status == "ok", f"{case.question!r}: {answer.status} {answer.message}"
    got = rows_of(answer, case.columns)
    want = [tuple(norm(v) for v in row) for row in ext.truth.rows(case.sql)]
    if not case.ordered:
        got, want = sorted(got, key=repr), sorted(want, key=repr)
    assert len(got) == len(want), f"{case.question!r}: {got} vs SQL {want}"
    for mine, theirs in zip(got, want, strict=True):
        for a, b in zip(mine, theirs, strict=True):
            same = close(a, b) if isinstance(b, float) and isinstance(a, float) else a == b
            assert same, f"{case.question!r}: {got} vs SQL {want}"


@pytest.mark.parametrize("index", range(6))
def test_unclear_questions_get_this_models_suggestions(
    ext: External, demo_words: tuple[set[str], set[str]], index: int
) -> None:
    """A question the model cannot answer gets a clarification or a refusal whose message
    and suggestions name this model's metrics — never the demo company's."""
    question = ext.site.unclear[index]
    answer = ext.ask(question)
    assert answer.status in ("clarify", "refused"), f"{question!r}: {answer.status} {answer.rows}"
    assert answer.message
    assert answer.suggestions, f"{question!r}: no suggestion offered"
    labels = {m.label.get(lang).lower() for m in ext.model.metrics for lang in ("zh", "en")}
    for suggestion in answer.suggestions:
        assert any(label in suggestion.text.lower() for label in labels), suggestion.text
    assert demo_leaks(answer_text(answer), ext, demo_words, question) == []
    assert not chinese_in_english(answer), chinese_in_english(answer)


def offered(ext: External) -> list[tuple[str, str]]:
    """(where, suggestion): every question a feature offers as a button on this model —
    clarifications, refusals, "why", the anomaly scan and the summary."""
    sources = [*ext.site.unclear, *(w.question for w in ext.site.why)]
    sources += ["any anomalies", "最近有什么异常", *(q for q, _ in ext.site.summaries)]
    out = []
    for source in sources:
        for suggestion in ext.ask(source).suggestions:
            out.append((source, suggestion.text))
    return out


def test_every_offered_question_can_be_asked_without_an_internal_error(ext: External) -> None:
    """A suggestion is a button: pressing it must never hit a bug."""
    broken = []
    for source, suggestion in offered(ext):
        answer = ext.ask(suggestion)
        if answer.status == "error":
            broken.append(f"{source!r} → {suggestion!r}: {answer.message}")
    assert not broken, "\n".join(broken)


def test_every_offered_question_is_answered(ext: External, demo_words) -> None:
    """…and it must give numbers: a suggestion that itself needs clarifying is no help."""
    unanswered = []
    for source, suggestion in offered(ext):
        answer = ext.ask(suggestion)
        if answer.status != "ok":
            unanswered.append(f"{source!r} → {suggestion!r}: {answer.status} {answer.message}")
        leaks = demo_leaks(answer_text(answer), ext, demo_words, suggestion)
        if leaks:
            unanswered.append(f"{source!r} → {suggestion!r}: demo words {leaks}")
        mixed = chinese_in_english(answer)
        if mixed:
            unanswered.append(f"{source!r} → {suggestion!r}: Chinese in English {mixed}")
    assert not unanswered, "\n".join(unanswered)


# --- why --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("index", [0, 1])
def test_why_splits_a_real_change_into_members_that_add_up(
    ext: External, demo_words: tuple[set[str], set[str]], index: int
) -> None:
    """The change between two periods, from SQL; every dimension's member contributions add
    up to it, and each member's own values equal SQL."""
    case = ext.site.why[index]
    answer = ext.ask(case.question)
    assert answer.status == "ok", f"{case.question!r}: {answer.status} {answer.message}"
    metric = ext.model.metric(case.metric)
    current = ext.truth.value(case.metric, *case.current)
    baseline = ext.truth.value(case.metric, *case.baseline)
    assert current is not None and baseline is not None and current != baseline
    for number in (current, baseline):
        shown = format_value(number, metric.unit, answer.lang, compact=True)
        assert shown in answer.narrative, f"{shown} not in {answer.narrative!r}"
    assert demo_leaks(answer_text(answer), ext, demo_words, case.question) == []
    assert not chinese_in_english(answer), chinese_in_english(answer)
    assert answer.query is not None
    result = explain(ext.model, ext.assistant.catalog, ext.assistant.engine, answer.query)
    assert close(result.current, current) and close(result.baseline, baseline)
    assert (result.current_range.start, result.current_range.end) == case.current
    assert (result.baseline_range.start, result.baseline_range.end) == case.baseline
    assert result.by_dimension, "no dimension splits the change"
    assert case.dimension in result.by_dimension, sorted(result.by_dimension)
    for driver in result.by_dimension[case.dimension]:
        where = {case.dimension: driver.member}
        assert close(
            driver.current or 0.0, ext.truth.value(case.metric, *case.current, where) or 0.0
        )
        assert close(
            driver.baseline or 0.0, ext.truth.value(case.metric, *case.baseline, where) or 0.0
        )


def test_why_contributions_add_up_to_the_change_in_every_dimension(ext: External) -> None:
    """The answer says "members' changes add up to the total change": in every dimension
    it splits by, they must (a join that repeats rows would count a change twice)."""
    for case in ext.site.why:
        answer = ext.ask(case.question)
        assert answer.status == "ok" and answer.query is not None, answer.message
        result = explain(ext.model, ext.assistant.catalog, ext.assistant.engine, answer.query)
        assert result.kind == "additive"
        total = ext.truth.value(case.metric, *case.current) or 0.0
        total -= ext.truth.value(case.metric, *case.baseline) or 0.0
        wrong = {
            dimension: sum(d.contribution for d in drivers)
            for dimension, drivers in result.by_dimension.items()
            if not close(sum(d.contribution for d in drivers), total)
        }
        assert wrong == {}, f"{case.question!r}: change {total}, sums {wrong}"


def test_why_drill_suggestions_split_by_what_they_name(ext: External) -> None:
    """ "Revenue by X for M": asked, the drill-down is answered split by X (a member shown
    without its dimension — True, None — cannot be drilled into)."""
    for case in ext.site.why:
        answer = ext.ask(case.question)
        drills = [s.text for s in answer.suggestions if " by " in s.text or "各" in s.text]
        assert drills, f"{case.question!r}: no drill-down offered"
        for text in drills:
            drilled = ext.ask(text)
            assert drilled.status == "ok", f"{text!r}: {drilled.status} {drilled.message}"
            assert drilled.query is not None and drilled.query.dimensions, (
                f"{text!r} names a breakdown but was answered as {drilled.names}"
            )
            assert drilled.query.filters, f"{text!r} names a member but has no filter"


# --- anomalies --------------------------------------------------------------------------------------
def test_the_anomaly_scan_runs_and_each_flagged_month_is_the_sql_value(ext: External) -> None:
    """The scan over the model's derived headline metrics and breakdowns: each flagged
    month's value is what SQL says for that month (and member)."""
    found = scan_anomalies(ext.model, ext.assistant.engine, ext.as_of)
    for anomaly in found:
        end = add_months(anomaly.period, 1)
        where = {anomaly.dimension: str(anomaly.member)} if anomaly.dimension else None
        value = ext.truth.value(anomaly.metric, anomaly.period, end, where)
        assert close(anomaly.value, value), f"{anomaly.reason_en}: SQL says {value}"


@pytest.mark.parametrize("question", ["any anomalies", "最近有什么异常"])
def test_asking_for_anomalies_lists_the_scan(
    ext: External, demo_words: tuple[set[str], set[str]], question: str
) -> None:
    """ "Any anomalies?" is answered (not refused) with the scan's months, in the question's
    language and this model's words."""
    answer = ext.ask(question)
    assert answer.status == "ok", f"{question!r}: {answer.status} {answer.message}"
    found = scan_anomalies(ext.model, ext.assistant.engine, ext.as_of)
    assert [(r[0], r[1]) for r in answer.rows] == [
        (a.period, a.label.get(answer.lang)) for a in found
    ]
    assert answer.narrative
    assert demo_leaks(answer_text(answer), ext, demo_words, question) == []
    assert not chinese_in_english(answer), chinese_in_english(answer)


# --- the executive summary --------------------------------------------------------------------------
@pytest.mark.parametrize("index", range(4))
def test_the_summary_is_the_derived_kpi_pack_with_sql_numbers(
    ext: External, demo_words: tuple[set[str], set[str]], index: int
) -> None:
    """经营概况 / executive summary: the model declares no KPIs, so the pack is derived from
    its metrics; each KPI and its previous period equal SQL, and the story quotes them."""
    question, lang = ext.site.summaries[index]
    assert ext.model.knowledge.kpis == [], "these models declare no knowledge: section"
    answer = ext.ask(question)
    assert answer.status == "ok", f"{question!r}: {answer.status} {answer.message}"
    assert answer.lang == lang
    assert answer.query is not None and answer.query.time_range is not None
    window = answer.query.time_range
    # The pack is the derived headline metrics that can be shown for this period: one without
    # dates (for a period) or that cannot run on this data is left out, and the answer says so.
    kpis = usable_kpis(ext.assistant, window)
    assert kpis and set(kpis) <= set(knowledge.kpis(ext.model))
    assert list(answer.query.metrics) == kpis
    left_out = [k for k in knowledge.kpis(ext.model) if k not in kpis]
    if left_out:
        shown = " ".join(answer.notes)
        assert all(ext.model.metric(k).label.get(lang) in shown for k in left_out), shown
    record = answer.records()[0]
    before = period_before(window.start, window.end)
    all_time = window.start <= date(1901, 1, 1)
    for kpi in kpis:
        if not all_time and not ext.truth.dated(kpi):
            continue  # no dates in the data: what a period shows for it is not settled here
        value = ext.truth.value(kpi, window.start, window.end)
        assert close(record[kpi], value), f"{kpi} over {window}: {record[kpi]} vs SQL {value}"
        if before is not None:
            previous = ext.truth.value(kpi, *before)
            assert close(record[f"{kpi}__compare"], previous), f"{kpi} before: SQL {previous}"
        elif all_time:  # all the data has no previous period: nothing to compare with
            assert record.get(f"{kpi}__compare") is None, f"{kpi}: all time compared with itself"
    headline = [k for k in kpis if all_time or ext.truth.dated(k)][0]
    current = ext.truth.value(headline, window.start, window.end)
    unit = ext.model.metric(headline).unit
    assert format_value(current, unit, lang, compact=True) in answer.narrative, answer.narrative
    if before is not None:
        year_ago = ext.truth.value(
            headline, add_months(window.start, -12), add_months(window.end, -12)
        )
        assert percent(change(current, year_ago)) in answer.narrative, answer.narrative
    assert demo_leaks(answer_text(answer), ext, demo_words, question) == []
    assert not chinese_in_english(answer), chinese_in_english(answer)
    why = [s.text for s in answer.suggestions if s.text.lower().startswith(("为什么", "why"))]
    if all_time:  # all the data has no period before it: there is no change to explain
        assert not why, why
        return
    assert why, f"no 'why' follow-up among {[s.text for s in answer.suggestions]}"
    followed = ext.ask(why[0])
    assert followed.status == "ok" and followed.query is not None, followed.message
    # An explanation answers with each member's contribution to the change (not a series).
    assert "contribution" in followed.names, (
        f"{why[0]!r} was answered as {followed.query.intent.value} by "
        f"{[d.key for d in followed.query.dimensions]}: {followed.names}"
    )


# --- the report -------------------------------------------------------------------------------------
def report_window(ext: External) -> tuple[date, date]:
    period = ext.site.report_period
    if len(period) == 4:
        return date(int(period), 1, 1), date(int(period) + 1, 1, 1)
    start = date(int(period[:4]), int(period[5:7]), 1)
    return start, add_months(start, 1)


def expected_kpi_cells(ext: External, lang: str) -> list[list[str]]:
    """The report's KPI table as SQL says it should read: label, value, vs previous, vs a
    year earlier."""
    start, end = report_window(ext)
    before = period_before(start, end)
    assert before is not None
    rows = []
    window = TimeRange(start=start, end=end)
    for kpi in usable_kpis(ext.assistant, window):
        if not ext.truth.dated(kpi):
            continue  # no dates in the data: what a period shows for it is not settled here
        metric = ext.model.metric(kpi)
        value = ext.truth.value(kpi, start, end)
        previous = ext.truth.value(kpi, *before)
        year_ago = ext.truth.value(kpi, add_months(start, -12), add_months(end, -12))
        rows.append(
            [
                metric.label.get(lang),
                format_value(value, metric.unit, lang, compact=True),
                percent(change(value, previous)),
                percent(change(value, year_ago)),
            ]
        )
    return rows


@pytest.fixture
def cli_env(ext: External, monkeypatch: pytest.MonkeyPatch) -> External:
    """The CLI offline, with this module's cache, not the user's configuration."""
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(ext.folder / "cache"))
    for name in ("COCKPIT_CONFIG", "COCKPIT_ROLE", "COCKPIT_LLM_MODEL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(ext.folder)  # no ./cockpit.toml of the checkout's
    return ext


@pytest.mark.parametrize("suffix,lang", [(".md", "en"), (".html", "zh")])
def test_cockpit_report_writes_the_kpis_sql_gives(
    cli_env: External, demo_words: tuple[set[str], set[str]], suffix: str, lang: str
) -> None:
    """`cockpit report --period P --out report.md|html` on this model: every KPI row reads
    the SQL numbers, the file has its charts, and no demo word."""
    ext = cli_env
    out = ext.folder / f"report-{lang}{suffix}"
    args = ["report", "--out", str(out), "--period", ext.site.report_period, "--lang", lang]
    args += [
        "--as-of",
        str(ext.as_of),
        "--model",
        str(ext.eval_set.model),
        "--db",
        str(ext.database),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, (result.output, result.exception)
    text = out.read_text(encoding="utf-8")
    for label, value, mom, yoy in expected_kpi_cells(ext, lang):
        if suffix == ".md":
            assert f"| {label} | {value} | {mom} | {yoy} |" in text, (label, value, mom, yoy, text)
        else:
            cells = "".join(f"<td>{c}</td>" for c in (label, value, mom, yoy))
            assert cells in text, (label, value, mom, yoy)
    if suffix == ".html":
        assert "<svg" in text, "no chart in the HTML report"
    else:
        assert list(out.with_name(out.stem + "_files").glob("*.svg")), "no chart beside the report"
    leaks = demo_leaks(re.sub(r"<[^>]+>", " ", text), ext, demo_words)
    assert leaks == []


# --- alerts -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def alerting(ext: External) -> tuple[Path, Assistant]:
    """A copy of the model with alert rules of its own (the imported models have none)."""
    raw = yaml.safe_load(ext.eval_set.model.read_text(encoding="utf-8"))
    assert not raw.get("alerts")
    raw["alerts"] = [dict(rule) for rule in ext.site.alert_rules]
    path = ext.folder / "model_with_alerts.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assistant = Assistant.open(
        model=path, database=ext.database, as_of=ext.as_of, settings=_offline(ext.folder / "cache")
    )
    return path, assistant


def expected_alerts(
    ext: External, day: date, grain: str
) -> set[tuple[str, tuple[str, ...], float]]:
    """(rule, member, value) of every rule of `grain` that SQL says breaks at `day`."""
    from assistant.insights.alerts import OPS, period_bounds

    start, end = period_bounds(day, grain)
    out = set()
    for rule in ext.site.alert_rules:
        if rule.get("grain", "month") != grain:
            continue
        metric = rule["metric"]
        scope = {f["dimension"]: f["values"][0] for f in rule.get("filters", [])}
        if rule.get("dimensions"):
            (dimension,) = rule["dimensions"]
            # Members with data in the period: a member without rows has no value (not 0).
            measure = ext.truth.measures[metric]
            assert measure.day is not None
            column = {"location_name": "l.location_name", "policy_number": "p.Policy_Number"}
            sql = (
                f"SELECT DISTINCT {column[dimension]} FROM {measure.source} "
                f"WHERE {measure.where} AND {measure.day} >= ? AND {measure.day} < ?"
            )
            members = [str(v) for (v,) in ext.truth.rows(sql, [start, end])]
        else:
            dimension, members = None, [""]
        for member in members:
            where = dict(scope)
            if dimension is not None:
                where[dimension] = member
            value = ext.truth.value(metric, start, end, where)
            if rule.get("change"):
                months = 12 if rule["change"] == "yoy" else (12 if grain == "year" else 1)
                earlier = ext.truth.value(
                    metric, add_months(start, -months), add_months(end, -months), where
                )
                value = change(value, earlier)
            if value is not None and OPS[rule["op"]](value, rule["value"]):
                key = (member,) if dimension is not None else ()
                out.add((rule["name"], key, round(value, 4)))
    return out


def test_alert_rules_fire_with_the_sql_value_and_stay_quiet_otherwise(
    ext: External, alerting: tuple[Path, Assistant], demo_words: tuple[set[str], set[str]]
) -> None:
    """Threshold, change, per-member and scoped rules on this model's metrics fire exactly
    when SQL says they break, with SQL's value in the message."""
    _path, assistant = alerting
    evaluated = firing = 0
    for day, grain in ext.site.alert_days:
        fired = evaluate_alerts(assistant.model, assistant.engine, day, grain)
        got = {(a.rule, a.member, round(a.value, 4)) for a in fired}
        want = expected_alerts(ext, day, grain)
        assert got == want, f"{day} ({grain}): {got} vs SQL {want}"
        evaluated += sum(1 for r in ext.site.alert_rules if r.get("grain", "month") == grain)
        firing += len({rule for rule, _member, _value in want})
        for alert in fired:
            unit = assistant.model.metric(alert.metric).unit
            for lang in ("zh", "en"):
                message = alert.message(lang)
                assert assistant.model.metric(alert.metric).label.get(lang) in message
                if not alert.change:
                    assert format_value(alert.value, unit, lang, compact=True) in message
                assert demo_leaks(message, ext, demo_words) == []
    assert 0 < firing < evaluated  # the rules and days were chosen to fire and to stay quiet


@pytest.mark.parametrize("question", ["有哪些预警", "which alerts fired"])
def test_asking_for_alerts_lists_what_fires_at_the_as_of_date(
    ext: External, alerting: tuple[Path, Assistant], question: str
) -> None:
    _path, assistant = alerting
    answer = assistant.ask(question)
    assert answer.status == "ok", answer.message
    fired = evaluate_alerts(assistant.model, assistant.engine, assistant.as_of)
    assert [r[2] for r in answer.rows] == [a.message(answer.lang) for a in fired]
    want = expected_alerts(ext, assistant.as_of, "month")
    assert len(answer.rows) == len(want)
    assert not chinese_in_english(answer), chinese_in_english(answer)


def test_cockpit_alerts_prints_the_rules_and_exits_2_on_a_critical_one(
    cli_env: External, alerting: tuple[Path, Assistant]
) -> None:
    """The cron command on this model's rules: each firing rule printed, exit code 2 only
    when a critical rule fires."""
    ext = cli_env
    path, assistant = alerting
    day = ext.site.cli_alert_day
    args = ["alerts", "--as-of", str(day), "--lang", "en", "--model", str(path)]
    result = CliRunner().invoke(cli, [*args, "--db", str(ext.database)])
    fired = evaluate_alerts(assistant.model, assistant.engine, day)
    assert fired, "the rules were chosen to fire on this day"
    critical = any(a.severity == "critical" for a in fired)
    assert result.exit_code == (2 if critical else 0), result.output
    for alert in fired:
        assert alert.message("en") in result.output


def test_the_summary_carries_the_alerts_that_fired(
    ext: External, alerting: tuple[Path, Assistant]
) -> None:
    """A summary of a month in which a rule fired says so."""
    _path, assistant = alerting
    day = ext.site.cli_alert_day
    fired = evaluate_alerts(assistant.model, assistant.engine, day)
    question = f"{day.year}年{day.month}月经营概况"
    answer = assistant.ask(question)
    assert answer.status == "ok", f"{question!r}: {answer.message}"
    for alert in fired:
        assert alert.message("zh") in answer.notes


# --- the board --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pinned(ext: External) -> tuple[BoardStore, Board]:
    """A board of this model's own answers (single numbers and a breakdown), pinned from the
    chat as a user would."""
    store = BoardStore(ext.folder / "pinned.sqlite")
    store.create("mine", None, "Mine")
    for question in ext.site.pins:
        answer = ext.ask(question)
        assert answer.status == "ok", f"{question!r}: {answer.message}"
        pin_answer(store, ext.assistant, answer, board="mine")
    return store, store.get("mine", None)


def check_kpi_tile(ext: External, tile: Tile, where: dict[str, str] | None = None) -> None:
    """A KPI tile's value, its year-ago value and its sparkline equal SQL."""
    assert tile.status == "ok", f"{tile.title}: {tile.message}"
    assert tile.metric is not None and tile.period is not None
    start, end = tile.period.start, tile.period.end
    value = ext.truth.value(tile.metric, start, end, where)
    assert close(tile.value, value), f"{tile.title} {tile.period}: {tile.value} vs SQL {value}"
    if tile.yoy is not None and start > date(1901, 1, 1):
        year_ago = ext.truth.value(tile.metric, add_months(start, -12), add_months(end, -12), where)
        assert close(tile.yoy.previous, year_ago), f"{tile.title} a year earlier: SQL {year_ago}"
    for month, point in tile.sparkline:
        first = date(month.year, month.month, 1)
        expected = ext.truth.value(tile.metric, first, add_months(first, 1), where)
        assert close(point or 0.0, expected or 0.0), (
            f"{tile.title} sparkline {month}: {point} vs {expected}"
        )


def test_a_pinned_board_reruns_to_the_sql_numbers(ext: External, pinned) -> None:
    """Tiles re-run the pinned queries: values, deltas, sparklines and the breakdown chart."""
    _store, board = pinned
    view = view_board(ext.assistant, board)
    kpis = [t for t in view.tiles if t.kind == "kpi"]
    charts = [t for t in view.tiles if t.kind == "chart"]
    assert len(kpis) == len(ext.site.pins) - 1 and len(charts) == 1
    for tile in kpis:
        check_kpi_tile(ext, tile)
    (chart,) = charts
    assert chart.status == "ok" and chart.chart, chart.message
    case = next(a for a in ext.site.asked if a.question == chart.pin.question)
    want = sorted((tuple(norm(v) for v in r) for r in ext.truth.rows(case.sql)), key=repr)
    assert sorted(rows_of(chart.answer, case.columns), key=repr) == want


def test_the_boards_shared_filter_is_derived_and_filters_to_sql(ext: External, pinned) -> None:
    """The board's filter dimension comes from the model; a member picked there gives the
    numbers SQL gives inside that member."""
    from assistant.board import dimension_members

    _store, board = pinned
    counts = {name: len(values) for name, values in ext.assistant.lexicon.values.items()}
    shared = knowledge.board_filters(ext.model, counts)
    assert shared, "no dimension to filter the board by"
    dimension = shared[0]
    members = dimension_members(ext.assistant, dimension)
    assert len(members) >= 2, members
    flt = {"dimension": dimension, "op": "=", "values": [members[0]]}
    view = view_board(ext.assistant, board, filters=[flt])
    filtered = [t for t in view.tiles if t.kind == "kpi" and t.filtered]
    assert filtered, f"no tile reaches {dimension}"
    for tile in filtered:
        check_kpi_tile(ext, tile, {dimension: members[0]})


def test_the_model_gets_a_default_board_of_its_own(ext: External) -> None:
    """A role without boards gets a default board: the demo ships one; a model without a
    board file should get one derived from its headline metrics, not nothing."""
    board = default_board(ext.assistant)
    assert board is not None, "no default board for this model: the board page starts empty"
    metrics = [m for pin in board.pins for m in pin.query.metrics]
    assert metrics and set(metrics) <= set(ext.model.metric_map)
    for tile in view_board(ext.assistant, board).tiles:
        if tile.kind == "kpi":
            check_kpi_tile(ext, tile)
        else:
            assert tile.status == "ok", f"{tile.pin.question}: {tile.message}"


# --- push -------------------------------------------------------------------------------------------
class _Hook(http.server.BaseHTTPRequestHandler):
    """A loopback webhook that keeps what it is sent."""

    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (the http.server name)
        length = int(self.headers.get("Content-Length", 0))
        type(self).received.append(json.loads(self.rfile.read(length).decode("utf-8")))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_args: object) -> None:
        return


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A webhook on 127.0.0.1 (no network leaves the machine) and the bodies it received."""
    received: list[dict[str, Any]] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"webhook:http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


def tile_values(ext: External, board: Board, lang: str) -> list[str]:
    """ "<title> <value>" of each KPI tile as SQL says it should read."""
    out = []
    for tile in view_board(ext.assistant, board, lang=lang).tiles:
        if tile.kind == "kpi":
            assert tile.metric is not None and tile.period is not None
            value = ext.truth.value(tile.metric, tile.period.start, tile.period.end)
            unit = ext.model.metric(tile.metric).unit
            out.append(f"{tile.title} {format_value(value, unit, lang, compact=True)}")
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_board_renders_to_text_and_markdown_with_the_sql_numbers(
    ext: External, pinned, demo_words: tuple[set[str], set[str]], lang: str
) -> None:
    _store, board = pinned
    rendered = render_board(ext.assistant, board, lang=lang)
    for line in tile_values(ext, board, lang):
        assert line in rendered.text, (line, rendered.text)
        title, _, value = line.rpartition(" ")
        assert f"**{title}** {value}" in rendered.markdown, (line, rendered.markdown)
    for text in (rendered.text, rendered.markdown):
        assert demo_leaks(text, ext, demo_words, " ".join(ext.site.pins)) == []


def test_a_board_is_pushed_to_a_generic_webhook(ext: External, pinned, webhook) -> None:
    """`cockpit push --board … --format generic` to a loopback server: one JSON body with the
    title, the text and the HTML, carrying the tiles' SQL numbers."""
    store, board = pinned
    target, received = webhook
    result = push(
        ext.assistant, board.name, target, fmt="generic", lang="en", store=store, attempts=1
    )
    assert result.attempts == 1
    (body,) = received
    assert set(body) == {"title", "text", "html"}
    assert body["title"].startswith(board.title)
    for line in tile_values(ext, board, "en"):
        assert line in body["text"], (line, body["text"])
        assert line.rpartition(" ")[2] in body["html"]


def test_the_summary_is_pushed_with_the_sql_numbers(ext: External, webhook, demo_words) -> None:
    """`cockpit push --board summary --period P`: the executive summary, KPI by KPI."""
    target, received = webhook
    result = push(
        ext.assistant, "summary", target, period=ext.site.report_period, lang="zh", attempts=1
    )
    assert result.attempts == 1
    (body,) = received
    rendered = render_summary(ext.assistant, ext.site.report_period, "zh")
    assert body["text"] == rendered.text
    for label, value, _mom, _yoy in expected_kpi_cells(ext, "zh"):
        assert f"{label} {value}" in body["text"], (label, value, body["text"])
    assert demo_leaks(body["text"], ext, demo_words) == []


# --- the app ----------------------------------------------------------------------------------------
@pytest.fixture
def app_env(ext: External, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[External]:
    """The app pointed at this model and its database (at the set's as-of date), offline,
    with a fresh board file. Streamlit's caches are process-wide and keyed by the as-of date
    only, so they are emptied around each test: another model's assistant must not answer."""
    monkeypatch.setenv("COCKPIT_MODEL", str(ext.eval_set.model))
    monkeypatch.setenv("COCKPIT_DATABASE", str(ext.database))
    monkeypatch.setenv("COCKPIT_AS_OF", str(ext.as_of))
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(ext.folder / "cache"))
    monkeypatch.setenv("COCKPIT_BOARD_DB", str(tmp_path / "boards.sqlite"))
    monkeypatch.setenv("COCKPIT_LANG", ext.site.app_lang)
    for name in ("COCKPIT_ROLE", "COCKPIT_CONFIG", "COCKPIT_LLM_MODEL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield ext
    st.cache_resource.clear()
    st.cache_data.clear()


def page_text(at: AppTest) -> str:
    parts = []
    for kind in ("markdown", "caption", "info", "warning", "error", "title"):
        parts += [str(e.value) for e in at.get(kind)]
    parts += [b.label for b in at.get("button")]
    return "\n".join(parts)


SCALES = {"万": 1e4, "亿": 1e8, "K": 1e3, "M": 1e6, "B": 1e9}


def shown(text: str) -> tuple[float, float]:
    """A formatted table cell back to (number, the half-unit of its last digit): "34,240.00",
    "¥3.42万" (34,200 ± 50), "¥5.09M", "12.5%"."""
    plain = re.sub(r"[,¥\s]", "", text)
    base = 1.0
    if plain[-1:] in SCALES:
        plain, base = plain[:-1], SCALES[plain[-1]]
    if plain.endswith("%"):
        plain, base = plain[:-1], base / 100
    decimals = len(plain.split(".")[1]) if "." in plain else 0
    return float(plain) * base, 0.5 * base * 10**-decimals


def test_the_chat_welcome_shows_this_models_headline_cards_and_examples(
    app_env: External, demo_words: tuple[set[str], set[str]]
) -> None:
    """Headline cards of the derived KPIs with this year's SQL numbers against last year's,
    and example buttons built from this model's labels."""
    ext = app_env
    lang = ext.site.app_lang
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    label = ext.model.label.get(lang) if ext.model.label else ext.model.name
    assert label in at.title[0].value
    examples = example_questions(ext.assistant, lang)
    assert examples
    assert [b.label for b in at.main.get("button")] == examples
    labels = {m.label.get(lang).lower() for m in ext.model.metrics}
    assert all(any(x in e.lower() for x in labels) for e in examples), examples
    assert demo_leaks(page_text(at), ext, demo_words) == []
    cards = kpi_cards(at.main)
    assert cards, "no headline cards on the welcome page"
    this_year = date(ext.as_of.year, 1, 1), ext.as_of + timedelta(days=1)
    kpis = usable_kpis(ext.assistant, TimeRange(start=this_year[0], end=this_year[1]))[:3]
    assert [c["label"] for c in cards] == [ext.model.metric(k).label.get(lang) for k in kpis]
    last_year = add_months(this_year[0], -12), add_months(this_year[1], -12)
    for card, kpi in zip(cards, kpis, strict=True):
        unit = ext.model.metric(kpi).unit
        value = ext.truth.value(kpi, *this_year)
        assert card["value"] == format_value(value, unit, lang, compact=True), (kpi, card)
        before = ext.truth.value(kpi, *last_year)
        assert format_value(before, unit, lang, compact=True) in card["basis"], (kpi, card)


def test_the_chat_answers_a_question_with_the_sql_table(app_env: External) -> None:
    """A typed question: the table's rows are the SQL rows (identifiers shown as written)."""
    ext = app_env
    case = ext.site.app_question
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.chat_input[0].set_value(case.question).run()
    assert not at.exception, at.exception
    answer = at.chat_message[-1]
    assert answer.dataframe, [e.value for e in answer.get("markdown")] + [
        e.value for e in answer.get("info") + answer.get("warning") + answer.get("error")
    ]
    frame = answer.dataframe[0].value
    assert len(frame.columns) == len(case.columns)
    got = sorted((str(r[0]), shown(str(r[1]))) for r in frame.itertuples(index=False))
    want = sorted((str(a), float(b)) for a, b in ext.truth.rows(case.sql))
    assert [g[0] for g in got] == [w[0] for w in want], "the members as the data writes them"
    # Money is shown in ¥ with 万/K/M: equal to the SQL figure to the last digit shown.
    pairs = zip(got, want, strict=True)
    assert all(abs(g[1][0] - w[1]) <= g[1][1] + 1e-9 for g, w in pairs), (got, want)


def test_an_example_button_is_answered_with_a_table(app_env: External) -> None:
    """The first example on the welcome page, clicked, gives a table (not a clarification)."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.main.get("button")[0].click().run()
    assert not at.exception, at.exception
    answer = at.chat_message[-1]
    assert answer.dataframe, [e.value for e in answer.get("info") + answer.get("warning")]
    assert len(answer.dataframe[0].value) >= 1


def test_the_board_page_renders_a_pinned_board_with_the_sql_numbers(
    app_env: External, pinned
) -> None:
    """The 驾驶舱 page on this model: the tiles of a board pinned from its answers, with the
    numbers SQL gives, and the model's own filter dimension."""
    ext = app_env
    lang = ext.site.app_lang
    _store, board = pinned
    BoardStore().save(board, None)  # COCKPIT_BOARD_DB: this test's fresh file
    at = AppTest.from_file(BOARD_PAGE, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}
    expected = tile_values(ext, board, lang)
    assert expected
    for line in expected:
        title, _, value = line.rpartition(" ")
        assert shown.get(title) == value, (title, value, shown)
    counts = {name: len(values) for name, values in ext.assistant.lexicon.values.items()}
    for dimension in knowledge.board_filters(ext.model, counts):
        assert at.selectbox(key=f"board_member_{dimension}").options[0] in ("全部", "All")


def test_the_board_page_on_a_fresh_install_shows_the_models_headline_numbers(
    app_env: External,
) -> None:
    """Nothing pinned yet: the page renders without error, and (like the demo's default
    board) shows this model's headline metrics rather than an empty page."""
    ext = app_env
    lang = ext.site.app_lang
    at = AppTest.from_file(BOARD_PAGE, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    shown = [m.label for m in at.metric]
    headline = [ext.model.metric(k).label.get(lang) for k in knowledge.kpis(ext.model)]
    assert shown and set(shown) <= set(headline), (shown, [i.value for i in at.info])
