"""The task list page, the new-task form, and the row actions (complete, snooze, reassign,
reopen) that the list, the customer panel and Today share.

A row action answers htmx with the row in its new state (status 422 with the error in the
row when the input was refused) and a plain POST with a redirect back and a message, so
every button works without JavaScript too. The list reads a fixed number of queries whatever
its length (rows with their customer and assignee, the count, playbook names, assignees).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tend.accounts.models import User
from tend.customers.models import Customer
from tend.customers.queries import search_for_picker
from tend.lib.access import can_write, write_view
from tend.tasks.actions import (
    task_complete,
    task_create,
    task_reassign,
    task_reopen,
    task_snooze,
)
from tend.tasks.forms import TaskForm, assignable_users, user_label
from tend.tasks.models import Priority, Task, TaskStatus
from tend.tasks.queries import TABS, TaskFilters, playbook_names, status_of, tasks_filtered
from tend.today.actions import today_date

PAGE_SIZE = 100
MAX_BULK = 200


def ui_text() -> dict[str, Any]:
    """Words every row repeats, translated once per page rather than once per row."""
    return {
        "complete": pgettext("task action", "Complete"),
        "reopen": _("Reopen"),
        "snooze": _("Snooze"),
        "tomorrow": _("Tomorrow"),
        "next_week": _("Next week"),
        "pick": _("Pick a date"),
        "snooze_to": _("Snooze until"),
        "reassign": _("Reassign"),
        "assign_to": _("Assign to"),
        "nobody": pgettext("assignee", "Nobody"),
        "save": _("Save"),
        "unassigned": _("Unassigned"),
        "select": _("Select"),
    }


def relative_due(due: date | None, today: date) -> str:
    """ "Due today", "Due tomorrow", "Due in 3 days", "2 days overdue", or the date."""
    if due is None:
        return _("No due date")
    days = (due - today).days
    if days == 0:
        return _("Due today")
    if days == 1:
        return _("Due tomorrow")
    if days < 0:
        return ngettext("%(n)d day overdue", "%(n)d days overdue", -days) % {"n": -days}
    if days <= 14:
        return ngettext("Due in %(n)d day", "Due in %(n)d days", days) % {"n": days}
    return _("Due %(day)s") % {"day": date_format(due)}


def task_row(task: Task, *, today: date, names: dict[int, str]) -> dict[str, Any]:
    """What a row shows of one task."""
    base = f"{reverse('tasks:list')}{task.pk}/"
    source = ""
    if task.source == "playbook":
        name = names.get(task.pk)
        source = _("from playbook “%(name)s”") % {"name": name} if name else _("from a playbook")
    customer_url = ""
    if task.customer_id is not None:
        customer_url = reverse("customers:detail", args=[task.customer_id])
    return {
        "task": task,
        "state": status_of(task, today),
        "due": relative_due(task.due_on, today),
        "due_iso": task.due_on.isoformat() if task.due_on else "",
        "priority": Priority(task.priority).label if task.priority in Priority.values else "",
        "assignee": user_label(task.assignee) if task.assignee is not None else "",
        "source": source,
        "customer_url": customer_url,
        "urls": {
            "complete": f"{base}complete/",
            "reopen": f"{base}reopen/",
            "snooze": f"{base}snooze/",
            "reassign": f"{base}reassign/",
        },
    }


def rows_context(
    request: HttpRequest, tasks: list[Task], *, today: date | None = None
) -> dict[str, Any]:
    """The context the row template needs for ``tasks`` (shared by the list, the customer
    panel and Today): a fixed number of queries for any number of rows."""
    today = today or today_date()
    names = playbook_names(tasks)
    writer = can_write(request.user)
    return {
        "rows": [task_row(t, today=today, names=names) for t in tasks],
        "ui": ui_text(),
        "can_write": writer,
        "assignees": [(u.pk, user_label(u)) for u in assignable_users()] if writer else [],
        "tomorrow": (today + timedelta(days=1)).isoformat(),
    }


def _filters(request: HttpRequest) -> TaskFilters:
    tab = request.GET.get("tab", "open")
    if tab not in TABS:
        tab = "open"
    return TaskFilters(tab=tab, mine=request.GET.get("who", "") == "mine")


@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    """Tasks by tab (open, due today, overdue, upcoming, done), everyone's or mine."""
    filters = _filters(request)
    today = today_date()
    qs = tasks_filtered(filters=filters, user=request.user, today=today)
    tasks = list(qs[:PAGE_SIZE])
    count = len(tasks) if len(tasks) < PAGE_SIZE else qs.count()
    who = "mine" if filters.mine else "all"
    tabs = [
        {
            "key": key,
            "label": label,
            "url": f"?tab={key}&who={who}",
            "active": key == filters.tab,
        }
        for key, label in TABS.items()
    ]
    return render(
        request,
        "tasks/list.html",
        {
            **rows_context(request, tasks, today=today),
            "count": count,
            "page_size": PAGE_SIZE,
            "filters": filters,
            "who": who,
            "tabs": tabs,
            "next": request.get_full_path(),
        },
    )


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "") or request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@require_http_methods(["GET", "POST"])
@write_view
def task_new(request: HttpRequest) -> HttpResponse:
    """A task made by hand: title, customer, due day, priority, assignee, notes."""
    if request.method == "POST":
        form = TaskForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                task = task_create(
                    title=data["title"],
                    by=request.user,  # type: ignore[arg-type]
                    customer=data["customer"],
                    assignee=data["assignee"],
                    due_on=data["due_on"],
                    priority=data["priority"],
                    notes=data["notes"],
                )
            except ValidationError as exc:
                for field, texts in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, texts)
            else:
                messages.success(request, _("Task “%(title)s” added.") % {"title": task.title})
                return redirect(_safe_next(request, reverse("tasks:list")))
    else:
        initial: dict[str, Any] = {"assignee": request.user.pk}
        customer_id = request.GET.get("customer", "")
        if customer_id.isascii() and customer_id.isdigit() and len(customer_id) < 19:
            initial["customer"] = int(customer_id)
        form = TaskForm(initial=initial)
    customer = None
    raw = form["customer"].value()
    if raw not in (None, "") and str(raw).isascii() and str(raw).isdigit() and len(str(raw)) < 19:
        customer = Customer.objects.filter(pk=int(raw)).first()
    return render(
        request,
        "tasks/new.html",
        {"form": form, "customer": customer, "next": _safe_next(request, "")},
        status=422 if form.is_bound else 200,
    )


