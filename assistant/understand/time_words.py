"""Time words in questions → absolute date ranges (and grain words → grains).

`find_times(text, as_of)` finds every time expression in a question, Chinese or English, and
resolves it against the as-of date D with the conventions of DESIGN.md ("Time conventions"):
ranges are absolute, `end` is exclusive, "up to D" means `end = D + 1 day`, weeks are ISO
weeks (Monday first), and a period named without a year (3月, Q3, 上半年) lies in D's year, or
in the year before when it would start after D. Named periods are whole periods (Q3 is July to
September even when D is in August); "this …" periods (本月, 今年, YTD) stop at D.

How it works: compiled patterns find *pieces* (2025年, 3月, Q3, 去年, 近6个月, last, …), the
longest leftmost ones win, then neighbours are combined:

1. a year and a period without a year: "2025年" + "3月", "去年" + "Q4", "March" + "2025",
   "Q3" + "of last year", "last" + "March";
2. two periods joined by 到 / 至 / - / ~ / to / through (/ and, after between): a range from the
   start of the first to the end of the second, a missing year taken from the other side
   ("2024年1月至6月", "Jan-Mar 2025", "Q1-Q2");
3. a period and 以来 / 至今 / 起 / 开始 / onwards, or "since" before it: from its start up to D;
   截至 / 截止到 / as of / until before it: from 1 January of its year to its end ("截至6月底").

Comparison words are not this module's business: in "同比去年" or "环比上月" it still returns
去年 / 上月. The rule parser masks comparison phrases (比去年, vs last year, 环比…) before it
calls `find_times`. Grain words (按月, 月度, 每季度, 年度, 月份, monthly…) are never times;
`find_grains` finds them.

Festivals on fixed Gregorian dates name periods too (双十一, 双十二, 618, 国庆, 元旦, 平安夜, 圣诞节,
情人节; Singles' Day, Christmas, New Year's Day, National Day…): the name alone is its day, and
国庆期间 / 国庆黄金周 / the National Day holiday is 1–7 October; with 那个月 / 当月 / the month of
… it is that month, with 那周 / 当周 / the week of … that ISO week. A year before or after picks
the year (2024年双十一, 去年双11, Christmas 2024); without one it is the most recent occurrence
on or before D, as for 11月11日, and the month or week is the one containing that day. 618 is
the festival only beside a promotion or period word (618大促, 618那周) or after a year
(2024年618), never alone (618万, 超过618). A festival's label names it: 2024年双十一所在月.

Period ends (去年底, 上月末, 6月底, 三季度末) are the whole period: a balance is read at the
last snapshot inside it. 去年底 / 2024年末 are December of that year.

Not supported, on purpose: future-relative counts ("未来3个月", "next 3 months"), "N months
ago" / "3个月前", fiscal years that do not start in January, half-months and 上旬/中旬/下旬,
"end of …" in English (the words "end of" are left to the caller), a bare 年末 / 年底 without
a year, and weekday names. Festivals on the lunar calendar (春节, 元宵, 端午, 七夕, 中秋,
Chinese New Year) and holidays whose length changes every year (元旦假期, Christmas holidays)
are not read: their words are left over, so the question asks for dates instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from assistant.understand.numbers import looks_like_year, normalize_width, parse_chinese_numeral
from semantic_layer.model import GRAIN_ORDER, Grain
from semantic_layer.query import TimeRange


@dataclass(frozen=True)
class TimeMatch:
    """A time expression: its span in the text, the absolute range, and its natural grain."""

    start: int
    end: int
    range: TimeRange
    grain_hint: Grain | None


@dataclass(frozen=True)
class GrainMatch:
    """A grain word ("按月", "quarterly"): its span and the grain it asks for."""

    start: int
    end: int
    grain: Grain


Span = tuple[date, date]  # start, end (exclusive)
WithYear = Callable[[int], Span | None]


@dataclass(frozen=True)
class _Piece:
    """A piece of a time expression before neighbours are combined."""

    start: int
    end: int
    span: Span | None  # the reading on its own; None when it only qualifies a neighbour ("last")
    grain: Grain | None
    year: int | None = None  # a year it lends to a neighbouring period ("2025年", "去年")
    with_year: WithYear | None = None  # set when written without a year ("3月", "Q3")
    label: str | None = None  # how it reads when not as written: 双十一那个月 → 双十一所在月


# ---------------------------------------------------------------------------- date arithmetic


def _shift_month(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + months
    return index // 12, index % 12 + 1


def _months(year: int, month: int, count: int = 1) -> Span:
    """`count` calendar months starting with year-month."""
    end_year, end_month = _shift_month(year, month, count)
    return date(year, month, 1), date(end_year, end_month, 1)


def _quarter(year: int, quarter: int, count: int = 1) -> Span:
    return _months(year, 3 * quarter - 2, 3 * count)


def _half(year: int, half: int) -> Span:
    return _months(year, 6 * half - 5, 6)


def _year(year: int, count: int = 1) -> Span:
    return date(year, 1, 1), date(year + count, 1, 1)


def _day(year: int, month: int, day: int) -> Span | None:
    try:
        start = date(year, month, day)
    except ValueError:
        return None  # 2月30日, or 2月29日 outside a leap year
    return start, start + timedelta(days=1)


def _iso_week(year: int, week: int) -> Span | None:
    try:
        start = date.fromisocalendar(year, week, 1)
    except ValueError:
        return None  # week 53 in a 52-week year
    return start, start + timedelta(days=7)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _quarter_of(day: date) -> int:
    return (day.month - 1) // 3 + 1


def _up_to(start: date, as_of: date) -> Span:
    return start, as_of + timedelta(days=1)


def _infer(with_year: WithYear, as_of: date) -> Span | None:
    """A period without a year: in D's year, or the year before if it would start after D."""
    span = with_year(as_of.year)
    if span is None or span[0] > as_of:
        span = with_year(as_of.year - 1)
    return span


def _last_n(unit: Grain, n: int, as_of: date) -> Span:
    """The n calendar units ending with the one containing D, up to D (近3个月, last 3 years)."""
    if unit is Grain.day:
        return as_of - timedelta(days=n - 1), as_of + timedelta(days=1)
    if unit is Grain.week:
        return _up_to(_monday(as_of) - timedelta(days=7 * (n - 1)), as_of)
    if unit is Grain.month:
        year, month = _shift_month(as_of.year, as_of.month, -(n - 1))
    elif unit is Grain.quarter:
        year, month = _shift_month(as_of.year, 3 * _quarter_of(as_of) - 2, -3 * (n - 1))
    else:
        year, month = as_of.year - (n - 1), 1
    return _up_to(date(year, month, 1), as_of)


