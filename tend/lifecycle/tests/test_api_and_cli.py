"""The lifecycle REST API with real keys, and ``tend lifecycle``."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tend.accounts.actions import apikey_create
from tend.customers.models import Customer, Stage
from tend.lifecycle.actions import customer_set_stage_by_hand
from tend.lifecycle.models import LifecycleRule, StageOverride
from tend.lifecycle.tests.helpers import now, paying, skip_pending_changes

pytestmark = pytest.mark.django_db

RULE = {
    "name": "Big",
    "condition": {"all": [{"field": "mrr", "op": "gte", "value": 50}]},
    "stage": "expansion",
}


def client_with(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def owner_rw(owner: Any) -> Client:
    return client_with(apikey_create(name="owner", kind="read_write", by=owner)[1])


@pytest.fixture
def member_rw(member: Any) -> Client:
    return client_with(apikey_create(name="member", kind="read_write", by=member)[1])


@pytest.fixture
def viewer_ro(viewer: Any) -> Client:
    return client_with(apikey_create(name="viewer", kind="read", by=viewer)[1])


def post(client: Client, path: str, body: Any) -> Any:
    return client.post(f"/api/v1{path}", body, content_type="application/json")


def test_an_owner_key_creates_changes_reorders_and_deletes_rules(owner_rw: Client) -> None:
    created = post(owner_rw, "/lifecycle/rules", RULE)
    assert created.status_code == 201, created.json()
    rule_id = created.json()["id"]
    assert created.json()["from_stages"] == [] and created.json()["enabled"] is True
    patched = owner_rw.patch(
        f"/api/v1/lifecycle/rules/{rule_id}",
        {"enabled": False, "from_stages": ["established", "adopting"]},
        content_type="application/json",
    )
    assert patched.status_code == 200, patched.json()
    assert patched.json()["from_stages"] == ["adopting", "established"]  # lifecycle order
    ids = [r["id"] for r in owner_rw.get("/api/v1/lifecycle/rules?limit=200").json()["items"]]
    assert ids[-1] == rule_id
    reordered = post(owner_rw, "/lifecycle/rules/order", {"order": [rule_id, *ids[:-1]]})
    assert reordered.status_code == 200
    assert next(r["id"] for r in reordered.json()["items"]) == rule_id
    assert owner_rw.delete(f"/api/v1/lifecycle/rules/{rule_id}").status_code == 204
    assert owner_rw.get(f"/api/v1/lifecycle/rules/{rule_id}").status_code == 404


def test_members_and_viewers_read_rules_but_cannot_change_them(
    member_rw: Client, viewer_ro: Client
) -> None:
    count = LifecycleRule.objects.count()
    rule = LifecycleRule.objects.first()
    assert rule is not None
    for client in (member_rw, viewer_ro):
        listed = client.get("/api/v1/lifecycle/rules")
        assert listed.status_code == 200 and listed.json()["count"] == count
        assert post(client, "/lifecycle/rules", RULE).status_code == 403
        assert client.delete(f"/api/v1/lifecycle/rules/{rule.pk}").status_code == 403
        assert post(client, "/lifecycle/run", {"dry_run": False}).status_code == 403
    assert LifecycleRule.objects.count() == count


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**RULE, "condition": {"all": [{"field": "nope", "op": "eq", "value": 1}]}}, "condition"),
        ({**RULE, "stage": "limbo"}, "stage"),
        ({**RULE, "from_stages": ["limbo"]}, "from_stages"),
        ({**RULE, "name": ""}, "name"),
        ({**RULE, "name": "a\x00b"}, "name"),
        ({**RULE, "condition": "text"}, "condition"),
        ({**RULE, "enabled": "yes"}, "enabled"),
        ({**RULE, "surprise": 1}, "surprise"),
    ],
)
def test_bad_rules_are_422_naming_the_field_and_nothing_is_saved(
    owner_rw: Client, body: dict[str, Any], field: str
) -> None:
    count = LifecycleRule.objects.count()
    response = post(owner_rw, "/lifecycle/rules", body)
    assert response.status_code == 422, response.json()
    # A list item is named with its index ("from_stages.0").
    named = [e["field"] for e in response.json()["errors"]]
    assert any(f == field or f.startswith(f"{field}.") for f in named), named
    assert LifecycleRule.objects.count() == count


def test_a_condition_error_names_its_path(owner_rw: Client) -> None:
    body = {**RULE, "condition": {"all": [{"field": "mrr", "op": "gte", "value": 1}, {"x": 1}]}}
    response = post(owner_rw, "/lifecycle/rules", body)
    assert response.status_code == 422
    assert "all[1]" in response.json()["errors"][0]["message"]


def test_deep_and_huge_conditions_are_refused_without_a_5xx(owner_rw: Client) -> None:
    deep: dict[str, Any] = {"field": "mrr", "op": "gte", "value": 1}
    for _ in range(200):
        deep = {"not": deep}
    response = post(owner_rw, "/lifecycle/rules", {**RULE, "condition": deep})
    assert 400 <= response.status_code < 500
    wide = {"any": [{"field": "mrr", "op": "gte", "value": i} for i in range(5000)]}
    assert 400 <= post(owner_rw, "/lifecycle/rules", {**RULE, "condition": wide}).status_code < 500


def test_the_board_endpoint_gives_counts_and_mrr_per_stage(viewer_ro: Client) -> None:
    t = now()
    paying("A", days=100, at=t, stage=Stage.ESTABLISHED)
    paying("B", days=100, at=t, stage=Stage.ESTABLISHED)
    body = viewer_ro.get("/api/v1/lifecycle/board").json()
    stages = {s["stage"]: s for s in body["stages"]}
    assert [s["stage"] for s in body["stages"]] == list(Stage.values)
    assert stages["established"]["count"] == 2
    assert stages["established"]["mrr"]["amount"] == "100.00"
    assert "sum of customer MRR" in body["mrr_formula"]
    unknown = viewer_ro.get("/api/v1/lifecycle/board?segment=987654")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "segment"


def test_run_dry_and_real(owner_rw: Client) -> None:
    customer = paying("Runner", days=100, at=now())
    dry = post(owner_rw, "/lifecycle/run", {})
    assert dry.status_code == 200 and dry.json()["dry_run"] is True
    assert dry.json()["moves"][0]["customer_id"] == customer.pk
    assert dry.json()["moves"][0]["from_stage"] == "trial"
    assert Customer.objects.get(pk=customer.pk).stage == Stage.TRIAL
    real = post(owner_rw, "/lifecycle/run", {"dry_run": False})
    assert real.json()["moved"] == 1
    assert Customer.objects.get(pk=customer.pk).stage == Stage.ESTABLISHED


def test_overrides_are_listed_and_cleared_over_the_api(
    owner: Any, member_rw: Client, viewer_ro: Client
) -> None:
    customer = paying("Pinned", days=100, at=now())
    customer_set_stage_by_hand(customer=customer, stage=Stage.EXPANSION, by=owner)
    listed = viewer_ro.get("/api/v1/lifecycle/overrides").json()
    assert listed["items"][0]["customer_id"] == customer.pk and listed["items"][0]["by"] == "olivia"
    assert viewer_ro.delete(f"/api/v1/lifecycle/overrides/{customer.pk}").status_code == 403
    assert member_rw.delete(f"/api/v1/lifecycle/overrides/{customer.pk}").status_code == 204
    assert member_rw.delete(f"/api/v1/lifecycle/overrides/{customer.pk}").status_code == 404
    assert Customer.objects.get(pk=customer.pk).stage == Stage.ESTABLISHED


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("lifecycle", *args, stdout=out)
    return out.getvalue()


def test_cli_lists_rules_runs_dry_and_real_and_clears_an_override(owner: Any) -> None:
    assert "First payment in the last 30 days" in run("rules")
    customer = paying("Cli", days=100, at=now())
    skip_pending_changes()
    dry = run("run", "--dry-run")
    assert "1 customers would move" in dry and "trial → established" in dry
    assert Customer.objects.get(pk=customer.pk).stage == Stage.TRIAL
    assert "1 customers moved" in run("run")
    customer_set_stage_by_hand(customer=customer, stage=Stage.EXPANSION, by=owner)
    assert "0 customers moved" in run("run")
    assert "in established" in run("clear-override", str(customer.pk))
    assert not StageOverride.objects.active().exists()
    with pytest.raises(CommandError, match="no stage override"):
        run("clear-override", str(customer.pk))
    with pytest.raises(CommandError, match="no customer"):
        run("clear-override", "nobody")