@require_GET
def customer_search(request: HttpRequest) -> HttpResponse:
    """Customers matching ``q``, as choices for the new-task form's customer (htmx)."""
    text = request.GET.get("q", "")[:100].replace("\x00", "")
    results = search_for_picker(text) if text.strip() else []
    return render(
        request,
        "tasks/_customer_results.html",
        {"results": results, "searched": bool(text.strip())},
    )


# --- row actions ----------------------------------------------------------------------------


def _task(pk: int) -> Task:
    return get_object_or_404(Task.objects.select_related("customer", "assignee"), pk=pk)


def _error_text(exc: ValidationError) -> str:
    labels = {
        "until": _("Snooze until"),
        "assignee": _("Assignee"),
        "status": _("Status"),
        "title": _("Title"),
    }
    if hasattr(exc, "error_dict"):
        return " ".join(
            f"{labels.get(field, field)}: {' '.join(texts)}"
            for field, texts in exc.message_dict.items()
        )
    return " ".join(exc.messages)


def _answer(request: HttpRequest, task: Task, *, done: str, error: str = "") -> HttpResponse:
    """htmx: the row in its new state (422 with the error shown in it); else back + message."""
    if request.htmx:  # type: ignore[attr-defined]
        fresh = _task(task.pk)
        context = rows_context(request, [fresh])
        return render(
            request,
            "tasks/_row.html",
            {
                **context,
                "row": context["rows"][0],
                "notice": "" if error else done,
                "error": error,
                "next": request.POST.get("next", ""),
                "compact": request.POST.get("compact", "") == "1",
                "in_panel": request.POST.get("in_panel", "") == "1",
            },
            status=422 if error else 200,
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect(_safe_next(request, reverse("tasks:list")))


@require_POST
@write_view
def task_complete_view(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(pk)
    try:
        task = task_complete(task=task, by=request.user)  # type: ignore[arg-type]
    except ValidationError as exc:
        return _answer(request, task, done="", error=_error_text(exc))
    return _answer(request, task, done=_("Done: %(title)s") % {"title": task.title})


@require_POST
@write_view
def task_reopen_view(request: HttpRequest, pk: int) -> HttpResponse:
    task = task_reopen(task=_task(pk), by=request.user)  # type: ignore[arg-type]
    return _answer(request, task, done=_("Reopened: %(title)s") % {"title": task.title})


def snooze_day(when: str, raw: str, today: date) -> date:
    """The day a snooze button or the date box means; ValidationError naming ``until``."""
    if when == "tomorrow":
        return today + timedelta(days=1)
    if when == "next_week":
        return today + timedelta(days=7 - today.weekday())  # next Monday
    raw = raw.strip()
    try:
        if len(raw) != 10:
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(
            {"until": _("Give a date such as %(example)s.") % {"example": "2026-01-31"}}
        ) from None


@require_POST
@write_view
def task_snooze_view(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(pk)
    try:
        until = snooze_day(
            request.POST.get("when", ""), request.POST.get("until", "")[:40], today_date()
        )
        task = task_snooze(task=task, until=until, by=request.user)  # type: ignore[arg-type]
    except ValidationError as exc:
        return _answer(request, task, done="", error=_error_text(exc))
    done = _("Snoozed until %(day)s: %(title)s") % {
        "day": date_format(task.due_on) if task.due_on else "",
        "title": task.title,
    }
    return _answer(request, task, done=done)


@require_POST
@write_view
def task_reassign_view(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(pk)
    raw = request.POST.get("assignee", "")
    try:
        person: User | None = None
        if raw:
            if not (raw.isascii() and raw.isdigit() and len(raw) < 19):
                raise ValidationError({"assignee": _("Choose a user.")})
            person = User.objects.filter(pk=int(raw)).first()
            if person is None:
                raise ValidationError({"assignee": _("Choose a user.")})
        task = task_reassign(task=task, assignee=person, by=request.user)  # type: ignore[arg-type]
    except ValidationError as exc:
        return _answer(request, task, done="", error=_error_text(exc))
    if person is None:
        done = _("Unassigned: %(title)s") % {"title": task.title}
    else:
        done = _("Assigned to %(person)s: %(title)s") % {
            "person": user_label(person),
            "title": task.title,
        }
    return _answer(request, task, done=done)


@require_POST
@write_view
def task_bulk_complete_view(request: HttpRequest) -> HttpResponse:
    """Complete the ticked tasks (at most 200 at once)."""
    ids = [
        int(raw)
        for raw in request.POST.getlist("ids")[:MAX_BULK]
        if raw.isascii() and raw.isdigit() and len(raw) < 19
    ]
    done = 0
    for task in Task.objects.filter(pk__in=ids, status=TaskStatus.OPEN):
        task_complete(task=task, by=request.user)  # type: ignore[arg-type]
        done += 1
    if done:
        messages.success(
            request, ngettext("%(n)d task done.", "%(n)d tasks done.", done) % {"n": done}
        )
    else:
        messages.error(request, _("Tick the tasks to complete first."))
    return redirect(_safe_next(request, reverse("tasks:list")))
