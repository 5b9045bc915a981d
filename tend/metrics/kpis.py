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
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from tend.metrics import formulas
from tend.metrics.filters import PERIOD_MONTHS, Filters
from tend.metrics.models import MonthlySummary
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
    """``compute()``, remembered in this process until the snapshots are rebuilt.

    Views the pre-added summaries cannot answer (tags, several values, quarters and years)
    add up customer-month rows; the answer only changes when a refresh writes new rows, so
    it is kept under the build time of the snapshots it was computed from.
    """
    built = state().built_at
    # What the tiles compare changes no figure computed here: one entry serves both choices.
    same = replace(filters, compare="complete")
    raw = repr((name, same, extra, built.isoformat() if built else None))
    key = "tend-metrics:" + hashlib.sha256(raw.encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, timeout=ON_DEMAND_SECONDS)
    return found


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
    rows: Any
    if key is not None:
        rows = MonthlySummary.objects.filter(
            period="month", dimension=key[0], value=key[1], month__gte=first, month__lte=last
        ).values_list("month", *SUMMARY_COLUMNS)
    else:
        rows = _summary_rows(filters, first, last)
    for row in rows:
        target = months.get(db_date(row[0]))
        if target is not None:
            fill_period(target, row[1:])
    return list(months.values())


def fill_period(target: PeriodKpis, values: Any) -> None:
    for name, value in zip(SUMMARY_COLUMNS, values, strict=True):
        setattr(target, name, int(value or 0) if name in COUNT_COLUMNS else db_money(value))


def _summary_rows(filters: Filters, first: date, last: date) -> list[tuple[Any, ...]]:
    t = tables()
    where, params = filters.customer_sql("cm.customer_id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT cm.month, {SUMMARY_SELECT} FROM {t['cm']} cm "
            f"JOIN {t['c']} c ON c.id = cm.customer_id "
            f"WHERE cm.month >= %s AND cm.month <= %s AND {where} GROUP BY cm.month",
            [first, last, *params],
        )
        return cursor.fetchall()


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
        _start_cohort(filters, period, chunk[0].start, chunk[-1].start)
        out.append(period)
    return out


def _start_cohort(filters: Filters, period: PeriodKpis, first: date, last: date) -> None:
    """Retained/churned/expanded and base changes of the customers active at ``first``.

    Each customer-month row carries the customer's MRR at the end of its quarter and year,
    so this reads the period's first month only. ``last`` is kept for the signature.
    """
    t = tables()
    where, params = filters.customer_sql("cm.customer_id")
    and_where = f"AND {where}" if where else ""
    column = "quarter_end_mrr" if filters.period == "quarter" else "year_end_mrr"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {period_base_select('cm.' + column)} "
            f"FROM {t['cm']} cm WHERE cm.month = %s AND cm.mrr_start > 0 {and_where}",
            [first, *params],
        )
        row = cursor.fetchone() or (None,) * 6
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
