"""Background jobs for activity data. Thin and idempotent: they take ids and call actions."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone
from django_tasks import task

from tend.activity.actions import rollups_rebuild


@task()
def rollups_refresh(days: int = 2) -> int:
    """Recount the last ``days`` days of rollups, catching any late-arriving events."""
    since = (timezone.now() - timedelta(days=days)).date()
    return rollups_rebuild(since=since)


def rollups_pipeline_step(as_of: date) -> dict[str, int]:
    """Daily pipeline step: recount the two days up to ``as_of`` so health reads complete days."""
    return {"rollups": rollups_rebuild(since=as_of - timedelta(days=2))}


@task()
def events_partitions_maintain() -> dict[str, int]:
    """PostgreSQL: monthly events partitions ready ahead; rows that waited in DEFAULT moved."""
    from django.conf import settings

    from tend.activity.partitions import partitions_ensure

    return partitions_ensure(ahead=settings.TEND_EVENTS_PARTITIONS_AHEAD)
