"""Numbers in questions: Chinese numerals, scales, percents, and the dates that are not numbers."""

from __future__ import annotations

import pytest

from assistant.understand.numbers import find_numbers, looks_like_year, parse_chinese_numeral

NUMERALS = [
    ("三", 3),
    ("十", 10),
    ("十二", 12),
    ("二十", 20),
    ("二十五", 25),
    ("一百零五", 105),
    ("一百二十", 120),
    ("一百一", 110),
    ("两", 2),
    ("两百五", 250),
    ("三千", 3000),
    ("三千五", 3500),
    ("一千零五十", 1050),
    ("一万二", 12000),
    ("一万零五", 10005),
    ("五百万", 5_000_000),
    ("一千二百万", 12_000_000),
    ("一亿二千万", 120_000_000),
    ("三亿五", 350_000_000),
    ("二零二五", 2025),
    ("零", 0),
    ("百", None),
    ("万", None),
    ("二五十", None),
    ("一百一百", None),
    ("abc", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "value"), NUMERALS, ids=[n[0] or "empty" for n in NUMERALS])
def test_parse_chinese_numeral(text: str, value: int | None) -> None:
    assert parse_chinese_numeral(text) == value


# (text, [(words as written, value, percent)])
CASES: list[tuple[str, list[tuple[str, float, bool]]]] = [
    ("1,200.5", [("1,200.5", 1200.5, False)]),
    ("3.5", [("3.5", 3.5, False)]),
    ("1000万", [("1000万", 10_000_000, False)]),
    ("1000 万元", [("1000 万元", 10_000_000, False)]),
    ("5个亿", [("5个亿", 500_000_000, False)]),
    ("1.2亿", [("1.2亿", 120_000_000, False)]),
    ("1.2亿元", [("1.2亿元", 120_000_000, False)]),
    ("3千万", [("3千万", 30_000_000, False)]),
    ("5百万", [("5百万", 5_000_000, False)]),
    ("3千", [("3千", 3000, False)]),
    ("五百万", [("五百万", 5_000_000, False)]),
    ("五个亿", [("五个亿", 500_000_000, False)]),
    ("两千万元", [("两千万元", 20_000_000, False)]),
    ("一点五亿", [("一点五亿", 150_000_000, False)]),
    ("300元", [("300元", 300, False)]),
    ("300块", [("300块", 300, False)]),
    ("30%", [("30%", 0.3, True)]),
    ("30％", [("30％", 0.3, True)]),
    ("12.5%", [("12.5%", 0.125, True)]),
    ("百分之二十", [("百分之二十", 0.2, True)]),
    ("百分之12.5", [("百分之12.5", 0.125, True)]),
    ("30 percent", [("30 percent", 0.3, True)]),
    ("30 pct", [("30 pct", 0.3, True)]),
    ("3个百分点", [("3个百分点", 0.03, True)]),
    ("-5%", [("-5%", -0.05, True)]),
    ("负5%", [("负5%", -0.05, True)]),
    ("增长-3.5%", [("-3.5%", -0.035, True)]),
    ("5 million", [("5 million", 5_000_000, False)]),
    ("5m", [("5m", 5_000_000, False)]),
    ("5M revenue", [("5M", 5_000_000, False)]),
    ("2.5 billion", [("2.5 billion", 2_500_000_000, False)]),
    ("300k", [("300k", 300_000, False)]),
    ("300K", [("300K", 300_000, False)]),
    ("1.2bn", [("1.2bn", 1_200_000_000, False)]),
    ("$5m", [("$5m", 5_000_000, False)]),
    ("5 markets", [("5", 5, False)]),
    ("top 5", [("5", 5, False)]),
    ("top five customers", [("five", 5, False)]),
    ("前10名", [("10", 10, False)]),
    ("前三名", [("三", 3, False)]),
    ("第一", [("一", 1, False)]),
    ("两个区域", [("两", 2, False)]),
    ("二十", [("二十", 20, False)]),
    ("一百二十", [("一百二十", 120, False)]),
    ("十二", [("十二", 12, False)]),
    ("2000万", [("2000万", 20_000_000, False)]),
    ("2000个订单", [("2000", 2000, False)]),
    ("超过2000", [("2000", 2000, False)]),
    ("revenue above 2000", [("2000", 2000, False)]),
    ("账龄超过90天", [("90", 90, False)]),
    ("近6个月", [("6", 6, False)]),
    ("毛利率低于20%的产品", [("20%", 0.2, True)]),
    ("收入大于1.2亿且毛利率高于百分之三十", [("1.2亿", 1.2e8, False), ("百分之三十", 0.3, True)]),
    ("revenue over 5m with margin below 30%", [("5m", 5e6, False), ("30%", 0.3, True)]),
    ("2025年Q3收入超过3千万的客户", [("3千万", 3e7, False)]),
    ("１２００万", [("１２００万", 12_000_000, False)]),
    # dates, years and words that are not quantities
    ("2025年", []),
    ("2025 年", []),
    ("2025-03", []),
    ("2025-03-15", []),
    ("2025/3/15", []),
    ("3/2025", []),
    ("2025.3", []),
    ("3月", []),
    ("三月", []),
    ("15日", []),
    ("15号", []),
    ("一季度", []),
    ("第三季度", []),
    ("1-3月", []),
    ("Q3", []),
    ("q4", []),
    ("FY2024", []),
    ("H1 2025", []),
    ("W10", []),
    ("12月1-7日", []),
    ("2024", []),
    ("2024 revenue", []),
    ("看一下", []),
    ("一些客户", []),
    ("一共多少", []),
    ("统一口径", []),
    ("一样", []),
    ("业财一体化", []),
    ("十分重要", []),
    ("周一", []),
    ("which one", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_find_numbers(text: str, expected: list[tuple[str, float, bool]]) -> None:
    found = find_numbers(text)
    got = [(text[m.start : m.end], m.value, m.percent) for m in found]
    assert [(w, p) for w, _, p in got] == [(w, p) for w, _, p in expected]
    for (_, value, _), (_, want, _) in zip(got, expected, strict=True):
        assert value == pytest.approx(want)
    for m in found:
        assert m.text == text[m.start : m.end]


@pytest.mark.parametrize(
    ("text", "start", "end", "year"),
    [
        ("2024 revenue", 0, 4, True),
        ("in 2024", 3, 7, True),
        ("2000万", 0, 4, False),
        ("超过2000", 2, 6, False),
        ("more than 2000", 10, 14, False),
        ("2000个", 0, 4, False),
        ("1989", 0, 4, False),
        ("2101", 0, 4, False),
        ("202", 0, 3, False),
    ],
)
def test_looks_like_year(text: str, start: int, end: int, year: bool) -> None:
    assert looks_like_year(text, start, end) is year


def test_matches_are_ordered_and_disjoint() -> None:
    text = "2025年华东区收入超过1.2亿、毛利率低于30%、增长-5%的前10名客户，看一下"
    found = find_numbers(text)
    assert [m.text for m in found] == ["1.2亿", "30%", "-5%", "10"]
    for a, b in zip(found, found[1:], strict=False):
        assert a.end <= b.start
