"""Writes on tasks: create (idempotent on ``key``), update, complete, snooze, reassign, reopen,
cancel.

Every action validates its input and raises a ``ValidationError`` naming the field at fault
(nothing is saved then), writes the row, an audit row, and — for a task about a customer — a
timeline entry stored as a message id with parameters (rendered in the reader's language by
tend.customers.timeline). Views, the REST API, the CLI and playbook steps all call these; the
callers check the role (owners and members write), the actions check the data.

Concurrency: state changes are conditional UPDATEs (``WHERE status = 'open'``), so two people
completing the same task at once complete it once and write one timeline entry; field edits
lock the row (``select_for_update``); creation with a key relies on the unique index.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tend.accounts.actions import audit_record
from tend.accounts.models import User
from tend.customers.actions import timeline_add
from tend.customers.models import Customer, TimelineKind
from tend.tasks.models import Priority, Task, TaskStatus
from tend.tasks.validation import (  # noqa: F401 - the limits, re-exported for callers
    EARLIEST_DUE,
    MAX_KEY,
    MAX_NOTES,
    MAX_SOURCE,
    MAX_SOURCE_ID,
    MAX_TITLE,
    MAX_YEARS_AHEAD,
    UPDATABLE,
    assignee_problem,
    clean_assignee,
    clean_customer,
    clean_due,
    clean_notes,
    clean_priority,
    clean_short,
    clean_title,
    due_problem,
    latest_due,
)
from tend.today.actions import today_date


def _actor(by: User | None) -> User | None:
    return by if by is not None and by.pk else None


def _timeline(task: Task, msg: str, by: User | None, **params: Any) -> None:
    """A timeline entry on the task's customer (none for a task about no customer)."""
    if task.customer_id is None:
        return
    timeline_add(
        customer=task.customer,  # type: ignore[arg-type]
        kind=TimelineKind.TASK,
        by=by,
        data={"msg": msg, "task": task.pk, "title": task.title, **params},
    )


def _person(user: User | None) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


@transaction.atomic
def task_create(
    *,
    title: str,
    by: User | None = None,
    customer: Customer | None = None,
    assignee: User | None = None,
    due_on: date | None = None,
    priority: int = Priority.NORMAL,
    notes: str = "",
    source: str = "",
    source_id: str = "",
    key: str | None = None,
    label: str = "",
) -> Task:
    """Create a task. With ``key`` it is idempotent: when a task with that key exists (made
    by an earlier call, or by a concurrent one), that task is returned and nothing is written."""
    errors: dict[str, list[Any]] = {}
    if key is not None:
        key = clean_short(key, "key", MAX_KEY, errors) or None
        if key is not None and not errors:
            existing = Task.objects.filter(key=key).first()
            if existing is not None:
                return existing
    values = {
        "title": clean_title(title, errors),
        "notes": clean_notes(notes, errors),
        "customer": clean_customer(customer, errors),
        "assignee": clean_assignee(assignee, errors),
        "due_on": clean_due(due_on, errors),
        "priority": clean_priority(priority, errors),
        "source": clean_short(source, "source", MAX_SOURCE, errors),
        "source_id": clean_short(source_id, "source_id", MAX_SOURCE_ID, errors),
    }
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    try:
        # A savepoint: if a concurrent call took the key first, only this insert is undone.
        with transaction.atomic():
            task = Task.objects.create(
                **values, key=key, created_by=_actor(by), created_at=now, updated_at=now
            )
    except IntegrityError:
        if key is None:
            raise
        existing = Task.objects.filter(key=key).first()
        if existing is None:
            raise
        return existing
    audit_record(
        by=by,
        label=label,
        action="task.create",
        obj=task,
        changes={
            "title": task.title,
            "customer": task.customer_id,
            "assignee": task.assignee_id,
            "due_on": task.due_on,
            "priority": task.priority,
            "source": task.source,
        },
    )
    _timeline(
        task,
        "task_created",
        by,
        due_on=task.due_on.isoformat() if task.due_on else None,
        assignee=_person(task.assignee),
        source=task.source,
    )
    return task


@transaction.atomic
def task_update(*, task: Task, by: User | None, label: str = "", **fields: Any) -> Task:
    """Change any of title, notes, customer, assignee, due_on, priority; all or none."""
    unknown = set(fields) - set(UPDATABLE)
    if unknown:
        raise ValidationError({f: [_("This field cannot be changed.")] for f in sorted(unknown)})
    locked = Task.objects.select_for_update(of=("self",)).get(pk=task.pk)
    errors: dict[str, list[Any]] = {}
    cleaners: dict[str, Callable[[Any, dict[str, list[Any]]], Any]] = {
        "title": clean_title,
        "notes": clean_notes,
        "customer": clean_customer,
        "assignee": clean_assignee,
        "due_on": clean_due,
        "priority": clean_priority,
    }
    values = {name: cleaners[name](value, errors) for name, value in fields.items()}
    if errors:
        raise ValidationError(errors)
    changes = {
        name: (getattr(locked, name), value)
        for name, value in values.items()
        if getattr(locked, name) != value
    }
    if not changes:
        return locked
    for name, value in values.items():
        setattr(locked, name, value)
    if "due_on" in changes:
        locked.snoozed_until = None  # a new due date replaces a snooze
    locked.updated_at = timezone.now()
    locked.save(update_fields=[*values, "snoozed_until", "updated_at"])
    audit_record(by=by, label=label, action="task.update", obj=locked, changes=changes)
    _timeline(locked, "task_updated", by, fields=sorted(changes))
    return locked


