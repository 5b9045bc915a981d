"""Figures of a period so far, and of the same days of the period before.

The monthly snapshots hold whole months. "Month to date" on the 6th compares 1–6 December
with 1–6 November, so both windows are computed here over [start, start + n days) with the
same rules as the snapshots (docs/metrics.md, "Period boundaries"):

- the MRR at the window's start is the customer's ``CustomerMonth.mrr_start`` of that month,
  unless the ledger has a movement at the very start instant, which then decides;
- a movement belongs to the window when it falls inside it, when it opens the window (at its
  first instant, the customer not paying just before), or when it closes it (at its end
  instant, the customer paying just before);
- a customer is acquired in the window when their first payment falls inside it;
- a renewal counts when its term end falls in (start, end] and is not in the future.

Only the ledger rows the snapshots were built from are read (``last_movement_id``), so a
to-date tile and the charts agree "as of" the same build. The answer is kept like the other
on-demand views (``kpis.on_demand``).
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db.models import Count, Sum

from tend.billing.models import MrrMovement, Subscription, SubscriptionStatus
from tend.metrics.filters import PERIOD_MONTHS, Filters
from tend.metrics.kpis import PeriodKpis, gross_margin, on_demand
from tend.metrics.models import CustomerLife, CustomerMonth
from tend.metrics.snapshots import db_money, month_of, period_first, state

TERM_MONTHS = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True)
class Window:
    """The first ``days`` days of the period starting on ``start`` (a first of a month)."""

    start: date
    days: int

    @property
    def end(self) -> date:
        """The first day after the window."""
        return self.start + timedelta(days=self.days)

    @property
    def last(self) -> date:
        """The window's last day."""
        return self.end - timedelta(days=1)


def windows(period_start: date, period: str, today: date) -> tuple[Window, Window]:
    """This period so far (its first day to ``today``) and the same days of the period before,
    cut at that period's end when it is shorter (31 March to date against all of February)."""
    days = (today - period_start).days + 1
    before = period_start - relativedelta(months=PERIOD_MONTHS[period])
    return Window(period_start, days), Window(before, min(days, (period_start - before).days))


def window_kpis(filters: Filters, window: Window, *, now: datetime) -> PeriodKpis:
    """The raw figures and metrics of the filters' customers over ``window``."""

    def compute() -> PeriodKpis:
        figures = _figures(filters, window, now=now)
        return figures.compute(gross_margin=gross_margin())

    found = on_demand("to_date", filters, (window, now.date()), compute)
    return copy.deepcopy(found)  # type: ignore[no-any-return]


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _figures(filters: Filters, window: Window, *, now: datetime) -> PeriodKpis:
    start, end = _instant(window.start), _instant(window.end)
    out = PeriodKpis(start=window.start, end=window.last, to_date=True)
    built = state().last_movement_id
    chosen = filters.customers().values("pk") if filters.is_filtered() else None
    # MRR at the start of the window's month, per customer paying then.
    levels: dict[int, Decimal] = {}
    rows = CustomerMonth.objects.filter(month=month_of(window.start), mrr_start__gt=0)
    if chosen is not None:
        rows = rows.filter(customer_id__in=chosen)
    for customer_id, mrr in rows.values_list("customer_id", "mrr_start"):
        levels[customer_id] = Decimal(mrr)
    # Every movement from the window's first to its closing instant, in ledger order.
    moves = MrrMovement.objects.filter(at__gte=start, at__lte=end, pk__lte=built)
    if chosen is not None:
        moves = moves.filter(customer_id__in=chosen)
    by_customer: dict[int, list[tuple[datetime, str, Decimal, Decimal]]] = defaultdict(list)
    for customer_id, at, kind, amount, after in moves.order_by(
        "customer_id", "at", "pk"
    ).values_list("customer_id", "at", "kind", "amount", "mrr_after"):
        by_customer[customer_id].append((at, kind, Decimal(amount), Decimal(after)))
    flows: dict[str, Decimal] = defaultdict(Decimal)
    ends: dict[int, tuple[Decimal, Decimal]] = {c: (mrr, mrr) for c, mrr in levels.items()}
    for customer_id, customer_moves in by_customer.items():
        ends[customer_id] = _walk(customer_moves, start, end, flows)
    _add_levels(out, ends.values())
    for name in ("new", "expansion", "contraction", "churn", "reactivation"):
        setattr(out, name, flows[name])
    _add_acquired(out, filters, start, end)
    out.renewals_due, out.renewals_done = _renewals(filters, start, end, now=now)
    return out


