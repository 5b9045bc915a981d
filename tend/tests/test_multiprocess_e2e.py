"""Acceptance (issue 18): two web processes and two worker processes on one PostgreSQL
database, under load at once, run every job once and lose nothing — also when one worker is
killed with SIGKILL in the middle of a job.

Real processes on the test database: two ``tend serve`` (gunicorn, one web process each, on
free ports) and two ``tend worker`` with the settings module
``tend.tests.multiprocess_settings`` (two schedules due every second: the marker
``multiprocess-tick`` and production's ``imports-interrupted``). At the same time:

- tracking: client threads send Segment-style ``/v1/batch`` calls with a write key,
  alternating between the two web processes, every event with its own messageId; every
  fourth batch is sent to both processes at once (a client retrying after a lost answer);
- an import: an events CSV of 100,000 rows, queued as the web app queues it, run by a worker;
- queued jobs: marker tasks (``tend.tests.multiprocess_tasks.mark``), each writing one row
  with its key, enqueued before and after the kill;
- scheduled jobs: ``multiprocess-tick`` each second, writing one row per run, and
  ``imports-interrupted`` each second, from both workers' schedulers.

Once the import has committed its first batch, the worker running it is killed with SIGKILL.
django-tasks-db leaves that task "running" for ever (it does not notice dead workers; see
docs/operations.md); the import is found again through its heartbeat: the surviving worker's
scheduler marks it interrupted, it is resumed (as the page's Resume button does) and the
surviving worker finishes it, storing every row of the file exactly once.

Then: every accepted tracking message is stored exactly once; the import stored its rows
exactly once; every queued marker ran exactly once; every scheduled due time has one
ScheduledRun, one task result and (for the tick) one row; no task was claimed twice.

The test waits on what the database shows, never on a timer, and every wait has a deadline
inside one overall budget (``BUDGET``), so it cannot hang CI.
"""

from __future__ import annotations

import base64
import csv
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections
from django.db.models import Count
from django.db.models.functions import TruncDate
from django_tasks_db.models import DBTaskResult

from tend.accounts.actions import apikey_create
from tend.activity.models import DailyRollup, Event
from tend.factories import make_customer
from tend.ingest.imports.actions import (
    event_id_prefix,
    import_create,
    import_resume,
    import_start,
)
from tend.ingest.imports.models import Import, ImportStatus
from tend.ingest.tracking.tests.live_process import (
    Server,
    post_batch,
    server_ready,
    server_spawn,
    sessions_gone,
    worker_spawn,
)
from tend.jobs.models import ScheduledRun
from tend.jobs.queue_worker import Worker as QueueWorker
from tend.tests.multiprocess_settings import TEND_SCHEDULES as TEST_SCHEDULES
from tend.tests.multiprocess_tasks import EFFECTS, mark

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="PostgreSQL only: several processes share the queue with SELECT … FOR UPDATE "
        "SKIP LOCKED and write at once; SQLite takes one writer at a time "
        "(runs in CI's PostgreSQL pass)",
    ),
]

DB_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
SETTINGS_MODULE = "tend.tests.multiprocess_settings"
BUDGET = 240.0  # seconds for the whole test, every wait included: it cannot hang CI
STALE_SECONDS = "10"  # TEND_IMPORT_STALE_SECONDS of the workers: a heartbeat every 1.7 s

CLIENTS = 4  # tracking client threads
BATCHES = 12  # per client
BATCH = 100  # events per batch
RETRY_EVERY = 4  # every 4th batch is sent again, to the other web process
USERS = 24
COMPANIES = 8
EVENT_NAMES = ["Report Created", "Invite Sent", "Signed In"]

CUSTOMERS = 40  # of the import (c0…c39; the tracking companies are co-0…co-7)
ROWS = 100_000  # two batches of 50,000: the kill lands between them
MARKS_BEFORE = 30  # queued marker jobs enqueued before the kill
MARKS_AFTER = 30  # and after it (only the surviving worker is left to run them)

IMPORT_TASK = "tend.ingest.imports.tasks.import_process"


@pytest.fixture
def effects() -> Iterator[None]:
    """The marker tasks' table (no unique key: a job run twice shows as two rows)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {EFFECTS}")
        cursor.execute(
            f"CREATE TABLE {EFFECTS} (id bigserial PRIMARY KEY, key text NOT NULL, "
            "task_id text NOT NULL, worker_id text NOT NULL, pid integer NOT NULL, "
            "at timestamptz NOT NULL DEFAULT now())"
        )
    yield
    connections.close_all()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {EFFECTS}")


def effect_rows() -> list[tuple[str, str, str, int]]:
    """(key, task id, worker id, pid) of every marker run so far."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, task_id, worker_id, pid FROM {EFFECTS} ORDER BY id")
        return [tuple(row) for row in cursor.fetchall()]  # type: ignore[misc]


