"""Rule-based understanding: a question in Chinese or English → the slots of a query.

The parser reads a question in passes, each removing what it understood from the text, so a
word is never read twice: comparisons that contain time words (比去年), then time expressions,
grains, ranking phrases, the lexicon (metrics, dimensions, values), numbers (conditions), and
intent words. What is left over is checked for words we did not understand; a question is
never answered while silently ignoring a word that could have changed the number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from assistant.understand.lexicon import COMMON_ENGLISH, Entry, Lexicon, Match, normalize
from assistant.understand.numbers import NumberMatch, find_numbers, parse_chinese_numeral
from assistant.understand.time_words import TimeMatch, find_grains, find_times
from semantic_layer.model import Grain, Knowledge
from semantic_layer.query import Compare, Intent

CN_NUM = r"(?:\d+|[一二两三四五六七八九十百]+)"


def _rx(pattern: str) -> re.Pattern[str]:
    """Compile with English word boundaries that also hold next to Chinese ("Q4毛利率yoy").

    Python's \\b treats 率 as a word character, so \\byoy\\b would not match "率yoy".
    """
    pattern = re.sub(r"\\b(?=[a-z(\\[])", r"(?<![a-z0-9])", pattern)
    pattern = re.sub(r"(?<=[a-z)?\]])\\b", r"(?![a-z0-9])", pattern)
    return re.compile(pattern)


# Comparisons whose words contain time words; they must be removed before time parsing.
# e.g. "收入同比增长多少" → yoy; "和上月比" → mom; "环比" → the previous period of the same length.
COMPARE_PATTERNS: list[tuple[Compare, re.Pattern[str]]] = [
    (
        Compare.yoy,
        _rx(
            r"同比(?:增长|增速|增幅|变化|下降|下滑)?|(?:比|较|和|跟|与|相比|对比)去年同期(?:比|相比)?"
            r"|去年同期|(?:比|较|和|跟|与|相比|对比)去年(?!年?[底末])(?:比|相比)?"
            r"|year[- ]over[- ]year|year[- ]on[- ]year"
            r"|\byoy\b|(?:vs\.?|versus|compared (?:with|to)|than|against) (?:the )?(?:same period )?last year"
            r"|same period last year|same (?:quarter|month|period|time|week) (?:of |in )?last year"
            r"|(?:than|vs\.?|versus|compared (?:with|to)) (?:a|one) year (?:ago|earlier|before)"
            r"|(?:against|vs\.?|versus|compared (?:with|to)) the same (?:quarter|month|period|week)"
            r" (?:a|one) year (?:earlier|before|ago)"
            r"|\ba year ago\b|一年前|去年这个时候"
            r"|去年同(?:季度|月|期|周)|上年同期"
        ),
    ),
    (
        Compare.mom,
        _rx(
            r"(?:比|较|和|跟|与|相比|对比)上个?月(?![底末])(?:比|相比)?|month[- ]over[- ]month|month[- ]on[- ]month"
            r"|\bmom\b|(?:vs\.?|versus|compared (?:with|to)|than|against) (?:the )?(?:last|previous|prior) month"
        ),
    ),
    (
        Compare.qoq,
        _rx(
            r"(?:比|较|和|跟|与|相比|对比)上个?季度?(?![底末])(?:比|相比)?|quarter[- ]over[- ]quarter|quarter[- ]on[- ]quarter"
            r"|\bqoq\b|(?:vs\.?|versus|compared (?:with|to)|than|against) (?:the )?(?:last|previous|prior) quarter"
        ),
    ),
    (
        Compare.previous_period,
        _rx(
            r"环比(?:增长|增速|增幅|变化|下降|下滑)?|(?:比|较|和|跟|与|相比|对比)上期(?:比|相比)?"
            r"|period[- ]over[- ]period|(?:vs\.?|versus|compared (?:with|to)|than) (?:the )?previous period"
            r"|sequential(?:ly)?"
            r"|(?:vs\.?|versus|compared (?:with|to)|than) (?:the )?(?:quarter|month|year|period|week) before"
            r"|(?:比|较|和|跟|与|相比|对比)上一个?(?:季度|月|期|周)"
        ),
    ),
]
# e.g. "费用预算执行情况", "收入和预算比", "revenue vs budget"
BUDGET = _rx(
    r"(?:预算完成|预算达成|预算执行|完成预算|达成预算)(?:情况|进度|度)?(?!率)|(?:对比|和|跟|与|比|相对|相比)预算(?:比|相比)?"
    r"|超预算|超出预算|超支|vs\.? ?(?:the )?budget|versus (?:the )?budget|against (?:the )?budget"
    r"|compared? (?:with|to) (?:the )?budget|budget vs\.? actual|actual vs\.? budget|than budget|over budget"
    r"|(?:vs\.?|versus|against|compared (?:with|to)|over|above|below|under|than) (?:the )?(?:plan|target)\b"
    r"|(?:和|跟|与|对比|比)(?:目标|计划)(?:比|相比)?|超计划|完成目标|目标完成情况"
)
# "增长多少" / "growth" without a named comparison means year over year in Chinese business talk.
GROWTH = _rx(
    r"增长率|增速|增幅|增长了?多少|涨了?多少|下降了?多少|变化?了?多少|变动了?多少"
    r"|growth|grew|increase|decline"
)

TOP = _rx(
    rf"(?:排名|排行)?(?:前|top ?|头)({CN_NUM})(?:个|名|位|家|大|款|种|条)?"
    rf"|(?:最高|最大|最多|最好|最赚钱)的?({CN_NUM})(?:个|名|位|家|款|种)"
    rf"|(?:highest|largest|biggest|best|top)[ -]?({CN_NUM})\b"
    rf"|\b({CN_NUM}) (?:best|top|biggest|largest|highest|leading)\b"
    # "5 customers with the most overdue": the number before the thing ranked
    rf"|\b({CN_NUM})(?= [a-z]+(?: [a-z]+)? with the (?:most|highest|largest|biggest|greatest)\b)"
)
BOTTOM = _rx(
    rf"(?:排名)?(?:后|倒数(?:前)?|bottom ?)({CN_NUM})(?:个|名|位|家|款|种|条)?"
    rf"|(?:最低|最小|最少|最差)的?({CN_NUM})(?:个|名|位|家|款|种)"
    rf"|(?:lowest|smallest|worst|bottom)[ -]?({CN_NUM})\b"
    rf"|\b({CN_NUM}) (?:worst|lowest|smallest|weakest)\b"
    rf"|\b({CN_NUM})(?= [a-z]+(?: [a-z]+)? with the (?:least|lowest|smallest|fewest)\b)"
)
BEST = _rx(
    r"最高|最多|最大|最好|最强|最赚钱|最猛|第一名|排第一|\bhighest\b|\bmost\b|\blargest\b"
    r"|\bbiggest\b|\bbest\b|\btop\b|\bleading\b"
)
WORST = _rx(r"最低|最少|最小|最差|最弱|垫底|\blowest\b|\bleast\b|\bsmallest\b|\bworst\b")
RANKING = _rx(r"排名|排行|排序|排个名|排个序|排一下|\brank(?:ing|ed)?\b|\bsorted\b|\bleaderboard\b")
SHARE = _rx(
    r"占比|比例|比重|构成|结构|份额|分布|占多少|\bshare\b|\bmix\b|\bproportions?\b"
    r"|\bpercentage of\b|\bcomposition\b|\baccounts? for\b|% of|what %|\bpercent of\b"
    r"|\bpercentages?\b|各占|占总"
)
TREND = _rx(
    r"趋势|走势|变化情况|变化|波动|历年|怎么走|走向|\btrend(?:s|ed|ing)?\b|\bover time\b|\btrajectory\b"
)
EXPLAIN = _rx(
    r"为什么|为啥|为何|什么原因|原因|怎么回事|归因|驱动因素|\bwhy\b|what caused"
    r"|what drove|\bdrivers?\b|explain"
)
SUMMARY = _rx(
    r"经营概况|经营情况|经营状况|经营简报|经营分析|经营报告|经营数据|整体情况|总体情况|概况|简报|总结|汇总一下|体检"
    r"|汇报|月报|周报|年报|经营分析报告|整体经营|经营怎么样|\boverview\b|\brecap\b|\bbriefing\b"
    r"|\b(?:an? |the )?(?:executive |exec |management |business |board |monthly |quick )?summar(?:y|ise|ize)\b"
    r"|how are we doing|how is business|how's business"
)
DRILL = _rx(r"下钻|钻取|往下钻|钻进去|深入看|\bdrill (?:down )?(?:into|in)\b|\bdrill down\b")
# "拆开看看" / "break it down": a split; by the grain or dimension named, else down the hierarchy.
SPLIT = _rx(r"展开|细分|拆开|拆分|拆一下|分解|\bbreak(?: it)? ?down\b|\bsplit it\b")
EXCLUDE = _rx(
    r"(?:除了|除去|不含|不包括|不要|不看|去除|扣除|剔除|排除|去掉|不算|非|excluding|except|without"
    r"|other than|leave out|leaving out|drop|minus|not) ?$"
)
ONLY = _rx(r"只看|仅看|只要|仅限|only|just")
FOLLOWUP = _rx(
    r"^(?:那|那么|那个|换成|改成|换为|再看|再|还有|then|and|what about|how about|now)"
    r"|呢$|呢\?$|\bwhat about\b|\bhow about\b|换成|改成|改为|换为|instead|它|其中"
    r"|\bsame thing\b|\bthe same\b|\bits\b|\bthem\b|\bthose\b"
    r"|只看|仅看|只要|按.{1,6}看|拆开|拆一下|同期|那个月|那一个?月|那一年|那个季度|当月的|这些"
    r"|\bthat (?:month|quarter|year|period|day|week)\b|\bsame (?:period|month|quarter)\b"
    r"|\bonly\b|\bjust\b|\bsame for\b|\binstead\b|\bthese\b"
    r"|\b(?:of|in|from|for) (?:that|it|those|them)\b|\bis that\b|\bare those\b"
    r"|^(?:不要|去掉|剔除|排除|leave out|drop|exclude|without)"
)
COUNTER_LATER = re.compile(r"[^，,。；;]{0,6}?有(?:多少|几)(?:个|家|位|名)")
SPENT_ON = re.compile(r"\b(spend|spent|spending)\b(?: [a-z]+){0,3}? on (?:the |our )?")
QUANTITY_TOO = _rx(r"\b(?:and|&) (?:the )?(?:quantity|quantities|units)\b|(?:和|与|及)数量")
# Counting pieces, not money: "多少件库存", "how many units of inventory".
PIECES = re.compile(r"(?:多少|几)(?:件|台|箱|套)|\bhow many (?:units|pieces|items)\b")
# "with a C or D rating": one-letter members right before their dimension.
LETTERS_BEFORE = re.compile(r"(?:^|\s)(an\s+)?((?:[a-z]\s*(?:or|and|/|,)\s*)*[a-z])\s*$")
OR_BETWEEN = re.compile(r"[a-z0-9\u4e00-\u9fff] ?(?:或者|或|\bor\b) ?[a-z0-9\u4e00-\u9fff]")
# "and collections for the same period": the period of the question before, kept.
SAME_PERIOD = _rx(r"\b(?:for|in|over|during) the same (?:period|time|window|dates)\b|同一期间")
# "有多少家下过单", "其中有几个": a count with no thing named — of the ones just asked about.
ELLIPTICAL_COUNT = re.compile(
    r"^(?:那|其中|这里面|这些里)?(?:一共|总共)?有?(?:多少|几)(?:家|位|名|个)"
)
# "再往前一个月呢": the previous period moved back (or forward) by one step of its length.
STEP_BACK = _rx(
    r"再?往前(?:推)?一个?(?:月|季度|年|期)|再?前一个?(?:月|季度|年|期)|\bthe (?:month|quarter|year) before\b|\bone (?:month|quarter|year) earlier\b"
)
STEP_FORWARD = _rx(r"再?往后(?:推)?一个?(?:月|季度|年|期)|\bthe (?:month|quarter|year) after\b")
# "去年同期呢", "what about a year earlier?": the same period one year back — the period moves,
# nothing is compared; with a comparison word ("跟去年同期比", "than a year ago") it compares.
YEAR_BACK = _rx(
    r"去年同期|上年同期|去年的?这个时候|一年前|\ba year (?:earlier|ago|before)\b"
    r"|\bsame (?:period|time|month|quarter|week) (?:of |in )?last year\b"
)
VERSUS_CUE = _rx(
    r"比|较|相比|对比|同比|增长|增减|变化|变了|变动|涨|降|\bvs\b|\bversus\b|\bcompar|\bthan\b"
    r"|\bagainst\b|\bchang|\bgr[eo]w|\bdiffer|\bincreas|\bdecreas|\bdeclin|\bhigher\b|\blower\b"
)
# "collections by region, this year vs last": the elliptical "last" is the same unit before.
THIS_VS_LAST = _rx(
    r"\b(?:this|current) (year|quarter|month|week)(?:'s)?\b.{0,40}?"
    r"((?:\bvs\.?|\bversus|\bcompared (?:with|to)|\bagainst|\bthan) (?:the )?(?:last|previous|prior)\b)"
    r"(?! (?:year|quarter|month|week|period))"
)
UNIT_COMPARE = {"year": Compare.yoy, "quarter": Compare.qoq, "month": Compare.mom}
# A single period right after a comparison word is what the present is compared with:
# "应收余额跟去年年底比", "AR compared with the end of 2024".
BASIS_BEFORE = _rx(
    r"(?:比|较|相比|对比|\bvs\.?|\bversus|\bcompared (?:with|to)|\bthan|\bagainst)\s*(?:the\s+)?"
    r"(?:(?:end|start|beginning|close) of\s+(?:the\s+)?)?$"
)
BASIS_AROUND = _rx(r"(?:和|跟|与|同)\s*$")  # "跟去年年底比": 跟 before, 比 after
BASIS_AFTER = _rx(r"^\s*(?:的?(?:相比|对比|比))")
# "翻倍了吗", "涨了一倍多", "has revenue doubled": a change between two periods (which ones, the
# question says; without them it is year over year like any growth word).
DOUBLE = _rx(r"翻了?(?:一|1)?(?:倍|番)|(?:涨|增长|增加|多|高)了?(?:一|1)倍多?|\bdoubled?\b")
THAT_DAY = re.compile(r"\s*(?:当天|当日|那天|那一天)")
OTHERS = _rx(r"其他|其它|其余|剩下的?|别的|\bother\b|\bthe rest\b")
# "历年的营业收入", "revenue over the years": every year of the data, one row each.
ALL_YEARS = _rx(r"历年|历史上?每一?年|\bover the years\b|\ball years\b|\bevery year\b")

# Verbs that imply a metric (卖了多少 → revenue), words naming a group of metrics (账龄 → the
# aging buckets) and topics (回款情况 → a pack) come from the model's `knowledge:` section,
# compiled once per model.
_COMPILED: dict[int, tuple[Knowledge, list, list, list]] = {}


def _any_of(patterns: list[str]) -> re.Pattern[str]:
    return _rx("|".join(f"(?:{p})" for p in patterns))


def _knowledge(lexicon: Lexicon) -> tuple[list, list, list]:
    """The model's implied-metric verbs, metric groups and topics as compiled patterns."""
    knowledge = lexicon.knowledge
    cached = _COMPILED.get(id(knowledge))
    if cached is None or cached[0] is not knowledge:
        implied = [(_any_of(i.patterns), i.metrics) for i in knowledge.implies]
        groups = [(_any_of(g.patterns), g.metrics, set(g.whole)) for g in knowledge.groups]
        topics = [(_any_of(topic.patterns), topic.metrics) for topic in knowledge.topics]
        cached = _COMPILED[id(knowledge)] = (knowledge, implied, groups, topics)
    return cached[1], cached[2], cached[3]


