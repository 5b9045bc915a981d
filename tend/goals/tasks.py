"""Background jobs for goals. Thin and idempotent: safe to run again at any time."""

from __future__ import annotations

from django_tasks import task

from tend.goals.actions import goals_evaluate


@task()
def goals_evaluate_task() -> int:
    """Read every active goal against the fresh snapshots; returns the status changes recorded.

    Enqueued by ``tend.metrics.tasks.metrics_refresh`` after each snapshot refresh.
    """
    return len(goals_evaluate().alerts)