def _previous(unit: Grain, n: int, as_of: date) -> Span:
    """The whole unit n steps before D's (上月: n=1; 上上月: n=2; 下月: n=-1)."""
    if unit is Grain.day:
        day = as_of - timedelta(days=n)
        return day, day + timedelta(days=1)
    if unit is Grain.week:
        start = _monday(as_of) - timedelta(days=7 * n)
        return start, start + timedelta(days=7)
    if unit is Grain.month:
        return _months(*_shift_month(as_of.year, as_of.month, -n))
    if unit is Grain.quarter:
        return _months(*_shift_month(as_of.year, 3 * _quarter_of(as_of) - 2, -3 * n), 3)
    return _year(as_of.year - n)


def _current(unit: Grain, as_of: date) -> Span:
    """The unit containing D, up to D (本月, 今年, 本周, 今天)."""
    if unit is Grain.day:
        return _up_to(as_of, as_of)
    if unit is Grain.week:
        return _up_to(_monday(as_of), as_of)
    if unit is Grain.month:
        return _up_to(as_of.replace(day=1), as_of)
    if unit is Grain.quarter:
        return _up_to(date(as_of.year, 3 * _quarter_of(as_of) - 2, 1), as_of)
    return _up_to(date(as_of.year, 1, 1), as_of)


# ---------------------------------------------------------------------------- numerals

_CN_NUM = r"[零〇一二两三四五六七八九十百]+"
_EN_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "eighteen": 18,
    "twenty": 20,
    "twenty four": 24,
    "thirty": 30,
    "thirty six": 36,
    "sixty": 60,
    "ninety": 90,
}
# twelve, twenty four, twenty-four
_EN_NUM = "|".join(w.replace(" ", r"[\s-]+") for w in sorted(_EN_NUMBERS, key=len, reverse=True))
_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "1st": 1,
    "2nd": 2,
    "3rd": 3,
    "4th": 4,
}
_MONTH_NAMES = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
_MONTH_NAME = "|".join(sorted(_MONTH_NAMES, key=len, reverse=True))
_UNITS = {
    "月": Grain.month,
    "季度": Grain.quarter,
    "季": Grain.quarter,
    "年": Grain.year,
    "周": Grain.week,
    "星期": Grain.week,
    "礼拜": Grain.week,
    "天": Grain.day,
    "日": Grain.day,
    "month": Grain.month,
    "quarter": Grain.quarter,
    "year": Grain.year,
    "week": Grain.week,
    "day": Grain.day,
    "mth": Grain.month,
    "mo": Grain.month,
    "qtr": Grain.quarter,
    "yr": Grain.year,
    "wk": Grain.week,
}
# months, mths, mos, quarters, qtrs, years, yrs, weeks, wks, days
_EN_UNIT = r"(?:month|mth|mo|quarter|qtr|year|yr|week|wk|day)"


_SEPARATORS = re.compile(r"[\s-]+")  # "twenty-four" / "month to date" → one spelling


def _number(token: str) -> int | None:
    """'12', '十二', 'twelve' → 12."""
    token = token.strip().lower()
    if token.isdigit():
        return int(token)
    words = _SEPARATORS.sub(" ", token)
    if words in _EN_NUMBERS:
        return _EN_NUMBERS[words]
    return parse_chinese_numeral(token)


def _two_digit_year(token: str) -> int:
    """'2024' → 2024, '24' → 2024, '99' → 1999."""
    value = int(token)
    if len(token) == 4:
        return value
    return 2000 + value if value < 70 else 1900 + value


# ---------------------------------------------------------------------------- piece rules

Handler = Callable[[re.Match[str], date], "_Piece | None"]
_RULES: list[tuple[re.Pattern[str], Handler]] = []


def _rule(pattern: str, flags: int = 0) -> Callable[[Handler], Handler]:
    """Register a handler for a pattern; patterns are compiled once, at import."""

    def register(handler: Handler) -> Handler:
        _RULES.append((re.compile(pattern, flags | re.VERBOSE), handler))
        return handler

    return register


def _piece(
    m: re.Match[str],
    span: Span | None,
    grain: Grain | None,
    year: int | None = None,
    with_year: WithYear | None = None,
    label: str | None = None,
) -> _Piece:
    """A piece spanning the whole match."""
    return _Piece(m.start(), m.end(), span, grain, year, with_year, label)


def _undated(
    m: re.Match[str], as_of: date, with_year: WithYear, grain: Grain | None
) -> _Piece | None:
    """A period written without a year: its own reading is inferred from D."""
    span = _infer(with_year, as_of)
    if span is None:
        return None
    return _piece(m, span, grain, with_year=with_year)


def _words(phrases: str) -> str:
    """'last month|上月' → an alternation, longest first, English words kept whole."""
    out = []
    for phrase in sorted(phrases.split("|"), key=len, reverse=True):
        body = re.escape(phrase).replace(r"\ ", r"[\s-]+").replace(r"\-", r"[\s-]+")
        if phrase[0].isascii() and phrase[0].isalpha():
            body = r"(?<![A-Za-z])" + body
        if phrase[-1].isascii() and phrase[-1].isalpha():
            body += r"(?![A-Za-z])"
        elif phrase.endswith("周"):
            body += r"(?!期)"  # 上周期 is "the previous period", not last week
        out.append(body)
    return "|".join(out)


