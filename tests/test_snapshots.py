"""Balances name their snapshot dates; comparisons by period read the fact table once.

Both are speed-ups (see README "Performance"), so what matters is that they never change a
number: each test runs the fast form and the plain form on real data and compares them.
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from semantic_layer.compiler import add_months, compile_query
from semantic_layer.engine import DuckDBEngine
from semantic_layer.query import SemanticQuery
from semantic_layer.security import SecuredEngine


def query(**fields) -> SemanticQuery:
    return SemanticQuery.model_validate(fields)


AR_NOW = {"metrics": ["ar_balance"], "time_range": {"start": "1900-01-01", "end": "2026-01-01"}}


def test_balances_name_the_last_snapshot_date_of_each_period(model, engine):
    by_quarter = query(
        metrics=["ar_balance"],
        dimensions=["metric_time:quarter"],
        time_range={"start": "2025-01-01", "end": "2026-01-01"},
    )
    compiled = compile_query(model, by_quarter, snapshots=engine.snapshots)
    for day in ("2025-03-31", "2025-06-30", "2025-09-30", "2025-12-31"):
        assert f"'{day}'" in compiled.sql
    assert "'2025-01-31'" not in compiled.sql
    plain = compile_query(model, by_quarter)
    assert "MAX(" in plain.sql
    assert engine.execute(compiled.ast).rows == engine.execute(plain.ast).rows


def test_a_window_without_snapshots_gives_no_rows_not_an_older_balance(model, engine):
    future = query(metrics=["ar_balance"], time_range={"start": "2030-01-01", "end": "2030-02-01"})
    compiled = compile_query(model, future, snapshots=engine.snapshots)
    assert (
        engine.execute(compiled.ast).rows == engine.execute(compile_query(model, future).ast).rows
    )
    assert engine.execute(compiled.ast).scalar() is None


def _add_snapshot(path, day: date, region: str) -> Decimal:
    """A new month-end snapshot holding only `region`'s customers; returns its total."""
    with duckdb.connect(str(path)) as con:
        con.execute(
            """INSERT INTO ar_aging_monthly
               SELECT ?, a.customer_id, a.balance, a.current_amount, a.overdue_1_30,
                      a.overdue_31_60, a.overdue_61_90, a.overdue_over_90
               FROM ar_aging_monthly a JOIN customers c USING (customer_id)
               JOIN regions r ON r.region_id = c.region_id
               WHERE a.snapshot_date = DATE '2025-12-31' AND r.region_name = ?""",
            [day, region],
        )
        return con.execute(
            "SELECT SUM(balance) FROM ar_aging_monthly WHERE snapshot_date = ?", [day]
        ).fetchone()[0]


def test_dates_come_from_the_data_and_follow_the_role(model, demo_db, tmp_path):
    copy = tmp_path / "more.duckdb"
    shutil.copy(demo_db, copy)
    total = _add_snapshot(copy, date(2026, 1, 31), "华北")
    now = query(metrics=["ar_balance"], time_range={"start": "1900-01-01", "end": "2026-02-01"})
    with DuckDBEngine(copy) as db:
        everyone = SecuredEngine(db, model)
        compiled = compile_query(model, now, snapshots=everyone.snapshots)
        assert "'2026-01-31'" in compiled.sql
        assert everyone.execute(compiled.ast).scalar() == total
        # 华东's manager sees no 2026-01-31 rows: their latest balance is the 2025-12-31 one,
        # exactly what the subquery form finds through the same row filter.
        east = SecuredEngine(db, model, "east_manager")
        scoped = compile_query(model, now, snapshots=east.snapshots)
        assert "'2025-12-31'" in scoped.sql
        plain = east.execute(compile_query(model, now).ast).scalar()
        assert east.execute(scoped.ast).scalar() == plain
        assert plain is not None and plain > 0


def test_dates_are_read_again_when_the_data_changes(model, demo_db, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, copy)
    with DuckDBEngine(copy) as db:
        first = compile_query(model, query(**AR_NOW), snapshots=db.snapshots).sql
        assert len(db.snapshots._cache) == 1
        stat = copy.stat()
        os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        again = compile_query(model, query(**AR_NOW), snapshots=db.snapshots).sql
        assert len(db.snapshots._cache) == 2  # a new data version, read anew
        assert again == first


