"""Time words → absolute ranges, checked case by case against DESIGN.md's time conventions.

Each case gives the as-of date D, the question, and every expected match as
(words as written, start, end exclusive, grain hint). Four as-of dates cover a year's end, a
mid-year Sunday, a leap day and the first days of a year.
"""

from __future__ import annotations

import time
from datetime import date

import pytest

from assistant.understand.time_words import find_grains, find_times
from semantic_layer.model import Grain

YE = date(2025, 12, 31)  # Wednesday, the demo's as-of date
MID = date(2025, 6, 15)  # Sunday; ISO week from Monday 2025-06-09
LEAP = date(2024, 2, 29)  # Thursday; ISO week from Monday 2024-02-26
JAN = date(2025, 1, 10)  # Friday; ISO week from Monday 2025-01-06

M, Q, Y, W, D = Grain.month, Grain.quarter, Grain.year, Grain.week, Grain.day

Expected = tuple[str, str, str, Grain | None]
CASES: list[tuple[date, str, list[Expected]]] = [
    # --- this period, up to D
    (YE, "本月", [("本月", "2025-12-01", "2026-01-01", M)]),
    (MID, "这个月的收入", [("这个月", "2025-06-01", "2025-06-16", M)]),
    (LEAP, "当月回款", [("当月", "2024-02-01", "2024-03-01", M)]),
    (JAN, "revenue this month", [("this month", "2025-01-01", "2025-01-11", M)]),
    (MID, "MTD revenue", [("MTD", "2025-06-01", "2025-06-16", M)]),
    (MID, "月初至今的订单", [("月初至今", "2025-06-01", "2025-06-16", M)]),
    (MID, "本季度", [("本季度", "2025-04-01", "2025-06-16", Q)]),
    (YE, "这个季度", [("这个季度", "2025-10-01", "2026-01-01", Q)]),
    (LEAP, "本季", [("本季", "2024-01-01", "2024-03-01", Q)]),
    (JAN, "this quarter", [("this quarter", "2025-01-01", "2025-01-11", Q)]),
    (MID, "QTD", [("QTD", "2025-04-01", "2025-06-16", Q)]),
    (MID, "今年", [("今年", "2025-01-01", "2025-06-16", Y)]),
    (LEAP, "本年", [("本年", "2024-01-01", "2024-03-01", Y)]),
    (YE, "这一年", [("这一年", "2025-01-01", "2026-01-01", Y)]),
    (MID, "今年以来的毛利率", [("今年以来", "2025-01-01", "2025-06-16", Y)]),
    (JAN, "this year", [("this year", "2025-01-01", "2025-01-11", Y)]),
    (MID, "本周", [("本周", "2025-06-09", "2025-06-16", W)]),
    (YE, "这周", [("这周", "2025-12-29", "2026-01-01", W)]),
    (LEAP, "this week", [("this week", "2024-02-26", "2024-03-01", W)]),
    (MID, "今天", [("今天", "2025-06-15", "2025-06-16", D)]),
    (LEAP, "today", [("today", "2024-02-29", "2024-03-01", D)]),
    (JAN, "昨天", [("昨天", "2025-01-09", "2025-01-10", D)]),
    (LEAP, "yesterday", [("yesterday", "2024-02-28", "2024-02-29", D)]),
    # --- previous whole periods
    (JAN, "上月", [("上月", "2024-12-01", "2025-01-01", M)]),
    (MID, "上个月", [("上个月", "2025-05-01", "2025-06-01", M)]),
    (LEAP, "上一个月", [("上一个月", "2024-01-01", "2024-02-01", M)]),
    (YE, "last month", [("last month", "2025-11-01", "2025-12-01", M)]),
    (JAN, "previous month", [("previous month", "2024-12-01", "2025-01-01", M)]),
    (JAN, "上季度", [("上季度", "2024-10-01", "2025-01-01", Q)]),
    (MID, "上个季度", [("上个季度", "2025-01-01", "2025-04-01", Q)]),
    (LEAP, "上一季度", [("上一季度", "2023-10-01", "2024-01-01", Q)]),
    (YE, "last quarter", [("last quarter", "2025-07-01", "2025-10-01", Q)]),
    (MID, "去年", [("去年", "2024-01-01", "2025-01-01", Y)]),
    (JAN, "上年", [("上年", "2024-01-01", "2025-01-01", Y)]),
    (LEAP, "上一年", [("上一年", "2023-01-01", "2024-01-01", Y)]),
    (YE, "last year", [("last year", "2024-01-01", "2025-01-01", Y)]),
    (MID, "前年", [("前年", "2023-01-01", "2024-01-01", Y)]),
    (JAN, "the year before last", [("the year before last", "2023-01-01", "2024-01-01", Y)]),
    (MID, "上周", [("上周", "2025-06-02", "2025-06-09", W)]),
    (JAN, "last week", [("last week", "2024-12-30", "2025-01-06", W)]),
    (LEAP, "上周", [("上周", "2024-02-19", "2024-02-26", W)]),
    (MID, "上上个月", [("上上个月", "2025-04-01", "2025-05-01", M)]),
    (JAN, "上上月", [("上上月", "2024-11-01", "2024-12-01", M)]),
    # --- the last N units, D's unit included, up to D
    (JAN, "近3个月", [("近3个月", "2024-11-01", "2025-01-11", M)]),
    (YE, "近6个月", [("近6个月", "2025-07-01", "2026-01-01", M)]),
    (MID, "最近12个月", [("最近12个月", "2024-07-01", "2025-06-16", M)]),
    (LEAP, "过去3个月", [("过去3个月", "2023-12-01", "2024-03-01", M)]),
    (MID, "前3个月", [("前3个月", "2025-04-01", "2025-06-16", M)]),
    (MID, "last 3 months", [("last 3 months", "2025-04-01", "2025-06-16", M)]),
    (YE, "past 6 months", [("past 6 months", "2025-07-01", "2026-01-01", M)]),
    (JAN, "trailing 12 months", [("trailing 12 months", "2024-02-01", "2025-01-11", M)]),
    (MID, "近三个月", [("近三个月", "2025-04-01", "2025-06-16", M)]),
    (YE, "最近十二个月", [("最近十二个月", "2025-01-01", "2026-01-01", M)]),
    (MID, "近两年", [("近两年", "2024-01-01", "2025-06-16", Y)]),
    (MID, "最近半年", [("最近半年", "2025-01-01", "2025-06-16", M)]),
    (JAN, "最近一个月", [("最近一个月", "2025-01-01", "2025-01-11", M)]),
    (YE, "最近三年", [("最近三年", "2023-01-01", "2026-01-01", Y)]),
    (LEAP, "过去5年", [("过去5年", "2020-01-01", "2024-03-01", Y)]),
    (MID, "last 2 years", [("last 2 years", "2024-01-01", "2025-06-16", Y)]),
    (MID, "近4个季度", [("近4个季度", "2024-07-01", "2025-06-16", Q)]),
    (JAN, "最近两个季度", [("最近两个季度", "2024-10-01", "2025-01-11", Q)]),
    (YE, "last 4 quarters", [("last 4 quarters", "2025-01-01", "2026-01-01", Q)]),
    (MID, "近4周", [("近4周", "2025-05-19", "2025-06-16", W)]),
    (JAN, "last 2 weeks", [("last 2 weeks", "2024-12-30", "2025-01-11", W)]),
    (MID, "近7天", [("近7天", "2025-06-09", "2025-06-16", D)]),
    (LEAP, "最近30天", [("最近30天", "2024-01-31", "2024-03-01", D)]),
    (JAN, "过去7天", [("过去7天", "2025-01-04", "2025-01-11", D)]),
    (YE, "last 30 days", [("last 30 days", "2025-12-02", "2026-01-01", D)]),
    (MID, "last three months", [("last three months", "2025-04-01", "2025-06-16", M)]),
    (MID, "TTM revenue", [("TTM", "2024-07-01", "2025-06-16", M)]),
    (LEAP, "近12个月", [("近12个月", "2023-03-01", "2024-03-01", M)]),
    # --- year to date, since
    (MID, "年初至今", [("年初至今", "2025-01-01", "2025-06-16", Y)]),
    (LEAP, "本年累计收入", [("本年累计", "2024-01-01", "2024-03-01", Y)]),
    (JAN, "YTD revenue", [("YTD", "2025-01-01", "2025-01-11", Y)]),
    (YE, "year to date", [("year to date", "2025-01-01", "2026-01-01", Y)]),
    (MID, "今年累计", [("今年累计", "2025-01-01", "2025-06-16", Y)]),
    (MID, "2023年以来", [("2023年以来", "2023-01-01", "2025-06-16", Y)]),
    (MID, "自2023年以来的趋势", [("自2023年以来", "2023-01-01", "2025-06-16", Y)]),
    (MID, "2024年至今", [("2024年至今", "2024-01-01", "2025-06-16", Y)]),
    (MID, "从2024年开始", [("从2024年开始", "2024-01-01", "2025-06-16", Y)]),
    (MID, "since 2023", [("since 2023", "2023-01-01", "2025-06-16", Y)]),
    (MID, "since March 2024", [("since March 2024", "2024-03-01", "2025-06-16", M)]),
    (MID, "2024年3月以来", [("2024年3月以来", "2024-03-01", "2025-06-16", M)]),
    (MID, "今年年初至今", [("今年年初至今", "2025-01-01", "2025-06-16", Y)]),
    # --- absolute years
    (YE, "2024年", [("2024年", "2024-01-01", "2025-01-01", Y)]),
    (YE, "2024 年的收入", [("2024 年", "2024-01-01", "2025-01-01", Y)]),
    (YE, "24年", [("24年", "2024-01-01", "2025-01-01", Y)]),
    (YE, "revenue in 2024", [("2024", "2024-01-01", "2025-01-01", Y)]),
    (YE, "FY2024", [("FY2024", "2024-01-01", "2025-01-01", Y)]),
    (YE, "2024 revenue by region", [("2024", "2024-01-01", "2025-01-01", Y)]),
    (YE, "二〇二四年", [("二〇二四年", "2024-01-01", "2025-01-01", Y)]),
    (YE, "2024年度", [("2024年度", "2024-01-01", "2025-01-01", Y)]),
    # --- absolute months and days
    (YE, "2025年3月", [("2025年3月", "2025-03-01", "2025-04-01", M)]),
    (YE, "2025年03月", [("2025年03月", "2025-03-01", "2025-04-01", M)]),
    (YE, "2025-03", [("2025-03", "2025-03-01", "2025-04-01", M)]),
    (YE, "2025/3", [("2025/3", "2025-03-01", "2025-04-01", M)]),
    (YE, "2025.3", [("2025.3", "2025-03-01", "2025-04-01", M)]),
    (YE, "March 2025", [("March 2025", "2025-03-01", "2025-04-01", M)]),
    (YE, "Mar 2025", [("Mar 2025", "2025-03-01", "2025-04-01", M)]),
    (YE, "3/2025", [("3/2025", "2025-03-01", "2025-04-01", M)]),
    (YE, "2025 年 3 月", [("2025 年 3 月", "2025-03-01", "2025-04-01", M)]),
    (YE, "二〇二五年三月", [("二〇二五年三月", "2025-03-01", "2025-04-01", M)]),
    (YE, "2025年3月15日", [("2025年3月15日", "2025-03-15", "2025-03-16", D)]),
    (YE, "2025-03-15", [("2025-03-15", "2025-03-15", "2025-03-16", D)]),
    (LEAP, "2024-02-29", [("2024-02-29", "2024-02-29", "2024-03-01", D)]),
    (YE, "March 15, 2025", [("March 15, 2025", "2025-03-15", "2025-03-16", D)]),
    (YE, "12/31/2024", [("12/31/2024", "2024-12-31", "2025-01-01", D)]),
    # --- absolute quarters and halves
    (YE, "2025年Q3", [("2025年Q3", "2025-07-01", "2025-10-01", Q)]),
    (YE, "2025Q3", [("2025Q3", "2025-07-01", "2025-10-01", Q)]),
    (YE, "Q3 2025", [("Q3 2025", "2025-07-01", "2025-10-01", Q)]),
    (YE, "2025年第三季度", [("2025年第三季度", "2025-07-01", "2025-10-01", Q)]),
    (YE, "2025年三季度", [("2025年三季度", "2025-07-01", "2025-10-01", Q)]),
    (YE, "2025年3季度", [("2025年3季度", "2025-07-01", "2025-10-01", Q)]),
    (YE, "third quarter of 2024", [("third quarter of 2024", "2024-07-01", "2024-10-01", Q)]),
    (YE, "2025年上半年", [("2025年上半年", "2025-01-01", "2025-07-01", None)]),
    (YE, "H1 2025", [("H1 2025", "2025-01-01", "2025-07-01", None)]),
    (YE, "first half of 2025", [("first half of 2025", "2025-01-01", "2025-07-01", None)]),
    (YE, "2025年下半年", [("2025年下半年", "2025-07-01", "2026-01-01", None)]),
    (YE, "2025年第10周", [("2025年第10周", "2025-03-03", "2025-03-10", W)]),
    # --- ranges: start of the first to the end of the second
    (YE, "2024年1月到2025年6月", [("2024年1月到2025年6月", "2024-01-01", "2025-07-01", M)]),
    (YE, "2024年1月至6月", [("2024年1月至6月", "2024-01-01", "2024-07-01", M)]),
    (YE, "从2023年到2024年", [("从2023年到2024年", "2023-01-01", "2025-01-01", Y)]),
    (
        YE,
        "from Jan 2024 to Jun 2025",
        [("from Jan 2024 to Jun 2025", "2024-01-01", "2025-07-01", M)],
    ),
    (YE, "between 2023 and 2024", [("between 2023 and 2024", "2023-01-01", "2025-01-01", Y)]),
    (MID, "1-3月", [("1-3月", "2025-01-01", "2025-04-01", M)]),
    (MID, "1月到3月", [("1月到3月", "2025-01-01", "2025-04-01", M)]),
    (MID, "Q1-Q2", [("Q1-Q2", "2025-01-01", "2025-07-01", Q)]),
    (JAN, "11-12月", [("11-12月", "2024-11-01", "2025-01-01", M)]),
    (YE, "Jan-Mar 2025", [("Jan-Mar 2025", "2025-01-01", "2025-04-01", M)]),
    (YE, "2023-2024", [("2023-2024", "2023-01-01", "2025-01-01", Y)]),
    (MID, "去年11月到今年2月", [("去年11月到今年2月", "2024-11-01", "2025-03-01", M)]),
    (YE, "2025年1-3季度", [("2025年1-3季度", "2025-01-01", "2025-10-01", Q)]),
    (YE, "Q1 to Q3 2024", [("Q1 to Q3 2024", "2024-01-01", "2024-10-01", Q)]),
    (YE, "2024年Q1到2025年Q2", [("2024年Q1到2025年Q2", "2024-01-01", "2025-07-01", Q)]),
    # --- no year: in D's year, or the year before if that would start after D
    (MID, "3月", [("3月", "2025-03-01", "2025-04-01", M)]),
    (JAN, "3月份", [("3月份", "2024-03-01", "2024-04-01", M)]),
    (MID, "三月", [("三月", "2025-03-01", "2025-04-01", M)]),
    (MID, "三月份的费用", [("三月份", "2025-03-01", "2025-04-01", M)]),
    (MID, "revenue in March", [("March", "2025-03-01", "2025-04-01", M)]),
    (JAN, "Mar", [("Mar", "2024-03-01", "2024-04-01", M)]),
    (MID, "Q3", [("Q3", "2024-07-01", "2024-10-01", Q)]),
    (JAN, "Q4", [("Q4", "2024-10-01", "2025-01-01", Q)]),
    (YE, "三季度", [("三季度", "2025-07-01", "2025-10-01", Q)]),
    (YE, "第三季度", [("第三季度", "2025-07-01", "2025-10-01", Q)]),
    (MID, "3季度", [("3季度", "2024-07-01", "2024-10-01", Q)]),
    (MID, "third quarter", [("third quarter", "2024-07-01", "2024-10-01", Q)]),
    (MID, "上半年", [("上半年", "2025-01-01", "2025-07-01", None)]),
    (MID, "下半年", [("下半年", "2024-07-01", "2025-01-01", None)]),
    (MID, "H1", [("H1", "2025-01-01", "2025-07-01", None)]),
    (MID, "second half", [("second half", "2024-07-01", "2025-01-01", None)]),
    (JAN, "H2", [("H2", "2024-07-01", "2025-01-01", None)]),
    (JAN, "一季度", [("一季度", "2025-01-01", "2025-04-01", Q)]),
    (JAN, "第一季度", [("第一季度", "2025-01-01", "2025-04-01", Q)]),
    (JAN, "1季度", [("1季度", "2025-01-01", "2025-04-01", Q)]),
    (LEAP, "12月", [("12月", "2023-12-01", "2024-01-01", M)]),
    (LEAP, "2月29日", [("2月29日", "2024-02-29", "2024-03-01", D)]),
    (MID, "2月29日", [("2月29日", "2024-02-29", "2024-03-01", D)]),
    (YE, "去年2月29日", [("去年2月29日", "2024-02-29", "2024-03-01", D)]),
    (MID, "前三季度", [("前三季度", "2025-01-01", "2025-10-01", Q)]),
    # --- a relative year with a period
    (YE, "去年3月", [("去年3月", "2024-03-01", "2024-04-01", M)]),
    (YE, "去年Q4", [("去年Q4", "2024-10-01", "2025-01-01", Q)]),
    (YE, "去年上半年", [("去年上半年", "2024-01-01", "2024-07-01", None)]),
    (YE, "今年3月", [("今年3月", "2025-03-01", "2025-04-01", M)]),
    (YE, "前年12月", [("前年12月", "2023-12-01", "2024-01-01", M)]),
    (YE, "去年第四季度", [("去年第四季度", "2024-10-01", "2025-01-01", Q)]),
    (YE, "last March", [("last March", "2024-03-01", "2024-04-01", M)]),
    (YE, "March last year", [("March last year", "2024-03-01", "2024-04-01", M)]),
    (YE, "last year's Q3", [("last year's Q3", "2024-07-01", "2024-10-01", Q)]),
    (YE, "Q3 of last year", [("Q3 of last year", "2024-07-01", "2024-10-01", Q)]),
    (YE, "去年底的应收余额", [("去年底", "2024-12-01", "2025-01-01", M)]),
    (MID, "2025年前3个月", [("2025年前3个月", "2025-01-01", "2025-04-01", M)]),
    (YE, "2024年前三季度营收", [("2024年前三季度", "2024-01-01", "2024-10-01", Q)]),
    # --- period ends are the whole period (a balance is read at its last snapshot)
    (JAN, "上月末的库存", [("上月末", "2024-12-01", "2025-01-01", M)]),
    (MID, "上季度末", [("上季度末", "2025-01-01", "2025-04-01", Q)]),
    (YE, "去年年末", [("去年年末", "2024-12-01", "2025-01-01", M)]),
    (YE, "6月底的库存金额", [("6月底", "2025-06-01", "2025-07-01", M)]),
    (YE, "三季度末", [("三季度末", "2025-07-01", "2025-10-01", Q)]),
    (YE, "2024年末", [("2024年末", "2024-12-01", "2025-01-01", M)]),
    # --- day ranges inside one month
    (YE, "12月1号到15号卖了多少", [("12月1号到15号", "2025-12-01", "2025-12-16", D)]),
    (YE, "2025年3月1日至15日", [("2025年3月1日至15日", "2025-03-01", "2025-03-16", D)]),
    (MID, "12月1-7日", [("12月1-7日", "2024-12-01", "2024-12-08", D)]),
    (YE, "3月1日-3月15日", [("3月1日-3月15日", "2025-03-01", "2025-03-16", D)]),
    # --- up to a period: the year so far, to the period's end
    (YE, "截至6月底的应收余额", [("截至6月底", "2025-01-01", "2025-07-01", M)]),
    (YE, "截止到2025年6月", [("截止到2025年6月", "2025-01-01", "2025-07-01", M)]),
    (YE, "as of June 30, 2025", [("as of June 30, 2025", "2025-01-01", "2025-07-01", D)]),
    # --- more English
    (YE, "over the past year", [("past year", "2025-01-01", "2026-01-01", Y)]),
    (MID, "first 6 months of 2024", [("first 6 months of 2024", "2024-01-01", "2024-07-01", M)]),
    (
        YE,
        "the first quarter of this year",
        [("first quarter of this year", "2025-01-01", "2025-04-01", Q)],
    ),
    (YE, "Q1 through Q3", [("Q1 through Q3", "2025-01-01", "2025-10-01", Q)]),
    (
        YE,
        "expenses in the 4th quarter of 2024",
        [("4th quarter of 2024", "2024-10-01", "2025-01-01", Q)],
    ),
    (YE, "sales in Nov 2024", [("Nov 2024", "2024-11-01", "2024-12-01", M)]),
    (YE, "weekly order count in November", [("November", "2025-11-01", "2025-12-01", M)]),
    (YE, "in may", [("may", "2025-05-01", "2025-06-01", M)]),
    (YE, "2025-W10", [("2025-W10", "2025-03-03", "2025-03-10", W)]),
    (YE, "rev Q2 last yr", [("Q2 last yr", "2024-04-01", "2024-07-01", Q)]),
    (YE, "last 3 mos", [("last 3 mos", "2025-10-01", "2026-01-01", M)]),
    (YE, "last 6 wks", [("last 6 wks", "2025-11-24", "2026-01-01", W)]),
    (YE, "this qtr", [("this qtr", "2025-10-01", "2026-01-01", Q)]),
    (YE, "明年一季度的收入预算", [("明年一季度", "2026-01-01", "2026-04-01", Q)]),
    (LEAP, "去年2月29日", []),  # no such day: the words are left for the caller to report
    # --- inside full questions, mixed languages
    (YE, "2025年Q3的revenue", [("2025年Q3", "2025-07-01", "2025-10-01", Q)]),
    (JAN, "last 3 months华东", [("last 3 months", "2024-11-01", "2025-01-11", M)]),
    (YE, "2025年各区域的毛利率", [("2025年", "2025-01-01", "2026-01-01", Y)]),
    (MID, "近6个月每月的回款额", [("近6个月", "2025-01-01", "2025-06-16", M)]),
    (YE, "what was revenue in March 2025?", [("March 2025", "2025-03-01", "2025-04-01", M)]),
    (YE, "华东区域去年各月收入", [("去年", "2024-01-01", "2025-01-01", Y)]),
    (YE, "２０２５年３月的收入", [("２０２５年３月", "2025-03-01", "2025-04-01", M)]),
    (
        MID,
        "收入超过2000万的客户中，2024年的回款",
        [("2024年", "2024-01-01", "2025-01-01", Y)],
    ),
    (
        MID,
        "2023年和2024年的收入",
        [("2023年", "2023-01-01", "2024-01-01", Y), ("2024年", "2024-01-01", "2025-01-01", Y)],
    ),
    (
        YE,
        "2025 年 Q3 vs 2024 年 Q3",
        [
            ("2025 年 Q3", "2025-07-01", "2025-10-01", Q),
            ("2024 年 Q3", "2024-07-01", "2024-10-01", Q),
        ],
    ),
    (
        YE,
        "top 5 customers by revenue last quarter",
        [("last quarter", "2025-07-01", "2025-10-01", Q)],
    ),
    # comparison words are the caller's to mask: 环比上月 still yields 上月
    (MID, "收入环比上月", [("上月", "2025-05-01", "2025-06-01", M)]),
]


