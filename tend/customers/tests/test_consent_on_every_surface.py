"""A contact's marketing consent is read and changed on the contact form, over REST, by a
contacts import and with ``tend contacts consent``; the customer page shows consent and
unsubscribe state per contact. Bad values are refused naming the field (or the row), and the
good rows of an import are kept."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from tend.accounts.actions import apikey_create
from tend.accounts.models import AuditEntry
from tend.customers.models import Contact, MarketingConsent
from tend.factories import make_contact, make_customer
from tend.ingest.imports.actions import import_file
from tend.messaging.models import Suppression

pytestmark = pytest.mark.django_db


def _api(owner: Any) -> Client:
    _key, raw = apikey_create(name="crm", kind="read_write", by=owner)
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _csv(tmp_path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path = tmp_path / "contacts.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        out.writerows(rows)
    return path


# --- the contact form and the customer page ---------------------------------------------------


def test_the_contact_form_sets_consent_and_the_customer_page_shows_it(member_client, member):
    acme = make_customer("Acme")
    response = member_client.post(
        reverse("customers:contact_create", args=[acme.pk]),
        {"name": "Ann", "email": "ann@acme.test", "marketing_consent": "granted"},
    )
    assert response.status_code == 302
    ann = Contact.objects.get()
    assert (ann.marketing_consent, ann.consent_source) == ("granted", "form")
    assert AuditEntry.objects.get(action="contact.consent").actor == member

    edit = reverse("customers:contact_edit", args=[acme.pk, ann.pk])
    form = member_client.get(edit).content.decode()
    assert 'name="marketing_consent"' in form and 'value="granted" selected' in form
    member_client.post(
        edit, {"name": "Ann", "email": "ann@acme.test", "marketing_consent": "withdrawn"}
    )
    ann.refresh_from_db()
    assert ann.marketing_consent == "withdrawn"

    make_contact(acme, name="Bo", email="bo@acme.test")
    Suppression.objects.create(email="bo@acme.test", reason="bounced")
    page = member_client.get(reverse("customers:detail", args=[acme.pk])).content.decode()
    assert 'data-consent="withdrawn"' in page
    assert "Suppressed: Bounced" in page


def test_a_form_without_the_consent_field_leaves_consent_alone(member_client):
    acme = make_customer("Acme")
    ann = make_contact(acme, name="Ann", email="ann@acme.test", marketing_consent="withdrawn")
    member_client.post(
        reverse("customers:contact_edit", args=[acme.pk, ann.pk]),
        {"name": "Ann B", "email": "ann@acme.test"},
    )
    ann.refresh_from_db()
    assert (ann.name, ann.marketing_consent) == ("Ann B", "withdrawn")


def test_a_bad_consent_on_the_form_is_named_and_nothing_changes(member_client):
    acme = make_customer("Acme")
    response = member_client.post(
        reverse("customers:contact_create", args=[acme.pk]),
        {"name": "Ann", "marketing_consent": "maybe"},
    )
    assert response.status_code == 422
    assert 'id="id_marketing_consent-errors"' in response.content.decode()
    assert not Contact.objects.exists()


def test_viewers_cannot_change_consent(viewer_client):
    acme = make_customer("Acme")
    ann = make_contact(acme, name="Ann")
    response = viewer_client.post(
        reverse("customers:contact_edit", args=[acme.pk, ann.pk]),
        {"name": "Ann", "marketing_consent": "withdrawn"},
    )
    assert response.status_code == 403
    ann.refresh_from_db()
    assert ann.marketing_consent == "unknown"


# --- REST ---------------------------------------------------------------------------------


def test_rest_reads_and_writes_consent_with_source_and_audit(owner):
    api = _api(owner)
    acme = make_customer()
    created = api.post(
        f"/api/v1/customers/{acme.pk}/contacts",
        {"name": "Ann", "email": "ann@acme.test", "marketing_consent": "granted"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["marketing_consent"] == "granted" and body["consent_source"] == "api"
    assert body["consent_changed_at"] is not None

    changed = api.patch(
        f"/api/v1/contacts/{body['id']}",
        {"marketing_consent": "withdrawn"},
        content_type="application/json",
    )
    assert changed.status_code == 200 and changed.json()["marketing_consent"] == "withdrawn"
    assert api.get(f"/api/v1/contacts/{body['id']}").json()["marketing_consent"] == "withdrawn"
    labels = set(
        AuditEntry.objects.filter(action="contact.consent").values_list("actor_label", flat=True)
    )
    assert labels == {"api:crm"}


@pytest.mark.parametrize(
    "value",
    [
        "maybe",
        "",
        None,
        1,
        ["granted"],
        {"state": "granted"},
        "granted\x00",
        "\ud800",
        "g" * 10_000,
    ],
    ids=["word", "empty", "null", "number", "list", "object", "nul", "surrogate", "huge"],
)
def test_a_bad_consent_over_rest_is_a_422_naming_the_field(owner, value):
    api = _api(owner)
    ann = make_contact(make_customer(), name="Ann")
    response = api.patch(
        f"/api/v1/contacts/{ann.pk}",
        {"marketing_consent": value},
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    assert [e["field"] for e in response.json()["errors"]] == ["marketing_consent"]
    ann.refresh_from_db()
    assert ann.marketing_consent == "unknown"


# --- import -------------------------------------------------------------------------------


def test_an_import_reads_consent_and_refuses_bad_values_naming_the_row(tmp_path):
    acme = make_customer("Acme", external_id="c1")
    kept = make_contact(acme, name="Kept", external_id="p9", marketing_consent="withdrawn")
    path = _csv(
        tmp_path,
        ["Customer ID", "Name", "Email", "Contact ID", "Marketing consent"],
        [
            ["c1", "Ann", "ann@acme.test", "p1", "yes"],
            ["c1", "Ben", "ben@acme.test", "p2", "withdrawn"],
            ["c1", "Cy", "cy@acme.test", "p3", "perhaps"],
            ["c1", "Di", "di@acme.test", "p4", ""],
            ["c1", "Kept", "", "p9", "unknown"],
        ],
    )

    result = import_file(kind="contacts", path=path)

    assert result.created == 3
    assert len(result.problems) == 1
    assert result.problems[0].startswith("Row 4, column “Marketing consent”: “perhaps”")
    states = dict(Contact.objects.values_list("name", "marketing_consent"))
    assert states == {
        "Ann": "granted",
        "Ben": "withdrawn",
        "Di": "unknown",
        "Kept": "withdrawn",  # "unknown" in a file never re-opens a withdrawn address
    }
    ann = Contact.objects.get(name="Ann")
    assert ann.consent_source == "import" and ann.consent_changed_at is not None
    assert AuditEntry.objects.filter(action="contact.consent").count() == 2
    kept.refresh_from_db()
    assert kept.marketing_consent == MarketingConsent.WITHDRAWN


# --- CLI ----------------------------------------------------------------------------------


def test_the_cli_sets_and_shows_consent_for_an_address():
    acme = make_customer("Acme")
    make_contact(acme, name="Ann", email="ann@acme.test")
    make_contact(make_customer("Globex"), name="Ann G", email="ANN@acme.test")
    out = io.StringIO()

    call_command("contacts", "consent", "ann@acme.test", "withdrawn", stdout=out)

    text = out.getvalue()
    assert "2 of 2 contacts set to withdrawn" in text
    assert "Outreach emails: not sent (the contact withdrew consent" in text
    assert set(Contact.objects.values_list("consent_source", flat=True)) == {"cli"}


def test_the_cli_refuses_a_bad_state_naming_it():
    make_contact(make_customer(), email="ann@acme.test")
    with pytest.raises(CommandError, match="not a consent state"):
        call_command("contacts", "consent", "ann@acme.test", "sometimes", stdout=io.StringIO())
    with pytest.raises(CommandError, match="no contact has the address"):
        call_command("contacts", "consent", "nobody@acme.test", "granted", stdout=io.StringIO())
