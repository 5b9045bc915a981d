"""Creating, editing and deleting customers in the web app: every field round-trips, every
bad field is reported at once, deleting says what it erases and needs the name typed, and only
members and owners may write (a viewer is refused with nothing changed)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tend.accounts.models import AuditEntry
from tend.activity.models import DailyRollup, Event
from tend.customers.actions import customer_change_stage
from tend.customers.channels import channel_create
from tend.customers.models import Contact, Customer, StageChange, TimelineEntry
from tend.factories import make_contact, make_customer, make_plan, make_subscription

pytestmark = pytest.mark.django_db

NEW = reverse("customers:create")


def edit(customer: Customer) -> str:
    return reverse("customers:edit", args=[customer.pk])


def delete(customer: Customer) -> str:
    return reverse("customers:delete", args=[customer.pk])


def full_post(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": "company",
        "name": "Acme Corp",
        "external_id": "crm-42",
        "email": "ops@acme.test",
        "phone": "+49 30 1234",
        "industry": "Software",
        "size": "42",
        "country": "DE",
        "channel": "referral",
        "acquisition_cost": "120.50",
        "birthday": "1990-05-17",
        "signed_up": "2025-03-01",
        "tags": "vip, eu，beta",
        "traits_key": ["seats", "beta", "tier", ""],
        "traits_type": ["number", "boolean", "text", "text"],
        "traits_value": ["12", "true", "gold", ""],
    }
    data.update(overrides)
    return data


def snapshot() -> tuple:
    return (
        list(Customer.objects.order_by("pk").values()),
        Contact.objects.count(),
        TimelineEntry.objects.count(),
        AuditEntry.objects.count(),
    )


def errors_shown(html: str) -> list[str]:
    summary = html.split('id="form-errors"')[1].split("</div>")[0]
    return sorted(set(re.findall(r'<li data-field="(\w+)"', summary)))


# --- who may -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["new", "edit", "delete"])
def test_an_outsider_is_sent_to_log_in_and_nothing_changes(outsider_client, path):
    customer = make_customer("Acme")
    url = {"new": NEW, "edit": edit(customer), "delete": delete(customer)}[path]
    before = snapshot()
    for method in ("get", "post"):
        response = getattr(outsider_client, method)(url, full_post(confirm="Acme"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")
    assert snapshot() == before


@pytest.mark.parametrize("path", ["new", "edit", "delete"])
def test_a_viewer_gets_403_on_the_pages_and_on_post_and_nothing_changes(viewer_client, path):
    customer = make_customer("Acme")
    url = {"new": NEW, "edit": edit(customer), "delete": delete(customer)}[path]
    before = snapshot()
    assert viewer_client.get(url).status_code == 403
    assert viewer_client.post(url, full_post(confirm="Acme")).status_code == 403
    assert snapshot() == before


def test_a_viewer_sees_no_new_edit_or_delete_buttons(viewer_client):
    customer = make_customer("Acme")
    make_contact(customer, "Ann")
    list_html = viewer_client.get(reverse("customers:list")).content.decode()
    page = viewer_client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert 'id="customer-new"' not in list_html
    for marker in (
        'id="customer-edit"',
        'id="customer-delete"',
        'id="contact-add"',
        "contact-actions",
    ):
        assert marker not in page


def test_a_member_sees_the_buttons(member_client):
    customer = make_customer("Acme")
    make_contact(customer, "Ann")
    list_html = member_client.get(reverse("customers:list")).content.decode()
    page = member_client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert f'href="{NEW}"' in list_html
    assert f'href="{edit(customer)}"' in page and f'href="{delete(customer)}"' in page


# --- create and edit -----------------------------------------------------------------------


def test_a_member_creates_a_customer_with_every_field(member_client, member, owner):
    plan = make_plan("pro")
    referrer = make_customer("Friendly Co")
    response = member_client.post(
        NEW, full_post(plan=plan.pk, owner=owner.pk, referred_by=referrer.pk)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    customer = Customer.objects.get(name="Acme Corp")
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    assert customer.kind == "company"
    assert customer.external_id == "crm-42"
    assert customer.email == "ops@acme.test"
    assert customer.phone == "+49 30 1234"
    assert customer.industry == "Software"
    assert customer.size == 42
    assert customer.country == "DE"
    assert customer.plan == plan
    assert customer.channel == "referral"
    assert customer.acquisition_cost == Decimal("120.50")
    assert customer.owner == owner
    assert customer.referred_by == referrer
    assert customer.birthday == date(1990, 5, 17)
    assert timezone.localdate(customer.signed_up_at) == date(2025, 3, 1)
    assert customer.traits == {"seats": 12, "beta": True, "tier": "gold"}
    assert sorted(customer.tags.values_list("name", flat=True)) == ["beta", "eu", "vip"]
    audit = AuditEntry.objects.get(action="customer.create", object_id=str(customer.pk))
    assert audit.actor == member
    assert TimelineEntry.objects.filter(customer=customer, data__msg="customer_created").exists()


def test_the_smallest_new_customer_is_a_name(owner_client):
    response = owner_client.post(NEW, {"kind": "person", "name": "Ann Lee"})
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert (customer.name, customer.kind, customer.email, customer.size) == (
        "Ann Lee",
        "person",
        "",
        None,
    )
    assert customer.external_id is None and customer.traits == {}


def test_the_edit_form_shows_every_current_value(owner_client, owner):
    plan = make_plan("pro")
    referrer = make_customer("Friendly Co")
    customer = make_customer(
        "Acme",
        industry="Software",
        size=42,
        country="DE",
        plan=plan,
        channel="partner",
        acquisition_cost=Decimal("99.00"),
        owner=owner,
        referred_by=referrer,
        birthday=date(1990, 5, 17),
        traits={"seats": 12, "beta": True, "crm": {"id": 7}},
        tags=["vip"],
    )
    html = owner_client.get(edit(customer)).content.decode()
    assert 'value="Acme"' in html and 'value="Software"' in html and 'value="42"' in html
    assert '<option value="DE" selected>' in html
    assert f'<option value="{plan.pk}" selected>' in html
    assert '<option value="partner" selected>' in html
    assert f'<option value="{owner.pk}" selected>' in html
    assert 'value="99.00"' in html and 'value="1990-05-17"' in html and 'value="vip"' in html
    assert f'value="{referrer.pk}" id="referrer-{referrer.pk}" checked' in html
    assert 'value="seats"' in html and 'value="12"' in html
    assert 'id="kept-traits"' in html and "crm" in html


def test_saving_the_edit_form_unchanged_changes_nothing(owner_client):
    customer = make_customer("Acme", size=3, country="FR", traits={"seats": 2})
    signed_up = customer.signed_up_at
    html = owner_client.get(edit(customer)).content.decode()
    post = {
        "kind": "company",
        "name": "Acme",
        "external_id": customer.external_id,
        "email": customer.email,
        "size": "3",
        "country": "FR",
        "signed_up": re.search(r'name="signed_up" value="([\d-]+)"', html).group(1),
        "traits_key": ["seats"],
        "traits_type": ["number"],
        "traits_value": ["2"],
    }
    audits = AuditEntry.objects.count()
    assert owner_client.post(edit(customer), post).status_code == 302
    customer.refresh_from_db()
    assert customer.signed_up_at == signed_up
    assert AuditEntry.objects.count() == audits


def test_every_field_can_be_changed_and_emptied(owner_client, owner, member):
    customer = make_customer(
        "Acme",
        size=3,
        country="FR",
        industry="Retail",
        owner=owner,
        acquisition_cost=Decimal("5"),
        traits={"seats": 2, "crm": {"id": 7}},
        tags=["old"],
    )
    channel_create(code="podcast", name="Podcast", by=None)
    response = owner_client.post(
        edit(customer),
        full_post(name="Acme GmbH", owner=member.pk, channel="podcast", country="AT", tags="new"),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    customer.refresh_from_db()
    assert (customer.name, customer.country, customer.channel, customer.owner) == (
        "Acme GmbH",
        "AT",
        "podcast",
        member,
    )
    # Nested traits are not in the editor and are kept.
    assert customer.traits == {"seats": 12, "beta": True, "tier": "gold", "crm": {"id": 7}}
    assert list(customer.tags.values_list("name", flat=True)) == ["new"]
    response = owner_client.post(edit(customer), {"kind": "person", "name": "Acme"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.kind == "person"
    assert (customer.email, customer.size, customer.country, customer.channel) == ("", None, "", "")
    assert (customer.owner, customer.plan, customer.acquisition_cost, customer.birthday) == (
        None,
        None,
        None,
        None,
    )
    assert customer.external_id is None
    assert customer.traits == {"crm": {"id": 7}}
    assert not customer.tags.exists()


# --- every error at once -------------------------------------------------------------------


def test_a_bad_email_country_and_cost_are_all_reported_and_nothing_is_saved(owner_client):
    response = owner_client.post(
        NEW, full_post(email="not-an-email", country="XX", acquisition_cost="-5")
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert sorted(errors_shown(html)) == ["acquisition_cost", "country", "email"]
    assert "Please correct 3 fields" in html
    assert html.count("is-invalid") >= 3
    assert not Customer.objects.exists()
    # What was typed is still there to correct.
    assert 'value="not-an-email"' in html and 'value="Software"' in html


def test_an_edit_with_many_bad_fields_names_each_and_changes_nothing(owner_client):
    customer = make_customer("Acme", email="a@acme.test")
    before = snapshot()
    response = owner_client.post(
        edit(customer),
        full_post(
            name="",
            email="nope",
            country="Germany",
            size="-3",
            acquisition_cost="abc",
            birthday="31/31/2020",
            owner="999999",
            plan="999999",
            channel="carrier_pigeon",
            referred_by="999999",
            traits_key=["seats", "seats", "flag", "k" * 257],
            traits_type=["number", "text", "boolean", "text"],
            traits_value=["many", "x", "perhaps", "v"],
        ),
    )
    assert response.status_code == 422
    assert sorted(errors_shown(response.content.decode())) == sorted(
        [
            "name",
            "email",
            "country",
            "size",
            "acquisition_cost",
            "birthday",
            "owner",
            "plan",
            "channel",
            "referred_by",
            "traits",
        ]
    )
    traits_errors = response.content.decode().split('id="id_traits-errors"')[1].split("</div>\n")[0]
    assert "is not a number" in traits_errors and "given twice" in traits_errors
    assert "true" in traits_errors and "256" in traits_errors
    assert snapshot() == before


def test_a_taken_external_id_is_reported_on_its_field(owner_client):
    make_customer("Other", external_id="crm-42")
    response = owner_client.post(NEW, full_post(external_id="crm-42"))
    assert response.status_code == 422
    assert errors_shown(response.content.decode()) == ["external_id"]
    assert Customer.objects.count() == 1


def test_a_customer_cannot_refer_itself(owner_client):
    customer = make_customer("Acme")
    response = owner_client.post(
        edit(customer), {"kind": "company", "name": "Acme", "referred_by": customer.pk}
    )
    assert response.status_code == 422
    assert errors_shown(response.content.decode()) == ["referred_by"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Acme\x00"),
        ("industry", "a\x00b"),
        ("traits_key", "k\x00"),
        ("traits_value", "v\x00"),
        ("tags", "vip, " + "x" * 60),
    ],
)
def test_hostile_text_is_a_field_error_never_a_500(owner_client, field, value):
    data = full_post(**{field: value})
    if field.startswith("traits_"):
        data.update({"traits_key": "k", "traits_type": "text", "traits_value": "v", field: value})
    response = owner_client.post(NEW, data)
    assert response.status_code == 422
    assert errors_shown(response.content.decode())
    assert not Customer.objects.exists()


def test_bytes_that_are_not_utf8_are_a_field_error_never_a_500(owner_client):
    # A lone surrogate cannot travel in a form; its UTF-8-like bytes arrive as invalid UTF-8.
    body = (
        b"kind=company&name=%ED%A0%80&email=x&traits_key=k&traits_type=text&traits_value=%ED%A0%80"
    )
    response = owner_client.post(NEW, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in {400, 422}
    assert not Customer.objects.exists()


def test_huge_or_oddly_typed_traits_are_refused_clearly(owner_client):
    keys = [f"k{i}" for i in range(201)]
    response = owner_client.post(
        NEW,
        full_post(traits_key=keys, traits_type=["text"] * 201, traits_value=["v"] * 201),
    )
    assert response.status_code == 422
    assert "At most 200 traits" in response.content.decode()
    response = owner_client.post(
        NEW, full_post(traits_key=["crm"], traits_type=["json"], traits_value=['{"id": 7}'])
    )
    assert response.status_code == 422
    assert "is not a trait type" in response.content.decode()
    response = owner_client.post(
        NEW, full_post(traits_key=["n"], traits_type=["number"], traits_value=["1e400"])
    )
    assert response.status_code == 422
    assert "finite" in response.content.decode()
    response = owner_client.post(
        NEW, full_post(traits_key=["t"], traits_type=["text"], traits_value=["x" * 2001])
    )
    assert response.status_code == 422
    assert not Customer.objects.exists()


# --- delete --------------------------------------------------------------------------------


@pytest.fixture
def busy():
    customer = make_customer("Acme Corp")
    make_contact(customer, "Ann")
    make_contact(customer, "Bob")
    customer_change_stage(customer=customer, stage="trial", by=None, reason="signed up")
    make_subscription(customer, make_plan("pro"))
    now = timezone.now()
    Event.objects.bulk_create(
        [
            Event(customer=customer, name="login", timestamp=now - timedelta(hours=i))
            for i in range(3)
        ]
    )
    DailyRollup.objects.create(customer=customer, day=now.date(), name="login", count=3)
    make_customer("Referred", referred_by=customer)
    return customer


def test_the_delete_page_says_exactly_what_is_erased(owner_client, busy):
    html = owner_client.get(delete(busy)).content.decode()
    erased = html.split('id="erased"')[1].split("</table>")[0]
    rows = dict(
        (label.strip(), int(count))
        for label, count in re.findall(
            r'fw-normal">([^<]+)</th><td class="num ps-4">(\d+)<', erased
        )
    )
    assert rows["Contacts"] == 2
    assert rows["Product events"] == 3
    assert rows["Daily activity totals"] == 1
    assert rows["Subscriptions"] == 1
    assert rows["Lifecycle stage changes"] == StageChange.objects.filter(customer=busy).count()
    assert (
        rows["Timeline entries (notes, calls, emails, meetings…)"]
        == TimelineEntry.objects.filter(customer=busy).count()
    )
    assert "1 customer this one referred stays" in html
    assert "Acme Corp" in html and 'name="confirm"' in html


def test_a_wrong_name_deletes_nothing(owner_client, busy):
    before = snapshot()
    for typed in ("", "acme", "Acme", "Acme Corp!"):
        response = owner_client.post(delete(busy), {"confirm": typed})
        assert response.status_code == 422
        assert 'id="id_confirm-errors"' in response.content.decode()
    assert snapshot() == before


def test_the_typed_name_deletes_the_customer_and_what_hangs_on_it(member_client, member, busy):
    pk = busy.pk
    response = member_client.post(delete(busy), {"confirm": "  Acme Corp "})
    assert response.status_code == 302 and response["Location"] == reverse("customers:list")
    assert not Customer.objects.filter(pk=pk).exists()
    assert not Contact.objects.filter(customer_id=pk).exists()
    assert not Event.objects.filter(customer_id=pk).exists()
    assert Customer.objects.get(name="Referred").referred_by is None
    audit = AuditEntry.objects.get(action="customer.delete", object_id=str(pk))
    assert audit.actor == member
    assert audit.changes["erased"]["customers.Contact"] == 2
    assert audit.changes["erased"]["activity.Event"] == 3


def test_deleting_needs_a_post_with_the_name_even_for_an_owner(owner_client, busy):
    owner_client.get(delete(busy))
    assert Customer.objects.filter(pk=busy.pk).exists()


# --- the referred-by picker ----------------------------------------------------------------


def test_the_picker_search_finds_customers_by_name_and_leaves_out_the_one_edited(owner_client):
    acme = make_customer("Acme Corp")
    make_customer("Acme Labs")
    make_customer("Globex")
    url = reverse("customers:search")
    html = owner_client.get(url, {"q": "acme", "exclude": acme.pk}).content.decode()
    assert "Acme Labs" in html and "Acme Corp" not in html and "Globex" not in html
    assert 'type="radio" name="referred_by"' in html
    assert "No customer matches" in owner_client.get(url, {"q": "zzz"}).content.decode()
    assert owner_client.get(url, {"q": "a\x00"}).status_code in {200, 400}
    assert owner_client.get(url, {"q": "a", "exclude": "x"}).status_code == 200


def test_the_picker_search_gives_anonymous_visitors_nothing(outsider_client):
    make_customer("Acme Corp")
    response = outsider_client.get(reverse("customers:search"), {"q": "acme"})
    assert response.status_code == 302
    assert b"Acme" not in response.content
