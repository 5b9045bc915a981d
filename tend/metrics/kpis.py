"""KPI series for dashboards, API, CLI and goals: one place reads the snapshots.

``kpi_series(filters)`` gives one ``PeriodKpis`` per month (or quarter or year) in the
filters' range. Unfiltered and single plan/channel/country views read the pre-added
``MonthlySummary`` rows; any other filter (tags, several values, combinations) adds up the
``CustomerMonth`` rows of the matching customers in the database. Both give the same numbers
(tested). Every rate comes from ``tend.metrics.formulas``, where each formula is written once.
"""

from __future__ import annotations

import copy
import hashlib
import json
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from tend.metrics import formulas
from tend.metrics.filters import PERIOD_MONTHS, Filters
from tend.metrics.models import MonthlySummary, OnDemandFigure
from tend.metrics.snapshots import (
    SUMMARY_COLUMNS,
    SUMMARY_SELECT,
    db_date,
    db_money,
    month_of,
    months_between,
    next_month,
    period_base_select,
    state,
    tables,
)

ON_DEMAND_SECONDS = 3600
ZERO = Decimal(0)
COUNT_COLUMNS = frozenset(
    {
        "customers_start",
        "customers_end",
        "retained",
        "churned",
        "expanded",
        "renewals_due",
        "renewals_done",
        "acquired",
        "acquired_costed",
    }
)


@dataclass
class PeriodKpis:
    """The raw figures of one period and every metric derived from them.

    Money is in the reporting currency (``TEND_CURRENCY``). Movement amounts are signed like
    the ledger; ``base_*`` are the net changes of customers active at the period's start.
    """

    start: date
    end: date  # last day of the period
    customers_start: int = 0
    customers_end: int = 0
    retained: int = 0
    churned: int = 0
    expanded: int = 0
    mrr_start: Decimal = ZERO
    mrr_end: Decimal = ZERO
    new: Decimal = ZERO
    expansion: Decimal = ZERO
    contraction: Decimal = ZERO
    churn: Decimal = ZERO
    reactivation: Decimal = ZERO
    base_expansion: Decimal = ZERO
    base_contraction: Decimal = ZERO
    base_churn: Decimal = ZERO
    renewals_due: int = 0
    renewals_done: int = 0
    acquired: int = 0
    acquisition_cost: Decimal = ZERO
    acquired_costed: int = 0  # acquired customers with a recorded acquisition cost
    to_date: bool = False  # the period has not ended yet: figures run to today
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        months = months_between(self.start, self.end) + 1
        if months == 12 and self.start.month == 1:
            return f"{self.start:%Y}"
        if months == 3:
            return f"{self.start:%Y}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start:%Y-%m}"

    def compute(self, *, gross_margin: Decimal) -> PeriodKpis:
        """Fill ``metrics`` from the raw figures with the formulas module."""
        f = formulas
        churn_rate = f.logo_churn_rate(active_at_start=self.customers_start, churned=self.churned)
        arpa = f.arpa(mrr=self.mrr_end, customers=self.customers_end)
        # Customers without a recorded cost are left out of CAC rather than counted as free.
        cac = f.cac(acquisition_cost=self.acquisition_cost, customers_acquired=self.acquired_costed)
        self.metrics = {
            "mrr": self.mrr_end,
            "arr": f.mrr_to_arr(mrr=self.mrr_end),
            "new_mrr": self.new,
            "expansion_mrr": self.expansion,
            "contraction_mrr": -self.contraction,
            "churned_mrr": -self.churn,
            "reactivation_mrr": self.reactivation,
            "net_new_mrr": f.net_new_mrr(
                new=self.new,
                expansion=self.expansion,
                contraction=-self.contraction,
                churn=-self.churn,
                reactivation=self.reactivation,
            ),
            "customers": self.customers_end,
            "logo_churn": churn_rate,
            "revenue_churn": f.revenue_churn_rate(
                start_mrr=self.mrr_start, churned_mrr=self.base_churn
            ),
            "crr": f.crr(active_at_start=self.customers_start, retained=self.retained),
            "grr": f.grr(
                start_mrr=self.mrr_start,
                contraction=self.base_contraction,
                churned_mrr=self.base_churn,
            ),
            "nrr": f.nrr(
                start_mrr=self.mrr_start,
                expansion=self.base_expansion,
                contraction=self.base_contraction,
                churned_mrr=self.base_churn,
            ),
            "cer": f.cer(active_at_start=self.customers_start, expanded=self.expanded),
            "renewal_rate": f.renewal_rate(due=self.renewals_due, renewed=self.renewals_done),
            "arpa": arpa,
            "acquired": self.acquired,
            "cac": cac,
        }
        return self

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "period": self.label,
            "start": self.start,
            "end": self.end,
            "to_date": self.to_date,
        }
        for item in fields(self):
            if item.name not in ("start", "end", "metrics", "to_date"):
                out[item.name] = getattr(self, item.name)
        out.update(self.metrics)
        return out


