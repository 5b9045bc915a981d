"""Stripe's changes reach the customer-change outbox once, however often Stripe sends them."""

from __future__ import annotations

from django.test import Client

from tend.changes.models import CustomerChange
from tend.customers.models import Customer
from tend.ingest.webhooks.tests import stripe_payloads as sp


def _kinds() -> list[str]:
    return list(CustomerChange.objects.order_by("id").values_list("kind", flat=True))


def test_a_failed_payment_is_one_row_keyed_by_the_stripe_event_even_when_redelivered(
    stripe_client: Client,
) -> None:
    failed = sp.event("invoice.payment_failed", sp.invoice(status="open"), created=sp.T0 + 60)
    assert sp.post(stripe_client, failed).status_code == 200
    assert sp.post(stripe_client, failed).status_code == 200  # a redelivery
    [row] = CustomerChange.objects.filter(kind="payment_failed")
    assert row.key == f"payment_failed:{failed['id']}"
    assert row.customer == Customer.objects.get()
    assert (row.data["amount"], row.data["currency"], row.data["attempt_count"]) == (
        "49.00",
        "USD",
        1,
    )


def test_a_subscription_event_records_created_subscription_and_mrr_once(
    stripe_client: Client,
) -> None:
    created = sp.event("customer.subscription.created", sp.subscription())
    sp.post(stripe_client, created)
    sp.post(stripe_client, created)
    kinds = _kinds()
    assert kinds.count("subscription") == 1 and kinds.count("mrr") == 1
    assert kinds.count("created") == 1
    canceled = sp.event(
        "customer.subscription.deleted",
        sp.subscription(status="canceled", canceled_at=sp.T0 + 100),
        created=sp.T0 + 100,
    )
    sp.post(stripe_client, canceled)
    sp.post(stripe_client, canceled)
    rows = CustomerChange.objects.filter(kind="subscription").order_by("id")
    assert [r.data["action"] for r in rows] == ["created", "canceled"]
    assert [r.data["kind"] for r in CustomerChange.objects.filter(kind="mrr")] == [
        "new",
        "churn",
    ]
