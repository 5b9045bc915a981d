"""A small world of customers with a past, written through the actions, for the feature and
training-set tests (owned by the features part of issue 19)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from tend.activity.actions import rollups_increment
from tend.billing.actions import subscription_cancel, subscription_update
from tend.customers.actions import customer_add_note, customer_change_stage
from tend.customers.models import Customer
from tend.factories import make_customer, make_plan, make_subscription

AT = date(2026, 6, 1)


def moment(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def use(customer: Customer, day: date, name: str = "Report Viewed", count: int = 1) -> None:
    rollups_increment({(customer.pk, day, name): count})


def paying_customer(
    *,
    started: date | datetime = date(2026, 1, 10),
    price: str = "49",
    traits: dict[str, Any] | None = None,
    **fields: Any,
) -> Any:
    """A customer who started paying on ``started`` and used the product a little since."""
    plan = make_plan(code=f"p{price}", price=price)
    customer = make_customer(traits=traits or {}, industry="software", size=12, **fields)
    when = started if isinstance(started, datetime) else moment(started, 9)
    sub = make_subscription(customer, plan, at=when)
    customer.refresh_from_db()
    return customer, sub


def churn(sub: Any, when: datetime) -> None:
    subscription_cancel(subscription=sub, by=None, at=when)


def expand(sub: Any, mrr: str, when: datetime) -> None:
    subscription_update(subscription=sub, by=None, at=when, mrr=Decimal(mrr))


def note(customer: Customer, when: datetime, body: str = "Called them") -> None:
    customer_add_note(customer=customer, by=None, body=body, at=when)


def stage(customer: Customer, to: str, when: datetime) -> None:
    customer.refresh_from_db()
    customer_change_stage(customer=customer, stage=to, by=None, at=when)


def history(customer: Customer, sub: Any, *, around: date = AT) -> None:
    """Usage, notes, a stage change and an expansion before ``around``."""
    for offset in (1, 2, 3, 5, 8, 13, 21, 34, 55, 70):
        use(customer, around - timedelta(days=offset), count=offset % 4 + 1)
    use(customer, around - timedelta(days=4), "Export Created", 2)
    use(customer, around - timedelta(days=10), "Payment Failed", 1)
    note(customer, moment(around - timedelta(days=15)))
    stage(customer, "adopting", moment(around - timedelta(days=40)))
    expand(sub, "79", moment(around - timedelta(days=20)))


def everything_after(customer: Customer, sub: Any, start: datetime) -> None:
    """Events, notes, stage changes, MRR movements, orders and scores from ``start`` on."""
    from tend.billing.actions import order_create

    day = start.date()
    use(customer, day, count=50)
    use(customer, day, "Payment Failed", 3)
    use(customer, day + timedelta(days=3), "Brand New Event", 7)
    note(customer, start)
    stage(customer, "at_risk", start)
    expand(sub, "199", start + timedelta(hours=1))
    order_create(customer=customer, by=None, amount=Decimal("10"), at=start)
    customer.refresh_from_db()


def world() -> dict[str, Any]:
    """Four customers around AT (2026-06-01):

    - ``active``: paying since January, uses the product, a note, a stage change, an expansion;
    - ``quiet``: paying since February, never used the product, never changed stage;
    - ``gone``: paid from January, churned 45 days before AT;
    - ``late``: starts paying 3 days after AT.
    """
    active, active_sub = paying_customer(
        started=date(2026, 1, 10),
        traits={"seats": 5, "tier": "gold", "churn_reason": "none"},
        signed_up_at=moment(date(2025, 12, 1)),
    )
    history(active, active_sub)
    quiet, quiet_sub = paying_customer(
        started=date(2026, 2, 15),
        price="99",
        traits={"seats": "7", "tier": "silver"},
        signed_up_at=moment(date(2026, 2, 1)),
    )
    gone, gone_sub = paying_customer(started=date(2026, 1, 5), price="19")
    use(gone, date(2026, 3, 1))
    churn(gone_sub, moment(AT - timedelta(days=45)))
    late, late_sub = paying_customer(started=AT + timedelta(days=3), price="29")
    for c in (active, quiet, gone, late):
        c.refresh_from_db()
    return {
        "active": (active, active_sub),
        "quiet": (quiet, quiet_sub),
        "gone": (gone, gone_sub),
        "late": (late, late_sub),
    }