@pytest.mark.parametrize(("as_of", "text", "expected"), CASES, ids=[c[1] for c in CASES])
def test_find_times(as_of: date, text: str, expected: list[Expected]) -> None:
    found = find_times(text, as_of)
    got = [
        (text[m.start : m.end], str(m.range.start), str(m.range.end), m.grain_hint) for m in found
    ]
    assert got == expected
    for m, (words, *_) in zip(found, expected, strict=True):
        assert m.start == text.index(words)
        assert m.range.label == words


NOT_TIMES = [
    "按月趋势",
    "月度",
    "季度环比",
    "各区域",
    "top 5",
    "2000万",
    "收入超过2000的客户",
    "前10名客户",
    "每月收入",
    "年度预算",
    "按季度",
    "月份",
    "每周订单量",
    "market share by region",
    "revenue may increase",
    "decline in sales",
    "统一月度报表",
    "看一下各月的收入",
    "前5名",
    "第一名",
    "5个区域",
    "3个月",
    "账龄超过90天",
    "提前3天回款",
    "10年前",
    "1990年代",
    "上周期",
    "monthly revenue",
    "the top 10 customers",
    "13月",
    "May I see revenue by region",
    "1990s",
    "two regions",
]


@pytest.mark.parametrize("text", NOT_TIMES)
def test_not_times(text: str) -> None:
    assert find_times(text, YE) == []


