"""Plant subscription customers whose lifetimes follow a known sBG (tests and the benchmark).

Each customer starts in one of the last ``months`` months, draws θ ~ Beta(α, β) (halved on the
Annual plan, so its hazard ratio is about 0.5) and churns in month T ~ Geometric(θ); those
whose churn is still in the future are paying now.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np

from tend.billing.models import Plan
from tend.customers.models import Customer
from tend.metrics.models import CustomerLife

MONTH = timedelta(days=30.4375)


def plan_rows() -> tuple[Plan, Plan]:
    from tend.factories import make_plan

    monthly = Plan.objects.filter(code="monthly").first() or make_plan("monthly", name="Monthly")
    annual = Plan.objects.filter(code="annual").first() or make_plan(
        "annual", name="Annual", price="490", interval="year"
    )
    return monthly, annual


def plant_lives(
    n: int,
    *,
    now: datetime,
    months: int = 24,
    alpha: float = 0.7,
    beta: float = 2.0,
    annual_share: float = 0.3,
    seed: int = 7,
    batch: int = 5000,
) -> int:
    rng = np.random.default_rng(seed)
    monthly, annual = plan_rows()
    theta = rng.beta(alpha, beta, n)
    is_annual = rng.random(n) < annual_share
    theta = np.where(is_annual, theta * 0.5, theta)
    churn_month = np.minimum(rng.geometric(np.clip(theta, 1e-9, 1)), 10_000)  # T ≥ 1
    age = rng.random(n) * months
    started = [now - MONTH * float(a) for a in age]
    channels = rng.choice(["ads", "referral", "organic"], n, p=[0.5, 0.2, 0.3])
    countries = rng.choice(["US", "DE", "CN"], n, p=[0.6, 0.25, 0.15])
    first = Customer.objects.order_by("-id").values_list("id", flat=True).first() or 0
    made = 0
    for low in range(0, n, batch):
        high = min(n, low + batch)
        customers = [
            Customer(
                name=f"Planted {first + i}",
                external_id=f"planted_{first + i}",
                plan=annual if is_annual[i] else monthly,
                channel=str(channels[i]),
                country=str(countries[i]),
                mrr=Decimal("49"),
                first_paid_at=started[i],
            )
            for i in range(low, high)
        ]
        Customer.objects.bulk_create(customers, batch_size=1000)
        ids = list(
            Customer.objects.filter(external_id__startswith="planted_")
            .order_by("-id")
            .values_list("id", flat=True)[: high - low]
        )[::-1]
        lives = []
        for offset, pk in enumerate(ids):
            i = low + offset
            end = started[i] + MONTH * (float(churn_month[i]) - 0.5)
            lives.append(
                CustomerLife(
                    customer_id=pk, started_at=started[i], churned_at=end if end <= now else None
                )
            )
        CustomerLife.objects.bulk_create(lives, batch_size=1000)
        made += high - low
    return made