# (phrases, what they mean, the year they can lend to a period: 去年3月 → D.year - 1)
_FIXED: list[tuple[str, Callable[[date], Span], Grain, int | None]] = [
    (
        "本月|这个月|这月|当月|本月份|this month|this mth|current month|month to date|mtd|月初至今"
        "|月初以来"
        "|本月累计|月累计",
        lambda d: _current(Grain.month, d),
        Grain.month,
        None,
    ),
    (
        "本季度|这个季度|这季度|这一季度|本季|当季|当季度|当前季度|this quarter|current quarter"
        "|this qtr|quarter to date|qtd|季初至今|本季累计|本季度累计|季累计",
        lambda d: _current(Grain.quarter, d),
        Grain.quarter,
        None,
    ),
    (
        "今年|本年|本年度|今年全年|这一年|当年|this year|this yr|current year|this fiscal year",
        lambda d: _current(Grain.year, d),
        Grain.year,
        0,
    ),
    (
        "year to date|ytd|fytd|年初至今|年初以来|本年累计|今年累计|年累计|本年迄今|今年迄今|年内累计",
        lambda d: _current(Grain.year, d),
        Grain.year,
        None,
    ),
    (
        "本周|这周|这一周|这个星期|这星期|本星期|这个礼拜|this week|current week|week to date|wtd",
        lambda d: _current(Grain.week, d),
        Grain.week,
        None,
    ),
    ("今天|今日|本日|当日|today", lambda d: _current(Grain.day, d), Grain.day, None),
    ("昨天|昨日|yesterday", lambda d: _previous(Grain.day, 1, d), Grain.day, None),
    ("前天|day before yesterday", lambda d: _previous(Grain.day, 2, d), Grain.day, None),
    ("明天|明日|tomorrow", lambda d: _previous(Grain.day, -1, d), Grain.day, None),
    (
        "上月|上个月|上一个月|上一月|上月份|last month|previous month|prior month|prev month"
        "|last mth",
        lambda d: _previous(Grain.month, 1, d),
        Grain.month,
        None,
    ),
    ("上上月|上上个月", lambda d: _previous(Grain.month, 2, d), Grain.month, None),
    ("下月|下个月|下一个月|next month", lambda d: _previous(Grain.month, -1, d), Grain.month, None),
    (
        "上季度|上个季度|上一季度|上一个季度|上季|last quarter|previous quarter|prior quarter"
        "|prev quarter|last qtr|prev qtr",
        lambda d: _previous(Grain.quarter, 1, d),
        Grain.quarter,
        None,
    ),
    ("上上季度|上上个季度", lambda d: _previous(Grain.quarter, 2, d), Grain.quarter, None),
    (
        "下季度|下个季度|下一季度|下一个季度|next quarter",
        lambda d: _previous(Grain.quarter, -1, d),
        Grain.quarter,
        None,
    ),
    (
        "去年|上年|上一年|上年度|上一年度|去年全年|last year|previous year|prior year"
        "|last fiscal year|last yr|prev year|prev yr",
        lambda d: _previous(Grain.year, 1, d),
        Grain.year,
        -1,
    ),
    (
        "前年|前年全年|year before last|the year before last",
        lambda d: _previous(Grain.year, 2, d),
        Grain.year,
        -2,
    ),
    ("明年|下一年|next year", lambda d: _previous(Grain.year, -1, d), Grain.year, 1),
    (
        "上周|上个星期|上星期|上一周|上个周|上个礼拜|last week|previous week|prior week",
        lambda d: _previous(Grain.week, 1, d),
        Grain.week,
        None,
    ),
    ("上上周|上上个星期", lambda d: _previous(Grain.week, 2, d), Grain.week, None),
    ("下周|下个星期|下一周|next week", lambda d: _previous(Grain.week, -1, d), Grain.week, None),
]
_FIXED_INDEX: dict[str, int] = {}
for _i, (_phrases, *_) in enumerate(_FIXED):
    for _phrase in _phrases.split("|"):
        _FIXED_INDEX[_SEPARATORS.sub(" ", _phrase)] = _i
_YEAR_END = r"(?:年?[底末]|年终)"


# 本月, 上个月, last quarter, YTD, 去年; 去年底 / 前年末 (→ December); 上月末, 本季度末 (→ the period)
@_rule(rf"(?P<w>{_words('|'.join(p for p, *_ in _FIXED))})(?P<yend>{_YEAR_END})?", re.IGNORECASE)
def _fixed(m: re.Match[str], as_of: date) -> _Piece | None:
    words = m["w"]
    _, meaning, grain, year_offset = _FIXED[_FIXED_INDEX[_SEPARATORS.sub(" ", words.lower())]]
    if m["yend"]:
        if year_offset is not None and words[-1] in "年度":
            return _piece(m, _months(as_of.year + year_offset, 12), Grain.month)
        if m["yend"] in ("底", "末") and grain in (Grain.month, Grain.quarter):
            # a balance "at the end of last month" is read at the last snapshot of that month
            return _piece(m, meaning(as_of), grain)
    year = None if year_offset is None else as_of.year + year_offset
    return _Piece(m.start(), m.end("w"), meaning(as_of), grain, year=year)


# All the data there is, up to D: "历史累计", "all time", "ever". (所有 alone is not one:
# 所有客户 means every customer, not every year.)
_ALL_TIME = (
    "全部时间|所有时间|全部期间|历史累计|历史总计|历史上|有史以来|迄今为止|至今累计|累计至今|成立以来"
    "|开业以来|从古至今|all time|all-time|ever|of all time|since inception|since the beginning"
    "|in total|lifetime|since records began"
)


@_rule(rf"(?P<w>{_words(_ALL_TIME)})", re.IGNORECASE)
def _all_time(m: re.Match[str], as_of: date) -> _Piece | None:
    return _piece(m, (date(1900, 1, 1), as_of + timedelta(days=1)), None)


_DURATION_AFTER = set("前后内间期以")


# 2024年, 2024 年, 2024年度, 2024财年, 2024年全年, 24年, 二〇二四年; 2024年底 / 2024年末 → December
@_rule(
    rf"""(?<![\d.])(?P<y>(?:19|20)\d\d|\d\d)\s*(?:年度|财年|年(?!代))
    (?:(?P<yend>{_YEAR_END})|全年|整年)?
    | (?P<cy>[零〇一二三四五六七八九]{{4}})\s*年(?:度)?(?:(?P<cyend>{_YEAR_END})|全年|整年)?"""
)
def _year_cn(m: re.Match[str], as_of: date) -> _Piece | None:
    if m["y"] and len(m["y"]) == 2 and m.string[m.end() : m.end() + 1] in _DURATION_AFTER:
        return None  # 10年前, 5年内, 3年期: a duration, not the year 2010
    year = _two_digit_year(m["y"]) if m["y"] else parse_chinese_numeral(m["cy"])
    if year is None:
        return None
    if m["yend"] or m["cyend"]:
        return _piece(m, _months(year, 12), Grain.month)
    return _piece(m, _year(year), Grain.year, year=year)


# FY2024, FY24, fy 2024, FY'24
@_rule(r"(?<![A-Za-z])FY\s*'?(?P<y>(?:19|20)\d\d|\d\d)(?!\d)", re.IGNORECASE)
def _fiscal_year(m: re.Match[str], as_of: date) -> _Piece | None:
    year = _two_digit_year(m["y"])
    return _piece(m, _year(year), Grain.year, year=year)


# "2024 revenue", "in 2024": a bare year; not "2000万", "超过2000", "1,2024", "1990s", "1990年代"
@_rule(r"(?<![\d.,，])(?P<y>199\d|20\d\d|2100)(?!\d|s(?![A-Za-z])|\s*年代)")
def _bare_year(m: re.Match[str], as_of: date) -> _Piece | None:
    if not looks_like_year(m.string, m.start(), m.end()):
        return None
    year = int(m["y"])
    return _piece(m, _year(year), Grain.year, year=year)


_MONTH = r"1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九]"
_DAY = r"3[01]|[12]\d|0?[1-9]|三十一?|二?十[一二三四五六七八九]?|[一二三四五六七八九]"


# 2025-03-15, 2025/3/15, 2025.03.15, 20250315
@_rule(
    r"""(?<![\d.])(?P<y>(?:19|20)\d\d)\s*(?P<sep>[-/.])\s*(?P<m>1[0-2]|0?[1-9])
        \s*(?P=sep)\s*(?P<d>3[01]|[12]\d|0?[1-9])(?!\d)
    | (?<!\d)(?P<y2>(?:19|20)\d\d)(?P<m2>0[1-9]|1[0-2])(?P<d2>0[1-9]|[12]\d|3[01])(?!\d)"""
)
def _numeric_day(m: re.Match[str], as_of: date) -> _Piece | None:
    year, month, day = (int(m[g] or m[g + "2"]) for g in ("y", "m", "d"))
    span = _day(year, month, day)
    return _piece(m, span, Grain.day) if span else None


