"""Headless Chromium: an owner adds a user, creates an API key (shown once), and opens the
plans page, in English and then in Chinese (chosen under Settings → Your account), on a
desktop and a phone; full-page screenshots go to test-output/screenshots/settings-*.png."""

from __future__ import annotations

import pytest

from tend.accounts.actions import apikey_create, user_create
from tend.accounts.models import Role, User
from tend.factories import make_customer, make_plan, make_subscription
from tend.testing import PASSWORD, SCREENSHOTS, logged_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def seed() -> None:
    olivia = user_create(
        username="olivia", password=PASSWORD, role=Role.OWNER, email="olivia@example.com"
    )
    User.objects.filter(pk=olivia.pk).update(first_name="Olivia", last_name="Chen")
    sam = user_create(username="sam", password=PASSWORD, role=Role.MEMBER, email="sam@example.com")
    user_create(username="vera", password=PASSWORD, role=Role.VIEWER, first_name="Vera")
    gone = user_create(username="former", password=PASSWORD, role=Role.MEMBER)
    User.objects.filter(pk=gone.pk).update(is_active=False)
    apikey_create(name="website tracking", kind="write", by=olivia, user=sam)
    apikey_create(name="zapier", kind="read_write", by=olivia)
    starter = make_plan("starter", price="29", name="Starter")
    growth = make_plan("growth", price="99", name="Growth")
    make_plan("scale-yearly", price="2990", interval="year", name="Scale (yearly)")
    legacy = make_plan("legacy-2019", price="19", name="Legacy 2019")
    legacy.is_active = False
    legacy.save(update_fields=["is_active"])
    for i in range(5):
        make_subscription(make_customer(f"Customer {i}"), starter if i % 2 else growth)


def test_an_owner_manages_users_keys_and_plans_in_english_and_chinese(live_server, tmp_path):
    from playwright.sync_api import expect

    seed()
    base = live_server.url
    with logged_in_browser(base, tmp_path / "profile", username="olivia") as (page, errors):
        # The settings link is in the user menu.
        page.click("#user-menu")
        page.click("#settings-link")
        expect(page).to_have_url(f"{base}/settings/")

        page.goto(f"{base}/settings/users/")
        page.fill("#id_username", "nina")
        page.fill("#id_first_name", "Nina")
        page.fill("#id_email", "nina@example.com")
        page.select_option("#id_role", "viewer")
        page.click("#add-user button[type=submit]")
        temporary = page.input_value("#temporary-password")
        assert len(temporary) >= 12

        page.goto(f"{base}/settings/api-keys/")
        page.fill("#id_name", "metabase")
        page.select_option("#id_kind", "read")
        page.click("#create-key button[type=submit]")
        raw = page.input_value("#raw-key")
        assert raw.startswith("tr_")
        page.screenshot(path=SCREENSHOTS / "settings-api-key-created-en.png", full_page=True)

        for language in ("en", "zh"):
            if language == "zh":
                page.set_viewport_size(SIZES["desktop"])
                page.goto(f"{base}/settings/")
                page.select_option("#id_language", "zh-hans")
                page.click("#language-choice button[type=submit]")
                expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
            for size, viewport in SIZES.items():
                page.set_viewport_size(viewport)
                for name, url in [
                    ("users", "/settings/users/"),
                    ("api-keys", "/settings/api-keys/"),
                    ("plans", "/billing/plans/"),
                ]:
                    page.goto(f"{base}{url}")
                    if size == "phone":  # nothing sticks out of the screen
                        assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
                    body = page.content()
                    assert raw not in body and temporary not in body
                    page.screenshot(
                        path=SCREENSHOTS / f"settings-{name}-{language}-{size}.png", full_page=True
                    )
        page.set_viewport_size(SIZES["desktop"])
        page.goto(f"{base}/settings/")
        page.screenshot(path=SCREENSHOTS / "settings-account-zh-desktop.png", full_page=True)
        page.goto(f"{base}/settings/business/")
        page.screenshot(path=SCREENSHOTS / "settings-business-zh-desktop.png", full_page=True)
        assert errors == []
