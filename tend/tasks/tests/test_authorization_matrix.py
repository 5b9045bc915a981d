"""Every task page and endpoint × owner, member, viewer, outsider and every API key kind: owners
and members read and write, viewers read, outsiders (no login, no key) nothing; a refused
request changes nothing (tasks, audit rows, timeline entries compared before and after)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from tend.accounts.actions import apikey_create, user_create
from tend.accounts.models import AuditEntry, Role
from tend.customers.models import TimelineEntry
from tend.factories import make_customer
from tend.tasks.actions import task_create
from tend.tasks.models import Task
from tend.today.actions import today_date

pytestmark = pytest.mark.django_db
TODAY = today_date()


def snapshot() -> tuple[Any, ...]:
    return (
        sorted(
            Task.objects.values_list(
                "pk", "title", "status", "assignee_id", "due_on", "priority", "notes"
            )
        ),
        AuditEntry.objects.filter(object_type="tasks.task").count(),
        TimelineEntry.objects.count(),
    )


@pytest.fixture
def world(owner: Any, member: Any) -> dict[str, Any]:
    acme = make_customer("Acme")
    open_task = task_create(title="Open", customer=acme, assignee=member, due_on=TODAY)
    done_task = task_create(title="Finished", customer=acme, assignee=member)
    Task.objects.filter(pk=done_task.pk).update(status="done")
    return {"customer": acme, "open": open_task, "done": done_task, "owner": owner}


def page_writes(w: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    t, d = w["open"].pk, w["done"].pk
    later = (TODAY + timedelta(days=3)).isoformat()
    return [
        ("/tasks/new/", {"title": "Made", "priority": "2", "customer": w["customer"].pk}),
        (f"/tasks/{t}/snooze/", {"when": "date", "until": later}),
        (f"/tasks/{t}/reassign/", {"assignee": w["owner"].pk}),
        (f"/tasks/{t}/complete/", {}),
        (f"/tasks/{d}/reopen/", {}),
        ("/tasks/complete/", {"ids": [d]}),
    ]


PAGE_READS = ["/tasks/", "/tasks/?tab=done&who=mine", "/tasks/customers/?q=ac", "/today/"]


@pytest.mark.parametrize("who", ["owner", "member"])
def test_owners_and_members_read_and_write_every_page(
    who: str, world: dict[str, Any], owner_client: Client, member_client: Client
) -> None:
    client = owner_client if who == "owner" else member_client
    for url in [*PAGE_READS, "/tasks/new/", f"/customers/{world['customer'].pk}/"]:
        assert client.get(url).status_code == 200, url
    for url, data in page_writes(world):
        before = snapshot()
        response = client.post(url, data)
        assert response.status_code == 302, (url, response.content[:300])
        assert snapshot() != before, url


def test_a_viewer_reads_but_every_write_is_refused_and_changes_nothing(
    world: dict[str, Any], viewer_client: Client
) -> None:
    for url in PAGE_READS:
        assert viewer_client.get(url).status_code == 200, url
    html = viewer_client.get("/tasks/").content.decode()
    assert "Open" in html and "Complete" not in html and "New task" not in html
    assert viewer_client.get("/tasks/new/").status_code == 200  # the form shows; saving is refused
    before = snapshot()
    for url, data in page_writes(world):
        assert viewer_client.post(url, data).status_code == 403, url
        assert viewer_client.post(url, data, HTTP_HX_REQUEST="true").status_code == 403, url
    assert snapshot() == before


def test_an_outsider_is_sent_to_log_in_and_changes_nothing(
    world: dict[str, Any], outsider_client: Client
) -> None:
    for url in PAGE_READS:
        response = outsider_client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"], url
    before = snapshot()
    for url, data in page_writes(world):
        response = outsider_client.post(url, data)
        assert response.status_code in (302, 403), url
        assert "Location" not in response or "/login" in response["Location"]
    assert snapshot() == before


# --- REST: key kinds × roles -------------------------------------------------------------


def api_reads(w: dict[str, Any]) -> list[str]:
    return ["/api/v1/tasks", f"/api/v1/tasks/{w['open'].pk}", "/api/v1/tasks?status=done"]


def api_writes(w: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    t, d = w["open"].pk, w["done"].pk
    later = (TODAY + timedelta(days=3)).isoformat()
    return [
        ("post", "/api/v1/tasks", {"title": "By key"}),
        ("patch", f"/api/v1/tasks/{t}", {"title": "Renamed by key"}),
        ("post", f"/api/v1/tasks/{t}/snooze", {"until": later}),
        ("post", f"/api/v1/tasks/{t}/reassign", {"assignee": None}),
        ("post", f"/api/v1/tasks/{t}/complete", None),
        ("post", f"/api/v1/tasks/{d}/reopen", None),
        ("post", f"/api/v1/tasks/{d}/cancel", None),
    ]


def expected(kind: str, role: str, *, write: bool) -> int:
    if kind == "write":
        return 403  # ingestion keys cannot use the REST API
    if write and (kind == "read" or role == Role.VIEWER):
        return 403
    return 200


@pytest.mark.parametrize("role", [Role.OWNER, Role.MEMBER, Role.VIEWER])
@pytest.mark.parametrize("kind", ["read", "read_write", "write"])
def test_a_key_does_only_what_its_kind_and_its_user_may(
    world: dict[str, Any], kind: str, role: str
) -> None:
    # Made while its user could own it, then the user's role changed: rights follow the user.
    user = user_create(username=f"k{kind}{role}", password="x" * 12, role=Role.MEMBER)
    raw = apikey_create(name=f"{kind}-{role}", kind=kind, by=user)[1]
    user.role = role
    user.save(update_fields=["role"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    for url in api_reads(world):
        assert client.get(url).status_code == expected(kind, role, write=False), url
    status = expected(kind, role, write=True)
    for method, url, body in api_writes(world):
        before = snapshot()
        call = getattr(client, method)
        response = (
            call(url, body, content_type="application/json") if body is not None else call(url)
        )
        want = 201 if status == 200 and url == "/api/v1/tasks" else status
        assert response.status_code == want, (url, response.content[:300])
        if status != 200:
            assert snapshot() == before, url
    if status == 200:
        labels = set(
            AuditEntry.objects.filter(object_type="tasks.task", actor=user).values_list(
                "actor_label", flat=True
            )
        )
        assert labels == {f"api:{kind}-{role}"}


def test_no_key_is_a_401_and_changes_nothing(world: dict[str, Any]) -> None:
    client = Client()
    for url in api_reads(world):
        assert client.get(url).status_code == 401
    before = snapshot()
    for method, url, body in api_writes(world):
        call = getattr(client, method)
        response = call(url, body or {}, content_type="application/json")
        assert response.status_code in (401, 403), url
    assert snapshot() == before


def test_a_revoked_or_deactivated_users_key_is_refused(world: dict[str, Any]) -> None:
    user = user_create(username="leaver", password="x" * 12, role=Role.MEMBER)
    raw = apikey_create(name="leaver", kind="read_write", by=user)[1]
    user.is_active = False
    user.save(update_fields=["is_active"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    before = snapshot()
    assert client.get("/api/v1/tasks").status_code == 401
    assert (
        client.post("/api/v1/tasks", {"title": "x"}, content_type="application/json").status_code
        == 401
    )
    assert snapshot() == before