# 12/31/2024, 3/15/2025 (month first, as in English); 15/3/2025 when only that reading is a date
@_rule(r"(?<![\d/.])(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>(?:19|20)\d\d)(?!\d)")
def _slash_day(m: re.Match[str], as_of: date) -> _Piece | None:
    year, a, b = int(m["y"]), int(m["a"]), int(m["b"])
    span = (_day(year, a, b) if a <= 12 else None) or (_day(year, b, a) if b <= 12 else None)
    return _piece(m, span, Grain.day) if span else None


# 2025-03, 2025/3, 2025.3, 2025 - 03; 3/2025, 03/2025
@_rule(
    r"""(?<![\d.,])(?P<y>(?:19|20)\d\d)\s*[-/.]\s*(?P<m>1[0-2]|0?[1-9])(?!\d|\s*[%万亿千百元])
    | (?<![\d/.])(?P<m2>1[0-2]|0?[1-9])\s*/\s*(?P<y2>(?:19|20)\d\d)(?!\d)"""
)
def _numeric_month(m: re.Match[str], as_of: date) -> _Piece | None:
    year, month = int(m["y"] or m["y2"]), int(m["m"] or m["m2"])
    return _piece(m, _months(year, month), Grain.month)


# 3月15日, 3月15号, 三月十五日, 3 月 15 日 (the year comes from a neighbour or from D)
@_rule(rf"(?<![\d一二三四五六七八九十])(?P<m>{_MONTH})\s*月\s*(?P<d>{_DAY})\s*[日号]")
def _month_day(m: re.Match[str], as_of: date) -> _Piece | None:
    month, day = _number(m["m"]), _number(m["d"])
    if month is None or day is None:
        return None
    return _undated(m, as_of, lambda y: _day(y, month, day), Grain.day)


# 12月1号到15号, 3月1日至7日, 12月1-7日 (the year comes from a neighbour or from D)
@_rule(
    rf"""(?<![\d一二三四五六七八九十])(?P<m>{_MONTH})\s*月\s*(?P<a>{_DAY})\s*[日号]?
    \s*(?:到|至|-|~|—|–)\s*(?P<b>{_DAY})\s*[日号]"""
)
def _day_range(m: re.Match[str], as_of: date) -> _Piece | None:
    month, first, last = _number(m["m"]), _number(m["a"]), _number(m["b"])
    if month is None or first is None or last is None or last < first:
        return None

    def with_year(year: int) -> Span | None:
        start, end = _day(year, month, first), _day(year, month, last)
        return None if start is None or end is None else (start[0], end[1])

    return _undated(m, as_of, with_year, Grain.day)


# 3月, 03月, 3月份, 三月, 十二月, 3月底; not 月度, not 统一月份
@_rule(rf"(?<![\d一二三四五六七八九十统唯同单])(?P<m>{_MONTH})\s*月(?:份|初|底|末)?(?!度)")
def _month_cn(m: re.Match[str], as_of: date) -> _Piece | None:
    month = _number(m["m"])
    if month is None or not 1 <= month <= 12:
        return None
    return _undated(m, as_of, lambda y: _months(y, month), Grain.month)


# 1-3月, 1~3月份, 1到3月, 一至三月, 11-2月 (November to February)
@_rule(rf"(?<![\d.\-/])(?P<a>{_MONTH})\s*(?:-|~|—|–|到|至)\s*(?P<b>{_MONTH})\s*月(?:份)?(?!度)")
def _month_range_cn(m: re.Match[str], as_of: date) -> _Piece | None:
    first, last = _number(m["a"]), _number(m["b"])
    if first is None or last is None or not (1 <= first <= 12 and 1 <= last <= 12):
        return None

    def with_year(year: int) -> Span:
        end_year = year if last >= first else year + 1
        return _months(year, first)[0], _months(end_year, last)[1]

    return _undated(m, as_of, with_year, Grain.month)


# 1-3季度, 一至三季度, 1到2季度
@_rule(r"(?<![\d.\-/])(?P<a>[1-4一二三四])\s*(?:-|~|—|–|到|至)\s*(?P<b>[1-4一二三四])\s*季度")
def _quarter_range_cn(m: re.Match[str], as_of: date) -> _Piece | None:
    first, last = _number(m["a"]), _number(m["b"])
    if first is None or last is None or last < first:
        return None
    return _undated(m, as_of, lambda y: _quarter(y, first, last - first + 1), Grain.quarter)


# 第三季度, 第3季度, 第三季, 三季度, 3季度, 一季度, 三季度末; Q3, q3, 2025Q3; third quarter, 3rd quarter
@_rule(
    r"""第\s*(?P<q>[1-4一二三四])\s*季度?[末底]?
    | (?<![\d一二三四五六七八九十两个])(?P<q2>[1-4一二三四])\s*季度[末底]?
    | (?<![A-Za-z])[Qq](?P<q3>[1-4])(?!\d)
    | (?<![A-Za-z])(?P<q4>first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter(?![A-Za-z])""",
    re.IGNORECASE,
)
def _quarter_named(m: re.Match[str], as_of: date) -> _Piece | None:
    token = m["q"] or m["q2"] or m["q3"] or m["q4"]
    quarter = _ORDINALS.get(token.lower()) or _number(token)
    if quarter is None or not 1 <= quarter <= 4:
        return None
    return _undated(m, as_of, lambda y: _quarter(y, quarter), Grain.quarter)


# 上半年, 下半年, H1, h2, 2025H1, first half (of the year), second half
@_rule(
    r"""(?P<h>[上下])半年(?:度)?
    | (?<![A-Za-z])[Hh](?P<h2>[12])(?!\d)
    | (?<![A-Za-z])(?P<h3>first|second|1st|2nd)\s+half(?:\s+of\s+the\s+year)?(?![A-Za-z])""",
    re.IGNORECASE,
)
def _half_named(m: re.Match[str], as_of: date) -> _Piece | None:
    token = (m["h"] or m["h2"] or m["h3"]).lower()
    half = 1 if token in ("上", "1", "first", "1st") else 2
    return _undated(m, as_of, lambda y: _half(y, half), None)


# March, Mar, Mar., March 15, March 15th; "may" only as May, or next to a year/day/preposition
@_rule(
    rf"""(?<![A-Za-z])(?P<name>{_MONTH_NAME})\.?(?![A-Za-z])
    (?:\s+(?P<d>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?(?![\d:A-Za-z]))?""",
    re.IGNORECASE,
)
def _month_name(m: re.Match[str], as_of: date) -> _Piece | None:
    name = m["name"]
    if name.lower() == "may" and not _may_is_month(m):
        return None
    month = _MONTH_NAMES[name.lower()]
    if m["d"]:
        day = int(m["d"])
        return _undated(m, as_of, lambda y: _day(y, month, day), Grain.day)
    return _undated(m, as_of, lambda y: _months(y, month), Grain.month)