# "cash in, cash out and net", "流入、流出和净额": the metric defined as their difference.
NET = _rx(r"\bnet\b|净额|净值|轧差|\bthe difference\b")
# "西北和东北加起来" → one number for both, not one row each.
COMBINE = _rx(
    r"加起来|加在一起|合起来|合并|合计|一共|总共|总计|\bcombined\b|\btogether\b|\bin total\b"
)
# Using a budget: "预算完成了多少", "how much of the budget have we used" → the attainment ratio.
BUDGET_USE = _rx(r"完成|达成|执行|用了|用掉|使用|消耗|\bused\b|\busage\b|\battain|\bachiev|\bburn")
# Words between a value and a dimension that keep them one phrase: 制造业客户, A级的客户.
THIS_N = re.compile(r"这(\d+|[一二两三四五六七八九十]+|半)(?=个?(?:年|月|季度|周|天))")
DESCRIBES = re.compile(r"^[ 类级型的等业]{0,2}$")
# "信用等级为B", "rating = C or D": a dimension, a link word, then one-letter members.
LINKED_LETTERS = re.compile(
    r"\s*(?:为|是|=|等于|在|of|is)\s*((?:[a-z](?:\s*(?:/|、|,|和|或|及|与|and|or)\s*)?)+)(?![a-z])"
)
LETTERS = re.compile(r"\s*((?:[a-z](?:\s*(?:[/、,]|和|或|及|与)\s*)?){2,})(?![a-z])")
# "信用等级A的客户", "信用等级B客户": one letter right after its dimension, then Chinese — one
# member, so a filter (a run of letters, "信用等级ABCD各自", is a split over those members).
ONE_LETTER = re.compile(r"\s*([a-z])(?![a-z])(?=\s*[\u4e00-\u9fff])")
MORE_VALUE = re.compile(r"\s*(?:or|and|,|/|、|或|和|及|与)\s*([a-z0-9]+)(?![a-z0-9])")
KIND_OF = re.compile(r"(?:各|哪|每|不同)一?类的?$|(?:types?|kinds?|categories) of $")
BREAKDOWN_START = re.compile(r"^(?:哪|各|每)")
# "cash collected from customers": the entity in general, not one row per customer.
GENERIC_ENTITY = re.compile(
    r"(?:from|to|of|with|among|across all|gave|give|given|offered) (?:our |the |all )?$"
)
LINK = re.compile(r"^ ?(?:in|from|of|with|rated|that are|who are|中的|里的|里)? ?$")

