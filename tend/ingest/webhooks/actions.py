"""Applying Stripe webhook events to customers, subscriptions, orders and the MRR ledger.

``stripe_event_receive`` is the one entry point: it claims the event id, applies the event
in the same transaction through the billing and customer actions (so the MRR ledger is only
ever written by ``customer_mrr_sync``), records the outcome and counts the event in the
data-quality ledger.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tend.activity.actions import rollups_rebuild
from tend.activity.models import Event
from tend.billing.actions import (
    CurrencyError,
    order_refund,
    plan_upsert,
    subscription_create,
    subscription_update,
)
from tend.billing.models import Order, OrderStatus, Plan, Subscription
from tend.customers.actions import customer_update, timeline_add
from tend.customers.models import Customer, TimelineKind
from tend.ingest.actions import stats_add
from tend.ingest.models import Source
from tend.ingest.webhooks.customers import LABEL, customer_fields, stripe_customer_for
from tend.ingest.webhooks.models import EventOutcome, StripeEvent
from tend.ingest.webhooks.stripe_objects import (
    PlanTerms,
    from_timestamp,
    object_id,
    subscription_terms,
    to_major,
)

log = logging.getLogger(__name__)

# The data-quality reason of an event refused for a missing exchange rate.
NO_EXCHANGE_RATE = "no_exchange_rate"

# Events whose object state replaces the previous state wholesale: an older one arriving
# after a newer one was applied would roll the object back, so it is skipped.
STATEFUL_TYPES = frozenset(
    {
        "customer.created",
        "customer.updated",
        "customer.subscription.created",
        "customer.subscription.updated",
    }
)


@dataclass(frozen=True)
class Received:
    outcome: str
    duplicate: bool = False


class EventError(ValueError):
    """The event JSON does not have the shape of a Stripe event."""


def parse_event(data: Any) -> dict[str, Any]:
    """Check the envelope of a Stripe event; raise EventError naming what is wrong."""
    if not isinstance(data, dict):
        raise EventError("the body must be a JSON object (a Stripe event)")
    if data.get("object", "event") != "event":
        raise EventError("object must be 'event'")
    for key in ("id", "type"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise EventError(f"{key} must be a non-empty string")
    if not isinstance(data.get("created"), int) or isinstance(data.get("created"), bool):
        raise EventError("created must be a unix timestamp (integer)")
    obj = (data.get("data") or {}).get("object") if isinstance(data.get("data"), dict) else None
    if not isinstance(obj, dict):
        raise EventError("data.object must be an object")
    return data


def stripe_event_receive(*, event: dict[str, Any]) -> Received:
    """Apply one verified Stripe event exactly once. Raises if applying it failed.

    A subscription in a currency with no exchange rate for the event's day raises
    CurrencyError: nothing of the event is kept, it is recorded as failed and counted as
    rejected (``no_exchange_rate``), so Stripe's next delivery applies it once a rate exists.

    The claim (insert of the event id) and the changes commit together: a crash leaves
    neither, and Stripe's retry starts afresh. A failure is recorded in its own transaction
    afterwards so a later retry can find and re-run it.
    """
    at = from_timestamp(event["created"]) or timezone.now()
    obj: dict[str, Any] = event["data"]["object"]
    try:
        with transaction.atomic():
            row = _claim(event=event, obj=obj, at=at)
            if row is None:
                outcome = None
            else:
                outcome = _apply(event=event, obj=obj, at=at)
                row.outcome = outcome
                row.error = ""
                row.processed_at = timezone.now()
                row.save(update_fields=["outcome", "error", "processed_at"])
    except Exception as exc:
        missing_rate = isinstance(exc, CurrencyError)
        if missing_rate:
            # Not a bug: the founder has to add a rate. The view answers 422, Stripe retries.
            log.warning("Stripe event %s (%s) refused: %s", event["id"], event["type"], exc)
        else:
            log.exception("Stripe event %s (%s) failed", event["id"], event["type"])
        with transaction.atomic():
            StripeEvent.objects.update_or_create(
                event_id=event["id"],
                defaults={
                    "type": event["type"][:100],
                    "object_id": object_id(obj)[:255],
                    "created": at,
                    "livemode": bool(event.get("livemode")),
                    "outcome": EventOutcome.FAILED,
                    "error": f"{type(exc).__name__}: {exc}"[:4000],
                    "processed_at": None,
                },
            )
        reason = NO_EXCHANGE_RATE if missing_rate else "processing_error"
        stats_add(source=Source.STRIPE, rejected={reason: 1})
        raise
    if outcome is None:
        stats_add(source=Source.STRIPE, duplicates=1)
        log.info("Stripe event %s (%s) is a redelivery", event["id"], event["type"])
        return Received(outcome="duplicate", duplicate=True)
    stats_add(source=Source.STRIPE, accepted=1)
    log.info("Stripe event %s (%s): %s", event["id"], event["type"], outcome)
    return Received(outcome=outcome)


def _claim(*, event: dict[str, Any], obj: dict[str, Any], at: datetime) -> StripeEvent | None:
    """Insert the event's row, or take over a failed one; None when it was already applied."""
    try:
        with transaction.atomic():
            return StripeEvent.objects.create(
                event_id=event["id"],
                type=event["type"][:100],
                object_id=object_id(obj)[:255],
                created=at,
                livemode=bool(event.get("livemode")),
                outcome=EventOutcome.PROCESSED,  # provisional; only visible once committed
            )
    except IntegrityError:
        pass
    # Locked so two retries of a failed event do not both run; the second waits and then
    # sees the first one's outcome.
    row = StripeEvent.objects.select_for_update().get(event_id=event["id"])
    return row if row.outcome == EventOutcome.FAILED else None


