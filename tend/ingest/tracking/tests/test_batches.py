"""Batches: good messages are kept next to bad ones, retries are stored once."""

from __future__ import annotations

import pytest

from tend.activity.models import DailyRollup, Event
from tend.factories import make_customer
from tend.ingest.tracking.tests.conftest import Send, stats

pytestmark = pytest.mark.django_db(transaction=True)


def track(n: int, **extra: object) -> dict[str, object]:
    return {"type": "track", "userId": "u1", "event": "Clicked", "messageId": f"m{n}", **extra}


def test_a_batch_with_some_bad_messages_stores_the_good_ones_and_names_the_bad(send: Send) -> None:
    batch = [
        track(0),
        track(1, timestamp="yesterday"),
        "not an object",
        track(3, event=""),
        track(4, userId=["u1"]),
        {"type": "explode", "userId": "u1"},
        track(6),
    ]
    response = send("batch", {"batch": batch})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert [(r["index"], r["field"], r["code"]) for r in body["rejected"]] == [
        (1, "timestamp", "bad_timestamp"),
        (2, "", "wrong_type"),
        (3, "event", "missing_event"),
        (4, "userId", "wrong_type"),
        (5, "type", "bad_type"),
    ]
    assert sorted(Event.objects.values_list("message_id", flat=True)) == ["m0", "m6"]
    assert stats() == {
        ("accepted", ""): 2,
        ("rejected", "bad_timestamp"): 1,
        ("rejected", "wrong_type"): 2,
        ("rejected", "missing_event"): 1,
        ("rejected", "bad_type"): 1,
    }


def test_an_oversize_message_inside_a_batch_is_rejected_alone(send: Send) -> None:
    batch = [track(0), track(1, properties={"blob": "x" * 40_000}), track(2)]
    response = send("batch", {"batch": batch})
    assert response.status_code == 200
    assert response.json()["rejected"] == [
        {
            "index": 1,
            "code": "too_large",
            "field": "",
            "reason": "a message may not exceed 32768 bytes",
        }
    ]
    assert Event.objects.count() == 2


def test_a_replayed_message_id_is_stored_once_and_counted_as_a_duplicate(send: Send) -> None:
    customer = make_customer(external_id="acme")
    batch = [track(0, context={"groupId": "acme"}), track(1, context={"groupId": "acme"})]
    assert send("batch", {"batch": batch}).status_code == 200
    again = send("batch", {"batch": [*batch, track(2, context={"groupId": "acme"})]})
    assert again.status_code == 200
    assert Event.objects.count() == 3
    assert DailyRollup.objects.get(customer=customer).count == 3
    assert stats() == {("accepted", ""): 3, ("duplicate", ""): 2}


def test_the_same_message_id_twice_in_one_batch_is_stored_once(send: Send) -> None:
    assert send("batch", {"batch": [track(0), track(0)]}).status_code == 200
    assert Event.objects.count() == 1
    assert stats() == {("accepted", ""): 1, ("duplicate", ""): 1}


def test_import_takes_a_batch_like_batch(send: Send) -> None:
    assert send("import", {"batch": [track(0), track(1)]}).status_code == 200
    assert Event.objects.count() == 2


def test_a_message_on_a_typed_endpoint_must_have_that_type(send: Send) -> None:
    response = send("track", {"type": "page", "userId": "u1", "messageId": "x"})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "type"
