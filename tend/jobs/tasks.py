"""Scheduled jobs of the jobs app: the daily pipeline and the outbox consumers."""

from __future__ import annotations

from django_tasks import task

from tend.changes.consumers import consumers_run
from tend.jobs.pipeline import pipeline_run
from tend.jobs.recover import tasks_recover_lost


@task()
def pipeline_daily() -> dict[str, float]:
    """The daily pipeline for today (UTC); returns each step's seconds."""
    return {result.name: round(result.seconds, 3) for result in pipeline_run()}


@task()
def changes_react() -> dict[str, int]:
    """Let every registered consumer act on the customer changes it has not seen yet."""
    return consumers_run()


@task()
def tasks_recover() -> int:
    """Queue again the tasks left running by a worker that stopped sending heartbeats."""
    return len(tasks_recover_lost())
