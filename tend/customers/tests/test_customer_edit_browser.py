"""Headless Chromium creates a customer (after one try with three bad fields), picks who
referred it, edits contacts and deletes a customer, in English and Chinese, on a desktop and a
phone; screenshots go to test-output/screenshots/ for a person to look at."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tend.accounts.actions import user_create
from tend.accounts.models import Role
from tend.activity.models import DailyRollup
from tend.customers.actions import customer_change_stage
from tend.customers.models import Customer
from tend.factories import make_contact, make_customer, make_plan, make_subscription
from tend.testing import PASSWORD, SCREENSHOTS, logged_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def seed() -> Customer:
    owner = user_create(username="olivia", password=PASSWORD, role=Role.OWNER)
    make_plan("growth", "99", name="Growth")
    make_customer("Friendly Co")
    acme = make_customer("Acme Corp", country="DE", industry="Software", size=None, owner=owner)
    make_contact(acme, "Ann Lee", title="CTO", email="ann@acme.test", phone="+49 30 1234")
    make_contact(acme, "Bob Buyer", title="Head of purchasing", email="bob@acme.test")
    customer_change_stage(customer=acme, stage="trial", by=owner, reason="asked for a demo")
    now = timezone.now()
    make_subscription(acme, make_plan("pro", "49", name="Pro"), at=now - timedelta(days=90))
    DailyRollup.objects.bulk_create(
        [
            DailyRollup(
                customer=acme, day=(now - timedelta(days=d)).date(), name="login", count=d % 3
            )
            for d in range(0, 20)
        ]
    )
    return acme


def shoot(page: Any, name: str) -> None:
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def test_a_founder_creates_edits_and_deletes_customers(live_server: Any, tmp_path: Any) -> None:
    from playwright.sync_api import expect

    acme = seed()
    base = live_server.url
    with logged_in_browser(base, tmp_path / "profile", username="olivia") as (page, errors):
        page.goto(f"{base}/customers/")  # login lands on Today
        page.click("#customer-new")
        expect(page.locator("h1")).to_have_text("New customer")
        shoot(page, "customer-new-en")

        page.fill("#id_name", "Globex")
        page.fill("#id_email", "not-an-email")
        page.fill("#id_size", "-3")
        page.fill("#id_acquisition_cost", "-5")
        page.select_option("#id_country", "CN")
        page.click("button[type=submit]:has-text('Create customer')")
        expect(page.locator("#form-errors")).to_contain_text("Please correct 3 fields")
        shoot(page, "customer-form-errors-en")

        page.fill("#id_email", "ops@globex.test")
        page.fill("#id_size", "120")
        page.fill("#id_acquisition_cost", "350")
        page.fill("#referrer-search", "Friend")
        page.locator("#referrer-results input[type=radio]").first.check()
        expect(page.locator("#referrer-choices")).to_contain_text("Friendly Co")
        page.click("#trait-add")
        page.locator(".trait-row input[name=traits_key]").first.fill("seats")
        page.locator(".trait-row select[name=traits_type]").first.select_option("number")
        page.locator(".trait-row input[name=traits_value]").first.fill("12")
        page.click("button[type=submit]:has-text('Create customer')")
        expect(page.locator("#customer-name")).to_have_text("Globex")
        globex = Customer.objects.get(name="Globex")
        assert globex.referred_by is not None and globex.referred_by.name == "Friendly Co"
        assert (globex.country, globex.size, globex.traits) == ("CN", 120, {"seats": 12})

        page.goto(f"{base}/customers/{acme.pk}/")
        expect(page.locator("#stage-reason")).to_have_text("asked for a demo")
        page.click("#contacts button:has-text('Make primary')")
        expect(page.locator("#contacts .list-group-item").first).to_contain_text("Bob Buyer")
        shoot(page, "customer-page-contacts-en")

        page.goto(f"{base}/customers/{acme.pk}/delete/")
        expect(page.locator("#erased")).to_contain_text("Contacts")
        page.fill("#id_confirm", "Acme")
        page.click("button:has-text('Delete for good')")
        expect(page.locator("#id_confirm-errors")).to_be_visible()
        shoot(page, "customer-delete-en")

        page.click("#language-menu")
        page.click("#language-form button[value=zh-hans]")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            suffix = "zh" if size == "desktop" else "phone-zh"
            page.goto(f"{base}/customers/new/")
            shoot(page, f"customer-new-{suffix}")
            page.fill("#id_name", "Initech")
            page.fill("#id_email", "nope")
            page.fill("#id_acquisition_cost", "-1")
            page.locator("form#customer-form button[type=submit]").click()
            expect(page.locator("#form-errors")).to_be_visible()
            shoot(page, f"customer-form-errors-{suffix}")
            page.goto(f"{base}/customers/{acme.pk}/")
            shoot(page, f"customer-page-contacts-{suffix}")
            page.goto(f"{base}/customers/{acme.pk}/delete/")
            shoot(page, f"customer-delete-{suffix}")

        page.evaluate("document.cookie = 'django_language=en; path=/'")
        page.goto(f"{base}/customers/{acme.pk}/")
        shoot(page, "customer-page-contacts-phone-en")
        page.goto(f"{base}/customers/{acme.pk}/edit/")
        shoot(page, "customer-edit-phone-en")
        page.goto(f"{base}/customers/{acme.pk}/delete/")
        page.fill("#id_confirm", "Acme Corp")
        page.click("button[type=submit].btn-danger")
        expect(page).to_have_url(f"{base}/customers/")
        assert not Customer.objects.filter(pk=acme.pk).exists()

        refused = [e for e in errors if not e.startswith("422 ")]
        assert refused == [], errors
