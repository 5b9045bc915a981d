"""The goals REST API with real keys: list, create, change, archive, progress, alerts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from tend.accounts.actions import apikey_create
from tend.accounts.models import AuditEntry
from tend.goals.actions import goal_create, goals_evaluate
from tend.goals.models import Goal
from tend.goals.tests.helpers import TODAY, build_ledger

pytestmark = pytest.mark.django_db


def client_with(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def rw(owner: Any) -> Client:
    return client_with(apikey_create(name="zapier", kind="read_write", by=owner)[1])


@pytest.fixture
def ro(owner: Any) -> Client:
    return client_with(apikey_create(name="reader", kind="read", by=owner)[1])


def post(client: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"/api/v1{path}", body or {}, content_type="application/json")


def test_a_goal_is_created_read_changed_and_archived_with_a_read_write_key(rw: Client) -> None:
    created = post(rw, "/goals", {"metric": "nrr", "target": "105", "period": "quarter"})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["comparator"] == "gte"  # NRR: higher is better
    assert body["title"] == "Net revenue retention (NRR) ≥ 105%"
    assert body["formula"].startswith("NRR = (MRR at start + expansion")
    assert body["unit"] == "percent" and body["last_alert"] is None
    goal_id = body["id"]

    changed = rw.patch(
        f"/api/v1/goals/{goal_id}",
        {"target": "110", "filters": {"channel": ["organic"]}},
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["target"] == "110.0000"
    assert changed.json()["filters"] == {"channel": ["organic"]}
    assert changed.json()["revision"] == 2

    archived = post(rw, f"/goals/{goal_id}/archive")
    assert archived.status_code == 200 and archived.json()["active"] is False
    assert rw.get("/api/v1/goals").json()["count"] == 0
    assert rw.get("/api/v1/goals", {"active": "false"}).json()["count"] == 1

    labels = set(
        AuditEntry.objects.filter(object_type="goals.goal").values_list("action", "actor_label")
    )
    assert labels == {
        ("goal.create", "api:zapier"),
        ("goal.update", "api:zapier"),
        ("goal.archive", "api:zapier"),
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"metric": "happiness", "target": "2"}, "metric"),
        ({"metric": "logo_churn", "target": "1001"}, "target"),
        ({"metric": "logo_churn", "target": "-101"}, "target"),
        ({"metric": "logo_churn", "target": "2", "comparator": "<"}, "comparator"),
        ({"metric": "logo_churn", "target": "2", "period": "week"}, "period"),
        (
            # Well-formed but not one of the founder's channels: refused by the data.
            {"metric": "logo_churn", "target": "2", "filters": {"channel": ["tv"]}},
            "filters",
        ),
        ({"metric": "logo_churn", "target": "2", "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(rw: Client, body: dict[str, Any], field: str) -> None:
    response = post(rw, "/goals", body)
    assert response.status_code == 422, response.json()
    assert field in [error["field"] for error in response.json()["errors"]]
    assert not Goal.objects.exists()


def test_a_read_key_lists_but_cannot_write(owner: Any, ro: Client) -> None:
    goal = goal_create(by=owner, metric="logo_churn", target=Decimal(2))
    listed = ro.get("/api/v1/goals")
    assert listed.status_code == 200 and listed.json()["items"][0]["id"] == goal.pk
    assert post(ro, "/goals", {"metric": "nrr", "target": "105"}).status_code == 403
    assert post(ro, f"/goals/{goal.pk}/archive").status_code == 403
    goal.refresh_from_db()
    assert goal.active and Goal.objects.count() == 1


def test_a_read_write_key_of_a_user_made_viewer_cannot_write(member: Any) -> None:
    client = client_with(apikey_create(name="v", kind="read_write", by=member)[1])
    member.role = "viewer"
    member.save(update_fields=["role"])
    assert post(client, "/goals", {"metric": "nrr", "target": "105"}).status_code == 403
    assert not Goal.objects.exists()


def test_alerts_and_progress_follow_the_evaluation(
    owner: Any, ro: Client, django_capture_on_commit_callbacks: Any
) -> None:
    ledger = build_ledger(customers=10)
    goal = goal_create(by=owner, metric="logo_churn", target=Decimal(5))
    with django_capture_on_commit_callbacks(execute=True):
        goals_evaluate(today=TODAY)
    ledger.churn(day=3)  # 1 of 10: 10 % > 5 %
    with django_capture_on_commit_callbacks(execute=True):
        goals_evaluate(today=TODAY)

    alerts = ro.get("/api/v1/goals/alerts", {"goal": goal.pk}).json()
    assert [(a["period"], a["kind"], a["value"]) for a in alerts["items"]] == [
        ("2026-03", "missed", "10.0000"),
        ("2026-03", "initial", "0.0000"),
        ("2026-02", "initial", "0.0000"),
    ]
    assert ro.get("/api/v1/goals/alerts", {"kind": "missed"}).json()["count"] == 1
    assert ro.get(f"/api/v1/goals/{goal.pk}").json()["last_alert"]["kind"] == "missed"

    # Progress is read live, for the real current period (the ledger's March is history).
    progress = ro.get(f"/api/v1/goals/{goal.pk}/progress")
    assert progress.status_code == 200
    assert set(progress.json()) == {"goal_id", "previous", "current", "error"}


def test_the_goal_list_runs_a_constant_number_of_queries(owner: Any, ro: Client) -> None:
    for target in range(1, 4):
        goal_create(by=owner, metric="logo_churn", target=Decimal(target))
    ro.get("/api/v1/goals")  # the key's first use also stamps last_used_at
    with django_capture_queries() as few:
        ro.get("/api/v1/goals")
    for target in range(4, 20):
        goal_create(by=owner, metric="nrr", target=Decimal(target))
    with django_capture_queries() as many:
        response = ro.get("/api/v1/goals")
    assert response.json()["count"] == 19
    assert len(many) == len(few)


def test_an_unknown_goal_is_a_404(ro: Client) -> None:
    response = ro.get("/api/v1/goals/999999")
    assert response.status_code == 404 and response.json()["detail"] == "Goal 999999 not found."


def django_capture_queries() -> Any:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    return CaptureQueriesContext(connection)
