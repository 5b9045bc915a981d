"""customer.created / customer.updated upsert the Tend customer behind a Stripe customer id."""

from __future__ import annotations

from typing import Any

from django.test import Client

from tend.accounts.models import AuditEntry
from tend.customers.models import Customer, TimelineEntry
from tend.factories import make_customer
from tend.ingest.webhooks.tests import stripe_payloads as sp


def test_a_new_stripe_customer_becomes_a_tend_customer(stripe_client: Client) -> None:
    response = sp.post(stripe_client, sp.event("customer.created", sp.customer()))
    assert response.status_code == 200
    customer = Customer.objects.get()
    assert customer.external_id == "cus_Q1xExample"
    assert (customer.name, customer.email, customer.phone, customer.country) == (
        "Acme GmbH",
        "billing@acme.example",
        "+49 30 1234567",
        "DE",
    )
    assert customer.traits == {
        "plan_tier": "gold",
        "account_manager": "sam",
        "stripe_customer_id": "cus_Q1xExample",
    }
    assert customer.signed_up_at.timestamp() == sp.T0 - 86_400


def test_an_update_changes_the_same_customer(stripe_client: Client) -> None:
    sp.post(stripe_client, sp.event("customer.created", sp.customer()))
    changed = sp.customer(
        email="Finance@Acme.example", name="Acme AG", metadata={"plan_tier": "platinum"}
    )
    sp.post(stripe_client, sp.event("customer.updated", changed, created=sp.T0 + 60))
    customer = Customer.objects.get()
    assert (customer.name, customer.email) == ("Acme AG", "finance@acme.example")
    assert customer.traits["plan_tier"] == "platinum"
    assert customer.traits["account_manager"] == "sam"  # traits merge, they are not replaced


def test_a_customer_with_no_name_is_named_by_email(stripe_client: Client) -> None:
    sp.post(stripe_client, sp.event("customer.created", sp.customer(name=None, address=None)))
    customer = Customer.objects.get()
    assert customer.name == "billing@acme.example" and customer.country == ""


def test_an_invalid_email_from_stripe_is_left_out_rather_than_failing_the_event(
    stripe_client: Client,
) -> None:
    response = sp.post(
        stripe_client, sp.event("customer.created", sp.customer(email="not-an-email"))
    )
    assert response.status_code == 200
    assert Customer.objects.get().email == ""


def test_metadata_tend_external_id_links_a_customer_that_already_exists(
    stripe_client: Client, db: Any
) -> None:
    existing = make_customer(name="Acme", external_id="acct_42")
    cus = sp.customer(metadata={"tend_external_id": "acct_42"})
    sp.post(stripe_client, sp.event("customer.created", cus))
    sp.post(stripe_client, sp.event("customer.subscription.created", sp.subscription()))
    assert Customer.objects.count() == 1
    existing.refresh_from_db()
    assert existing.external_id == "acct_42"  # its own id is kept
    assert existing.name == "Acme GmbH"
    assert existing.subscriptions.get().external_id == "sub_1Example"


def test_an_older_customer_update_does_not_overwrite_a_newer_one(stripe_client: Client) -> None:
    sp.post(stripe_client, sp.event("customer.updated", sp.customer(name="New"), created=sp.T0 + 9))
    sp.post(stripe_client, sp.event("customer.updated", sp.customer(name="Old"), created=sp.T0 + 1))
    assert Customer.objects.get().name == "New"


def test_a_customer_made_by_a_webhook_has_its_timeline_entry_and_audit_row(
    stripe_client: Client,
) -> None:
    sp.post(stripe_client, sp.event("customer.created", sp.customer()))
    customer = Customer.objects.get()
    [entry] = TimelineEntry.objects.filter(customer=customer)
    assert entry.data == {"msg": "customer_created"}
    [audit] = AuditEntry.objects.filter(object_type="customers.customer", action="customer.create")
    assert (audit.object_id, audit.actor, audit.actor_label) == (str(customer.pk), None, "stripe")
