"""Headless Chromium over the outbox pages in English and Chinese, desktop and phone width:
the send log, a message with its HTML in the locked frame, the suppression list, creating a
webhook endpoint (secret shown once) and the public unsubscribe page. No CSP violation, no
error. Screenshots go to test-output/screenshots/."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tend.accounts.actions import user_create
from tend.accounts.models import Role
from tend.factories import make_customer
from tend.messaging.actions import suppression_add
from tend.messaging.models import HoldReason, Message
from tend.messaging.outbox import email_enqueue
from tend.messaging.sending import messages_send_due
from tend.messaging.tests.helpers import smtp_server
from tend.messaging.unsubscribe import unsubscribe_url
from tend.testing import PASSWORD, SCREENSHOTS, browser_page, logged_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HTML = (
    "<div style='font-family:sans-serif'><h2 style='color:#0a7'>Your renewal is coming</h2>"
    "<p>Hello Ada, your <b>Pro</b> plan renews on 1 April.</p>"
    "<script>document.body.innerHTML='pwned'</script>"
    "<img src='https://tracker.example/pixel.gif' alt=''></div>"
)


def seed(settings: Any) -> Message:
    ada = make_customer(name="Ada Ltd", email="ada@example.com")
    gone = make_customer(name="Gone Inc", email="gone@example.com")
    with smtp_server(settings) as inbox:
        inbox.rcpt_reply["gone@example.com"] = "550 5.1.1 No such user here"
        inbox.rcpt_reply["slow@example.com"] = "451 4.7.1 Greylisted, try again later"
        sent = email_enqueue(
            key="renewal:ada",
            to="ada@example.com",
            subject="Your renewal is coming",
            text="Hello Ada,\nyour Pro plan renews on 1 April.",
            html=HTML,
            customer=ada,
            source="playbook",
            source_id="12",
        )
        email_enqueue(
            key="renewal:gone",
            to="gone@example.com",
            subject="Your renewal is coming",
            text="Hello",
            customer=gone,
            source="playbook",
            source_id="12",
        )
        email_enqueue(
            key="digest:1",
            to="slow@example.com",
            subject="Your daily digest",
            text="Today",
            outreach=False,
            source="digest",
        )
        messages_send_due()
    capped = email_enqueue(
        key="winback:1",
        to="bo@example.com",
        subject="We miss you",
        text="20% off",
        source="playbook",
    )
    Message.objects.filter(pk=capped.pk).update(  # as the cap leaves it (no server to try)
        status="queued",
        attempts=0,
        last_error="",
        hold_reason=HoldReason.DAILY_CAP,
        next_attempt_at=capped.created_at + timedelta(hours=5),
    )
    suppression_add(email="left@example.com", reason="unsubscribed")
    return sent


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_outbox_pages_in_the_browser(
    live_server: Any, tmp_path: Any, settings: Any, language: str
) -> None:
    from playwright.sync_api import expect

    owner = user_create(username="olivia", password=PASSWORD, role=Role.OWNER)
    owner.language = language
    owner.save(update_fields=["language"])
    sent = seed(settings)
    base = live_server.url
    suffix = "en" if language == "en" else "zh"
    with logged_in_browser(base, tmp_path / "profile", username="olivia") as (page, errors):
        page.goto(f"{base}/messages/")
        expect(page.locator("#messages")).to_contain_text("550 5.1.1 No such user here")
        page.screenshot(path=SCREENSHOTS / f"messages-log-{suffix}.png", full_page=True)

        page.goto(f"{base}/messages/{sent.pk}/")
        frame = page.frame_locator("#message-html")
        expect(frame.locator("h2")).to_contain_text("Your renewal is coming")
        expect(frame.locator("body")).not_to_contain_text("pwned")  # no script ran
        expect(page.locator("#attempts")).to_contain_text("250")
        page.screenshot(path=SCREENSHOTS / f"messages-detail-{suffix}.png", full_page=True)

        page.goto(f"{base}/messages/suppressions/")
        page.fill("#id_email", "asked@example.com")
        page.click("#suppression-form button[type=submit]")
        expect(page.locator("#suppressions")).to_contain_text("asked@example.com")
        page.screenshot(path=SCREENSHOTS / f"messages-suppressions-{suffix}.png", full_page=True)

        page.goto(f"{base}/messages/webhooks/")
        page.fill("#id_name", "CRM")
        page.fill("#id_url", "javascript:alert(1)")
        page.click("#webhook-form button[type=submit]")
        expect(page.locator("#webhook-form .invalid-feedback")).to_be_visible()
        page.fill("#id_url", "https://crm.example.com/hooks/tend")
        page.click("#webhook-form button[type=submit]")
        expect(page.locator("#webhook-secret")).to_contain_text("whsec_")
        page.screenshot(path=SCREENSHOTS / f"messages-webhooks-{suffix}.png", full_page=True)

        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{base}/messages/")
        page.screenshot(path=SCREENSHOTS / f"messages-log-phone-{suffix}.png", full_page=True)
        # Expected: the refused javascript: URL (422), and the HTML frame's blocked script and
        # tracking pixel (the frame's CSP doing its job).
        expected = ("422 ", "tracker.example", "pixel")
        assert [e for e in errors if not any(x in e for x in expected)] == []

    locale = "en-US" if language == "en" else "zh-CN"
    with browser_page(tmp_path / "anon", locale=locale) as (page, errors):
        page.goto(unsubscribe_url("ada@example.com").replace("http://localhost:8000", base))
        page.screenshot(path=SCREENSHOTS / f"unsubscribe-confirm-{suffix}.png", full_page=True)
        page.click("#unsubscribe-confirm")
        expect(page.locator("#unsubscribe h1")).to_be_visible()
        page.screenshot(path=SCREENSHOTS / f"unsubscribe-done-{suffix}.png", full_page=True)
        page.goto(f"{base}/u/forged-token/")
        page.screenshot(path=SCREENSHOTS / f"unsubscribe-invalid-{suffix}.png", full_page=True)
        assert [e for e in errors if "/u/forged-token/" not in e] == []