def gross_margin() -> Decimal:
    return Decimal(settings.TEND_GROSS_MARGIN)


def on_demand(name: str, filters: Filters, extra: Any, compute: Any) -> Any:
    """``compute()``, computed once per snapshot build and shared by every process.

    Views the pre-added summaries cannot answer (tags, several values, quarters and years)
    add up customer-month rows; the answer only changes when a refresh writes new rows, so
    it is kept under the build time of the snapshots it was computed from: in this process
    (Django's cache), and in the database (``OnDemandFigure``) for the other web processes
    and the worker. After each refresh the worker computes the views used in the last day
    again for the new build (``warm_on_demand``), so a founder's next visit finds them.
    """
    built = state().built_at
    # What the tiles compare changes no figure computed here: one entry serves both choices.
    same = replace(filters, compare="complete")
    raw = repr((name, same, extra, built.isoformat() if built else None))
    key = "tend-metrics:" + hashlib.sha256(raw.encode()).hexdigest()
    found = cache.get(key)
    if found is not None:
        return found
    pk = key.removeprefix("tend-metrics:")
    stored = OnDemandFigure.objects.filter(pk=pk).values_list("value", flat=True).first()
    if stored is not None:
        # Pickled by this application's own processes (never from a request's input).
        found = pickle.loads(bytes(stored))
        if _warming.get() is None:
            with _unflushed():
                OnDemandFigure.objects.filter(pk=pk).update(used_at=timezone.now())
    else:
        found = compute()
        figure = OnDemandFigure(
            key=pk,
            built_at=built,
            query=filters.as_query(),
            value=pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL),
            used_at=_warming.get() or timezone.now(),
        )
        with _unflushed():
            OnDemandFigure.objects.bulk_create([figure], ignore_conflicts=True)
    cache.set(key, found, timeout=ON_DEMAND_SECONDS)
    return found


