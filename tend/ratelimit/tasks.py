"""Background jobs for rate limits. Thin and idempotent."""

from __future__ import annotations

from django_tasks import task

from tend.ratelimit.actions import counters_prune as prune


@task()
def counters_prune() -> int:
    """Delete counters whose windows ended more than a day ago (scheduled hourly)."""
    return prune()
