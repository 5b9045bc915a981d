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
from tend.changes.actions import change_record
from tend.changes.models import ChangeKind
from tend.customers.actions import customer_update, timeline_add
from tend.customers.models import Customer, TimelineKind
from tend.ingest.actions import stats_add
from tend.ingest.models import Source
from tend.ingest.webhooks.customers import (
    LABEL,
    customer_field_changes,
    customer_fields,
    stripe_customer_for,
)
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


# A Stripe event is a few levels deep (event → data → object → items → data → price → …);
# nothing Stripe sends comes near this, and a deeper document is refused before it is walked.
MAX_DEPTH = 64
# Lengths of the envelope strings Tend stores (StripeEvent.event_id, type).
MAX_ID_LENGTH = 255
MAX_TYPE_LENGTH = 100
# Stripe object ids become external ids of customers, subscriptions and orders (120
# characters); real ones are about 30. Checked under these keys at any depth of the event.
MAX_OBJECT_ID_LENGTH = 120
MAX_TIMESTAMP = 253_402_300_799  # 9999-12-31 23:59:59 UTC
OBJECT_ID_KEYS = frozenset(
    {"id", "customer", "subscription", "invoice", "charge", "payment_intent"}
)


class EventError(ValueError):
    """The event JSON does not have the shape of a Stripe event; ``field`` names where."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def parse_event(data: Any) -> dict[str, Any]:
    """Check the envelope of a Stripe event; raise EventError naming what is wrong.

    Before anything is stored, every string in the event (keys too) is checked for what a
    database cannot hold (NUL characters, lone UTF-16 surrogates), the document's nesting for
    ``MAX_DEPTH``, and the ids Tend stores for their column lengths (the event id 255
    characters, its type 100, Stripe object ids 120).
    """
    if not isinstance(data, dict):
        raise EventError("the body must be a JSON object (a Stripe event)")
    _check_strings(data)
    if data.get("object", "event") != "event":
        raise EventError("object must be 'event'", "object")
    for key, limit in (("id", MAX_ID_LENGTH), ("type", MAX_TYPE_LENGTH)):
        if not isinstance(data.get(key), str) or not data[key]:
            raise EventError(f"{key} must be a non-empty string", key)
        if len(data[key]) > limit:
            raise EventError(f"{key} may not be longer than {limit} characters", key)
    created = data.get("created")
    if not isinstance(created, int) or isinstance(created, bool):
        raise EventError("created must be a unix timestamp (integer)", "created")
    if not 0 <= created <= MAX_TIMESTAMP:
        raise EventError("created must be a unix timestamp between 1970 and 9999", "created")
    obj = (data.get("data") or {}).get("object") if isinstance(data.get("data"), dict) else None
    if not isinstance(obj, dict):
        raise EventError("data.object must be an object", "data.object")
    return data


def _check_strings(data: dict[str, Any]) -> None:
    """Refuse NUL characters and lone surrogates anywhere, and nesting over ``MAX_DEPTH``.

    Iterative (a stack, not recursion), so no document can exhaust Python's stack here.
    """
    stack: list[tuple[str, Any, int]] = [("", data, 1)]
    while stack:
        path, value, depth = stack.pop()
        if isinstance(value, str):
            _check_text(value, path)
            key = path.rpartition(".")[2]
            if key in OBJECT_ID_KEYS and path != "id" and len(value) > MAX_OBJECT_ID_LENGTH:
                raise EventError(
                    f"{path} may not be longer than {MAX_OBJECT_ID_LENGTH} characters", path
                )
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise EventError(f"the event is nested deeper than {MAX_DEPTH} levels", path)
        if isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                _check_text(str(key), child)
                stack.append((child, item, depth + 1))
        else:
            stack.extend((f"{path}[{n}]", item, depth + 1) for n, item in enumerate(value))


def _check_text(text: str, path: str) -> None:
    if "\x00" in text:
        raise EventError(f"{path} contains a NUL character", path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise EventError(f"{path} contains a lone UTF-16 surrogate", path) from None


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
    changes = customer_field_changes(obj) if obj.get("object") == "customer" else []
    if changes:  # stored, with a value changed to fit: a warning, never silent
        stats_add(source=Source.STRIPE, flagged={changes[0]: 1})
    else:
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
    # Keyed by the Stripe event id, like the event above: one row however often it comes.
    change_record(
        customer_id=customer.pk,
        kind=ChangeKind.PAYMENT_FAILED,
        key=f"payment_failed:{event['id']}",
        data=properties,
        at=at,
    )
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
