"""Headless Chromium reads the "Workers seen" section of the operations page on a desktop and a
390 px phone, in English and Chinese; screenshots go to test-output/screenshots/."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tend.accounts.actions import user_create
from tend.accounts.models import Role
from tend.observability.models import WorkerBeat
from tend.testing import PASSWORD, SCREENSHOTS, logged_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}


def test_a_member_sees_which_workers_are_running(live_server: Any, tmp_path: Any) -> None:
    from playwright.sync_api import expect

    user_create(username="mia", password=PASSWORD, role=Role.MEMBER)
    now = timezone.now()
    WorkerBeat.objects.create(
        host="worker-1.internal", pid=4312, started_at=now - timedelta(hours=5), seen_at=now
    )
    WorkerBeat.objects.create(
        host="worker-2.internal",
        pid=977,
        started_at=now - timedelta(days=1),
        seen_at=now - timedelta(hours=3),
    )
    base = live_server.url
    with logged_in_browser(base, tmp_path / "profile", username="mia") as (page, errors):
        for language in ("en", "zh"):
            page.set_viewport_size(DESKTOP)  # the language menu is folded away on a phone
            if language == "zh":
                page.click("#language-menu")
                page.click("#language-form button[value=zh-hans]")
                expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
            page.goto(f"{base}/operations/")
            section = page.locator("#workers")
            expect(section.locator("tbody tr")).to_have_count(2)
            expect(section.locator("tbody tr").first).to_contain_text("worker-1.internal")
            section.screenshot(path=SCREENSHOTS / f"ops-workers-desktop-{language}.png")
            page.set_viewport_size(PHONE)
            page.reload()
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            page.locator("#workers").screenshot(
                path=SCREENSHOTS / f"ops-workers-phone-{language}.png"
            )
        assert errors == []
