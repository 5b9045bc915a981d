"""Contacts are listed and added under their customer and read, changed and removed by id."""

from __future__ import annotations

import pytest

from tend.accounts.models import AuditEntry
from tend.customers.models import Contact
from tend.factories import make_contact, make_customer

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_contact_makes_the_round_trip_under_its_customer(rw, owner):
    customer = make_customer()
    created = rw.post(
        f"/customers/{customer.pk}/contacts",
        json={"name": "Ann Lee", "email": "ann@acme.test", "title": "CTO"},
    )
    assert created.status_code == 201, created.text
    contact = created.json()
    assert contact["customer_id"] == customer.pk and contact["is_primary"] is True

    listed = rw.get(f"/customers/{customer.pk}/contacts").json()
    assert listed["count"] == 1 and listed["items"] == [contact]

    url = f"/contacts/{contact['id']}"
    assert rw.get(url).json() == contact
    changed = rw.patch(url, json={"title": "CEO"})
    assert changed.status_code == 200 and changed.json()["title"] == "CEO"

    assert rw.delete(url).status_code == 204
    assert not Contact.objects.exists()
    assert rw.get(url).status_code == 404
    labels = set(
        AuditEntry.objects.filter(action__startswith="contact.").values_list(
            "actor_label", flat=True
        )
    )
    assert labels == {"api:zapier"}


def test_making_a_contact_primary_unmarks_the_previous_one(rw):
    customer = make_customer()
    first = make_contact(customer, name="First")
    second = make_contact(customer, name="Second")
    response = rw.patch(f"/contacts/{second.pk}", json={"is_primary": True})
    assert response.status_code == 200
    first.refresh_from_db()
    assert first.is_primary is False
    names = [c["name"] for c in rw.get(f"/customers/{customer.pk}/contacts").json()["items"]]
    assert names == ["Second", "First"]


def test_a_contact_with_a_bad_email_is_refused_naming_email(rw):
    customer = make_customer()
    response = rw.post(f"/customers/{customer.pk}/contacts", json={"name": "A", "email": "nope"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["email"]
    assert not Contact.objects.exists()


def test_contacts_of_an_unknown_customer_are_a_404(rw):
    assert rw.get("/customers/999999/contacts").status_code == 404
    assert rw.post("/customers/999999/contacts", json={"name": "A"}).status_code == 404
