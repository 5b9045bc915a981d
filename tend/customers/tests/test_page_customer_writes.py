"""Notes, stage changes and tags from the customer page: who may write, and what lands where."""

import pytest
from django.urls import reverse

from tend.accounts.models import AuditEntry
from tend.customers.models import Customer, Stage, StageChange, TimelineEntry
from tend.factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return make_customer("Acme Corp", stage=Stage.TRIAL, tags=["beta"])


def url(name: str, customer: Customer) -> str:
    return reverse(f"customers:{name}", args=[customer.pk])


WRITES = [
    ("note_add", {"kind": "call", "body": "Called about renewal"}),
    ("stage_change", {"stage": "onboarding", "reason": "paid"}),
    ("tags_set", {"tags": "vip, eu"}),
]


def snapshot(customer: Customer) -> tuple:
    customer.refresh_from_db()
    return (
        customer.stage,
        sorted(customer.tags.values_list("name", flat=True)),
        TimelineEntry.objects.filter(customer=customer).count(),
        StageChange.objects.filter(customer=customer).count(),
        AuditEntry.objects.count(),
    )


@pytest.mark.parametrize("name", ["list", "detail", "timeline"])
def test_an_outsider_is_sent_to_log_in_from_every_page(outsider_client, customer, name):
    target = reverse("customers:list") if name == "list" else url(name, customer)
    response = outsider_client.get(target)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize(("name", "data"), WRITES)
def test_an_outsider_cannot_write_and_nothing_changes(outsider_client, customer, name, data):
    before = snapshot(customer)
    response = outsider_client.post(url(name, customer), data)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert snapshot(customer) == before


@pytest.mark.parametrize(("name", "data"), WRITES)
def test_a_viewer_gets_403_on_every_write_and_nothing_changes(viewer_client, customer, name, data):
    before = snapshot(customer)
    response = viewer_client.post(url(name, customer), data)
    assert response.status_code == 403
    assert snapshot(customer) == before


def test_a_viewer_sees_the_page_without_any_write_form(viewer_client, customer):
    html = viewer_client.get(url("detail", customer)).content.decode()
    assert "Acme Corp" in html
    for form_id in ("note-form", "stage-form", "tags-form"):
        assert form_id not in html


def test_a_writer_sees_all_write_forms(member_client, customer):
    html = member_client.get(url("detail", customer)).content.decode()
    for form_id in ("note-form", "stage-form", "tags-form"):
        assert f'id="{form_id}"' in html


@pytest.mark.parametrize(("name", "data"), WRITES)
def test_writes_need_a_post(member_client, customer, name, data):
    assert member_client.get(url(name, customer), data).status_code == 405


def test_a_member_logs_a_call_and_it_tops_the_timeline(member_client, member, customer):
    response = member_client.post(url("note_add", customer), WRITES[0][1], follow=True)
    assert response.redirect_chain[0] == (url("detail", customer) + "#timeline", 302)
    entry = TimelineEntry.objects.filter(customer=customer).latest("at")
    assert (entry.kind, entry.body, entry.author) == ("call", "Called about renewal", member)
    html = response.content.decode()
    first = html.split('id="timeline-entries"')[1].split("</li>")[0]
    assert "Called about renewal" in first and "mike" in first
    assert "Saved to the timeline." in html


def test_an_owner_changes_the_stage_and_it_is_on_the_timeline(owner_client, owner, customer):
    response = owner_client.post(url("stage_change", customer), WRITES[1][1], follow=True)
    customer.refresh_from_db()
    assert customer.stage == Stage.ONBOARDING
    change = StageChange.objects.filter(customer=customer).latest("at")
    assert (change.from_stage, change.to_stage, change.by, change.reason) == (
        "trial",
        "onboarding",
        owner,
        "paid",
    )
    html = response.content.decode()
    assert "Stage changed from Trial to Onboarding" in html
    assert "Stage changed to Onboarding." in html


def test_a_member_replaces_the_tags_and_it_is_on_the_timeline(member_client, customer):
    response = member_client.post(url("tags_set", customer), {"tags": "vip， eu, vip"}, follow=True)
    assert sorted(customer.tags.values_list("name", flat=True)) == ["eu", "vip"]
    assert "Tags set to: eu, vip" in response.content.decode()


def test_empty_tags_remove_every_tag(member_client, customer):
    member_client.post(url("tags_set", customer), {"tags": " "})
    assert not customer.tags.exists()


def test_htmx_writes_follow_the_redirect_and_swap_the_main_area(member_client, customer):
    response = member_client.post(
        url("note_add", customer),
        {"kind": "note", "body": "via htmx"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="page-main",
        follow=True,
    )
    assert response.status_code == 200
    assert 'id="page-main"' in response.content.decode()
    assert 'hx-select="#page-main"' in response.content.decode()


def test_an_empty_note_is_refused_with_an_error_naming_the_field(member_client, customer):
    before = snapshot(customer)
    response = member_client.post(url("note_add", customer), {"kind": "note", "body": "   "})
    assert response.status_code == 422
    html = response.content.decode()
    assert "<strong>Note:</strong> Write something before saving the note." in html
    assert 'class="form-control is-invalid" name="body"' in html
    assert snapshot(customer) == before


def test_an_unknown_note_kind_is_refused_with_an_error_naming_the_field(member_client, customer):
    before = snapshot(customer)
    response = member_client.post(url("note_add", customer), {"kind": "fax", "body": "hi"})
    assert response.status_code == 422
    assert "<strong>Kind:</strong>" in response.content.decode()
    assert snapshot(customer) == before


def test_an_unknown_stage_is_refused_with_an_error_naming_the_field(member_client, customer):
    before = snapshot(customer)
    response = member_client.post(url("stage_change", customer), {"stage": "vip"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "<strong>Lifecycle stage:</strong> “vip” is not a lifecycle stage." in html
    assert snapshot(customer) == before


def test_a_tag_longer_than_fifty_characters_is_refused(member_client, customer):
    before = snapshot(customer)
    response = member_client.post(url("tags_set", customer), {"tags": "ok, " + "x" * 51})
    assert response.status_code == 422
    assert "<strong>Tags:</strong> Each tag can have at most 50 characters" in (
        response.content.decode()
    )
    assert snapshot(customer) == before


def test_writing_to_a_missing_customer_is_a_404(member_client):
    response = member_client.post(
        reverse("customers:note_add", args=[999999]), {"kind": "note", "body": "x"}
    )
    assert response.status_code == 404
