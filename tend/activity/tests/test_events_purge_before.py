"""``events_purge_before(cutoff)`` removes exactly the events before the cutoff (half-open: one
at the cutoff stays); on PostgreSQL whole months go by dropping their partitions, and only
the boundary month and DEFAULT are deleted row by row."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tend.activity.models import Event
from tend.activity.partitions import is_partitioned, partition_name, partitions_list
from tend.activity.retention import events_purge_before
from tend.activity.tests.conftest import Track
from tend.ingest.tracking.models import PendingEvent

pytestmark = pytest.mark.django_db

CUTOFF = datetime(2026, 10, 15, 12, 0, tzinfo=UTC)


def _at(*when: datetime, prefix: str = "e") -> None:
    Event.objects.bulk_create(
        Event(name="x", timestamp=at, message_id=f"{prefix}{i}") for i, at in enumerate(when)
    )


def test_purge_removes_exactly_the_events_before_the_cutoff(track: Track, months) -> None:
    months(date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1))
    before = [
        datetime(2026, 8, 3, tzinfo=UTC),
        datetime(2026, 9, 30, 23, 59, 59, tzinfo=UTC),
        datetime(2026, 10, 1, tzinfo=UTC),
        CUTOFF - timedelta(microseconds=1),
        datetime(1990, 1, 1, tzinfo=UTC),  # DEFAULT
    ]
    kept = [CUTOFF, datetime(2026, 10, 31, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)]
    _at(*before, prefix="gone")
    _at(*kept, prefix="kept")
    # An anonymous event waiting for its customer, in a month that is dropped whole.
    track([{"type": "track", "anonymousId": "anon", "event": "Seen", "messageId": "anon1",
            "timestamp": "2026-08-20T10:00:00Z"}])  # fmt: skip
    assert PendingEvent.objects.count() == 1

    assert events_purge_before(CUTOFF) == len(before) + 1
    assert sorted(Event.objects.values_list("timestamp", flat=True)) == kept
    assert PendingEvent.objects.count() == 0
    assert events_purge_before(CUTOFF) == 0
    if is_partitioned():
        names = {p.name for p in partitions_list()}
        assert partition_name(date(2026, 8, 1)) not in names
        assert partition_name(date(2026, 9, 1)) not in names
        assert partition_name(date(2026, 10, 1)) in names  # the boundary month stays


def test_purged_message_ids_are_free_again(track: Track, months) -> None:
    months(date(2026, 8, 1), date(2026, 10, 1))
    message = {"type": "track", "userId": "u1", "event": "A", "messageId": "again",
               "timestamp": "2026-08-05T10:00:00Z"}  # fmt: skip
    track([message, {**message, "messageId": "boundary", "timestamp": "2026-10-01T10:00:00Z"}])
    assert events_purge_before(CUTOFF) == 2
    track([message, {**message, "messageId": "boundary", "timestamp": "2026-10-01T10:00:00Z"}])
    assert Event.objects.count() == 2
