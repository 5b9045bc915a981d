"""Marker tasks for tend/tests/test_multiprocess_e2e.py. Each run writes one row (its key,
the task result's id, the worker id and process id) to the table ``EFFECTS``, which the test
creates and drops: a job run twice shows as two rows with one key, a lost one as none."""

from __future__ import annotations

import os

from django.db import connection
from django_tasks import TaskContext, task

EFFECTS = "multiprocess_effect"


def effect_record(context: TaskContext, key: str) -> None:
    result = context.task_result
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {EFFECTS} (key, task_id, worker_id, pid) VALUES (%s, %s, %s, %s)",
            [key, str(result.id), result.worker_ids[-1], os.getpid()],
        )


@task(takes_context=True)
def tick(context: TaskContext) -> None:
    """The scheduled marker: one row per run, keyed by the run's task id."""
    effect_record(context, f"tick:{context.task_result.id}")


@task(takes_context=True)
def mark(context: TaskContext, key: str) -> None:
    """A queued marker: one row per run, keyed by what the test gave it."""
    effect_record(context, key)
