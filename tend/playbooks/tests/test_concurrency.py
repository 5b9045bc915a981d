"""Two workers at once on PostgreSQL: each due step is claimed and run exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection, connections

from tend.factories import make_customer
from tend.playbooks.actions import playbook_start
from tend.playbooks.engine import runs_advance
from tend.playbooks.models import RunStatus, RunStep
from tend.playbooks.tests.helpers import active_playbook, note

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_threads_claim_each_run_once() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED claims are PostgreSQL's; SQLite runs one writer at a time")
    playbook = active_playbook(steps=[note("a"), note("b"), note("c")])
    customers = [make_customer() for _ in range(40)]
    playbook_start(playbook=playbook, customers=customers, by=None)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            while runs_advance(limit=5):
                pass
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    counts: Counter[Any] = Counter(RunStep.objects.values_list("run_id", "step_id"))
    assert len(counts) == 40 * 3
    assert set(counts.values()) == {1}
    assert set(playbook.runs.values_list("status", flat=True)) == {RunStatus.DONE}