# --- festivals on fixed dates: (D, question, [(words, start, end exclusive, grain, label)]);
# a festival's label names it, so these are not CASES (whose labels are the words as written)
BEFORE_11 = date(2025, 11, 5)  # Wednesday, before 双十一 2025 (November has begun)
AFTER_11 = date(2025, 11, 20)  # Thursday, after it

Named = tuple[str, str, str, Grain | None, str]
FESTIVALS: list[tuple[date, str, list[Named]]] = [
    # 双十一: the day, its month, its ISO week; a year before it picks the year
    (
        YE,
        "2024年双十一那个月的销售额",
        [("2024年双十一那个月", "2024-11-01", "2024-12-01", M, "2024年双十一所在月")],
    ),
    (
        YE,
        "去年双11当天的订单数",
        [("去年双11当天", "2024-11-11", "2024-11-12", D, "去年双十一当天")],
    ),
    (YE, "2024年双十一", [("2024年双十一", "2024-11-11", "2024-11-12", D, "2024年双十一")]),
    (YE, "24年双11那周", [("24年双11那周", "2024-11-11", "2024-11-18", W, "24年双十一所在周")]),
    (
        YE,
        "去年的双十一所在的那周",
        [("去年的双十一所在的那周", "2024-11-11", "2024-11-18", W, "去年的双十一所在周")],
    ),
    (YE, "光棍节", [("光棍节", "2025-11-11", "2025-11-12", D, "双十一")]),
    # no year: the most recent one on or before D, and the month / week containing it
    (AFTER_11, "双十一的销售额", [("双十一", "2025-11-11", "2025-11-12", D, "双十一")]),
    (BEFORE_11, "双十一的销售额", [("双十一", "2024-11-11", "2024-11-12", D, "双十一")]),
    (BEFORE_11, "双十一那个月", [("双十一那个月", "2024-11-01", "2024-12-01", M, "双十一所在月")]),
    (AFTER_11, "双十一当月", [("双十一当月", "2025-11-01", "2025-12-01", M, "双十一所在月")]),
    (AFTER_11, "双十一那周", [("双十一那周", "2025-11-10", "2025-11-17", W, "双十一所在周")]),
    (YE, "双十二", [("双十二", "2025-12-12", "2025-12-13", D, "双十二")]),
    (BEFORE_11, "双12当天", [("双12当天", "2024-12-12", "2024-12-13", D, "双十二当天")]),
    # 618 beside a promotion or period word, or after a year
    (MID, "618大促期间的销售额", [("618大促期间", "2024-06-18", "2024-06-19", D, "618当天")]),
    (YE, "618那周", [("618那周", "2025-06-16", "2025-06-23", W, "618所在周")]),
    (YE, "618活动那个月", [("618活动那个月", "2025-06-01", "2025-07-01", M, "618所在月")]),
    (YE, "2024年618", [("2024年618", "2024-06-18", "2024-06-19", D, "2024年618")]),
    (YE, "去年618的订单数", [("去年618", "2024-06-18", "2024-06-19", D, "去年618")]),
    (YE, "2024年618万的订单", [("2024年", "2024-01-01", "2025-01-01", Y, "2024年")]),
    # 国庆: the day, or the golden week of 1–7 October
    (YE, "国庆期间", [("国庆期间", "2025-10-01", "2025-10-08", None, "国庆黄金周")]),
    (YE, "国庆黄金周", [("国庆黄金周", "2025-10-01", "2025-10-08", None, "国庆黄金周")]),
    (
        YE,
        "2024年国庆假期",
        [("2024年国庆假期", "2024-10-01", "2024-10-08", None, "2024年国庆黄金周")],
    ),
    (MID, "十一黄金周", [("十一黄金周", "2024-10-01", "2024-10-08", None, "国庆黄金周")]),
    (YE, "国庆节当天", [("国庆节当天", "2025-10-01", "2025-10-02", D, "国庆节当天")]),
    (YE, "中秋国庆期间", [("国庆期间", "2025-10-01", "2025-10-08", None, "国庆黄金周")]),
    (MID, "元旦", [("元旦", "2025-01-01", "2025-01-02", D, "元旦")]),
    (JAN, "元旦那周", [("元旦那周", "2024-12-30", "2025-01-06", W, "元旦所在周")]),
    (YE, "圣诞节", [("圣诞节", "2025-12-25", "2025-12-26", D, "圣诞节")]),
    (MID, "圣诞节", [("圣诞节", "2024-12-25", "2024-12-26", D, "圣诞节")]),
    (YE, "平安夜", [("平安夜", "2025-12-24", "2025-12-25", D, "平安夜")]),
    (LEAP, "情人节", [("情人节", "2024-02-14", "2024-02-15", D, "情人节")]),
    (JAN, "情人节", [("情人节", "2024-02-14", "2024-02-15", D, "情人节")]),
    # English
    (
        YE,
        "revenue on Singles' Day",
        [("Singles' Day", "2025-11-11", "2025-11-12", D, "Singles' Day")],
    ),
    (BEFORE_11, "Double 11 orders", [("Double 11", "2024-11-11", "2024-11-12", D, "Singles' Day")]),
    (
        YE,
        "sales in the month of Singles' Day 2024",
        [
            (
                "the month of Singles' Day 2024",
                "2024-11-01",
                "2024-12-01",
                M,
                "the month of Singles' Day 2024",
            )
        ],
    ),
    (
        YE,
        "the week of Christmas last year",
        [
            (
                "the week of Christmas last year",
                "2024-12-23",
                "2024-12-30",
                W,
                "the week of Christmas last year",
            )
        ],
    ),
    (
        YE,
        "Christmas week",
        [("Christmas week", "2025-12-22", "2025-12-29", W, "the week of Christmas")],
    ),
    (MID, "Christmas", [("Christmas", "2024-12-25", "2024-12-26", D, "Christmas")]),
    (YE, "Christmas Eve", [("Christmas Eve", "2025-12-24", "2025-12-25", D, "Christmas Eve")]),
    (MID, "New Year's Day", [("New Year's Day", "2025-01-01", "2025-01-02", D, "New Year's Day")]),
    (
        YE,
        "National Day holiday",
        [("National Day holiday", "2025-10-01", "2025-10-08", None, "the National Day holiday")],
    ),
    (YE, "the 618 festival", [("618 festival", "2025-06-18", "2025-06-19", D, "the 618 festival")]),
    (
        LEAP,
        "Valentine's Day 2023",
        [("Valentine's Day 2023", "2023-02-14", "2023-02-15", D, "Valentine's Day 2023")],
    ),
    # combined like any period: ranges, 以来, a ranking after the festival
    (YE, "双十一到双十二", [("双十一到双十二", "2025-11-11", "2025-12-13", D, "双十一到双十二")]),
    (YE, "双十一以来", [("双十一以来", "2025-11-11", "2026-01-01", D, "双十一以来")]),
    (YE, "双十一前10名客户", [("双十一", "2025-11-11", "2025-11-12", D, "双十一")]),
]


