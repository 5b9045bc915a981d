"""A message id is stored once, whatever its timestamp: retries of the tracking API (which may
carry another time, or none and get the arrival time) and imports are deduplicated across
monthly partitions on PostgreSQL as by the unique constraint on SQLite."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import IntegrityError, transaction

from tend.activity.models import Event
from tend.activity.tests.conftest import Track
from tend.factories import make_customer
from tend.ingest.imports.actions import import_file

pytestmark = pytest.mark.django_db


def _track(message_id: str, **fields: str) -> dict[str, str]:
    return {"type": "track", "userId": "u1", "event": "Clicked", "messageId": message_id, **fields}


def test_a_retry_with_another_timestamp_in_another_month_is_stored_once(track: Track, months):
    months(date(2026, 9, 1), date(2026, 10, 1))
    track([_track("m1", timestamp="2026-09-30T23:59:00Z")])
    answer = track([_track("m1", timestamp="2026-10-01T00:01:00Z")])
    assert answer.get("duplicates", 1) == 1
    assert Event.objects.filter(message_id="m1").count() == 1
    assert Event.objects.get(message_id="m1").timestamp.month == 9


def test_a_retry_without_timestamp_gets_a_new_arrival_time_and_is_still_stored_once(
    track: Track,
) -> None:
    track([_track("m2")])
    track([_track("m2")])
    track([_track("m2"), _track("m2")])
    assert Event.objects.filter(message_id="m2").count() == 1


def test_an_import_skips_message_ids_stored_in_other_months(write_csv, track: Track, months):
    months(date(2026, 9, 1), date(2026, 10, 1))
    make_customer("Acme", external_id="c1")
    track([_track("t1", timestamp="2026-09-15T10:00:00Z")])
    header = ["Customer ID", "Event", "Timestamp", "Message ID"]
    first = write_csv("a.csv", header, [["c1", "x", "2026-09-01T10:00:00Z", "i1"]])
    assert import_file(kind="events", path=first).created == 1
    again = write_csv(
        "b.csv",
        header,
        [
            ["c1", "x", "2026-10-20T10:00:00Z", "i1"],
            ["c1", "x", "2026-10-20T10:00:00Z", "t1"],
            ["c1", "x", "2026-10-20T10:00:00Z", "i2"],
        ],
    )
    result = import_file(kind="events", path=again)
    assert (result.created, result.duplicates) == (1, 2)
    assert sorted(Event.objects.values_list("message_id", flat=True)) == ["i1", "i2", "t1"]


def test_storing_a_stored_message_id_through_the_orm_is_refused() -> None:
    Event.objects.create(name="A", timestamp=datetime(2026, 9, 1, tzinfo=UTC), message_id="s")
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(name="A", timestamp=datetime(2026, 12, 1, tzinfo=UTC), message_id="s")
    assert Event.objects.filter(message_id="s").count() == 1


def test_deleting_an_event_frees_its_message_id(track: Track) -> None:
    track([_track("d1")])
    Event.objects.filter(message_id="d1").delete()
    track([_track("d1")])
    assert Event.objects.filter(message_id="d1").count() == 1