# "May I", "may we": the verb
_MAY_VERB = re.compile(r"\s+(?:i|we|you)(?![A-Za-z])", re.IGNORECASE)
# "in may", "since may", "last may"
_MAY_BEFORE = re.compile(
    r"(?<![A-Za-z])(?:in|since|from|to|until|till|through|last|this|next|of|during|and|for)\s+$",
    re.IGNORECASE,
)
# "may 2025", "may 15", "may-june", "may to july", "may last year"
_MAY_AFTER = re.compile(
    r"\s*(?:\d|,\s*\d|-|to\b|and\b)|\s+(?:last|this|next)\s+(?:year|yr)", re.IGNORECASE
)


def _may_is_month(m: re.Match[str]) -> bool:
    """'may' is a verb as often as a month: accept May, 'in may', 'may 2025', 'may last year'."""
    text = m.string
    if m["d"] or _MAY_AFTER.match(text, m.end()):
        return True
    if _MAY_BEFORE.search(text[max(0, m.start() - 10) : m.start()]):
        return True
    return m["name"] == "May" and not _MAY_VERB.match(text, m.end())


# 15 March, 15th of March (the year comes from a neighbour or from D)
@_rule(
    rf"""(?<![\d.])(?P<d>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?\s+(?:of\s+)?
    (?P<name>{_MONTH_NAME})\.?(?![A-Za-z])""",
    re.IGNORECASE,
)
def _day_month_name(m: re.Match[str], as_of: date) -> _Piece | None:
    month, day = _MONTH_NAMES[m["name"].lower()], int(m["d"])
    return _undated(m, as_of, lambda y: _day(y, month, day), Grain.day)


# 第10周, 第十周, week 10, W10, 2025-W10 (ISO weeks)
@_rule(
    r"""第\s*(?P<w>\d{1,2}|[一二三四五六七八九十]+)\s*(?:周|个星期)
    | (?<![A-Za-z])(?:week\s*(?P<w2>\d{1,2})|[Ww](?P<w3>\d{1,2}))(?!\d)""",
    re.IGNORECASE,
)
def _week_named(m: re.Match[str], as_of: date) -> _Piece | None:
    week = _number(m["w"] or m["w2"] or m["w3"])
    if week is None or not 1 <= week <= 53:
        return None
    return _undated(m, as_of, lambda y: _iso_week(y, week), Grain.week)


# 近6个月, 最近三年, 过去12个月, 近两年, 最近半年, 近4个季度, 近30天, 最近两周, 近三年来;
# 前3个月 (alone: the last 3 months; after a year: its first 3 months), 前三季度 (Q1–Q3)
@_rule(
    rf"""(?P<pre>最近|近期|(?<![接将靠附邻])近|过去的?|(?<![提之以目当向往超])前)\s*
    (?P<n>\d+|{_CN_NUM}|半)\s*(?P<ge>个)?\s*
    (?P<u>月|季度|季|年|周|星期|礼拜|天|日)(?:来|以内|内)?"""
)
def _recent_cn(m: re.Match[str], as_of: date) -> _Piece | None:
    unit = _UNITS[m["u"]]
    if m["n"] == "半":
        if unit is not Grain.year or m["pre"] == "前":
            return None
        unit, n = Grain.month, 6
    else:
        n = _number(m["n"])
    if n is None or n < 1:
        return None
    span = _last_n(unit, n, as_of)
    if m["pre"] != "前" or unit not in (Grain.month, Grain.quarter):
        return _piece(m, span, unit)
    size = n if unit is Grain.month else 3 * n
    if size > 12:
        return _piece(m, span, unit)

    def first_n(year: int) -> Span:
        return _months(year, 1, size)

    if unit is Grain.quarter and not m["ge"]:
        # 前三季度 is "the first three quarters" of the year, as in 前三季度营收
        return _undated(m, as_of, first_n, unit)
    return _piece(m, span, unit, with_year=first_n)


# last 3 months, past 12 months, trailing 12 months, last three years, past 30 days, the past
# year (N = 1: D's year up to D); TTM, LTM
@_rule(
    rf"""(?<![A-Za-z])(?:last|past|trailing|previous|prior|rolling|recent)\s+
    (?P<n>\d+|{_EN_NUM})\s+(?P<u>{_EN_UNIT})s?(?![A-Za-z])
    | (?<![A-Za-z])past\s+(?P<u1>month|quarter|year|week)(?![A-Za-z])
    | (?<![A-Za-z])(?P<ttm>ttm|ltm|l12m|r12m)(?![A-Za-z])""",
    re.IGNORECASE,
)
def _recent_en(m: re.Match[str], as_of: date) -> _Piece | None:
    if m["ttm"]:
        return _piece(m, _last_n(Grain.month, 12, as_of), Grain.month)
    n = _number(m["n"]) if m["n"] else 1  # "the past year", like 最近一年: N = 1
    if n is None or n < 1:
        return None
    unit = _UNITS[(m["u"] or m["u1"]).lower()]
    return _piece(m, _last_n(unit, n, as_of), unit)


# first 3 months (of 2025), first two quarters (of last year)
@_rule(
    rf"(?<![A-Za-z])first\s+(?P<n>\d+|{_EN_NUM})\s+(?P<u>month|mth|mo|quarter|qtr)s?(?![A-Za-z])",
    re.IGNORECASE,
)
def _first_n_en(m: re.Match[str], as_of: date) -> _Piece | None:
    n = _number(m["n"])
    unit = _UNITS[m["u"].lower()]
    size = None if n is None else n if unit is Grain.month else 3 * n
    if size is None or not 1 <= size <= 12:
        return None
    return _undated(m, as_of, lambda y: _months(y, 1, size), unit)


# "last March", "this Q3", "next H1": a year for the period that follows, nothing alone
@_rule(r"(?<![A-Za-z])(?P<w>last|this|next)(?=\s+[A-Za-z])", re.IGNORECASE)
def _relative_year_word(m: re.Match[str], as_of: date) -> _Piece | None:
    offset = {"last": -1, "this": 0, "next": 1}[m["w"].lower()]
    return _piece(m, None, None, year=as_of.year + offset)


# ---------------------------------------------------------------------------- festivals


_Form = Literal["day", "week", "month", "holiday"]