def test_a_row_cap_below_the_number_of_dates_falls_back_to_the_subquery(model, engine):
    capped = SecuredEngine(engine, model, max_rows=10)  # 36 month-ends in the demo
    compiled = compile_query(model, query(**AR_NOW), snapshots=capped.snapshots)
    assert "MAX(" in compiled.sql
    assert (
        capped.execute(compiled.ast).scalar()
        == engine.execute(
            compile_query(model, query(**AR_NOW), snapshots=engine.snapshots).ast
        ).scalar()
    )


@pytest.mark.parametrize(
    ("fields", "shared"),
    [
        # whole months shifted by whole months: one scan over 13 months
        ({"dimensions": ["metric_time:month"], "compare": "mom"}, True),
        ({"dimensions": ["metric_time:quarter"], "compare": "yoy"}, True),
        ({"dimensions": ["metric_time:month", "channel"], "compare": "yoy"}, True),
        # a quarter shifted by one month mixes periods: two scans
        ({"dimensions": ["metric_time:quarter"], "compare": "mom"}, False),
        # no period key: the totals of two windows
        ({"dimensions": ["region"], "compare": "yoy"}, False),
        # a window starting mid-month would mix the two periods in its first month
        (
            {
                "dimensions": ["metric_time:month"],
                "compare": "mom",
                "time_range": {"start": "2025-01-15", "end": "2025-04-01"},
            },
            False,
        ),
    ],
)
def test_comparisons_share_one_scan_only_when_periods_line_up(model, engine, fields, shared):
    base = {"metrics": ["revenue"], "time_range": {"start": "2025-01-01", "end": "2026-01-01"}}
    asked = query(**{**base, **fields})
    compiled = compile_query(model, asked)
    assert ("f0_scan" in compiled.sql) is shared
    if not shared:
        return
    # Each period's comparison value is that period's plain total one shift earlier.
    plain = query(
        metrics=["revenue"],
        dimensions=fields["dimensions"],
        time_range={"start": "2023-01-01", "end": "2026-01-01"},
    )
    key = asked.dimensions[0].key
    others = [ref.key for ref in asked.dimensions[1:]]
    totals = {
        (row[key], *(row[k] for k in others)): row["revenue"]
        for row in engine.execute(compile_query(model, plain).ast).records()
    }
    months = 1 if asked.compare.value == "mom" else 12
    rows = engine.execute(compiled.ast).records()
    assert len(rows) >= 4
    for row in rows:
        earlier = add_months(row[key], -months)
        assert row["revenue"] == totals[(row[key], *(row[k] for k in others))]
        assert row["revenue__compare"] == totals.get((earlier, *(row[k] for k in others)))


@pytest.mark.parametrize("metric", ["gross_margin", "collection_rate", "avg_order_value", "dso"])
def test_derived_metrics_over_shared_scans_match_their_plain_monthly_values(model, engine, metric):
    """Several fact groups (collection rate: receipts ÷ invoices), some shared, some not (DSO
    mixes a balance): each month's comparison value is the plain value a month earlier."""
    year = {"start": "2025-01-01", "end": "2026-01-01"}
    asked = query(
        metrics=[metric], dimensions=["metric_time:month"], time_range=year, compare="mom"
    )
    compiled = compile_query(model, asked, snapshots=engine.snapshots)
    plain = query(
        metrics=[metric],
        dimensions=["metric_time:month"],
        time_range={"start": "2024-12-01", "end": "2026-01-01"},
    )
    values = {
        row["metric_time__month"]: row[metric]
        for row in engine.execute(
            compile_query(model, plain, snapshots=engine.snapshots).ast
        ).records()
    }
    rows = engine.execute(compiled.ast).records()
    assert len(rows) == 12
    for row in rows:
        month = row["metric_time__month"]
        assert row[metric] == values[month]
        assert row[f"{metric}__compare"] == values[add_months(month, -1)]
