"""Imports that stop part-way: found interrupted by their heartbeat, shown with what their
committed batches stored, resumed after the last committed batch without storing a row twice,
or canceled; on the pages and on the command line.

A worker killed with SIGKILL is the hostile test in tests/hostile/test_importresume_*.py; here
the stop is an exception no ``except Exception`` catches, raised inside a batch, which leaves
the database exactly as a kill does: that batch rolled back, the import still "running".
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from tend.accounts.models import AuditEntry
from tend.activity.models import Event
from tend.customers.models import Customer, TimelineEntry
from tend.factories import make_customer
from tend.ingest.imports.actions import (
    ImportStateError,
    import_cancel,
    import_claim,
    import_create,
    import_file,
    import_resume,
    import_resume_here,
    import_run,
    import_start,
    imports_interrupt_stale,
)
from tend.ingest.imports.events import EventWriter
from tend.ingest.imports.models import Import, ImportBatch, ImportStatus, RejectedRow
from tend.ingest.imports.writers import CustomerWriter

pytestmark = pytest.mark.django_db

HEADER = ["External ID", "Name", "Email"]


class Killed(BaseException):
    """What a SIGKILL leaves behind, without killing the test."""


def _customers_file(write_csv, rows: int = 10, *, repeat: int | None = None) -> Path:
    body = [[f"c{i}", f"Customer {i}", f"c{i}@example.test"] for i in range(rows)]
    if repeat is not None:  # a later row repeating an earlier external id
        body.append([f"c{repeat}", "Again", "again@example.test"])
    return write_csv("customers.csv", HEADER, body)


def _stop_on_batch(monkeypatch, writer: type, number: int, action=None) -> None:
    """Make the ``number``-th batch of ``writer`` stop the run (or do ``action`` first)."""
    write = writer.write
    calls = {"n": 0}

    def stopping(self, rows):
        calls["n"] += 1
        if calls["n"] == number:
            if action is None:
                write(self, rows)  # written, then killed before the commit
                raise Killed
            action()
        return write(self, rows)

    monkeypatch.setattr(writer, "write", stopping)


def _later() -> datetime:
    return timezone.now() + timedelta(seconds=settings.TEND_IMPORT_STALE_SECONDS + 1)


def _interrupted_customers_import(write_csv, monkeypatch, **kw) -> Import:
    """A customers import of 10 rows in batches of 3 whose process died in its third batch."""
    monkeypatch.setattr(CustomerWriter, "batch_size", 3)
    path = _customers_file(write_csv, **kw)
    run = import_create(kind="customers", path=path, file_name="customers.csv", by=None)
    _stop_on_batch(monkeypatch, CustomerWriter, 3)
    with pytest.raises(Killed):
        import_run(run=run)
    monkeypatch.undo()
    monkeypatch.setattr(CustomerWriter, "batch_size", 3)
    run.refresh_from_db()
    return run


def test_a_killed_import_stays_running_until_its_heartbeat_is_stale_then_shows_what_it_stored(
    write_csv, monkeypatch
):
    run = _interrupted_customers_import(write_csv, monkeypatch)

    # Two batches (rows 2-7) were committed with their progress; the third rolled back.
    assert run.status == ImportStatus.RUNNING
    assert Customer.objects.count() == 6
    assert imports_interrupt_stale() == []  # its heartbeat is recent: it may be working

    assert imports_interrupt_stale(now=_later()) == [run.pk]

    run.refresh_from_db()
    assert run.status == ImportStatus.INTERRUPTED
    assert (run.rows_read, run.created, run.updated, run.rejected) == (6, 6, 0, 0)
    assert run.is_resumable and run.is_cancelable
    assert AuditEntry.objects.filter(action="import.interrupt", actor_label="cleanup").exists()


def test_a_resumed_import_goes_on_after_the_last_committed_batch_and_stores_nothing_twice(
    write_csv, monkeypatch
):
    run = _interrupted_customers_import(write_csv, monkeypatch, repeat=1)
    imports_interrupt_stale(now=_later())

    result = import_resume_here(run=Import.objects.get(pk=run.pk), by=None)

    run.refresh_from_db()
    assert run.status == ImportStatus.DONE
    # Every row once: 10 created (none "unchanged" from being written again), and the last
    # row, repeating c1 from a batch before the stop, refused as a duplicate in the file.
    assert (run.rows_read, run.created, run.updated, run.unchanged) == (11, 10, 0, 0)
    assert (result.rejected, run.reasons) == (1, {"duplicate_in_file": 1})
    assert list(RejectedRow.objects.values_list("row", "reason")) == [(12, "duplicate_in_file")]
    assert Customer.objects.count() == 10
    # One timeline entry per customer for the whole file, those of the first attempt too.
    assert TimelineEntry.objects.filter(kind="import").count() == 10
    assert run.customers_affected == 10
    assert not ImportBatch.objects.exists()


def test_an_import_asked_to_cancel_stops_at_the_next_batch_boundary(write_csv, monkeypatch):
    monkeypatch.setattr(CustomerWriter, "batch_size", 3)
    path = _customers_file(write_csv)
    run = import_create(kind="customers", path=path, file_name="customers.csv", by=None)
    # While the second batch is being written, someone cancels.
    _stop_on_batch(
        monkeypatch,
        CustomerWriter,
        2,
        action=lambda: import_cancel(run=Import.objects.get(pk=run.pk), by=None),
    )

    result = import_run(run=run)

    run.refresh_from_db()
    assert run.status == ImportStatus.CANCELED
    assert (result.rows, run.rows_read, run.created) == (6, 6, 6)
    assert Customer.objects.count() == 6
    assert TimelineEntry.objects.filter(kind="import").count() == 6  # what it did store
    assert not run.is_resumable and not run.is_cancelable


def test_canceling_an_interrupted_import_ends_it_with_what_it_stored(write_csv, monkeypatch):
    run = _interrupted_customers_import(write_csv, monkeypatch)
    imports_interrupt_stale(now=_later())

    run = import_cancel(run=Import.objects.get(pk=run.pk), by=None)

    assert (run.status, run.rows_read, run.created) == (ImportStatus.CANCELED, 6, 6)
    assert Customer.objects.count() == 6
    assert TimelineEntry.objects.filter(kind="import").count() == 6
    with pytest.raises(ImportStateError):
        import_resume(run=run, by=None)


def test_a_queued_import_canceled_never_runs(write_csv, django_capture_on_commit_callbacks):
    path = _customers_file(write_csv)
    run = import_create(kind="customers", path=path, file_name="customers.csv", by=None)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        import_start(run=run, by=None, dry_run=False)

    assert import_cancel(run=run, by=None).status == ImportStatus.CANCELED
    for callback in queued:  # the worker picks the task up afterwards
        callback()

    run.refresh_from_db()
    assert run.status == ImportStatus.CANCELED
    assert Customer.objects.count() == 0


def test_starting_the_real_run_clears_the_dry_runs_counts(write_csv):
    path = _customers_file(write_csv)
    run = import_create(kind="customers", path=path, file_name="customers.csv", by=None)
    Import.objects.filter(pk=run.pk).update(dry_run=True)
    import_run(run=Import.objects.get(pk=run.pk))
    run.refresh_from_db()
    assert (run.status, run.created) == (ImportStatus.PREVIEWED, 10)

    import_start(run=run, by=None, dry_run=False)

    run.refresh_from_db()
    assert (run.status, run.rows_read, run.created, run.rejected) == (ImportStatus.QUEUED, 0, 0, 0)


def test_an_attempt_that_lost_the_import_to_another_writes_nothing_more(write_csv, monkeypatch):
    monkeypatch.setattr(CustomerWriter, "batch_size", 3)
    path = _customers_file(write_csv)
    run = import_create(kind="customers", path=path, file_name="customers.csv", by=None)

    def taken_over(done: int, total: int) -> None:
        # Thought dead after its first batch: marked interrupted and resumed elsewhere.
        if done == 3:
            assert imports_interrupt_stale(now=_later(), pk=run.pk) == [run.pk]
            assert import_claim(run.pk, [ImportStatus.INTERRUPTED]) is not None

    import_run(run=run, progress=taken_over)  # returns quietly: its second batch rolled back

    assert Customer.objects.count() == 3
    other = Import.objects.get(pk=run.pk)
    assert (other.status, other.attempt, other.rows_read) == (ImportStatus.RUNNING, 2, 3)
    import_run(run=other)

    other.refresh_from_db()
    assert (other.status, other.created, other.unchanged) == (ImportStatus.DONE, 10, 0)
    assert Customer.objects.count() == 10


def test_a_resume_refuses_a_file_that_changed_since_the_import_started(write_csv, monkeypatch):
    run = _interrupted_customers_import(write_csv, monkeypatch)
    imports_interrupt_stale(now=_later())
    Path(run.path).write_text("External ID,Name\nx,Other\n")

    with pytest.raises(ImportStateError, match="changed"):
        import_resume_here(run=Import.objects.get(pk=run.pk), by=None)

    run.refresh_from_db()
    assert run.status == ImportStatus.FAILED
    assert Customer.objects.count() == 6


def test_an_events_import_resumed_stores_each_row_without_a_message_id_once(write_csv, monkeypatch):
    make_customer("Acme", external_id="c1")
    monkeypatch.setattr(EventWriter, "batch_size", 4)
    rows = [["c1", "Signed In", f"2024-03-01T10:00:{s:02d}Z"] for s in range(10)]
    path = write_csv("events.csv", ["customer", "event", "timestamp"], rows)
    run = import_create(kind="events", path=path, file_name="events.csv", by=None)
    _stop_on_batch(monkeypatch, EventWriter, 2)
    with pytest.raises(Killed):
        import_run(run=run)
    monkeypatch.undo()
    monkeypatch.setattr(EventWriter, "batch_size", 4)
    imports_interrupt_stale(now=_later())

    import_resume_here(run=Import.objects.get(pk=run.pk), by=None)

    run.refresh_from_db()
    assert (run.status, run.created, run.duplicates) == (ImportStatus.DONE, 10, 0)
    assert Event.objects.count() == 10
    assert Event.objects.values("message_id").distinct().count() == 10
    acme = Customer.objects.get(external_id="c1")
    assert acme.last_seen_at.second == 9
    # Importing the same file again stores nothing: its rows' ids are made from the file.
    again = import_file(kind="events", path=path)
    assert (again.created, again.duplicates) == (0, 10)


def test_cleanup_marks_stale_imports_interrupted_and_says_so(write_csv, monkeypatch):
    run = _interrupted_customers_import(write_csv, monkeypatch)
    Import.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))

    out = io.StringIO()
    call_command("cleanup", "--dry-run", stdout=out)
    assert "Would mark 1 running imports interrupted" in out.getvalue()
    assert Import.objects.get(pk=run.pk).status == ImportStatus.RUNNING

    out = io.StringIO()
    call_command("cleanup", stdout=out)
    assert f"import #{run.pk} interrupted" in out.getvalue()
    assert Import.objects.get(pk=run.pk).status == ImportStatus.INTERRUPTED


def test_the_worker_marks_stale_imports_interrupted_every_five_minutes(write_csv, monkeypatch):
    from tend.ingest.imports.tasks import imports_interrupted_mark

    schedule = settings.TEND_SCHEDULES["imports-interrupted"]
    assert schedule == {
        "cron": "*/5 * * * *",
        "task": "tend.ingest.imports.tasks.imports_interrupted_mark",
    }
    run = _interrupted_customers_import(write_csv, monkeypatch)
    assert imports_interrupted_mark.enqueue().return_value == 0  # its heartbeat is recent
    Import.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))

    assert imports_interrupted_mark.enqueue().return_value == 1  # the immediate backend
    assert Import.objects.get(pk=run.pk).status == ImportStatus.INTERRUPTED


def test_the_command_line_lists_resumes_and_cancels_imports(write_csv, monkeypatch):
    run = _interrupted_customers_import(write_csv, monkeypatch)
    Import.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))

    out = io.StringIO()
    call_command("imports", stdout=out)
    assert "Interrupted" in out.getvalue()
    assert "--resume ID" in out.getvalue()

    out = io.StringIO()
    call_command("import", "--resume", str(run.pk), stdout=out)
    run.refresh_from_db()
    assert (run.status, run.created) == (ImportStatus.DONE, 10)
    assert Customer.objects.count() == 10

    with pytest.raises(CommandError, match="can be canceled"):
        call_command("import", "--cancel", str(run.pk), stdout=io.StringIO())
    with pytest.raises(CommandError, match="No import"):
        call_command("import", "--resume", "999999", stdout=io.StringIO())


def test_the_command_line_cancels_an_interrupted_import(write_csv, monkeypatch):
    run = _interrupted_customers_import(write_csv, monkeypatch)
    imports_interrupt_stale(now=_later())

    out = io.StringIO()
    call_command("import", "--cancel", str(run.pk), stdout=out)

    assert "canceled after 6 rows" in out.getvalue()
    assert Import.objects.get(pk=run.pk).status == ImportStatus.CANCELED


def test_the_pages_show_an_interrupted_import_with_resume_and_cancel_for_writers_only(
    write_csv, monkeypatch, member_client, viewer_client, django_capture_on_commit_callbacks
):
    run = _interrupted_customers_import(write_csv, monkeypatch)
    # Its worker stopped an hour ago: opening the page is enough to find it out.
    Import.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))

    page = member_client.get(reverse("imports:detail", args=[run.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="interrupted"' in html
    assert 'data-status="interrupted"' in html
    assert 'data-action="resume"' in html and 'data-action="cancel"' in html
    assert 'id="count-created">6<' in html
    listing = member_client.get(reverse("imports:list")).content.decode()
    assert 'data-action="resume"' in listing

    viewer_page = viewer_client.get(reverse("imports:detail", args=[run.pk])).content.decode()
    assert 'id="interrupted"' in viewer_page
    assert 'data-action="resume"' not in viewer_page
    assert 'data-action="resume"' not in viewer_client.get(reverse("imports:list")).content.decode()
    assert viewer_client.post(reverse("imports:resume", args=[run.pk])).status_code == 403
    assert viewer_client.post(reverse("imports:cancel", args=[run.pk])).status_code == 403
    assert member_client.get(reverse("imports:resume", args=[run.pk])).status_code == 405

    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(reverse("imports:resume", args=[run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert (run.status, run.created) == (ImportStatus.DONE, 10)  # the worker ran it (tests)
    assert Customer.objects.count() == 10

    # A finished import has nothing to resume or cancel: a clear message, no change.
    response = member_client.post(reverse("imports:cancel", args=[run.pk]), follow=True)
    assert "can be canceled" in response.content.decode()
    assert Import.objects.get(pk=run.pk).status == ImportStatus.DONE


def test_the_cancel_button_cancels_an_interrupted_import(write_csv, monkeypatch, member_client):
    run = _interrupted_customers_import(write_csv, monkeypatch)
    imports_interrupt_stale(now=_later())

    response = member_client.post(reverse("imports:cancel", args=[run.pk]), follow=True)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="canceled"' in html
    assert Import.objects.get(pk=run.pk).status == ImportStatus.CANCELED


def test_a_running_import_has_a_cancel_button_that_stops_it_at_the_next_batch(
    write_csv, member_client
):
    path = _customers_file(write_csv)
    run = import_create(kind="customers", path=path, file_name="customers.csv", by=None)
    running = import_claim(run.pk, [ImportStatus.UPLOADED])
    assert running is not None

    html = member_client.get(reverse("imports:detail", args=[run.pk])).content.decode()
    assert 'data-action="cancel"' in html and 'data-action="resume"' not in html

    response = member_client.post(reverse("imports:cancel", args=[run.pk]), follow=True)

    html = response.content.decode()
    assert 'id="cancel-asked"' in html and 'data-action="cancel"' not in html
    import_run(run=running)  # the worker sees it before its first batch
    running.refresh_from_db()
    assert (running.status, running.rows_read) == (ImportStatus.CANCELED, 0)
    assert Customer.objects.count() == 0


def test_an_interrupted_import_cannot_be_started_over_with_another_mapping(
    write_csv, monkeypatch, member_client
):
    run = _interrupted_customers_import(write_csv, monkeypatch)
    imports_interrupt_stale(now=_later())
    mapping = dict(run.mapping)

    response = member_client.post(
        reverse("imports:mapping", args=[run.pk]),
        {"col_0": "external_id", "col_1": "name", "col_2": "", "date_order": "mdy"},
    )

    assert response.status_code == 422
    assert "resume or cancel it" in response.content.decode()
    run.refresh_from_db()
    assert (run.status, run.mapping, run.rows_read) == (ImportStatus.INTERRUPTED, mapping, 6)
    with pytest.raises(ImportStateError):
        import_start(run=run, by=None, dry_run=False)


def test_cleanup_keeps_an_interrupted_imports_file_and_deletes_a_canceled_ones(
    write_csv, monkeypatch, settings
):
    from tend.ingest.imports.actions import import_store
    from tend.ingest.imports.cleanup import import_files_cleanup

    interrupted = _interrupted_customers_import(write_csv, monkeypatch)
    canceled = _interrupted_customers_import(write_csv, monkeypatch)
    for run in (interrupted, canceled):
        kept = import_store(source=Path(run.path), file_name="customers.csv")
        Import.objects.filter(pk=run.pk).update(path=str(kept))
    imports_interrupt_stale(now=_later())
    import_cancel(run=Import.objects.get(pk=canceled.pk), by=None)
    long_ago = timezone.now() - timedelta(days=settings.TEND_IMPORT_FILE_RETENTION_DAYS + 1)
    Import.objects.update(created_at=long_ago, started_at=long_ago)
    Import.objects.filter(pk=canceled.pk).update(finished_at=long_ago)

    result = import_files_cleanup()

    assert result.imports == [canceled.pk]
    still = Import.objects.get(pk=interrupted.pk)
    assert still.status == ImportStatus.INTERRUPTED and Path(still.path).is_file()


def test_an_import_stuck_running_from_before_this_release_can_be_canceled_not_resumed(
    write_csv,
):
    path = _customers_file(write_csv)
    run = import_create(kind="customers", path=path, file_name="customers.csv", by=None)
    long_ago = timezone.now() - timedelta(days=3)
    # As the old code left it: running forever, no heartbeat, attempt 0, a dry run's counts.
    Import.objects.filter(pk=run.pk).update(
        status=ImportStatus.RUNNING, started_at=long_ago, rows_read=4, created=10
    )

    assert imports_interrupt_stale() == [run.pk]
    run.refresh_from_db()
    assert run.status == ImportStatus.INTERRUPTED and not run.is_resumable
    with pytest.raises(ImportStateError, match="before imports could be resumed"):
        import_resume(run=run, by=None)

    assert import_cancel(run=run, by=None).status == ImportStatus.CANCELED
