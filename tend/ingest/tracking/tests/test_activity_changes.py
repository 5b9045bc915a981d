"""The tracking API records product activity in the outbox: one row per customer per UTC day,
however many batches and events that day brings."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.test import Client

from tend.changes.models import CustomerChange
from tend.factories import make_contact, make_customer
from tend.ingest.tracking.tests.conftest import Send

pytestmark = pytest.mark.django_db


def _batch(events: list[tuple[str, str, str]]) -> str:
    return json.dumps(
        {
            "batch": [
                {
                    "type": "track",
                    "userId": user,
                    "event": "Clicked",
                    "messageId": mid,
                    "timestamp": ts,
                }
                for user, mid, ts in events
            ]
        }
    )


def test_batches_record_one_activity_row_per_customer_and_day(write_key: str) -> None:
    acme, beta = make_customer(), make_customer()
    make_contact(acme, external_id="u1")
    make_contact(beta, external_id="u2")
    client = Client()
    auth: dict[str, Any] = {
        "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    }

    def send(events: list[tuple[str, str, str]]) -> None:
        response = client.post("/v1/batch", _batch(events), content_type="application/json", **auth)
        assert response.status_code == 200

    send([("u1", "m1", "2026-01-05T10:00:00Z"), ("u1", "m2", "2026-01-05T08:00:00Z")])
    send([("u1", "m3", "2026-01-05T12:00:00Z"), ("u2", "m4", "2026-01-06T01:00:00Z")])
    send([("u1", "m1", "2026-01-05T10:00:00Z")])  # a retried event
    rows = {
        r.key: r.at.isoformat()
        for r in CustomerChange.objects.filter(kind="activity").order_by("key")
    }
    assert rows == {
        f"activity:{acme.pk}:2026-01-05": "2026-01-05T08:00:00+00:00",
        f"activity:{beta.pk}:2026-01-06": "2026-01-06T01:00:00+00:00",
    }


@pytest.mark.django_db(transaction=True)
def test_anonymous_events_count_as_activity_once_their_visitor_is_identified(
    send: Send,
) -> None:
    acme = make_customer(external_id="acme")
    event = {"anonymousId": "anon-1", "event": "Viewed", "messageId": "a"}
    assert send("track", {**event, "timestamp": "2026-11-20T10:00:00Z"}).status_code == 200
    assert not CustomerChange.objects.filter(kind="activity").exists()
    identify = {"userId": "u1", "anonymousId": "anon-1", "context": {"groupId": "acme"}}
    assert send("identify", identify).status_code == 200
    assert list(CustomerChange.objects.filter(kind="activity").values_list("key", flat=True)) == [
        f"activity:{acme.pk}:2026-11-20"
    ]
