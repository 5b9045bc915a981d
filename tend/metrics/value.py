"""Lifetime value, acquisition cost and referrals over a range of periods."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Q

from tend.customers.models import Customer
from tend.metrics import formulas
from tend.metrics.filters import Filters
from tend.metrics.kpis import ZERO, PeriodKpis, gross_margin, on_demand
from tend.metrics.snapshots import months_between


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
    """Simple subscription CLV and LTV:CAC over the range of ``series``; for a business that
    sells by order, also ``clv_probabilistic`` (tend.predict.clv_fit.order_based_clv)."""
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
    # A business that sells by order (no MRR): the mean probabilistic CLV of its latest fit.
    from tend.predict.clv_fit import order_based_clv

    by_orders = order_based_clv(series) or {}
    return {
        **by_orders,
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
        # Subscription CLV from the sBG retention projection (tend/predict/retention.py).
        **_sbg_clv(arpa=arpa, gross_margin=margin),
    }


def _sbg_clv(*, arpa: Decimal | None, gross_margin: Decimal) -> dict[str, Any]:
    from tend.predict.retention import sbg_clv  # the engines do not import predict at load

    return sbg_clv(arpa=arpa, gross_margin=gross_margin)


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


def referral_rate(filters: Filters) -> dict[str, Any]:
    """Customers who referred at least one new customer ÷ all customers (matching filters).

    Counted over the customer table (two counts over every customer at 100,000 customers
    took 60 ms on PostgreSQL), so the answer is kept per process until the next snapshot
    build, like the other figures the page shows "as of" that build.
    """

    def count() -> dict[str, Any]:
        referred = Customer.objects.filter(referred_by__isnull=False).values("referred_by_id")
        found = filters.customers().aggregate(
            total=Count("pk"), referrers=Count("pk", filter=Q(pk__in=referred))
        )
        total, referrers = int(found["total"]), int(found["referrers"])
        return {
            "customers": total,
            "referrers": referrers,
            "referral_rate": formulas.referral_rate(referrers=referrers, customers=total),
        }

    return dict(on_demand("referrals", filters, None, count))
