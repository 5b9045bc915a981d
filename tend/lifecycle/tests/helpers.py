"""Hand-made customers for the lifecycle tests: each one a line of billing and health facts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from tend.billing.actions import subscription_cancel, subscription_update
from tend.billing.models import Subscription
from tend.changes.actions import change_record
from tend.customers.models import Customer, Stage, StageChange
from tend.factories import make_customer, make_plan, make_subscription
from tend.health.models import CustomerHealth


def now() -> datetime:
    # A whole second: comparisons at exact boundaries stay exact on both databases.
    return timezone.now().replace(microsecond=0)


def paying(
    name: str,
    *,
    days: float,
    at: datetime,
    stage: str = Stage.TRIAL,
    interval: str = "month",
    renews_in: float | None = None,
) -> Customer:
    """A customer whose first (and only) subscription started ``days`` before ``at``."""
    plan = make_plan(code=f"p-{interval}", price="120" if interval == "year" else "50",
                     interval=interval)  # fmt: skip
    customer = make_customer(name, stage=stage, signed_up_at=at - timedelta(days=days + 10))
    start = at - timedelta(days=days)
    fields = {}
    if renews_in is not None:
        fields["current_period_end"] = at + timedelta(days=renews_in)
    make_subscription(customer, plan, at=start, **fields)
    customer.refresh_from_db()
    return customer


def subscription(customer: Customer) -> Subscription:
    return Subscription.objects.filter(customer=customer).order_by("pk").first()  # type: ignore[return-value]


def expand(customer: Customer, *, at: datetime) -> None:
    sub = subscription(customer)
    subscription_update(subscription=sub, by=None, at=at, mrr=sub.mrr + Decimal("25"))
    customer.refresh_from_db()


def cancel(customer: Customer, *, at: datetime) -> None:
    subscription_cancel(subscription=subscription(customer), by=None, at=at)
    customer.refresh_from_db()


def health(customer: Customer, colour: str, *, since: date, score: int = 50) -> None:
    CustomerHealth.objects.update_or_create(
        customer=customer,
        defaults={"day": since, "score": score, "colour": colour, "colour_since": since},
    )


def set_stage(customer: Customer, stage: str) -> None:
    """Put a customer in a stage without history (a starting point for a test)."""
    Customer.objects.filter(pk=customer.pk).update(stage=stage)
    customer.refresh_from_db()


def record_manual_move(customer: Customer, *, to: str, by_id: int | None, at: datetime) -> None:
    """What the customers app writes to the outbox when a person moves a customer."""
    change = StageChange.objects.filter(customer=customer).order_by("-pk").first()
    change_record(
        customer_id=customer.pk,
        kind="stage",
        key=f"stage:{change.pk if change else 0}:{to}:{at.isoformat()}",
        data={"from": customer.stage, "to": to, "manual": True, "by": by_id, "reason": {}},
        at=at,
    )


def skip_pending_changes() -> None:
    """Mark every outbox row as read by every registered consumer (building a customer leaves
    rows for its subscription and MRR), so a test decides which change the consumers see."""
    from tend.changes.actions import changes_consume
    from tend.changes.consumers import consumers

    for consumer in consumers:
        changes_consume(consumer.name, lambda rows: None)
