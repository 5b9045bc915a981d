"""Each Stripe event id is applied once: redeliveries answer 200 and change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tend.billing.models import MrrMovement, Subscription
from tend.ingest.models import IngestStat
from tend.ingest.webhooks import actions
from tend.ingest.webhooks.models import StripeEvent
from tend.ingest.webhooks.tests import stripe_payloads as sp


def _count(outcome: str, reason: str = "") -> int:
    row = IngestStat.objects.filter(source="stripe", outcome=outcome, reason=reason).first()
    return row.count if row else 0


def test_a_replayed_event_is_answered_as_a_duplicate_and_not_applied_again(
    stripe_client: Client,
) -> None:
    body = sp.event("customer.subscription.created", sp.subscription())
    first = sp.post(stripe_client, body)
    second = sp.post(stripe_client, body)
    assert first.status_code == 200 and first.json()["outcome"] == "processed"
    assert second.status_code == 200
    assert second.json() == {"received": True, "outcome": "duplicate", "duplicate": True}
    assert Subscription.objects.count() == 1
    assert MrrMovement.objects.count() == 1
    assert StripeEvent.objects.get().outcome == "processed"
    assert _count("accepted") == 1 and _count("duplicate") == 1


def test_an_event_that_failed_is_applied_when_stripe_retries_it(
    stripe_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = sp.event("customer.subscription.created", sp.subscription())

    def boom(*args: Any) -> str:
        raise RuntimeError("database went away")

    monkeypatch.setitem(actions.HANDLERS, "customer.subscription.created", boom)
    failed = sp.post(stripe_client, body)
    assert failed.status_code == 500
    assert failed.json()["error"] == "processing_failed"
    row = StripeEvent.objects.get()
    assert row.outcome == "failed" and "database went away" in row.error
    assert not Subscription.objects.exists()
    assert _count("rejected", "processing_error") == 1

    monkeypatch.undo()
    retried = sp.post(stripe_client, body)
    assert retried.status_code == 200 and retried.json()["outcome"] == "processed"
    row.refresh_from_db()
    assert row.outcome == "processed" and row.error == "" and row.processed_at is not None
    assert Subscription.objects.get().mrr == 49


def test_a_failed_event_leaves_none_of_its_changes_behind(
    stripe_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = actions.on_subscription

    def half_done(*args: Any) -> str:
        original(*args)  # customer, plan, subscription and a movement are written…
        raise RuntimeError("…and then the process dies")

    monkeypatch.setitem(actions.HANDLERS, "customer.subscription.created", half_done)
    response = sp.post(stripe_client, sp.event("customer.subscription.created", sp.subscription()))
    assert response.status_code == 500
    assert not Subscription.objects.exists()
    assert not MrrMovement.objects.exists()


def test_an_unknown_event_type_is_acknowledged_and_recorded_as_ignored(
    stripe_client: Client,
) -> None:
    body = sp.event("payment_intent.created", {"id": "pi_1", "object": "payment_intent"})
    response = sp.post(stripe_client, body)
    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored"
    row = StripeEvent.objects.get()
    assert (row.type, row.object_id, row.outcome) == ("payment_intent.created", "pi_1", "ignored")
    assert _count("accepted") == 1
