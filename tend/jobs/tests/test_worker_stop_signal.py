"""A worker asked to stop (SIGTERM) just after it took a task from the queue runs that task
before it leaves, instead of leaving it "running" for ever; the tasks still waiting stay
waiting for the next worker.

The signal is delivered by calling the worker's handler at the moment it lands in a real
stop: after the claim has committed, before the task starts (django-tasks-db's own worker
exits there, with the task claimed and never run).
"""

from __future__ import annotations

import signal
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from tend.activity.tasks import rollups_refresh
from tend.jobs.queue_worker import Worker

pytestmark = pytest.mark.django_db(transaction=True)  # the worker commits its claim

DB_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


class StoppedWhileClaiming(Worker):
    """SIGTERM arrives right after the claim is committed, before the task begins."""

    def run_task(self, db_task_result: Any) -> None:
        self.shutdown(signal.SIGTERM, None)
        super().run_task(db_task_result)


def test_a_worker_stopped_just_after_taking_a_task_runs_it_and_leaves_the_rest(settings):
    settings.TASKS = DB_BACKEND
    first, second = rollups_refresh.enqueue(), rollups_refresh.enqueue()
    worker = StoppedWhileClaiming(
        queue_names=["default"],
        interval=0.1,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="stopping",
        excluded_queue_names=[],
    )

    worker.run()  # returns: the loop ends after the task in hand (no SystemExit)

    taken = DBTaskResult.objects.get(worker_ids=["stopping"])
    assert taken.status == "SUCCESSFUL"
    left = DBTaskResult.objects.exclude(pk=taken.pk).get()
    assert left.status == "READY" and left.worker_ids == []
    assert {str(taken.pk), str(left.pk)} == {str(first.id), str(second.id)}
