"""The customer page's tasks panel and the Today page's "Your tasks" section."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tend.tasks.models import Priority
from tend.tasks.queries import customer_open_tasks, tasks_due_for
from tend.tasks.views import rows_context
from tend.today.actions import today_date
from tend.today.sections import Section
from tend.web.panels import Panel

PANEL_ROWS = 10
TODAY_ROWS = 20


def _panel_context(request: HttpRequest, customer: Any) -> dict[str, Any] | None:
    qs = customer_open_tasks(customer)
    tasks = list(qs[:PANEL_ROWS])
    count = len(tasks) if len(tasks) < PANEL_ROWS else qs.count()
    return {
        **rows_context(request, tasks),
        "count": count,
        "priorities": Priority.choices,
        "next": request.get_full_path(),
    }


def _today_context(request: HttpRequest) -> dict[str, Any] | None:
    today = today_date()
    qs = tasks_due_for(user=request.user, today=today)
    tasks = list(qs[:TODAY_ROWS])
    if not tasks:
        return None  # nothing due: the page stays as it was
    count = len(tasks) if len(tasks) < TODAY_ROWS else qs.count()
    return {
        **rows_context(request, tasks, today=today),
        "count": count,
        "next": request.get_full_path(),
    }


tasks_panel = Panel(
    name="tasks",
    template="tasks/_panel.html",
    context=_panel_context,
    order=30,
    column="main",
)

today_tasks = Section(name="tasks", template="tasks/_today.html", context=_today_context, order=10)
