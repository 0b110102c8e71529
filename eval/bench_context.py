"""The floor of an answer that carries the period before (issue 17): its gold SQL for both periods.

A single number is answered with the same span a year (month, quarter) earlier beside it, so
the answer reads two periods where an item's gold SQL reads one. Timing it against that gold
alone would compare two numbers with one. The benchmark's floor for such an answer is the gold
SQL for the asked period plus the same gold SQL moved to the period before — built here by
moving the gold's dates by the shift our own comparison used, and accepted only when it
returns exactly the comparison value the answer shows. Anything this cannot move with
certainty keeps the one-period gold (the stricter floor).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

# Dates as the compiler writes them (CAST('2025-01-01' AS DATE)) and as gold SQL does.
COMPILED_DATE = re.compile(r"CAST\('(\d{4}-\d\d-\d\d)' AS DATE\)")
GOLD_DATE = re.compile(r"(?i)(DATE\s*'|CAST\s*\(\s*')(\d{4}-\d\d-\d\d)(')")
YEAR_EQUALS = re.compile(r"(?i)(\byear\s*\([^()]*\)\s*=\s*)(\d{4})\b")
YEAR_IN = re.compile(r"(?i)(\byear\s*\([^()]*\)\s*IN\s*\()([\d,\s]+)(\))")
# Calendar parts that move with a shift of whole years only.
PARTS = re.compile(r"(?i)\b(?:month|quarter|week|day|dayofyear|strftime|date_trunc)\s*\(")
RELATIVE = re.compile(r"(?i)\b(?:current_date|now|today|current_timestamp)\b")


def _months_between(later: date, earlier: date) -> int | None:
    if later.day != earlier.day:
        return None
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1)


def comparison_shift(compiled_sql: str) -> tuple[str, int] | None:
    """How far back our SQL read the period before: ("months", n) or ("days", n).

    The compiler names the asked period's CTE `f0` and the one before `f0_cmp`; their date
    bounds, pair by pair, differ by the shift."""
    parts = re.split(r"\bf0_cmp AS \(", compiled_sql, maxsplit=1)
    if len(parts) != 2:
        return None
    head = parts[0].split("f0 AS (", 1)[-1]
    now = [date.fromisoformat(d) for d in COMPILED_DATE.findall(head)]
    before = [date.fromisoformat(d) for d in COMPILED_DATE.findall(parts[1].split("),", 1)[0])]
    if not now or len(now) != len(before):
        return None
    months = {_months_between(a, b) for a, b in zip(now, before, strict=True)}
    if len(months) == 1 and None not in months and months != {0}:
        return "months", months.pop()
    days = {(a - b).days for a, b in zip(now, before, strict=True)}
    if len(days) == 1 and days != {0}:
        return "days", days.pop()
    return None


# "year(d) = 2025 AND month(d) = 3", "… AND quarter(d) = 4": one month or quarter, movable.
YEAR_MONTH = re.compile(
    r"(?i)\byear\s*\(([^()]*)\)\s*=\s*(\d{4})\s+AND\s+(month|quarter)\s*\(\1\)\s*=\s*(\d{1,2})\b"
)


def _move_calendar_pairs(gold_sql: str, months: int) -> str:
    """Year-and-month (or quarter) conditions moved back by whole months (quarters)."""

    def move(m: re.Match[str]) -> str:
        size = 1 if m.group(3).lower() == "month" else 3
        if months % size:
            return m.group(0)
        index = int(m.group(2)) * 12 + (int(m.group(4)) - 1) * size - months
        year, part = divmod(index, 12)
        return f"year({m.group(1)}) = {year} AND {m.group(3)}({m.group(1)}) = {part // size + 1}"

    return YEAR_MONTH.sub(move, gold_sql)


def shifted_gold(gold_sql: str, shift: tuple[str, int]) -> str | None:
    """The gold SQL moved back by `shift`, or None when its dates cannot be moved for sure."""
    if RELATIVE.search(gold_sql):
        return None
    unit, amount = shift
    original = gold_sql
    if unit == "months" and amount % 12:
        gold_sql = _move_calendar_pairs(gold_sql, amount)
        # What is left of the calendar conditions must be the moved pairs themselves.
        rest = YEAR_MONTH.sub("", gold_sql)
        if PARTS.search(rest) or YEAR_EQUALS.search(rest) or YEAR_IN.search(rest):
            return None
        return (
            _move_dates(gold_sql, shift)
            if gold_sql != original or GOLD_DATE.search(gold_sql)
            else None
        )
    whole_years = unit == "months" and amount % 12 == 0
    if PARTS.search(gold_sql) and not whole_years:
        return None  # month(…) = 3 cannot move by one month as text
    if (YEAR_EQUALS.search(gold_sql) or YEAR_IN.search(gold_sql)) and not whole_years:
        return None

    years = amount // 12 if whole_years else 0
    text = _move_dates(gold_sql, shift)
    text = YEAR_EQUALS.sub(lambda m: f"{m.group(1)}{int(m.group(2)) - years}", text)
    text = YEAR_IN.sub(
        lambda m: (
            m.group(1)
            + ", ".join(str(int(y) - years) for y in re.findall(r"\d{4}", m.group(2)))
            + m.group(3)
        ),
        text,
    )
    return text if text != gold_sql else None


def _move_dates(gold_sql: str, shift: tuple[str, int]) -> str:
    """Every date literal of the gold moved back by `shift`."""
    unit, amount = shift

    def move(day: date) -> date:
        return _add_months(day, -amount) if unit == "months" else day - timedelta(days=amount)

    return GOLD_DATE.sub(
        lambda m: f"{m.group(1)}{move(date.fromisoformat(m.group(2))).isoformat()}{m.group(3)}",
        gold_sql,
    )
