"""How numbers look to a person: money with separators (or 万/亿 in Chinese), rates as %."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal


def format_value(
    value: object,
    unit: str | None = None,
    lang: str = "zh",
    compact: bool = False,
    spec: str | None = None,
) -> str:
    """Render one cell. `compact` uses 万/亿 (zh) or K/M/B (en) for large amounts; `spec` is
    the metric's own display format (e.g. ",.2f") and wins for full-precision display."""
    if value is None:
        return "—"
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    if not isinstance(value, int | float | Decimal):
        return str(value)
    number = float(value)
    if spec and not compact:
        return format(number, spec)
    if unit in ("percent", "ratio"):
        return f"{number * 100:.1f}%" if unit == "percent" else f"{number:.2f}"
    if unit == "days":
        return f"{number:.1f}"
    if unit in ("count", "units"):
        return f"{number:,.0f}" if not compact else _compact(number, lang, 0)
    if compact:
        text = _compact(number, lang, 2)
        # English readers need the currency said: ¥12.3M; Chinese amounts read as 1.23亿.
        return text if lang == "zh" else ("-¥" + text[1:] if text.startswith("-") else "¥" + text)
    return f"{number:,.2f}"


def _compact(number: float, lang: str, digits: int) -> str:
    size = abs(number)
    steps = [(1e8, "亿"), (1e4, "万")] if lang == "zh" else [(1e9, "B"), (1e6, "M"), (1e3, "K")]
    for base, suffix in steps:
        if size >= base:
            return f"{number / base:,.2f}{suffix}"
    return f"{number:,.{digits}f}"
