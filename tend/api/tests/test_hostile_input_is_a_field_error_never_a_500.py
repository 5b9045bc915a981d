"""Hostile input to the REST API is refused with the field at fault, never a 500, on SQLite
and PostgreSQL: NUL characters and lone surrogates in any string, numbers past the database's
range, read-only fields, and values of the wrong JSON type that pydantic would coerce."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from tend.api.errors import is_unique_violation
from tend.api.main import openapi_schema
from tend.customers.models import Contact, Customer
from tend.factories import make_contact, make_customer
from tend.goals.models import Goal

pytestmark = pytest.mark.django_db(transaction=True)


def fields(response):  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) == {"detail", "errors"}
    return [e["field"] for e in body["errors"]]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/customers", {"search": "\x00"}, "search"),
        ("/customers", {"tag": "a\x00b"}, "tag"),
        ("/customers", {"external_id": "\x00"}, "external_id"),
        ("/subscriptions", {"plan": "\x00"}, "plan"),
        ("/exchange-rates", {"currency": "\x00"}, "currency"),
        ("/goals", {"metric": "\x00"}, "metric"),
        ("/metrics/series", {"tag": "\x00"}, "tag"),
        ("/customers", {"sneaky\x00": "1"}, "sneaky\ufffd"),
    ],
)
def test_a_nul_in_a_query_parameter_is_a_422_naming_it(rw, path, params, field):
    response = rw.get(path, params=params)
    assert response.status_code == 422, response.text
    assert fields(response) == [field]
    assert response.json()["errors"][0]["code"] == "null_character"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ('{"name": "Acme\\u0000"}', "name", "null_character"),
        ('{"name": "Acme", "traits": {"note": "a\\u0000"}}', "traits.note", "null_character"),
        ('{"name": "Acme", "traits": {"k\\u0000": 1}}', "traits.k\ufffd", "null_character"),
        ('{"name": "Acme", "tags": ["ok", "b\\u0000"]}', "tags.1", "null_character"),
        ('{"name": "\\ud800"}', "name", "surrogate"),
        ('{"name": "Acme", "traits": {"a": ["x", {"b": "\\udfff"}]}}', "traits.a.1.b", "surrogate"),
    ],
)
def test_a_nul_or_a_lone_surrogate_in_a_json_body_is_a_422_naming_the_field(rw, body, field, code):
    response = rw.post(
        "/customers", content=body.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert fields(response) == [field]
    assert response.json()["errors"][0]["code"] == code
    assert not Customer.objects.exists()


def test_a_valid_surrogate_pair_is_an_ordinary_character(rw):
    response = rw.post(
        "/customers",
        content=b'{"name": "Acme \\ud83d\\ude00"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert Customer.objects.get().name == "Acme \U0001f600"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(rw, constant):
    body = f'{{"name": "Acme", "traits": {{"score": {constant}}}}}'.encode()
    response = rw.post("/customers", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert fields(response) == ["body"]


def test_json_nested_deeper_than_the_limit_is_refused(rw):
    deep = '{"a": ' * 40 + "1" + "}" * 40
    body = f'{{"name": "Acme", "traits": {deep}}}'.encode()
    response = rw.post("/customers", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["code"] == "depth"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/customers", {"offset": "9" * 20}, "offset"),
        ("/customers", {"offset": "1000000001"}, "offset"),
        ("/subscriptions", {"offset": str(2**63)}, "offset"),
        ("/exchange-rates", {"offset": "5040359516705151835439104"}, "offset"),
        ("/customers", {"limit": "201"}, "limit"),
        ("/customers", {"limit": "1.0"}, "limit"),
        ("/customers", {"offset": " 5"}, "offset"),
        ("/goals/alerts", {"goal": "9" * 23}, "goal"),
        ("/subscriptions", {"customer": str(2**63)}, "customer"),
        ("/subscriptions", {"customer": "0"}, "customer"),
    ],
)
def test_paging_and_ids_out_of_bounds_are_a_422_naming_the_parameter(rw, path, params, field):
    response = rw.get(path, params=params)
    assert response.status_code == 422, response.text
    assert fields(response) == [field]


def test_the_largest_offset_is_an_empty_page(rw):
    make_customer()
    response = rw.get("/customers", params={"offset": "1000000000"})
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
    assert response.json()["count"] == 1


@pytest.mark.parametrize(
    "path",
    [f"/customers/{'9' * 23}", f"/contacts/{2**63}", f"/goals/{'9' * 30}", "/customers/0"],
)
def test_a_path_id_past_the_database_range_is_a_422(rw, path):
    response = rw.get(path)
    assert response.status_code == 422, response.text


def test_the_largest_id_is_a_404(rw):
    response = rw.get(f"/customers/{2**63 - 1}")
    assert response.status_code == 404, response.text


def test_first_paid_at_is_read_only_on_create_and_on_change(rw):
    response = rw.post("/customers", json={"name": "Acme", "first_paid_at": "2025-01-01T00:00Z"})
    assert response.status_code == 422, response.text
    assert fields(response) == ["first_paid_at"]
    assert not Customer.objects.exists()

    customer = make_customer()
    response = rw.patch(f"/customers/{customer.pk}", json={"first_paid_at": "2025-01-01T00:00Z"})
    assert response.status_code == 422, response.text
    assert fields(response) == ["first_paid_at"]
    customer.refresh_from_db()
    assert customer.first_paid_at is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "Acme", "signed_up_at": 0}, "signed_up_at"),
        ({"name": "Acme", "signed_up_at": 1700000000.5}, "signed_up_at"),
        ({"name": "Acme", "birthday": 0}, "birthday"),
        ({"name": "Acme", "size": "5"}, "size"),
        ({"name": "Acme", "size": True}, "size"),
        ({"name": "Acme", "size": 5.0}, "size"),
        ({"name": "Acme", "size": 2**31}, "size"),
        ({"name": "Acme", "referred_by_id": "3"}, "referred_by_id"),
        ({"name": "Acme", "acquisition_cost": 12.5}, "acquisition_cost"),
        ({"name": "Acme", "acquisition_cost": "0.999"}, "acquisition_cost"),
        ({"name": "Acme", "acquisition_cost": "$5"}, "acquisition_cost"),
        ({"name": "Acme", "country": "É1"}, "country"),
        ({"name": "Acme", "plan": "pro plan"}, "plan"),
        ({"name": "Acme", "owner": "a b"}, "owner"),
        ({"name": "Acme", "tags": ["x" * 51]}, "tags.0"),
        ({"name": "Acme", "email": "a" * 250 + "@b.co"}, "email"),
        ({"name": "Acme", "signed_up_at": "0001-01-01T00:00:00+01:00"}, "signed_up_at"),
        ({"name": "Acme", "signed_up_at": "9999-12-31T23:59:59-01:00"}, "signed_up_at"),
    ],
)
def test_a_value_of_the_wrong_type_or_shape_is_refused_not_coerced(rw, payload, field):
    response = rw.post("/customers", json=payload)
    assert response.status_code == 422, response.text
    assert fields(response) == [field]
    assert not Customer.objects.exists()


def test_well_formed_values_are_taken_and_normalised(rw):
    response = rw.post(
        "/customers",
        json={"name": "Acme", "country": "de", "acquisition_cost": "120.5", "size": 0},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["country"] == "DE"
    assert body["acquisition_cost"]["amount"] == "120.50"


def test_booleans_are_true_or_false_only(rw, owner):
    contact = make_contact(make_customer())
    response = rw.patch(f"/contacts/{contact.pk}", json={"is_primary": 0})
    assert response.status_code == 422, response.text
    assert fields(response) == ["is_primary"]
    assert rw.post("/metrics/refresh", json={"full": 1}).status_code == 422
    assert rw.get("/goals", params={"active": "1"}).status_code == 422
    assert rw.get("/goals", params={"active": "false"}).status_code == 200
    assert Contact.objects.get().is_primary is True  # the first contact, unchanged


@pytest.mark.parametrize("since", ["0.5", "0", "1700000000"])
def test_a_datetime_parameter_is_iso_text_not_seconds(rw, since):
    response = rw.get("/customers", params={"updated_since": since})
    assert response.status_code == 422, response.text
    assert fields(response) == ["updated_since"]
    response = rw.get("/goals/alerts", params={"since": since})
    assert response.status_code == 422, response.text


def test_a_goal_refuses_a_numeric_target_and_unknown_filter_keys(rw):
    response = rw.post("/goals", json={"metric": "nrr", "target": 105})
    assert response.status_code == 422, response.text
    assert fields(response) == ["target"]
    response = rw.post("/goals", json={"metric": "nrr", "target": "105", "filters": {"x": [1]}})
    assert response.status_code == 422, response.text
    assert fields(response) == ["filters.x"]
    assert not Goal.objects.exists()


def test_data_dependent_refusals_say_unknown_or_range(rw):
    response = rw.post("/customers", json={"name": "Acme", "plan": "no-such-plan"})
    assert response.json()["errors"][0]["code"] == "unknown"
    response = rw.get("/metrics/series", params={"tag": "no-such-tag"})
    assert response.json()["errors"][0]["code"] == "unknown"
    response = rw.get("/metrics/series", params={"start": "2025-06", "end": "2025-01"})
    assert response.json()["errors"][0]["code"] == "range"
    response = rw.post("/goals", json={"metric": "nrr", "target": "5000"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "range"


def test_the_document_declares_the_bounds_the_server_enforces():
    doc = openapi_schema()
    schemas = doc["components"]["schemas"]
    customer = schemas["CustomerIn"]["properties"]
    assert "first_paid_at" not in customer and "mrr" not in customer
    assert schemas["CustomerIn"]["additionalProperties"] is False
    assert customer["country"]["pattern"] == "^([A-Za-z]{2})?$"
    assert customer["name"]["maxLength"] == 200
    assert {"format": "email"} in customer["email"]["anyOf"]
    assert customer["acquisition_cost"]["anyOf"][0]["pattern"]
    params = {
        p["name"]: p["schema"] for p in doc["paths"]["/api/v1/customers"]["get"]["parameters"]
    }
    assert params["offset"]["maximum"] == 1_000_000_000
    assert params["limit"]["maximum"] == 200
    series = {
        p["name"]: p["schema"] for p in doc["paths"]["/api/v1/metrics/series"]["get"]["parameters"]
    }
    assert series["start"]["anyOf"][0]["pattern"].startswith("^(19|2[01])")
    rate_path = doc["paths"]["/api/v1/exchange-rates/{currency}/{valid_from}"]["put"]
    currency = next(p for p in rate_path["parameters"] if p["name"] == "currency")
    assert currency["schema"]["pattern"] == "^[A-Za-z]{3}$"
    one = doc["paths"]["/api/v1/customers/{customer_id}"]["get"]["parameters"][0]["schema"]
    assert (one["minimum"], one["maximum"]) == (1, 2**63 - 1)


def test_only_a_unique_violation_is_called_a_taken_value():
    # SQLite calls an offset past 2**63 "datatype mismatch", an IntegrityError: it once
    # answered 409 "A value that must be unique is already taken".
    assert not is_unique_violation(IntegrityError("datatype mismatch"))
    assert is_unique_violation(IntegrityError("UNIQUE constraint failed: customers_customer.x"))
