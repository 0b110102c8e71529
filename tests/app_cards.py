"""Reading the app's KPI cards in AppTest: each card is a chart of its own, its figures in the
chart's data (Arrow), drawn at the card's width."""

from __future__ import annotations

import json
from typing import Any

CARD_WIDTH = 230  # assistant/charts.py draws each KPI card this wide


def kpi_cards(block: Any) -> list[dict[str, Any]]:
    """The KPI cards drawn in a block: one chart each, its card in the chart's data."""
    import pyarrow

    cards = []
    for element in block.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        if spec.get("width") != CARD_WIDTH:
            continue
        # The rows travel as the chart's data or, named, as one of its datasets.
        blobs = [element.proto.data.data, *(d.data.data for d in element.proto.datasets)]
        blob = next((b for b in blobs if b), None)
        if blob:
            cards.append(pyarrow.ipc.open_stream(blob).read_pandas().iloc[0].to_dict())
    return cards
