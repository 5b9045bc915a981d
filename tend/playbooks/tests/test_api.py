"""The playbooks REST API: create, read, update (version +1), status, dry run, manual start,
runs with filters and paging, run pause/resume/cancel, gallery and catalog; errors are 422s
naming the field's path and save nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tend.accounts.actions import apikey_create
from tend.accounts.models import User
from tend.factories import make_customer
from tend.playbooks.actions import playbook_gallery
from tend.playbooks.models import Playbook, PlaybookRun, RunStatus
from tend.playbooks.tests.ui_helpers import good_steps, make_playbook, snapshot, start_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(owner: User) -> Client:
    _key, raw = apikey_create(name="zapier", kind="read_write", by=owner)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def body(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Welcome",
        "trigger": "manual",
        "trigger_config": {},
        "steps": good_steps(),
    }
    data.update(overrides)
    return data


def post(api: Client, url: str, data: Any) -> Any:
    return api.post(f"/api/v1{url}", data, content_type="application/json")


def patch(api: Client, url: str, data: Any) -> Any:
    return api.patch(f"/api/v1{url}", data, content_type="application/json")


def fields(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def test_create_read_update_and_list(api: Client) -> None:
    made = post(api, "/playbooks", body(holdout_percent=10, outcome={"kind": "mrr", "days": 60}))
    assert made.status_code == 201, made.content
    data = made.json()
    assert data["status"] == "draft" and data["version"] == 1 and data["holdout_percent"] == 10
    assert data["trigger_text"] and [s["id"] for s in data["steps"]] == ["s1", "s2", "b1"]
    got = api.get(f"/api/v1/playbooks/{data['id']}")
    assert got.status_code == 200 and got.json()["name"] == "Welcome"
    changed = patch(api, f"/playbooks/{data['id']}", {"name": "Welcome aboard"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["version"] == 2 and changed.json()["name"] == "Welcome aboard"
    post(api, "/playbooks", body(name="Second"))
    listed = api.get("/api/v1/playbooks?limit=1&offset=1").json()
    assert listed["count"] == 2 and [p["name"] for p in listed["items"]] == ["Welcome aboard"]
    assert listed["items"][0]["runs"] == {
        "active": 0,
        "paused": 0,
        "done": 0,
        "failed": 0,
        "control": 0,
    }
    assert api.get("/api/v1/playbooks?status=active").json()["count"] == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"steps": [{"id": "s1", "type": "nope", "config": {}}]}, "steps[0].type"),
        ({"steps": [{"id": "s1", "type": "wait", "config": {"days": -1}}]}, "steps[0].config.days"),
        ({"trigger": "no_such_trigger"}, "trigger"),
        ({"condition": {"all": [{"field": "nope", "op": "eq", "value": 1}]}}, "condition"),
        ({"holdout_percent": 95}, "holdout_percent"),
        ({"name": ""}, "name"),
        ({"steps": [{"id": f"s{i}", "type": "wait", "config": {"days": 1}} for i in range(51)]},
         "steps"),
        ({"surprise": 1}, "surprise"),
    ],
)  # fmt: skip
def test_bad_values_are_a_422_naming_the_field_and_nothing_is_saved(
    api: Client, change: dict[str, Any], field: str
) -> None:
    before = snapshot()
    response = post(api, "/playbooks", body(**change))
    assert response.status_code == 422, response.content
    assert any(f == field or f.startswith(field) for f in fields(response)), fields(response)
    assert snapshot() == before


def test_a_bad_update_changes_nothing(api: Client) -> None:
    playbook = make_playbook()
    before = snapshot()
    bad = [*good_steps(), {"id": "s9", "type": "email", "config": {"template": 424242}}]
    response = patch(api, f"/playbooks/{playbook.pk}", {"name": "Other", "steps": bad})
    assert response.status_code == 422 and "steps[3].config.template" in fields(response)
    assert patch(api, f"/playbooks/{playbook.pk}", {"steps": None}).status_code == 422
    assert snapshot() == before


def test_status_dry_run_start_and_runs(api: Client) -> None:
    playbook = make_playbook()
    on = post(api, f"/playbooks/{playbook.pk}/status", {"status": "active"})
    assert on.status_code == 200 and on.json()["status"] == "active"
    dry = api.get(f"/api/v1/playbooks/{playbook.pk}/dry-run?limit=5")
    assert dry.status_code == 200 and dry.json()["candidates"] == 0
    a, b = make_customer("Acme"), make_customer("Globex")
    started = post(api, f"/playbooks/{playbook.pk}/start", {"customer_ids": [a.pk, b.pk]})
    assert started.status_code == 200 and started.json() == {"started": 2}
    again = post(api, f"/playbooks/{playbook.pk}/start", {"customer_ids": [999_999]})
    assert again.status_code == 422 and fields(again) == ["customer_ids"]
    neither = post(api, f"/playbooks/{playbook.pk}/start", {})
    assert neither.status_code == 422
    runs = api.get(f"/api/v1/playbooks/runs?playbook={playbook.pk}&customer={a.pk}").json()
    assert runs["count"] == 1 and runs["items"][0]["customer_name"] == "Acme"
    run_id = runs["items"][0]["id"]
    detail = api.get(f"/api/v1/playbooks/runs/{run_id}")
    assert detail.status_code == 200 and isinstance(detail.json()["steps"], list)
    paused = post(api, f"/playbooks/runs/{run_id}/pause", {})
    assert paused.status_code == 200 and paused.json()["status"] == RunStatus.PAUSED
    assert post(api, f"/playbooks/runs/{run_id}/resume", {}).json()["status"] == "active"
    assert post(api, f"/playbooks/runs/{run_id}/cancel", {}).json()["status"] == "canceled"
    assert api.get("/api/v1/playbooks/runs?status=canceled").json()["count"] == 1
    assert api.get("/api/v1/playbooks/runs?status=bogus").status_code == 422
    assert api.get("/api/v1/playbooks/runs/999999").status_code == 404
    assert api.get("/api/v1/playbooks/999999").status_code == 404


def test_gallery_install_and_catalog(api: Client) -> None:
    gallery = api.get("/api/v1/playbooks/gallery")
    assert gallery.status_code == 200
    key = playbook_gallery()[0].key
    assert {g["key"] for g in gallery.json()} >= {key}
    installed = post(api, f"/playbooks/gallery/{key}/install", {})
    assert installed.status_code == 201 and installed.json()["status"] == "draft"
    assert Playbook.objects.filter(key=key).exists()
    assert post(api, "/playbooks/gallery/nope/install", {}).status_code == 404
    catalog = api.get("/api/v1/playbooks/catalog").json()
    assert "manual" in {t["name"] for t in catalog["triggers"]}
    actions = {a["name"]: a for a in catalog["actions"]}
    assert {"wait", "wait_until", "branch", "email"} <= set(actions)
    assert any(s["kind"] == "template" for s in actions["email"]["settings"])


def test_the_runs_list_runs_a_constant_number_of_queries(api: Client) -> None:
    playbook = make_playbook(active=True)
    start_for(playbook, "A")

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/api/v1/playbooks/runs").status_code == 200
            assert api.get("/api/v1/playbooks").status_code == 200
        return len(captured)

    count()  # the key's first use of the minute records last_used_at
    few = count()
    start_for(playbook, *[f"C{i}" for i in range(20)])
    make_playbook("Other")
    assert count() == few
    assert PlaybookRun.objects.count() == 21
