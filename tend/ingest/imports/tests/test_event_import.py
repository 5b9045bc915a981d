"""Events load in bulk: retried message ids are skipped and counted, rollups follow."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection

from tend.activity.models import DailyRollup, Event
from tend.customers.models import Customer, TimelineEntry
from tend.factories import make_customer
from tend.ingest.imports import events
from tend.ingest.imports.actions import event_id_prefix, import_file
from tend.ingest.imports.event_rows import EventRows
from tend.ingest.imports.events import EventWriter
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
    # The same file again: every row is a duplicate, also the one without a message id
    # (its id is made from the file and the row, docs/imports.md).
    assert (again.created, again.duplicates) == (0, 4)


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


# --- large files: batches, a second reading process, retries across batches ----------------

ROWS = [
    # row 2..4: batch 1
    ["c1", "report.viewed", "2024-03-01T10:00:00Z", '{"page": 1}', "m1"],
    ["c2", "login", "2024-03-01 09:00:00", "", "m2"],
    ["c1", " report.viewed ", "2024-03-01T11:00:00+01:00", "", "m3"],
    # row 5..7: batch 2, with a retry inside the batch and a row that cannot be read
    ["c2", "login", "2024-03-02T08:00:00Z", "", "m4"],
    ["c2", "login", "2024-03-02T08:00:00Z", "", "m4"],
    ["ghost", "login", "2024-03-02T08:00:00Z", "", "m5"],
    # row 8..10: batch 3, with a retry of batch 1 and two more bad rows
    ["c1", "report.viewed", "2024-03-01T10:00:00Z", '{"page": 1}', "m1"],
    ["c1", "export", "2024-W09-5T10:00:00", '{"x": NaN}', "m6"],
    ["c1", "export", "not a time", "", "m7"],
    # row 11: batch 4, without a message id, with an ISO week date
    ["c2", "export", "2024-W09-5T12:00:00", "", ""],
]


@pytest.fixture(params=["one process", "two processes"])
def small_batches(request, monkeypatch):
    """Batches of three rows, read in this process or in a second one (checked after the test)."""
    two = request.param == "two processes"
    monkeypatch.setattr(EventWriter, "batch_size", 3)
    monkeypatch.setattr(EventWriter, "parse_ahead_from", 0 if two else 10**9)
    parsed_here: list[int] = []
    parse = EventRows.parse

    def parse_and_note(self, rows):
        parsed_here.append(len(rows))
        return parse(self, rows)

    monkeypatch.setattr(EventRows, "parse", parse_and_note)
    yield request.param
    # Calls in a second process leave no trace in this one.
    assert bool(parsed_here) != two


def test_a_file_in_many_batches_is_read_the_same_in_one_process_or_two(write_csv, small_batches):
    acme = make_customer("Acme", external_id="c1")
    beta = make_customer("Beta", external_id="c2")
    path = write_csv(
        "events.csv", ["customer", "event", "timestamp", "properties", "message id"], ROWS
    )

    result = import_file(kind="events", path=path)

    assert (result.rows, result.created, result.duplicates, result.rejected) == (10, 5, 2, 3)
    assert result.reasons == {"unknown_customer": 1, "bad_json": 1, "bad_date": 1}
    assert [p.split(":")[0] for p in result.problems] == [
        "Row 7, column “customer”",
        "Row 9, column “properties”",
        "Row 10, column “timestamp”",
    ]
    assert result.cleaning == {"name: trimmed_whitespace": 1}
    stored = Event.objects.order_by("customer_id", "timestamp")
    # The row without a message id (row 11) gets one made from the file and its row number.
    made = event_id_prefix(Import.objects.get().digest) + "0000000011"
    assert [(e.customer_id, e.name, e.timestamp, e.message_id) for e in stored] == [
        (acme.pk, "report.viewed", datetime(2024, 3, 1, 10, tzinfo=UTC), "m1"),
        (acme.pk, "report.viewed", datetime(2024, 3, 1, 10, tzinfo=UTC), "m3"),
        (beta.pk, "login", datetime(2024, 3, 1, 9, tzinfo=UTC), "m2"),
        (beta.pk, "export", datetime(2024, 3, 1, 12, tzinfo=UTC), made),
        (beta.pk, "login", datetime(2024, 3, 2, 8, tzinfo=UTC), "m4"),
    ]
    assert Event.objects.get(message_id="m1").properties == {"page": 1}
    rollups = {(r.customer_id, r.day, r.name): r.count for r in DailyRollup.objects.all()}
    assert rollups == {
        (acme.pk, date(2024, 3, 1), "report.viewed"): 2,
        (beta.pk, date(2024, 3, 1), "login"): 1,
        (beta.pk, date(2024, 3, 1), "export"): 1,
        (beta.pk, date(2024, 3, 2), "login"): 1,
    }
    acme.refresh_from_db()
    beta.refresh_from_db()
    assert acme.last_seen_at == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert beta.last_seen_at == datetime(2024, 3, 2, 8, tzinfo=UTC)
    assert Import.objects.get().rows_read == 10


def test_importing_a_large_file_again_stores_nothing_twice(write_csv, small_batches):
    make_customer("Acme", external_id="c1")
    make_customer("Beta", external_id="c2")
    header = ["customer", "event", "timestamp", "properties", "message id"]
    path = write_csv("events.csv", header, ROWS)
    import_file(kind="events", path=path)
    rollups = sorted(DailyRollup.objects.values_list("customer_id", "day", "name", "count"))

    again = import_file(kind="events", path=path)

    # The same file: every row is stored already, those without a message id too.
    assert (again.created, again.duplicates, again.rejected) == (0, 7, 3)
    assert Event.objects.count() == 5
    assert sorted(DailyRollup.objects.values_list("customer_id", "day", "name", "count")) == (
        rollups
    )

    # Another file holding the same rows: the rows with a message id are skipped; the one
    # without is another file's row, stored again, and its day is counted once more.
    other = write_csv("events-2.csv", header, [*ROWS, ["c1", "new", "2024-03-03", "", "m9"]])
    third = import_file(kind="events", path=other)

    assert (third.created, third.duplicates, third.rejected) == (2, 6, 3)
    assert Event.objects.count() == 7
    after = sorted(DailyRollup.objects.values_list("customer_id", "day", "name", "count"))
    assert [r for r in after if r not in rollups] == [
        (Customer.objects.get(external_id="c1").pk, date(2024, 3, 3), "new", 1),
        (Customer.objects.get(external_id="c2").pk, date(2024, 3, 1), "export", 2),
    ]


def test_tabs_backslashes_and_line_breaks_are_stored_as_written(write_csv, small_batches):
    make_customer("Acme", external_id="c1")
    props = '{"path": "C:\\\\tend\\\\new", "note": "tab\\there",\n"line": "a\\nb"}'
    path = write_csv(
        "events.csv", ["customer", "event", "timestamp", "properties", "message id"],
        [["c1", "tab\there", "2024-03-01T10:00:00Z", props, "m\\1"],
         ["c1", "back\\slash", "2024-03-01T10:00:01Z", "", ""],
         ["c1", "plain", "2024-03-01T10:00:02Z", "", "m2"],
         ["c1", "plain", "2024-03-01T10:00:03Z", "", "m3"]],
    )  # fmt: skip

    result = import_file(kind="events", path=path)

    assert (result.created, result.rejected) == (4, 0)
    first = Event.objects.get(message_id="m\\1")
    assert first.name == "tab\there"
    assert first.properties == {"path": "C:\\tend\\new", "note": "tab\there", "line": "a\nb"}
    assert Event.objects.get(name="back\\slash").message_id.startswith("file:")


def test_a_failing_reading_process_fails_the_import_and_keeps_the_batches_before(
    write_csv, monkeypatch
):
    make_customer("Acme", external_id="c1")
    monkeypatch.setattr(EventWriter, "batch_size", 2)
    monkeypatch.setattr(EventWriter, "parse_ahead_from", 0)
    parse = EventRows.parse

    def parse_two_batches(self, rows):
        if rows[0][0] > 3:
            raise MemoryError("out of memory")
        return parse(self, rows)

    monkeypatch.setattr(EventRows, "parse", parse_two_batches)
    path = write_csv(
        "events.csv", ["customer", "event", "timestamp"],
        [["c1", "a", f"2024-03-01T10:00:0{i}Z"] for i in range(5)],
    )  # fmt: skip

    with pytest.raises(RuntimeError, match="MemoryError: out of memory"):
        import_file(kind="events", path=path)

    run = Import.objects.get()
    assert (run.status, run.rows_read) == ("failed", 2)
    assert "out of memory" in run.error
    assert Event.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's triggers")
@pytest.mark.parametrize("may_skip_triggers", [True, False])
def test_on_postgresql_foreign_keys_hold_with_or_without_the_trigger_shortcut(
    write_csv, small_batches, monkeypatch, may_skip_triggers
):
    monkeypatch.setattr(events, "_may_skip_triggers", lambda: may_skip_triggers)
    make_customer("Acme", external_id="c1")
    make_customer("Beta", external_id="c2")
    path = write_csv(
        "events.csv", ["customer", "event", "timestamp", "properties", "message id"], ROWS
    )

    result = import_file(kind="events", path=path)

    assert (result.created, result.duplicates, result.rejected) == (5, 2, 3)
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone() == ("origin",)  # back to normal for whatever comes next


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's write-ahead log")
def test_on_sqlite_the_checkpoint_interval_is_widened_for_the_import_only(write_csv):
    make_customer("Acme", external_id="c1")
    path = write_csv("events.csv", ["customer", "event", "timestamp"], [["c1", "a", "2024-03-01"]])
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        before = cursor.fetchone()

        import_file(kind="events", path=path)

        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone() == before