@pytest.mark.parametrize(("as_of", "text", "expected"), FESTIVALS, ids=[f[1] for f in FESTIVALS])
def test_festivals(as_of: date, text: str, expected: list[Named]) -> None:
    found = find_times(text, as_of)
    got = [
        (text[m.start : m.end], str(m.range.start), str(m.range.end), m.grain_hint, m.range.label)
        for m in found
    ]
    assert got == expected
    for m in found:  # a label reads back as the same period (boards re-read them)
        again = find_times(m.range.label or "", as_of)
        assert [(t.range.start, t.range.end) for t in again] == [(m.range.start, m.range.end)]


# 618 next to an amount; lunar festivals and holidays of varying length (left to clarify);
# the days around a festival
NOT_FESTIVALS = [
    "618万",
    "618元",
    "超过618",
    "销售额618",
    "618个客户",
    "6.18",
    "618 sales",
    "十一",
    "春节期间",
    "中秋节",
    "端午",
    "七夕情人节",
    "Chinese New Year's Day",
    "Chinese Valentine's Day",
    "元旦假期",
    "Christmas holidays",
    "圣诞季",
    "双十一前",
    "双十一之后",
    "圣诞节前夕",
    "before Christmas",
    "pre-Christmas sales",
]


@pytest.mark.parametrize("text", NOT_FESTIVALS)
def test_not_festivals(text: str) -> None:
    assert find_times(text, YE) == []


