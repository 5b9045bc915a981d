"""Background jobs for metrics. Thin and idempotent: safe to run again at any time."""

from __future__ import annotations

import time

from django.conf import settings
from django_tasks import task

from tend.goals.tasks import goals_evaluate_task
from tend.metrics.kpis import warm_on_demand
from tend.metrics.snapshots import snapshots_refresh

# In-process debounce of ``metrics_refresh_soon``: one look at the queue per few seconds.
_DEBOUNCE_SECONDS = 5.0
_last_queued = 0.0


@task()
def metrics_refresh(full: bool = False) -> int:
    """Rebuild the monthly snapshots of customers whose billing changed; returns rows written."""
    rows = snapshots_refresh(full=full).rows
    goals_evaluate_task.enqueue()  # goals are read from the fresh snapshots
    # The filtered views people used, computed again for this build before their next visit.
    warm_on_demand()
    return rows


@task()
def metrics_rebuild() -> int:
    """Nightly full rebuild: also re-groups customers whose plan, channel, country or tags
    changed (incremental refreshes follow the ledger, not those attributes)."""
    return metrics_refresh.call(full=True)


def metrics_refresh_soon() -> bool:
    """Queue one snapshot refresh after billing data changed, unless one is already waiting.

    Called after commit by the billing actions, so a webhook or an import is on the
    dashboard within seconds while a burst of changes still queues a single job.
    """
    global _last_queued
    if time.monotonic() - _last_queued < _DEBOUNCE_SECONDS:
        return False
    _last_queued = time.monotonic()
    backend = settings.TASKS["default"]["BACKEND"]
    if backend == "django_tasks_db.DatabaseBackend":
        from django_tasks_db.models import DBTaskResult

        waiting = DBTaskResult.objects.ready().filter(task_path=metrics_refresh.module_path)
        if waiting.exists():
            return False
    metrics_refresh.enqueue()
    return True
