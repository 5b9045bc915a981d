"""An events import whose worker is killed (SIGKILL) part-way is detected as interrupted,
shows what its committed batches stored, and a resumed run by a new worker stores every row of
the file exactly once — for a file without message ids, whose rows get ids made from the file.

Real ``tend worker`` processes on the test database, the import queued as the web app queues
it; the test waits on the database showing committed progress, never on a timer.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connections
from django.db.models import Count, Max
from django.utils import timezone

from tend.activity.models import DailyRollup, Event
from tend.customers.models import Customer, TimelineEntry
from tend.factories import make_customer
from tend.ingest.imports.actions import (
    event_id_prefix,
    import_create,
    import_resume,
    import_start,
    imports_interrupt_stale,
)
from tend.ingest.imports.events import EventWriter
from tend.ingest.imports.models import ImportBatch, ImportStatus
from tend.ingest.tracking.tests.live_process import worker_spawn

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DB_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
CUSTOMERS = 40
ROWS = 150_000  # batches of 5,000 then 50,000 rows: seconds of work, read in a second process
NAMES = ["Report Created", "Invite Sent", "Signed In"]
START = datetime(2026, 3, 1, tzinfo=UTC)
DEADLINE = 90.0


def _write_events(path: Path) -> Counter[tuple[str, str, str]]:
    """An events file WITHOUT message ids; its counts per (customer, UTC day, event)."""
    counts: Counter[tuple[str, str, str]] = Counter()
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["customer", "event", "timestamp"])
        for i in range(ROWS):
            customer, name = f"c{i % CUSTOMERS}", NAMES[i % len(NAMES)]
            when = START + timedelta(seconds=7 * i)  # about 29 days
            out.writerow([customer, name, when.strftime("%Y-%m-%dT%H:%M:%SZ")])
            counts[customer, when.date().isoformat(), name] += 1
    return counts


def _worker(tmp_path: Path, *, batch: bool) -> subprocess.Popen[bytes]:
    args = ["--no-schedule", "--interval", "0.1", *(["--batch"] if batch else [])]
    log = tmp_path / f"worker-{time.monotonic_ns()}.log"
    return worker_spawn(log, *args, TEND_DATA_DIR=str(tmp_path / "data"))


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def test_an_events_import_killed_mid_way_resumes_and_stores_every_row_exactly_once(
    tmp_path: Path, settings
) -> None:
    settings.TASKS = DB_BACKEND
    for n in range(CUSTOMERS):
        make_customer(f"Customer {n}", external_id=f"c{n}")
    path = tmp_path / "events.csv"
    expected = _write_events(path)
    run = import_create(kind="events", path=path, file_name="events.csv", by=None)
    import_start(run=run, by=None, dry_run=False)  # queued for the worker, as the web app does

    # Given a worker importing the file, killed with SIGKILL once some batches are committed…
    worker = _worker(tmp_path, batch=False)
    try:
        deadline = time.monotonic() + DEADLINE
        while True:
            run.refresh_from_db()
            if run.rows_read > 0:
                break
            assert worker.poll() is None, "the worker exited before importing anything"
            assert time.monotonic() < deadline, "the worker committed no batch in time"
            time.sleep(0.02)
        reader = _children(worker.pid)  # the second process that parses ahead
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    connections.close_all()
    run.refresh_from_db()
    assert run.status == ImportStatus.RUNNING
    assert 0 < run.rows_read < ROWS, "the import must be caught part-way"
    # The reading process does not outlive the worker it read for.
    deadline = time.monotonic() + 30
    while not all(_gone(pid) for pid in reader):
        assert time.monotonic() < deadline, f"reading processes {reader} outlived the worker"
        time.sleep(0.05)

    # … when its heartbeat is older than the stale limit, it is marked interrupted …
    assert imports_interrupt_stale(now=timezone.now()) == []  # its heartbeat is recent
    later = timezone.now() + timedelta(seconds=settings.TEND_IMPORT_STALE_SECONDS + 1)
    assert imports_interrupt_stale(now=later) == [run.pk]
    run.refresh_from_db()
    assert run.status == ImportStatus.INTERRUPTED
    # … showing what its committed batches stored, not a dry run's counts.
    stored = Event.objects.count()
    # Committed batches end at the first batch's 5,000 rows, then every 50,000 after it.
    first = EventWriter.first_batch_size
    assert run.rows_read >= first and (run.rows_read - first) % EventWriter.batch_size == 0
    assert (run.created, run.duplicates, run.rejected) == (stored, 0, 0)
    assert stored == run.rows_read
    assert sum(DailyRollup.objects.values_list("count", flat=True)) == stored

    # When it is resumed, a new worker goes on after the last committed batch.
    import_resume(run=run, by=None)
    again = _worker(tmp_path, batch=True)
    try:
        assert again.wait(timeout=DEADLINE) == 0
    finally:
        if again.poll() is None:
            again.kill()
            again.wait()
    connections.close_all()

    # Then every row of the file is stored exactly once, and every count agrees with the file.
    run.refresh_from_db()
    assert run.status == ImportStatus.DONE, run.error
    assert (run.rows_read, run.created, run.duplicates, run.rejected) == (ROWS, ROWS, 0, 0)
    assert run.customers_affected == CUSTOMERS
    assert Event.objects.count() == ROWS
    assert not Event.objects.filter(message_id__isnull=True).exists()
    assert Event.objects.values("message_id").distinct().count() == ROWS
    prefix = event_id_prefix(run.digest)  # file:<16 hex digits of its SHA-256>:<row>
    assert Event.objects.filter(message_id__startswith=prefix).count() == ROWS
    rollups = Counter(
        {
            (external_id, day.isoformat(), name): count
            for external_id, day, name, count in DailyRollup.objects.values_list(
                "customer__external_id", "day", "name", "count"
            )
        }
    )
    assert rollups == expected
    per_customer = Counter(c for c, _d, _n in expected.elements())
    assert dict(
        Event.objects.values_list("customer__external_id").annotate(n=Count("id")).order_by()
    ) == dict(per_customer)
    # Last seen counts the batches before the kill as well as those after it.
    latest = dict(Event.objects.values_list("customer_id").annotate(at=Max("timestamp")).order_by())
    assert dict(Customer.objects.values_list("pk", "last_seen_at")) == latest
    # One timeline entry per customer for the whole file, with all its rows.
    entries = TimelineEntry.objects.filter(kind="import")
    assert entries.count() == CUSTOMERS
    assert sum(e.data["rows"] for e in entries) == ROWS
    assert not ImportBatch.objects.filter(run=run).exists()