@contextmanager
def _unflushed() -> Iterator[None]:
    """A transaction for a figure row whose commit need not wait for the disk (PostgreSQL
    ``synchronous_commit`` off for it alone): a row lost in a crash is computed again, and
    the wait was 20–230 ms per row on a busy machine. Inside a caller's transaction, that
    transaction decides."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


# While the worker computes views again (``warm_on_demand``): when they were last used.
_warming: ContextVar[datetime | None] = ContextVar("on_demand_warming", default=None)
WARM_VIEWS = 20
WARM_WITHIN = timedelta(days=1)


def warm_on_demand(*, limit: int = WARM_VIEWS) -> int:
    """Compute again, for the current snapshot build, the dashboard views whose on-demand
    figures were used in the last day (the ``limit`` used last), then delete the figures of
    older builds. Returns how many views were computed.

    Run by the refresh task after the snapshots are rebuilt, so the first visit after a
    refresh reads figures instead of adding up customer-month rows. A view whose filters no
    longer parse (a tag or segment deleted since) is left out.
    """
    from tend.metrics.display import dashboard_data
    from tend.metrics.filters import FilterError

    current = state().built_at
    if current is None:
        return 0
    recent = (
        OnDemandFigure.objects.filter(used_at__gte=timezone.now() - WARM_WITHIN)
        .exclude(built_at=current)
        .order_by("-used_at")
        .values_list("query", "used_at")
    )
    chosen: dict[str, tuple[dict[str, Any], datetime]] = {}
    for query, used in recent.iterator():
        marker = json.dumps(query, sort_keys=True)
        if marker not in chosen:
            chosen[marker] = (query, used)
            if len(chosen) >= limit:
                break
    done = 0
    for query, used in chosen.values():
        token = _warming.set(used)
        try:
            dashboard_data(Filters.parse(query))
            done += 1
        except FilterError:
            continue
        finally:
            _warming.reset(token)
    OnDemandFigure.objects.exclude(built_at=current).delete()
    return done


def kpi_series(filters: Filters, *, today: date | None = None) -> list[PeriodKpis]:
    """One ``PeriodKpis`` per period of the range, oldest first, metrics computed."""
    if filters.summary_key() is not None:
        return _kpi_series(filters, today=today)
    return [
        copy.deepcopy(p)
        for p in on_demand("series", filters, today, lambda: _kpi_series(filters, today=today))
    ]


def _kpi_series(filters: Filters, *, today: date | None = None) -> list[PeriodKpis]:
    first, last = filters.months(today=today)
    # The current period runs to date: months after this one have no figures yet.
    last = min(last, month_of(today or timezone.now()))
    if last < first:
        return []
    key = filters.summary_key()
    if filters.period != "month" and key is not None:
        periods = _pre_added_periods(filters, key, first, last)
    else:
        monthly = _monthly(filters, first, last)
        grouped = filters.period != "month"
        periods = _grouped(filters, monthly) if grouped else monthly
    margin = gross_margin()
    _mark_to_date(periods, today or timezone.now().date())
    return [p.compute(gross_margin=margin) for p in periods]


def empty_months(first: date, last: date) -> dict[date, PeriodKpis]:
    out: dict[date, PeriodKpis] = {}
    month = first
    while month <= last:
        following = next_month(month)
        out[month] = PeriodKpis(start=month, end=following - timedelta(days=1))
        month = following
    return out


def _mark_to_date(periods: list[PeriodKpis], today: date) -> None:
    for period in periods:
        period.to_date = period.to_date or period.end >= today


def _monthly(filters: Filters, first: date, last: date) -> list[PeriodKpis]:
    months = empty_months(first, last)
    key = filters.summary_key()
    if key is not None:
        rows = MonthlySummary.objects.filter(
            period="month", dimension=key[0], value=key[1], month__gte=first, month__lte=last
        ).values_list("month", *SUMMARY_COLUMNS)
        for row in rows:
            target = months.get(db_date(row[0]))
            if target is not None:
                fill_period(target, row[1:])
        return list(months.values())
    # Added up on demand: the channel table's rows (one scan for both), summed per month.
    # Every summary column is a SUM, so the months' totals are the channels' added up.
    totals: dict[date, list[Any]] = {}
    for _channel, month, *values in channel_month_rows(filters, first, last):
        day = db_date(month)
        found = totals.get(day)
        clean = [_clean(name, v) for name, v in zip(SUMMARY_COLUMNS, values, strict=True)]
        totals[day] = clean if found is None else [a + b for a, b in zip(found, clean, strict=True)]
    for day, values in totals.items():
        target = months.get(day)
        if target is not None:
            fill_period(target, values)
    return list(months.values())


def _clean(name: str, value: Any) -> int | Decimal:
    return int(value or 0) if name in COUNT_COLUMNS else db_money(value)


def fill_period(target: PeriodKpis, values: Any) -> None:
    for name, value in zip(SUMMARY_COLUMNS, values, strict=True):
        setattr(target, name, int(value or 0) if name in COUNT_COLUMNS else db_money(value))


def channel_month_rows(filters: Filters, first: date, last: date) -> list[tuple[Any, ...]]:
    """(channel, month, *summary columns) of the filters' customers, months first…last.

    One scan of the matching customer-month rows, grouped by channel and month: the channel
    table reads it as it is, the KPI series adds the channels up per month. Kept like every
    on-demand view (``on_demand``)."""
    t = tables()
    where, params = filters.customer_sql("cm.customer_id")
    and_where = f"AND {where}" if where else ""

    def fetch() -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT c.channel, cm.month, {SUMMARY_SELECT} FROM {t['cm']} cm "
                f"JOIN {t['c']} c ON c.id = cm.customer_id "
                f"WHERE cm.month >= %s AND cm.month <= %s {and_where} "
                f"GROUP BY c.channel, cm.month",
                [first, last, *params],
            )
            return cursor.fetchall()

    return on_demand("channels", filters, (first, last), fetch)  # type: ignore[no-any-return]


def _pre_added_periods(
    filters: Filters, key: tuple[str, str], first: date, last: date
) -> list[PeriodKpis]:
    """Quarters or years as the snapshot refresh added them up."""
    size = PERIOD_MONTHS[filters.period]
    periods: dict[date, PeriodKpis] = {}
    month = first
    while month <= last:
        periods[month] = PeriodKpis(start=month, end=month + relativedelta(months=size, days=-1))
        periods[month].to_date = month + relativedelta(months=size - 1) > last
        month += relativedelta(months=size)
    rows = MonthlySummary.objects.filter(
        period=filters.period,
        dimension=key[0],
        value=key[1],
        month__gte=first,
        month__lte=last,
    ).values_list("month", *SUMMARY_COLUMNS)
    for row in rows:
        target = periods.get(db_date(row[0]))
        if target is not None:
            fill_period(target, row[1:])
    return list(periods.values())


def _grouped(filters: Filters, monthly: list[PeriodKpis]) -> list[PeriodKpis]:
    """Quarters or years: flows add up; who was active at the start is asked per period."""
    size = PERIOD_MONTHS[filters.period]
    out: list[PeriodKpis] = []
    for i in range(0, len(monthly), size):
        chunk = monthly[i : i + size]
        period = PeriodKpis(
            start=chunk[0].start, end=chunk[0].start + relativedelta(months=size, days=-1)
        )
        period.to_date = len(chunk) < size
        for name in ("new", "expansion", "contraction", "churn", "reactivation"):
            setattr(period, name, sum((getattr(m, name) for m in chunk), ZERO))
        for name in ("renewals_due", "renewals_done", "acquired", "acquired_costed"):
            setattr(period, name, sum(getattr(m, name) for m in chunk))
        period.acquisition_cost = sum((m.acquisition_cost for m in chunk), ZERO)
        period.mrr_start, period.customers_start = chunk[0].mrr_start, chunk[0].customers_start
        period.mrr_end, period.customers_end = chunk[-1].mrr_end, chunk[-1].customers_end
        out.append(period)
    _start_cohorts(filters, out)
    return out


def _start_cohorts(filters: Filters, periods: list[PeriodKpis]) -> None:
    """Retained/churned/expanded and base changes of the customers active at each period's
    first month, for every period in one grouped query.

    Each customer-month row carries the customer's MRR at the end of its quarter and year,
    so this reads the periods' first months only.
    """
    if not periods:
        return
    t = tables()
    where, params = filters.customer_sql("cm.customer_id")
    and_where = f"AND {where}" if where else ""
    column = "quarter_end_mrr" if filters.period == "quarter" else "year_end_mrr"
    starts = [p.start for p in periods]
    marks = ", ".join(["%s"] * len(starts))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT cm.month, {period_base_select('cm.' + column)} "
            f"FROM {t['cm']} cm WHERE cm.month IN ({marks}) AND cm.mrr_start > 0 {and_where} "
            f"GROUP BY cm.month",
            [*starts, *params],
        )
        found = {db_date(r[0]): r[1:] for r in cursor.fetchall()}
    for period in periods:
        row = found.get(period.start) or (None,) * 6
        period.retained, period.churned, period.expanded = (int(v or 0) for v in row[:3])
        period.base_expansion, period.base_contraction, period.base_churn = (
            db_money(v) for v in row[3:]
        )


def freshness() -> dict[str, Any]:
    """When the snapshots were built and how long it took."""
    current = state()
    return {
        "built_at": current.built_at,
        "duration_ms": current.duration_ms,
        "stale_after": current.built_at + timedelta(hours=1) if current.built_at else None,
    }