def _apply(*, event: dict[str, Any], obj: dict[str, Any], at: datetime) -> str:
    handler = HANDLERS.get(event["type"])
    if handler is None:
        return EventOutcome.IGNORED
    if event["type"] in STATEFUL_TYPES and _newer_applied(event=event, obj=obj, at=at):
        return EventOutcome.STALE
    return handler(obj, at, event)


def _newer_applied(*, event: dict[str, Any], obj: dict[str, Any], at: datetime) -> bool:
    """True when a later event about the same object was applied already."""
    return (
        StripeEvent.objects.filter(
            object_id=object_id(obj),
            created__gt=at,
            type__in=STATEFUL_TYPES | {"customer.subscription.deleted"},
            outcome=EventOutcome.PROCESSED,
        )
        .exclude(event_id=event["id"])
        .exists()
    )


# --- customers --------------------------------------------------------------------------------


def _customer_hint(obj: dict[str, Any]) -> dict[str, Any]:
    """What an invoice or charge tells about its customer, shaped like a customer object."""
    billing = obj.get("billing_details") or {}
    return {
        "email": obj.get("customer_email") or billing.get("email"),
        "name": obj.get("customer_name") or billing.get("name"),
        "phone": obj.get("customer_phone") or billing.get("phone"),
    }


def on_customer(obj: dict[str, Any], at: datetime, event: dict[str, Any]) -> str:
    customer = stripe_customer_for(str(obj.get("id") or ""), at=at, hint=obj)
    fields = customer_fields(obj)
    metadata = obj.get("metadata") or {}
    traits = {**customer.traits, **{str(k): v for k, v in metadata.items()}}
    traits["stripe_customer_id"] = obj.get("id")
    fields["traits"] = traits
    customer_update(customer=customer, by=None, label=LABEL, **fields)
    return EventOutcome.PROCESSED


# --- subscriptions ------------------------------------------------------------------------------


def stripe_plan_for(terms: PlanTerms | None) -> Plan | None:
    """The plan for a Stripe price (code = price id), created or updated only when it changed."""
    if terms is None:
        return None
    plan = Plan.objects.filter(code=terms.code).first()
    if plan is not None and (plan.name, plan.price, plan.interval, plan.currency) == (
        terms.name,
        terms.price,
        terms.interval,
        terms.currency,
    ):
        return plan  # unchanged: no write, no audit row per event
    return plan_upsert(
        code=terms.code,
        name=terms.name,
        price=terms.price,
        interval=terms.interval,
        currency=terms.currency,
        label=LABEL,
    )


def on_subscription(obj: dict[str, Any], at: datetime, event: dict[str, Any]) -> str:
    terms = subscription_terms(obj, at=at)
    stripe_id = str(obj.get("id") or "")
    subscription = (
        Subscription.objects.select_related("customer").filter(external_id=stripe_id).first()
    )
    if terms.status is None:
        # A status Stripe added after this code was written: keep what is stored.
        log.warning("Stripe subscription %s has an unknown status %r", stripe_id, obj.get("status"))
        return EventOutcome.IGNORED
    fields: dict[str, Any] = {
        "status": terms.status,
        "mrr": terms.mrr,
        "currency": terms.currency,
        "interval": terms.interval,
        "quantity": terms.quantity,
        "trial_ends_at": terms.trial_ends_at,
        "current_period_end": terms.current_period_end,
        "canceled_at": terms.canceled_at,
    }
    plan = stripe_plan_for(terms.plan)
    if subscription is None:
        customer = stripe_customer_for(object_id(obj.get("customer")), at=at)
        subscription_create(
            customer=customer,
            by=None,
            label=LABEL,
            plan=plan,
            at=at,
            external_id=stripe_id,
            started_at=terms.started_at or at,
            **fields,
        )
    else:
        if plan is not None:
            fields["plan"] = plan
        subscription_update(
            subscription=subscription,
            by=None,
            label=LABEL,
            at=terms.canceled_at or at,
            **fields,
        )
    return EventOutcome.PROCESSED


# --- invoices and charges -----------------------------------------------------------------------


