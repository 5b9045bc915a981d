"""Client clocks are wrong: timestamps are corrected with sentAt and broken ones flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tend.activity.models import Event
from tend.ingest.tracking.tests.conftest import Send, stats

pytestmark = pytest.mark.django_db(transaction=True)


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def test_a_device_clock_two_hours_ahead_is_corrected_with_sent_at(send: Send) -> None:
    now = timezone.now()
    skew = timedelta(hours=2)
    happened = now - timedelta(minutes=5)
    message = {
        "userId": "u1",
        "event": "Clicked",
        "messageId": "m",
        "timestamp": iso(happened + skew),
        "sentAt": iso(now + skew),
    }
    before = timezone.now()
    assert send("track", message).status_code == 200
    after = timezone.now()
    stored = Event.objects.get().timestamp
    # receivedAt − (sentAt − timestamp): five minutes before the server received it.
    assert before - timedelta(minutes=5, seconds=1) <= stored <= after - timedelta(minutes=5)


def test_a_batch_level_sent_at_corrects_every_message(send: Send) -> None:
    now = timezone.now()
    batch = [
        {
            "type": "track",
            "userId": "u1",
            "event": "A",
            "messageId": "a",
            "timestamp": iso(now - timedelta(days=3)),
        },
    ]
    assert (
        send("batch", {"batch": batch, "sentAt": iso(now - timedelta(days=3))}).status_code == 200
    )
    assert abs((Event.objects.get().timestamp - timezone.now()).total_seconds()) < 5


def test_without_sent_at_the_client_timestamp_is_trusted(send: Send) -> None:
    message = {
        "userId": "u1",
        "event": "A",
        "messageId": "a",
        "timestamp": "2026-01-02T03:04:05+08:00",
    }
    assert send("track", message).status_code == 200
    assert Event.objects.get().timestamp == datetime(2026, 1, 1, 19, 4, 5, tzinfo=UTC)


def test_a_timestamp_days_in_the_future_is_stored_at_arrival_and_flagged(send: Send) -> None:
    future = iso(timezone.now() + timedelta(days=30))
    message = {"userId": "u1", "event": "A", "messageId": "a", "timestamp": future}
    response = send("track", message)
    assert response.status_code == 200
    event = Event.objects.get()
    assert abs((event.timestamp - timezone.now()).total_seconds()) < 5
    assert event.properties == {"$tend": {"flag": "future_timestamp", "timestamp": future}}
    assert stats() == {("flagged", "future_timestamp"): 1}


def test_a_timestamp_from_1970_is_kept_and_flagged_as_old(send: Send) -> None:
    message = {"userId": "u1", "event": "A", "messageId": "a", "timestamp": "1970-01-01T00:00:00Z"}
    assert send("track", message).status_code == 200
    event = Event.objects.get()
    assert event.timestamp.year == 1970
    assert event.properties["$tend"]["flag"] == "old_timestamp"
    assert stats() == {("flagged", "old_timestamp"): 1}
