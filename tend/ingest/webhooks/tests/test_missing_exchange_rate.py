"""A subscription in a currency with no exchange rate: 422 naming the currency, nothing kept,
and the same event applied when Stripe delivers it again after the founder added a rate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.test import Client

from tend.billing.actions import exchange_rate_set
from tend.billing.models import MrrMovement, Plan, Subscription
from tend.customers.models import Customer
from tend.ingest.models import IngestStat
from tend.ingest.queries import data_quality
from tend.ingest.webhooks.models import StripeEvent
from tend.ingest.webhooks.tests import stripe_payloads as sp


def _count(outcome: str, reason: str = "") -> int:
    row = IngestStat.objects.filter(source="stripe", outcome=outcome, reason=reason).first()
    return row.count if row else 0


def _eur_subscription_event() -> dict[str, object]:
    p = sp.price("price_1Euro", unit_amount=10000, currency="eur")  # 100 EUR a month
    return sp.event(
        "customer.subscription.created",
        sp.subscription(items=[sp.item(p)], currency="eur"),
    )


def test_a_missing_rate_is_a_422_naming_the_currency_and_a_retry_applies_it(
    stripe_client: Client, member_client: Client
) -> None:
    body = _eur_subscription_event()

    refused = sp.post(stripe_client, body)
    assert refused.status_code == 422
    answer = refused.json()
    assert answer["error"] == "no_exchange_rate"
    assert (answer["field"], answer["currency"], answer["date"]) == (
        "currency",
        "EUR",
        "2026-01-01",
    )
    assert "tend rates set EUR" in answer["detail"] and "--from 2026-01-01" in answer["detail"]
    # Nothing of the event was kept: no customer, plan, subscription or movement.
    assert not Customer.objects.exists() and not Plan.objects.exists()
    assert not Subscription.objects.exists() and not MrrMovement.objects.exists()
    row = StripeEvent.objects.get()
    assert row.outcome == "failed" and "no exchange rate for EUR" in row.error
    assert _count("rejected", "no_exchange_rate") == 1 and _count("accepted") == 0
    # The data-quality page lists the reason.
    assert any(r["reason"] == "no_exchange_rate" for r in data_quality(days=30).reasons)
    page = member_client.get("/data-quality/").content.decode()
    assert "no_exchange_rate" in page

    exchange_rate_set(currency="EUR", rate="1.08", valid_from=date(2026, 1, 1), by=None)
    retried = sp.post(stripe_client, body)  # Stripe delivers the same event again
    assert retried.status_code == 200 and retried.json()["outcome"] == "processed"
    sub = Subscription.objects.get()
    assert (sub.mrr, sub.currency) == (Decimal("100.00"), "EUR")
    customer = Customer.objects.get()
    assert customer.mrr == Decimal("108.00")
    movement = MrrMovement.objects.get()
    assert (movement.kind, movement.amount, movement.currency) == ("new", Decimal("108.00"), "USD")
    assert StripeEvent.objects.get().outcome == "processed"
    assert _count("accepted") == 1 and _count("rejected", "no_exchange_rate") == 1


def test_a_rate_that_starts_after_the_event_does_not_cover_it(stripe_client: Client) -> None:
    exchange_rate_set(currency="EUR", rate="1.08", valid_from=date(2026, 1, 2), by=None)
    refused = sp.post(stripe_client, _eur_subscription_event())  # sent on 2026-01-01
    assert refused.status_code == 422 and refused.json()["date"] == "2026-01-01"
    assert not Subscription.objects.exists()


def test_a_known_subscription_moving_to_a_currency_without_a_rate_keeps_its_state(
    stripe_client: Client,
) -> None:
    assert sp.post(stripe_client, sp.event("customer.subscription.created", sp.subscription()))
    before = list(Subscription.objects.values_list("mrr", "currency"))
    p = sp.price(unit_amount=3900, currency="gbp")
    moved = sp.event(
        "customer.subscription.updated",
        sp.subscription(items=[sp.item(p)], currency="gbp"),
        created=sp.T0 + 60,
    )
    refused = sp.post(stripe_client, moved)
    assert refused.status_code == 422 and refused.json()["currency"] == "GBP"
    assert list(Subscription.objects.values_list("mrr", "currency")) == before
    assert MrrMovement.objects.count() == 1