def _invoice_subscription(obj: dict[str, Any]) -> str:
    # ``subscription`` until API version 2025-03-31; then under parent.subscription_details.
    parent = ((obj.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    return object_id(obj.get("subscription") or parent)


def _money(amount: Any, currency: str) -> str:
    return f"{to_major(amount, currency):.2f}"


def on_invoice_paid(obj: dict[str, Any], at: datetime, event: dict[str, Any]) -> str:
    customer = stripe_customer_for(object_id(obj.get("customer")), at=at, hint=_customer_hint(obj))
    currency = str(obj.get("currency") or settings.TEND_CURRENCY).upper()
    paid_at = from_timestamp((obj.get("status_transitions") or {}).get("paid_at")) or at
    amount = _money(obj.get("amount_paid"), currency)
    timeline_add(
        customer=customer,
        kind=TimelineKind.SUBSCRIPTION,
        at=paid_at,
        title=f"Invoice {obj.get('number') or obj.get('id')} paid: {amount} {currency}",
        data={
            "msg": "stripe_invoice_paid",
            "invoice": obj.get("id"),
            "number": obj.get("number"),
            "amount": amount,
            "currency": currency,
            "subscription": _invoice_subscription(obj),
            "url": obj.get("hosted_invoice_url"),
        },
    )
    if (obj.get("amount_paid") or 0) > 0:
        # Conditional update: concurrent events cannot overwrite an earlier first payment.
        Customer.objects.filter(pk=customer.pk, first_paid_at__isnull=True).update(
            first_paid_at=paid_at
        )
        Customer.objects.filter(pk=customer.pk, first_paid_at__gt=paid_at).update(
            first_paid_at=paid_at
        )
    return EventOutcome.PROCESSED


def on_invoice_payment_failed(obj: dict[str, Any], at: datetime, event: dict[str, Any]) -> str:
    customer = stripe_customer_for(object_id(obj.get("customer")), at=at, hint=_customer_hint(obj))
    currency = str(obj.get("currency") or settings.TEND_CURRENCY).upper()
    amount = _money(obj.get("amount_due"), currency)
    properties = {
        "invoice": obj.get("id"),
        "number": obj.get("number"),
        "amount": amount,
        "currency": currency,
        "attempt_count": obj.get("attempt_count"),
        "next_payment_attempt": obj.get("next_payment_attempt"),
        "subscription": _invoice_subscription(obj),
        "billing_reason": obj.get("billing_reason"),
    }
    Event.objects.create(
        customer=customer,
        name="Payment Failed",
        timestamp=at,
        properties=properties,
        # The Stripe event id: a redelivery can never store the event twice.
        message_id=f"stripe:{event['id']}"[:100],
        source="stripe",
    )
    rollups_rebuild(since=at.date(), customer_ids=[customer.pk])
    timeline_add(
        customer=customer,
        kind=TimelineKind.SUBSCRIPTION,
        at=at,
        title=f"Payment failed: {amount} {currency} (attempt {obj.get('attempt_count') or 1})",
        data={"msg": "stripe_payment_failed", **properties},
    )
    # Stripe reports the subscription's own move to past_due (or unpaid) as a separate
    # customer.subscription.updated event, which updates the status and keeps the ledger.
    return EventOutcome.PROCESSED


def on_charge_refunded(obj: dict[str, Any], at: datetime, event: dict[str, Any]) -> str:
    customer = stripe_customer_for(object_id(obj.get("customer")), at=at, hint=_customer_hint(obj))
    currency = str(obj.get("currency") or settings.TEND_CURRENCY).upper()
    full = bool(obj.get("refunded"))
    keys = [
        k
        for k in (
            object_id(obj.get("id")),
            object_id(obj.get("payment_intent")),
            object_id(obj.get("invoice")),
        )
        if k
    ]
    order = Order.objects.filter(external_id__in=keys, customer=customer).first() if keys else None
    if order is not None:
        # ``amount_refunded`` is the charge's refunded total so far, and the order keeps what
        # it knows already: only the difference is new, so each refund is recorded once.
        if order.status == OrderStatus.PAID:
            left = order.amount - order.refunded_amount
            total = to_major(obj.get("amount_refunded"), currency)
            new = left if full else min(total - order.refunded_amount, left)
            if new > Decimal(0):
                order_refund(
                    order=order,
                    by=None,
                    label=LABEL,
                    amount=new,
                    at=at,
                    note={"charge": obj.get("id")},
                )
        return EventOutcome.PROCESSED
    refunded = _money(obj.get("amount_refunded"), currency)
    timeline_add(
        customer=customer,
        kind=TimelineKind.ORDER,
        at=at,
        title=f"{'Refund' if full else 'Partial refund'}: {refunded} {currency}",
        data={
            "msg": "stripe_refund",
            "charge": obj.get("id"),
            "amount": refunded,
            "currency": currency,
            "full": full,
            "order": None,
        },
    )
    return EventOutcome.PROCESSED


Handler = Callable[[dict[str, Any], datetime, dict[str, Any]], str]

HANDLERS: dict[str, Handler] = {
    "customer.created": on_customer,
    "customer.updated": on_customer,
    "customer.subscription.created": on_subscription,
    "customer.subscription.updated": on_subscription,
    "customer.subscription.deleted": on_subscription,
    "invoice.paid": on_invoice_paid,
    "invoice.payment_failed": on_invoice_payment_failed,
    "charge.refunded": on_charge_refunded,
}
