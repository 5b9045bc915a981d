"""Headless Chromium reads the operations page on a desktop and a 390 px phone, in English
and Chinese, and retries an email that gave up; screenshots go to test-output/screenshots/
for a person to look at."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from tend.accounts.actions import user_create
from tend.accounts.models import Role
from tend.jobs.tests.ops_helpers import make_failed_schedule, make_trouble
from tend.testing import PASSWORD, SCREENSHOTS, logged_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def test_an_owner_reads_what_failed_and_retries_it(live_server: Any, tmp_path: Any) -> None:
    from playwright.sync_api import expect

    user_create(username="olivia", password=PASSWORD, role=Role.OWNER)
    trouble = make_trouble()
    make_failed_schedule()
    base = live_server.url
    with logged_in_browser(base, tmp_path / "profile", username="olivia") as (page, errors):
        page.goto(f"{base}/operations/")
        expect(page.locator(f"#run-{trouble.gave_up.pk}")).to_contain_text("gave up")
        expect(page.locator(f"#message-{trouble.retrying_email.pk}")).to_contain_text("will retry")
        expect(page.locator("#schedule-daily-pipeline")).to_contain_text("PipelineError")
        page.screenshot(path=SCREENSHOTS / "operations-desktop.png", full_page=True)
        page.set_viewport_size(PHONE)
        page.reload()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=SCREENSHOTS / "operations-phone.png", full_page=True)

        if importlib.util.find_spec("tend.messaging.actions") is not None:
            page.locator(f"#message-{trouble.failed_email.pk}").get_by_role(
                "button", name="Retry now"
            ).click()
            expect(page.locator(".messages")).to_contain_text("will be sent again now")
            expect(page.locator(f"#message-{trouble.failed_email.pk}")).to_have_count(0)

        page.set_viewport_size(DESKTOP)
        page.click("#language-menu")
        page.click("#language-form button[value=zh-hans]")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        page.goto(f"{base}/operations/")
        page.screenshot(path=SCREENSHOTS / "operations-desktop-zh.png", full_page=True)
        page.set_viewport_size(PHONE)
        page.reload()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=SCREENSHOTS / "operations-phone-zh.png", full_page=True)
        assert errors == []
