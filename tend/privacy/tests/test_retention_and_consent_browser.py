"""Headless Chromium, English and Chinese, desktop and phone: the data-quality page's
retention section after a run, and a customer's contacts with their consent and unsubscribe
state, and the contact form's consent select. No error, no CSP violation. Screenshots go to
test-output/screenshots/ (and to $TEND_SHOTS_DIR when set)."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tend.accounts.actions import user_create
from tend.accounts.models import Role
from tend.activity.actions import rollups_rebuild
from tend.activity.models import Event
from tend.customers.consent import consent_set
from tend.factories import make_contact, make_customer
from tend.messaging.actions import email_unsubscribe
from tend.privacy.retention import retention_apply
from tend.testing import PASSWORD, SCREENSHOTS, logged_in_browser

# Through the CSSOM (the page's CSP refuses a <style> tag).
UNSTICK = "document.querySelectorAll('.sticky-top').forEach(e => e.style.position = 'static')"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page: Any, name: str) -> None:
    path = SCREENSHOTS / name
    page.screenshot(path=path, full_page=True)
    extra = os.environ.get("TEND_SHOTS_DIR")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / name)


def seed(settings: Any) -> Any:
    settings.TEND_RETENTION_EVENTS_DAYS = 90
    now = datetime.now(UTC)
    acme = make_customer("Acme Robotics", email="")
    ann = make_contact(acme, name="Ann Lee", email="ann@acme.test", title="CTO", is_primary=True)
    bo = make_contact(acme, name="Bo Chen", email="bo@acme.test", title="Head of Ops")
    make_contact(acme, name="Cy Diaz", email="cy@acme.test")
    consent_set(contact=ann, state="granted", source="form", by=None)
    consent_set(contact=bo, state="withdrawn", source="api", by=None, label="api:crm")
    email_unsubscribe(email="cy@acme.test")
    Event.objects.bulk_create(
        [
            Event(customer=acme, name="login", timestamp=now - timedelta(days=days, hours=h))
            for days in (3, 20, 95, 100, 140)
            for h in range(3)
        ]
    )
    rollups_rebuild()
    retention_apply()
    return acme


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_retention_and_consent_in_the_browser(
    live_server: Any, tmp_path: Any, settings: Any, language: str
) -> None:
    from playwright.sync_api import expect

    owner = user_create(username="olivia", password=PASSWORD, role=Role.OWNER)
    owner.language = language
    owner.save(update_fields=["language"])
    acme = seed(settings)
    base = live_server.url
    suffix = "en" if language == "en" else "zh"
    with logged_in_browser(base, tmp_path / "profile", username="olivia") as (page, errors):
        for width, kind in ((1400, "desktop"), (390, "phone")):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{base}/data-quality/")
            # The sticky header would cover the cropped sections' top.
            page.evaluate(UNSTICK)
            section = page.locator("#retention")
            expect(section.locator('tr[data-kind="events"]')).to_contain_text("9")
            section.scroll_into_view_if_needed()
            _shot(page, f"retention-data-quality-{kind}-{suffix}.png")
            section.screenshot(path=SCREENSHOTS / f"retention-section-{kind}-{suffix}.png")
            extra = os.environ.get("TEND_SHOTS_DIR")
            if extra:
                shutil.copy(
                    SCREENSHOTS / f"retention-section-{kind}-{suffix}.png",
                    Path(extra) / f"retention-section-{kind}-{suffix}.png",
                )

            page.goto(f"{base}/customers/{acme.pk}/")
            page.evaluate(UNSTICK)
            contacts = page.locator("#contacts")
            expect(contacts.locator('[data-consent="withdrawn"]')).to_have_count(2)
            expect(contacts.locator("[data-suppressed]")).to_have_count(1)
            contacts.scroll_into_view_if_needed()
            contacts.screenshot(path=SCREENSHOTS / f"consent-contacts-{kind}-{suffix}.png")
            if extra:
                shutil.copy(
                    SCREENSHOTS / f"consent-contacts-{kind}-{suffix}.png",
                    Path(extra) / f"consent-contacts-{kind}-{suffix}.png",
                )

        page.set_viewport_size({"width": 1400, "height": 900})
        bo = acme.contacts.get(name="Bo Chen")
        page.goto(f"{base}/customers/{acme.pk}/contacts/{bo.pk}/edit/")
        expect(page.locator("#id_marketing_consent")).to_have_value("withdrawn")
        page.select_option("#id_marketing_consent", "granted")
        _shot(page, f"consent-contact-form-{suffix}.png")
        page.click("#contact-form button[type=submit]")
        expect(page.locator('#contacts [data-consent="granted"]')).to_have_count(2)
        assert errors == []
