"""Headless Chromium builds a segment with the rule builder: adds a condition (sees its error
at the condition, then the live count change), adds a group, picks values, edits the JSON,
and saves; the saved JSON is what the builder showed. Screenshots go to
test-output/screenshots/ for a person to look at."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tend.accounts.actions import user_create
from tend.accounts.models import Role
from tend.segments.models import Segment
from tend.segments.tests.segment_helpers import customers
from tend.testing import PASSWORD, SCREENSHOTS, logged_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_founder_builds_a_segment_with_groups_and_a_live_count(
    live_server: Any, tmp_path: Any
) -> None:
    from playwright.sync_api import expect

    user_create(username="olivia", password=PASSWORD, role=Role.OWNER)
    customers(5, 50, 150, 300, stage="trial")
    customers(120, 400, stage="established")
    base = live_server.url
    with logged_in_browser(base, tmp_path / "profile", username="olivia") as (page, errors):
        page.click("nav a[href='/segments/']")
        page.click("#segment-new")
        count = page.locator("#preview-count")
        expect(count).to_have_text("6")  # no conditions: everyone
        page.fill("#id_name", "Big trials")

        page.click(".rule-add-condition")
        leaf = page.locator(".rule-leaf").first
        # A new condition on a text field with no value yet: the error is shown at it.
        expect(leaf.locator(".rule-error")).not_to_be_empty()
        leaf.locator(".rule-field").select_option("size")
        leaf.locator(".rule-op").select_option("gte")
        leaf.locator(".rule-value").fill("100")
        expect(count).to_have_text("4")
        expect(leaf.locator(".rule-error")).to_be_empty()

        page.locator(".rule-add-group").first.click()
        group = page.locator(".rule-group-nested")
        expect(group.locator(".rule-mode")).to_have_value("any")
        inner = group.locator(".rule-leaf")
        inner.locator(".rule-field").select_option("stage")
        inner.locator(".rule-op").select_option("in")
        inner.locator(".rule-add-choice").select_option("trial")
        expect(inner.locator(".rule-chip")).to_have_count(1)
        expect(count).to_have_text("2")
        expect(page.locator("#preview-sentence")).to_contain_text("Trial")
        page.screenshot(path=SCREENSHOTS / "segment-builder-en.png", full_page=True)

        # The JSON text follows the builder, and the builder follows the JSON text.
        page.click("#advanced-json summary")
        expect(page.locator("#condition-json")).to_have_value(re.compile('"stage"'))
        text = page.locator("#condition-json").input_value().replace('"gte"', '"gt"')
        page.fill("#condition-json", text)
        expect(leaf.locator(".rule-op")).to_have_value("gt")

        page.click("#segment-save")
        page.wait_for_url(f"{base}/segments/*/")
        expect(page.locator("#segment-members")).to_have_text("2")
        expect(page.locator("#segment-sentence")).to_contain_text("Trial")
        page.screenshot(path=SCREENSHOTS / "segment-detail-en.png", full_page=True)
        assert errors == []

    segment = Segment.objects.get()
    assert segment.name == "Big trials"
    assert segment.condition == {
        "all": [
            {"field": "size", "op": "gt", "value": 100},
            {"any": [{"field": "stage", "op": "in", "value": ["trial"]}]},
        ]
    }
