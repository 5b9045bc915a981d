"""The REST API (real keys) and the CLI."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tend.accounts.actions import apikey_create
from tend.health.engine import health_compute, today_utc
from tend.health.models import HealthScore, Scorecard, ScorecardMeasure
from tend.health.scorecards import DEFAULT_SCORECARD
from tend.health.tests.helpers import customer, use_days

pytestmark = pytest.mark.django_db


def client_with(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def owner_rw(owner: Any) -> Client:
    return client_with(apikey_create(name="owner-rw", kind="read_write", by=owner)[1])


@pytest.fixture
def member_rw(member: Any) -> Client:
    return client_with(apikey_create(name="member-rw", kind="read_write", by=member)[1])


@pytest.fixture
def owner_ro(owner: Any) -> Client:
    return client_with(apikey_create(name="owner-ro", kind="read", by=owner)[1])


def send(client: Client, method: str, path: str, body: Any = None) -> Any:
    return getattr(client, method)(
        f"/api/v1{path}",
        json.dumps(body) if body is not None else None,
        content_type="application/json",
    )


def scored_customer() -> Any:
    c = customer()
    use_days(c, range(1, 40), end=today_utc())
    for k in range(31, -1, -1):
        health_compute(today_utc() - timedelta(days=k))
    return c


def test_customer_health_and_history(owner_ro: Client) -> None:
    c = scored_customer()
    body = owner_ro.get(f"/api/v1/health/customers/{c.pk}").json()
    assert body["day"] == today_utc().isoformat()
    assert body["score"] is not None and body["colour"] in {"red", "yellow", "green"}
    assert body["formula"].startswith("weighted average of measure points")
    active = next(m for m in body["measures"] if m["measure"] == "active_days")
    assert active["text"].startswith("active ") and ", was " in active["text"]
    history = owner_ro.get(f"/api/v1/health/customers/{c.pk}/history?limit=5").json()
    assert history["count"] == 32 and len(history["items"]) == 5
    assert history["items"][0]["day"] == today_utc().isoformat()
    since = (today_utc() - timedelta(days=2)).isoformat()
    assert (
        owner_ro.get(f"/api/v1/health/customers/{c.pk}/history?since={since}").json()["count"] == 3
    )
    assert owner_ro.get("/api/v1/health/customers/99999999").status_code == 404
    unscored = customer()
    assert owner_ro.get(f"/api/v1/health/customers/{unscored.pk}").json()["score"] is None
    assert owner_ro.get(f"/api/v1/health/customers/{c.pk}/history?bogus=1").status_code == 422


def test_scorecards_read_with_any_key_written_with_an_owners(
    owner_rw: Client, owner_ro: Client, member_rw: Client
) -> None:
    listed = owner_ro.get("/api/v1/health/scorecards").json()
    assert listed["count"] == 1 and listed["items"][0]["is_default"] is True
    default_id = listed["items"][0]["id"]
    raw = copy.deepcopy(DEFAULT_SCORECARD)
    raw["red_below"] = 30
    before = list(ScorecardMeasure.objects.values_list("measure", "weight"))
    assert send(owner_ro, "put", f"/health/scorecards/{default_id}", raw).status_code == 403
    assert send(member_rw, "put", f"/health/scorecards/{default_id}", raw).status_code == 403
    assert send(member_rw, "post", "/health/recompute", {}).status_code == 403
    assert list(ScorecardMeasure.objects.values_list("measure", "weight")) == before
    replaced = send(owner_rw, "put", f"/health/scorecards/{default_id}", raw)
    assert replaced.status_code == 200, replaced.json()
    assert replaced.json()["red_below"] == 30
    from tend.segments.models import Segment

    seg = Segment.objects.create(name="Big", condition={"all": []})
    created = send(
        owner_rw, "post", "/health/scorecards", {**raw, "name": "Big", "segment": seg.pk}
    )
    assert created.status_code == 201, created.json()
    card_id = created.json()["id"]
    assert owner_ro.get(f"/api/v1/health/scorecards/{card_id}").json()["segment"] == seg.pk
    assert send(member_rw, "delete", f"/health/scorecards/{card_id}").status_code == 403
    assert send(owner_rw, "delete", f"/health/scorecards/{card_id}").status_code == 204
    refused = send(owner_rw, "delete", f"/health/scorecards/{default_id}")
    assert refused.status_code == 422
    recomputed = send(owner_rw, "post", "/health/recompute", {})
    assert recomputed.status_code == 200 and recomputed.json()["day"] == today_utc().isoformat()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda raw: (
                raw["measures"].__setitem__(0, {**raw["measures"][0], "weight": 0})
                or [line.__setitem__("weight", 0) for line in raw["measures"]]
            ),
            "measures.weight",
        ),
        (lambda raw: raw["measures"][0].__setitem__("measure", "nope"), "measures[0].measure"),
        (
            lambda raw: raw["measures"][0].__setitem__("thresholds", [[5, 1], [1, 2]]),
            "measures[0].thresholds[1].value",
        ),
        (
            lambda raw: raw["measures"][0].__setitem__("params", {"days": "\u0000"}),
            "measures[0].params.days",
        ),
        (lambda raw: raw.__setitem__("green_from", 10), "green_from"),
        (lambda raw: raw.__setitem__("extra", 1), "extra"),
        (lambda raw: raw.__setitem__("name", "x\u0000"), "name"),
    ],
)
def test_bad_scorecards_are_422_naming_the_field(owner_rw: Client, change: Any, field: str) -> None:
    card = Scorecard.objects.get(is_default=True)
    raw = copy.deepcopy(DEFAULT_SCORECARD)
    change(raw)
    before = list(ScorecardMeasure.objects.values_list("measure", "weight", "thresholds"))
    response = send(owner_rw, "put", f"/health/scorecards/{card.pk}", raw)
    assert response.status_code == 422, response.content
    dotted = field.replace("[", ".").replace("]", "")
    assert dotted in [e["field"] for e in response.json()["errors"]], response.json()
    assert list(ScorecardMeasure.objects.values_list("measure", "weight", "thresholds")) == before


def test_nan_and_huge_json_are_refused(owner_rw: Client) -> None:
    card = Scorecard.objects.get(is_default=True)
    text = json.dumps(DEFAULT_SCORECARD).replace('"weight": 4', '"weight": NaN')
    response = owner_rw.put(
        f"/api/v1/health/scorecards/{card.pk}", text, content_type="application/json"
    )
    assert response.status_code in {400, 422}
    deep = "[" * 5000 + "]" * 5000
    response = owner_rw.post("/api/v1/health/scorecards", deep, content_type="application/json")
    assert response.status_code in {400, 422}
    assert Scorecard.objects.count() == 1


def test_cli_recompute_backfill_show_and_scorecards() -> None:
    c = customer(name="Acme Widgets")
    use_days(c, range(1, 60), end=today_utc())
    out = StringIO()
    call_command("health", "recompute", stdout=out)
    assert "1 customers scored" in out.getvalue()
    out = StringIO()
    call_command("health", "backfill", "--days", "10", stdout=out)
    assert "10 days" in out.getvalue()
    assert HealthScore.objects.filter(customer=c).count() == 10
    out = StringIO()
    call_command("health", "show", "Acme Widgets", stdout=out)
    text = out.getvalue()
    assert "Acme Widgets" in text and "/100" in text and "Active days" in text
    assert "weighted average" in text
    out = StringIO()
    call_command("health", "scorecards", stdout=out)
    assert "Default" in out.getvalue() and "Active days" in out.getvalue()
    out = StringIO()
    call_command("health", "scorecards", "--json", stdout=out)
    assert json.loads(out.getvalue())[0]["is_default"] is True
    with pytest.raises(CommandError, match="--days"):
        call_command("health", "backfill", "--days", "0")
    with pytest.raises(CommandError, match="--day"):
        call_command("health", "recompute", "--day", "yesterday")
    with pytest.raises(CommandError, match="customer"):
        call_command("health", "show", "nobody at all")
