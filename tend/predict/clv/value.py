"""Discounted customer lifetime value from a purchase model and a spend model."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from tend.predict.clv._common import ArrayLike, FloatArray, as_array, check_frt

#: Periods in one month for each data unit, as in ``lifetimes.utils._customer_lifetime_value``
#: (week 4.345, day 30), so that our numbers can be compared with theirs.
PERIODS_PER_MONTH: dict[str, float] = {"day": 30.0, "week": 4.345, "month": 1.0}


class PurchaseModel(Protocol):
    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray: ...


def clv_discounted(
    model: PurchaseModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    spend: ArrayLike,
    *,
    months: int = 12,
    annual_discount_rate: float = 0.10,
    unit: str = "week",
    periods_per_month: float | None = None,
) -> FloatArray:
    """Discounted CLV per customer over the next ``months`` months.

    With f = periods per month (``periods_per_month``, else 4.345 for weeks, 30 for days, 1 for
    months), the monthly rate d = (1 + annual_discount_rate)^(1/12) − 1 and E(t) =
    ``model.expected_purchases(t, x, tₓ, T)``::

        CLV = Σ_{k=1..months}  spend · (E(k·f) − E((k−1)·f)) / (1 + d)^k

    i.e. each month's expected purchases times the expected value of a purchase (``spend``,
    usually ``GammaGammaFit.expected_spend``), discounted to today at the end of that month.
    This is exactly ``lifetimes``' ``customer_lifetime_value(..., time=months,
    discount_rate=d, freq="W"|"D"|"M")``, whose ``discount_rate`` is monthly; ours is yearly
    (10 % a year ≈ 0.797 % a month). ``spend`` is money per purchase, so CLV is in that currency.
    """
    x, tx, t_ = check_frt(frequency, recency, T)
    m = as_array(spend, "spend")
    if m.shape != x.shape:
        raise ValueError(f"spend: length {m.size}, expected {x.size}")
    if months < 1 or int(months) != months:
        raise ValueError("months: must be a whole number ≥ 1")
    if not np.isfinite(annual_discount_rate) or annual_discount_rate <= -1.0:
        raise ValueError("annual_discount_rate: must be a finite number > −1")
    if periods_per_month is None:
        if unit not in PERIODS_PER_MONTH:
            raise ValueError(f"unit: must be one of {', '.join(PERIODS_PER_MONTH)}, got {unit!r}")
        periods_per_month = PERIODS_PER_MONTH[unit]
    if not np.isfinite(periods_per_month) or periods_per_month <= 0:
        raise ValueError("periods_per_month: must be a positive number")
    monthly = (1.0 + annual_discount_rate) ** (1.0 / 12.0) - 1.0
    k = np.arange(0, int(months) + 1, dtype=np.float64)
    horizons = (k * periods_per_month)[:, None]
    cumulative = model.expected_purchases(horizons, x, tx, t_)  # (months+1, customers)
    per_month = np.diff(cumulative, axis=0)  # (months, customers)
    discount = (1.0 + monthly) ** -k[1:]
    return np.asarray(m * (discount @ per_month), dtype=np.float64)
