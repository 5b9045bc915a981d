"""Every operation in the OpenAPI document refuses callers without a valid key of the right
kind. The operations are read from the document, so new endpoints are covered automatically."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from tend.accounts.actions import apikey_revoke
from tend.accounts.models import ApiKey, AuditEntry
from tend.api.main import openapi_schema
from tend.customers.models import Contact, Customer, StageChange, TimelineEntry
from tend.factories import make_contact, make_customer

# Data written by a test must be committed for the server thread to see it.
pytestmark = pytest.mark.django_db(transaction=True)

BODIES = {"post": {"name": "X", "stage": "trial", "body": "hi"}, "patch": {"name": "Y"}}


def operations(existing_id: int = 999_999) -> list[tuple[str, str]]:
    """(method, path relative to /api/v1) for every operation, path ids filled in."""
    found = []
    for path, methods in openapi_schema()["paths"].items():
        for method in methods:
            concrete = re.sub(r"\{[^}]+\}", str(existing_id), path.removeprefix("/api/v1"))
            found.append((method, concrete))
    return found


def call(client: httpx.Client, method: str, path: str) -> httpx.Response:
    return client.request(method.upper(), path, json=BODIES.get(method))


def snapshot() -> tuple[int, ...]:
    return (
        Customer.objects.count(),
        Contact.objects.count(),
        StageChange.objects.count(),
        TimelineEntry.objects.count(),
        # A read that hands over a customer's data is audited (GET /customers/{id}/export).
        AuditEntry.objects.exclude(action__startswith="apikey.")
        .exclude(action="privacy.export")
        .count(),
        *Customer.objects.values_list("pk", flat=True).order_by("pk"),
    )


def test_the_document_lists_every_endpoint_of_the_api():
    ops = {(m, p) for m, p in operations(1)}
    assert ("get", "/customers") in ops and ("post", "/customers/1/stage") in ops
    assert ("get", "/subscriptions/1") in ops and ("delete", "/contacts/1") in ops
    assert len(ops) >= 15


def test_every_operation_without_credentials_is_a_401_json(http: Callable[..., httpx.Client]):
    client = http()
    customer = make_customer()
    for method, path in operations() + operations(customer.pk):
        response = call(client, method, path)
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["detail"], (method, path)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_every_operation_with_a_revoked_key_is_a_401(http, make_key, owner):
    raw = make_key("read_write")
    apikey_revoke(key=ApiKey.objects.get(), by=owner)
    client = http(raw)
    for method, path in operations():
        response = call(client, method, path)
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["detail"] == "Invalid or revoked API key."


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Token abc", "Basic dXNlcjpwYXNz", "bearer not-a-key", "Bearer tr_x_y"],
)
def test_a_malformed_authorization_header_is_a_401_on_every_operation(http, header):
    client = http(headers={"Authorization": header})
    for method, path in operations():
        response = call(client, method, path)
        assert response.status_code == 401, (header, method, path, response.text)


def test_a_key_whose_creator_was_deactivated_is_a_401(http, make_key, member):
    client = http(make_key("read", user=member))
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert client.get("/customers").status_code == 401


def test_a_write_key_is_refused_by_every_operation_and_nothing_changes(http, make_key):
    customer = make_customer()
    make_contact(customer)
    client = http(make_key("write"))
    before = snapshot()
    for method, path in operations(customer.pk) + operations():
        response = call(client, method, path)
        assert response.status_code == 403, (method, path, response.text)
        assert "ingestion" in response.json()["detail"]
    assert snapshot() == before


def test_a_read_key_reads_but_every_write_is_a_403_and_nothing_changes(http, make_key):
    customer = make_customer()
    contact = make_contact(customer)
    client = http(make_key("read"))
    before = snapshot()
    writes = 0
    for method, path in operations(customer.pk):
        path = path.replace(f"/contacts/{customer.pk}", f"/contacts/{contact.pk}")
        response = call(client, method, path)
        if method == "get":
            assert response.status_code in {200, 404}, (method, path, response.text)
        else:
            writes += 1
            assert response.status_code == 403, (method, path, response.text)
            assert response.json()["detail"].startswith("This API key can only read")
    assert writes >= 8
    assert snapshot() == before


def test_a_read_write_key_of_a_member_made_viewer_only_reads(http, make_key, member):
    client = http(make_key("read_write", user=member))
    member.role = "viewer"
    member.save(update_fields=["role"])
    assert client.get("/customers").status_code == 200
    response = client.post("/customers", json={"name": "Acme"})
    assert response.status_code == 403
    assert not Customer.objects.exists()


def test_the_openapi_document_needs_a_key_or_a_login(http, make_key, member):
    assert http().get("/openapi.json").status_code == 401
    assert http(headers={"Authorization": "Bearer nope"}).get("/openapi.json").status_code == 401
    assert http(make_key("write")).get("/openapi.json").status_code == 403
    document = http(make_key("read")).get("/openapi.json")
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "Tend API"
    assert http(session=member).get("/openapi.json").status_code == 200


def test_the_docs_page_sends_visitors_to_the_login_page_and_shows_members_the_docs(http, member):
    response = http().get("/docs")
    assert response.status_code == 302 and "login" in response.headers["Location"]
    page = http(session=member).get("/docs")
    assert page.status_code == 200
    assert "openapi.json" in page.text


def test_the_document_describes_auth_paging_and_the_error_shape_on_every_operation():
    document = openapi_schema()
    assert "Bearer" in document["info"]["description"]
    assert set(document["components"]["schemas"]["ErrorOut"]["properties"]) == {"detail", "errors"}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            documented = {str(status) for status in operation["responses"]}
            assert {"401", "403", "422"} <= documented, (method, path)
            assert operation["security"] == [{"KeyAuth": []}, {"SessionAuth": []}]
