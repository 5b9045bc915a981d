"""Tasks lost with a killed worker are queued again.

The database queue marks a task "running" when a worker claims it and "successful" or
"failed" when it ends. A worker killed with ``kill -9`` (or a host that dies) ends neither:
the task would stay "running" for ever and never run. Each ``tend worker`` claims tasks under
its own id (``WORKER_ID_PREFIX`` + a random hex) and writes that id in its heartbeat row
(tend.observability) every 30 seconds. A task still running under an id whose heartbeat has
not been seen for ``TEND_TASK_LOST_SECONDS`` is marked failed (``WorkerLost``, shown on
/operations/) and enqueued again with the same arguments, once. Tasks are idempotent
(ENGINEERING.md), so running one again after a partial run is safe.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tend.observability.models import WorkerBeat

log = logging.getLogger(__name__)

WORKER_ID_PREFIX = "tw-"


class WorkerLost(Exception):
    """The worker running this task stopped sending heartbeats; the task was queued again."""


def tasks_recover_lost(now: datetime | None = None) -> list[str]:
    """Fail and re-enqueue every task left running by a worker not seen for
    ``TEND_TASK_LOST_SECONDS``; returns the ids of the new queue entries.

    Only tasks claimed by ``tend worker`` (ids with ``WORKER_ID_PREFIX``) are judged: a task
    claimed by some other runner has no heartbeat to go by. Safe with several workers at once:
    each lost task is locked (SKIP LOCKED) and re-checked before it is failed, so it is
    queued again exactly once."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.TEND_TASK_LOST_SECONDS)
    live = set(
        WorkerBeat.objects.filter(seen_at__gte=cutoff)
        .exclude(task_worker_id="")
        .values_list("task_worker_id", flat=True)
    )
    candidates = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=cutoff
    ).values_list("pk", "worker_ids")
    requeued: list[str] = []
    for pk, worker_ids in candidates:
        worker = worker_ids[-1] if worker_ids else ""
        if not worker.startswith(WORKER_ID_PREFIX) or worker in live:
            continue
        with transaction.atomic():
            lost = (
                DBTaskResult.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, status=TaskResultStatus.RUNNING)
                .first()
            )
            if lost is None:
                continue  # finished meanwhile, or another worker is recovering it
            lost.status = TaskResultStatus.FAILED
            lost.finished_at = now
            lost.exception_class_path = f"{WorkerLost.__module__}.{WorkerLost.__qualname__}"
            lost.traceback = (
                f"WorkerLost: worker {worker} was last seen before {cutoff.isoformat()} "
                f"while running this task; it was queued again."
            )
            lost.save(update_fields=["status", "finished_at", "exception_class_path", "traceback"])
            arguments = lost.args_kwargs or {}
            again = lost.task.enqueue(*arguments.get("args", []), **arguments.get("kwargs", {}))
            requeued.append(str(again.id))
        log.warning(
            "task %s (%s) lost with worker %s; queued again as %s",
            pk,
            lost.task_path,
            worker,
            again.id,
        )
    return requeued