# Comparison operators next to a number: "超过1000万", "低于30%", "1000万以上", "more than 5 million".
GREATER_BEFORE = _rx(
    r"(?:超过|大于|高于|多于|不低于|不少于|至少|>=|>|more than|greater than|over|above"
    r"|exceeding|exceeds|at least|higher than)\s*$"
)
LESS_BEFORE = _rx(
    r"(?:低于|小于|少于|不到|不足|不超过|至多|<=|<|less than|fewer than|below|under"
    r"|at most|lower than)\s*$"
)
GREATER_AFTER = _rx(r"^\s*(?:以上|之上|多|\+|or more|and above|plus)")
LESS_AFTER = _rx(r"^\s*(?:以下|之下|以内|or less|and below)")

# Words that carry no meaning for the query (filler, question words, glue).
STOPWORDS = sorted(
    """的 了 吗 呢 啊 吧 呀 嘛 么 是 有 多少 几 几个 什么 怎么样 怎样 怎么 如何 咋样 咋 情况 表现
    一下 看看 看下 看一看 看 瞧瞧 帮我 给我 我想 我要 想知道 知道 告诉我 请问 请 麻烦 查询 查一下 查 显示 列出 列一下 统计
    分析 数据 报表 报告 明细 各个 各自 分别 各 每一个 每个 每家 每 个 按照 按 分 在 和 与 及 以及 跟 同 对 把 为
    是否 是不是 还是 还有 期间 总共 一共 合计 总计 总额 总量 共 总 整体 全部 所有 全 公司 我们 咱们 我司 目前 现在 当前 截至
    截止 到 从 至 之间 哪个 哪些 哪家 哪一个 哪 多大 多高 怎么算 算 做了 做到 卖了 达到 达成 实现 完成 大概 大约 左右
    变少 变多 减少 增加 这么多 这么少 这么高 这么低 下滑 上涨 暴涨 变差 变好 变坏 变糟 恶化 改善 好转 转差 走低 走高 猛增 大增 骤降 降低 提高 下跌 上升 那边 这边 时候 那个月 这个月份 一路 涨上来 上来 差多少 差了多少 比差 多出来 多出 少了多少 一起 平均下来 分段 区间 各多少 没收回来 还没收回来 没收回 没收 哪条 哪款 哪位 哪种 哪一 哪几 一共是 一份 一个 一张 一些 一点 份 张 总体 总的 以外 之外 除外 其中 当中 里面 里头 之中 换成 改成 改为 换为 拆一下 拆开 拆 分开看 分开 分一下 多还是少 还是 掉了 多花 少了 多了 涨了 跌了 涨 跌 掉 情况如何 怎么样了 现在 还没 有没有 没有 吗 能不能 可不可以 帮忙 一眼 具体 分布 细 看一下 各有 各是 分成 按照 整个 里 中 内 上 下 这 那 之 其 给 让 用 被 就 都 也 又 还 才 已经 能 会 要 需要 可以 么样 多 少
    高 低 好 差 大 小 以上 以下 以来 开始 至今 为止 最近 最新 本 该 家 名 位 款 种 条 元 块 万元 亿元 金额 数 额 值 率
    对比 比较 相比 比 较 vs 增长 下降 变化 同期 期 年 月 日 季度 季 周 度 累计 情形 状况 水平 幅度 多少钱 钱
    what's whats what is was were are the a an of in for by per on at to from our we my me show tell give list
    how much many did do does have has had get got make made much total overall across each every which who
    please can could would you i it its this that these those and or with than vs versus compared compare
    between during as be been being so far now currently current up down value values amount number numbers
    figure figures level levels data report breakdown look see view split our company firm business
    quick quickly executive exec giving broken ship ships shipped""".split(),
    key=len,
    reverse=True,
)
_STOP = re.compile(
    "|".join(re.escape(w) if not w.isascii() else rf"\b{re.escape(w)}\b" for w in STOPWORDS)
)
_CJK_STOP = [w for w in STOPWORDS if not w.isascii()]
# Only function characters are trimmed from the edges of a leftover word; any other character
# may belong to a name (上海, 华为, 张伟) and must be reported, not silently dropped.
SINGLE_STOP = set(
    "的了吗呢啊吧呀嘛么是有各每个按在和与及跟同对把到从给让被就都也又还才能会要请看查"
)
_MULTI_STOP = re.compile("|".join(re.escape(w) for w in _CJK_STOP if len(w) > 1))
CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
CAPITALISED = re.compile(r"\b[A-Z][a-zA-Z]{2,}\b")


