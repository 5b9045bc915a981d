"""Plans: create, edit, archive and restore through the actions, the page and the REST API;
every field error at once; archived plans leave ``Plan.objects.offered()`` but keep their
customers and subscriptions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from tend.accounts.actions import apikey_create
from tend.accounts.models import AuditEntry
from tend.billing.actions import (
    plan_archive,
    plan_create,
    plan_restore,
    plan_update,
    subscription_cancel,
)
from tend.billing.models import Plan
from tend.factories import make_customer, make_plan, make_subscription

pytestmark = pytest.mark.django_db


def _plans() -> list[tuple[object, ...]]:
    return sorted(Plan.objects.values_list("pk", "code", "name", "price", "interval", "currency",
                                           "is_active"))  # fmt: skip


# --- actions ---------------------------------------------------------------------------------


def test_a_plan_is_created_offered_in_the_reporting_currency_and_audited(owner, settings):
    settings.TEND_CURRENCY = "EUR"
    plan = plan_create(code="pro", name=" Pro ", price="49.90", interval="month", by=owner)
    assert (plan.name, plan.price, plan.currency, plan.is_active) == (
        "Pro",
        Decimal("49.90"),
        "EUR",
        True,
    )
    assert list(Plan.objects.offered()) == [plan]
    entry = AuditEntry.objects.get(action="plan.create")
    assert entry.actor == owner and entry.changes["code"] == "pro"


def test_every_problem_of_a_plan_is_reported_at_once(owner):
    make_plan("pro")
    with pytest.raises(ValidationError) as caught:
        plan_create(code="pro", name="", price="-1", interval="fortnight", currency="XYZ", by=owner)
    errors = caught.value.message_dict
    assert set(errors) == {"code", "name", "price", "interval", "currency"}
    assert "Another plan has the code “pro”." in errors["code"]
    assert "“XYZ” is not an ISO 4217 currency code" in errors["currency"][0]
    assert Plan.objects.count() == 1


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("abc", "Give the price as a number"),
        ("NaN", "Give the price as a number"),
        ("1e400", "at most 9,999,999,999.99"),
        ("10000000000", "at most 9,999,999,999.99"),
        ("1.005", "at most two decimal places"),
        ("-0.01", "cannot be negative"),
    ],
)
def test_a_price_outside_the_column_is_refused(owner, price, message):
    with pytest.raises(ValidationError, match=message):
        plan_create(code="p", name="P", price=price, by=owner)


@pytest.mark.parametrize("code", ["a b", "ünï", "x" * 61, "semi;colon", ""])
def test_a_code_that_is_not_a_slug_is_refused(owner, code):
    with pytest.raises(ValidationError) as caught:
        plan_create(code=code, name="P", price="1", by=owner)
    assert set(caught.value.message_dict) == {"code"}


def test_free_plans_and_the_largest_price_are_fine(owner):
    assert plan_create(code="free", name="Free", price="0", by=owner).price == 0
    big = plan_create(code="big", name="Big", price="9999999999.99", interval="year", by=owner)
    big.refresh_from_db()
    assert big.price == Decimal("9999999999.99")


def test_an_update_changes_only_what_differs_and_keeps_subscriptions(owner):
    plan = make_plan("pro", price="49")
    customer = make_customer()
    sub = make_subscription(customer, plan)
    mrr = sub.mrr
    plan_update(plan=plan, price="59", name="Pro 2026", by=owner)
    plan.refresh_from_db()
    sub.refresh_from_db()
    assert (plan.price, plan.name, plan.code) == (Decimal("59"), "Pro 2026", "pro")
    assert sub.mrr == mrr and sub.plan == plan
    entry = AuditEntry.objects.get(action="plan.update", actor=owner)
    assert set(entry.changes) == {"price", "name"}
    plan_update(plan=plan, price="59.00", by=owner)  # the same value: nothing recorded
    assert AuditEntry.objects.filter(action="plan.update", actor=owner).count() == 1


def test_an_update_cannot_take_another_plans_code(owner):
    make_plan("pro")
    basic = make_plan("basic", price="9")
    with pytest.raises(ValidationError, match="Another plan has the code"):
        plan_update(plan=basic, code="pro", by=owner)
    basic.refresh_from_db()
    assert basic.code == "basic"


def test_archiving_hides_a_plan_from_offered_but_keeps_its_references(owner):
    plan = make_plan("legacy")
    customer = make_customer()
    sub = make_subscription(customer, plan)
    plan_archive(plan=plan, by=owner)
    assert not Plan.objects.offered().filter(pk=plan.pk).exists()
    sub.refresh_from_db()
    customer.refresh_from_db()
    assert sub.plan == plan and customer.plan == plan
    plan_archive(plan=plan, by=owner)  # twice: one audit row
    assert AuditEntry.objects.filter(action="plan.archive").count() == 1
    plan_restore(plan=plan, by=owner)
    assert Plan.objects.offered().filter(pk=plan.pk).exists()
    assert AuditEntry.objects.filter(action="plan.restore").count() == 1


# --- the page ----------------------------------------------------------------------------------


def test_the_plans_page_lists_plans_with_their_customers_and_subscriptions(viewer_client):
    pro = make_plan("pro", name="Pro")
    make_plan("free", price="0", name="Free")
    for _ in range(3):
        make_subscription(make_customer(), pro)
    gone = make_subscription(make_customer(), pro)
    subscription_cancel(subscription=gone, by=None)
    response = viewer_client.get("/billing/plans/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Pro" in page and "Free" in page and "3 live of 4" in page
    row = page.split(f'id="plan-{pro.pk}"')[1].split("</tr>")[0]
    assert '<td class="text-end">3</td>' in row  # the canceled customer is not counted
    assert "Add a plan" not in page and "/archive/" not in page  # viewers read only


def test_the_plans_page_stays_at_a_constant_number_of_queries(
    member_client, django_assert_max_num_queries
):
    for i in range(20):
        plan = make_plan(f"p{i}", price=str(i))
        make_subscription(make_customer(), plan)
    with django_assert_max_num_queries(12):
        assert member_client.get("/billing/plans/").status_code == 200


def test_a_member_creates_edits_archives_and_restores_a_plan_on_the_page(member_client, member):
    response = member_client.post(
        "/billing/plans/",
        {"name": "Team", "code": "team", "price": "99", "interval": "month", "currency": "usd"},
    )
    assert response.status_code == 302
    plan = Plan.objects.get(code="team")
    assert plan.currency == "USD"
    edit = member_client.get(f"/billing/plans/{plan.pk}/edit/")
    assert edit.status_code == 200 and 'value="team"' in edit.content.decode()
    member_client.post(
        f"/billing/plans/{plan.pk}/edit/",
        {"name": "Team+", "code": "team", "price": "109", "interval": "year", "currency": "EUR"},
    )
    plan.refresh_from_db()
    assert (plan.name, plan.price, plan.interval, plan.currency) == (
        "Team+",
        Decimal("109"),
        "year",
        "EUR",
    )
    member_client.post(f"/billing/plans/{plan.pk}/archive/")
    assert not Plan.objects.offered().exists()
    assert "archived" in member_client.get("/billing/plans/").content.decode()
    member_client.post(f"/billing/plans/{plan.pk}/restore/")
    assert Plan.objects.offered().count() == 1
    assert AuditEntry.objects.filter(object_type="billing.plan", actor=member).count() == 4


def test_the_form_reports_every_problem_at_once(owner_client):
    make_plan("pro")
    response = owner_client.post(
        "/billing/plans/",
        {"name": "", "code": "pro", "price": "1.234", "interval": "daily", "currency": "EURO"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert page.count('class="invalid-feedback d-block"') == 5
    assert Plan.objects.count() == 1


def test_hostile_text_in_the_form_is_a_422_never_a_500(owner_client):
    response = owner_client.post(
        "/billing/plans/",
        {"name": "x\x00", "code": "<script>", "price": "1e999999", "currency": "€€€"},
    )
    assert response.status_code == 422
    assert "<script>" not in response.content.decode().split("</h1>", 1)[1].split("<form")[0]
    assert not Plan.objects.exists()


def test_a_viewer_cannot_change_plans_and_nothing_changes(viewer_client):
    plan = make_plan("pro")
    before = _plans()
    assert viewer_client.get(f"/billing/plans/{plan.pk}/edit/").status_code == 403
    for url, data in [
        ("/billing/plans/", {"name": "X", "code": "x", "price": "1", "interval": "month"}),
        (f"/billing/plans/{plan.pk}/edit/", {"name": "Hacked", "code": "pro", "price": "0"}),
        (f"/billing/plans/{plan.pk}/archive/", {}),
        (f"/billing/plans/{plan.pk}/restore/", {}),
    ]:
        assert viewer_client.post(url, data).status_code == 403, url
    assert _plans() == before


# --- the REST API --------------------------------------------------------------------------------


@pytest.fixture
def api(member):  # type: ignore[no-untyped-def]
    _key, raw = apikey_create(name="ops", kind="read_write", by=member)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_plans_are_created_changed_archived_and_restored_through_the_api(api, member):
    made = api.post(
        "/api/v1/plans",
        {"code": "team", "name": "Team", "price": "99.00", "interval": "year", "currency": "EUR"},
        content_type="application/json",
    )
    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["price"] == {"amount": "99.00", "currency": "EUR"} and body["is_active"] is True
    pk = body["id"]
    changed = api.patch(f"/api/v1/plans/{pk}", {"price": "109"}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["price"]["amount"] == "109.00"
    assert api.post(f"/api/v1/plans/{pk}/archive").json()["is_active"] is False
    assert api.get("/api/v1/plans?offered=true").json()["count"] == 0
    assert api.get("/api/v1/plans?offered=false").json()["count"] == 1
    assert api.post(f"/api/v1/plans/{pk}/restore").json()["is_active"] is True
    assert api.get(f"/api/v1/plans/{pk}").json()["code"] == "team"
    labels = set(AuditEntry.objects.filter(object_type="billing.plan").values_list("actor_label"))
    assert labels == {("api:ops",)}


def test_the_api_names_every_field_at_fault(api):
    response = api.post(
        "/api/v1/plans",
        {
            "code": "a b",
            "name": " ",
            "price": 5,
            "interval": "daily",
            "currency": "eur",
            "extra": 1,
        },
        content_type="application/json",
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"code", "name", "price", "interval", "currency", "extra"}


def test_a_currency_outside_iso_4217_is_a_422_and_a_taken_code_a_409(api):
    make_plan("pro")
    bad = api.post(
        "/api/v1/plans",
        {"code": "x", "name": "X", "price": "1", "currency": "XYZ"},
        content_type="application/json",
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "currency"
    taken = api.post(
        "/api/v1/plans", {"code": "pro", "name": "X", "price": "1"}, content_type="application/json"
    )
    assert taken.status_code == 409 and taken.json()["errors"][0]["field"] == "code"
    assert Plan.objects.count() == 1


def test_an_unknown_plan_is_a_404_and_null_is_refused(api):
    assert api.patch("/api/v1/plans/999999", {}, content_type="application/json").status_code == 404
    assert api.post("/api/v1/plans/999999/archive").status_code == 404
    plan = make_plan("pro")
    response = api.patch(
        f"/api/v1/plans/{plan.pk}", {"name": None}, content_type="application/json"
    )
    assert response.status_code == 422


def test_a_read_key_lists_plans_but_cannot_change_them(owner):
    plan = make_plan("pro")
    _key, raw = apikey_create(name="r", kind="read", by=owner)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    before = _plans()
    assert api.get("/api/v1/plans").status_code == 200
    assert (
        api.post(
            "/api/v1/plans",
            {"code": "x", "name": "X", "price": "1"},
            content_type="application/json",
        ).status_code
        == 403
    )
    assert api.post(f"/api/v1/plans/{plan.pk}/archive").status_code == 403
    assert _plans() == before
