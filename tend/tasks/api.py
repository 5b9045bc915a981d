"""REST endpoints for tasks: list with filters, get, create (idempotent with ``key``), update,
complete, snooze, reassign, reopen, cancel.

Authorised by tend.api.auth before they run: read keys and viewers only read; a
``read_write`` key of an owner or member writes, acting as its user. ValidationError from the
actions becomes a 422 naming the field (code ``range`` for a date outside what is allowed
today); a username or customer id that names nothing stored is a 422 with code ``unknown``.
``GET /tasks`` selects and orders tasks as the Tasks page and ``tend tasks list`` do.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status
from pydantic import Field as PydanticField

from tend.accounts.models import User
from tend.api.auth import Principal
from tend.api.errors import UNKNOWN, FieldError
from tend.api.schemas import (
    ERRORS,
    ERRORS_404,
    UNSET,
    Id,
    InputSchema,
    IsoDate,
    Page,
    PageParams,
    PathId,
    QueryBool,
    QueryId,
    StrictInt,
    Username,
    UtcDatetime,
    paginate,
)
from tend.customers.models import Customer
from tend.tasks.actions import (
    task_cancel,
    task_complete,
    task_create,
    task_reassign,
    task_reopen,
    task_snooze,
    task_update,
)
from tend.tasks.models import Task
from tend.tasks.queries import TaskFilters, playbook_names, status_of, tasks_filtered
from tend.tasks.validation import EARLIEST_DUE, MAX_KEY, MAX_NOTES, MAX_TITLE, MAX_YEARS_AHEAD
from tend.today.actions import today_date

router = Router(tags=["tasks"])

DUE_DOC = (
    f"ISO date (UTC), from {EARLIEST_DUE.isoformat()} to {MAX_YEARS_AHEAD} years after today; "
    "outside that a 422 with code `range`."
)
# At least one character that is not white space: a title of spaces is no title.
TITLE_PATTERN = r"[^\s\x1c-\x1f]"
Title = Annotated[
    str,
    PydanticField(
        min_length=1,
        max_length=MAX_TITLE,
        pattern=TITLE_PATTERN,
        description=f"1–{MAX_TITLE} characters, not only white space; runs of white space "
        "become one space.",
    ),
]
Notes = Annotated[str, PydanticField(max_length=MAX_NOTES)]
Priority = Annotated[StrictInt, PydanticField(ge=1, le=3, description="1 low, 2 normal, 3 high.")]


class TaskOut(Schema):
    id: int
    title: str
    notes: str
    status: str = Field(..., description="`open`, `done` or `canceled`.")
    state: str = Field(
        ...,
        description="`overdue`, `today`, `upcoming`, `someday` (open, no due date), "
        "`done` or `canceled`, as of today (UTC).",
    )
    customer_id: int | None
    customer_name: str | None
    assignee: str | None = Field(..., description="Username, or null for nobody.")
    due_on: date | None
    snoozed_until: date | None
    priority: int = Field(..., description="1 low, 2 normal, 3 high.")
    source: str = Field(..., description="Empty (by hand), `api`, `playbook`, …")
    source_id: str
    playbook: str | None = Field(..., description="The playbook's name for a playbook task.")
    key: str | None
    created_by: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    completed_at: UtcDatetime | None
    completed_by: str | None


class TaskPage(Page):
    items: list[TaskOut]


class TaskQuery(Schema):
    mine: QueryBool = Field(False, description="Only tasks assigned to you (the key's user).")
    assignee: Username | None = Field(None, description="Only tasks assigned to this user.")
    customer: QueryId | None = Field(None, description="Only this customer's tasks (its id).")
    status: Literal["open", "done", "canceled"] = Field("open", description="Default `open`.")
    due_before: IsoDate | None = Field(None, description="Only tasks due on or before this day.")
    overdue: QueryBool = Field(False, description="Only open tasks due before today (UTC).")


class TaskCreateIn(InputSchema):
    title: Title
    customer_id: Id | None = Field(None, description="The customer the task is about.")
    assignee: Username | None = Field(
        None, description="An active owner or member (viewers cannot be given tasks)."
    )
    due_on: IsoDate | None = Field(None, description=DUE_DOC)
    priority: Priority = 2
    notes: Notes = ""
    key: Annotated[str, PydanticField(min_length=1, max_length=MAX_KEY)] | None = Field(
        None,
        description="Idempotency key: a second create with the same key returns the first "
        "task (200) and changes nothing.",
    )


class TaskUpdateIn(InputSchema):
    title: Title = UNSET
    notes: Notes = UNSET
    customer_id: Id | None = UNSET
    assignee: Username | None = UNSET
    due_on: IsoDate | None = Field(UNSET, description=DUE_DOC)
    priority: Priority = UNSET


class TaskSnoozeIn(InputSchema):
    until: IsoDate = Field(
        ...,
        description="A day after today (UTC) and at most "
        f"{MAX_YEARS_AHEAD} years ahead; the task becomes due then.",
    )


class TaskReassignIn(InputSchema):
    assignee: Username | None = Field(..., description="Username, or null for nobody.")


def _principal(request: HttpRequest) -> Principal:
    principal: Principal = request.auth  # type: ignore[attr-defined]
    return principal


def _name(user: User | None) -> str | None:
    return user.username if user is not None else None


def task_out(task: Task, *, names: dict[int, str], today: date) -> dict[str, Any]:
    return {
        "id": task.pk,
        "title": task.title,
        "notes": task.notes,
        "status": task.status,
        "state": status_of(task, today),
        "customer_id": task.customer_id,
        "customer_name": task.customer.name if task.customer is not None else None,
        "assignee": _name(task.assignee),
        "due_on": task.due_on,
        "snoozed_until": task.snoozed_until,
        "priority": task.priority,
        "source": task.source,
        "source_id": task.source_id,
        "playbook": names.get(task.pk),
        "key": task.key,
        "created_by": _name(task.created_by),
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "completed_at": task.completed_at,
        "completed_by": _name(task.completed_by),
    }


SELECT = ("customer", "assignee", "created_by", "completed_by")


def _one(task_id: int) -> dict[str, Any]:
    task = Task.objects.select_related(*SELECT).filter(pk=task_id).first()
    if task is None:
        raise Http404(f"Task {task_id} not found.")
    return task_out(task, names=playbook_names([task]), today=today_date())


def _task(task_id: int) -> Task:
    task = Task.objects.select_related("customer").filter(pk=task_id).first()
    if task is None:
        raise Http404(f"Task {task_id} not found.")
    return task


def _user(username: str | None, field: str = "assignee") -> User | None:
    if username is None:
        return None
    user = User.objects.filter(username=username).first()
    if user is None:
        raise FieldError(field, f"No user with username {username!r}.", code=UNKNOWN)
    return user


def _customer(customer_id: int | None) -> Customer | None:
    if customer_id is None:
        return None
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise FieldError("customer_id", f"No customer with id {customer_id}.", code=UNKNOWN)
    return customer


@router.get("/tasks", response={200: TaskPage, **ERRORS})
def task_list_endpoint(
    request: HttpRequest, filters: Query[TaskQuery], paging: Query[PageParams]
) -> dict[str, Any]:
    """Tasks, soonest due first then highest priority (done and canceled: latest first)."""
    who = _principal(request)
    assignee = _user(filters.assignee) if filters.assignee else None
    today = today_date()
    qs = tasks_filtered(
        filters=TaskFilters(
            mine=filters.mine,
            assignee_id=assignee.pk if assignee is not None else None,
            customer_id=filters.customer,
            status=filters.status,
            due_before=filters.due_before,
            overdue=filters.overdue,
        ),
        user=who.user,
        today=today,
    ).select_related(*SELECT)
    if filters.status != "open":
        qs = qs.order_by("-updated_at", "-id")
    page = paginate(qs, paging)
    tasks = list(page["items"])
    names = playbook_names(tasks)
    page["items"] = [task_out(t, names=names, today=today) for t in tasks]
    return page


@router.get("/tasks/{task_id}", response={200: TaskOut, **ERRORS_404})
def task_get_endpoint(request: HttpRequest, task_id: PathId) -> dict[str, Any]:
    """One task."""
    return _one(task_id)


@router.post("/tasks", response={200: TaskOut, 201: TaskOut, **ERRORS})
def task_create_endpoint(request: HttpRequest, payload: TaskCreateIn) -> Status:
    """Create a task (201); with a ``key`` already used, the existing task (200)."""
    who = _principal(request)
    if payload.key is not None:
        existing = Task.objects.filter(key=payload.key).values_list("pk", flat=True).first()
        if existing is not None:
            return Status(200, _one(existing))
    task = task_create(
        title=payload.title,
        by=who.user,
        label=who.label,
        customer=_customer(payload.customer_id),
        assignee=_user(payload.assignee),
        due_on=payload.due_on,
        priority=payload.priority,
        notes=payload.notes,
        source="api",
        key=payload.key,
    )
    return Status(201, _one(task.pk))


@router.patch("/tasks/{task_id}", response={200: TaskOut, **ERRORS_404})
def task_update_endpoint(
    request: HttpRequest, task_id: PathId, payload: TaskUpdateIn
) -> dict[str, Any]:
    """Change any of title, notes, customer_id, assignee, due_on, priority (all or none)."""
    who = _principal(request)
    task = _task(task_id)
    fields = payload.model_dump(exclude_unset=True)
    if "customer_id" in fields:
        fields["customer"] = _customer(fields.pop("customer_id"))
    if "assignee" in fields:
        fields["assignee"] = _user(fields["assignee"])
    task_update(task=task, by=who.user, label=who.label, **fields)
    return _one(task_id)


@router.post("/tasks/{task_id}/complete", response={200: TaskOut, **ERRORS_404})
def task_complete_endpoint(request: HttpRequest, task_id: PathId) -> dict[str, Any]:
    """Mark the task done (a done task stays as it was)."""
    who = _principal(request)
    task_complete(task=_task(task_id), by=who.user, label=who.label)
    return _one(task_id)


@router.post("/tasks/{task_id}/snooze", response={200: TaskOut, **ERRORS_404})
def task_snooze_endpoint(
    request: HttpRequest, task_id: PathId, payload: TaskSnoozeIn
) -> dict[str, Any]:
    """Put an open task off until a later day; it becomes due that day."""
    who = _principal(request)
    task_snooze(task=_task(task_id), until=payload.until, by=who.user, label=who.label)
    return _one(task_id)


@router.post("/tasks/{task_id}/reassign", response={200: TaskOut, **ERRORS_404})
def task_reassign_endpoint(
    request: HttpRequest, task_id: PathId, payload: TaskReassignIn
) -> dict[str, Any]:
    """Give the task to another owner or member, or to nobody (null)."""
    who = _principal(request)
    task_reassign(
        task=_task(task_id), assignee=_user(payload.assignee), by=who.user, label=who.label
    )
    return _one(task_id)


@router.post("/tasks/{task_id}/reopen", response={200: TaskOut, **ERRORS_404})
def task_reopen_endpoint(request: HttpRequest, task_id: PathId) -> dict[str, Any]:
    """Open a done or canceled task again."""
    who = _principal(request)
    task_reopen(task=_task(task_id), by=who.user, label=who.label)
    return _one(task_id)


@router.post("/tasks/{task_id}/cancel", response={200: TaskOut, **ERRORS_404})
def task_cancel_endpoint(request: HttpRequest, task_id: PathId) -> dict[str, Any]:
    """Cancel an open task (kept, but off every list of things to do)."""
    who = _principal(request)
    task_cancel(task=_task(task_id), by=who.user, label=who.label)
    return _one(task_id)
