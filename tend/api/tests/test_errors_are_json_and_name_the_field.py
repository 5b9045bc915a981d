"""Errors are JSON of one shape, ``{"detail", "errors": [{"field", "message", "code"}]}``,
and name the field at fault; nothing is saved when a request is refused."""

from __future__ import annotations

import pytest

from tend.customers.models import Customer
from tend.factories import make_contact, make_customer

pytestmark = pytest.mark.django_db(transaction=True)


def fields(response):  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["detail"]
    return [e["field"] for e in body["errors"]]


def test_a_bad_email_is_a_422_naming_email(rw):
    response = rw.post("/customers", json={"name": "Acme", "email": "not-an-email"})
    assert response.status_code == 422
    assert fields(response) == ["email"]
    assert not Customer.objects.exists()


def test_an_unknown_stage_is_a_422_naming_stage(rw):
    customer = make_customer(stage="trial")
    response = rw.post(f"/customers/{customer.pk}/stage", json={"stage": "vip"})
    assert response.status_code == 422
    assert fields(response) == ["stage"]
    customer.refresh_from_db()
    assert customer.stage == "trial"


def test_a_duplicate_external_id_is_a_409_naming_external_id(rw):
    make_customer(external_id="acme-1")
    response = rw.post("/customers", json={"name": "Acme again", "external_id": "acme-1"})
    assert response.status_code == 409, response.text
    assert fields(response) == ["external_id"]
    assert Customer.objects.count() == 1


def test_changing_a_customer_to_a_taken_external_id_is_a_409(rw):
    make_customer(external_id="taken")
    other = make_customer(external_id="mine")
    response = rw.patch(f"/customers/{other.pk}", json={"external_id": "taken"})
    assert response.status_code == 409
    assert fields(response) == ["external_id"]
    other.refresh_from_db()
    assert other.external_id == "mine"


def test_a_duplicate_contact_external_id_is_a_409(rw):
    customer = make_customer()
    make_contact(customer, external_id="p-1")
    response = rw.post(
        f"/customers/{customer.pk}/contacts", json={"name": "B", "external_id": "p-1"}
    )
    assert response.status_code == 409
    assert fields(response) == ["external_id"]


def test_a_body_that_is_not_json_is_a_400_naming_the_body(rw):
    response = rw.post(
        "/customers", content=b'{"name": "Acme",', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert fields(response) == ["body"]
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "Acme", "size": "big"}, "size"),
        ({"name": "Acme", "tags": "vip"}, "tags"),
        ({"name": "Acme", "acquisition_cost": "a lot"}, "acquisition_cost"),
        ({"name": "Acme", "acquisition_cost": "-5"}, "acquisition_cost"),
        ({"name": "Acme", "signed_up_at": "last week"}, "signed_up_at"),
        ({"name": "Acme", "traits": [1, 2]}, "traits"),
        ({"name": ""}, "name"),
        ({"email": "a@b.test"}, "name"),
        ({"name": "Acme", "favourite_colour": "blue"}, "favourite_colour"),
        ({"name": "Acme", "mrr": "100"}, "mrr"),
        ({"name": "Acme", "channel": "carrier-pigeon"}, "channel"),
        ({"name": "Acme", "plan": "unknown"}, "plan"),
        ({"name": "Acme", "owner": "nobody"}, "owner"),
        ({"name": "Acme", "referred_by_id": 999999}, "referred_by_id"),
        ({"name": "Acme", "country": "USA"}, "country"),
    ],
)
def test_a_wrong_value_is_a_422_naming_its_field(rw, payload, field):
    response = rw.post("/customers", json=payload)
    assert response.status_code == 422, response.text
    assert field in fields(response)
    assert not Customer.objects.exists()


def test_a_body_that_is_a_list_names_the_body(rw):
    response = rw.post("/customers", json=[{"name": "Acme"}])
    assert response.status_code == 422
    assert fields(response) == ["body"]


def test_a_null_for_a_required_field_in_a_patch_names_the_field(rw):
    customer = make_customer(name="Acme")
    response = rw.patch(f"/customers/{customer.pk}", json={"name": None})
    assert response.status_code == 422
    assert fields(response) == ["name"]


def test_an_empty_note_is_a_422_naming_body(rw):
    customer = make_customer()
    response = rw.post(f"/customers/{customer.pk}/notes", json={"body": "   "})
    assert response.status_code == 422
    assert fields(response) == ["body"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/customers/999999"),
        ("PATCH", "/customers/999999"),
        ("DELETE", "/customers/999999"),
        ("POST", "/customers/999999/stage"),
        ("GET", "/customers/999999/contacts"),
        ("GET", "/contacts/999999"),
        ("GET", "/subscriptions/999999"),
    ],
)
def test_an_unknown_id_is_a_404_json(rw, method, path):
    body = {"stage": "trial"} if path.endswith("stage") else ({} if method == "PATCH" else None)
    response = rw.request(method, path, json=body)
    assert response.status_code == 404, response.text
    assert "999999" in response.json()["detail"]


def test_a_path_id_of_the_wrong_type_is_a_422_naming_it(rw):
    response = rw.get("/customers/abc")
    assert response.status_code in {404, 422}
