"""Subscriptions from Stripe move through Tend's billing actions, so the MRR ledger agrees."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import Sum
from django.test import Client

from tend.billing.models import MrrMovement, Subscription
from tend.customers.models import Customer, Stage
from tend.ingest.webhooks.models import StripeEvent
from tend.ingest.webhooks.tests import stripe_payloads as sp

DAY = 86_400


def _send(client: Client, type_: str, sub: dict, created: int) -> str:
    response = sp.post(client, sp.event(type_, sub, created=created))
    assert response.status_code == 200, response.content
    return response.json()["outcome"]


def _kinds() -> list[tuple[str, Decimal]]:
    return list(MrrMovement.objects.order_by("at", "pk").values_list("kind", "amount"))


def test_a_new_subscription_records_new_mrr_on_the_day_stripe_created_it(
    stripe_client: Client,
) -> None:
    _send(stripe_client, "customer.subscription.created", sp.subscription(), sp.T0)
    sub = Subscription.objects.get()
    assert sub.status == "active"
    assert sub.started_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert sub.current_period_end == datetime(2026, 1, 31, tzinfo=UTC)
    movement = MrrMovement.objects.get()
    assert (movement.kind, movement.amount) == ("new", Decimal("49.00"))
    assert movement.at == datetime(2026, 1, 1, tzinfo=UTC)


def test_an_upgrade_is_an_expansion_and_a_downgrade_a_contraction(stripe_client: Client) -> None:
    _send(stripe_client, "customer.subscription.created", sp.subscription(), sp.T0)
    bigger = sp.subscription(items=[sp.item(sp.price(unit_amount=4900), quantity=3)])
    _send(stripe_client, "customer.subscription.updated", bigger, sp.T0 + DAY)
    smaller = sp.subscription(items=[sp.item(sp.price(unit_amount=4900), quantity=2)])
    _send(stripe_client, "customer.subscription.updated", smaller, sp.T0 + 2 * DAY)
    assert _kinds() == [
        ("new", Decimal("49.00")),
        ("expansion", Decimal("98.00")),
        ("contraction", Decimal("-49.00")),
    ]
    assert Customer.objects.get().mrr == Decimal("98.00")


def test_a_cancellation_records_churn_and_marks_the_customer_churned(
    stripe_client: Client,
) -> None:
    _send(stripe_client, "customer.subscription.created", sp.subscription(), sp.T0)
    ended = sp.subscription(
        status="canceled", canceled_at=sp.T0 + 5 * DAY, ended_at=sp.T0 + 5 * DAY
    )
    _send(stripe_client, "customer.subscription.deleted", ended, sp.T0 + 5 * DAY)
    sub = Subscription.objects.get()
    assert sub.status == "canceled"
    assert sub.canceled_at == datetime(2026, 1, 6, tzinfo=UTC)
    assert _kinds() == [("new", Decimal("49.00")), ("churn", Decimal("-49.00"))]
    customer = Customer.objects.get()
    assert customer.mrr == 0 and customer.stage == Stage.CHURNED
    assert MrrMovement.objects.aggregate(s=Sum("amount"))["s"] == customer.mrr


def test_a_trial_counts_no_mrr_until_it_converts(stripe_client: Client) -> None:
    trial = sp.subscription(status="trialing", trial_end=sp.T0 + 14 * DAY)
    _send(stripe_client, "customer.subscription.created", trial, sp.T0)
    assert Subscription.objects.get().trial_ends_at == datetime(2026, 1, 15, tzinfo=UTC)
    assert not MrrMovement.objects.exists()
    _send(stripe_client, "customer.subscription.updated", sp.subscription(), sp.T0 + 14 * DAY)
    assert _kinds() == [("new", Decimal("49.00"))]


def test_a_past_due_subscription_still_counts_as_mrr(stripe_client: Client) -> None:
    _send(stripe_client, "customer.subscription.created", sp.subscription(), sp.T0)
    _send(
        stripe_client,
        "customer.subscription.updated",
        sp.subscription(status="past_due"),
        sp.T0 + DAY,
    )
    assert Subscription.objects.get().status == "past_due"
    assert Customer.objects.get().mrr == Decimal("49.00")
    assert _kinds() == [("new", Decimal("49.00"))]


def test_an_unpaid_subscription_is_churn_until_it_is_paid_again(stripe_client: Client) -> None:
    # Stripe's own MRR: "canceled or marked as unpaid … no longer counts towards MRR".
    _send(stripe_client, "customer.subscription.created", sp.subscription(), sp.T0)
    unpaid = sp.subscription(status="unpaid")
    _send(stripe_client, "customer.subscription.updated", unpaid, sp.T0 + 30 * DAY)
    sub = Subscription.objects.get()
    assert (sub.status, sub.mrr, sub.canceled_at) == ("unpaid", Decimal("49.00"), None)
    assert Customer.objects.get().mrr == 0
    _send(stripe_client, "customer.subscription.updated", sp.subscription(), sp.T0 + 40 * DAY)
    assert _kinds() == [
        ("new", Decimal("49.00")),
        ("churn", Decimal("-49.00")),
        ("reactivation", Decimal("49.00")),
    ]


def test_a_paused_subscription_is_kept_as_paused_and_counts_no_mrr(stripe_client: Client) -> None:
    _send(stripe_client, "customer.subscription.created", sp.subscription(), sp.T0)
    _send(
        stripe_client,
        "customer.subscription.updated",
        sp.subscription(status="paused"),
        sp.T0 + DAY,
    )
    sub = Subscription.objects.get()
    assert (sub.status, sub.canceled_at) == ("paused", None)
    assert Customer.objects.get().mrr == 0


def test_an_incomplete_subscription_is_recorded_without_mrr_until_it_is_paid(
    stripe_client: Client,
) -> None:
    outcome = _send(
        stripe_client,
        "customer.subscription.created",
        sp.subscription(status="incomplete"),
        sp.T0,
    )
    assert outcome == "processed"
    sub = Subscription.objects.get()
    assert (sub.status, sub.mrr) == ("incomplete", Decimal("49.00"))
    assert Customer.objects.get().mrr == 0 and not MrrMovement.objects.exists()
    _send(stripe_client, "customer.subscription.updated", sp.subscription(), sp.T0 + 60)
    assert Subscription.objects.get().status == "active"
    assert _kinds() == [("new", Decimal("49.00"))]


def test_an_expired_incomplete_subscription_is_canceled(stripe_client: Client) -> None:
    _send(
        stripe_client,
        "customer.subscription.created",
        sp.subscription(status="incomplete"),
        sp.T0,
    )
    expired = sp.subscription(status="incomplete_expired", ended_at=sp.T0 + DAY)
    _send(stripe_client, "customer.subscription.updated", expired, sp.T0 + DAY)
    sub = Subscription.objects.get()
    assert (sub.status, sub.canceled_at) == ("canceled", datetime(2026, 1, 2, tzinfo=UTC))
    assert not MrrMovement.objects.exists()


def test_a_status_stripe_adds_later_is_ignored_not_guessed(stripe_client: Client) -> None:
    _send(stripe_client, "customer.subscription.created", sp.subscription(), sp.T0)
    odd = sp.subscription(status="on_hold")
    assert _send(stripe_client, "customer.subscription.updated", odd, sp.T0 + DAY) == "ignored"
    assert Subscription.objects.get().status == "active"


def test_an_update_older_than_the_last_applied_one_is_ignored(stripe_client: Client) -> None:
    _send(stripe_client, "customer.subscription.created", sp.subscription(), sp.T0)
    three = sp.subscription(items=[sp.item(sp.price(), quantity=3)])
    two = sp.subscription(items=[sp.item(sp.price(), quantity=2)])
    assert _send(stripe_client, "customer.subscription.updated", three, sp.T0 + 2 * DAY) == (
        "processed"
    )
    # Stripe delivered the earlier change (to 2 seats) late.
    assert _send(stripe_client, "customer.subscription.updated", two, sp.T0 + DAY) == "stale"
    sub = Subscription.objects.get()
    assert (sub.quantity, sub.mrr) == (3, Decimal("147.00"))
    assert StripeEvent.objects.filter(outcome="stale").count() == 1


def test_an_update_arriving_after_the_deletion_does_not_revive_the_subscription(
    stripe_client: Client,
) -> None:
    _send(stripe_client, "customer.subscription.created", sp.subscription(), sp.T0)
    ended = sp.subscription(
        status="canceled", canceled_at=sp.T0 + 5 * DAY, ended_at=sp.T0 + 5 * DAY
    )
    _send(stripe_client, "customer.subscription.deleted", ended, sp.T0 + 5 * DAY)
    late = sp.subscription(status="past_due")
    assert _send(stripe_client, "customer.subscription.updated", late, sp.T0 + 3 * DAY) == "stale"
    assert Subscription.objects.get().status == "canceled"


def test_a_subscription_for_an_unknown_customer_creates_that_customer(
    stripe_client: Client,
) -> None:
    _send(stripe_client, "customer.subscription.created", sp.subscription(cus_id="cus_New"), sp.T0)
    customer = Customer.objects.get()
    assert customer.external_id == "cus_New"
    assert customer.stripe_link.stripe_id == "cus_New"
    assert customer.mrr == Decimal("49.00")
    # The customer event that follows fills in the details.
    sp.post(stripe_client, sp.event("customer.created", sp.customer("cus_New"), created=sp.T0 + 1))
    customer.refresh_from_db()
    assert (customer.name, customer.email) == ("Acme GmbH", "billing@acme.example")
