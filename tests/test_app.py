"""The Streamlit app, driven headless with AppTest on the real demo database."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def app(demo_db, monkeypatch) -> AppTest:
    monkeypatch.setenv("COCKPIT_DATABASE", str(demo_db))
    return AppTest.from_file(APP, default_timeout=60)


def test_app_shows_kpis_table_definition_and_sql(app):
    app.run()
    assert not app.exception
    assert "华锐科技" in app.title[0].value
    labels = [m.label for m in app.metric]
    assert labels == ["营业收入", "毛利率"]
    assert app.metric[0].value.endswith("亿")
    assert any("SELECT" in c.value for c in app.code)
    assert any("已完成订单" in m.value for m in app.markdown)


def test_app_breakdown_offers_only_reachable_dimensions(app):
    app.run()
    app.sidebar.selectbox[0].set_value("region").run()
    assert not app.exception
    frame = app.dataframe[0].value
    assert len(frame) == 7 and "区域" in frame.columns
    app.sidebar.multiselect[0].set_value(["expenses"]).run()
    assert not app.exception
    assert "region" not in app.sidebar.selectbox[0].options  # expenses have no region
    app.sidebar.selectbox[0].set_value("department").run()
    assert len(app.dataframe[0].value) == 8
