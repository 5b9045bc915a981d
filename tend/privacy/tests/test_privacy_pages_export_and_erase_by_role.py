"""The Privacy panel and pages: members and owners export, only owners erase; a wrong or
hostile confirmation erases nothing and is never a 5xx."""

import io
import zipfile

import pytest
from django.urls import reverse

from tend.customers.models import Contact, Customer
from tend.factories import make_contact, make_customer
from tend.privacy.models import Erasure

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    customer = make_customer("Acme Corp", email="buyer@acme.example", phone="555-0101")
    make_contact(customer, "Ann Example", email="ann@acme.example")
    return customer


def _state():
    return (
        list(Customer.objects.order_by("pk").values_list("pk", "name", "email")),
        Contact.objects.count(),
        Erasure.objects.count(),
    )


def test_an_owner_sees_export_and_erase_on_the_customer_page(owner_client, acme):
    html = owner_client.get(reverse("customers:detail", args=[acme.pk])).content.decode()
    assert 'id="privacy-panel"' in html and 'id="privacy-export"' in html
    assert reverse("privacy:customer_erase", args=[acme.pk]) in html
    ann = acme.contacts.get()
    assert reverse("privacy:contact_erase", args=[ann.pk]) in html


def test_a_member_may_export_but_sees_no_erase(member_client, acme):
    html = member_client.get(reverse("customers:detail", args=[acme.pk])).content.decode()
    assert 'id="privacy-export"' in html and 'id="privacy-erase"' not in html
    response = member_client.post(reverse("privacy:customer_export", args=[acme.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert "README.txt" in archive.namelist()
        assert b"buyer@acme.example" in archive.read("customer.json")


def test_a_viewer_sees_no_privacy_panel_and_cannot_export(viewer_client, acme):
    html = viewer_client.get(reverse("customers:detail", args=[acme.pk])).content.decode()
    assert 'id="privacy-panel"' not in html
    assert viewer_client.post(reverse("privacy:customer_export", args=[acme.pk])).status_code == 403


@pytest.mark.parametrize("persona", ["member", "viewer"])
def test_only_owners_reach_the_erase_pages_and_the_erasures(
    persona, member, viewer, login_as, acme
):
    client = login_as(member if persona == "member" else viewer)
    ann = acme.contacts.get()
    before = _state()
    for url in (
        reverse("privacy:customer_erase", args=[acme.pk]),
        reverse("privacy:contact_erase", args=[ann.pk]),
        reverse("privacy:erasures"),
    ):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"confirm": "Acme Corp"}).status_code in {403, 405}, url
    assert (
        client.post(
            reverse("privacy:contact_erase", args=[ann.pk]), {"confirm": "Ann Example"}
        ).status_code
        == 403
    )
    assert _state() == before


def test_the_erase_page_counts_what_goes_and_a_wrong_name_erases_nothing(owner_client, acme):
    url = reverse("privacy:customer_erase", args=[acme.pk])
    html = owner_client.get(url).content.decode()
    assert 'id="erase-preview"' in html and "billing-orders" in html and "Acme Corp" in html
    before = _state()
    for typed in ("", "Acme", "Acme Corp!", "x" * 5000):
        response = owner_client.post(url, {"confirm": typed})
        assert response.status_code == 422
        assert 'id="id_confirm-errors"' in response.content.decode()
    assert _state() == before


@pytest.mark.parametrize(
    "field,value",
    [
        ("confirm", "Acme\x00Corp"),
        ("confirm", "Acme Corp\x00"),
        ("reference", "ticket\x00 1"),
        ("reference", "x" * 100_000),
        ("reference", "from buyer@acme.example"),
    ],
    ids=[
        "confirm-nul-inside",
        "confirm-nul-end",
        "reference-nul",
        "reference-huge",
        "reference-email",
    ],
)
def test_hostile_input_on_the_erase_form_is_a_field_error(owner_client, acme, field, value):
    data = {"confirm": "Acme Corp", "reference": "", field: value}
    before = _state()
    response = owner_client.post(reverse("privacy:customer_erase", args=[acme.pk]), data)
    assert response.status_code == 422
    assert f'id="id_{field}-errors"' in response.content.decode()
    assert _state() == before


def test_the_typed_name_erases_and_the_erasure_is_listed(owner_client, owner, acme):
    url = reverse("privacy:customer_erase", args=[acme.pk])
    response = owner_client.post(url, {"confirm": " acme corp ", "reference": "T-12"})
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[acme.pk])
    acme.refresh_from_db()
    assert acme.name == f"Erased customer #{acme.pk}" and acme.email == "" and acme.phone == ""
    assert not acme.contacts.exists()
    html = owner_client.get(reverse("privacy:erasures")).content.decode()
    assert "T-12" in html and f"Customer #{acme.pk}" in html and owner.username in html


def test_erasing_one_contact_from_its_page(owner_client, acme):
    ann = acme.contacts.get()
    url = reverse("privacy:contact_erase", args=[ann.pk])
    assert "Ann Example" in owner_client.get(url).content.decode()
    assert owner_client.post(url, {"confirm": "Ann"}).status_code == 422
    response = owner_client.post(url, {"confirm": "Ann Example"})
    assert response.status_code == 302
    assert not Contact.objects.filter(pk=ann.pk).exists()
    assert Customer.objects.get(pk=acme.pk).name == "Acme Corp"
    assert Erasure.objects.get().kind == "contact"


def test_invalid_utf8_and_surrogate_escapes_in_the_form_are_a_field_error(owner_client, acme):
    # A browser cannot send a lone surrogate; the nearest is invalid UTF-8 (%ED%A0%80 is
    # U+D800 encoded), which Django decodes to U+FFFD: a wrong name, a 422, nothing erased.
    before = _state()
    response = owner_client.post(
        reverse("privacy:customer_erase", args=[acme.pk]),
        data="confirm=Acme%ED%A0%80Corp&reference=%ED%BF%BF",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 422
    assert 'id="id_confirm-errors"' in response.content.decode()
    assert _state() == before
