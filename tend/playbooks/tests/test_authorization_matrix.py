"""Who may do what on the playbook pages and endpoints: everyone logged in reads; owners and
members change playbooks (create, edit, switch on/off, start, install) and runs; viewers and
outsiders change nothing. API keys: ``read`` keys read, ``read_write`` keys write with their
user's rights, ``write`` (ingestion) keys do neither. A refused request changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tend.accounts.actions import apikey_create, user_create
from tend.accounts.models import Role
from tend.factories import make_customer
from tend.playbooks.actions import playbook_gallery
from tend.playbooks.models import PlaybookRun
from tend.playbooks.tests.ui_helpers import form_data, make_playbook, snapshot, start_for

pytestmark = pytest.mark.django_db

ROLES = ["owner", "member", "viewer", "outsider"]


@pytest.fixture
def world() -> dict[str, Any]:
    playbook = make_playbook("Shared", active=True)
    start_for(playbook, "Acme")
    run = PlaybookRun.objects.get(playbook=playbook)
    return {"playbook": playbook, "run": run, "customer": make_customer("Globex")}


def reads(w: dict[str, Any]) -> list[str]:
    p, r = w["playbook"].pk, w["run"].pk
    return [
        "/playbooks/",
        "/playbooks/gallery/",
        f"/playbooks/{p}/",
        f"/playbooks/{p}/dry-run/",
        f"/playbooks/runs/{r}/",
    ]


def writes(w: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    p, r, c = w["playbook"].pk, w["run"].pk, w["customer"].pk
    return [
        ("/playbooks/new/", form_data(name="By someone")),
        (f"/playbooks/{p}/edit/", form_data(name="Renamed")),
        (f"/playbooks/{p}/status/", {"action": "pause"}),
        (f"/playbooks/{p}/start/", {"customer": c}),
        ("/playbooks/start/", {"customer": c, "playbook": p}),
        ("/playbooks/gallery/install/", {"key": playbook_gallery()[0].key}),
        (f"/playbooks/runs/{r}/action/", {"action": "cancel"}),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_pages_by_role(role: str, world: dict[str, Any], login_as: Callable[..., Client]) -> None:
    if role == "outsider":
        client = Client()
    else:
        user = user_create(username=f"x-{role}", password="x" * 12, role=role)
        client = login_as(user)
    for url in reads(world):
        status = client.get(url).status_code
        assert status == (302 if role == "outsider" else 200), (url, status)
    editors = ["/playbooks/new/", f"/playbooks/{world['playbook'].pk}/edit/"]
    for url in editors:
        expected = {"outsider": 302, "viewer": 403}.get(role, 200)
        assert client.get(url).status_code == expected, url
    if role in ("owner", "member"):
        for url, data in writes(world):
            assert client.post(url, data).status_code == 302, url
        return
    before = snapshot()
    for url, data in writes(world):
        status = client.post(url, data).status_code
        assert status == (302 if role == "outsider" else 403), (url, status)
        if role == "outsider":
            assert "/login/" in client.post(url, data)["Location"]
    assert snapshot() == before


KEYS = [
    ("read", Role.OWNER),
    ("read_write", Role.OWNER),
    ("read_write", Role.MEMBER),
    ("read_write", Role.VIEWER),  # made while a member, the user later made a viewer
    ("write", Role.OWNER),
    ("none", Role.OWNER),
]


def key_client(kind: str, role: str) -> Client:
    if kind == "none":
        return Client()
    user = user_create(username=f"k-{kind}-{role}", password="x" * 12, role=Role.MEMBER)
    _key, raw = apikey_create(name=f"{kind}-{role}", kind=kind, by=user)
    user.role = role
    user.save(update_fields=["role"])
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.mark.parametrize(("kind", "role"), KEYS)
def test_api_by_key_kind(kind: str, role: str, world: dict[str, Any]) -> None:
    client = key_client(kind, role)
    p, r, c = world["playbook"].pk, world["run"].pk, world["customer"].pk
    read = 401 if kind == "none" else 403 if kind == "write" else 200
    for url in (
        "/playbooks",
        f"/playbooks/{p}",
        f"/playbooks/{p}/dry-run",
        "/playbooks/runs",
        f"/playbooks/runs/{r}",
        "/playbooks/gallery",
        "/playbooks/catalog",
    ):
        assert client.get(f"/api/v1{url}").status_code == read, url
    may_write = kind == "read_write" and role != Role.VIEWER
    refused = 401 if kind == "none" else 403
    calls: list[tuple[str, str, Any, int]] = [
        ("post", "/playbooks", {"name": "By key", "trigger": "manual", "steps": []}, 201),
        ("patch", f"/playbooks/{p}", {"name": "Renamed by key"}, 200),
        ("post", f"/playbooks/{p}/start", {"customer_ids": [c]}, 200),
        ("post", f"/playbooks/runs/{r}/pause", {}, 200),
        ("post", f"/playbooks/runs/{r}/cancel", {}, 200),
        ("post", f"/playbooks/{p}/status", {"status": "paused"}, 200),
        ("post", f"/playbooks/gallery/{playbook_gallery()[0].key}/install", {}, 201),
    ]
    before = snapshot()
    for method, url, data, ok in calls:
        response = getattr(client, method)(
            f"/api/v1{url}", json.dumps(data), content_type="application/json"
        )
        assert response.status_code == (ok if may_write else refused), (url, response.content)
    if not may_write:
        assert snapshot() == before
