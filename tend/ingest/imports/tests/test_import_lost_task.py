"""A queued import whose task was taken by a worker that died before the task claimed the
import is queued again by the every-5-minutes ``imports_interrupted_mark`` job, and runs
once; a queued import whose task waits, or runs on a live worker, is left alone.

The "killed worker" is what SIGKILL leaves in the database queue: the task claimed by a
worker id (django-tasks-db's own ``claim``), status running, and the import still queued.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tend.activity.models import Event
from tend.factories import make_customer
from tend.ingest.imports.actions import import_create, import_start, imports_requeue_lost
from tend.ingest.imports.models import Import, ImportStatus
from tend.ingest.imports.tasks import import_process, imports_interrupted_mark

pytestmark = pytest.mark.django_db

DB_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
TASK = "tend.ingest.imports.tasks.import_process"


@pytest.fixture
def queued(settings, write_csv, owner, django_capture_on_commit_callbacks) -> Import:
    """An events import queued for the database queue, its task waiting."""
    settings.TASKS = DB_BACKEND
    make_customer("Acme", external_id="c1")
    rows = [["c1", "Signed In", f"2026-03-01T10:00:{n:02d}Z", f"m-{n}"] for n in range(5)]
    path = write_csv("events.csv", ["customer", "event", "timestamp", "message id"], rows)
    run = import_create(kind="events", path=path, file_name="events.csv", by=owner)
    with django_capture_on_commit_callbacks(execute=True):  # the task is enqueued on commit
        return import_start(run=run, by=owner, dry_run=False)


def _claim_and_die(started_ago: float) -> DBTaskResult:
    """The import's task, taken by a worker that then died ``started_ago`` seconds ago."""
    task = DBTaskResult.objects.get(task_path=TASK)
    task.claim("dead-worker")
    DBTaskResult.objects.filter(pk=task.pk).update(
        started_at=timezone.now() - timedelta(seconds=started_ago)
    )
    return task


def test_a_queued_import_whose_worker_died_before_claiming_it_is_queued_again_and_runs_once(
    queued,
):
    stale = django_settings.TEND_IMPORT_STALE_SECONDS
    lost = _claim_and_die(started_ago=stale + 1)

    assert imports_interrupted_mark.call() == 1
    again = DBTaskResult.objects.filter(task_path=TASK, status="READY").get()
    assert again.args_kwargs["args"] == [queued.pk]
    assert imports_requeue_lost() == []  # its new task waits: not queued a third time

    # The new task imports the file; the lost one, should its worker come back, does nothing.
    assert import_process.call(queued.pk) == 5
    assert import_process.call(queued.pk) == 0
    queued.refresh_from_db()
    assert queued.status == ImportStatus.DONE
    assert (queued.rows_read, queued.created) == (5, 5)
    assert Event.objects.count() == 5
    assert DBTaskResult.objects.get(pk=lost.pk).status == "RUNNING"  # as django-tasks left it


def test_a_queued_import_whose_task_waits_or_runs_on_a_live_worker_is_left_alone(queued):
    assert imports_requeue_lost() == []  # its task waits in the queue
    _claim_and_die(started_ago=1)  # taken a moment ago: the worker is claiming it now
    assert imports_requeue_lost() == []
    assert DBTaskResult.objects.filter(task_path=TASK).count() == 1
    queued.refresh_from_db()
    assert queued.status == ImportStatus.QUEUED


def test_nothing_is_queued_again_with_the_immediate_backend(settings, queued):
    _claim_and_die(started_ago=django_settings.TEND_IMPORT_STALE_SECONDS + 1)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    assert imports_requeue_lost() == []
