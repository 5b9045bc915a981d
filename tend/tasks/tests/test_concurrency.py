"""Two people (or a person and a retried playbook step) acting on the same task at the same
moment, on the real database with two connections: one completion, one task per key."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from tend.accounts.models import AuditEntry
from tend.customers.models import TimelineEntry
from tend.factories import make_customer
from tend.tasks.actions import task_complete, task_create
from tend.tasks.models import Task, TaskStatus

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(work: Callable[[int], Any], n: int = 2) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results.append(work(i))
        except Exception as exc:  # the test reports what went wrong
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_completes_at_once_complete_once(owner: Any, member: Any) -> None:
    acme = make_customer("Acme")
    task = task_create(title="Call", customer=acme)
    people = [owner, member]
    results = at_once(lambda i: task_complete(task=Task.objects.get(pk=task.pk), by=people[i]))
    assert all(isinstance(r, Task) for r in results), results
    fresh = Task.objects.get(pk=task.pk)
    assert fresh.status == TaskStatus.DONE
    assert {r.completed_by_id for r in results} == {fresh.completed_by_id}
    assert AuditEntry.objects.filter(action="task.complete").count() == 1
    assert TimelineEntry.objects.filter(customer=acme, data__msg="task_done").count() == 1


def test_two_creates_with_one_key_at_once_make_one_task(owner: Any) -> None:
    acme = make_customer("Acme")
    results = at_once(
        lambda i: task_create(title=f"Welcome {i}", customer=acme, key="run:7:step:1"), n=3
    )
    assert all(isinstance(r, Task) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Task.objects.count() == 1
    assert TimelineEntry.objects.filter(customer=acme, data__msg="task_created").count() == 1