# --- the processes ------------------------------------------------------------------------


@dataclass
class Cluster:
    """The web and worker processes of one test, with one deadline for every wait."""

    tmp_path: Path
    deadline: float
    servers: list[Server] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    killed: set[int] = field(default_factory=set)

    def web(self, name: str) -> Server:
        data = self.tmp_path / name
        data.mkdir()
        self.servers.append(server_spawn(data, workers=1))
        return self.servers[-1]

    def worker(self, *args: str) -> subprocess.Popen[bytes]:
        log = self.tmp_path / f"worker-{len(self.workers)}.log"
        process = worker_spawn(
            log,
            *args,
            DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
            TEND_IMPORT_STALE_SECONDS=STALE_SECONDS,
        )
        self.workers.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        self.killed.add(process.pid)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def logs(self) -> str:
        paths = sorted(self.tmp_path.glob("worker-*.log")) + [s.log for s in self.servers]
        return "\n".join(
            f"--- {path.parent.name}/{path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in paths
        )

    def check_alive(self, what: str) -> None:
        for process in self.workers:
            if process.pid not in self.killed and process.poll() not in (None, 0):
                raise AssertionError(f"a worker exited while waiting for {what}\n{self.logs()}")
        for server in self.servers:
            if server.process.poll() is not None:
                raise AssertionError(f"a web process exited while waiting for {what}")

    def wait_for(self, what: str, check: Callable[[], bool], *, limit: float = 90.0) -> None:
        """Poll ``check`` until true; fail after ``limit`` s or at the overall deadline."""
        deadline = min(time.monotonic() + limit, self.deadline)
        while not check():
            self.check_alive(what)
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}\n{self.logs()}")
            time.sleep(0.05)

    def stop_all(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)
        for server in self.servers:
            server.kill()
        connections.close_all()
        sessions_gone()


def drain() -> None:
    """Run the tasks still waiting in the queue, here, and return once it is empty."""
    QueueWorker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="drain",
        excluded_queue_names=[],
    ).run()


# --- tracking load ------------------------------------------------------------------------


@dataclass
class Tracking:
    """Client threads sending batches to both web processes in turn."""

    servers: list[Server]
    auth: str
    sent: set[str] = field(default_factory=set)
    answers: Counter[int] = field(default_factory=Counter)
    retries: int = 0
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def batch(self, client: int, number: int) -> list[dict[str, Any]]:
        at = datetime.now(UTC).isoformat()
        return [
            {
                "type": "track",
                "userId": f"user-{(client * 7 + number + i) % USERS}",
                "event": EVENT_NAMES[i % len(EVENT_NAMES)],
                "messageId": f"mp-{client}-{number}-{i}",
                "timestamp": at,
                "properties": {"n": i},
            }
            for i in range(BATCH)
        ]

    def post(self, server: Server, batch: list[dict[str, Any]], *, retry: bool) -> None:
        status, _answer = post_batch(server, self.auth, {"batch": batch})
        with self.lock:
            self.answers[status] += 1
            self.retries += retry
            if status == 200:
                self.sent.update(m["messageId"] for m in batch)

    def client(self, client: int) -> None:
        for number in range(BATCHES):
            batch = self.batch(client, number)
            first = self.servers[(client + number) % 2]
            if number % RETRY_EVERY:
                self.post(first, batch, retry=False)
                continue
            # A client that gave up waiting sends the same batch again, to the other process,
            # while the first is still being stored.
            other = self.servers[(client + number + 1) % 2]
            again = threading.Thread(target=self.post, args=(other, batch), kwargs={"retry": True})
            again.start()
            self.post(first, batch, retry=False)
            again.join()

    def start(self) -> None:
        self.began = time.monotonic()
        self.threads = [threading.Thread(target=self.client, args=(n,)) for n in range(CLIENTS)]
        for thread in self.threads:
            thread.start()

    def join(self, cluster: Cluster) -> None:
        for thread in self.threads:
            thread.join(timeout=max(cluster.left(), 1.0))
            assert not thread.is_alive(), f"a tracking client hangs\n{cluster.logs()}"
        self.seconds = time.monotonic() - self.began


def group_users(server: Server, auth: str) -> None:
    """Each tracking user belongs to one of the companies (created by these group calls)."""
    setup = [
        {
            "type": "group",
            "userId": f"user-{n}",
            "groupId": f"co-{n % COMPANIES}",
            "traits": {"name": f"Company {n % COMPANIES}"},
        }
        for n in range(USERS)
    ]
    assert post_batch(server, auth, {"batch": setup}) == (200, b'{"success": true}')


