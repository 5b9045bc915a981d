"""Headless Chromium through the Privacy panel, the erase page (typed confirmation) and the
list of erasures, in English and Chinese, on a 1400 px desktop and a 390 px phone without
sideways scrolling. Screenshots go to test-output/screenshots/ for a person to look at."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tend.accounts.actions import user_create
from tend.accounts.models import Role, User
from tend.customers.models import Customer
from tend.testing import PASSWORD, SCREENSHOTS, logged_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Also copied here when set (the screenshots a reviewer looks at).
EXTRA = os.environ.get("TEND_PRIVACY_SHOTS", "")


def shoot(page: Any, name: str) -> None:
    path = SCREENSHOTS / f"privacy-{name}.png"
    page.screenshot(path=path, full_page=True)
    if EXTRA:
        Path(EXTRA).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(EXTRA) / path.name)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_owner_exports_and_erases_a_customer_in_the_browser(
    live_server: Any, tmp_path: Any, language: str
) -> None:
    from playwright.sync_api import expect

    from tend.privacy.tests.filling import NAME, fill

    olivia = user_create(username="olivia", password=PASSWORD, role=Role.OWNER)
    User.objects.filter(pk=olivia.pk).update(language=language)
    customer = fill(olivia).customer
    base = live_server.url
    with logged_in_browser(base, tmp_path / "profile", username="olivia") as (page, errors):
        page.set_viewport_size({"width": 1400, "height": 1000})
        page.goto(f"{base}/customers/{customer.pk}/")
        panel = page.locator("#privacy-panel")
        expect(panel).to_be_visible()
        with page.expect_download() as download:
            page.click("#privacy-export")
        assert download.value.suggested_filename.endswith(".zip")
        panel.scroll_into_view_if_needed()
        panel.screenshot(path=SCREENSHOTS / f"privacy-panel-{language}.png")
        if EXTRA:
            Path(EXTRA).mkdir(parents=True, exist_ok=True)
            shutil.copy(SCREENSHOTS / f"privacy-panel-{language}.png", EXTRA)
        shoot(page, f"customer-desktop-{language}")

        page.click("#privacy-erase")
        expect(page.locator("#erase-preview")).to_be_visible()
        shoot(page, f"erase-desktop-{language}")
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shoot(page, f"erase-phone-{language}")
        page.set_viewport_size({"width": 1400, "height": 1000})

        page.fill("#id_confirm", "not the name")
        page.click("#erase-form button[type=submit]")
        expect(page.locator("#id_confirm-errors")).to_be_visible()
        shoot(page, f"erase-refused-{language}")
        errors[:] = [e for e in errors if not e.startswith("422 ")]  # the refusal itself

        page.fill("#id_confirm", NAME)
        page.fill("#id_reference", "Ticket 4711")
        page.click("#erase-form button[type=submit]")
        page.wait_for_url(f"{base}/customers/{customer.pk}/")
        assert Customer.objects.get(pk=customer.pk).name == f"Erased customer #{customer.pk}"
        shoot(page, f"customer-after-{language}")

        page.goto(f"{base}/privacy/erasures/")
        expect(page.locator("#erasures")).to_contain_text("Ticket 4711")
        shoot(page, f"erasures-desktop-{language}")
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shoot(page, f"erasures-phone-{language}")
        assert errors == []
