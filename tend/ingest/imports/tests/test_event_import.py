"""Events load in bulk: retried message ids are skipped and counted, rollups follow."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tend.activity.models import DailyRollup, Event
from tend.customers.models import Customer, TimelineEntry
from tend.factories import make_customer
from tend.ingest.imports.actions import import_file
from tend.ingest.imports.models import Import
from tend.ingest.models import IngestStat

pytestmark = pytest.mark.django_db
HINT = "is not a date (try 2024-03-01, 01/03/2024 or 2024年3月1日)"


def test_events_land_with_rollups_last_seen_and_one_timeline_entry_per_customer(write_csv):
    acme = make_customer("Acme", external_id="c1")
    beta = make_customer("Beta", external_id="c2")
    path = write_csv(
        "events.csv",
        ["Customer ID", "Event", "Timestamp", "Properties", "Message ID"],
        [
            ["c1", "report.viewed", "2024-03-01T10:00:00Z", '{"page": 2}', "m1"],
            ["c1", "report.viewed", "2024-03-01T11:00:00+08:00", "", "m2"],
            ["c2", "login", "2024-03-02 09:00:00", "", ""],
            ["c1", "report.viewed", "2024-03-01T10:00:00Z", "", "m1"],
        ],
    )
    result = import_file(kind="events", path=path)
    assert (result.created, result.duplicates, result.rejected) == (3, 1, 0)
    assert Event.objects.get(message_id="m1").properties == {"page": 2}
    assert Event.objects.get(message_id="m2").timestamp == datetime(2024, 3, 1, 3, tzinfo=UTC)
    rollup = DailyRollup.objects.get(customer=acme)
    assert (rollup.day, rollup.name, rollup.count) == (date(2024, 3, 1), "report.viewed", 2)
    acme.refresh_from_db()
    assert acme.last_seen_at == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert TimelineEntry.objects.filter(kind="import", customer__in=[acme, beta]).count() == 2
    assert IngestStat.objects.get(source="import", outcome="duplicate").count == 1

    again = import_file(kind="events", path=path)
    assert (again.created, again.duplicates) == (1, 3)  # the row without a message id repeats


def test_bad_event_rows_are_refused_and_the_good_ones_kept(write_csv):
    make_customer("Acme", external_id="c1")
    path = write_csv(
        "events.csv",
        ["user_id", "event", "time", "properties"],
        [
            ["c1", "ok", "2024-03-01", ""],
            ["ghost", "ok", "2024-03-01", ""],
            ["c1", "", "2024-03-01", ""],
            ["c1", "ok", "yesterday", ""],
            ["c1", "ok", "2024-03-01", "[1, 2]"],
            ["c1", "ok", "01/03/2024 10:30", ""],
        ],
    )
    result = import_file(kind="events", path=path)
    assert result.created == 2
    assert result.problems == [
        "Row 3, column “user_id”: no customer has the external id “ghost”",
        "Row 4, column “event”: a value is required but the cell is empty",
        "Row 5, column “time”: “yesterday” " + HINT,
        "Row 6, column “properties”: “[1, 2]” is not a JSON object",
    ]
    assert Event.objects.filter(timestamp=datetime(2024, 3, 1, 10, 30, tzinfo=UTC)).exists()


def test_an_event_dry_run_counts_stored_duplicates_but_writes_nothing(write_csv):
    make_customer("Acme", external_id="c1")
    path = write_csv(
        "events.csv", ["customer", "event", "timestamp", "message id"],
        [["c1", "a", "2024-03-01", "m1"], ["c1", "a", "2024-03-01", "m2"]],
    )  # fmt: skip
    import_file(kind="events", path=path.with_name("events.csv"))
    result = import_file(kind="events", path=path, dry_run=True)
    assert (result.created, result.duplicates) == (0, 2)
    assert Event.objects.count() == 2
    assert Import.objects.count() == 2
    assert Customer.objects.count() == 1