@dataclass
class Parse:
    """What a question said, slot by slot, before defaults are applied."""

    text: str
    # "最高的呢": a direction said without a number (the limit of 1 is the word's default).
    superlative: bool = False
    metrics: list[str] = field(default_factory=list)
    dimensions: list[str] = field(default_factory=list)
    # "how many customers": the members of a dimension counted, not a split by it.
    counted: str | None = None
    listing: bool = False  # "列出所有门店", "list all claims": members, no metric
    described: list[str] = field(default_factory=list)  # 制造业客户: customer, described
    # Dimensions whose several members are one group, not one row each: "C或D", "政府和教育
    # 行业的客户" (members describing the thing asked about).
    grouped: set[str] = field(default_factory=set)
    values: dict[str, list[str]] = field(default_factory=dict)  # dimension → values to keep
    excluded: dict[str, list[str]] = field(default_factory=dict)  # dimension → values to drop
    times: list[TimeMatch] = field(default_factory=list)
    grain: Grain | None = None
    compare: Compare | None = None
    limit: int | None = None
    ascending: bool | None = None  # None: no ranking asked
    ranking: bool = False
    share: bool = False
    trend: bool = False
    intent: Intent | None = None
    conditions: list[tuple[str, float, bool]] = field(default_factory=list)  # op, value, percent
    drill: bool = False
    split: bool = False
    step: int = 0  # -1: the period before the previous one; +1: the one after
    years_back: int = 0  # "去年同期呢": the period moved back this many years
    basis: bool = False  # the one period named is the comparison's basis (跟去年年底比)
    all_years: bool = False  # "历年": every year of the data
    change: bool = False  # a change word (增长多少, 翻倍): "since 2023" compares its ends
    only: bool = False
    followup: bool = False
    unknown: list[str] = field(default_factory=list)
    ambiguous: list[tuple[str, list[str]]] = field(default_factory=list)
    fuzzy: list[tuple[str, str]] = field(default_factory=list)  # (typed, understood as)
    dimension_options: list[list[str]] = field(default_factory=list)  # "类别": several dims
    # Metrics implied by verbs (卖了多少), each a list of alternatives in order of preference.
    implied: list[list[str]] = field(default_factory=list)
    combine: bool = False
    budget_use: bool = False

    @property
    def empty(self) -> bool:
        return not (
            self.metrics
            or self.dimensions
            or self.values
            or self.excluded
            or self.times
            or self.grain
            or self.compare
            or self.limit
            or self.share
            or self.drill
        )


