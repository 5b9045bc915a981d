"""Background jobs of the playbook engine (scheduled in ``settings.TEND_SCHEDULES``)."""

from __future__ import annotations

from django_tasks import task

from tend.playbooks.engine import playbooks_scan, runs_advance

# Runs a worker advances per job; a job that claimed a full batch enqueues the next one.
BATCH = 200


@task()
def runs_advance_task() -> int:
    """Advance due playbook runs (every minute, and on commit when runs are created or resumed)."""
    done = runs_advance(limit=BATCH)
    return done


@task()
def playbooks_scan_task() -> int:
    """Enroll customers for date-relative, recurring and event triggers."""
    return playbooks_scan()
