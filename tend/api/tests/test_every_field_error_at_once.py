"""A request with several bad values is refused once, with a 422 that names every one of them
(a bad email and a bad country used to report the country only); nothing is saved."""

from __future__ import annotations

import pytest

from tend.customers.models import Contact, Customer
from tend.factories import make_contact, make_customer

pytestmark = pytest.mark.django_db(transaction=True)


def fields(response):  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["detail"]
    assert all(e["message"] for e in body["errors"])
    return sorted(e["field"] for e in body["errors"])


def test_a_new_customer_with_a_bad_email_and_a_bad_country_names_both(rw):
    response = rw.post("/customers", json={"name": "Acme", "email": "nope", "country": "XX"})
    assert response.status_code == 422, response.text
    assert fields(response) == ["country", "email"]
    assert not Customer.objects.exists()


def test_every_kind_of_bad_value_is_reported_in_one_answer(rw):
    payload = {
        "name": "",
        "email": "nope",
        "country": "Germany",
        "acquisition_cost": "-5",
        "plan": "no-such-plan",
        "owner": "nobody",
        "referred_by_id": 999999,
        "channel": "carrier_pigeon",
        "size": -1,
        "birthday": "yesterday",
        "traits": {"k" * 300: 1},
    }
    response = rw.post("/customers", json=payload)
    assert response.status_code == 422, response.text
    assert fields(response) == sorted(
        [
            "name",
            "email",
            "country",
            "acquisition_cost",
            "plan",
            "owner",
            "referred_by_id",
            "channel",
            "size",
            "birthday",
            "traits",
        ]
    )
    assert not Customer.objects.exists()


def test_a_patch_with_two_bad_values_changes_nothing_and_names_both(rw):
    customer = make_customer(name="Acme", email="a@acme.test", country="DE")
    response = rw.patch(
        f"/customers/{customer.pk}", json={"email": "nope", "country": "ZZ", "name": "New"}
    )
    assert response.status_code == 422, response.text
    assert fields(response) == ["country", "email"]
    customer.refresh_from_db()
    assert (customer.name, customer.email, customer.country) == ("Acme", "a@acme.test", "DE")


def test_an_unknown_plan_and_owner_together_are_both_named(rw):
    customer = make_customer(name="Acme")
    response = rw.patch(f"/customers/{customer.pk}", json={"plan": "gold", "owner": "ghost"})
    assert response.status_code == 422, response.text
    assert fields(response) == ["owner", "plan"]
    assert {e["code"] for e in response.json()["errors"]} == {"unknown"}


def test_a_contact_with_a_bad_email_and_an_empty_name_names_both(rw):
    customer = make_customer()
    response = rw.post(
        f"/customers/{customer.pk}/contacts",
        json={"name": "", "email": "nope", "title": "x" * 121},
    )
    assert response.status_code == 422, response.text
    assert fields(response) == ["email", "name", "title"]
    assert not Contact.objects.exists()


def test_a_contact_patch_with_two_bad_values_changes_nothing(rw):
    contact = make_contact(make_customer(), name="Ann", email="ann@acme.test")
    response = rw.patch(f"/contacts/{contact.pk}", json={"email": "nope", "phone": "1" * 41})
    assert response.status_code == 422, response.text
    assert fields(response) == ["email", "phone"]
    contact.refresh_from_db()
    assert contact.email == "ann@acme.test"


@pytest.mark.parametrize(
    "traits",
    [
        {"k" * 257: 1},
        {f"k{i}": i for i in range(201)},
        {"big": "x" * 70_000},
    ],
)
def test_oversized_traits_are_a_422_naming_traits(rw, traits):
    response = rw.post("/customers", json={"name": "Acme", "traits": traits})
    assert response.status_code == 422, response.text
    assert fields(response)[0].startswith("traits")
    assert not Customer.objects.exists()


def test_nested_traits_within_the_limits_are_kept(rw):
    response = rw.post("/customers", json={"name": "Acme", "traits": {"crm": {"id": 7}}})
    assert response.status_code == 201, response.text
    assert Customer.objects.get().traits == {"crm": {"id": 7}}


def test_a_founders_own_channel_is_accepted(rw):
    from tend.customers.channels import channel_create

    channel_create(code="podcast", name="Podcast", by=None)
    response = rw.post("/customers", json={"name": "Acme", "channel": "podcast"})
    assert response.status_code == 201, response.text
    assert Customer.objects.get().channel == "podcast"
