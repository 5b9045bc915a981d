"""A logged-in browser session may use the API: reads for everyone, writes for members and
owners with a CSRF token; a viewer's write is refused and changes nothing."""

from __future__ import annotations

import pytest

from tend.accounts.models import AuditEntry
from tend.api.tests.conftest import CSRF_TOKEN
from tend.customers.models import Customer, TimelineEntry
from tend.factories import make_customer

pytestmark = pytest.mark.django_db(transaction=True)


def with_csrf(client):  # type: ignore[no-untyped-def]
    client.cookies.set("csrftoken", CSRF_TOKEN)
    client.headers["X-CSRFToken"] = CSRF_TOKEN
    return client


def test_a_viewer_session_reads_customers(http, viewer):
    make_customer(name="Acme")
    response = http(session=viewer).get("/customers")
    assert response.status_code == 200
    assert [c["name"] for c in response.json()["items"]] == ["Acme"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/customers", {"name": "New"}),
        ("PATCH", "/customers/{id}", {"name": "Renamed"}),
        ("DELETE", "/customers/{id}", None),
        ("POST", "/customers/{id}/stage", {"stage": "churned"}),
        ("POST", "/customers/{id}/notes", {"body": "hello"}),
        ("POST", "/customers/{id}/contacts", {"name": "Ann"}),
    ],
)
def test_a_viewer_session_cannot_write_and_nothing_changes(http, viewer, method, path, body):
    customer = make_customer(name="Acme", stage="trial")
    audits, entries = AuditEntry.objects.count(), TimelineEntry.objects.count()
    client = with_csrf(http(session=viewer))
    response = client.request(method, path.format(id=customer.pk), json=body)
    assert response.status_code == 403, response.text
    assert response.json()["detail"] == "Your role can view but not change data."
    customer.refresh_from_db()
    assert (customer.name, customer.stage) == ("Acme", "trial")
    assert Customer.objects.count() == 1 and not customer.contacts.exists()
    assert (AuditEntry.objects.count(), TimelineEntry.objects.count()) == (audits, entries)


def test_a_member_session_write_without_a_csrf_token_is_refused(http, member):
    response = http(session=member).post("/customers", json={"name": "Acme"})
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Customer.objects.exists()


def test_a_member_session_read_needs_no_csrf_token(http, member):
    assert http(session=member).get("/customers").status_code == 200


def test_a_bad_key_is_a_401_even_with_a_valid_session(http, member):
    client = http(session=member, headers={"Authorization": "Bearer tr_0000000000000000_x"})
    assert client.get("/customers").status_code == 401
