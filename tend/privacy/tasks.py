"""Background jobs of the privacy app. Thin and safe to run again."""

from __future__ import annotations

from django_tasks import task

from tend.privacy.retention import retention_apply


@task()
def retention_apply_task() -> dict[str, int]:
    """Remove data past its retention (scheduled daily as "retention-apply")."""
    return retention_apply()
