"""PostgreSQL: the events table is partitioned by month of ``timestamp``; every event lands in
its month's partition, and one whose month has none in DEFAULT, never refused."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection

from tend.activity.models import Event
from tend.activity.partitions import DEFAULT, TABLE, partition_name
from tend.activity.tests.conftest import Track, partition_of, pg_only
from tend.factories import make_customer
from tend.ingest.imports.actions import import_file

pytestmark = [pytest.mark.django_db, pg_only]


def test_the_events_table_is_partitioned_by_range_of_timestamp_with_a_default() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT partstrat, pg_get_partkeydef(partrelid), partdefid <> 0 "
            "FROM pg_partitioned_table WHERE partrelid = %s::regclass",
            [TABLE],
        )
        assert cursor.fetchone() == ("r", 'RANGE ("timestamp")', True)
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'p'",
            [TABLE],
        )
        assert cursor.fetchone() == ('PRIMARY KEY (id, "timestamp")',)


def test_tracked_events_land_in_the_partition_of_their_month(track: Track, months) -> None:
    months(date(2026, 9, 1), date(2026, 10, 1))
    make_customer("Acme", external_id="acme")
    track(
        [
            {"type": "group", "userId": "u1", "groupId": "acme"},
            *(
                {
                    "type": "track",
                    "userId": "u1",
                    "groupId": "acme",
                    "event": "Report Created",
                    "messageId": f"m-{day}",
                    "timestamp": f"2026-{day}T12:00:00Z",
                }
                for day in ("09-30", "10-01", "10-31")
            ),
        ]
    )
    where = {e.message_id: partition_of(e.pk) for e in Event.objects.all()}
    assert where == {
        "m-09-30": partition_name(date(2026, 9, 1)),
        "m-10-01": partition_name(date(2026, 10, 1)),
        "m-10-31": partition_name(date(2026, 10, 1)),
    }


def test_an_event_far_in_the_past_or_future_goes_to_default_and_is_kept(track: Track) -> None:
    # Before 2000 the tracking API keeps the timestamp as sent (flagged old_timestamp).
    track([{"type": "track", "userId": "u1", "event": "Old", "messageId": "old",
            "timestamp": "1990-05-01T00:00:00Z"}])  # fmt: skip
    future = Event.objects.create(
        name="Far", timestamp=datetime(2100, 1, 1, tzinfo=UTC), message_id="far"
    )
    old = Event.objects.get(message_id="old")
    assert old.timestamp == datetime(1990, 5, 1, tzinfo=UTC)
    assert partition_of(old.pk) == partition_of(future.pk) == DEFAULT
    assert set(Event.objects.values_list("message_id", flat=True)) == {"old", "far"}


def test_the_orm_still_creates_updates_and_deletes_events_by_id() -> None:
    created = Event.objects.bulk_create(
        [
            Event(name="A", timestamp=datetime(2026, 12, 1, tzinfo=UTC), message_id="a"),
            Event(name="B", timestamp=datetime(2026, 12, 2, tzinfo=UTC)),
        ]
    )
    assert all(e.pk for e in created)
    a, b = created
    a.name = "A2"
    a.save(update_fields=["name"])
    # A new timestamp in another month moves the row to that partition; it keeps id and
    # message id.
    Event.objects.filter(pk=a.pk).update(timestamp=datetime(2099, 1, 1, tzinfo=UTC))
    assert Event.objects.get(message_id="a").name == "A2"
    assert partition_of(a.pk) == DEFAULT
    b.delete()
    assert list(Event.objects.values_list("pk", flat=True)) == [a.pk]


def test_an_import_of_past_months_creates_their_partitions(write_csv) -> None:
    make_customer("Acme", external_id="c1")
    path = write_csv(
        "events.csv",
        ["Customer ID", "Event", "Timestamp", "Message ID"],
        [
            ["c1", "x", "2025-03-10T10:00:00Z", "i1"],
            ["c1", "x", "2025-04-30T23:00:00Z", "i2"],
        ],
    )
    assert import_file(kind="events", path=path).created == 2
    where = {e.message_id: partition_of(e.pk) for e in Event.objects.all()}
    assert where == {
        "i1": partition_name(date(2025, 3, 1)),
        "i2": partition_name(date(2025, 4, 1)),
    }
