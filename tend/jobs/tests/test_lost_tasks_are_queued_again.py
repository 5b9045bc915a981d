"""A task left "running" by a `tend worker` killed with SIGKILL (its heartbeat stopped) is
failed with WorkerLost and queued again, once; a task of a live worker, a task younger than
TEND_TASK_LOST_SECONDS and a task claimed by a runner without heartbeats are left alone.

The killed worker is what SIGKILL leaves in the database: the task claimed under the
worker's id (django-tasks-db's own ``claim``) and a heartbeat row that stopped getting fresher.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tend.jobs.recover import WORKER_ID_PREFIX, tasks_recover_lost
from tend.jobs.tasks import changes_react, tasks_recover
from tend.observability.models import WorkerBeat

pytestmark = pytest.mark.django_db

DB_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
TASK = "tend.jobs.tasks.changes_react"


@pytest.fixture
def db_queue(settings):
    settings.TASKS = DB_BACKEND
    settings.TEND_TASK_LOST_SECONDS = 600
    return settings


def _claimed(worker: str, *, started_ago: float, seen_ago: float | None) -> DBTaskResult:
    """A queued changes_react task claimed by ``worker``, which was last seen ``seen_ago``
    seconds ago (None: no heartbeat row at all)."""
    now = timezone.now()
    result = changes_react.enqueue()
    task = DBTaskResult.objects.get(pk=result.id)
    task.claim(worker)
    DBTaskResult.objects.filter(pk=task.pk).update(started_at=now - timedelta(seconds=started_ago))
    if seen_ago is not None:
        WorkerBeat.objects.create(
            host="web-1",
            pid=4242,
            started_at=now - timedelta(hours=1),
            seen_at=now - timedelta(seconds=seen_ago),
            task_worker_id=worker,
        )
    return task


def test_a_task_of_a_worker_whose_heartbeat_stopped_is_failed_and_queued_again_once(db_queue):
    lost = _claimed(f"{WORKER_ID_PREFIX}dead", started_ago=900, seen_ago=700)

    assert tasks_recover.call() == 1

    lost.refresh_from_db()
    assert lost.status == "FAILED"
    assert lost.exception_class_path == "tend.jobs.recover.WorkerLost"
    assert f"{WORKER_ID_PREFIX}dead" in lost.traceback
    again = DBTaskResult.objects.exclude(pk=lost.pk).get(task_path=TASK)
    assert (again.status, again.args_kwargs) == ("READY", lost.args_kwargs)
    # once: a second look (another worker's schedule) finds nothing left to recover
    assert tasks_recover_lost() == []
    assert DBTaskResult.objects.filter(task_path=TASK).count() == 2


def test_a_worker_that_never_wrote_a_heartbeat_row_counts_as_lost(db_queue):
    lost = _claimed(f"{WORKER_ID_PREFIX}gone", started_ago=900, seen_ago=None)

    assert len(tasks_recover_lost()) == 1
    lost.refresh_from_db()
    assert lost.status == "FAILED"


@pytest.mark.parametrize(
    ("worker", "started_ago", "seen_ago"),
    [
        (f"{WORKER_ID_PREFIX}alive", 3_600, 20),  # a long task on a live worker
        (f"{WORKER_ID_PREFIX}young", 60, None),  # claimed a minute ago: not judged yet
        ("some-other-runner", 3_600, None),  # not `tend worker`: no heartbeat to go by
    ],
    ids=["live-worker", "younger-than-the-limit", "other-runner"],
)
def test_tasks_that_may_still_be_running_are_left_alone(db_queue, worker, started_ago, seen_ago):
    task = _claimed(worker, started_ago=started_ago, seen_ago=seen_ago)

    assert tasks_recover_lost() == []
    task.refresh_from_db()
    assert task.status == "RUNNING"
    assert DBTaskResult.objects.filter(task_path=TASK).count() == 1


def test_the_limit_is_half_open_at_exactly_the_lost_seconds(db_queue):
    now = timezone.now()
    task = _claimed(f"{WORKER_ID_PREFIX}edge", started_ago=900, seen_ago=None)
    WorkerBeat.objects.create(
        host="web-1",
        pid=1,
        started_at=now - timedelta(hours=1),
        seen_at=now - timedelta(seconds=600),
        task_worker_id=f"{WORKER_ID_PREFIX}edge",
    )

    # seen exactly TEND_TASK_LOST_SECONDS ago still counts as alive ...
    assert tasks_recover_lost(now=now) == []
    # ... and a moment later it does not
    assert len(tasks_recover_lost(now=now + timedelta(microseconds=1))) == 1
    task.refresh_from_db()
    assert task.status == "FAILED"
