"""Enqueue the periodic jobs of ``settings.TEND_SCHEDULES`` when they fall due."""

from __future__ import annotations

import logging
from datetime import datetime

from croniter import croniter  # type: ignore[import-untyped]
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from tend.jobs.models import ScheduledRun

log = logging.getLogger(__name__)


def last_due(cron: str, now: datetime) -> datetime:
    """The most recent time at or before ``now`` that ``cron`` fires."""
    return croniter(cron, now).get_prev(datetime)  # type: ignore[no-any-return]


def enqueue_due(now: datetime | None = None) -> list[str]:
    """Enqueue every schedule whose latest due time has no run yet; returns their names.

    Safe with any number of workers: the (name, due_at) unique constraint lets one win.
    A schedule first seen now starts from its latest due time, so a new install does not
    replay history. A spec's optional "kwargs" (JSON-serialisable) are passed to the task.
    """
    now = now or timezone.now()
    enqueued = []
    for name, spec in settings.TEND_SCHEDULES.items():
        due = last_due(spec["cron"], now)
        if ScheduledRun.objects.filter(name=name, due_at__gte=due).exists():
            continue
        try:
            with transaction.atomic():
                run = ScheduledRun.objects.create(name=name, due_at=due)
                result = import_string(spec["task"]).enqueue(**spec.get("kwargs", {}))
                run.task_id = str(result.id)
                run.save(update_fields=["task_id"])
        except IntegrityError:
            continue  # another worker claimed this run
        log.info("enqueued scheduled job %s due %s", name, due.isoformat())
        enqueued.append(name)
    return enqueued
