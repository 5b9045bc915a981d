"""Invoices and refunds land on the customer's timeline; failed payments become events."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from django.test import Client

from tend.accounts.models import AuditEntry
from tend.activity.models import DailyRollup, Event
from tend.billing.actions import order_create
from tend.billing.models import Subscription
from tend.customers.models import Customer, TimelineEntry
from tend.factories import make_customer
from tend.ingest.webhooks.tests import stripe_payloads as sp


def _timeline(msg: str) -> list[TimelineEntry]:
    return list(TimelineEntry.objects.filter(data__msg=msg).order_by("pk"))


def test_a_paid_invoice_goes_on_the_timeline_and_sets_first_paid(stripe_client: Client) -> None:
    response = sp.post(stripe_client, sp.event("invoice.paid", sp.invoice()))
    assert response.status_code == 200
    customer = Customer.objects.get()
    assert customer.name == "Acme GmbH"  # created from the invoice's customer fields
    assert customer.first_paid_at == datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    [entry] = _timeline("stripe_invoice_paid")
    assert entry.customer == customer
    assert entry.title == "Invoice A1B2C3D4-0001 paid: 49.00 USD"
    assert entry.data["subscription"] == "sub_1Example"


def test_a_free_invoice_does_not_count_as_a_first_payment(stripe_client: Client) -> None:
    sp.post(stripe_client, sp.event("invoice.paid", sp.invoice(amount=0)))
    assert Customer.objects.get().first_paid_at is None


def test_an_invoice_in_the_new_api_shape_finds_its_subscription(stripe_client: Client) -> None:
    inv = sp.invoice(
        subscription=None,
        parent={"type": "subscription_details", "subscription_details": {"subscription": "sub_X"}},
    )
    sp.post(stripe_client, sp.event("invoice.paid", inv))
    assert _timeline("stripe_invoice_paid")[0].data["subscription"] == "sub_X"


def test_a_failed_payment_becomes_an_event_a_timeline_entry_and_past_due(
    stripe_client: Client,
) -> None:
    sp.post(stripe_client, sp.event("customer.subscription.created", sp.subscription()))
    failed = sp.event("invoice.payment_failed", sp.invoice(status="open"), created=sp.T0 + 60)
    assert sp.post(stripe_client, failed).status_code == 200
    # Stripe then reports the subscription's move to past_due.
    past_due = sp.event(
        "customer.subscription.updated", sp.subscription(status="past_due"), created=sp.T0 + 61
    )
    sp.post(stripe_client, past_due)

    event = Event.objects.get()
    assert (event.name, event.source, event.message_id) == (
        "Payment Failed",
        "stripe",
        f"stripe:{failed['id']}",
    )
    assert event.properties["amount"] == "49.00" and event.properties["attempt_count"] == 1
    assert DailyRollup.objects.get(name="Payment Failed").count == 1
    [entry] = _timeline("stripe_payment_failed")
    assert entry.title == "Payment failed: 49.00 USD (attempt 1)"
    sub = Subscription.objects.get()
    assert sub.status == "past_due" and sub.mrr == Decimal("49.00")
    assert Customer.objects.get().mrr == Decimal("49.00")


def test_a_full_refund_marks_the_matching_order_refunded(stripe_client: Client) -> None:
    customer = make_customer(external_id="cus_Q1xExample")
    order = order_create(
        customer=customer, by=None, amount=Decimal("49"), external_id="ch_1Example"
    )
    sp.post(stripe_client, sp.event("charge.refunded", sp.charge()))
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("refunded", Decimal("49.00"))
    [entry] = _timeline("order_refunded")
    assert entry.title == "Refund: 49.00 USD" and entry.data["order"] == order.pk
    assert entry.data["charge"] == "ch_1Example"
    audit = AuditEntry.objects.get(action="order.refund")
    assert audit.actor_label == "stripe" and audit.object_id == str(order.pk)
    assert not _timeline("stripe_refund")


def test_a_refund_matches_an_order_by_payment_intent_too(stripe_client: Client) -> None:
    customer = make_customer(external_id="cus_Q1xExample")
    order = order_create(
        customer=customer, by=None, amount=Decimal("49"), external_id="pi_1Example"
    )
    sp.post(stripe_client, sp.event("charge.refunded", sp.charge()))
    order.refresh_from_db()
    assert order.status == "refunded"


def test_partial_refunds_add_up_on_the_order_until_it_is_refunded(stripe_client: Client) -> None:
    customer = make_customer(external_id="cus_Q1xExample")
    order = order_create(
        customer=customer, by=None, amount=Decimal("49"), external_id="ch_1Example"
    )
    # Stripe sends the charge's refunded total so far with every refund.
    first = sp.event("charge.refunded", sp.charge(refunded_amount=900))
    sp.post(stripe_client, first)
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("paid", Decimal("9.00"))
    assert _timeline("order_refunded")[0].title == "Partial refund: 9.00 USD"

    sp.post(stripe_client, sp.event("charge.refunded", sp.charge(refunded_amount=2900)))
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("paid", Decimal("29.00"))
    # A redelivery of the first refund (a new event id, as a resend from the dashboard)
    # adds nothing: 9.00 is already part of the 29.00 recorded.
    sp.post(stripe_client, sp.event("charge.refunded", sp.charge(refunded_amount=900)))
    sp.post(stripe_client, sp.event("charge.refunded", sp.charge(refunded_amount=4900)))
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("refunded", Decimal("49.00"))
    assert [e.data["amount"] for e in _timeline("order_refunded")] == ["9.00", "20.00", "20.00"]


def test_a_refund_without_an_order_is_still_on_the_timeline(stripe_client: Client) -> None:
    sp.post(stripe_client, sp.event("charge.refunded", sp.charge()))
    [entry] = _timeline("stripe_refund")
    assert entry.customer.external_id == "cus_Q1xExample" and entry.data["order"] is None
    assert entry.title == "Refund: 49.00 USD"


def test_a_partial_refund_without_an_order_says_so(stripe_client: Client) -> None:
    sp.post(stripe_client, sp.event("charge.refunded", sp.charge(refunded_amount=900)))
    assert _timeline("stripe_refund")[0].title == "Partial refund: 9.00 USD"