def _walk(
    moves: list[tuple[datetime, str, Decimal, Decimal]],
    start: datetime,
    end: datetime,
    flows: dict[str, Decimal],
) -> tuple[Decimal, Decimal]:
    """One customer's MRR at the window's start and end; adds the window's movements to
    ``flows``. ``moves`` run from the start instant to the end instant inclusive."""
    _at, _kind, amount0, after0 = moves[0]
    level = after0 - amount0  # the MRR just before the first movement read
    opening = level
    instant: datetime | None = None
    paying_before = False
    for at, kind, amount, after in moves:
        if at != instant:
            instant, paying_before = at, level > 0
        if at == start and paying_before:
            opening = after  # closes the period before: part of the start, not a flow
        elif at == end and not paying_before:
            break  # opens the next window
        else:
            flows[kind] += amount
        level = after
    return opening, level


def _add_levels(out: PeriodKpis, pairs: Any) -> None:
    for first, last in pairs:
        if first > 0:
            out.customers_start += 1
            out.mrr_start += first
            if last > 0:
                out.retained += 1
            else:
                out.churned += 1
                out.base_churn += first
            if last > first:
                out.expanded += 1
                out.base_expansion += last - first
            elif 0 < last < first:
                out.base_contraction += first - last
        if last > 0:
            out.customers_end += 1
            out.mrr_end += last


def _add_acquired(out: PeriodKpis, filters: Filters, start: datetime, end: datetime) -> None:
    lives = CustomerLife.objects.filter(started_at__gte=start, started_at__lt=end)
    if filters.is_filtered():
        lives = lives.filter(customer_id__in=filters.customers().values("pk"))
    totals = lives.aggregate(
        acquired=Count("pk"),
        cost=Sum("customer__acquisition_cost"),
        costed=Count("customer__acquisition_cost"),
    )
    out.acquired = int(totals["acquired"] or 0)
    out.acquisition_cost = db_money(totals["cost"])
    out.acquired_costed = int(totals["costed"] or 0)


def _term_end(anchor: datetime, interval: str, k: int) -> datetime:
    if interval == "week":
        return anchor + timedelta(weeks=k)
    # relativedelta from the anchor keeps the day of month, cut to the month's length.
    return anchor + relativedelta(months=k * TERM_MONTHS.get(interval, 1))


def _renewals(
    filters: Filters, start: datetime, end: datetime, *, now: datetime
) -> tuple[int, int]:
    """Renewal dates due in (start, end] up to ``now`` and how many renewed (as the snapshots
    count them per month: a term end before the cancellation renewed, the first one at or
    after it did not)."""
    subs = Subscription.objects.filter(started_at__lt=end).exclude(
        status__in=(SubscriptionStatus.TRIALING, SubscriptionStatus.INCOMPLETE)
    )
    if filters.is_filtered():
        subs = subs.filter(customer_id__in=filters.customers().values("pk"))
    limit = min(end, now.astimezone(UTC))
    due = done = 0
    for status, interval, started_at, trial_ends_at, canceled_at in subs.values_list(
        "status", "interval", "started_at", "trial_ends_at", "canceled_at"
    ):
        anchor = max(started_at, trial_ends_at) if trial_ends_at else started_at
        if canceled_at is not None and canceled_at <= anchor:
            continue  # ended before it was ever paid
        anchor = anchor.astimezone(UTC)
        ended = canceled_at if status == SubscriptionStatus.CANCELED else None
        # Skip the terms long before the window (one step early, so none is missed).
        if interval == "week":
            k = max(1, (start - anchor).days // 7 - 1)
        else:
            months = (start.year - anchor.year) * 12 + start.month - anchor.month
            k = max(1, months // TERM_MONTHS.get(interval, 1) - 1)
        while True:
            term = _term_end(anchor, interval, k)
            if term > limit:
                break
            if term > start:
                due += 1
                if ended is None or term < ended:
                    done += 1
                else:
                    break
            elif ended is not None and term >= ended:
                break  # its last renewal date was before the window
            k += 1
    return due, done


def period_start_of(today: date, period: str) -> date:
    """The first day of the month, quarter or year holding ``today``."""
    return period_first(today.replace(day=1), period)
