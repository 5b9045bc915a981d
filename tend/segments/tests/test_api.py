"""The segments REST API with real keys: list, create, read, change, delete, members, history,
the live count and the catalog; errors name the condition's path; read keys and viewers only
read, and a refused request changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tend.accounts.actions import apikey_create
from tend.accounts.models import AuditEntry, User
from tend.segments.actions import segment_create
from tend.segments.models import Segment
from tend.segments.tests.segment_helpers import BIG, customers

pytestmark = pytest.mark.django_db


def client_with(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def rw(owner: User) -> Client:
    return client_with(apikey_create(name="zapier", kind="read_write", by=owner)[1])


@pytest.fixture
def ro(owner: User) -> Client:
    return client_with(apikey_create(name="reader", kind="read", by=owner)[1])


def send(client: Client, method: str, path: str, body: Any = None) -> Any:
    return getattr(client, method)(
        f"/api/v1{path}",
        json.dumps(body) if body is not None else "",
        content_type="application/json",
    )


def test_a_segment_is_created_read_changed_and_deleted(rw: Client) -> None:
    _big, small = customers(100, 5)

    created = send(rw, "post", "/segments", {"name": "Big", "condition": BIG})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["member_count"] == 1
    assert body["condition"] == BIG
    assert body["rule"]
    # The members a new segment starts with are not moves.
    assert body["change_30d"] == {"entered": 0, "left": 0}
    assert body["refreshed_on"] is not None and body["refresh_error"] == ""
    assert AuditEntry.objects.get(action="segment.create").actor_label == "api:zapier"
    pk = body["id"]

    assert rw.get(f"/api/v1/segments/{pk}").json()["name"] == "Big"
    listed = rw.get("/api/v1/segments").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == pk
    assert listed["items"][0]["rule"] is None  # single reads only

    changed = send(
        rw, "patch", f"/segments/{pk}", {"condition": {"field": "size", "op": "lt", "value": 50}}
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["member_count"] == 1
    members = rw.get(f"/api/v1/segments/{pk}/members").json()
    assert [m["customer_id"] for m in members["items"]] == [small.pk]
    assert members["items"][0]["mrr"] == {"amount": "0.00", "currency": "USD"}
    history = rw.get(f"/api/v1/segments/{pk}/history").json()
    assert [(d["entered"], d["left"], d["members"]) for d in history["days"]] == [(1, 0, 1)]

    assert rw.delete(f"/api/v1/segments/{pk}").status_code == 204
    assert rw.get(f"/api/v1/segments/{pk}").status_code == 404


def test_a_bad_condition_is_a_422_naming_its_path_and_nothing_is_saved(rw: Client) -> None:
    rule = {"all": [BIG, {"any": [{"field": "tags", "op": "gt", "value": 1}]}]}
    response = send(rw, "post", "/segments", {"name": "Big", "condition": rule})
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "condition.all[1].any[0].op"
    assert "all[1].any[0].op" in error["message"]
    assert error["code"] == "range"
    assert not Segment.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Big", "condition": []},
        {"name": "Big", "condition": "size > 1"},
        {"name": "", "condition": BIG},
        {"name": "Big", "condition": BIG, "member_count": 5},
        {"name": "a\u0000b"},
        {"name": "Big", "condition": {"field": "name", "op": "eq", "value": "\ud800"}},
        {"name": "Big", "condition": {"field": "size", "op": "in", "value": list(range(2000))}},
    ],
)
def test_hostile_bodies_are_422s_that_save_nothing(rw: Client, body: dict[str, Any]) -> None:
    response = rw.post("/api/v1/segments", json.dumps(body), content_type="application/json")
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"]
    assert not Segment.objects.exists()


def test_nan_deep_json_and_garbage_are_refused(rw: Client) -> None:
    nan = '{"name": "Big", "condition": {"field": "size", "op": "gt", "value": NaN}}'
    assert rw.post("/api/v1/segments", nan, content_type="application/json").status_code == 400
    deep = '{"name": "Big", "condition": ' + '{"not": ' * 100 + "{}" + "}" * 100 + "}"
    assert rw.post("/api/v1/segments", deep, content_type="application/json").status_code == 422
    assert rw.post("/api/v1/segments", "{", content_type="application/json").status_code == 400
    assert not Segment.objects.exists()


def test_a_taken_name_is_a_409_and_a_used_segment_cannot_be_deleted(rw: Client) -> None:
    a = segment_create(by=None, name="Big", condition=BIG)
    taken = send(rw, "post", "/segments", {"name": "BIG", "condition": BIG})
    assert taken.status_code == 409 and taken.json()["errors"][0]["field"] == "name"
    segment_create(
        by=None, name="Uses big", condition={"field": "segment", "op": "eq", "value": a.pk}
    )
    refused = rw.delete(f"/api/v1/segments/{a.pk}")
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["code"] == "protected"
    assert Segment.objects.count() == 2


def test_count_without_saving_and_the_catalog(rw: Client, ro: Client) -> None:
    customers(100, 200, 5)
    counted = send(rw, "post", "/segments/count", {"condition": BIG})
    assert counted.status_code == 200
    assert counted.json()["count"] == 2 and counted.json()["condition"] == BIG
    bad = send(rw, "post", "/segments/count", {"condition": {"field": "size", "op": "between"}})
    assert bad.status_code == 422
    assert bad.json()["errors"][0] == {
        "field": "condition.value",
        "message": bad.json()["errors"][0]["message"],
        "code": "range",
    }
    unknown = send(rw, "post", "/segments/count", {"condition": {"field": "shoe", "op": "eq"}})
    assert unknown.json()["errors"][0]["code"] == "unknown"
    shapeless = send(rw, "post", "/segments/count", {"condition": {}})
    assert shapeless.status_code == 422
    assert send(ro, "post", "/segments/count", {"condition": BIG}).status_code == 403
    assert not Segment.objects.exists()

    catalog = ro.get("/api/v1/segments/catalog").json()
    names = [f["name"] for f in catalog]
    assert {"mrr", "stage", "tags", "segment", "trait:"} <= set(names)
    mrr = catalog[names.index("mrr")]
    assert {"name": "between", "label": "is between", "value": "number_range"} in mrr["operators"]
    assert catalog[names.index("trait:")]["types"]["date"]


def test_read_keys_and_viewers_only_read(ro: Client, viewer: User) -> None:
    segment = segment_create(by=None, name="Big", condition=BIG)
    viewer_key = client_with(apikey_create(name="v", kind="read", by=viewer)[1])
    for client in (ro, viewer_key):
        assert client.get(f"/api/v1/segments/{segment.pk}").status_code == 200
        assert send(client, "post", "/segments", {"name": "X"}).status_code == 403
        assert send(client, "patch", f"/segments/{segment.pk}", {"name": "X"}).status_code == 403
        assert client.delete(f"/api/v1/segments/{segment.pk}").status_code == 403
    segment.refresh_from_db()
    assert segment.name == "Big" and Segment.objects.count() == 1
    assert Client().get("/api/v1/segments").status_code == 401


def test_members_pages_run_a_constant_number_of_queries(rw: Client) -> None:
    customers(*range(100, 105))
    segment = segment_create(by=None, name="Big", condition=BIG)
    rw.get("/api/v1/segments")  # the key's first use is recorded once
    with CaptureQueriesContext(connection) as few:
        rw.get(f"/api/v1/segments/{segment.pk}/members")
    customers(*range(200, 240))
    segment_create(by=None, name="Big 2", condition=BIG)
    with CaptureQueriesContext(connection) as many:
        page = rw.get(f"/api/v1/segments/{segment.pk + 1}/members").json()
    assert page["count"] == 45 and len(page["items"]) == 45
    assert len(many) == len(few)


def test_the_endpoints_are_in_the_openapi_document() -> None:
    from tend.api.main import openapi_schema

    paths = openapi_schema()["paths"]
    for path in [
        "/api/v1/segments",
        "/api/v1/segments/{segment_id}",
        "/api/v1/segments/{segment_id}/members",
        "/api/v1/segments/{segment_id}/history",
        "/api/v1/segments/count",
        "/api/v1/segments/catalog",
    ]:
        assert path in paths


def test_the_list_runs_a_constant_number_of_queries(rw: Client) -> None:
    from tend.factories import make_plan

    plan = make_plan("pro")
    by_plan = {"field": "plan", "op": "eq", "value": plan.pk}
    segment_create(by=None, name="S0", condition=by_plan)
    rw.get("/api/v1/segments")
    with CaptureQueriesContext(connection) as few:
        rw.get("/api/v1/segments")
    for n in range(1, 10):
        segment_create(by=None, name=f"S{n}", condition=by_plan)
    with CaptureQueriesContext(connection) as many:
        assert rw.get("/api/v1/segments").json()["count"] == 10
    assert len(many) == len(few)
