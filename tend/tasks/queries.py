"""Reads for the task list page, the REST API, the CLI, the customer panel and Today.

One set of filters (``TaskFilters``) drives the page, ``GET /tasks`` and ``tend tasks list``,
so the three agree on which tasks a filter means and on their order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from tend.tasks.models import Task, TaskQuerySet, TaskStatus

# The page's tabs, in order: which tasks by due day and status.
TABS: dict[str, Promise] = {
    "open": pgettext_lazy("tasks tab", "Open"),
    "today": pgettext_lazy("tasks tab", "Due today"),
    "overdue": pgettext_lazy("tasks tab", "Overdue"),
    "upcoming": pgettext_lazy("tasks tab", "Upcoming"),
    "done": pgettext_lazy("tasks tab", "Done"),
}


@dataclass(frozen=True)
class TaskFilters:
    tab: str = "open"  # one of TABS
    mine: bool = False  # only tasks assigned to the user asking
    assignee_id: int | None = None
    customer_id: int | None = None
    status: str = ""  # "", or a TaskStatus value (the API's filter; overrides the tab)
    due_before: date | None = None  # due on or before this day
    overdue: bool = False


def tasks_filtered(*, filters: TaskFilters, user: Any, today: date) -> TaskQuerySet:
    """The tasks ``filters`` select for ``user``, in list order, with what a row shows."""
    qs: TaskQuerySet = Task.objects.select_related("customer", "assignee")
    if filters.status:
        qs = qs.filter(status=filters.status)
    elif filters.tab == "today":
        qs = qs.due_on_day(today)
    elif filters.tab == "overdue":
        qs = qs.overdue(today)
    elif filters.tab == "upcoming":
        qs = qs.upcoming(today)
    elif filters.tab == "done":
        qs = qs.done()
    else:
        qs = qs.open()
    if filters.overdue:
        qs = qs.overdue(today)
    if filters.mine:
        qs = qs.assigned_to(user)
    if filters.assignee_id is not None:
        qs = qs.filter(assignee_id=filters.assignee_id)
    if filters.customer_id is not None:
        qs = qs.filter(customer_id=filters.customer_id)
    if filters.due_before is not None:
        qs = qs.filter(due_on__lte=filters.due_before)
    if filters.tab == "done" and not filters.status:
        return qs.order_by("-completed_at", "-id")
    return qs.in_order()


def tasks_due_for(*, user: Any, today: date) -> TaskQuerySet:
    """Today's "Your tasks": open tasks due today or earlier, given to ``user`` or to nobody."""
    return (
        Task.objects.select_related("customer", "assignee").due_by(today).for_user(user).in_order()
    )


def customer_open_tasks(customer: Any) -> TaskQuerySet:
    """A customer's open tasks, soonest first (the customer page's panel)."""
    return (
        Task.objects.select_related("customer", "assignee")
        .open()
        .filter(customer=customer)
        .in_order()
    )


def playbook_names(tasks: Iterable[Task]) -> dict[int, str]:
    """The name of the playbook that made each task, by task id, in at most two queries.

    A playbook task's ``source_id`` is a RunStep id (digits) or ``"<run id>:<step id>"``;
    tasks whose playbook cannot be found are left out (the page says "from a playbook").
    """
    from tend.playbooks.models import PlaybookRun, RunStep

    by_step: dict[int, list[int]] = {}
    by_run: dict[int, list[int]] = {}
    for task in tasks:
        if task.source != "playbook" or not task.source_id:
            continue
        head, sep, _rest = task.source_id.partition(":")
        if not head.isascii() or not head.isdigit() or len(head) > 18:
            continue
        (by_run if sep else by_step).setdefault(int(head), []).append(task.pk)
    names: dict[int, str] = {}
    if by_step:
        for step_pk, name in RunStep.objects.filter(pk__in=by_step).values_list(
            "pk", "run__playbook__name"
        ):
            for task_pk in by_step[step_pk]:
                names[task_pk] = name
    if by_run:
        for run_pk, name in PlaybookRun.objects.filter(pk__in=by_run).values_list(
            "pk", "playbook__name"
        ):
            for task_pk in by_run[run_pk]:
                names[task_pk] = name
    return names


def status_of(task: Task, today: date) -> str:
    """``done``, ``canceled``, ``overdue``, ``today``, ``upcoming`` or ``someday``."""
    if task.status != TaskStatus.OPEN:
        return str(task.status)
    if task.due_on is None:
        return "someday"
    if task.due_on < today:
        return "overdue"
    if task.due_on == today:
        return "today"
    return "upcoming"
