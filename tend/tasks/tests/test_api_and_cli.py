"""``/api/v1/tasks`` and ``tend tasks``: the same tasks in the same order as the page; writes
by key act as the key's user; bad input is a 422 naming the field."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tend.accounts.actions import apikey_create
from tend.accounts.models import AuditEntry
from tend.customers.models import TimelineEntry
from tend.factories import make_customer
from tend.tasks.actions import task_complete, task_create
from tend.tasks.models import Task, TaskStatus
from tend.today.actions import today_date

pytestmark = pytest.mark.django_db
TODAY = today_date()


def client_with(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def rw(member: Any) -> Client:
    return client_with(apikey_create(name="zapier", kind="read_write", by=member)[1])


@pytest.fixture
def ro(member: Any) -> Client:
    return client_with(apikey_create(name="reader", kind="read", by=member)[1])


def cli(*args: str) -> str:
    out = StringIO()
    call_command("tasks", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def some(owner: Any, member: Any) -> dict[str, Task]:
    acme = make_customer("Acme")
    return {
        "overdue": task_create(
            title="Overdue", customer=acme, assignee=member, due_on=TODAY - timedelta(days=2)
        ),
        "today": task_create(title="Today", assignee=owner, due_on=TODAY, priority=3),
        "later": task_create(title="Later", assignee=member, due_on=TODAY + timedelta(days=9)),
        "done": task_complete(task=task_create(title="Done", assignee=member), by=owner),
    }


def test_api_cli_and_page_list_the_same_tasks_in_the_same_order(
    ro: Client, member_client: Client, some: dict[str, Task]
) -> None:
    api = ro.get("/api/v1/tasks").json()
    printed = json.loads(cli("list", "--json"))
    page = [
        int(m)
        for m in re.findall(r'id="task-(\d+)"', member_client.get("/tasks/").content.decode())
    ]
    assert [i["id"] for i in api["items"]] == [i["id"] for i in printed["items"]] == page
    assert page == [some["overdue"].pk, some["today"].pk, some["later"].pk]
    assert api["items"] == printed["items"]
    first = api["items"][0]
    assert first["state"] == "overdue" and first["customer_name"] == "Acme"
    assert first["assignee"] == "mike" and first["priority"] == 2


@pytest.mark.parametrize(
    ("query", "expect"),
    [
        ("mine=true", ["overdue", "later"]),
        ("assignee=olivia", ["today"]),
        ("overdue=true", ["overdue"]),
        ("status=done", ["done"]),
        (f"due_before={TODAY.isoformat()}", ["overdue", "today"]),
    ],
)
def test_api_filters(ro: Client, some: dict[str, Task], query: str, expect: list[str]) -> None:
    items = ro.get(f"/api/v1/tasks?{query}").json()["items"]
    assert [i["id"] for i in items] == [some[k].pk for k in expect]


def test_api_filter_by_customer_and_unknown_assignee(ro: Client, some: dict[str, Task]) -> None:
    acme = some["overdue"].customer_id
    items = ro.get(f"/api/v1/tasks?customer={acme}").json()["items"]
    assert [i["id"] for i in items] == [some["overdue"].pk]
    response = ro.get("/api/v1/tasks?assignee=nobody_here")
    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "unknown"
    assert ro.get("/api/v1/tasks?bogus=1").status_code == 422


def test_create_get_update_and_every_verb_over_the_api(rw: Client, owner: Any) -> None:
    acme = make_customer("Acme")
    due = (TODAY + timedelta(days=3)).isoformat()
    response = rw.post(
        "/api/v1/tasks",
        {"title": "Send quote", "customer_id": acme.pk, "due_on": due, "assignee": "olivia"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    task = response.json()
    assert task["source"] == "api" and task["created_by"] == "mike" and task["due_on"] == due
    tid = task["id"]
    assert rw.get(f"/api/v1/tasks/{tid}").json() == task
    response = rw.patch(
        f"/api/v1/tasks/{tid}", {"priority": 3, "notes": "v2"}, content_type="application/json"
    )
    assert response.json()["priority"] == 3 and response.json()["notes"] == "v2"
    until = (TODAY + timedelta(days=10)).isoformat()
    response = rw.post(
        f"/api/v1/tasks/{tid}/snooze", {"until": until}, content_type="application/json"
    )
    assert response.json()["due_on"] == until and response.json()["snoozed_until"] == until
    response = rw.post(
        f"/api/v1/tasks/{tid}/reassign", {"assignee": None}, content_type="application/json"
    )
    assert response.json()["assignee"] is None
    assert rw.post(f"/api/v1/tasks/{tid}/complete").json()["status"] == "done"
    assert rw.post(f"/api/v1/tasks/{tid}/complete").json()["completed_by"] == "mike"
    assert rw.post(f"/api/v1/tasks/{tid}/reopen").json()["status"] == "open"
    assert rw.post(f"/api/v1/tasks/{tid}/cancel").json()["status"] == "canceled"
    labels = set(
        AuditEntry.objects.filter(object_type="tasks.task").values_list("actor_label", flat=True)
    )
    assert labels == {"api:zapier"} or all("zapier" in label for label in labels)
    assert TimelineEntry.objects.filter(customer=acme, kind="task").count() == 7


def test_create_with_a_key_twice_returns_the_first_task(rw: Client) -> None:
    body = {"title": "Welcome", "key": "import:42"}
    first = rw.post("/api/v1/tasks", body, content_type="application/json")
    again = rw.post("/api/v1/tasks", {**body, "title": "Other"}, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["title"] == "Welcome"
    assert Task.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "a\u0000b"}, "title"),
        ({"title": 5}, "title"),
        ({"title": "ok", "due_on": "0000-00-00"}, "due_on"),
        ({"title": "ok", "due_on": "10000-01-01"}, "due_on"),
        ({"title": "ok", "due_on": "1999-12-31"}, "due_on"),
        ({"title": "ok", "due_on": 20260101}, "due_on"),
        ({"title": "ok", "priority": 4}, "priority"),
        ({"title": "ok", "priority": "2"}, "priority"),
        ({"title": "ok", "priority": 2.0}, "priority"),
        ({"title": "ok", "assignee": "vera"}, "assignee"),
        ({"title": "ok", "assignee": "ghost"}, "assignee"),
        ({"title": "ok", "customer_id": 999999}, "customer_id"),
        ({"title": "ok", "customer_id": 2**70}, "customer_id"),
        ({"title": "ok", "status": "done"}, "status"),
        ({"title": "ok", "notes": "x" * 10_001}, "notes"),
    ],
)
def test_bad_create_is_a_422_naming_the_field_and_saves_nothing(
    rw: Client, viewer: Any, body: dict[str, Any], field: str
) -> None:
    response = rw.post("/api/v1/tasks", body, content_type="application/json")
    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["errors"]]
    assert Task.objects.count() == 0


def test_a_lone_surrogate_in_the_body_is_a_422(rw: Client) -> None:
    response = rw.post("/api/v1/tasks", '{"title": "a\\ud800b"}', content_type="application/json")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "title"


@pytest.mark.parametrize("until", ["0000-00-00", "10000-01-01", "2026-13-01", "tomorrow", None])
def test_bad_snooze_dates_over_the_api(rw: Client, some: dict[str, Task], until: Any) -> None:
    tid = some["later"].pk
    response = rw.post(
        f"/api/v1/tasks/{tid}/snooze", {"until": until}, content_type="application/json"
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "until"
    past = rw.post(
        f"/api/v1/tasks/{tid}/snooze", {"until": TODAY.isoformat()}, content_type="application/json"
    )
    assert past.status_code == 422 and past.json()["errors"][0]["code"] == "range"
    assert Task.objects.get(pk=tid).due_on == some["later"].due_on


def test_unknown_task_is_a_404(rw: Client) -> None:
    assert rw.get("/api/v1/tasks/999999").status_code == 404
    assert rw.post("/api/v1/tasks/999999/complete").status_code == 404


# --- CLI -----------------------------------------------------------------------------------


def test_cli_add_done_snooze_assign_reopen(owner: Any, member: Any) -> None:
    acme = make_customer("Acme")
    due = (TODAY + timedelta(days=1)).isoformat()
    out = cli("add", "Call Acme", "--customer", str(acme.pk), "--due", due, "--user", "mike")
    task = Task.objects.get()
    assert out.strip() == f"Task {task.pk}: Call Acme"
    assert task.assignee == member and task.created_by == member and task.source == "cli"
    day = (TODAY + timedelta(days=5)).isoformat()
    assert "Snoozed until" in cli("snooze", str(task.pk), day)
    assert Task.objects.get().due_on.isoformat() == day
    assert "Assigned to olivia" in cli("assign", str(task.pk), "olivia")
    assert "Assigned to nobody" in cli("assign", str(task.pk), "-")
    assert "Done: Call Acme" in cli("done", str(task.pk), "--user", "olivia")
    assert Task.objects.get().completed_by == owner
    assert "Reopened" in cli("reopen", str(task.pk))
    assert AuditEntry.objects.filter(object_type="tasks.task", actor_label="cli").count() == 4


def test_cli_list_filters(some: dict[str, Task], member: Any) -> None:
    table = cli("list")
    assert "Overdue" in table and "(overdue)" in table and "3 task(s)." in table
    mine = json.loads(cli("list", "--mine", "--user", "mike", "--json"))["items"]
    assert [i["id"] for i in mine] == [some["overdue"].pk, some["later"].pk]
    today = json.loads(cli("list", "--due-today", "--json"))["items"]
    assert [i["id"] for i in today] == [some["today"].pk]
    overdue = json.loads(cli("list", "--overdue", "--json"))["items"]
    assert [i["id"] for i in overdue] == [some["overdue"].pk]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", ""), "title"),
        (("add", "x" * 201), "title"),
        (("add", "ok", "--due", "0000-00-00"), "--due"),
        (("add", "ok", "--due", "10000-01-01"), "--due"),
        (("add", "ok", "--due", "1999-01-01"), "due_on"),
        (("add", "ok", "--assignee", "vera"), "assignee"),
        (("add", "ok", "--user", "vera"), "viewer"),
        (("add", "ok", "--customer", "999"), "--customer"),
        (("snooze", "999", "2030-01-01"), "No task"),
        (("list", "--mine"), "--mine"),
    ],
)
def test_cli_refuses_bad_input_with_the_field(
    viewer: Any, args: tuple[str, ...], message: str
) -> None:
    with pytest.raises(CommandError, match=re.escape(message)):
        cli(*args)
    assert Task.objects.count() == 0


def test_cli_snooze_to_today_is_refused(member: Any) -> None:
    task = task_create(title="T", due_on=TODAY)
    with pytest.raises(CommandError, match="until"):
        cli("snooze", str(task.pk), TODAY.isoformat())
    assert Task.objects.get().status == TaskStatus.OPEN and Task.objects.get().due_on == TODAY


def test_task_schemas_do_not_shadow_other_apps_schemas_in_the_document() -> None:
    # ninja names components by class name: a second ``SnoozeIn`` would replace Today's.
    from tend.api.main import openapi_schema

    schemas = openapi_schema()["components"]["schemas"]
    assert set(schemas["SnoozeIn"]["properties"]) == {"days"}
    assert set(schemas["TaskSnoozeIn"]["properties"]) == {"until"}
    assert set(schemas["TaskReassignIn"]["properties"]) == {"assignee"}