@dataclass(frozen=True)
class _Festival:
    """A shopping festival or holiday on a fixed Gregorian date, named as a period."""

    month: int
    day: int
    zh: str  # its name in a label: 双十一
    en: str  # Singles' Day
    holiday: tuple[int, str, str] | None = None  # a fixed holiday from that day: days, zh, en
    alone: bool = True  # False: the bare name is as often an amount (618万, 超过618)

    def on(self, year: int) -> date:
        return date(year, self.month, self.day)

    def span(self, form: _Form, year: int) -> Span | None:
        """The period a form names in `year`: the day, its month, its ISO week, the holiday."""
        day = self.on(year)
        if form == "month":
            return _months(year, self.month)
        if form == "week":
            return _monday(day), _monday(day) + timedelta(days=7)
        if form == "holiday":
            return None if self.holiday is None else (day, day + timedelta(days=self.holiday[0]))
        return day, day + timedelta(days=1)

    def label(self, form: _Form, lang: str, qualified: bool) -> str:
        """How the period reads: 双十一所在月, 国庆黄金周, 618当天, the week of Christmas.

        A day named with more than its name (618大促期间, 双十一当天) says 当天: the day is all
        that is read, not a promotion's varying run-up."""
        if form == "holiday" and self.holiday is not None:
            return self.holiday[1] if lang == "zh" else self.holiday[2]
        if lang == "zh":
            suffix = {"month": "所在月", "week": "所在周"}.get(form, "当天" if qualified else "")
            return self.zh + suffix
        return f"the {form} of {self.en}" if form in ("month", "week") else self.en


# Lunar-calendar festivals (春节, 元宵, 端午, 七夕, 中秋, Chinese New Year) and holidays whose
# length changes every year (元旦假期, Christmas holidays) are left out on purpose: their words
# stay unread, so the question asks the user for dates instead of answering a guessed period.
_FESTIVALS: list[tuple[str, str, _Festival]] = [
    # (Chinese words, English words, the festival)
    (
        r"双\s*(?:十一|11)(?!\d)|光棍节",
        r"singles?['’]?\s*day|double\s*(?:11|eleven)(?![\d%])",
        _Festival(11, 11, "双十一", "Singles' Day"),
    ),
    (
        r"双\s*(?:十二|12)(?!\d)",
        r"double\s*(?:12|twelve)(?![\d%])",
        _Festival(12, 12, "双十二", "Double 12"),
    ),
    # 618 alone is as often an amount (618万, 超过618): the handler asks for a promotion or
    # period word after it, or a year before it ("618大促", "2024年618")
    (
        r"(?<![\d.])6[.·]?18(?![\d.])",
        r"(?<![\d.])618\s+(?:shopping\s+)?(?:festival|promotion|sale)",
        _Festival(6, 18, "618", "the 618 festival", alone=False),
    ),
    (
        r"国庆节?|(?<!双)十一(?=\s*(?:黄金周|小?长假|假期))",
        r"national\s+day",
        _Festival(10, 1, "国庆节", "National Day", (7, "国庆黄金周", "the National Day holiday")),
    ),
    (
        r"元旦节?",
        r"(?<!chinese\s)(?<!lunar\s)new\s+year['’]?s?\s+day",
        _Festival(1, 1, "元旦", "New Year's Day"),
    ),
    (r"平安夜|圣诞夜", r"christmas\s+eve", _Festival(12, 24, "平安夜", "Christmas Eve")),
    (
        r"圣诞节?(?![夜老树季])",
        r"christmas(?:\s+day)?|xmas",
        _Festival(12, 25, "圣诞节", "Christmas"),
    ),
    # 七夕情人节 / 中国情人节 is Qixi, on the lunar calendar; 白色情人节 is 14 March
    (
        r"(?<!七夕)(?<!中国)(?<!白色)(?<!网络)情人节",
        r"(?<!chinese\s)valentine['’]?s?\s+day",
        _Festival(2, 14, "情人节", "Valentine's Day"),
    ),
]


def _festival_names(lang: int) -> str:
    return "|".join(f"(?P<f{i}>{f[lang]})" for i, f in enumerate(_FESTIVALS))


# 双十一那个月, 2024年双11当天 (the year is a neighbour), 618大促期间, 国庆黄金周, 圣诞节那周
_ZH_FORMS = r"""(?:\s*(?P<promo>大促|促销|活动|购物节|狂欢节))?
    (?:\s*的?\s*(?:
        (?P<month>(?:所在的?|那一?个?|当)月份?)
      | (?P<week>(?:所在的?(?:那一?个?)?|那一?个?|当)(?:周|星期|礼拜))
      | (?P<day>当天|当日|那天|那一天|这天|这一天)
      | (?P<holiday>黄金周|小?长假|假期|七天|放假期间)
      | (?P<during>期间)))?"""
_ZH_FORM_GROUPS: tuple[_Form, ...] = ("month", "week", "day", "holiday")
# "双十一前", "618之后", "圣诞节前夕": around the festival, not on it ("双十一前10名" is a ranking)
_ZH_AROUND = re.compile(
    r"\s*(?:前(?!\s*(?:\d+|[一二三四五六七八九十]+)\s*[名个大位])|后|之前|之后|以前|以后|预售|预热|返场)"
)
# "2024年618", "去年的618": a year before 618 says it is the festival
_YEAR_BEFORE = re.compile(r"(?:\d{2,4}\s*年度?|[去今前明本上]年)\s*的?\s*$")
# "618万", "618元", "618个": an amount, whatever stands before it
_AMOUNT_AFTER = re.compile(r"\s*(?:[万亿千百元块个件单笔台次人家%]|rmb|yuan)", re.IGNORECASE)


@_rule(rf"(?:{_festival_names(0)}){_ZH_FORMS}")
def _festival_cn(m: re.Match[str], as_of: date) -> _Piece | None:
    index = next(i for i in range(len(_FESTIVALS)) if m[f"f{i}"])
    festival = _FESTIVALS[index][2]
    if _ZH_AROUND.match(m.string, m.end()):
        return None
    form: _Form = next((f for f in _ZH_FORM_GROUPS if m[f]), "day")
    if m["during"]:
        form = "holiday" if festival.holiday else "day"  # 国庆期间 is the golden week
    qualified = m.end() > m.end(f"f{index}")  # 618大促, 双十一当天: more than the name
    if not festival.alone and not qualified:
        text = m.string
        if _AMOUNT_AFTER.match(text, m.end()) or not _YEAR_BEFORE.search(text[: m.start()]):
            return None
    return _festival_piece(m, as_of, festival, form, "zh", qualified)


