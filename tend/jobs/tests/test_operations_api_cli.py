"""``GET /api/v1/operations`` and ``tend operations`` say what the page says."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tend.accounts.actions import apikey_create
from tend.jobs.tests.ops_helpers import make_failed_schedule, make_trouble

pytestmark = pytest.mark.django_db


def test_the_api_reports_schedules_queue_failures_and_pipeline(owner, settings):
    trouble = make_trouble()
    make_failed_schedule("daily-pipeline")
    key = apikey_create(name="monitor", kind="read", by=owner)[1]

    response = Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/v1/operations")

    assert response.status_code == 200, response.content
    body = response.json()
    assert [s["name"] for s in body["schedules"]] == list(settings.TEND_SCHEDULES)
    daily = next(s for s in body["schedules"] if s["name"] == "daily-pipeline")
    assert daily["description"] == "daily at 00:10 UTC"
    assert daily["last_status"] == "failed"
    assert daily["last_error"].endswith("step health failed: ZeroDivisionError")
    assert body["queue"]["failed"] == 1 and body["queue"]["last_worker"] == "worker-7f3a"
    assert body["failed_runs"]["count"] == 2
    runs = {r["id"]: r for r in body["failed_runs"]["items"]}
    assert runs[trouble.gave_up.pk]["status"] == "failed"
    assert runs[trouble.gave_up.pk]["next_at"] is None
    assert runs[trouble.retrying.pk]["next_at"] is not None
    assert runs[trouble.retrying.pk]["error"] == "OperationalError: could not obtain lock"
    assert body["failed_messages"]["count"] == 2
    emails = {m["id"]: m for m in body["failed_messages"]["items"]}
    assert emails[trouble.failed_email.pk]["to"] == "ceo@acme.example"
    assert emails[trouble.retrying_email.pk]["status"] == "queued"
    steps = {p["step"]: p for p in body["pipeline"]}
    assert steps["rollups"]["counts"] == {"recounted": 120}
    assert steps["health"]["error"] == "ZeroDivisionError: division by zero"
    assert steps["today"]["started_at"] is None


def test_the_api_takes_no_parameters(owner):
    key = apikey_create(name="monitor", kind="read", by=owner)[1]
    response = Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/v1/operations?limit=5")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "limit"


def test_the_cli_prints_the_same_failures():
    trouble = make_trouble()
    make_failed_schedule()
    out = StringIO()
    call_command("operations", stdout=out)
    text = out.getvalue()
    assert "Failed playbook steps (2)" in text
    assert "Failed and retrying messages (2)" in text
    assert "ceo@acme.example" in text
    assert "daily-pipeline" in text and "daily at 00:10 UTC" in text
    assert str(trouble.gave_up.pk) in text


def test_the_cli_json_is_the_api_document(owner):
    make_trouble()
    out = StringIO()
    call_command("operations", "--json", stdout=out)
    cli = json.loads(out.getvalue())
    key = apikey_create(name="monitor", kind="read", by=owner)[1]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/v1/operations").json()
    for part in ("failed_runs", "failed_messages"):
        assert cli[part]["count"] == api[part]["count"]
        assert [i["id"] for i in cli[part]["items"]] == [i["id"] for i in api[part]["items"]]
    assert [s["name"] for s in cli["schedules"]] == [s["name"] for s in api["schedules"]]


def test_check_fails_when_something_gave_up_and_passes_when_all_is_well():
    call_command("operations", "--check", stdout=StringIO())  # nothing failed: exit 0
    make_trouble()
    with pytest.raises(CommandError, match="failed: 1 playbook runs, 1 messages"):
        call_command("operations", "--check", stdout=StringIO())
