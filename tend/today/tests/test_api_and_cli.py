"""``GET /api/v1/today`` and ``tend today`` print the same list as the page; writes by key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tend.accounts.actions import apikey_create
from tend.accounts.models import AuditEntry
from tend.today.engine import today_pipeline_step
from tend.today.models import State, TodayItem
from tend.today.tests.helpers import DAY, customer, fixed_signal, only_signals

pytestmark = pytest.mark.django_db
FOUND: dict[int, tuple[str, float]] = {}


@pytest.fixture(autouse=True)
def _plugged() -> Iterator[None]:
    FOUND.clear()
    with only_signals(fixed_signal("alpha", FOUND)):
        yield


def build(n: int, owner: Any = None) -> list[TodayItem]:
    for i in range(n):
        c = customer(f"Customer {i:03d}", mrr=str(10 * (i % 7 + 1)), owner=owner if i % 2 else None)
        FOUND[c.pk] = (f"a:{i}", 0.1 * (i % 5 + 1))
    today_pipeline_step(DAY)
    return list(TodayItem.objects.order_by("rank"))


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
    call_command("today", *args, stdout=out)
    return out.getvalue()


def test_api_and_cli_give_the_same_list_in_the_same_order_as_the_page(ro, owner_client) -> None:
    build(12)
    api = ro.get("/api/v1/today?limit=200").json()
    printed = json.loads(cli("--json", "--limit", "200"))
    assert api["count"] == printed["count"] == 12
    assert [i["id"] for i in api["items"]] == [i["id"] for i in printed["items"]]
    assert api["items"] == printed["items"]
    ranks = [i["rank"] for i in api["items"]]
    assert ranks == sorted(ranks) == list(range(1, 13))
    stakes = [float(i["money_at_stake"]["amount"]) for i in api["items"]]
    assert stakes == sorted(stakes, reverse=True)
    html = owner_client.get("/today/").content.decode()
    positions = [html.index(f'id="today-item-{i["id"]}"') for i in api["items"]]
    assert positions == sorted(positions)
    table = cli()
    rows = [line for line in table.splitlines() if "Customer 0" in line]
    assert [r.split("│")[3].strip() for r in rows] == [i["customer_name"] for i in api["items"]]
    assert "12 customer(s) need you today" in table


def test_the_api_item_states_its_values_and_reasons(ro) -> None:
    build(1)
    item = ro.get("/api/v1/today").json()["items"][0]
    assert item["reason"] == "alpha a:0"
    assert item["reasons"][0] | {"text": None} == {
        "signal": "alpha", "key": "a:0", "risk": 0.1, "text": None, "params": {"k": "a:0"}
    }  # fmt: skip
    assert item["mrr"] == {"amount": "10.00", "currency": "USD"}
    assert item["money_at_stake"] == {"amount": "1.00", "currency": "USD"}
    assert item["value_basis"] == "mrr" and item["state"] == "open" and item["health_colour"] == ""


def test_the_api_pages_and_filters_like_other_endpoints(ro, member) -> None:
    build(7, owner=member)
    page = ro.get("/api/v1/today?limit=2&offset=2").json()
    assert page["count"] == 7 and page["limit"] == 2 and page["offset"] == 2
    assert [i["rank"] for i in page["items"]] == [3, 4]
    mine = ro.get("/api/v1/today?owner=mine").json()
    assert mine["count"] == 3 and all(i["owner"] == member.username for i in mine["items"])
    bad = ro.get("/api/v1/today?signal=nope")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "signal"
    assert ro.get("/api/v1/today?owner=someone").status_code == 422
    assert ro.get("/api/v1/today?colour=red").status_code == 422  # unknown parameter
    assert ro.get("/api/v1/today?limit=0").status_code == 422


def test_the_api_list_uses_a_fixed_number_of_queries(ro) -> None:
    build(3)
    ro.get("/api/v1/today")  # the key's first use is recorded once
    with CaptureQueriesContext(connection) as small:
        ro.get("/api/v1/today")
    TodayItem.objects.all().delete()
    FOUND.clear()
    build(40)
    with CaptureQueriesContext(connection) as large:
        assert len(ro.get("/api/v1/today").json()["items"]) == 40
    assert len(large) == len(small)


def test_snooze_and_handled_through_the_api(rw) -> None:
    first, second = build(2)
    response = rw.post(
        f"/api/v1/today/{first.pk}/snooze", {"days": 14}, content_type="application/json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["snoozed_until"] == (DAY + timedelta(days=14)).isoformat()
    response = rw.post(f"/api/v1/today/{second.pk}/handled")
    assert response.status_code == 200 and response.json()["handled_at"]
    assert rw.get("/api/v1/today").json()["count"] == 0
    assert (
        AuditEntry.objects.filter(actor_label="api:zapier", action__startswith="today.").count()
        == 2
    )


@pytest.mark.parametrize(
    "body",
    [{}, {"days": 0}, {"days": 91}, {"days": "3"}, {"days": 3.0}, {"days": True}, {"days": None},
     {"days": 3, "extra": 1}, {"days": 10**30}],
)  # fmt: skip
def test_a_bad_snooze_body_is_a_422_and_changes_nothing(rw, body) -> None:
    item = build(1)[0]
    response = rw.post(f"/api/v1/today/{item.pk}/snooze", body, content_type="application/json")
    assert response.status_code == 422, response.content
    item.refresh_from_db()
    assert item.state == State.OPEN


def test_hostile_bodies_never_give_a_5xx(rw) -> None:
    item = build(1)[0]
    url = f"/api/v1/today/{item.pk}/snooze"
    deep = "[" * 5000 + "]" * 5000
    for raw in ['{"days": NaN}', deep, '{"days": "\\u0000"}', '{"days": "\\ud800"}', "nope", ""]:
        response = rw.post(url, raw, content_type="application/json")
        assert 400 <= response.status_code < 500, (raw[:20], response.status_code)
    assert rw.post("/api/v1/today/99999999/handled").status_code == 404
    assert rw.post(f"/api/v1/today/{2**64}/handled").status_code == 422
    item.refresh_from_db()
    assert item.state == State.OPEN


def test_read_keys_and_viewers_cannot_snooze_or_handle(ro, viewer) -> None:
    item = build(1)[0]
    viewer_key = client_with(apikey_create(name="v", kind="read", by=viewer)[1])
    for client in (ro, viewer_key):
        assert client.post(f"/api/v1/today/{item.pk}/handled").status_code == 403
        response = client.post(
            f"/api/v1/today/{item.pk}/snooze", {"days": 3}, content_type="application/json"
        )
        assert response.status_code == 403
        assert client.get("/api/v1/today").status_code == 200
    item.refresh_from_db()
    assert (
        item.state == State.OPEN
        and not AuditEntry.objects.filter(action__startswith="today.").exists()
    )


def test_the_cli_snoozes_and_marks_handled_and_names_bad_input(member) -> None:
    first, second = build(2)
    assert "snoozed until" in cli("snooze", str(first.pk), "--days", "3", "--user", member.username)
    assert "handled" in cli("handled", str(second.pk))
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == State.SNOOZED and first.snoozed_by == member
    assert second.state == State.HANDLED
    with pytest.raises(CommandError, match="days"):
        cli("snooze", str(first.pk), "--days", "0")
    with pytest.raises(CommandError, match="id: no Today item"):
        cli("handled", "999999")
    with pytest.raises(CommandError, match="--owner"):
        cli("--owner", "nobody")
    with pytest.raises(CommandError, match="signal"):
        cli("--signal", "nope")
