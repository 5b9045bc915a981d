"""Headless Chromium: an owner reads the audit log with filters and a customer's History
panel, in English and Chinese, on a desktop and a phone; full-page screenshots go to
test-output/screenshots/audit-*.png."""

from __future__ import annotations

import pytest

from tend.accounts.actions import apikey_create, user_create
from tend.accounts.audit_context import AuditOrigin, audit_origin
from tend.accounts.models import Role
from tend.customers.actions import customer_add_note, customer_change_stage, customer_update
from tend.factories import make_customer
from tend.tasks.actions import task_create
from tend.testing import PASSWORD, SCREENSHOTS, logged_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": {"width": 1400, "height": 900}, "phone": {"width": 390, "height": 844}}


def seed() -> int:
    olivia = user_create(username="olivia", password=PASSWORD, role=Role.OWNER)
    sam = user_create(username="sam", password=PASSWORD, role=Role.MEMBER)
    with audit_origin(AuditOrigin(ip="198.51.100.23", via="web")):
        acme = make_customer("Acme Robotics", stage="trial")
        customer_update(customer=acme, by=sam, name="Acme Robotics Ltd", email="ops@acme.example")
        customer_change_stage(customer=acme, stage="onboarding", by=sam, reason="Paid the invoice")
        customer_add_note(customer=acme, by=olivia, body="Renewal call booked")
        task_create(title="Send the QBR deck", by=olivia, customer=acme)
    apikey_create(name="crm-sync", kind="read_write", by=sam)
    with audit_origin(AuditOrigin(ip="2001:db8::7", via="api")):
        customer_update(customer=acme, by=sam, label="api:crm-sync", name="Acme Robotics")
        globex = make_customer("Globex")
        customer_update(customer=globex, by=sam, label="api:crm-sync", name="Globex Corp")
    return int(acme.pk)


def test_an_owner_reads_the_audit_log_and_a_customers_history(live_server, tmp_path):
    from playwright.sync_api import expect

    acme = seed()
    base = live_server.url
    with logged_in_browser(base, tmp_path / "profile", username="olivia") as (page, errors):
        for language in ("en", "zh"):
            if language == "zh":
                page.set_viewport_size(SIZES["desktop"])
                page.goto(f"{base}/settings/")
                page.select_option("#id_language", "zh-hans")
                page.click("#language-choice button[type=submit]")
                expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
            for size, viewport in SIZES.items():
                page.set_viewport_size(viewport)
                page.goto(f"{base}/audit/")
                expect(
                    page.locator("#audit-table" if size == "desktop" else "#audit-list")
                ).to_be_visible()
                page.screenshot(
                    path=SCREENSHOTS / f"audit-log-{language}-{size}.png", full_page=True
                )
                page.select_option("#f-user", "sam")
                page.fill("#f-customer", str(acme))
                page.click("#audit-filters button[type=submit]")
                expect(page.locator("#f-customer-name")).to_contain_text("Acme")
                rows = page.locator(
                    "#audit-table tbody tr" if size == "desktop" else "#audit-list li"
                )
                assert rows.count() == 3  # sam's edits (one by key) and stage change
                if size == "phone":
                    assert page.evaluate("document.documentElement.scrollWidth") <= 390
                page.screenshot(
                    path=SCREENSHOTS / f"audit-log-filtered-{language}-{size}.png", full_page=True
                )
                page.goto(f"{base}/customers/{acme}/")
                panel = page.locator("#history-panel")
                expect(panel).to_be_visible()
                panel.scroll_into_view_if_needed()
                panel.screenshot(path=SCREENSHOTS / f"audit-history-{language}-{size}.png")
        page.click("#history-all")
        expect(page).to_have_url(f"{base}/audit/?customer={acme}")
        assert errors == []
