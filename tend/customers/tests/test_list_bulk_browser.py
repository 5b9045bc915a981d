"""Headless Chromium selects customers on the list and acts on them in bulk, exports, and
manages the acquisition channels, in English and Chinese, on a laptop and a phone (390 px,
where MRR must stay on screen). Screenshots go to test-output/screenshots/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tend.accounts.actions import user_create
from tend.accounts.models import Role
from tend.customers.actions import customer_set_tags
from tend.customers.models import AcquisitionChannel, Customer, Stage
from tend.factories import make_customer, make_plan, make_subscription
from tend.testing import PASSWORD, SCREENSHOTS, logged_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def seed() -> None:
    user_create(username="olivia", password=PASSWORD, role=Role.OWNER)
    user_create(username="mike", password=PASSWORD, role=Role.MEMBER)
    AcquisitionChannel.objects.all().delete()
    for i, code in enumerate(["organic", "paid_search", "referral", "partner"], start=1):
        AcquisitionChannel.objects.create(code=code, position=i)
    plan = make_plan("growth", "249", name="Growth")
    for i in range(130):
        customer = make_customer(
            f"Northwind Trading Company {i:02d}",
            email=f"finance-team{i}@northwind-trading.example",
            stage=Stage.TRIAL if i % 2 else Stage.ESTABLISHED,
            channel=["organic", "referral", "partner"][i % 3],
        )
        if i % 4 == 0:
            make_subscription(customer, plan)
        if i % 5 == 0:
            customer_set_tags(customer=customer, tags=["enterprise"], by=None)


def test_a_founder_tags_and_moves_selected_customers(live_server: Any, tmp_path: Any) -> None:
    from playwright.sync_api import expect

    seed()
    base = live_server.url
    with logged_in_browser(base, tmp_path / "profile", username="olivia") as (page, errors):
        page.goto(f"{base}/customers/")  # login lands on Today
        expect(page.locator("#bulk-count")).to_have_text("No customers selected")
        # Nothing selected: the actions stay out of the way.
        expect(page.locator("#id_bulk-action")).to_be_hidden()
        rows = page.locator("input.bulk-row")
        rows.nth(0).check()
        # The tag field shows only for tag actions.
        expect(page.locator("#id_bulk-action")).to_be_visible()
        expect(page.locator("#id_bulk-tag")).to_be_hidden()
        rows.nth(2).check()
        rows.nth(3).check()
        expect(page.locator("#bulk-count")).to_have_text("3 customers selected")
        page.select_option("#id_bulk-action", "add_tag")
        expect(page.locator("#id_bulk-tag")).to_be_visible()
        page.fill("#id_bulk-tag", "renewal-q1")
        page.screenshot(path=SCREENSHOTS / "customers-bulk-en.png", full_page=False)
        page.click("#bulk-apply")
        expect(page.locator(".alert-success")).to_contain_text(
            "Added the tag “renewal-q1” to 3 customers."
        )
        assert Customer.objects.filter(tags__name="renewal-q1").count() == 3

        # Everything matching a filter, beyond the first page.
        page.select_option("#id_stage", "trial")
        expect(page.locator("#result-count")).to_contain_text("65 customers")
        page.check("#bulk-page")
        expect(page.locator("#bulk-count")).to_have_text("50 customers selected")
        page.check("#bulk-all")
        expect(page.locator("#bulk-count")).to_have_text("All 65 matching customers selected")
        page.select_option("#id_bulk-action", "set_stage")
        page.select_option("#id_bulk-stage", "onboarding")
        page.fill("#id_bulk-reason", "Kick-off call booked")
        page.screenshot(path=SCREENSHOTS / "customers-bulk-all-en.png", full_page=False)
        page.click("#bulk-apply")
        expect(page.locator(".alert-success")).to_contain_text("Moved 65 customers")
        assert Customer.objects.filter(stage=Stage.ONBOARDING).count() == 65
        expect(page).to_have_url(re.compile(r"/customers/\?.*stage=trial"))

        page.goto(f"{base}/customers/?stage=onboarding")
        with page.expect_download() as download:
            page.click("#export-links a:has-text('CSV')")
        assert download.value.suggested_filename.startswith("customers-")

        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{base}/customers/?sort=-mrr")
        page.locator("input.bulk-row").nth(0).check()
        page.select_option("#id_bulk-action", "add_tag")
        page.screenshot(path=SCREENSHOTS / "customers-bulk-phone-en.png", full_page=False)
        page.set_viewport_size({"width": 1280, "height": 900})

        page.goto(f"{base}/customers/")
        page.click("#language-menu")
        page.click("#language-form button[value=zh-hans]")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        page.locator("input.bulk-row").nth(1).check()
        page.select_option("#id_bulk-action", "set_owner")
        page.screenshot(path=SCREENSHOTS / "customers-bulk-zh.png", full_page=False)

        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{base}/customers/?sort=-mrr")
        page.screenshot(path=SCREENSHOTS / "customers-phone-zh.png", full_page=False)
        page.locator("input.bulk-row").nth(0).check()
        page.select_option("#id_bulk-action", "set_stage")
        page.screenshot(path=SCREENSHOTS / "customers-bulk-phone-zh.png", full_page=False)
        mrr = page.locator("tbody tr").first.locator("td.num").first
        box = mrr.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390, box
        assert errors == []


def test_a_founder_manages_the_acquisition_channels(live_server: Any, tmp_path: Any) -> None:
    from playwright.sync_api import expect

    seed()
    base = live_server.url
    with logged_in_browser(base, tmp_path / "profile", username="olivia") as (page, errors):
        page.goto(f"{base}/customers/")  # login lands on Today
        page.click("a[href='/customers/channels/']")
        expect(page.locator("h1")).to_have_text("Acquisition channels")
        expect(page.locator("tr[data-channel=referral] td.num")).to_have_text("43")
        page.fill("#id_name", "Trade fairs")
        page.click("#channel-add button[type=submit]")
        expect(page.locator(".alert-success")).to_contain_text("Added the channel Trade fairs")
        page.locator("tr[data-channel=trade_fairs] button[value=up]").click()
        page.locator("tr[data-channel=partner] button:has-text('Archive')").click()
        expect(page.locator("#archived-list")).to_contain_text("Partner")
        page.screenshot(path=SCREENSHOTS / "channels-en.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        page.screenshot(path=SCREENSHOTS / "channels-phone-en.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.click("#language-menu")
        page.click("#language-form button[value=zh-hans]")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        page.screenshot(path=SCREENSHOTS / "channels-zh.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        page.screenshot(path=SCREENSHOTS / "channels-phone-zh.png", full_page=True)
        assert errors == []
