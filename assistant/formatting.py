"""How numbers look to a person: money with separators (or 万/亿 in Chinese), rates as %."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal


def as_number(value: object) -> float | None:
    """A metric's value as a number; None for a missing value or one that is not a number (a
    model may define a metric as the MAX of a text column)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


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


# --- tables: one scale per column, signed changes, periods by name ------------------------------
MONTH_ABBR = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def period_label(day: date, grain: str | None, lang: str = "zh") -> str:
    """A time member named as people name it: 2025年3月 / Mar 2025, 2025年Q4 / 2025 Q4,
    2025年 / 2025, 2025年第10周 / 2025 W10, 2025年3月1日 / 2025-03-01 — never a first day."""
    zh = lang == "zh"
    if grain == "year":
        return f"{day.year}年" if zh else f"{day.year}"
    if grain == "quarter":
        q = (day.month - 1) // 3 + 1
        return f"{day.year}年Q{q}" if zh else f"{day.year} Q{q}"
    if grain == "month":
        return f"{day.year}年{day.month}月" if zh else f"{MONTH_ABBR[day.month - 1]} {day.year}"
    if grain == "week":
        year, week, _ = day.isocalendar()
        return f"{year}年第{week}周" if zh else f"{year} W{week:02d}"
    return f"{day.year}年{day.month}月{day.day}日" if zh else day.isoformat()[:10]


def money_scale(values: list[object], lang: str = "zh") -> tuple[float, str]:
    """The one scale a money column is written in, from its typical size: (10_000, "万") for a
    column of millions in Chinese, (1e6, "M") in English; (1, "") for small amounts. One scale
    per column keeps the figures comparable down the column."""
    sizes = sorted(abs(float(v)) for v in values if isinstance(v, int | float | Decimal))
    if not sizes:
        return 1.0, ""
    typical = sizes[len(sizes) // 2]
    steps = [(1e8, "亿"), (1e4, "万")] if lang == "zh" else [(1e9, "B"), (1e6, "M"), (1e3, "K")]
    if lang == "zh" and typical < 1e10:
        # 万 keeps four more digits than 亿 for the amounts a business table holds (1.93亿 is
        # 19,254.62万); 亿 only when even 万 would need more than six digits before the point.
        steps = [(1e4, "万")]
    for base, suffix in steps:
        if typical >= base:
            return base, suffix
    return 1.0, ""


def format_money(value: object, scale: tuple[float, str] = (1.0, ""), signed: bool = False) -> str:
    """¥19,254.62万, -¥98.03万, +¥1,629.67万 (a change) — the currency always said."""
    if value is None:
        return "—"
    number = float(value)  # type: ignore[arg-type]
    base, suffix = scale
    amount = round(number / base, 2)
    if amount == 0:
        number = amount = 0.0  # never "-¥0.00"
    sign = "-" if amount < 0 else ("+" if signed and amount > 0 else "")
    return f"{sign}¥{abs(amount):,.2f}{suffix}"


def format_points(change: object, lang: str = "zh") -> str:
    """The change of a rate in percentage points: +1.2个百分点 / -0.4 pp (never -0.0)."""
    if change is None:
        return "—"
    points = round(float(change) * 100, 1)  # type: ignore[arg-type]
    if points == 0:
        return "0.0个百分点" if lang == "zh" else "0.0 pp"
    text = f"{points:+.1f}"
    return f"{text}个百分点" if lang == "zh" else f"{text} pp"


def format_change_pct(pct: object, base: object = None) -> str:
    """A relative change, signed: +26.0%. A change against a base of zero or below has no
    meaningful percentage (−98万 → −614万 is not "−526.8%"), so it reads "—"."""
    if pct is None:
        return "—"
    if base is not None and float(base) <= 0:  # type: ignore[arg-type]
        return "—"
    value = round(float(pct) * 100, 1)  # type: ignore[arg-type]
    return "0.0%" if value == 0 else f"{value:+.1f}%"