def _transition(
    task: Task, *, to: str, allowed_from: tuple[str, ...], by: User | None, **extra: Any
) -> bool:
    """Move the task to status ``to`` if it is in ``allowed_from`` now; one UPDATE, so of two
    concurrent calls exactly one moves it. True when this call moved it."""
    return bool(
        Task.objects.filter(pk=task.pk, status__in=allowed_from).update(
            status=to, updated_at=timezone.now(), **extra
        )
    )


@transaction.atomic
def task_complete(*, task: Task, by: User | None, label: str = "") -> Task:
    """Mark the task done. Completing a done task changes nothing (no second timeline entry);
    a canceled task must be reopened first."""
    now = timezone.now()
    moved = _transition(
        task,
        to=TaskStatus.DONE,
        allowed_from=(TaskStatus.OPEN,),
        by=by,
        completed_at=now,
        completed_by=_actor(by),
    )
    fresh = Task.objects.select_related("customer").get(pk=task.pk)
    if not moved:
        if fresh.status == TaskStatus.CANCELED:
            raise ValidationError(
                {"status": _("This task was canceled; reopen it before completing it.")},
                code="canceled",
            )
        return fresh
    audit_record(
        by=by, label=label, action="task.complete", obj=fresh, changes={"status": ("open", "done")}
    )
    _timeline(fresh, "task_done", by)
    return fresh


@transaction.atomic
def task_reopen(*, task: Task, by: User | None, label: str = "") -> Task:
    """Open a done or canceled task again (an open task stays as it is)."""
    before = Task.objects.filter(pk=task.pk).values_list("status", flat=True).first()
    moved = _transition(
        task,
        to=TaskStatus.OPEN,
        allowed_from=(TaskStatus.DONE, TaskStatus.CANCELED),
        by=by,
        completed_at=None,
        completed_by=None,
    )
    fresh = Task.objects.select_related("customer").get(pk=task.pk)
    if moved:
        audit_record(
            by=by,
            label=label,
            action="task.reopen",
            obj=fresh,
            changes={"status": (before, "open")},
        )
        _timeline(fresh, "task_reopened", by)
    return fresh


@transaction.atomic
def task_cancel(*, task: Task, by: User | None, label: str = "") -> Task:
    """Cancel an open task: it leaves every list of things to do but is kept."""
    moved = _transition(task, to=TaskStatus.CANCELED, allowed_from=(TaskStatus.OPEN,), by=by)
    fresh = Task.objects.select_related("customer").get(pk=task.pk)
    if not moved and fresh.status == TaskStatus.DONE:
        raise ValidationError({"status": _("This task is done; it cannot be canceled.")})
    if moved:
        audit_record(
            by=by,
            label=label,
            action="task.cancel",
            obj=fresh,
            changes={"status": ("open", "canceled")},
        )
        _timeline(fresh, "task_canceled", by)
    return fresh


@transaction.atomic
def task_snooze(*, task: Task, until: date, by: User | None, label: str = "") -> Task:
    """Put an open task off until ``until`` (after today, UTC): it becomes due that day."""
    errors: dict[str, list[Any]] = {}
    day = clean_due(until, errors, field="until")
    if day is None and not errors:
        errors["until"] = [_("Give a date such as 2026-01-31.")]
    if day is not None and day <= today_date():
        errors["until"] = [
            ValidationError(
                _("Snooze until a day after today (%(today)s).")
                % {"today": today_date().isoformat()},
                code="range",
            )
        ]
    if errors:
        raise ValidationError(errors)
    locked = Task.objects.select_for_update(of=("self",)).select_related("customer").get(pk=task.pk)
    if locked.status != TaskStatus.OPEN:
        raise ValidationError({"status": _("Only an open task can be snoozed.")}, code="not_open")
    before = locked.due_on
    locked.due_on = day
    locked.snoozed_until = day
    locked.updated_at = timezone.now()
    locked.save(update_fields=["due_on", "snoozed_until", "updated_at"])
    audit_record(
        by=by, label=label, action="task.snooze", obj=locked, changes={"due_on": (before, day)}
    )
    _timeline(locked, "task_snoozed", by, until=day.isoformat() if day else None)
    return locked


@transaction.atomic
def task_reassign(*, task: Task, assignee: User | None, by: User | None, label: str = "") -> Task:
    """Give the task to ``assignee`` (an active owner or member), or to nobody (None)."""
    errors: dict[str, list[Any]] = {}
    person = clean_assignee(assignee, errors)
    if errors:
        raise ValidationError(errors)
    locked = Task.objects.select_for_update(of=("self",)).select_related("customer").get(pk=task.pk)
    if locked.assignee_id == (person.pk if person is not None else None):
        return locked
    before = locked.assignee_id
    locked.assignee = person
    locked.updated_at = timezone.now()
    locked.save(update_fields=["assignee", "updated_at"])
    audit_record(
        by=by,
        label=label,
        action="task.reassign",
        obj=locked,
        changes={"assignee": (before, person.pk if person is not None else None)},
    )
    _timeline(locked, "task_reassigned", by, assignee=_person(person))
    return locked
