"""Probabilistic CLV from orders: paid orders → each customer's purchase summary → BG/NBD (or
Pareto/NBD) and Gamma-Gamma → expected purchases, P(alive), expected spend and discounted CLV.

The mathematics is tend.predict.clv's; this module gathers the data and the results, and
writes nothing (``tend.predict.clv_actions.clv_fit_run`` stores them).

**Orders.** Paid orders only (a pending order has not been paid, a refunded one was paid
back), valued net of partial refunds (amount − refunded amount) and converted to the
reporting currency (``TEND_CURRENCY``) at the rate in force on their day
(tend.billing.currency, like RFM). An order no rate covers still counts as a purchase and is
left out of the spend model; the fit counts how many (``diagnostics["unconverted"]``).

**Summary.** Orders in the half-open range [first order's day, ``as_of`` + 1 day) at 00:00 UTC.
Orders on one UTC day are one purchase (the models count purchase occasions). With t in
periods of ``TEND_CLV_PERIOD_DAYS`` days: x = purchase days − 1 (repeat purchases),
tₓ = (last purchase day − first) ÷ period, T = (calibration end − first) ÷ period, and m̄ =
the mean value of the repeat purchase days (the first purchase is left out, as Gamma-Gamma
assumes). Everything is done on numpy arrays after two queries (orders in the reporting
currency grouped by customer and day in the database; other currencies order by order).

**Holdout check.** The same model is fitted again on the orders before a cutoff (the last
third of the range, in whole periods, at most ``horizon_periods``), and the expected repeat
purchases after the cutoff, Σ E[X(t) | x, tₓ, T] with t the holdout length, are compared with
the purchase days that really came in [cutoff, calibration end), in total and by x.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import CharField, Count, DecimalField, ExpressionWrapper, F, Sum
from django.db.models.functions import Cast, Substr, TruncDate
from django.utils.translation import gettext_noop

from tend.billing.currency import CurrencyError, RateBook, reporting_currency
from tend.billing.models import Order, OrderStatus
from tend.predict import clv
from tend.predict.errors import NotEnoughData
from tend.predict.models import ClvFit, ClvModelKind, TrainingStatus

NOT_ENOUGH_REPEATERS = gettext_noop(
    "not enough data to fit CLV: {have} customers bought more than once, need {need}"
)
NOT_ENOUGH_SPEND = gettext_noop(
    "not enough data to fit the spend model: {have} repeat buyers with a known order value, "
    "need {need}"
)
# Bins of the P(alive) histogram and (at most) of the CLV histogram.
P_ALIVE_BINS = 10
CLV_BINS = 20
HOLDOUT_BUCKETS = 7  # x = 0, 1, …, 6, and 7 or more


def min_repeaters() -> int:
    """Customers who bought on at least two days, below which no fit is attempted."""
    return int(settings.TEND_CLV_MIN_REPEATERS)


def end_of(as_of: date) -> datetime:
    """The calibration range's exclusive end: the day after ``as_of`` at 00:00 UTC."""
    return datetime.combine(as_of + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


# --- orders → purchase days -------------------------------------------------------------


@dataclass
class PurchaseDays:
    """One row per customer and UTC day with a paid order, sorted by customer then day."""

    customer: np.ndarray  # int64
    day: np.ndarray  # int64, date.toordinal()
    value: np.ndarray  # float64, net value in the reporting currency (known part)
    known: np.ndarray  # bool: every order of the day could be valued
    orders: int
    unconverted: int

    @property
    def empty(self) -> bool:
        return len(self.customer) == 0


def purchase_days(*, end: datetime) -> PurchaseDays:
    """Every paid order placed before ``end``, as purchase days (see the module docstring).
    Two queries plus the exchange rates; no query per customer or per order."""
    paid = Order.objects.filter(status=OrderStatus.PAID, ordered_at__lt=end).order_by()
    net = ExpressionWrapper(
        F("amount") - F("refunded_amount"),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )
    home = reporting_currency()
    rows = list(
        paid.filter(currency__iexact=home)
        .annotate(day=_utc_day())
        .values("customer_id", "day")
        .annotate(total=Sum(net), n=Count("pk"))
        .values_list("customer_id", "day", "total", "n")
        .order_by()
    )
    customers = [r[0] for r in rows]
    days = [_ordinal(r[1]) for r in rows]
    values = [float(r[2] or 0) for r in rows]
    known = [True] * len(rows)
    orders = sum(r[3] for r in rows)
    unconverted = 0
    foreign = paid.exclude(currency__iexact=home)
    currencies = set(foreign.values_list("currency", flat=True).distinct())
    if currencies:
        book = RateBook.load(currencies)
        for customer_id, at, amount, currency in (
            foreign.annotate(net=net)
            .values_list("customer_id", "ordered_at", "net", "currency")
            .iterator(chunk_size=5000)
        ):
            orders += 1
            customers.append(customer_id)
            days.append(at.astimezone(UTC).date().toordinal())
            try:
                values.append(float(book.convert(amount, currency, at)))
                known.append(True)
            except CurrencyError:
                unconverted += 1
                values.append(0.0)
                known.append(False)
    c = np.asarray(customers, dtype=np.int64)
    d = np.asarray(days, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    k = np.asarray(known, dtype=bool)
    if len(c):
        # One row per (customer, day): orders in two currencies on one day are one purchase.
        order = np.lexsort((d, c))
        c, d, v, k = c[order], d[order], v[order], k[order]
        new = np.ones(len(c), dtype=bool)
        new[1:] = (c[1:] != c[:-1]) | (d[1:] != d[:-1])
        starts = np.flatnonzero(new)
        v = np.add.reduceat(v, starts)
        k = np.logical_and.reduceat(k, starts)
        c, d = c[starts], d[starts]
    return PurchaseDays(c, d, v, k, orders, unconverted)


def _utc_day() -> Any:
    """The UTC day of ``ordered_at`` in SQL. SQLite keeps a datetime as UTC text
    ("2026-03-31 10:00:00"), so its first ten characters are the day: no per-row Python call
    (TruncDate's) over hundreds of thousands of orders."""
    if connection.vendor == "sqlite":
        return Substr(Cast("ordered_at", output_field=CharField()), 1, 10)
    return TruncDate("ordered_at", tzinfo=UTC)


def _ordinal(day: date | str) -> int:
    return (day if isinstance(day, date) else date.fromisoformat(day)).toordinal()


@dataclass
class Summary:
    """Each customer's x, tₓ, T (in periods) and m̄, as arrays in customer order."""

    customer: np.ndarray
    x: np.ndarray
    tx: np.ndarray
    T: np.ndarray
    monetary: np.ndarray  # mean value of the known repeat purchase days; 0 when none
    spend_known: np.ndarray  # repeat purchase days with a known value

    @property
    def repeaters(self) -> int:
        return int((self.x > 0).sum())


def summarise(days: PurchaseDays, *, end_day: int, period_days: int) -> Summary:
    """The summary of the purchase days before ``end_day`` (an ordinal, exclusive)."""
    keep = days.day < end_day
    c, d, v, k = days.customer[keep], days.day[keep], days.value[keep], days.known[keep]
    if len(c) == 0:
        z = np.zeros(0)
        return Summary(np.zeros(0, dtype=np.int64), z, z, z, z, z)
    first_mask = np.ones(len(c), dtype=bool)
    first_mask[1:] = c[1:] != c[:-1]
    starts = np.flatnonzero(first_mask)
    ends = np.append(starts[1:], len(c)) - 1
    counts = ends - starts + 1
    first, last = d[starts], d[ends]
    repeat = ~first_mask & k
    value_sum = np.add.reduceat(np.where(repeat, v, 0.0), starts)
    known_n = np.add.reduceat(repeat.astype(np.int64), starts)
    with np.errstate(divide="ignore", invalid="ignore"):
        monetary = np.where(known_n > 0, value_sum / np.maximum(known_n, 1), 0.0)
    return Summary(
        customer=c[starts],
        x=(counts - 1).astype(np.float64),
        tx=(last - first) / period_days,
        T=(end_day - first) / period_days,
        monetary=monetary,
        spend_known=known_n.astype(np.float64),
    )


# --- the models -------------------------------------------------------------------------


def fit_purchases(kind: str, summary: Summary) -> Any:
    """The purchase model of ``kind`` fitted on ``summary``; NotEnoughData below the minimum."""
    need = min_repeaters()
    if summary.repeaters < need:
        raise NotEnoughData(have=summary.repeaters, need=need, message_id=NOT_ENOUGH_REPEATERS)
    fit = clv.fit_pareto_nbd if kind == ClvModelKind.PARETO else clv.fit_bgnbd
    return fit(summary.x, summary.tx, summary.T, min_repeaters=need)


def fit_spend(summary: Summary) -> Any:
    """Gamma-Gamma on the repeat buyers whose repeat purchases have a known, positive value
    (x = their valued repeat purchase days, m̄ = the mean of those)."""
    use = (summary.x > 0) & (summary.spend_known > 0) & (summary.monetary > 0)
    have, need = int(use.sum()), min_repeaters()
    if have < need:
        raise NotEnoughData(have=have, need=need, message_id=NOT_ENOUGH_SPEND)
    return clv.fit_gamma_gamma(summary.spend_known[use], summary.monetary[use], min_repeaters=need)


def periods_per_month(period_days: int) -> float:
    """Periods in a month: lifetimes' 4.345 weeks and 30 days, else 365.25 ÷ 12 ÷ days."""
    unit = {1: "day", 7: "week"}.get(period_days)
    if unit is not None:
        return float(clv.PERIODS_PER_MONTH[unit])
    return 365.25 / 12 / period_days


def horizon_months(horizon_periods: int, period_days: int) -> int:
    """The CLV horizon in whole months (52 weeks → 12), at least one."""
    return max(1, round(horizon_periods / periods_per_month(period_days)))


def discounted_clv(
    purchases: Any,
    summary: Summary,
    spend: np.ndarray,
    *,
    horizon: int,
    period_days: int,
    yearly: float,
) -> np.ndarray:
    """CLV = Σₖ₌₁ⁿ spend × (E[X(k·f)] − E[X((k − 1)·f)]) ÷ (1 + d)ᵏ over n months, f periods
    a month, d = (1 + yearly)^(1/12) − 1 (tend.predict.clv.clv_discounted)."""
    return np.asarray(
        clv.clv_discounted(
            purchases, summary.x, summary.tx, summary.T, spend,
            months=horizon_months(horizon, period_days),
            annual_discount_rate=yearly,
            periods_per_month=periods_per_month(period_days),
        )
    )  # fmt: skip


# --- one fit ----------------------------------------------------------------------------


@dataclass
class ClvResult:
    kind: str
    calibration_start: date
    calibration_end: date
    period_days: int
    horizon_periods: int
    discount_rate: float
    summary: Summary
    params: dict[str, float]
    spend_params: dict[str, float]
    log_likelihood: float
    spend_log_likelihood: float
    expected_purchases: np.ndarray
    p_alive: np.ndarray
    expected_spend: np.ndarray
    clv: np.ndarray
    diagnostics: dict[str, Any] = field(default_factory=dict)


def clv_compute(*, as_of: date, kind: str) -> ClvResult:
    """Fit the purchase and spend models on every paid order up to the end of ``as_of`` and
    predict each customer's next ``TEND_CLV_HORIZON_PERIODS`` periods. Raises NotEnoughData
    (with ``orders``/``unconverted`` in its params) when too few customers bought twice."""
    started = time.perf_counter()
    period = int(settings.TEND_CLV_PERIOD_DAYS)
    horizon = int(settings.TEND_CLV_HORIZON_PERIODS)
    yearly = float(settings.TEND_CLV_DISCOUNT_RATE)
    end = end_of(as_of)
    end_day = end.date().toordinal()
    days = purchase_days(end=end)
    summary = summarise(days, end_day=end_day, period_days=period)
    purchases = fit_purchases(kind, summary)
    spend_fit = fit_spend(summary)
    horizon_t = float(horizon)
    expected = np.asarray(purchases.expected_purchases(horizon_t, summary.x, summary.tx, summary.T))
    alive = np.asarray(purchases.p_alive(summary.x, summary.tx, summary.T))
    spend = np.asarray(
        spend_fit.expected_spend(summary.spend_known, np.where(summary.x > 0, summary.monetary, 0))
    )
    clv_values = discounted_clv(
        purchases, summary, spend, horizon=horizon, period_days=period, yearly=yearly
    )
    first_day = date.fromordinal(int(days.day.min()))
    result = ClvResult(
        kind=kind,
        calibration_start=first_day,
        calibration_end=end.date(),
        period_days=period,
        horizon_periods=horizon,
        discount_rate=yearly,
        summary=summary,
        params={k: float(v) for k, v in purchases.params.items()},
        spend_params={k: float(v) for k, v in spend_fit.params.items()},
        log_likelihood=float(purchases.log_likelihood),
        spend_log_likelihood=float(spend_fit.log_likelihood),
        expected_purchases=expected,
        p_alive=alive,
        expected_spend=spend,
        clv=clv_values,
    )
    result.diagnostics = {
        "orders": days.orders,
        "unconverted": days.unconverted,
        "purchase_days": len(days.day),
        **distribution(clv_values, alive),
        "holdout": holdout_check(days, kind=kind, first_day=first_day.toordinal(),
                                 end_day=end_day, period=period, horizon=horizon),
        "fit_seconds": round(time.perf_counter() - started, 3),
    }  # fmt: skip
    return result


def distribution(clv: np.ndarray, alive: np.ndarray) -> dict[str, Any]:
    """Histograms of CLV and P(alive), and the figures the page and the dashboard show (a
    value that is not a finite number, which a sound fit never gives, is left out)."""
    clv, alive = clv[np.isfinite(clv)], alive[np.isfinite(alive)]
    top = float(np.quantile(clv, 0.99)) if len(clv) else 0.0
    top = top if top > 0 else float(clv.max(initial=0.0)) or 1.0
    edges = np.linspace(0.0, top, CLV_BINS + 1)
    counts, _ = np.histogram(np.clip(clv, 0, top), bins=edges)
    alive_counts, alive_edges = np.histogram(alive, bins=P_ALIVE_BINS, range=(0.0, 1.0))
    return {
        "clv_mean": round(float(clv.mean()), 2) if len(clv) else None,
        "clv_median": round(float(np.median(clv)), 2) if len(clv) else None,
        "clv_total": round(float(clv.sum()), 2),
        "p_alive_mean": round(float(alive.mean()), 4) if len(alive) else None,
        "clv_histogram": {
            "edges": [round(float(e), 2) for e in edges],
            "counts": [int(n) for n in counts],
            "above": int((clv > top).sum()),
        },
        "p_alive_histogram": {
            "edges": [round(float(e), 2) for e in alive_edges],
            "counts": [int(n) for n in alive_counts],
        },
    }


def holdout_check(
    days: PurchaseDays, *, kind: str, first_day: int, end_day: int, period: int, horizon: int
) -> dict[str, Any]:
    """Fit on the purchase days before a cutoff, compare expected and actual repeat purchases
    after it (see the module docstring); a dict with ``status`` "trained" or the reason."""
    span_periods = (end_day - first_day) // period
    holdout_periods = min(horizon, span_periods // 3)
    if holdout_periods < 1:
        return {
            "status": TrainingStatus.NOT_ENOUGH_DATA,
            "message_id": gettext_noop(
                "the orders cover {have} periods; the holdout check needs {need}"
            ),
            "params": {"have": span_periods, "need": 3},
        }
    cutoff = end_day - holdout_periods * period
    calibration = summarise(days, end_day=cutoff, period_days=period)
    try:
        fit = fit_purchases(kind, calibration)
    except NotEnoughData as exc:
        return {
            "status": TrainingStatus.NOT_ENOUGH_DATA,
            "message_id": exc.message_id,
            "params": exc.params,
            "cutoff": date.fromordinal(cutoff).isoformat(),
        }
    t = float(holdout_periods)
    expected = np.asarray(fit.expected_purchases(t, calibration.x, calibration.tx, calibration.T))
    # Actual: purchase days in [cutoff, end) of the customers seen before the cutoff.
    after = (days.day >= cutoff) & (days.day < end_day)
    seen = np.isin(days.customer, calibration.customer)
    ids, counts = np.unique(days.customer[after & seen], return_counts=True)
    actual = np.zeros(len(calibration.customer))
    actual[np.searchsorted(calibration.customer, ids)] = counts
    buckets = np.minimum(calibration.x, HOLDOUT_BUCKETS).astype(int)
    rows = []
    for b in range(HOLDOUT_BUCKETS + 1):
        sel = buckets == b
        n = int(sel.sum())
        if n:
            rows.append(
                {
                    "x": b,
                    "or_more": b == HOLDOUT_BUCKETS,
                    "customers": n,
                    "expected": round(float(np.nanmean(expected[sel])), 4),
                    "actual": round(float(actual[sel].mean()), 4),
                }
            )
    total_expected, total_actual = float(np.nansum(expected)), float(actual.sum())
    return {
        "status": TrainingStatus.TRAINED,
        "cutoff": date.fromordinal(cutoff).isoformat(),
        "end": date.fromordinal(end_day).isoformat(),
        "periods": holdout_periods,
        "customers": len(calibration.customer),
        "params": {k: float(v) for k, v in fit.params.items()},
        "expected": round(total_expected, 2),
        "actual": int(total_actual),
        "error": round((total_expected - total_actual) / total_actual, 4) if total_actual else None,
        "by_x": rows,
    }


# --- the dashboard's CLV tile -------------------------------------------------------------


def order_based_clv(series: list[Any]) -> dict[str, Any] | None:
    """For a business that sells mainly by order: over the range of ``series``, paid orders
    (net of refunds, in the reporting currency) brought in at least as much as subscriptions
    (Σ MRR at each period's end × the period's months), and a trained CLV fit exists. Then
    the dashboard's CLV is the mean predicted CLV of the fit's customers
    (``clv_probabilistic``); otherwise None and the subscription figures stand alone.
    At most two queries (the order revenue is kept for a few minutes: the dashboard asks
    for every acquisition channel's range too)."""
    if not series:
        return None
    start, end = series[0].start, series[-1].end
    subscriptions = sum(
        (
            Decimal(p.mrr_end or 0)
            * ((p.end.year - p.start.year) * 12 + p.end.month - p.start.month + 1)
            for p in series
        ),
        Decimal(0),
    )
    orders = order_revenue(start, end)
    if orders <= 0 or orders < subscriptions:
        return None
    fit = ClvFit.objects.filter(status=TrainingStatus.TRAINED).order_by("-fitted_at", "-id").first()
    if fit is None or fit.diagnostics.get("clv_mean") is None:
        return None
    return {
        "clv_probabilistic": Decimal(str(fit.diagnostics["clv_mean"])).quantize(Decimal("0.01")),
        "clv_probabilistic_customers": fit.customers,
    }


ORDER_REVENUE_SECONDS = 300


def order_revenue(start: date, end: date) -> Decimal:
    """Paid orders' revenue net of refunds in the reporting currency, placed from ``start``
    to ``end`` (both days included, UTC); remembered for ORDER_REVENUE_SECONDS."""
    key = f"tend-clv:order-revenue:{start.isoformat()}:{end.isoformat()}:{reporting_currency()}"
    found = cache.get(key)
    if found is None:
        net = ExpressionWrapper(
            F("amount") - F("refunded_amount"),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        )
        found = Order.objects.filter(
            status=OrderStatus.PAID,
            currency__iexact=reporting_currency(),
            ordered_at__gte=datetime.combine(start, datetime.min.time(), tzinfo=UTC),
            ordered_at__lt=end_of(end),
        ).aggregate(total=Sum(net))["total"] or Decimal(0)
        cache.set(key, found, timeout=ORDER_REVENUE_SECONDS)
    return Decimal(found)