# --- the import ---------------------------------------------------------------------------


def events_file(path: Path) -> None:
    """ROWS events of the import's customers, without message ids (the import makes them)."""
    start = datetime(2026, 3, 1, tzinfo=UTC)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["customer", "event", "timestamp"])
        for i in range(ROWS):
            when = start + timedelta(seconds=7 * i)
            out.writerow(
                [f"c{i % CUSTOMERS}", EVENT_NAMES[i % 3], when.strftime("%Y-%m-%dT%H:%M:%SZ")]
            )


def import_status(run: Import) -> str:
    run.refresh_from_db()
    return str(run.status)


# --- the test -----------------------------------------------------------------------------


def test_two_web_and_two_worker_processes_under_load_run_each_job_once_and_lose_nothing(
    tmp_path: Path, owner: Any, effects: None, settings: Any
) -> None:
    began = time.monotonic()
    settings.TASKS = DB_BACKEND  # what this process enqueues goes to the workers
    write_key = apikey_create(name="load", kind="write", by=owner)[1]
    auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    for n in range(CUSTOMERS):
        make_customer(f"Imported {n}", external_id=f"c{n}")
    path = tmp_path / "events.csv"
    events_file(path)

    cluster = Cluster(tmp_path, deadline=began + BUDGET)
    try:
        # Given two web processes and two workers on one database,
        servers = [cluster.web("web-a"), cluster.web("web-b")]
        cluster.worker("--interval", "0.1", "--schedule-interval", "0.5")
        cluster.worker("--interval", "0.1", "--schedule-interval", "0.5")
        for server in servers:
            server_ready(server)
        group_users(servers[0], auth)
        started = time.monotonic()

        # both taking queued jobs and the jobs their schedulers enqueue,
        keys = [f"before-{n}" for n in range(MARKS_BEFORE)]
        marks = [mark.enqueue(key).id for key in keys]
        cluster.wait_for(
            "both workers to run marker jobs",
            lambda: len({worker for _k, _t, worker, _p in effect_rows()}) == 2,
        )
        pids = {worker: pid for _k, _t, worker, pid in effect_rows()}

        # when clients send tracking batches to both web processes and an import is queued,
        tracking = Tracking(servers, auth)
        tracking.start()
        run = import_create(kind="events", path=path, file_name="events.csv", by=owner)
        import_start(run=run, by=owner, dry_run=False)  # queued, as the web app does

        # and the worker running the import is killed with SIGKILL after its first batch,
        def first_batch_committed() -> bool:
            run.refresh_from_db()
            return run.rows_read > 0

        cluster.wait_for("the import's first batch", first_batch_committed)
        victim_id = DBTaskResult.objects.get(task_path=IMPORT_TASK).worker_ids[-1]
        (victim,) = [w for w in cluster.workers if w.pid == pids[victim_id]]
        (survivor,) = [w for w in cluster.workers if w is not victim]
        cluster.kill(victim)
        killed_at = time.monotonic()
        run.refresh_from_db()
        assert run.status == ImportStatus.RUNNING
        assert 0 < run.rows_read < ROWS, "the kill lands in the middle of the import"

        # while more queued jobs arrive,
        more = [f"after-{n}" for n in range(MARKS_AFTER)]
        marks += [mark.enqueue(key).id for key in more]
        keys += more

        # the surviving worker's scheduler finds the import interrupted (its heartbeat
        # stopped); resumed as the page's Resume button does, the survivor finishes it.
        cluster.wait_for(
            "the import to be marked interrupted",
            lambda: import_status(run) == ImportStatus.INTERRUPTED,
        )
        interrupted_after = time.monotonic() - killed_at
        import_resume(run=run, by=owner)
        cluster.wait_for(
            "the resumed import to finish",
            lambda: import_status(run) in (ImportStatus.DONE, ImportStatus.FAILED),
        )
        tracking.join(cluster)
        cluster.wait_for(
            "every queued marker job to run",
            lambda: (
                DBTaskResult.objects.filter(id__in=marks, status="SUCCESSFUL").count() == len(marks)
            ),
        )
        load_seconds = time.monotonic() - started

        # Stop the survivor (SIGTERM: it ends the task in hand), then run what its scheduler
        # enqueued last with tend worker's queue worker in this process, until it is empty.
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(timeout=max(cluster.left(), 1.0)) == 0, cluster.logs()
        drain()
    finally:
        cluster.stop_all()

    # Then every accepted tracking message is stored exactly once (retries included),
    assert dict(tracking.answers) == {200: CLIENTS * BATCHES + tracking.retries}
    stored = list(Event.objects.filter(message_id__startswith="mp-").values_list("message_id"))
    assert len(stored) == len(tracking.sent) == CLIENTS * BATCHES * BATCH
    assert {mid for (mid,) in stored} == tracking.sent
    assert not Event.objects.filter(message_id__startswith="mp-", customer__isnull=True).exists()

    # the import stored every row of the file exactly once, over two attempts,
    run.refresh_from_db()
    assert run.status == ImportStatus.DONE, run.error
    assert (run.rows_read, run.created, run.duplicates, run.rejected) == (ROWS, ROWS, 0, 0)
    assert run.attempt == 2
    prefix = event_id_prefix(run.digest)
    assert Event.objects.filter(message_id__startswith=prefix).count() == ROWS
    assert Event.objects.count() == ROWS + len(tracking.sent)
    # The daily rollups count every stored event once: none twice for a retried batch, none
    # for the batch the kill rolled back.
    rollups = Counter[tuple[int, date, str]]()
    for customer, day, name, count in DailyRollup.objects.values_list(
        "customer_id", "day", "name", "count"
    ):
        rollups[(customer, day, name)] += count
    per_day = (
        Event.objects.annotate(day=TruncDate("timestamp", tzinfo=UTC))
        .values_list("customer_id", "day", "name")
        .annotate(n=Count("id"))
        .order_by()
    )
    assert rollups == Counter({(c, d, n): count for c, d, n, count in per_day})
    # its first task stays "running" with the dead worker (django-tasks-db does not notice
    # dead workers); the resumed one ran on the survivor. (A second task for the resumed import,
    # should imports_requeue_lost have looked between the resume's commit and its enqueue,
    # finds the import taken and does nothing: it returns 0.)
    survivor_id = next(w for w, p in pids.items() if p == survivor.pid)
    first_task, *resumed = DBTaskResult.objects.filter(task_path=IMPORT_TASK).order_by(
        "enqueued_at"
    )
    assert (first_task.status, first_task.worker_ids) == ("RUNNING", [victim_id])
    assert {t.status for t in resumed} == {"SUCCESSFUL"}
    assert sorted(t.return_value for t in resumed) == [0] * (len(resumed) - 1) + [ROWS]
    assert next(t for t in resumed if t.return_value == ROWS).worker_ids == [survivor_id]

    # every queued marker job ran exactly once,
    runs = effect_rows()
    assert Counter(key for key, *_ in runs if not key.startswith("tick:")) == Counter(keys)
    assert set(DBTaskResult.objects.filter(id__in=marks).values_list("status", flat=True)) == {
        "SUCCESSFUL"
    }

    # every scheduled due time was enqueued once, its task run once,
    for name, spec in TEST_SCHEDULES.items():
        task_ids = list(ScheduledRun.objects.filter(name=name).values_list("task_id", flat=True))
        assert len(task_ids) >= 5, f"{name} fell due at least every few seconds"
        assert "" not in task_ids
        assert len(set(task_ids)) == len(task_ids)
        results = DBTaskResult.objects.filter(task_path=spec["task"])
        assert {str(pk) for pk in results.values_list("id", flat=True)} == set(task_ids)
        assert set(results.values_list("status", flat=True)) == {"SUCCESSFUL"}
    ticks = Counter(key.removeprefix("tick:") for key, *_ in runs if key.startswith("tick:"))
    tick_ids = ScheduledRun.objects.filter(name="multiprocess-tick").values_list(
        "task_id", flat=True
    )
    assert ticks == Counter(tick_ids), "each tick ran exactly once"
    assert len({pid for key, _t, _w, pid in runs if key.startswith("tick:")}) >= 2

    # and no task was ever claimed by two workers, none failed.
    assert all(len(ids) == 1 for ids in DBTaskResult.objects.values_list("worker_ids", flat=True))
    assert not DBTaskResult.objects.filter(status="FAILED").exists()

    total = time.monotonic() - began
    due = ScheduledRun.objects.filter(name="multiprocess-tick").order_by("due_at")
    first, last = due.first(), due.last()
    assert first is not None and last is not None
    span = (last.due_at - first.due_at).total_seconds() + 1
    print(
        f"\nmultiprocess e2e: {len(tracking.sent)} tracking events ({tracking.retries} batches "
        f"sent twice) in {tracking.seconds:.1f} s = {len(tracking.sent) / tracking.seconds:.0f} "
        f"events/s beside a {ROWS}-row import; {len(keys)} queued jobs; "
        f"{due.count()} ticks over {span:.0f} s of due times; import interrupted "
        f"{interrupted_after:.1f} s after the kill; load {load_seconds:.1f} s; "
        f"test {total:.1f} s"
    )
