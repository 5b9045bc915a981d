"""``GET /api/v1/audit``: owners only (session or an owner's key), the page's filters,
cursor paging, and a 422 naming the field for anything it cannot use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tend.accounts.actions import apikey_create
from tend.accounts.models import AuditEntry
from tend.api.main import openapi_schema

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def entry(action="customer.update", *, at=T0, actor=None, label="", customer_id=None):
    return AuditEntry.objects.create(
        at=at,
        actor=actor,
        actor_label=label or (actor.username if actor else "system"),
        action=action,
        object_type="customers.customer",
        object_id=str(customer_id or 1),
        customer_id=customer_id,
        changes={"name": ["A", "B"]},
        ip="192.0.2.1",
        via="api",
    )


def get(client, query="", key=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return client.get("/api/v1/audit" + ("?" + query if query else ""), **headers)


def test_an_owners_read_key_lists_entries_newest_first_with_who_and_where(client, owner):
    _key, raw = apikey_create(name="auditor", kind="read", by=owner)
    AuditEntry.objects.all().delete()
    old = entry(at=T0 - timedelta(minutes=1), actor=owner, customer_id=3)
    new = entry(actor=owner, label="api:crm", customer_id=3)
    response = get(client, key=raw)
    assert response.status_code == 200, response.content
    body = response.json()
    assert [i["id"] for i in body["items"]] == [new.pk, old.pk]
    first = body["items"][0]
    assert first["who"] == "api:crm"
    assert first["user"] == "olivia"
    assert (first["customer_id"], first["ip"], first["via"]) == (3, "192.0.2.1", "api")
    assert first["changes"] == {"name": ["A", "B"]}
    assert body["next_cursor"] is None


def test_filters_and_the_cursor_walk_every_entry_once(owner_client, owner):
    AuditEntry.objects.all().delete()
    made = [entry(at=T0 + timedelta(seconds=i // 2), customer_id=9) for i in range(7)]
    entry(customer_id=10)
    entry("task.create", customer_id=9)
    seen: list[int] = []
    cursor = ""
    while True:
        query = "customer=9&action=customer.update&limit=3" + (
            f"&cursor={cursor}" if cursor else ""
        )
        body = owner_client.get("/api/v1/audit?" + query).json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(e.pk for e in made)
    assert len(seen) == len(set(seen)) == 7


def test_the_day_range_is_half_open(owner_client):
    AuditEntry.objects.all().delete()
    entry(at=datetime(2026, 3, 1, 0, 0, tzinfo=UTC))
    entry(at=datetime(2026, 3, 2, 0, 0, tzinfo=UTC))
    body = owner_client.get("/api/v1/audit?since=2026-03-01&until=2026-03-02").json()
    assert [i["at"][:10] for i in body["items"]] == ["2026-03-01"]


def test_user_filter_takes_a_username_or_a_key_label(owner_client, owner, member):
    AuditEntry.objects.all().delete()
    entry(actor=member)
    keyed = entry(actor=member, label="api:crm")
    entry(actor=owner)
    assert len(owner_client.get("/api/v1/audit?user=mike").json()["items"]) == 2
    items = owner_client.get("/api/v1/audit?user=api:crm").json()["items"]
    assert [i["id"] for i in items] == [keyed.pk]


@pytest.mark.parametrize("persona", ["member", "viewer"])
def test_members_and_viewers_are_refused_by_session(persona, login_as, member, viewer):
    client = login_as(member if persona == "member" else viewer)
    assert client.get("/api/v1/audit").status_code == 403


def test_a_members_read_key_is_refused_and_no_key_is_a_401(client, member):
    _key, raw = apikey_create(name="m", kind="read", by=member)
    assert get(client, key=raw).status_code == 403
    assert get(client).status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=2026-13-01", "since"),
        ("since=0", "since"),
        ("until=yesterday", "until"),
        ("since=2026-03-02&until=2026-03-01", "until"),
        ("customer=abc", "customer"),
        ("customer=0", "customer"),
        ("customer=99999999999999999999999", "customer"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=1.5", "limit"),
        ("action=" + "x" * 500, "action"),
        ("user=%00", "user"),
        ("user=" + "u" * 121, "user"),
        ("cursor=garbage", "cursor"),
        ("cursor=" + "A" * 300, "cursor"),
        ("page=2", "page"),
    ],
    ids=[
        "bad-month",
        "since-number",
        "until-word",
        "until-before-since",
        "customer-text",
        "customer-zero",
        "customer-huge",
        "limit-zero",
        "limit-big",
        "limit-float",
        "action-huge",
        "user-nul",
        "user-huge",
        "cursor-garbage",
        "cursor-huge",
        "unknown-param",
    ],
)
def test_hostile_parameters_get_a_422_naming_the_field(owner_client, query, field):
    response = owner_client.get("/api/v1/audit?" + query)
    assert response.status_code in {400, 422}, response.content
    assert field in [e["field"] for e in response.json()["errors"]], response.json()


def test_the_openapi_document_states_the_limits():
    params = {
        p["name"]: p["schema"]
        for p in openapi_schema()["paths"]["/api/v1/audit"]["get"]["parameters"]
    }
    assert params["limit"]["maximum"] == 200
    assert params["limit"]["minimum"] == 1
    assert set(params) >= {"user", "customer", "action", "since", "until", "cursor", "limit"}
