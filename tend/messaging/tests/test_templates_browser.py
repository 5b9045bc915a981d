"""Headless Chromium: a founder adds a ready-made template, previews it for a real customer in
both languages (the HTML in its sandboxed frame), picks another customer, edits it with a
mistake that is refused with the line and reason, in English and Chinese, desktop and phone;
no CSP violation, no error. Screenshots go to test-output/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from tend.accounts.actions import user_create
from tend.accounts.models import Role, User
from tend.factories import make_contact, make_customer, make_plan
from tend.messaging.models import EmailTemplate
from tend.testing import PASSWORD, SCREENSHOTS, logged_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_founder_adds_previews_and_fixes_a_template(
    live_server: Any, tmp_path: Any, language: str
) -> None:
    from playwright.sync_api import expect

    user_create(username="olivia", password=PASSWORD, role=Role.OWNER, email="o@example.com")
    User.objects.filter(username="olivia").update(
        language=language, first_name="Olivia", last_name="Chen"
    )
    owner = User.objects.get(username="olivia")
    plan = make_plan("pro", price="49")
    acme = make_customer(name="Acme Robotics", email="ceo@acme.example", plan=plan, owner=owner)
    make_contact(acme, name="Pat Lee", email="pat@acme.example", is_primary=True)
    make_customer(name="Beijing Tea House", email="hi@tea.example", country="CN", owner=owner)
    base = live_server.url
    suffix = "en" if language == "en" else "zh"
    with logged_in_browser(base, tmp_path / "profile", username="olivia") as (page, errors):
        page.goto(f"{base}/emails/templates/")
        page.screenshot(path=SCREENSHOTS / f"emailtemplates-list-{suffix}.png", full_page=True)
        page.locator("#builtins form").filter(
            has=page.locator("input[value=renewal-reminder]")
        ).locator("button").click()
        template = EmailTemplate.objects.get(key="renewal-reminder")
        page.wait_for_url(f"{base}/emails/templates/{template.pk}/")
        expect(page.locator("#preview-en-card .email-subject")).to_contain_text("renewal")
        expect(page.locator("#preview-zh-hans-card .email-subject")).to_contain_text("续费")
        frame = page.frame_locator("#preview-en-card iframe")
        expect(frame.locator("body")).to_contain_text("Hi Pat")
        page.fill("#customer-search", "tea")
        page.locator("#customer-results a").first.click()
        expect(page.locator("#picker-title")).to_contain_text("Beijing Tea House")
        frame = page.frame_locator("#preview-zh-hans-card iframe")
        expect(frame.locator("body")).to_contain_text("Beijing Tea House")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=SCREENSHOTS / f"emailtemplates-preview-{suffix}.png", full_page=True)

        page.goto(f"{base}/emails/templates/{template.pk}/edit/")
        body = page.locator("#id_body_zh_hans")
        body.fill(body.input_value() + "\n{% include 'web/base.html' %}")
        expect(page.locator("#check-problems")).to_contain_text("include")  # live, as typed
        page.screenshot(path=SCREENSHOTS / f"emailtemplates-check-{suffix}.png", full_page=True)
        page.click("#save")
        expect(page.locator("#refused")).to_be_visible()
        expect(page.locator("#id_body_zh_hans + .invalid-feedback")).to_contain_text("include")
        page.screenshot(path=SCREENSHOTS / f"emailtemplates-refused-{suffix}.png", full_page=True)
        assert "include" not in EmailTemplate.objects.get(pk=template.pk).body_zh_hans

        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{base}/emails/templates/{template.pk}/")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=SCREENSHOTS / f"emailtemplates-phone-{suffix}.png", full_page=True)
        page.goto(f"{base}/emails/templates/{template.pk}/edit/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(
            path=SCREENSHOTS / f"emailtemplates-editor-phone-{suffix}.png", full_page=True
        )
        assert [e for e in errors if "422" not in e] == []
