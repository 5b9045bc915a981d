"""Background job: the hourly "digest-send" schedule (settings.TEND_SCHEDULES)."""

from __future__ import annotations

from django_tasks import task

from tend.digest.actions import digests_send_due


@task()
def digests_send() -> int:
    """Write the digests due now to the outbox (idempotent: one per user and day)."""
    return digests_send_due()
