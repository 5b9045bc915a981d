"""Reading goals against the KPI series: each goal's value in its previous and current period."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from tend.goals.models import VALUE_PLACES, Goal, GoalAlert
from tend.metrics.filters import PERIOD_MONTHS, FilterError, Filters
from tend.metrics.formulas import value_range
from tend.metrics.kpis import PeriodKpis, kpi_series
from tend.metrics.snapshots import month_of

TIMELINE_SHOWN = 5


@dataclass(frozen=True)
class Reading:
    """A goal's value in one period, read from the KPI series (not stored)."""

    period: str  # "2025-03", "2025-Q1", "2025"
    start: date
    end: date
    to_date: bool  # the period has not ended: figures run to today
    value: Decimal | None  # None: undefined in this period (e.g. nobody active at start)
    met: bool | None  # the value (to date, while the period runs) meets the target
    progress: float  # 0–100 towards the target (of the projection while the period runs)
    projected: Decimal | None = None  # the value expected at the period's end (running only)
    on_track: bool | None = None  # the projection meets the target (running periods only)

    @property
    def status(self) -> str:
        """``met``/``missed`` for a period that has ended, ``on_track``/``off_track`` for one
        still running (judged by the projection), ``no_data`` without a value."""
        if self.value is None:
            return "no_data"
        if self.to_date:
            return "on_track" if self.on_track else "off_track"
        return "met" if self.met else "missed"


@dataclass(frozen=True)
class GoalStatus:
    """A goal with its previous and current period readings, for pages and the API."""

    goal: Goal
    previous: Reading | None
    current: Reading | None
    error: str = ""  # the goal's filters no longer work (a deleted tag): shown, not raised


def to_value(raw: Any) -> Decimal | None:
    """A series metric (float percent, Decimal money, int count) as a 4-place Decimal."""
    if raw is None:
        return None
    return Decimal(str(raw)).quantize(VALUE_PLACES)


def window(filters: Filters, *, today: date) -> Filters:
    """``filters`` over the previous and the current period containing ``today``."""
    this_month = month_of(today)
    return replace(
        filters,
        start=this_month - relativedelta(months=PERIOD_MONTHS[filters.period]),
        end=this_month,
    )


def reading(goal: Goal, kpis: PeriodKpis, *, today: date) -> Reading:
    value = to_value(kpis.metrics.get(goal.metric))
    projected = None
    if kpis.to_date and value is not None:
        projected = project(goal.metric, value, kpis, today=today)
    return Reading(
        period=kpis.label,
        start=kpis.start,
        end=kpis.end,
        to_date=kpis.to_date,
        value=value,
        met=None if value is None else goal.is_met(value),
        progress=goal.progress(projected if projected is not None else value),
        projected=projected,
        on_track=None if projected is None else goal.is_met(projected),
    )


# Where each metric stands at the first moment of a period, for the projection: flows and
# churn start at 0, retention at 100 %, levels (MRR, ARR, ARPA) at their value then. Ratios
# of two things that grow together (renewal rate, CAC) have no trend to extend: "flat".
PROJECTION_START: dict[str, str] = {
    "new_mrr": "zero",
    "expansion_mrr": "zero",
    "contraction_mrr": "zero",
    "churned_mrr": "zero",
    "reactivation_mrr": "zero",
    "net_new_mrr": "zero",
    "logo_churn": "zero",
    "revenue_churn": "zero",
    "cer": "zero",
    "crr": "hundred",
    "grr": "hundred",
    "nrr": "hundred",
    "mrr": "start",
    "arr": "start",
    "arpa": "start",
}


def start_value(metric: str, kpis: PeriodKpis) -> Decimal | None:
    """The metric's value at the first moment of the period; None when it has no trend."""
    kind = PROJECTION_START.get(metric, "flat")
    if kind == "zero":
        return Decimal(0)
    if kind == "hundred":
        return Decimal(100)
    if kind == "start":
        mrr = kpis.mrr_start
        if metric == "arr":
            return mrr * 12
        if metric == "arpa":
            return mrr / kpis.customers_start if kpis.customers_start else None
        return mrr
    return None


def project(metric: str, value: Decimal, kpis: PeriodKpis, *, today: date) -> Decimal:
    """A running period's value carried on in a straight line to the period's end:

    projected = value at start + (value to date − value at start) × days in period ÷ days so far

    Days so far count today; a rate stays within what it can be (churn at most 100 %).
    """
    base = start_value(metric, kpis)
    if base is None:
        return value
    days = (kpis.end - kpis.start).days + 1
    elapsed = min(max((today - kpis.start).days + 1, 1), days)
    projected = base + (value - base) * Decimal(days) / Decimal(elapsed)
    low, high = value_range(metric)
    if low is not None:
        projected = max(projected, low)
    if high is not None:
        projected = min(projected, high)
    return projected.quantize(VALUE_PLACES)


def goal_statuses(goals: Iterable[Goal], *, today: date | None = None) -> list[GoalStatus]:
    """Each goal's previous and current period readings.

    Goals with the same period and customer filters share one series read, so a page with
    a dozen goals over all customers asks the database once per period kind.
    """
    today = today or timezone.now().date()
    cache: dict[tuple[Any, ...], list[PeriodKpis] | str] = {}
    out: list[GoalStatus] = []
    for goal in goals:
        key = (goal.period, tuple(sorted((k, tuple(v)) for k, v in goal.filters.items())))
        if key not in cache:
            try:
                cache[key] = kpi_series(window(goal.customer_filters(), today=today), today=today)
            except FilterError as exc:
                cache[key] = exc.text()
        series = cache[key]
        if isinstance(series, str):
            out.append(GoalStatus(goal, None, None, error=series))
            continue
        readings = [reading(goal, kpis, today=today) for kpis in series[-2:]]
        previous = readings[0] if len(readings) == 2 else None
        current = readings[-1] if readings else None
        out.append(GoalStatus(goal, previous, current))
    return out


def goals_with_timeline(*, active: bool = True) -> list[Goal]:
    """Goals (active or archived), oldest first, each with ``timeline``: its last alerts."""
    goals = list(
        Goal.objects.filter(active=active).select_related("created_by").order_by("created_at", "pk")
    )
    if not goals:
        return goals
    # One query for every goal's last few alerts (a window would be tidier, but SQLite and
    # PostgreSQL agree on this and goals have few alerts per month).
    recent = (
        GoalAlert.objects.filter(goal__in=goals)
        .order_by("goal_id", "-at", "-pk")
        .only("goal_id", "period", "kind", "value", "target", "comparator", "met", "final", "at")
    )
    by_goal: dict[int, list[GoalAlert]] = {}
    for alert in recent.iterator():
        rows = by_goal.setdefault(alert.goal_id, [])
        if len(rows) < TIMELINE_SHOWN:
            rows.append(alert)
    for goal in goals:
        goal.timeline = by_goal.get(goal.pk, [])  # type: ignore[attr-defined]
    return goals
