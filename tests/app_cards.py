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
        if spec.get("width") == CARD_WIDTH and element.proto.data.data:
            frame = pyarrow.ipc.open_stream(element.proto.data.data).read_pandas()
            cards.append(frame.iloc[0].to_dict())
    return cards
