"""The task actions: each writes the row, an audit row and a timeline entry; bad input names
the field and saves nothing; a key makes creation idempotent."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from tend.accounts.actions import user_create
from tend.accounts.models import AuditEntry
from tend.customers.models import TimelineEntry, TimelineKind
from tend.customers.timeline import TASK_MESSAGES, describe
from tend.factories import make_customer
from tend.tasks.actions import (
    task_cancel,
    task_complete,
    task_create,
    task_reassign,
    task_reopen,
    task_snooze,
    task_update,
)
from tend.tasks.models import Task, TaskStatus
from tend.today.actions import today_date

pytestmark = pytest.mark.django_db
TODAY = today_date()


def entries(customer: Any) -> list[str]:
    return [
        describe(e)
        for e in TimelineEntry.objects.filter(customer=customer, kind=TimelineKind.TASK).order_by(
            "at", "id"
        )
    ]


def test_a_task_goes_through_its_life_with_an_audit_row_and_a_timeline_entry_each_step(
    owner: Any, member: Any
) -> None:
    acme = make_customer("Acme")
    task = task_create(
        title="  Call   about renewal ",
        by=owner,
        customer=acme,
        assignee=member,
        due_on=TODAY,
        priority=3,
        notes="Ask about seats",
    )
    assert task.title == "Call about renewal"
    assert task.created_by == owner and task.status == TaskStatus.OPEN
    task = task_snooze(task=task, until=TODAY + timedelta(days=7), by=member)
    assert task.due_on == task.snoozed_until == TODAY + timedelta(days=7)
    task = task_reassign(task=task, assignee=owner, by=member)
    assert task.assignee == owner
    task = task_complete(task=task, by=owner)
    assert task.status == TaskStatus.DONE and task.completed_by == owner
    assert task.completed_at is not None
    task = task_reopen(task=task, by=owner)
    assert task.status == TaskStatus.OPEN and task.completed_at is None
    task = task_update(task=task, by=owner, title="Call about the renewal", priority=1)
    task = task_cancel(task=task, by=owner)
    assert task.status == TaskStatus.CANCELED
    until = (TODAY + timedelta(days=7)).isoformat()
    assert entries(acme) == [
        "Task created: Call about renewal",
        f"Task snoozed until {until}: Call about renewal",
        "Task assigned to olivia: Call about renewal",
        "Task done: Call about renewal",
        "Task reopened: Call about renewal",
        "Task changed: Call about the renewal",
        "Task canceled: Call about the renewal",
    ]
    actions = list(
        AuditEntry.objects.filter(object_type="tasks.task", object_id=str(task.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "task.create",
        "task.snooze",
        "task.reassign",
        "task.complete",
        "task.reopen",
        "task.update",
        "task.cancel",
    ]


def test_timeline_entries_read_in_the_readers_language(owner: Any) -> None:
    acme = make_customer("Acme")
    task = task_create(title="Call", by=owner, customer=acme)
    task_complete(task=task, by=owner)
    with translation.override("zh-hans"):
        texts = entries(acme)
    assert len(texts) == 2 and all("Call" in t for t in texts)


def test_every_task_message_id_renders(owner: Any) -> None:
    acme = make_customer("Acme")
    for msg in TASK_MESSAGES:
        entry = TimelineEntry.objects.create(
            customer=acme,
            kind=TimelineKind.TASK,
            data={"msg": msg, "title": "T", "until": "2030-01-01", "assignee": "ann"},
        )
        assert "T" in describe(entry) and "%(" not in describe(entry)


def test_a_task_without_a_customer_writes_no_timeline_entry(owner: Any) -> None:
    task = task_create(title="Write the newsletter", by=owner)
    task_complete(task=task, by=owner)
    assert TimelineEntry.objects.filter(kind=TimelineKind.TASK).count() == 0
    assert AuditEntry.objects.filter(object_type="tasks.task").count() == 2


def test_the_same_key_twice_creates_one_task(owner: Any) -> None:
    acme = make_customer("Acme")
    first = task_create(title="Welcome call", customer=acme, key="run:1:step:2", source="playbook")
    again = task_create(title="Another title", customer=acme, key="run:1:step:2")
    assert again.pk == first.pk and again.title == "Welcome call"
    assert Task.objects.count() == 1
    assert len(entries(acme)) == 1
    assert entries(acme) == ["Task created by a playbook: Welcome call"]


def test_completing_twice_completes_once(owner: Any, member: Any) -> None:
    acme = make_customer("Acme")
    task = task_create(title="Call", customer=acme)
    stale = Task.objects.get(pk=task.pk)
    task_complete(task=task, by=owner)
    again = task_complete(task=stale, by=member)
    assert again.completed_by == owner
    assert entries(acme) == ["Task created: Call", "Task done: Call"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "a\x00b"}, "title"),
        ({"title": "a\ud800b"}, "title"),
        ({"title": 42}, "title"),
        ({"notes": "\x00"}, "notes"),
        ({"notes": "x" * 10_001}, "notes"),
        ({"priority": 0}, "priority"),
        ({"priority": True}, "priority"),
        ({"priority": "3"}, "priority"),
        ({"due_on": date(1, 1, 1)}, "due_on"),
        ({"due_on": date(9999, 12, 31)}, "due_on"),
        ({"due_on": "2026-01-01"}, "due_on"),
        ({"source": "x" * 31}, "source"),
        ({"source_id": "x" * 65}, "source_id"),
        ({"key": "k\x00"}, "key"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(fields: dict[str, Any], field: str) -> None:
    values = {"title": "Call", **fields}
    with pytest.raises(ValidationError) as caught:
        task_create(**values)
    assert field in caught.value.message_dict
    assert Task.objects.count() == 0 and AuditEntry.objects.count() == 0


def test_only_active_owners_and_members_can_be_given_tasks(owner: Any, viewer: Any) -> None:
    gone = user_create(username="gone", password="x" * 12, role="member", by=None)
    gone.is_active = False
    gone.save()
    for person in (viewer, gone):
        with pytest.raises(ValidationError) as caught:
            task_create(title="Call", assignee=person)
        assert "assignee" in caught.value.message_dict
    task = task_create(title="Call", assignee=owner)
    with pytest.raises(ValidationError):
        task_reassign(task=task, assignee=viewer, by=owner)
    assert Task.objects.get().assignee == owner
    assert task_reassign(task=task, assignee=None, by=owner).assignee is None


def test_a_snooze_must_be_after_today_and_only_on_an_open_task(owner: Any) -> None:
    task = task_create(title="Call", due_on=TODAY)
    for day in (TODAY, TODAY - timedelta(days=1), date(10, 1, 1)):
        with pytest.raises(ValidationError) as caught:
            task_snooze(task=task, until=day, by=owner)
        assert "until" in caught.value.message_dict
    task_complete(task=task, by=owner)
    with pytest.raises(ValidationError) as caught:
        task_snooze(task=task, until=TODAY + timedelta(days=1), by=owner)
    assert "status" in caught.value.message_dict
    assert Task.objects.get().due_on == TODAY


def test_a_canceled_task_is_reopened_before_it_is_completed(owner: Any) -> None:
    task = task_cancel(task=task_create(title="Call"), by=owner)
    with pytest.raises(ValidationError):
        task_complete(task=task, by=owner)
    assert task_complete(task=task_reopen(task=task, by=owner), by=owner).status == "done"


def test_update_refuses_unknown_fields_and_changes_nothing(owner: Any) -> None:
    task = task_create(title="Call")
    with pytest.raises(ValidationError) as caught:
        task_update(task=task, by=owner, status="done")
    assert "status" in caught.value.message_dict
    with pytest.raises(ValidationError):
        task_update(task=task, by=owner, title="New", priority=9)
    assert Task.objects.get().title == "Call"
