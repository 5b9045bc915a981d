"""Headless Chromium: a founder drags a card to another column (an override), clears it on the
customer page, and edits a rule with the live check and the dry run; no CSP violation, no
error. Screenshots go to test-output/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from tend.accounts.actions import user_create
from tend.accounts.models import Role
from tend.customers.models import Customer, Stage
from tend.lifecycle.engine import lifecycle_evaluate
from tend.lifecycle.models import LifecycleRule, StageOverride
from tend.lifecycle.tests.helpers import now, paying
from tend.testing import PASSWORD, SCREENSHOTS, logged_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_founder_drags_a_card_clears_the_override_and_previews_a_rule(
    live_server: Any, tmp_path: Any
) -> None:
    from playwright.sync_api import expect

    user_create(username="olivia", password=PASSWORD, role=Role.OWNER)
    t = now()
    customer = paying("Acme Dragged", days=100, at=t)
    paying("Beta Early", days=10, at=t)
    lifecycle_evaluate(now=t)
    base = live_server.url
    with logged_in_browser(base, tmp_path / "profile", username="olivia") as (page, errors):
        page.goto(f"{base}/lifecycle/")
        card = page.locator(f"#card-{customer.pk}")
        # HTML5 drag and drop, dispatched as the browser does (Playwright's mouse drag does not
        # start one in a persistent headless context).
        target = page.locator("#column-at_risk .lifecycle-cards")
        transfer = page.evaluate_handle("new DataTransfer()")
        card.dispatch_event("dragstart", {"dataTransfer": transfer})
        target.dispatch_event("dragover", {"dataTransfer": transfer})
        target.dispatch_event("drop", {"dataTransfer": transfer})
        card.dispatch_event("dragend", {"dataTransfer": transfer})
        expect(page.locator("#column-at_risk")).to_contain_text("Acme Dragged")
        page.wait_for_load_state("networkidle")
        expect(page.locator(f"#column-at_risk #card-{customer.pk}")).to_contain_text("by hand")
        page.screenshot(path=SCREENSHOTS / "lifecycle-board-en.png", full_page=True)
        assert Customer.objects.get(pk=customer.pk).stage == Stage.AT_RISK
        assert StageOverride.objects.active().filter(customer=customer).exists()

        page.goto(f"{base}/customers/{customer.pk}/")
        expect(page.locator("#stage-override")).to_contain_text("Stage set by hand by olivia")
        page.click("text=Clear override and apply the rules")
        expect(page.locator(".alert")).to_contain_text("Override cleared")
        # Health has no data, so "stay at risk until green" holds the customer there.
        assert not StageOverride.objects.active().exists()

        rule = LifecycleRule.objects.get(key="onboarding")
        page.goto(f"{base}/lifecycle/rules/{rule.pk}/edit/")
        expect(page.locator("#condition-check")).to_contain_text("Valid.")
        page.fill("#id_condition", '{"all": [{"field": "mrr", "op": "between", "value": 1}]}')
        expect(page.locator("#condition-check")).to_contain_text("all[0].value")
        page.fill(
            "#id_condition", '{"all": [{"field": "first_paid", "op": "within_last", "value": 200}]}'
        )
        page.select_option("#id_stage", "adopting")
        page.click("button[value=preview]")
        expect(page.locator("#preview-count")).to_contain_text("1 customer would move")
        expect(page.locator("#preview-moves")).to_contain_text("Beta Early")
        assert LifecycleRule.objects.get(pk=rule.pk).stage == Stage.ONBOARDING  # not saved
        page.screenshot(path=SCREENSHOTS / "lifecycle-rule-preview-en.png", full_page=True)
        assert errors == []