GRAINS = [
    ("按月趋势", [("按月", M)]),
    ("每月", [("每月", M)]),
    ("每个月的收入", [("每个月", M)]),
    ("月度", [("月度", M)]),
    ("逐月", [("逐月", M)]),
    ("分月", [("分月", M)]),
    ("各月", [("各月", M)]),
    ("各月份", [("各月份", M)]),
    ("按季度", [("按季度", Q)]),
    ("每季度", [("每季度", Q)]),
    ("季度环比", [("季度", Q)]),
    ("分季度", [("分季度", Q)]),
    ("按年", [("按年", Y)]),
    ("每年", [("每年", Y)]),
    ("年度趋势", [("年度", Y)]),
    ("各年", [("各年", Y)]),
    ("按周", [("按周", W)]),
    ("每周", [("每周", W)]),
    ("周度", [("周度", W)]),
    ("按天", [("按天", D)]),
    ("每天", [("每天", D)]),
    ("每日", [("每日", D)]),
    ("日度", [("日度", D)]),
    ("revenue by month", [("by month", M)]),
    ("monthly", [("monthly", M)]),
    ("per month", [("per month", M)]),
    ("month by month", [("month by month", M)]),
    ("by quarter", [("by quarter", Q)]),
    ("quarterly", [("quarterly", Q)]),
    ("per year", [("per year", Y)]),
    ("yearly", [("yearly", Y)]),
    ("annually", [("annually", Y)]),
    ("by year", [("by year", Y)]),
    ("weekly", [("weekly", W)]),
    ("by week", [("by week", W)]),
    ("daily", [("daily", D)]),
    ("by day", [("by day", D)]),
    ("近6个月每月的回款额", [("每月", M)]),
    # periods, not grains
    ("三季度", []),
    ("上季度", []),
    ("本季度", []),
    ("近4个季度", []),
    ("3月份", []),
    ("2024年度", []),
    ("上年度", []),
    ("各区域", []),
]


@pytest.mark.parametrize(("text", "expected"), GRAINS, ids=[g[0] for g in GRAINS])
def test_find_grains(text: str, expected: list[tuple[str, Grain]]) -> None:
    got = [(text[g.start : g.end], g.grain) for g in find_grains(text)]
    assert got == expected


@pytest.mark.parametrize("as_of", [YE, MID, LEAP, JAN])
def test_matches_are_ordered_and_disjoint(as_of: date) -> None:
    for _, text, _ in CASES:
        found = find_times(text, as_of)
        for a, b in zip(found, found[1:], strict=False):
            assert a.end <= b.start
        for m in found:
            assert m.range.start < m.range.end
            assert m.range.label == text[m.start : m.end].strip()


def test_fast_enough() -> None:
    questions = [text for _, text, _ in CASES]
    started = time.perf_counter()
    for text in questions:
        find_times(text, YE)
        find_grains(text)
    per_question = (time.perf_counter() - started) / len(questions)
    assert per_question < 0.002  # typically ~0.05 ms; generous for slow CI machines
