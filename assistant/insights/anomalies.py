"""Anomaly scan: which months of which metrics (and members) are out of line, and by how much.

Business series have growth and seasons (the Spring Festival dip in February, the Q4 peak), so
a month is judged against a seasonal expectation built only from medians:

    growth   the median year-over-year change of the 12 nearest months, per month
    level    the median of the neighbouring year's values (±6 months), each carried to the
             month along that growth — so it neither lags at the end nor follows a spike
    season   per calendar month, the median over the years of value − level (of two years,
             the milder: a one-off is likelier than a season that swings)
    z        (value − level − season) / σ, where σ is the robust spread (median absolute
             deviation) of the year-over-year changes around their growth

Amounts that are always positive are judged on a log scale (growth is a rate, a deviation a
percentage); rates, balances that start at zero and amounts that change sign on their own
scale (毛利率 moves in points). Medians ignore the few outliers being looked for, and a spike
does not come back as a false dip a year later. A month needs the same month a year before to
be judged, and |z| ≥ 3.5 is flagged (≥ 5 warning, ≥ 8 critical).

Each metric is scanned for the company and, where it matters, one level down (expenses by
category and department, revenue by region…); a member's anomaly must also be material (2% of
the company total, or 5% of the company's rate). Every series comes from one compiled query per breakdown, so the whole scan is a
handful of queries.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from assistant.formatting import format_value
from assistant.insights.alerts import as_date, english_names, period_label
from semantic_layer import knowledge
from semantic_layer.catalog import catalog
from semantic_layer.compiler import add_months, compile_for
from semantic_layer.engine import Engine
from semantic_layer.errors import CockpitError
from semantic_layer.model import Label, Metric, SemanticModel
from semantic_layer.query import DimensionRef, Filter, Intent, SemanticQuery, TimeRange

THRESHOLD = 3.5
SEVERITIES = ((8.0, "critical"), (5.0, "warning"), (0.0, "info"))
# A member's anomaly must move by at least this share of the company's value to be worth a
# line: of the total for amounts, of the company's rate for rates.
MATERIALITY = 0.02
RATE_MATERIALITY = 0.05
SEASON = 12
NEIGHBOURS = 12
HISTORY = 2 * SEASON
RATE_UNITS = {"percent", "ratio", "days"}
AMOUNT_UNITS = {"yuan", "count", "units"}


@dataclass(frozen=True)
class Anomaly:
    """One month of one series that is out of line with its seasonal expectation."""

    metric: str
    label: Label  # the metric's label
    dimension: str | None  # None for the company as a whole
    member: str | None
    period: date  # the first day of the month
    value: float
    expected: float
    z: float  # robust z-score of the residual; the sign is the direction
    severity: str  # info | warning | critical
    direction: str  # up | down
    favorable: bool  # whether the move is good news (respects the metric's higher_is_better)
    reason_zh: str
    reason_en: str
    query: SemanticQuery  # the series it was judged on (by month, the member as a filter)

    def reason(self, lang: str = "zh") -> str:
        return self.reason_zh if lang == "zh" else self.reason_en


@dataclass(frozen=True)
class _Series:
    metric: Metric
    dimension: str | None
    member: str | None
    months: list[date]
    values: list[float | None]


def scan_anomalies(
    model: SemanticModel,
    engine: Engine,
    as_of: date,
    metrics: Sequence[str] | None = None,
    months: int = 24,
    dimensions: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    threshold: float = THRESHOLD,
) -> list[Anomaly]:
    """Anomalous months among the last `months` whole months up to `as_of`, worst first.

    `metrics`: the metrics to scan (default: what the model's knowledge watches, else its
    headline metrics). `dimensions`: breakdowns to scan
    as well — a list applies to every metric it reaches, a mapping gives each metric its own,
    `[]` scans company totals only; by default each metric's usual breakdowns. A month is
    whole when `as_of` is its last day; a partial month would look like a collapse.
    """
    names = list(metrics) if metrics is not None else knowledge.watched(model)
    cat = catalog(model)
    breakdowns: dict[str, list[str]] = {}
    counts = knowledge.member_counts(model, engine) if dimensions is None else {}
    for name in names:
        if dimensions is None:
            wanted: Sequence[str] = knowledge.breakdowns(model, name, counts)
        elif isinstance(dimensions, Mapping):
            wanted = dimensions.get(name, ())
        else:
            wanted = dimensions
        breakdowns[name] = [d for d in wanted if cat.reaches(name, d)]

    last = date(as_of.year, as_of.month, 1)
    if as_of != add_months(last, 1) - timedelta(days=1):
        last = add_months(last, -1)  # only whole months: a partial one looks like a collapse
    first = add_months(last, -(months - 1))
    # Two more years than scanned, where the data has them, for the seasons and the growth.
    start = add_months(first, -HISTORY)
    window = TimeRange(start=start, end=add_months(last, 1))
    calendar = [add_months(start, i) for i in range(months + HISTORY)]

    series: list[_Series] = []
    for dimension in [None, *dict.fromkeys(d for ds in breakdowns.values() for d in ds)]:
        wanted_metrics = [n for n in names if dimension is None or dimension in breakdowns[n]]
        try:
            series += _fetch(model, engine, wanted_metrics, dimension, window, calendar)
        except CockpitError as err:
            if err.code == "query_timeout":
                raise  # the question's time is up: no scan that silently left metrics out
            # One metric that cannot run on this data must not sink the scan: one at a time.
            for name in wanted_metrics:
                try:
                    series += _fetch(model, engine, [name], dimension, window, calendar)
                except CockpitError as one:
                    if one.code == "query_timeout":
                        raise
                    continue

    totals = {s.metric.name: s for s in series if s.dimension is None}
    english: dict[str, dict[str, str]] = {}
    found: list[Anomaly] = []
    for one in series:
        for index, expected, z in _judge(one.values, one.months, _multiplicative(one), threshold):
            month = one.months[index]
            if month < first:
                continue
            value = one.values[index]
            assert value is not None
            if one.dimension is not None and not _material(one, totals, index, value, expected):
                continue
            if one.dimension is not None and one.dimension not in english:
                members = {s.member for s in series if s.dimension == one.dimension}
                english[one.dimension] = english_names(model, engine, one.dimension, members)
            names_en = english.get(one.dimension or "", {})
            shown = TimeRange(start=add_months(first, -SEASON), end=window.end)
            found.append(_anomaly(one, month, value, expected, z, shown, names_en))
    rank = {name: i for i, (_, name) in enumerate(SEVERITIES)}
    return sorted(found, key=lambda a: (rank[a.severity], -abs(a.z), a.period))


# --- fetching -----------------------------------------------------------------------------
def _fetch(
    model: SemanticModel,
    engine: Engine,
    metrics: list[str],
    dimension: str | None,
    window: TimeRange,
    calendar: list[date],
) -> list[_Series]:
    """Every metric's monthly series for each member of `dimension`, in one compiled query."""
    if not metrics:
        return []
    refs = [DimensionRef(name="metric_time", grain="month")]
    refs += [DimensionRef(name=dimension)] if dimension else []
    query = SemanticQuery(metrics=metrics, dimensions=refs, time_range=window, intent=Intent.trend)
    result = engine.execute(compile_for(engine, model, query).ast)
    position = {month: i for i, month in enumerate(calendar)}
    cells: dict[tuple[str, str | None], list[float | None]] = {}
    for record in result.records():
        month = as_date(record[refs[0].key])
        member = str(record[dimension]) if dimension else None
        if month not in position or (dimension and record[dimension] is None):
            continue
        for name in metrics:
            row = cells.setdefault((name, member), [None] * len(calendar))
            value = record[name]
            row[position[month]] = None if value is None else float(value)
    return [
        _Series(model.metric(name), dimension, member, calendar, values)
        for (name, member), values in cells.items()
    ]