# "the month of Singles' Day", "the week of Christmas", "Christmas week", "National Day holiday"
@_rule(
    rf"""(?<![A-Za-z])(?:(?:the|that)\s+(?P<pre>month|week)\s+(?:of|containing)\s+(?:the\s+)?)?
    (?:{_festival_names(1)})
    (?:\s+(?P<post>week|holidays?|golden\s+week|break|period|season))?(?![A-Za-z])""",
    re.IGNORECASE,
)
def _festival_en(m: re.Match[str], as_of: date) -> _Piece | None:
    index = next(i for i in range(len(_FESTIVALS)) if m[f"f{i}"])
    festival = _FESTIVALS[index][2]
    if _EN_AROUND.search(m.string[max(0, m.start() - 20) : m.start()]):
        return None
    post = (m["post"] or "").lower()
    form: _Form
    if m["pre"]:
        form = "month" if m["pre"].lower() == "month" else "week"
    elif post == "week" and festival.holiday is None:
        form = "week"  # Christmas week; "National Day week" is the golden week
    else:
        form = "holiday" if post else "day"
    return _festival_piece(m, as_of, festival, form, "en", False)


# "before Christmas", "the week after Singles' Day": around the festival, not on it
_EN_AROUND = re.compile(
    r"(?<![A-Za-z])(?:before|after|prior\s+to|ahead\s+of|leading\s+up\s+to|pre|post)[\s-]*$",
    re.IGNORECASE,
)


def _festival_piece(
    m: re.Match[str], as_of: date, festival: _Festival, form: _Form, lang: str, qualified: bool
) -> _Piece | None:
    """A festival without a year: its most recent occurrence on or before D, as with 11月11日
    (so at D = 2025-11-05, 双十一那个月 is November 2024: the festival has not come yet)."""

    def with_year(year: int) -> Span | None:
        return festival.span(form, year)

    year = as_of.year if festival.on(as_of.year) <= as_of else as_of.year - 1
    span = with_year(year)
    if span is None:
        return None  # 元旦假期, Christmas holidays: their length changes from year to year
    grain = None if form == "holiday" else Grain(form)  # a week-long holiday, like 上半年
    label = festival.label(form, lang, qualified)
    return _piece(m, span, grain, with_year=with_year, label=label)


# ---------------------------------------------------------------------------- combining

# "2025年" + "3月", "去年" + "的" + "Q4", "2025" + "-" + "Q3", "this year's" + "Q3"
_YEAR_THEN_PERIOD = re.compile(r"\s*(?:的|'s|’s|-)?\s*")
# "March" + " " + "2025", "Q3" + " of " + "last year", "March" + ", " + "2025"
_PERIOD_THEN_YEAR = re.compile(r"\s*(?:,|，|of(?:\s+the)?|in)?\s*", re.IGNORECASE)
# "2024年1月" + "至" + "6月", "Jan" + " - " + "Mar 2025", "2023" + " and " + "2024" (after between)
_RANGE_JOIN = re.compile(
    r"\s*(?:到|至|~|—|–|-|(?<![A-Za-z])(?:to|through|thru|until|till|and)(?![A-Za-z]))\s*",
    re.IGNORECASE,
)
# 从 / 自 / from / between before a range: part of the expression
_RANGE_PREFIX = re.compile(r"(?:从|自|由|(?<![A-Za-z])(?:from|between))\s*$", re.IGNORECASE)
# "2023年以来", "2024年3月至今", "从2023年开始", "2024年初至今", "from 2023 onwards"
_SINCE_AFTER = re.compile(
    r"\s*年?初?\s*(?:以来|至今|迄今|到现在|至现在|到今天|到目前为止|到目前|起|开始(?:到现在|至今)?"
    r"|onwards?(?![A-Za-z])|to\s+date(?![A-Za-z])|until\s+now|till\s+now|to\s+now|to\s+present)",
    re.IGNORECASE,
)
# "since 2023", "自2023年以来", "从2023年开始", "from 2023 onwards"
_SINCE_BEFORE = re.compile(
    r"(?<![A-Za-z])since(?:\s+the\s+(?:start|beginning)\s+of)?\s*$", re.IGNORECASE
)
_SINCE_PREFIX = re.compile(r"(?:自从|自|从|(?<![A-Za-z])from)\s*$", re.IGNORECASE)
# "截至6月底", "截止到2025年6月", "as of June 30, 2025", "up to Q3": the year so far, to its end
_UNTIL_BEFORE = re.compile(
    r"(?:截至|截止(?:到|至)?|(?<![A-Za-z])(?:as\s+of|up\s+to|through|until|till))\s*$",
    re.IGNORECASE,
)


def _choose(pieces: list[_Piece]) -> list[_Piece]:
    """Longest leftmost pieces that do not overlap."""
    pieces.sort(key=lambda p: (p.start, p.start - p.end))
    chosen: list[_Piece] = []
    for piece in pieces:
        if not chosen or piece.start >= chosen[-1].end:
            chosen.append(piece)
    return chosen


def _pairwise(
    pieces: list[_Piece], merge: Callable[[_Piece, _Piece], list[_Piece] | None]
) -> list[_Piece]:
    """Walk neighbours left to right; where `merge` joins a pair, its result replaces both
    (an empty result drops both); None leaves the first as it is and moves on."""
    out: list[_Piece] = []
    i = 0
    while i < len(pieces):
        merged = merge(pieces[i], pieces[i + 1]) if i + 1 < len(pieces) else None
        if merged is not None:
            out += merged
            i += 2
        else:
            out.append(pieces[i])
            i += 1
    return out


def _with_years(pieces: list[_Piece], text: str) -> list[_Piece]:
    """Give periods written without a year the year next to them: 2025年3月, March 2025."""
    return _pairwise(pieces, lambda a, b: _with_year(a, b, text))


def _with_year(a: _Piece, b: _Piece, text: str) -> list[_Piece] | None:
    """ "2025年" + "3月", "Christmas" + "2024" → one piece; None when they are no such pair."""
    gap = text[a.end : b.start]
    if a.year is not None and b.with_year and _YEAR_THEN_PERIOD.fullmatch(gap):
        period, year = b, a.year
    elif (
        b.year is not None
        and b.span is not None
        and a.with_year
        and _PERIOD_THEN_YEAR.fullmatch(gap)
    ):
        period, year = a, b.year
    else:
        return None
    assert period.with_year is not None
    span = period.with_year(year)
    if span is None:
        return []  # 2023年2月29日: no such day; leave the words unread
    label = None
    if period.label is not None:  # "2024年" + "双十一所在月": the year as written, the rest named
        label = (text[a.start : period.start] + period.label + text[period.end : b.end]).strip()
    return [_Piece(a.start, b.end, span, period.grain, label=label)]


def _ranges(pieces: list[_Piece], text: str, as_of: date) -> list[_Piece]:
    """Join two periods into one range: 2024年1月到2025年6月, Q1-Q2, between 2023 and 2024."""

    def merge(a: _Piece, b: _Piece) -> list[_Piece] | None:
        merged = _range(a, b, text, as_of)
        return None if merged is None else [merged]

    return _pairwise(pieces, merge)


