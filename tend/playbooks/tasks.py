"""Background jobs of the playbook engine (scheduled in ``settings.TEND_SCHEDULES``)."""

from __future__ import annotations

import time

from django_tasks import task

from tend.playbooks.engine import playbooks_scan, runs_advance

# Runs a worker claims at a time; a job keeps claiming batches for at most BUDGET seconds
# (the next minute's job, or one enqueued when runs are created, takes over after that).
BATCH = 200
BUDGET = 50.0


@task()
def runs_advance_task() -> int:
    """Advance due playbook runs (every minute, and on commit when runs are created or resumed);
    returns the steps run."""
    deadline = time.monotonic() + BUDGET
    total = 0
    while time.monotonic() < deadline:
        done = runs_advance(limit=BATCH)
        total += done
        if not done:
            break
    return total


@task()
def playbooks_scan_task() -> int:
    """Enroll customers for date-relative, recurring and event triggers."""
    return playbooks_scan()
