"""Contacts on the customer page: add, edit, make primary in one click, remove after asking;
every bad field is named at once; viewers are refused with nothing changed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tend.accounts.models import AuditEntry
from tend.customers.models import Contact, Customer
from tend.factories import make_contact, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme() -> Customer:
    return make_customer("Acme")


def url(name: str, customer: Customer, contact: Contact | None = None) -> str:
    args = [customer.pk] if contact is None else [customer.pk, contact.pk]
    return reverse(f"customers:{name}", args=args)


def contacts(customer: Customer) -> list[tuple]:
    return list(
        customer.contacts.order_by("pk").values_list(
            "name", "email", "title", "phone", "is_primary"
        )
    )


def test_a_member_adds_contacts_and_the_first_becomes_primary(member_client, member, acme):
    response = member_client.post(
        url("contact_create", acme),
        {"name": "Ann Lee", "email": "ann@acme.test", "title": "CTO", "phone": "+1 555"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[acme.pk]) + "#contacts"
    member_client.post(url("contact_create", acme), {"name": "Bob"})
    assert contacts(acme) == [
        ("Ann Lee", "ann@acme.test", "CTO", "+1 555", True),
        ("Bob", "", "", "", False),
    ]
    assert AuditEntry.objects.filter(action="contact.create", actor=member).count() == 2
    page = member_client.get(reverse("customers:detail", args=[acme.pk])).content.decode()
    assert "Ann Lee" in page and "Make primary" in page


def test_a_contact_with_several_bad_fields_names_each_and_saves_nothing(owner_client, acme):
    response = owner_client.post(
        url("contact_create", acme), {"name": "", "email": "nope", "phone": "1" * 41}
    )
    assert response.status_code == 422
    html = response.content.decode()
    for label in ("Name", "Email", "Phone"):
        assert f"<strong>{label}:</strong>" in html
    assert not Contact.objects.exists()


def test_editing_a_contact_changes_its_fields(owner_client, acme):
    ann = make_contact(acme, "Ann", email="ann@acme.test")
    page = owner_client.get(url("contact_edit", acme, ann)).content.decode()
    assert 'value="Ann"' in page and 'value="ann@acme.test"' in page
    response = owner_client.post(
        url("contact_edit", acme, ann), {"name": "Ann Lee", "email": "", "title": "CEO"}
    )
    assert response.status_code == 302
    assert contacts(acme) == [("Ann Lee", "", "CEO", "", True)]


def test_unticking_primary_in_the_edit_form_keeps_the_customer_a_primary(owner_client, acme):
    ann = make_contact(acme, "Ann")
    owner_client.post(url("contact_edit", acme, ann), {"name": "Ann"})
    ann.refresh_from_db()
    assert ann.is_primary


def test_make_primary_moves_the_mark_in_one_click(owner_client, acme):
    ann = make_contact(acme, "Ann")
    bob = make_contact(acme, "Bob")
    response = owner_client.post(url("contact_primary", acme, bob))
    assert response.status_code == 302
    assert [c[-1] for c in contacts(acme)] == [False, True]
    ann.refresh_from_db()
    assert not ann.is_primary


def test_removing_asks_first_then_removes(owner_client, acme):
    ann = make_contact(acme, "Ann")
    page = owner_client.get(url("contact_delete", acme, ann)).content.decode()
    assert "Remove Ann from Acme?" in page
    assert Contact.objects.filter(pk=ann.pk).exists()
    response = owner_client.post(url("contact_delete", acme, ann))
    assert response.status_code == 302
    assert not Contact.objects.filter(pk=ann.pk).exists()
    assert AuditEntry.objects.filter(action="contact.delete", object_id=str(ann.pk)).exists()
    # The customer's timeline says who left, in the reader's language.
    page = owner_client.get(f"/customers/{acme.pk}/").content.decode()
    assert "Contact removed: Ann" in page
    page = owner_client.get(f"/customers/{acme.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "已移除联系人：Ann" in page.content.decode()


def test_a_contact_of_another_customer_is_a_404(owner_client, acme):
    other = make_contact(make_customer("Globex"), "Gus")
    for name in ("contact_edit", "contact_delete", "contact_primary"):
        assert owner_client.post(url(name, acme, other), {"name": "x"}).status_code == 404
    assert Contact.objects.get(pk=other.pk).name == "Gus"


@pytest.mark.parametrize(
    "name", ["contact_create", "contact_edit", "contact_delete", "contact_primary"]
)
def test_a_viewer_is_refused_and_nothing_changes(viewer_client, acme, name):
    ann = make_contact(acme, "Ann")
    bob = make_contact(acme, "Bob")
    target = url(name, acme) if name == "contact_create" else url(name, acme, bob)
    before = contacts(acme)
    audits = AuditEntry.objects.count()
    assert viewer_client.post(target, {"name": "Hacked", "is_primary": "on"}).status_code == 403
    if name != "contact_primary":
        assert viewer_client.get(target).status_code == 403
    assert contacts(acme) == before and AuditEntry.objects.count() == audits
    assert ann.pk


@pytest.mark.parametrize(
    "name", ["contact_create", "contact_edit", "contact_delete", "contact_primary"]
)
def test_an_outsider_is_sent_to_log_in(outsider_client, acme, name):
    bob = make_contact(acme, "Bob")
    target = url(name, acme) if name == "contact_create" else url(name, acme, bob)
    response = outsider_client.post(target, {"name": "Hacked"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert contacts(acme) == [("Bob", bob.email, "", "", True)]
