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
    met: bool | None
    progress: float  # 0–100 towards the target


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


def reading(goal: Goal, kpis: PeriodKpis) -> Reading:
    value = to_value(kpis.metrics.get(goal.metric))
    return Reading(
        period=kpis.label,
        start=kpis.start,
        end=kpis.end,
        to_date=kpis.to_date,
        value=value,
        met=None if value is None else goal.is_met(value),
        progress=goal.progress(value),
    )


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
                cache[key] = f"{exc.field}: {exc.message}"
        series = cache[key]
        if isinstance(series, str):
            out.append(GoalStatus(goal, None, None, error=series))
            continue
        readings = [reading(goal, kpis) for kpis in series[-2:]]
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