class _Text:
    """The normalised question with the spans already understood blanked out."""

    def __init__(self, text: str) -> None:
        self.original = text
        self.text = normalize(text)
        self.used = [False] * len(self.text)

    def free(self) -> str:
        """The text with used characters replaced by spaces (positions preserved)."""
        return "".join(" " if u else c for c, u in zip(self.text, self.used, strict=True))

    def take(self, start: int, end: int) -> None:
        for i in range(start, end):
            self.used[i] = True

    def spans(self) -> list[tuple[int, int]]:
        out, start = [], None
        for i, used in enumerate([*self.used, False]):
            if used and start is None:
                start = i
            elif not used and start is not None:
                out.append((start, i))
                start = None
        return out

    def find(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        """Matches of `pattern` in the free text, taken as they are found."""
        found = list(pattern.finditer(self.free()))
        for m in found:
            if m.end() > m.start():
                self.take(m.start(), m.end())
        return found


def _count(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    return parse_chinese_numeral(text)


# "该客户", "这个产品", "这家供应商": a demonstrative before a dimension refers to the member
# the conversation is about.
DEMONSTRATIVE = re.compile(r"(?:该|这个|这位|这家|此)")


def _refers_back(text: str, lexicon: Lexicon) -> bool:
    """Whether a demonstrative points at one of the model's dimensions (not 这个月: a time)."""
    for m in DEMONSTRATIVE.finditer(text):
        following = lexicon.scan(text[m.end() : m.end() + lexicon.max_length])
        if following and following[0].start == 0 and following[0].entries[0].kind == "dimension":
            return True
    return False


LISTED_GRAIN = re.compile(r"(?:,|\band)\s+(?:by\s+|each\s+)?(day|week|month|quarter|year)(?![a-z])")
# Asking for the members themselves: 列出所有门店, 有哪些产品, list/show all claims, which
# product types are there. Used only when no metric is named or implied.
LISTING = _rx(
    r"列出|列一下|列个|罗列|有哪些|有什么|都有哪些|分别是什么|是哪些|名单|清单|明细"
    r"|\blist(?: out)?\b|\bshow (?:me )?(?:all|every)\b|\bwhat are (?:all )?the\b"
    r"|\bare there\b|\bdo we have\b|\benumerate\b"
)
COUNT_CUE = re.compile(
    r"how many|number of|count of|(?<!哪)(?:多少个|多少家|多少位|多少名|几个|几家|几位|几名)"
)
# "几个仓的库存分别占多少": several members, each with its number — a split, not a count.
EACH = re.compile(r"分别|各自|各个|\beach\b|\brespectively\b")


# "超过500万的客户有几个", "客户数量": a counting word right after the dimension, at the end.
COUNT_AFTER = re.compile(
    r"^\s*(?:的)?(?:数量|个数|总数|数目|(?:一共|总共|共)?有(?:多少|几)(?:个|家|位|名)?"
    r"|(?:一共|总共|共)?(?:几个|几家|几位|几名|多少个|多少家|多少位|多少名))\s*[?？。!！呢吗啊]*\s*$"
)


def _counted_dimension(text: str, lexicon: Lexicon) -> str | None:
    """The dimension counted: right after a counting word ("how many customers" →
    customer), or right before one at the end ("超过500万的客户有几个" → customer)."""
    if EACH.search(text):
        return None
    matches = lexicon.scan(text)
    for index, match in enumerate(matches):
        entry = match.entries[0]
        if entry.kind == "dimension" and COUNT_AFTER.match(text[match.end :]):
            return entry.name
        # "信用评级是D的客户今年有多少家成交": a counter for things (家/个/位/名) a few words after
        # the thing, with nothing else named between them.
        later = COUNTER_LATER.match(text[match.end :])
        following = matches[index + 1] if index + 1 < len(matches) else None
        if (
            entry.kind == "dimension"
            and entry.name in lexicon.entities
            and later
            and (following is None or following.start >= match.end + later.end())
        ):
            return entry.name
    for m in COUNT_CUE.finditer(text):
        rest = text[m.end() :].lstrip()
        following = lexicon.scan(rest[: lexicon.max_length])
        if following and following[0].start == 0:
            entry = following[0].entries[0]
            if entry.kind == "dimension":
                return entry.name
            return None  # "how many orders": a metric is counted, as the metric says
    return None


def parse(question: str, lexicon: Lexicon, as_of: date) -> Parse:
    """Read a question into slots. Pure: no database access, no defaults applied."""
    corrected, fixes = lexicon.correct(normalize(question))
    corrected = THIS_N.sub(lambda m: "近" + m.group(1), corrected)  # 这三年 = 近三年
    # 各项费用 / 每类费用 = 各类费用 (same length: spans hold)
    corrected = corrected.replace("各项", "各类").replace("每类", "各类").replace("每种", "各种")
    t = _Text(corrected)
    t.original = question
    p = Parse(text=question)
    p.fuzzy += fixes
    stripped = t.text.strip(" ?？!！。.")
    p.followup = bool(FOLLOWUP.search(stripped)) or _refers_back(stripped, lexicon)

    for m in THIS_VS_LAST.finditer(t.free()):
        t.take(m.start(2), m.end(2))  # "this year" stays a period
        p.compare = p.compare or UNIT_COMPARE.get(m.group(1), Compare.previous_period)
    year_back = YEAR_BACK.search(t.free())
    if year_back and not VERSUS_CUE.search(t.text.replace(year_back.group(0), " ")):
        t.take(year_back.start(), year_back.end())
        p.years_back, p.followup = 1, True
    if t.find(SAME_PERIOD):
        p.followup = True  # "for the same period": the period before, no time breakdown

    for compare, pattern in COMPARE_PATTERNS:
        if t.find(pattern) and p.compare is None:
            p.compare = compare
    if t.find(STEP_BACK):  # after comparisons: "vs the quarter before" is a comparison
        p.step, p.followup = -1, True
    elif t.find(STEP_FORWARD):
        p.step, p.followup = 1, True
    if t.find(ALL_YEARS):
        p.all_years, p.grain = True, Grain.year
    p.times = find_times(t.free(), as_of)
    for match in p.times:
        t.take(match.start, match.end)
    for match in p.times:
        if match.range.days == 1 and (same_day := THAT_DAY.match(t.text, match.end)):
            t.take(same_day.start(), same_day.end())  # "2024年11月11日当天": that very day
    if len(p.times) == 1:
        before, after = t.text[: p.times[0].start], t.text[p.times[0].end :]
        p.basis = bool(
            BASIS_BEFORE.search(before)
            or (BASIS_AROUND.search(before) and BASIS_AFTER.search(after))
        )
    for grain in find_grains(t.free()):
        t.take(grain.start, grain.end)
        p.grain = p.grain or grain.grain
    if p.grain is None and re.search(r"\bby\b|\bfor each\b", t.text):
        # "by location, product type and month": a grain named in a list of breakdowns.
        for m in LISTED_GRAIN.finditer(t.free()):
            t.take(m.start(1), m.end(1))
            p.grain = Grain(m.group(1))
            break

    for pattern, ascending in ((TOP, False), (BOTTOM, True)):
        for m in t.find(pattern):
            number = next((g for g in m.groups() if g), None)
            if number and (count := _count(number)):
                p.limit, p.ascending = count, ascending
    # Whole-question intents first: "经营概况" must not be read as the value 经营(活动).
    implied, groups, topics = _knowledge(lexicon)
    named_topics: list[list[str]] = []
    if t.find(EXPLAIN):
        # "why" explains one metric: a topic's words are left to be read as that metric's own.
        p.intent = Intent.explain
    else:
        # Before the summary's words: "collections overview" is the topic's pack, not the
        # summary of everything.
        named_topics = [metrics for pattern, metrics in topics if t.find(pattern)]
        if t.find(SUMMARY):
            p.intent = Intent.summary
    named_groups = [(metrics, whole) for pattern, metrics, whole in groups if t.find(pattern)]
    p.counted = _counted_dimension(t.text, lexicon)
    if p.counted is None and ELLIPTICAL_COUNT.match(stripped):
        p.followup = True  # "有多少家下过单": how many of the ones just asked about
    p.listing = bool(t.find(LISTING))
    matches = _read_lexicon(t, p, lexicon)
    _read_net(t, p, lexicon)
    for members, _ in named_groups:
        if sum(m in members for m in p.metrics) != 1:
            # The group as a whole (a list of buckets too), unless one member was named.
            p.metrics = _first(members, p.metrics, lexicon)
    for pack in named_topics:  # "回款情况": the whole pack, first and in its order
        p.metrics = _first(pack, p.metrics, lexicon)
    for pattern, metrics in implied:
        if t.find(pattern) and metrics not in p.implied:
            p.implied.append(list(metrics))
    if not p.metrics and not p.implied:
        p.metrics += _metrics_inside_dimension_words(matches, lexicon)
    if p.excluded:
        t.find(OTHERS)  # "除了电商以外，其他渠道": the rest, which the exclusion already says
    _read_conditions(t, p)
    p.combine = bool(t.find(COMBINE))
    if p.combine:  # "除了电商，其他渠道一共卖了多少": the rest together, not one row each
        p.dimensions = [d for d in p.dimensions if d not in p.excluded]
    p.budget_use = bool(t.find(BUDGET_USE))

    if t.find(BUDGET) and p.compare is None:
        p.compare = Compare.budget
    p.change = bool(t.find(DOUBLE)) | bool(t.find(GROWTH))
    if p.compare is None and p.change:
        p.compare = Compare.yoy
    best, worst = t.find(BEST), t.find(WORST)  # always read, so they are never "unknown"
    if p.ascending is None and best:
        p.limit, p.ascending, p.superlative = 1, False, True
    elif p.ascending is None and worst:
        p.limit, p.ascending, p.superlative = 1, True, True
    p.ranking = bool(t.find(RANKING)) or p.ascending is not None
    p.share = bool(t.find(SHARE))
    p.trend = bool(t.find(TREND))
    p.drill = bool(t.find(DRILL))
    p.split = bool(t.find(SPLIT))
    if p.split and not (p.grain or p.dimensions or p.dimension_options):
        p.drill = True  # "华东拆开看看" = down the hierarchy; with nothing named, ask
    p.only = bool(t.find(ONLY))
    spent = SPENT_ON.search(t.text)
    if spent and len(p.metrics) > 1:
        # "spend the most on purchases": what the money went on, not the expenses metric
        verb = {e.name for e in lexicon.surfaces.get(spent.group(1), []) if e.kind == "metric"}
        on = [m for m in lexicon.scan(t.text[spent.end() :]) if m.start == 0]
        if verb and on and on[0].entries[0].kind == "metric" and on[0].entries[0].name not in verb:
            p.metrics = [m for m in p.metrics if m not in verb]
    for dimension, values in p.values.items():
        if len(values) > 1 and OR_BETWEEN.search(t.text):
            p.grouped.add(dimension)  # "rated C or D": one group, not a row each
    _leftovers(t, p, lexicon)
    return p


def _first(named: list[str], metrics: list[str], lexicon: Lexicon) -> list[str]:
    """The model's metrics of `named` in their order, then the others already read."""
    present = [m for m in named if m in lexicon.metric_names]
    return [*present, *(m for m in metrics if m not in present)]


def _read_lexicon(t: _Text, p: Parse, lexicon: Lexicon) -> list[Match]:
    matches = lexicon.scan(t.free())
    absorbed = -1  # an entity word already read as described ("信用等级为B的客户")
    for index, match in enumerate(matches):
        t.take(match.start, match.end)
        if match.start < absorbed:
            continue
        before = matches[index - 1] if index else None
        if (
            before is not None
            and match.entries[0].kind == "dimension"
            and before.entries[0].kind == "dimension"
            and DESCRIBES.match(t.text[before.end : match.start])
            and (before.entries[0].name, match.entries[0].name) in lexicon.attribute_of
            and before.entries[0].name in lexicon.entities
            and not BREAKDOWN_START.match(match.text)
            # The owner is the thing (800 customers), the attribute groups it (8 industries):
            # "客户行业" is industry; "行业客户" stays the attribute and its entity, as before.
            and len(lexicon.values.get(before.entries[0].name, []))
            > len(lexicon.values.get(match.entries[0].name, []))
            > 0
        ):
            # "customer credit rating", "客户行业": the entity's attribute is the breakdown.
            owner = before.entries[0].name
            p.dimensions = [d for d in p.dimensions if d != owner]
            p.described = [d for d in p.described if d != match.entries[0].name]
            _use(match, p, t)
            continue
        if (
            match.entries[0].kind == "dimension"
            and before is not None
            and before.entries[0].kind == "value"
            and before.entries[0].name == match.entries[0].name
            and not t.text[before.end : match.start].strip()
        ):
            continue  # "教育行业": the member's own kind word — no split by it
        if match.entries[0].kind == "dimension":
            kind_of = KIND_OF.search(t.text[max(0, match.start - 3) : match.start])
            parent = lexicon.type_of.get(match.entries[0].name)
            if kind_of and parent:
                t.take(match.start - (len(kind_of.group(0))), match.start)
                match = Match(match.start, match.end, match.text, (Entry("dimension", parent),))
            if match.entries[0].name in lexicon.entities and GENERIC_ENTITY.search(
                t.text[max(0, match.start - 16) : match.start]
            ):
                continue
            before = matches[index - 1] if index else None
            after = matches[index + 1] if index + 1 < len(matches) else None
            if (before is not None and _describes(lexicon, before, match, t.text)) or (
                after is not None and _described_by(lexicon, match, after, t.text)
            ):
                p.described.append(match.entries[0].name)
                if before is not None and before.entries[0].kind in ("value", "dimension"):
                    p.grouped.add(before.entries[0].name)  # 政府和教育行业的客户: together
                continue  # 制造业客户 / customers rated C: a filter, not a split by customer
        before = matches[index - 1] if index else None
        if _narrowed(match, before, t.text, lexicon):
            continue
        if _plan_ratio_of_another(match, before, t.text, p, lexicon):
            continue
        entry = match.entries[0]
        if entry.kind == "metric" and entry.name in p.metrics and entry.name in lexicon.amount_of:
            # "GM和GM%": the same rate named twice, once without "%", means its amount too.
            first = next((m for m in matches[:index] if m.entries[0].name == entry.name), None)
            if first is not None and ("%" in first.text) != ("%" in match.text):
                amount = lexicon.amount_of[entry.name]
                plain = first if "%" not in first.text else match
                if amount not in p.metrics:
                    at = p.metrics.index(entry.name) + (plain is match)
                    p.metrics.insert(at, amount)
                continue
        _use(match, p, t)
        if match.entries[0].kind == "value":
            _more_values(t, p, lexicon, match)
        elif match.entries[0].kind == "dimension":
            absorbed = max(absorbed, _letter_values(t, p, lexicon, match))
    return matches


def _metrics_inside_dimension_words(matches: list[Match], lexicon: Lexicon) -> list[str]:
    """ "各类费用": a breakdown whose word holds a metric's word (费用) names that metric too,
    so the question is complete — in a conversation it starts fresh rather than splitting the
    previous question's metric by expense category."""
    found: list[str] = []
    for match in matches:
        if match.entries[0].kind != "dimension":
            continue
        inner = [
            (len(surface), name)
            for name in sorted(lexicon.metric_names)
            for surface in lexicon.surfaces_of(name)
            if not surface.isascii() and 2 <= len(surface) < len(match.text)
            if surface in match.text
        ]
        if inner:
            name = max(inner)[1]  # the longest metric word inside
            if name not in found:
                found.append(name)
    return found


def _read_net(t: _Text, p: Parse, lexicon: Lexicon) -> None:
    """ "Cash in, cash out and net": a bare "net" next to two metrics is their difference."""
    for (a, b), net in lexicon.difference_of.items():
        if a in p.metrics and b in p.metrics and net not in p.metrics:
            if t.find(NET):  # takes the word only when it means something here
                p.metrics.append(net)
            return


def _narrowed(match: Match, before: Match | None, text: str, lexicon: Lexicon) -> bool:
    """ "90天以上的逾期": the whole (逾期) right after one of its buckets names no second metric."""
    if before is None or match.entries[0].kind != "metric" or before.entries[0].kind != "metric":
        return False
    if text[before.end : match.start].strip() not in ("", "的"):
        return False
    return any(
        match.entries[0].name in whole and before.entries[0].name in members
        for _, members, whole in _knowledge(lexicon)[1]
    )


def _plan_ratio_of_another(
    match: Match, before: Match | None, text: str, p: Parse, lexicon: Lexicon
) -> bool:
    """ "费用预算完成率", "expense budget attainment": a ratio to plan whose words name one
    metric's (预算完成率 is the revenue's) right after another metric is that metric's own
    ratio to plan — or, when it has none, a concept the model lacks (never the first one's)."""
    if before is None or match.entries[0].kind != "metric" or before.entries[0].kind != "metric":
        return False
    if text[before.end : match.start].strip() not in ("", "的", "'s"):
        return False
    ratio, named = match.entries[0].name, before.entries[0].name
    planned = {r: m for m, r in lexicon.plan_ratio.items()}.get(ratio)
    named = lexicon.planned_by.get(named, named)  # "费用预算执行率": the plan's metric
    if planned is None or named in (planned, ratio):
        return False
    if before.entries[0].name in p.metrics:
        p.metrics.remove(before.entries[0].name)
    own = lexicon.plan_ratio.get(named)
    if own is None:
        p.unknown.append(text[before.start : match.end])
    elif own not in p.metrics:
        p.metrics.append(own)
    return True


def _letter_values(t: _Text, p: Parse, lexicon: Lexicon, match: Match) -> int:
    """ "信用等级ABCD各自…": a run of one-letter values right after their dimension; "信用等级
    为B的客户": linked by 为/是/=, the members filter (no split by the dimension), and the
    entity after them is the one described. Returns where an absorbed entity word ends."""
    dimension = match.entries[0].name
    values = lexicon.values.get(dimension, [])
    if not values or any(len(v) != 1 for v in values):
        return -1
    ahead = LETTERS_BEFORE.search(t.free()[: match.start])
    if ahead is not None:
        letters = _letters(ahead.group(2))
        # "with a rating": the article, not the member A ("an A rating" is the member).
        if letters and set(letters) <= set(values) and (letters != "A" or ahead.group(1)):
            _add_values(p, dimension, letters)
            t.take(ahead.start(2), ahead.end(2))
            p.dimensions = [d for d in p.dimensions if d != dimension]
            if OR_BETWEEN.search(ahead.group(2)):
                p.grouped.add(dimension)
            return -1
    linked = LINKED_LETTERS.match(t.free(), match.end)
    run = LETTERS.match(t.free(), match.end)
    if linked is None and run is None:
        linked = ONE_LETTER.match(t.free(), match.end)
    found = linked or run
    if not found:
        return -1
    letters = _letters(found.group(1))
    if not letters or not set(letters) <= set(values):
        return -1
    _add_values(p, dimension, letters)
    t.take(found.start(), found.end())
    if linked is not None:
        p.dimensions = [d for d in p.dimensions if d != dimension]
    rest = t.text[found.end() :]
    gap = re.match(r"[ 的]{0,2}", rest)
    offset = found.end() + (gap.end() if gap else 0)
    following = lexicon.scan(t.text[offset : offset + lexicon.max_length])
    if following and following[0].start == 0:
        entity = following[0].entries[0].name
        if (entity, dimension) in lexicon.attribute_of and entity in lexicon.entities:
            # "C和D的客户": the members describe the entity — a filter, not a split.
            p.dimensions = [d for d in p.dimensions if d != dimension]
            p.described.append(entity)
            t.take(offset, offset + following[0].end)
            return offset + following[0].end
    return -1


def _letters(text: str) -> str:
    """The one-letter members a run names, upper case: "c or d" → "CD"."""
    return "".join(re.findall(r"[a-z]", re.sub(r"\b(?:and|or)\b", " ", text))).upper()


def _add_values(p: Parse, dimension: str, letters: str) -> None:
    p.values.setdefault(dimension, []).extend(
        v for v in letters if v not in p.values.get(dimension, [])
    )


def _more_values(t: _Text, p: Parse, lexicon: Lexicon, match: Match) -> None:
    """ "rated C or D", "A、B类": further raw values of the same dimension after a connector."""
    dimension = match.entries[0].name
    known = {v.lower(): v for v in lexicon.values.get(dimension, [])}
    position = match.end
    while True:
        found = MORE_VALUE.match(t.free(), position)
        if not found or found.group(1) not in known:
            return
        values = p.values.setdefault(dimension, [])
        if known[found.group(1)] not in values:
            values.append(known[found.group(1)])
        t.take(found.start(), found.end())
        position = found.end()


def _described_by(lexicon: Lexicon, match: Match, after: Match, text: str) -> bool:
    """ "customers in manufacturing", "customers rated C": an entity followed by its attribute."""
    if after.entries[0].kind != "value" or not LINK.match(text[match.end : after.start]):
        return False
    if not any(e.name in lexicon.entities for e in match.entries):
        return False
    return any((e.name, after.entries[0].name) in lexicon.attribute_of for e in match.entries)


def _describes(lexicon: Lexicon, previous: Match, match: Match, text: str) -> bool:
    """Whether a dimension word just names the entity of the value or dimension before it."""
    if not DESCRIBES.match(text[previous.end : match.start]) or BREAKDOWN_START.match(match.text):
        return False
    if not any(e.name in lexicon.entities for e in match.entries):
        return False
    before = previous.entries[0]
    if before.kind not in ("value", "dimension"):
        return False
    if before.kind == "value" and "的" in text[previous.end : match.start]:
        return True  # "渠道为电商的客户": the customers of that value, not one row per customer
    return any((e.name, before.name) in lexicon.attribute_of for e in match.entries)


def _use(match: Match, p: Parse, t: _Text) -> None:
    entry: Entry = match.entries[0]
    if entry.kind == "metric":
        if entry.name not in p.metrics:
            p.metrics.append(entry.name)
    elif entry.kind == "dimension":
        options = [e.name for e in match.entries if e.kind == "dimension"]
        if len(options) > 1:
            p.dimension_options.append(options)  # resolved by what the metric can reach
        elif entry.name not in p.dimensions:
            p.dimensions.append(entry.name)
    else:
        before = t.text[max(0, match.start - 12) : match.start]
        bucket = p.excluded if EXCLUDE.search(before) else p.values
        if EXCLUDE.search(before):
            # the word that excluded it is understood too ("除了电商" / "excluding e-commerce")
            m = EXCLUDE.search(before)
            assert m is not None
            t.take(match.start - (len(before) - m.start()), match.start)
        values = bucket.setdefault(entry.name, [])
        if entry.value not in values:
            values.append(entry.value or match.text)


def _read_conditions(t: _Text, p: Parse) -> None:
    for number in find_numbers(t.free()):
        if _condition(t, p, number):
            continue


def _condition(t: _Text, p: Parse, number: NumberMatch) -> bool:
    free = t.free()
    before, after = free[: number.start], free[number.end :]
    op = None
    if m := GREATER_BEFORE.search(before):
        op, start, end = ">", m.start(), number.end
    elif m := LESS_BEFORE.search(before):
        op, start, end = "<", m.start(), number.end
    elif m := GREATER_AFTER.search(after):
        op, start, end = ">", number.start, number.end + m.end()
    elif m := LESS_AFTER.search(after):
        op, start, end = "<", number.start, number.end + m.end()
    if op is None:
        return False
    p.conditions.append((op, number.value, number.percent))
    t.take(start, end)
    return True


def _content_words(free: str) -> list[str]:
    """Runs of Chinese characters left after removing filler words.

    Multi-character filler words split a run wherever they stand (各区域的 → 区域); single
    characters are only trimmed from the edges, so they never cut a word in two (预算 stays).
    """
    words = []
    for run in CJK_RUN.findall(_MULTI_STOP.sub(" ", free)):
        while run and run[0] in SINGLE_STOP:
            run = run[1:]
        while run and run[-1] in SINGLE_STOP:
            run = run[:-1]
        if len(run) >= 2:
            words.append(run)
    return words


# Words inside metric names that say nothing on their own ("the total", "amount by region").
GENERIC_MEASURE_WORDS = set(
    "amount amounts total totals value values number numbers count counts sum rate rates "
    "average avg mean ratio share percent percentage pct level figure figures data bucket buckets"
    "".split()
)


def _leftovers(t: _Text, p: Parse, lexicon: Lexicon) -> None:
    """Words nobody understood: try a typo match, a vague word, else report them."""
    free = t.free()
    rest = _STOP.sub(" ", free)
    _quantity_of_amount(t, p, lexicon)
    for run in _content_words(free):
        _leftover_word(run, p, lexicon)
    for word in re.findall(r"[a-z][a-z&\-]{4,}", rest):
        match = lexicon.fuzzy(word)
        if match is not None:
            p.fuzzy.append((word, match.text))
            _use(match, p, t)
    fuzzy = {typed for typed, _ in p.fuzzy}
    # Words of the metrics already read (or implied) repeat them: "cash" in "how much cash did
    # we collect" is the collections' own word; "expenses" in "paid in expenses on claims" is not.
    own = {
        w
        for name in [*p.metrics, *(m for alts in p.implied for m in alts)]
        for surface in lexicon.surfaces_of(name)
        for w in re.findall(r"[a-z]{3,}", surface)
    }
    for word in re.findall(r"[a-z][a-z'\-]{2,}", rest):
        if word in COMMON_ENGLISH or word in GENERIC_MEASURE_WORDS or word in fuzzy:
            continue
        if not p.metrics and NET.fullmatch(word):
            continue  # "and net?": the difference of the metrics before (a follow-up's)
        if not p.metrics and not p.implied and word in lexicon.metric_words():
            vague = lexicon.containing(word)
            if len(vague) >= 2:
                p.ambiguous.append((word, vague))  # "margin": gross or operating — say which
                continue
        if word not in lexicon.english_words() or (
            word in lexicon.metric_words() and word not in own
        ):
            # "east vs west": "west" is no region; "paid in expenses": a metric's word left
            # unread names something this question did not resolve — never drop it.
            p.unknown.append(word)


def _quantity_of_amount(t: _Text, p: Parse, lexicon: Lexicon) -> None:
    """量 right after the word of a money metric asks for a quantity that metric does not
    measure (采购量 is not 采购额): reported as not understood, never read as the amount.
    "多少件库存", "how many units of stock": the quantity metric of the same table, when the
    model has exactly one."""
    if t.find(QUANTITY_TOO):
        # "inventory value and quantity", "库存金额和数量": the amount, and its table's pieces
        p.metrics += [
            lexicon.pieces_of[m]
            for m in p.metrics
            if m in lexicon.pieces_of and lexicon.pieces_of[m] not in p.metrics
        ]
    pieces = PIECES.search(t.text)
    if pieces:
        p.metrics = [lexicon.pieces_of.get(name, name) for name in p.metrics]
        amounts = [m for m in p.metrics if m in lexicon.money]
        if amounts and len(p.metrics) > len(amounts):
            # "how many units did we purchase": pieces of an amount the model counts in money
            # only — not the pieces of another metric named beside it (units sold).
            p.unknown.append(pieces.group())
    for name in p.metrics:
        if name not in lexicon.money:
            continue
        for surface in lexicon.surfaces_of(name):
            for found in re.finditer(re.escape(surface) + "量", t.text):
                if not t.used[found.end() - 1] and found.group() not in lexicon.surfaces:
                    p.unknown.append(found.group())


def _leftover_word(run: str, p: Parse, lexicon: Lexicon) -> None:
    if any(run in surface for m in p.metrics for surface in lexicon.surfaces_of(m)):
        return  # "AR余额": 余额 only repeats what the metric already says
    match = lexicon.fuzzy(run)
    if match is not None:
        p.fuzzy.append((run, match.text))
        entry = match.entries[0]
        target = {"metric": p.metrics, "dimension": p.dimensions}.get(entry.kind)
        if target is not None:
            if entry.name not in target:
                target.append(entry.name)
        else:
            p.values.setdefault(entry.name, []).append(entry.value or match.text)
        return
    vague = lexicon.containing(run)
    split = run[0] in "分按每" and len(run) >= 3
    word = run[1:] if split else run
    kinds = lexicon.containing(word, "dimension")
    if len(word) >= 2 and len(kinds) == 1 and (split or not vague):
        # "分活动看": part of one dimension's words (现金流活动) — after a split word, or when
        # no metric's words hold it
        p.fuzzy.append((run, kinds[0]))
        if kinds[0] not in p.dimensions:
            p.dimensions.append(kinds[0])
        return
    if len(vague) >= 2 and not p.metrics:
        p.ambiguous.append((run, vague))
        return
    if len(vague) == 1 and not p.metrics:
        p.metrics.append(vague[0])
        p.fuzzy.append((run, vague[0]))
        return
    p.unknown.append(run)