# --- judging ------------------------------------------------------------------------------
def _multiplicative(series: _Series) -> bool:
    """Growth is a rate for amounts that are always positive; otherwise a difference."""
    present = [v for v in series.values if v is not None]
    return series.metric.unit in AMOUNT_UNITS and bool(present) and min(present) > 0


def _judge(
    values: list[float | None], months: list[date], multiplicative: bool, threshold: float
) -> list[tuple[int, float, float]]:
    """(index, expected, z) of every month whose robust z-score reaches `threshold`."""
    known = [t for t, v in enumerate(values) if v is not None]
    if not known or sum(1 for v in values if v) * 2 < known[-1] - known[0] + 1:
        # Mostly zero (one customer's overdue): no pattern to depart from, and any amount
        # would look infinitely unusual. A threshold alert is the tool for those.
        return []
    x = [None if v is None else (math.log(v) if multiplicative else v) for v in values]
    present = [t for t, v in enumerate(x) if v is not None]
    changes = {
        t: x[t] - x[t - SEASON]  # type: ignore[operator]
        for t in present
        if t >= SEASON and x[t - SEASON] is not None
    }
    if len(changes) < 3:
        return []
    # Growth per month from the typical year-over-year change nearby: robust to the very
    # spikes we look for, and it follows a series whose growth speeds up or slows down.
    slope = {t: _nearby_median(changes, t) / SEASON for t in present}
    season = [0.0] * SEASON
    trend: dict[int, float] = {}
    for _ in range(3):
        # Level: the median of the neighbouring year, each moved to t along the growth, so
        # the level neither lags at the end of the series nor follows a one-month spike.
        for t in present:
            near = [s for s in present if abs(s - t) <= SEASON // 2]
            trend[t] = statistics.median(
                x[s] - season[months[s].month - 1] + slope[t] * (t - s)  # type: ignore[operator]
                for s in near
            )
        # Season: per calendar month, the median over the years of what the level leaves.
        for m in range(SEASON):
            left = [x[t] - trend[t] for t in present if months[t].month == m + 1]  # type: ignore[operator]
            season[m] = _season(left)
    expected = {t: trend[t] + season[months[t].month - 1] for t in present}
    residuals = {t: x[t] - expected[t] for t in present}  # type: ignore[operator]
    centre = statistics.median(residuals.values())
    # The noise scale from the year-over-year changes, not from these residuals: with three
    # years a per-month median fits one year exactly, which would make the spread look tiny.
    # A change holds two months' noise, the residual about as much (its expectation is an
    # estimate too), so the changes' spread is the right yardstick.
    spread = [changes[t] - _nearby_median(changes, t) for t in changes]
    middle = statistics.median(spread)
    deviations = sorted(abs(d - middle) for d in spread)
    # The median deviation (scaled to a normal σ); when most changes are exactly zero (a
    # balance that sits still), the 75th or 90th percentile instead.
    sigma = next(
        (
            deviations[int(q * (len(deviations) - 1))] / normal
            for q, normal in ((0.5, 0.6745), (0.75, 1.1503), (0.9, 1.6449))
            if deviations[int(q * (len(deviations) - 1))] > 0
        ),
        0.0,
    )
    level = statistics.median(abs(x[t]) for t in present)  # type: ignore[arg-type]
    scale = max(sigma, 0.01 if multiplicative else 1e-3 * level, 1e-12)
    flagged = []
    # Only a month with the same month a year before is judged: a season needs a precedent,
    # and a series' first year (receivables starting from nothing) is not a pattern.
    for t in changes:
        z = (residuals[t] - centre) / scale
        if abs(z) >= threshold:
            value = expected[t] + centre
            flagged.append((t, math.exp(value) if multiplicative else value, z))
    return flagged


def _season(values: list[float]) -> float:
    """A calendar month's seasonal effect from its years: the median of three or more; of
    two, the milder one — a one-off departure is likelier than a season that swings, and
    the mean would split a spike into a false rise and a false dip."""
    if not values:
        return 0.0
    if len(values) == 2:
        return min(values, key=abs)
    return statistics.median(values)


def _nearby_median(changes: dict[int, float], t: int) -> float:
    """The median year-over-year change of the months nearest to t."""
    nearest = sorted(changes, key=lambda s: (abs(s - t), -s))[:NEIGHBOURS]
    return statistics.median(changes[s] for s in nearest)


def _material(
    series: _Series, totals: dict[str, _Series], index: int, value: float, expected: float
) -> bool:
    """A member's move must matter to the company: 2% of the company total for an amount;
    for a rate, 5% of the company's rate (1.5 points of a 29% margin) — a small region's
    margin wobbles more than the company's, and a wobble is not news."""
    total = totals.get(series.metric.name)
    reference = total.values[index] if total is not None else None
    if not reference:
        return True
    share = MATERIALITY if series.metric.unit in AMOUNT_UNITS else RATE_MATERIALITY
    return abs(value - expected) >= share * abs(reference)


# --- saying it ----------------------------------------------------------------------------
def _anomaly(
    series: _Series,
    month: date,
    value: float,
    expected: float,
    z: float,
    window: TimeRange,
    english: dict[str, str],
) -> Anomaly:
    metric = series.metric
    direction = "up" if value > expected else "down"
    favorable = (direction == "up") == metric.higher_is_better
    severity = next(name for bound, name in SEVERITIES if abs(z) >= bound)
    filters = (
        [Filter(dimension=series.dimension, op="=", values=[series.member])]
        if series.dimension and series.member is not None
        else []
    )
    query = SemanticQuery(
        metrics=[metric.name],
        dimensions=[DimensionRef(name="metric_time", grain="month")],
        filters=filters,
        time_range=window,
        intent=Intent.trend,
    )
    member_en = english.get(series.member or "", series.member)
    return Anomaly(
        metric=metric.name,
        label=metric.label,
        dimension=series.dimension,
        member=series.member,
        period=month,
        value=value,
        expected=expected,
        z=z,
        severity=severity,
        direction=direction,
        favorable=favorable,
        reason_zh=_reason(metric, series.member, month, value, expected, favorable, "zh"),
        reason_en=_reason(metric, member_en, month, value, expected, favorable, "en"),
        query=query,
    )


def _reason(
    metric: Metric,
    member: str | None,
    month: date,
    value: float,
    expected: float,
    favorable: bool,
    lang: str,
) -> str:
    """2025年3月毛利率 26.9%，低于预期 29.3%（-2.4个百分点，不利）."""
    zh = lang == "zh"
    shown = format_value(value, metric.unit, lang, compact=True)
    usual = format_value(expected, metric.unit, lang, compact=True)
    if metric.unit in RATE_UNITS:
        points = (value - expected) * (100 if metric.unit == "percent" else 1)
        unit = ("个百分点" if zh else " pts") if metric.unit == "percent" else ""
        delta = f"{points:+.1f}{unit}"
    elif expected > 0:
        delta = f"{(value - expected) / expected * 100:+.1f}%"
    else:
        delta = ("+" if value >= expected else "-") + format_value(
            abs(value - expected), metric.unit, lang, compact=True
        ).lstrip("-")
    when = period_label(month, "month", lang)
    up = value > expected
    if zh:
        who = f"{member}" if member else ""
        verdict = "有利" if favorable else "不利"
        return (
            f"{when}{who}{metric.label.zh} {shown}，{'高' if up else '低'}于预期 {usual}"
            f"（{delta}，{verdict}）"
        )
    who = f" for {member}" if member else ""
    verdict = "favourable" if favorable else "unfavourable"
    return (
        f"{metric.label.en}{who} in {when}: {shown}, {'above' if up else 'below'} the expected "
        f"{usual} ({delta}, {verdict})"
    )
