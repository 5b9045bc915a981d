"""``/api/v1/customers/{id}/export|erase``, ``/api/v1/contacts/{id}/erase``,
``/api/v1/privacy/erasures`` and ``tend privacy``: who may, what a refusal says, and hostile
input that is a 422 naming the field, never a 5xx, with nothing changed."""

import io
import json
import zipfile
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tend.accounts.actions import apikey_create
from tend.accounts.models import AuditEntry
from tend.customers.models import Contact, Customer
from tend.factories import make_contact, make_customer
from tend.privacy.models import Erasure

pytestmark = pytest.mark.django_db


def client_with(user, kind):
    return Client(
        HTTP_AUTHORIZATION=f"Bearer {apikey_create(name=f'k-{kind}', kind=kind, by=user)[1]}"
    )


@pytest.fixture
def acme():
    customer = make_customer("Acme Corp", email="buyer@acme.example", external_id="acme-1")
    make_contact(customer, "Ann Example", email="ann@acme.example")
    return customer


def _state():
    return (
        list(Customer.objects.order_by("pk").values_list("pk", "name", "email")),
        Contact.objects.count(),
        Erasure.objects.count(),
    )


def _post(client, path, body):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(f"/api/v1{path}", data=data, content_type="application/json")


def test_a_member_read_key_exports_a_zip(member, acme):
    response = client_with(member, "read").get(f"/api/v1/customers/{acme.pk}/export")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert b"buyer@acme.example" in archive.read("customer.csv")
    assert AuditEntry.objects.get(action="privacy.export").actor_label == "api:k-read"


def test_a_viewer_key_cannot_export(viewer, acme):
    response = client_with(viewer, "read").get(f"/api/v1/customers/{acme.pk}/export")
    assert response.status_code == 403 and response.json()["detail"]


@pytest.mark.parametrize(
    "persona,kind", [("owner", "read"), ("member", "read_write")], ids=["owner-read", "member-rw"]
)
def test_erasing_needs_an_owner_write_key(persona, kind, owner, member, acme):
    client = client_with(owner if persona == "owner" else member, kind)
    before = _state()
    for path, name in (
        (f"/customers/{acme.pk}/erase", "Acme Corp"),
        (f"/contacts/{acme.contacts.get().pk}/erase", "Ann Example"),
    ):
        response = _post(client, path, {"confirm": name})
        assert response.status_code == 403, (path, response.content)
    assert client.get("/api/v1/privacy/erasures").status_code == (
        200 if persona == "owner" else 403
    )
    assert _state() == before


def test_an_owner_erases_by_rest_with_the_name(owner, acme):
    client = client_with(owner, "read_write")
    response = _post(
        client, f"/customers/{acme.pk}/erase", {"confirm": "Acme Corp", "reference": "R1"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["kind"] == "customer" and body["subject_id"] == acme.pk
    assert body["by"] == "api:k-read_write" and body["counts"]["contacts"] == 1
    listed = client.get("/api/v1/privacy/erasures").json()
    assert listed["count"] == 1 and listed["items"][0]["reference"] == "R1"
    assert "Acme" not in json.dumps(listed)


def test_an_owner_erases_one_contact_by_rest(owner, acme):
    ann = acme.contacts.get()
    response = _post(
        client_with(owner, "read_write"), f"/contacts/{ann.pk}/erase", {"confirm": "Ann Example"}
    )
    assert response.status_code == 200 and response.json()["kind"] == "contact"
    assert not Contact.objects.filter(pk=ann.pk).exists()


@pytest.mark.parametrize(
    "body,field",
    [
        ({"confirm": "Acme Corp\u0000"}, "confirm"),
        ('{"confirm": "Acme \\ud800Corp"}', "confirm"),
        ({"confirm": "x" * 100_000}, "confirm"),
        ({"confirm": 42}, "confirm"),
        ({"confirm": ["Acme Corp"]}, "confirm"),
        ({}, "confirm"),
        ({"confirm": "Acme"}, "confirm"),
        ({"confirm": "Acme Corp", "reference": "r\u0000"}, "reference"),
        ('{"confirm": "Acme Corp", "reference": "\\udfff"}', "reference"),
        ({"confirm": "Acme Corp", "reference": "y" * 5000}, "reference"),
        ({"confirm": "Acme Corp", "reference": "mail a@b.example"}, "reference"),
        ({"confirm": "Acme Corp", "reference": {"a": [[[]]]}}, "reference"),
        ({"confirm": "Acme Corp", "extra": 1}, "extra"),
    ],
    ids=[
        "confirm-nul",
        "confirm-surrogate",
        "confirm-huge",
        "confirm-int",
        "confirm-list",
        "confirm-missing",
        "confirm-wrong",
        "reference-nul",
        "reference-surrogate",
        "reference-huge",
        "reference-email",
        "reference-deep",
        "unknown-field",
    ],
)
def test_hostile_erase_bodies_are_a_422_naming_the_field(owner, acme, body, field):
    before = _state()
    response = _post(client_with(owner, "read_write"), f"/customers/{acme.pk}/erase", body)
    assert response.status_code == 422, response.content
    fields = [e["field"] for e in response.json()["errors"]]
    assert any(f and f.split(".")[-1] == field for f in fields), fields
    assert _state() == before


def test_unknown_ids_are_a_404(owner):
    client = client_with(owner, "read_write")
    assert client.get("/api/v1/customers/999999/export").status_code == 404
    assert _post(client, "/customers/999999/erase", {"confirm": "x"}).status_code == 404
    assert _post(client, "/contacts/999999/erase", {"confirm": "x"}).status_code == 404


# --- CLI -------------------------------------------------------------------------------------


def _run(*args):
    out = StringIO()
    call_command("privacy", *args, stdout=out)
    return out.getvalue()


def test_the_cli_exports_by_external_id_to_a_file(acme, tmp_path):
    target = tmp_path / "acme.zip"
    assert "Wrote" in _run("export", "acme-1", "-o", str(target))
    with zipfile.ZipFile(target) as archive:
        assert "README.txt" in archive.namelist()


def test_the_cli_erases_only_with_yes_and_lists_it(acme):
    before = _state()
    with pytest.raises(CommandError, match="--yes"):
        _run("erase", str(acme.pk))
    with pytest.raises(CommandError, match="CUSTOMER"):
        _run("erase", "nobody-\x00", "--yes")
    assert _state() == before
    assert f"Erased customer #{acme.pk}" in _run("erase", "acme-1", "--yes", "--reference", "T9")
    assert Customer.objects.get(pk=acme.pk).name.startswith("Erased customer")
    listing = _run("erasures")
    assert "T9" in listing and "cli" in listing


def test_the_cli_erases_a_contact_and_refuses_a_member(acme, member):
    ann = acme.contacts.get()
    with pytest.raises(CommandError, match="only owners"):
        _run("erase-contact", str(ann.pk), "--yes", "--user", member.username)
    assert "Erased contact" in _run("erase-contact", str(ann.pk), "--yes")
    assert not Contact.objects.filter(pk=ann.pk).exists()
