"""Hand-made data for the health tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tend.activity.models import DailyRollup
from tend.billing.models import MrrMovement, Subscription
from tend.customers.models import Customer, TimelineEntry
from tend.factories import make_customer

AS_OF = date(2026, 6, 1)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def customer(name: str | None = None, *, signed_up: date = date(2025, 1, 1), **kw: Any) -> Customer:
    c = make_customer(name)
    Customer.objects.filter(pk=c.pk).update(signed_up_at=at(signed_up, 0), **kw)
    c.refresh_from_db()
    return c


def use(c: Customer, day: date, name: str = "Report Viewed", count: int = 1) -> None:
    DailyRollup.objects.update_or_create(customer=c, day=day, name=name, defaults={"count": count})


def use_days(
    c: Customer, days_before: range, name: str = "Report Viewed", *, end: date = AS_OF
) -> None:
    for k in days_before:
        use(c, end - timedelta(days=k), name)


def move(c: Customer, day: date, before: str, after: str, kind: str = "expansion") -> None:
    MrrMovement.objects.create(
        customer=c,
        at=at(day),
        kind=kind,
        amount=Decimal(after) - Decimal(before),
        mrr_before=Decimal(before),
        mrr_after=Decimal(after),
    )


def touch(c: Customer, day: date, kind: str = "note") -> None:
    TimelineEntry.objects.create(customer=c, kind=kind, at=at(day), body="hello")


def subscription(
    c: Customer,
    *,
    started: date,
    period_end: datetime,
    interval: str = "month",
    status: str = "active",
    canceled: datetime | None = None,
) -> Subscription:
    return Subscription.objects.create(
        customer=c,
        status=status,
        mrr=Decimal("100"),
        interval=interval,
        started_at=at(started),
        current_period_end=period_end,
        canceled_at=canceled,
    )
