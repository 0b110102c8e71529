"""Numbers in questions: Arabic and Chinese numerals, 万/亿 and k/m/bn scales, percentages.

`find_numbers` returns every quantity in a question, in base units ("1000万" → 10_000_000.0,
"30%" → 0.3), so a condition like "毛利率低于20%" or "revenue above 5m" can be read off it.

Choices a caller should know about:

- Dates are not quantities. A number directly followed by 年 / 月 / 日 / 号 / 季 / 季度 / 月份,
  or preceded by Q / FY / H / W (Q3, FY2024, H1, W10), or inside a date (2025-03, 2025/3/15, 3/2025,
  1-3月) is skipped; so is a bare 4-digit number between 1990 and 2100 ("2024 revenue") unless a
  unit, a measure word or a comparison says it is an amount ("2000万", "2000个", "超过2000").
- Durations are quantities: "3个月", "30天", "近6个月" all yield their number. The rule parser
  removes time expressions (`time_words.find_times`) before looking for numbers.
- Chinese numerals inside common words that are not quantities are skipped: 一下, 一些, 一共,
  统一, 一样, 一起, 一直, 一般, 一定, 唯一, 一致, 万一, 一切, 一旦, 进一步, 同一, 一体化, 十分,
  两者, 周一 … (weekdays). "第一" is returned as 1: rankings use it.
- English number words two … ninety are read ("top five"); "one" is not ("which one").
- "5m" / "300k" / "2b" need the letter right after the digits (or a non-letter after it):
  "5 markets" is 5, not five million. Words ("5 million", "2.5 billion", "1.2bn") may be spaced.
- A currency sign ($, ¥, €, £) and a sign (-5%, −5%, 负5%) belong to the span.
- Not supported: ranges as one value ("3-5万" gives 3 and 5万), 成 ("三成" = 30%), 千分之,
  fractions ("三分之一"), ordinals in words ("second largest").
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class NumberMatch:
    """One number found in a text: its span, its value in base units, and whether it was a %."""

    start: int
    end: int
    value: float
    percent: bool
    text: str


# Full-width forms → ASCII, one character for one, so spans found in the result fit the input.
_FULLWIDTH = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
        **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
        "％": "%",
        "－": "-",
        "／": "/",
        "．": ".",
        "～": "~",
        "＜": "<",
        "＞": ">",
        "＝": "=",
        "　": " ",
    }
)


def normalize_width(text: str) -> str:
    """Full-width digits, letters and signs → ASCII; same length, so spans carry over."""
    return text.translate(_FULLWIDTH)


_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_BIG_UNITS = (("亿", 10**8), ("万", 10**4))
_CN_CHARS = set(_CN_DIGITS) | set(_CN_SMALL_UNITS) | {"万", "亿"}


def parse_chinese_numeral(text: str) -> int | None:
    """A Chinese numeral as an int: "三"→3, "十二"→12, "一百零五"→105, "一万二"→12000.

    Digit-by-digit numerals ("二零二五" → 2025) are read as written. Returns None for anything
    that is not a well-formed numeral ("百", "二五十", "万").
    """
    text = text.strip()
    if not text or any(ch not in _CN_CHARS for ch in text):
        return None
    if all(ch in _CN_DIGITS for ch in text):
        if len(text) == 1:
            return _CN_DIGITS[text]
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    return _parse_big(text)


def _parse_big(text: str) -> int | None:
    """Split at 亿 then 万: "一亿二千万" = 1 亿 + 2000 万; "一万二" is shorthand for 12000."""
    for unit, size in _CN_BIG_UNITS:
        if unit not in text:
            continue
        high_text, _, low_text = text.partition(unit)
        high = _parse_big(high_text) if high_text else None
        if high is None:
            return None
        if not low_text:
            return high * size
        if len(low_text) == 1 and low_text in _CN_DIGITS and _CN_DIGITS[low_text]:
            # 一万二 = 12000, 三亿五 = 3.5 亿: a lone digit counts in the next smaller unit
            return high * size + _CN_DIGITS[low_text] * size // 10
        rest = low_text.lstrip("零〇")
        low = _parse_big(rest) if rest else 0
        if low is None or low >= size:
            return None
        return high * size + low
    return _parse_section(text)


def _parse_section(text: str) -> int | None:
    """A numeral below 万: 三千五 → 3500, 一百零五 → 105, 十二 → 12."""
    total, digit, last_unit, after_zero = 0, None, None, False
    for ch in text:
        if ch in _CN_DIGITS:
            if _CN_DIGITS[ch] == 0:
                after_zero, digit = True, None
                continue
            if digit is not None:
                return None
            digit = _CN_DIGITS[ch]
        elif ch in _CN_SMALL_UNITS:
            unit = _CN_SMALL_UNITS[ch]
            if last_unit is not None and unit >= last_unit:
                return None
            if digit is None:
                if ch != "十":
                    return None
                digit = 1  # 十二: the 一 of 一十 is not spoken
            total += digit * unit
            digit, last_unit, after_zero = None, unit, False
        else:
            return None
    if digit is not None:
        if last_unit is not None and last_unit >= 100 and not after_zero:
            total += digit * last_unit // 10  # 三千五 = 3500, 两百五 = 250
        else:
            total += digit
    return total


_EN_WORDS = {
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
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}

_CN_SCALES = {
    "万亿": 1e12,
    "千亿": 1e11,
    "百亿": 1e10,
    "亿": 1e8,
    "千万": 1e7,
    "百万": 1e6,
    "十万": 1e5,
    "万": 1e4,
    "千": 1e3,
    "百": 1e2,
}
_EN_SCALES = {
    "trillion": 1e12,
    "tn": 1e12,
    "billion": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "million": 1e6,
    "mn": 1e6,
    "m": 1e6,
    "thousand": 1e3,
    "k": 1e3,
    "hundred": 1e2,
}

_CN_NUMERAL = r"(?:[零〇一二两三四五六七八九]|十)[零〇一二两三四五六七八九十百千万亿]*"
_CN_SCALE = r"个?(?:万亿|千亿|百亿|亿|千万|百万|十万|万|千|百)"


def _percent(group: str) -> str:
    """30%, 30个百分点, 30 percent, 30 pct: one named group per place it is used."""
    return rf"(?P<{group}>%|个百分点|百分点|(?<![A-Za-z])(?:percent|per\s?cent|pct)(?![A-Za-z]))"


_NUMBER = re.compile(
    rf"""
    # 百分之二十 → 0.2, 百分之12.5 → 0.125
    (?P<cnpct>百分之\s*(?P<cnpct_num>\d+(?:\.\d+)?|{_CN_NUMERAL}(?:点[零〇一二三四五六七八九]+)?))
    # -5%, $1,200.5, 1.2亿元, 5个亿, 300k, 2.5 billion, 30 pct
    | (?P<sign>(?<![0-9A-Za-z.])[-−]|负)?
      (?P<cur>[$¥￥€£])?
      (?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)
      (?:
        \s*{_percent("pct")}
        | \s*(?P<cnscale>{_CN_SCALE})(?P<yuan>元|块)?
        | \s*(?P<yuan2>元|块)
        | \s*(?P<enword>trillion|billion|million|thousand|hundred|bn|mn|tn)(?![A-Za-z])
        | (?P<enletter>[kmb])(?![A-Za-z])
      )?
    # 五百万 → 5e6, 五个亿 → 5e8, 一点五亿 → 1.5e8, 两千万元
    | (?P<cnsign>负)?
      (?P<cn>{_CN_NUMERAL})(?:点(?P<cndec>[零〇一二三四五六七八九]+))?
      (?P<cnscale2>{_CN_SCALE})?(?P<yuan3>元|块)?
      (?:\s*{_percent("pct2")})?
    # five, twenty percent, five million
    | (?<![A-Za-z])(?P<word>{"|".join(_EN_WORDS)})(?![A-Za-z])
      (?:\s+(?P<wordscale>hundred|thousand|million|billion)(?![A-Za-z]))?
      (?:\s*{_percent("pct3")})?
    """,
    re.VERBOSE | re.IGNORECASE,
)

# Dates written with digits: 2025-03, 2025/3/15, 2025.3, 3/2025, 1-3月, 2-5日
_DATE_SPAN = re.compile(
    r"""
    (?<![\d.,])(?:199\d|20\d\d|2100)\s*[-/.]\s*(?:1[0-2]|0?[1-9])
        (?:\s*[-/.]\s*(?:3[01]|[12]\d|0?[1-9]))?(?!\d|\s*[%万亿千百元])
    | (?<![\d/.])(?:1[0-2]|0?[1-9])\s*/\s*(?:19|20)\d\d(?!\d)
    | (?<![\d.])\d{1,2}\s*[-~到至]\s*\d{1,2}\s*(?:月|日|号|季)
    """,
    re.VERBOSE,
)
# 2025年, 3月, 15日, 15号, 三季度, 2024财年: the number is part of a date
_DATE_AFTER = re.compile(r"\s*(?:年|月|日|号|季|财年)")
# Q3, FY2024, FY 24, H1, W10: a period name, not a quantity
_PERIOD_BEFORE = re.compile(r"(?:(?<![A-Za-z])(?:q|fy|h|w)\s?)$", re.IGNORECASE)
# 周一, 星期三, 礼拜五: weekdays
_WEEKDAY_BEFORE = re.compile(r"(?:周|星期|礼拜)$")
# Chinese words that contain a numeral but are not quantities: 看一下, 业财一体化, 十分重要
_NOT_QUANTITY = re.compile(
    r"一下|一些|一共|统一|一样|一起|一直|一般|一定|唯一|一致|万一|一切|一旦|进一步|同一"
    r"|一体|一览|一点(?![零〇一二三四五六七八九])|一番|一遍|之一|十分|两者|一向|一度|不一"
)
# 2000万, 2000个, 2000.5, 2000-3000万, 2000 k: a unit or a measure word makes it an amount
_QUANTITY_AFTER = re.compile(
    r"\s*(?:[.,]\d|[%万亿千百元块个多余笔单件台次条户名家人位张]"
    r"|[-~到至]\s*\d+\s*[%万亿千百元块]"
    r"|(?:k|m|b|bn|mn|million|billion|thousand|percent|pct)(?![A-Za-z]))",
    re.IGNORECASE,
)
# 超过2000, > 2000, above 2000: a comparison makes it an amount
_COMPARISON_BEFORE = re.compile(
    r"(?:[<>=≤≥]|大于|小于|高于|低于|超过|多于|少于|不足|不到|至少|最多|达到|等于|"
    r"(?<![A-Za-z])(?:above|below|over|under|exceeds?|exceeding|more than|less than|fewer than"
    r"|greater than|at least|at most|equals?))\s*$",
    re.IGNORECASE,
)


def looks_like_year(text: str, start: int, end: int) -> bool:
    """A bare 4-digit number in 1990–2100 ("2024 revenue") reads as a year, unless a unit, a
    measure word or a comparison around it says it is an amount ("2000万", "超过2000")."""
    token = text[start:end]
    if len(token) != 4 or not token.isdigit() or not 1990 <= int(token) <= 2100:
        return False
    if _QUANTITY_AFTER.match(text, end):
        return False
    return not _COMPARISON_BEFORE.search(text[max(0, start - 14) : start])


def find_numbers(text: str) -> list[NumberMatch]:
    """Every number in `text`, non-overlapping, left to right; dates and years are skipped."""
    norm = normalize_width(text)
    dates = (
        [m.span() for m in _DATE_SPAN.finditer(norm)] if any(c in norm for c in "-/.~到至") else []
    )
    words = [m.span() for m in _NOT_QUANTITY.finditer(norm)]
    found: list[NumberMatch] = []
    for m in _NUMBER.finditer(norm):
        start, end = m.span()
        if any(s < end and start < e for s, e in dates):
            continue
        if m["cnpct"]:
            value = _number_value(m["cnpct_num"])
            if value is not None:
                found.append(NumberMatch(start, end, value / 100, True, text[start:end]))
            continue
        if m["num"]:
            match = _arabic(m, norm, text)
        elif m["cn"]:
            if any(s < end and start < e for s, e in words):
                continue
            match = _chinese(m, norm, text)
        else:
            match = _english(m, text)
        if match is not None:
            found.append(match)
    return found


def _number_value(token: str) -> float | None:
    """'12.5' or a Chinese numeral with an optional 点 decimal ('十二点五')."""
    if token[0].isdigit():
        return float(token)
    whole, _, decimals = token.partition("点")
    value = parse_chinese_numeral(whole)
    if value is None:
        return None
    if decimals:
        return float(f"{value}.{''.join(str(_CN_DIGITS[c]) for c in decimals)}")
    return float(value)


def _arabic(m: re.Match[str], norm: str, text: str) -> NumberMatch | None:
    start, end = m.span()
    num_start, num_end = m.span("num")
    has_unit = bool(m["pct"] or m["cnscale"] or m["yuan2"] or m["enword"] or m["enletter"])
    if not has_unit:
        if _DATE_AFTER.match(norm, num_end):
            return None
        if not m["sign"] and looks_like_year(norm, num_start, num_end):
            return None
    if not m["cur"] and _PERIOD_BEFORE.search(norm, max(0, num_start - 3), num_start):
        return None
    value = float(m["num"].replace(",", ""))
    percent = bool(m["pct"])
    if percent:
        value /= 100
    elif m["cnscale"]:
        value *= _CN_SCALES[m["cnscale"].lstrip("个")]
    elif m["enword"] or m["enletter"]:
        value *= _EN_SCALES[(m["enword"] or m["enletter"]).lower()]
    if m["sign"]:
        value = -value
    return NumberMatch(start, end, value, percent, text[start:end])


def _chinese(m: re.Match[str], norm: str, text: str) -> NumberMatch | None:
    start, end = m.span()
    if not (m["cnscale2"] or m["yuan3"] or m["pct2"]) and _DATE_AFTER.match(norm, m.end("cn")):
        return None
    if _WEEKDAY_BEFORE.search(norm, max(0, start - 2), start):
        return None
    integer = parse_chinese_numeral(m["cn"])
    if integer is None:
        return None
    value = float(integer)
    if m["cndec"]:
        value = float(f"{integer}.{''.join(str(_CN_DIGITS[c]) for c in m['cndec'])}")
    percent = bool(m["pct2"])
    if m["cnscale2"]:
        value *= _CN_SCALES[m["cnscale2"].lstrip("个")]
    if percent:
        value /= 100
    if m["cnsign"]:
        value = -value
    return NumberMatch(start, end, value, percent, text[start:end])


def _english(m: re.Match[str], text: str) -> NumberMatch:
    start, end = m.span()
    value = float(_EN_WORDS[m["word"].lower()])
    if m["wordscale"]:
        value *= _EN_SCALES[m["wordscale"].lower()]
    percent = bool(m["pct3"])
    if percent:
        value /= 100
    return NumberMatch(start, end, value, percent, text[start:end])
