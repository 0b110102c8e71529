"""Auto-charts: a Vega-Lite spec chosen from what the answer's columns mean."""

from __future__ import annotations

from datetime import date
from typing import Any

from semantic_layer.compiler import OutputColumn


def _key(value: Any) -> str:
    return value.isoformat()[:10] if isinstance(value, date) else str(value)


def chart(columns: tuple[OutputColumn, ...], rows: list[tuple], lang: str) -> dict | None:
    """A Vega-Lite spec: a line over time, bars by category; none for a single value."""
    dims = [c for c in columns if c.kind == "dimension"]
    metrics = [c for c in columns if c.kind == "metric"]
    if not dims or not metrics or not rows:
        return None
    names = [c.name for c in columns]
    key, metric = dims[0], metrics[0]
    data = [
        {
            key.name: _key(r[names.index(key.name)]),
            metric.name: None
            if r[names.index(metric.name)] is None
            else float(r[names.index(metric.name)]),
        }
        for r in rows
    ]
    temporal = key.grain is not None
    spec: dict[str, Any] = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": data},
        "mark": {"type": "line", "point": True} if temporal else {"type": "bar"},
        "encoding": {
            "x": {
                "field": key.name,
                "type": "temporal" if temporal else "nominal",
                "title": key.label.get(lang),
                **({} if temporal else {"sort": "-y"}),
            },
            "y": {
                "field": metric.name,
                "type": "quantitative",
                "title": metric.label.get(lang),
                **({"axis": {"format": "%"}} if metric.unit == "percent" else {}),
            },
            "tooltip": [{"field": key.name}, {"field": metric.name, "type": "quantitative"}],
        },
    }
    return spec
