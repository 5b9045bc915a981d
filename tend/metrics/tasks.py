"""Background jobs for metrics. Thin and idempotent: safe to run again at any time."""

from __future__ import annotations

from django_tasks import task

from tend.metrics.snapshots import snapshots_refresh


@task()
def metrics_refresh(full: bool = False) -> int:
    """Rebuild the monthly snapshots of customers whose billing changed; returns rows written."""
    return snapshots_refresh(full=full).rows
