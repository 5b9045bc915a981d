"""Shop-like orders for the CLV app tests: customers who buy at their own rate until they
drop out (the BG/NBD story), from a fixed seed, up to ``AS_OF``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import numpy as np

from tend.billing.models import Order, OrderStatus
from tend.customers.models import Customer

AS_OF = date(2026, 3, 31)
WEEKS = 78


def build_shop(customers: int = 80, *, seed: int = 7, as_of: date = AS_OF) -> list[Customer]:
    """``customers`` customers, each with a first order in the 78 weeks up to ``as_of`` and
    repeat orders at a gamma-distributed weekly rate until a beta-distributed dropout.
    Every customer has at least one paid order; amounts around 40–120."""
    rng = np.random.default_rng(seed)
    made = Customer.objects.bulk_create(
        [
            Customer(name=f"Shopper {i:03d}", external_id=f"shop-{seed}-{i}")
            for i in range(customers)
        ]
    )
    end = datetime.combine(as_of, time(12), tzinfo=UTC)
    orders: list[Order] = []
    for customer in made:
        rate = rng.gamma(1.2, 1 / 4.0)  # purchases a week
        drop = rng.beta(1.0, 3.0)
        spend = rng.gamma(6.0, 12.0)
        week = rng.uniform(0, WEEKS)
        first = True
        while week < WEEKS:
            at = end - timedelta(days=(WEEKS - week) * 7)
            amount = Decimal(f"{max(5.0, rng.normal(spend, spend / 4)):.2f}")
            orders.append(Order(customer=customer, ordered_at=at, amount=amount, currency="USD"))
            if not first and rng.random() < drop:
                break
            first = False
            week += rng.exponential(1 / max(rate, 1e-3))
    Order.objects.bulk_create(orders)
    return made


def one_time_buyers(customers: int = 10) -> list[Customer]:
    """Customers with one paid order each: nobody to fit a repeat-purchase model on."""
    made = Customer.objects.bulk_create(
        [Customer(name=f"Once {i}", external_id=f"once-{i}") for i in range(customers)]
    )
    at = datetime.combine(AS_OF - timedelta(days=30), time(12), tzinfo=UTC)
    Order.objects.bulk_create(
        [
            Order(customer=c, ordered_at=at, amount=Decimal("30"), status=OrderStatus.PAID)
            for c in made
        ]
    )
    return made