def _range(a: _Piece, b: _Piece, text: str, as_of: date) -> _Piece | None:
    if a.span is None or b.span is None:
        return None
    join = _RANGE_JOIN.fullmatch(text, a.end, b.start)
    if join is None:
        return None
    prefix = _RANGE_PREFIX.search(text[max(0, a.start - 10) : a.start])
    if join.group().strip().lower() == "and" and (
        prefix is None or prefix.group().strip().lower() != "between"
    ):
        return None
    first, last = a.span, b.span
    if a.with_year and b.with_year:
        year = first[0].year
        last = b.with_year(year)
        if last is not None and last[1] <= first[0]:
            last = b.with_year(year + 1)  # 11月到2月: November to the next February
    elif a.with_year:
        year = (last[1] - timedelta(days=1)).year
        first = a.with_year(year)
        if first is not None and first[0] >= last[1]:
            first = a.with_year(year - 1)  # Nov-Feb 2025: November 2024 to February 2025
    elif b.with_year:
        year = first[0].year
        last = b.with_year(year)
        if last is not None and last[1] <= first[0]:
            last = b.with_year(year + 1)
    if first is None or last is None or last[1] <= first[0]:
        return None
    start = a.start - (len(prefix.group()) if prefix else 0)
    return _Piece(start, b.end, (first[0], last[1]), _finer(a.grain, b.grain))


def _finer(a: Grain | None, b: Grain | None) -> Grain | None:
    if a is None or b is None:
        return a or b
    return min(a, b, key=GRAIN_ORDER.index)


def _since(pieces: list[_Piece], text: str, as_of: date) -> list[_Piece]:
    """ "2023年以来", "since March 2024": from the period's start up to D;
    "截至6月", "as of June 30": from 1 January of that year to the period's end."""
    out: list[_Piece] = []
    for p in pieces:
        if out and p.start < out[-1].end:
            continue  # swallowed by the previous one's 以来 / 至今 ("今年年初至今")
        if p.span is not None:
            p = _since_one(p, p.span, text, as_of)
        out.append(p)
    return out


def _since_one(p: _Piece, span: Span, text: str, as_of: date) -> _Piece:
    before = text[max(0, p.start - 30) : p.start]
    after = _SINCE_AFTER.match(text, p.end)
    since = _SINCE_BEFORE.search(before)
    if (after is not None or since is not None) and span[0] <= as_of:
        prefix = since or (_SINCE_PREFIX.search(before) if after else None)
        start = p.start - (len(prefix.group()) if prefix else 0)
        end = after.end() if after is not None else p.end
        return _Piece(start, end, _up_to(span[0], as_of), p.grain)
    if until := _UNTIL_BEFORE.search(before):
        year_start = date(span[0].year, 1, 1)
        return _Piece(p.start - len(until.group()), p.end, (year_start, span[1]), p.grain)
    return p


# A cheap test that lets questions without any time-ish character skip the patterns.
_ANY_TIME = re.compile(
    r"[\d年月季周天日今去昨前上下本这当近半Qq双庆旦诞节夜史全所至累开从迄]|[A-Za-z]{2,}",
)


def find_times(text: str, as_of: date) -> list[TimeMatch]:
    """Every time expression in `text` resolved against `as_of`, non-overlapping, left to right.

    Spans index `text` as given (full-width characters count as one), so a caller can blank
    them out; each range's label is the matched words as written, except that a festival
    reads by its name and period (去年双11那个月 → 去年双十一所在月).
    """
    norm = normalize_width(text)
    if not _ANY_TIME.search(norm):
        return []
    found: list[_Piece] = []
    for pattern, handler in _RULES:
        for m in pattern.finditer(norm):
            try:
                piece = handler(m, as_of)
            except (ValueError, OverflowError):
                piece = None  # a date outside what `datetime.date` can hold: not a time
            if piece is not None:
                found.append(piece)
    pieces = _choose(found)
    pieces = _with_years(pieces, norm)
    pieces = _ranges(pieces, norm, as_of)
    pieces = _since(pieces, norm, as_of)
    matches = []
    for p in pieces:
        if p.span is None:
            continue
        label = p.label or text[p.start : p.end].strip()
        time_range = TimeRange(start=p.span[0], end=p.span[1], label=label)
        matches.append(TimeMatch(p.start, p.end, time_range, p.grain))
    return matches


# ---------------------------------------------------------------------------- grains

_GRAIN_WORDS: dict[Grain, str] = {
    # 按月 / 每月 / 月度 / 各月份 / monthly / month by month; 3月份 is a month, not a grain
    Grain.month: r"按月份?|每个?月份?|逐月|分月|各月份?|(?<![\d一二三四五六七八九十本上下当这个])月度"
    r"|(?<![\d一二三四五六七八九十])月份"
    r"|(?<![A-Za-z])(?:monthly|by\s+month|per\s+month|each\s+month|every\s+month"
    r"|month\s+by\s+month|month-by-month)(?![A-Za-z])",
    # 按季度 / 每季度 / 季度 / 分季度; 三季度, 上季度, 本季度, 近4个季度 are periods
    Grain.quarter: r"按季度?|每个?季度?|逐季度?|分季度?|各季度?|单季度?"
    r"|(?<![\d一二三四两第上本这当下个前近季])季度"
    r"|(?<![A-Za-z])(?:quarterly|by\s+quarter|per\s+quarter|each\s+quarter|every\s+quarter"
    r"|quarter\s+by\s+quarter)(?![A-Za-z])",
    # 按年 / 每年 / 年度 / 各年 / 历年; 2024年度, 上年度, 本年度 are periods
    Grain.year: r"按年度?|每年度?|逐年|分年度?|各年度?|历年"
    r"|(?<![\d零〇一二三四五六七八九本上去今前当该全])年度"
    r"|(?<![A-Za-z])(?:yearly|annually|by\s+year|per\s+year|each\s+year|every\s+year"
    r"|year\s+by\s+year)(?![A-Za-z])",
    # 按周 / 每周 / 周度
    Grain.week: r"按周|每个?周|每个?星期|逐周|分周|各周|周度"
    r"|(?<![A-Za-z])(?:weekly|by\s+week|per\s+week|each\s+week|every\s+week"
    r"|week\s+by\s+week)(?![A-Za-z])",
    # 按天 / 每天 / 每日 / 日度
    Grain.day: r"按天|按日|每天|每日|逐日|分日|各日|日度"
    r"|(?<![A-Za-z])(?:daily|by\s+day|per\s+day|each\s+day|every\s+day|day\s+by\s+day)(?![A-Za-z])",
}
_GRAINS = re.compile(
    "|".join(f"(?P<{grain.value}>{pattern})" for grain, pattern in _GRAIN_WORDS.items()),
    re.IGNORECASE,
)


def find_grains(text: str) -> list[GrainMatch]:
    """Grain words ("按月", "每季度", "年度", "monthly", "by week"), non-overlapping, left to right."""
    matches = []
    for m in _GRAINS.finditer(normalize_width(text)):
        grain = Grain(next(name for name, value in m.groupdict().items() if value))
        matches.append(GrainMatch(m.start(), m.end(), grain))
    return matches
