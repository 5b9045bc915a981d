"""Customers can be created, read, changed, moved between stages, noted and deleted over HTTP,
and every write is audited as the key's creator with the label ``api:<key name>``."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tend.accounts.models import AuditEntry
from tend.customers.models import Customer, StageChange, TimelineEntry
from tend.factories import make_customer, make_plan

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_customer_makes_the_round_trip_create_read_update_delete(rw, owner, member):
    make_plan("pro", price="49")

    created = rw.post(
        "/customers",
        json={
            "name": "Acme Ltd",
            "external_id": "acme-1",
            "email": "ops@acme.test",
            "plan": "pro",
            "owner": "mike",
            "tags": ["vip", "eu"],
            "stage": "trial",
            "acquisition_cost": "120.50",
            "signed_up_at": "2025-01-02T03:04:05+08:00",
            "traits": {"seats": 12},
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "Acme Ltd" and body["external_id"] == "acme-1"
    assert body["plan"] == "pro" and body["owner"] == "mike"
    assert body["tags"] == ["eu", "vip"] and body["stage"] == "trial"
    assert body["acquisition_cost"] == {"amount": "120.50", "currency": "USD"}
    assert body["mrr"] == {"amount": "0.00", "currency": "USD"}
    assert body["signed_up_at"] == "2025-01-01T19:04:05Z"
    assert body["traits"] == {"seats": 12}

    url = f"/customers/{body['id']}"
    assert rw.get(url).json() == body

    changed = rw.patch(url, json={"industry": "Retail", "tags": ["vip"], "owner": None})
    assert changed.status_code == 200, changed.text
    assert changed.json()["industry"] == "Retail"
    assert changed.json()["tags"] == ["vip"] and changed.json()["owner"] is None
    customer = Customer.objects.get(pk=body["id"])
    assert customer.industry == "Retail" and customer.owner is None
    assert customer.acquisition_cost == Decimal("120.50")

    assert rw.delete(url).status_code == 204
    assert not Customer.objects.filter(pk=body["id"]).exists()
    assert rw.get(url).status_code == 404

    labels = set(
        AuditEntry.objects.filter(action__startswith="customer.").values_list(
            "actor_label", "actor"
        )
    )
    assert labels == {("api:zapier", owner.pk)}
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"customer.create", "customer.update", "customer.tags", "customer.delete"} <= actions


def test_a_patch_sends_only_what_changes_and_leaves_the_rest(rw):
    customer = make_customer(name="Acme", industry="Software", phone="123")
    response = rw.patch(f"/customers/{customer.pk}", json={"phone": "456"})
    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.name, customer.industry, customer.phone) == ("Acme", "Software", "456")


def test_a_patch_with_a_stage_moves_the_customer_through_the_lifecycle_action(rw):
    customer = make_customer(stage="trial")
    response = rw.patch(f"/customers/{customer.pk}", json={"stage": "onboarding", "name": "New"})
    assert response.status_code == 200
    assert response.json()["stage"] == "onboarding"
    change = StageChange.objects.filter(customer=customer).latest("at")
    assert (change.from_stage, change.to_stage) == ("trial", "onboarding")


def test_the_stage_endpoint_changes_the_stage_and_keeps_the_reason(rw, owner):
    customer = make_customer(stage="established")
    response = rw.post(
        f"/customers/{customer.pk}/stage", json={"stage": "churned", "reason": "budget cut"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["stage"] == "churned" and body["churned_at"] is not None
    change = StageChange.objects.filter(customer=customer).latest("at")
    assert (change.to_stage, change.reason, change.by) == ("churned", "budget cut", owner)
    audit = AuditEntry.objects.get(action="customer.stage")
    assert audit.actor_label == "api:zapier" and audit.actor == owner


def test_a_note_lands_on_the_customer_timeline(rw, owner):
    customer = make_customer()
    response = rw.post(
        f"/customers/{customer.pk}/notes",
        json={"body": "  Called about renewal  ", "kind": "call", "at": "2025-03-01T10:00:00"},
    )
    assert response.status_code == 201, response.text
    note = response.json()
    assert note["body"] == "Called about renewal" and note["kind"] == "call"
    assert note["author"] == "olivia" and note["at"] == "2025-03-01T10:00:00Z"
    entry = TimelineEntry.objects.get(pk=note["id"])
    assert entry.at == datetime(2025, 3, 1, 10, tzinfo=UTC) and entry.author == owner
    audit = AuditEntry.objects.get(action="timeline.add")
    assert (audit.actor, audit.actor_label) == (owner, "api:zapier")


def test_a_member_session_with_a_csrf_token_writes_and_is_audited_under_the_username(http, member):
    from tend.api.tests.conftest import CSRF_TOKEN

    client = http(session=member)
    client.cookies.set("csrftoken", CSRF_TOKEN)
    response = client.post("/customers", json={"name": "Acme"}, headers={"X-CSRFToken": CSRF_TOKEN})
    assert response.status_code == 201, response.text
    audit = AuditEntry.objects.get(action="customer.create")
    assert (audit.actor, audit.actor_label) == (member, "mike")


def test_changing_the_external_id_is_saved(rw):
    customer = make_customer(external_id="old-1")
    response = rw.patch(f"/customers/{customer.pk}", json={"external_id": "new-1"})
    assert response.status_code == 200, response.text
    customer.refresh_from_db()
    assert customer.external_id == "new-1"
