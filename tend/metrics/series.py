"""Metric series for dashboards, API, CLI and goals: one place reads the snapshots.

``kpi_series(filters)`` gives one ``PeriodKpis`` per month (or quarter or year) in the
filters' range. Unfiltered and single plan/channel/country views read the pre-added
``MonthlySummary`` rows; any other filter (tags, several values, combinations) adds up the
``CustomerMonth`` rows of the matching customers in the database. Both give the same numbers
(tested). Every rate comes from ``tend.metrics.formulas``, where each formula is written once.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tend.customers.channels import channel_choices, channel_labels
from tend.customers.models import Customer, Tag
from tend.metrics import formulas
from tend.metrics.models import CohortCell, Dimension, MonthlySummary
from tend.metrics.snapshots import (
    DIMENSION_SQL,
    SUMMARY_COLUMNS,
    SUMMARY_SELECT,
    _day,
    _money,
    cohort_rows,
    month_of,
    months_between,
    next_month,
    period_base_select,
    state,
    tables,
)

PERIODS = ("month", "quarter", "year")
PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}
DEFAULT_PERIODS = {"month": 12, "quarter": 8, "year": 5}
MAX_PERIODS = 120
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


class FilterError(ValueError):
    """A filter value that cannot be used; ``field`` names the parameter. ``code`` is
    ``unknown`` for a well-formed name of nothing stored (a plan, a tag), ``range`` for values
    that are each fine but not together (start after end), else ``invalid``."""

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Filters:
    """Which customers and which months a metric covers.

    ``start``/``end`` are months (any day in the month); the range is whole periods.
    Customers are picked by their current plan, channel, country and tags.
    """

    period: str = "month"
    start: date | None = None
    end: date | None = None
    plans: tuple[int, ...] = ()
    channels: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Filters:
        """Filters from query parameters (lists or comma-separated); FilterError names the field."""

        def many(name: str) -> tuple[str, ...]:
            raw = data.getlist(name) if hasattr(data, "getlist") else data.get(name) or []
            if isinstance(raw, str):
                raw = [raw]
            out: list[str] = []
            for item in raw:
                out.extend(v.strip() for v in str(item).split(",") if v.strip())
            return tuple(dict.fromkeys(out))

        period = str(data.get("period") or "month")
        if period not in PERIODS:
            raise FilterError(
                "period", _("must be one of %(choices)s") % {"choices": ", ".join(PERIODS)}
            )
        start, end = _month_param(data, "start"), _month_param(data, "end")
        if start and end and start > end:
            raise FilterError("start", _("must not be after end"), code="range")
        try:
            plans = tuple(int(v) for v in many("plan"))
        except ValueError:
            raise FilterError("plan", _("plan ids are whole numbers")) from None
        if plans:
            from tend.billing.models import Plan

            known_plans = set(Plan.objects.filter(pk__in=plans).values_list("pk", flat=True))
            unknown = [p for p in plans if p not in known_plans]
            if unknown:
                raise FilterError(
                    "plan", _("no plan with id %(value)s") % {"value": unknown[0]}, code="unknown"
                )
        countries = tuple(v.upper() for v in many("country"))
        for country in countries:
            if not re.fullmatch("[A-Z]{2}", country):  # not isalpha(): "ÉÉ" is no ISO code
                raise FilterError(
                    "country",
                    _("“%(value)s” is not a two-letter country code") % {"value": country},
                )
        channels = many("channel")
        known = set(channel_labels())
        for channel in channels:
            if channel not in known:
                raise FilterError(
                    "channel",
                    _("unknown channel “%(value)s”; your channels: %(allowed)s")
                    % {"value": channel, "allowed": ", ".join(sorted(known))},
                    code="unknown",
                )
        tags = many("tag")
        if tags:
            found = set(Tag.objects.filter(name__in=tags).values_list("name", flat=True))
            missing = [t for t in tags if t not in found]
            if missing:
                raise FilterError(
                    "tag", _("unknown tag “%(value)s”") % {"value": missing[0]}, code="unknown"
                )
        return cls(period, start, end, plans, channels, countries, tags)

    def months(self, *, today: date | None = None) -> tuple[date, date]:
        """First and last month of the range, aligned to whole periods."""
        size = PERIOD_MONTHS[self.period]
        end = month_of(self.end or today or timezone.now())
        end = _period_start(end, self.period) + relativedelta(months=size - 1)
        if self.start is not None:
            start = _period_start(month_of(self.start), self.period)
        else:
            start = _period_start(end, self.period) - relativedelta(
                months=size * (DEFAULT_PERIODS[self.period] - 1)
            )
        if months_between(start, end) + 1 > MAX_PERIODS * size:
            raise FilterError(
                "start",
                _("at most %(count)d periods at a time") % {"count": MAX_PERIODS},
                code="range",
            )
        return start, end

    def is_filtered(self) -> bool:
        return bool(self.plans or self.channels or self.countries or self.tags)

    def summary_key(self) -> tuple[str, str] | None:
        """The pre-added (dimension, value) these customer filters match, if any."""
        chosen = [
            (Dimension.PLAN, self.plans),
            (Dimension.CHANNEL, self.channels),
            (Dimension.COUNTRY, self.countries),
            ("tag", self.tags),
        ]
        used = [(dim, values) for dim, values in chosen if values]
        if not used:
            return (Dimension.ALL, "")
        if len(used) == 1 and len(used[0][1]) == 1 and used[0][0] != "tag":
            return (str(used[0][0]), str(used[0][1][0]))
        return None

    def customer_sql(self, column: str = "c.id") -> tuple[str, list[Any]]:
        """A SQL condition "``column`` IN (matching customer ids)" with its parameters.

        Written as an IN over a sub-select so the database can walk the matching customers'
        rows through the (customer, month) index instead of every row of the months.
        """
        parts: list[str] = []
        params: list[Any] = []
        for name, values in (
            ("f.plan_id", self.plans),
            ("f.channel", self.channels),
            ("f.country", self.countries),
        ):
            if values:
                parts.append(f"{name} IN ({', '.join(['%s'] * len(values))})")
                params.extend(values)
        if self.tags:
            through = Customer.tags.through._meta.db_table
            tag_table = Tag._meta.db_table
            parts.append(
                f"f.id IN (SELECT ct.customer_id FROM {through} ct JOIN {tag_table} t "
                f"ON t.id = ct.tag_id WHERE t.name IN ({', '.join(['%s'] * len(self.tags))}))"
            )
            params.extend(self.tags)
        if not parts:
            return "", []
        table = Customer._meta.db_table
        return f"{column} IN (SELECT f.id FROM {table} f WHERE {' AND '.join(parts)})", params

    def customers(self) -> QuerySet[Customer]:
        """The customers these filters pick (by current plan, channel, country, tags)."""
        qs = Customer.objects.all()
        if self.plans:
            qs = qs.filter(plan_id__in=self.plans)
        if self.channels:
            qs = qs.filter(channel__in=self.channels)
        if self.countries:
            qs = qs.filter(country__in=self.countries)
        if self.tags:
            qs = qs.filter(
                pk__in=Customer.tags.through.objects.filter(tag__name__in=self.tags).values(
                    "customer_id"
                )
            )
        return qs

    def as_query(self) -> dict[str, Any]:
        """The filters as query parameters (for links, exports and the API)."""
        out: dict[str, Any] = {"period": self.period}
        if self.start:
            out["start"] = self.start.strftime("%Y-%m")
        if self.end:
            out["end"] = self.end.strftime("%Y-%m")
        for name, values in (
            ("plan", self.plans),
            ("channel", self.channels),
            ("country", self.countries),
            ("tag", self.tags),
        ):
            if values:
                out[name] = [str(v) for v in values]
        return out


def _month_param(data: Mapping[str, Any], name: str) -> date | None:
    raw = data.get(name)
    if raw in (None, ""):
        return None
    text = str(raw).strip()
    try:
        if len(text) == 7:
            return datetime.strptime(text, "%Y-%m").date()
        return month_of(date.fromisoformat(text))
    except ValueError:
        raise FilterError(
            name, _("“%(value)s” is not a month (YYYY-MM)") % {"value": text}
        ) from None


def _period_start(month: date, period: str) -> date:
    if period == "quarter":
        return month.replace(month=(month.month - 1) // 3 * 3 + 1)
    if period == "year":
        return month.replace(month=1)
    return month


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


def _on_demand(name: str, filters: Filters, extra: Any, compute: Any) -> Any:
    """``compute()``, remembered in this process until the snapshots are rebuilt.

    Views the pre-added summaries cannot answer (tags, several values, quarters and years)
    add up customer-month rows; the answer only changes when a refresh writes new rows, so
    it is kept under the build time of the snapshots it was computed from.
    """
    built = state().built_at
    raw = repr((name, filters, extra, built.isoformat() if built else None))
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
        for p in _on_demand("series", filters, today, lambda: _kpi_series(filters, today=today))
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


def _empty_months(first: date, last: date) -> dict[date, PeriodKpis]:
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
    months = _empty_months(first, last)
    key = filters.summary_key()
    rows: Any
    if key is not None:
        rows = MonthlySummary.objects.filter(
            period="month", dimension=key[0], value=key[1], month__gte=first, month__lte=last
        ).values_list("month", *SUMMARY_COLUMNS)
    else:
        rows = _summary_rows(filters, first, last)
    for row in rows:
        target = months.get(_day(row[0]))
        if target is not None:
            _fill(target, row[1:])
    return list(months.values())


def _fill(target: PeriodKpis, values: Any) -> None:
    for name, value in zip(SUMMARY_COLUMNS, values, strict=True):
        setattr(target, name, int(value or 0) if name in COUNT_COLUMNS else _money(value))


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
        target = periods.get(_day(row[0]))
        if target is not None:
            _fill(target, row[1:])
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
    period.base_expansion, period.base_contraction, period.base_churn = (_money(v) for v in row[3:])


# --- headline tiles --------------------------------------------------------------------


@dataclass
class Tile:
    key: str
    value: Any
    previous: Any
    change: float | None  # % change for amounts, percentage points for rates
    change_kind: str  # "percent" | "points" | ""


TILE_KEYS = (
    "mrr",
    "arr",
    "net_new_mrr",
    "customers",
    "arpa",
    "logo_churn",
    "revenue_churn",
    "crr",
    "grr",
    "nrr",
    "cer",
    "renewal_rate",
    "cac",
)


def tiles(series: list[PeriodKpis]) -> list[Tile]:
    """Headline figures of the last period with their change against the period before."""
    if not series:
        return []
    current = series[-1].metrics
    previous = series[-2].metrics if len(series) > 1 else {}
    out = []
    for key in TILE_KEYS:
        unit = formulas.FORMULAS[key].unit if key in formulas.FORMULAS else "count"
        value, before = current.get(key), previous.get(key)
        if unit == "percent":
            change = formulas.point_change(current=value, previous=before)
            kind = "points"
        else:
            change = formulas.percent_change(current=value, previous=before)
            kind = "percent"
        out.append(Tile(key, value, before, change, kind if change is not None else ""))
    return out


# --- lifetime value and acquisition -----------------------------------------------------


@dataclass
class ChannelRow:
    channel: str
    acquired: int
    acquisition_cost: Decimal
    customers: int
    mrr: Decimal
    cac: Decimal | None
    arpa: Decimal | None
    monthly_churn: float | None
    ltv: Decimal | None
    ltv_cac: float | None
    payback_months: float | None


def average_monthly_churn(series: list[PeriodKpis]) -> float | None:
    """Mean monthly logo churn: Σ churned ÷ Σ customers active at start, over the months."""
    active = sum(p.customers_start for p in series)
    churned = sum(p.churned for p in series)
    months = sum(months_between(p.start, p.end) + 1 for p in series) / max(len(series), 1)
    rate = formulas.logo_churn_rate(active_at_start=active, churned=churned)
    if rate is None:
        return None
    return rate / months if months else rate


def lifetime_value(series: list[PeriodKpis]) -> dict[str, Any]:
    """Simple subscription CLV and LTV:CAC over the range of ``series``."""
    margin = gross_margin()
    last = series[-1] if series else PeriodKpis(start=date.today(), end=date.today())
    churn = average_monthly_churn(series)
    arpa = formulas.arpa(mrr=last.mrr_end, customers=last.customers_end)
    acquired = sum(p.acquired for p in series)
    costed = sum(p.acquired_costed for p in series)
    cost = sum((p.acquisition_cost for p in series), ZERO)
    cac = formulas.cac(acquisition_cost=cost, customers_acquired=costed)
    ltv = None
    if arpa is not None and churn:
        ltv = formulas.clv_simple(arpa=arpa, gross_margin=margin, monthly_churn_rate=churn)
    return {
        **discounted_clv(arpa=arpa, monthly_churn=churn, gross_margin=margin),
        "gross_margin": margin,
        "monthly_churn": churn,
        "arpa": arpa,
        "clv_simple": ltv,
        "acquired": acquired,
        "acquisition_cost": cost,
        "cac": cac,
        "ltv_cac": formulas.ltv_to_cac(ltv=ltv, cac=cac) if ltv is not None and cac else None,
        "cac_payback": formulas.cac_payback_months(cac=cac, arpa=arpa, gross_margin=margin)
        if cac is not None and arpa
        else None,
    }


def discounted_clv(
    *, arpa: Decimal | None, monthly_churn: float | None, gross_margin: Decimal
) -> dict[str, Any]:
    """Discounted CLV over the expected customer lifetime in years.

    R₁ is a year's gross profit per account (ARPA × 12 × gross margin), growing by
    ``TEND_CLV_GROWTH_RATE`` a year and discounted by ``TEND_CLV_DISCOUNT_RATE`` a year, over
    n = 1 ÷ yearly churn years (rounded, 1 to 10), where yearly churn = 1 − (1 − monthly)¹².
    """
    discount = Decimal(settings.TEND_CLV_DISCOUNT_RATE)
    growth = Decimal(settings.TEND_CLV_GROWTH_RATE)
    out: dict[str, Any] = {
        "clv_discounted": None,
        "clv_years": None,
        "clv_discount_rate": discount,
        "clv_growth_rate": growth,
    }
    if arpa is None or not monthly_churn:
        return out
    yearly = 1 - (1 - min(monthly_churn, 100.0) / 100) ** 12
    years = max(1, min(10, round(1 / yearly)))
    out["clv_years"] = years
    out["clv_discounted"] = formulas.clv_discounted(
        first_period_revenue=(arpa * 12 * gross_margin).quantize(Decimal("0.01")),
        growth=growth,
        discount_rate=discount,
        periods=years,
    )
    return out


def by_channel(filters: Filters, *, today: date | None = None) -> list[ChannelRow]:
    """CAC, ARPA, churn, LTV and LTV:CAC per acquisition channel over the range.

    One query for all channels: the per-channel summaries, or (with other customer filters)
    the matching customer-month rows added up per channel and month.
    """
    # Every channel of the founder's list in their order (archived ones too: their customers
    # still count), then built-in codes a flushed or restored database may lack.
    ordered = [code for code, _label in channel_choices(include_archived=True)]
    chosen = filters.channels or tuple(dict.fromkeys([*ordered, *channel_labels()]))
    first, last = filters.months(today=today)
    last = min(last, month_of(today or timezone.now()))
    if last < first:
        return []
    rows: Any
    if not (filters.plans or filters.countries or filters.tags):
        rows = MonthlySummary.objects.filter(
            period="month",
            dimension=Dimension.CHANNEL,
            value__in=chosen,
            month__gte=first,
            month__lte=last,
        ).values_list("value", "month", *SUMMARY_COLUMNS)
    else:
        t = tables()
        where, params = filters.customer_sql("cm.customer_id")

        def fetch() -> list[tuple[Any, ...]]:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT c.channel, cm.month, {SUMMARY_SELECT} FROM {t['cm']} cm "
                    f"JOIN {t['c']} c ON c.id = cm.customer_id "
                    f"WHERE cm.month >= %s AND cm.month <= %s AND {where} "
                    f"GROUP BY c.channel, cm.month",
                    [first, last, *params],
                )
                return cursor.fetchall()

        rows = _on_demand("channels", filters, (first, last), fetch)
    per_channel: dict[str, dict[date, PeriodKpis]] = {}
    for channel, month, *values in rows:
        months = per_channel.get(channel)
        if months is None:
            months = per_channel[channel] = _empty_months(first, last)
        target = months.get(_day(month))
        if target is not None:
            _fill(target, values)
    margin = gross_margin()
    out: list[ChannelRow] = []
    for channel in chosen:
        if channel not in per_channel:
            continue
        monthly = [p.compute(gross_margin=margin) for p in per_channel[channel].values()]
        value = lifetime_value(monthly)
        end = monthly[-1]
        if not value["acquired"] and not end.customers_end and not end.customers_start:
            continue
        out.append(
            ChannelRow(
                channel=channel,
                acquired=value["acquired"],
                acquisition_cost=value["acquisition_cost"],
                customers=end.customers_end,
                mrr=end.mrr_end,
                cac=value["cac"],
                arpa=value["arpa"],
                monthly_churn=value["monthly_churn"],
                ltv=value["clv_simple"],
                ltv_cac=value["ltv_cac"],
                payback_months=value["cac_payback"],
            )
        )
    return out


@dataclass
class ChannelMonth:
    channel: str
    month: date
    acquired: int
    acquisition_cost: Decimal
    cac: Decimal | None


def cac_by_channel_month(filters: Filters, *, today: date | None = None) -> list[ChannelMonth]:
    """CAC per acquisition channel and month: Σ acquisition cost ÷ customers acquired.

    A customer is acquired in the month it first paid; its cost is ``acquisition_cost``.
    """
    first, last = filters.months(today=today)
    last = min(last, month_of(today or timezone.now()))
    out: list[ChannelMonth] = []
    if not (filters.plans or filters.countries or filters.tags):  # per-channel summaries
        rows: Any = (
            MonthlySummary.objects.filter(
                period="month",
                dimension=Dimension.CHANNEL,
                month__gte=first,
                month__lte=last,
                acquired__gt=0,
            )
            .filter(**({"value__in": filters.channels} if filters.channels else {}))
            .order_by("value", "month")
            .values_list("value", "month", "acquired", "acquisition_cost", "acquired_costed")
        )
    else:
        t = tables()
        where, params = filters.customer_sql("cm.customer_id")
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT c.channel, cm.month, COUNT(*), SUM(COALESCE(c.acquisition_cost, 0)), "
                f"SUM(CASE WHEN c.acquisition_cost IS NOT NULL THEN 1 ELSE 0 END) "
                f"FROM {t['cm']} cm JOIN {t['c']} c ON c.id = cm.customer_id "
                f"WHERE cm.age = 0 AND cm.month >= %s AND cm.month <= %s AND {where} "
                f"GROUP BY c.channel, cm.month ORDER BY c.channel, cm.month",
                [first, last, *params],
            )
            rows = cursor.fetchall()
    for channel, month, acquired, cost, costed in rows:
        money = _money(cost)
        out.append(
            ChannelMonth(
                channel=channel,
                month=_day(month),
                acquired=int(acquired),
                acquisition_cost=money,
                cac=formulas.cac(acquisition_cost=money, customers_acquired=int(costed or 0)),
            )
        )
    return out


def referral_rate(filters: Filters) -> dict[str, Any]:
    """Customers who referred at least one new customer ÷ all customers (matching filters).

    Counted over the customer table (two counts over every customer at 100,000 customers
    took 60 ms on PostgreSQL), so the answer is kept per process until the next snapshot
    build, like the other figures the page shows "as of" that build.
    """

    def count() -> dict[str, Any]:
        customers = filters.customers()
        total = customers.count()
        referred = Customer.objects.filter(referred_by__isnull=False).values("referred_by_id")
        referrers = customers.filter(pk__in=referred).count()
        return {
            "customers": total,
            "referrers": referrers,
            "referral_rate": formulas.referral_rate(referrers=referrers, customers=total),
        }

    return dict(_on_demand("referrals", filters, None, count))


# --- cohorts and survival ------------------------------------------------------------


@dataclass
class CohortRow:
    cohort: date
    customers: int
    first_mrr: Decimal
    logo: list[float | None]  # % still paying after k months (None: not reached yet)
    revenue: list[float | None]  # MRR after k months ÷ first MRR, %


def cohorts(filters: Filters, *, today: date | None = None) -> list[CohortRow]:
    """Monthly signup cohorts in the range × months since start, logo and revenue retention."""
    first, last = filters.months(today=today)
    key = filters.summary_key()
    if key is not None:
        cells = CohortCell.objects.filter(
            dimension=key[0], value=key[1], cohort__gte=first, cohort__lte=last
        ).values_list("cohort", "age", "cohort_customers", "cohort_mrr", "active", "mrr")
        raw = [(c, a, s, b, act, m) for c, a, s, b, act, m in cells]
    else:
        where, params = filters.customer_sql("cm.customer_id")
        rows = _on_demand(
            "cohorts",
            filters,
            (first, last),
            lambda: cohort_rows(
                "''", f"cm.cohort >= %s AND cm.cohort <= %s AND {where}", [first, last, *params]
            ),
        )
        raw = [(c, a, s, b, act, m) for _v, c, a, s, b, act, m in rows]
    this_month = month_of(today or timezone.now())
    table: dict[date, CohortRow] = {}
    for cohort, age, size, base, active, mrr in raw:
        cohort = _day(cohort)
        row = table.get(cohort)
        if row is None:
            width = months_between(cohort, this_month) + 1
            row = table[cohort] = CohortRow(
                cohort, size, _money(base), [0.0] * width, [0.0] * width
            )
        if age < len(row.logo):
            row.logo[age] = round(active * 100 / size, 1) if size else None
            row.revenue[age] = (
                round(float(_money(mrr) * 100 / row.first_mrr), 1) if row.first_mrr else None
            )
    return [table[c] for c in sorted(table)]


def survival(filters: Filters, *, by: str = "all", now: datetime | None = None) -> dict[str, Any]:
    """Kaplan–Meier curves: all customers, or one curve per plan or channel (``by``)."""
    if by not in ("all", "plan", "channel"):
        raise FilterError("by", _("must be all, plan or channel"))
    key = filters.summary_key()
    if key == (Dimension.ALL, ""):
        stored = state().survival.get(by)
        if stored is not None:
            return stored
    from tend.metrics.survival import curves

    group = {"all": "''", "plan": DIMENSION_SQL[Dimension.PLAN], "channel": "c.channel"}[by]
    where, params = filters.customer_sql("l.customer_id")
    at = now or timezone.now()
    return _on_demand(  # type: ignore[no-any-return]
        "survival",
        filters,
        (by, at.date()),
        lambda: curves(group=group, where=where, params=params, now=at),
    )


def freshness() -> dict[str, Any]:
    """When the snapshots were built and how long it took."""
    current = state()
    return {
        "built_at": current.built_at,
        "duration_ms": current.duration_ms,
        "stale_after": current.built_at + timedelta(hours=1) if current.built_at else None,
    }
