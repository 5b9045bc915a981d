"""Headless Chromium reads a customer's timeline with an import summary and a stage change the
system made, in English and in Chinese, on a laptop and a phone; screenshots go to
test-output/screenshots/ for a person to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tend.accounts.actions import user_create
from tend.accounts.models import Role
from tend.billing.actions import subscription_cancel
from tend.customers.actions import customer_change_stage
from tend.customers.models import Customer, Stage
from tend.factories import make_plan, make_subscription
from tend.ingest.imports.actions import import_file
from tend.testing import PASSWORD, SCREENSHOTS, logged_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def seed(tmp_path: Path) -> Customer:
    owner = user_create(username="olivia", password=PASSWORD, role=Role.OWNER)
    path = tmp_path / "crm.csv"
    path.write_text("External ID,Name\nc1,Acme GmbH\n", encoding="utf-8")
    import_file(kind="customers", path=path, by=owner)
    acme = Customer.objects.get(external_id="c1")
    customer_change_stage(customer=acme, stage=Stage.ESTABLISHED, by=owner)
    sub = make_subscription(acme, make_plan("pro", price="49"))
    subscription_cancel(subscription=sub, by=None)
    return acme


def test_system_texts_read_in_the_readers_language(live_server: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    acme = seed(tmp_path)
    with logged_in_browser(live_server.url, tmp_path / "profile", username="olivia") as (
        page,
        errors,
    ):
        page.goto(f"{live_server.url}/customers/{acme.pk}/")
        timeline = page.locator("#timeline-entries")
        expect(timeline).to_contain_text("Imported 1 row of customers from crm.csv")
        expect(timeline).to_contain_text("MRR fell to zero")
        page.screenshot(path=SCREENSHOTS / "timeline-system-texts-en.png", full_page=True)

        page.click("#language-menu")
        page.click("#language-form button[value=zh-hans]")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        timeline = page.locator("#timeline-entries")
        expect(timeline).to_contain_text("已从 crm.csv 导入 1 行客户数据")
        expect(timeline).to_contain_text("MRR 降为零")
        page.screenshot(path=SCREENSHOTS / "timeline-system-texts-zh.png", full_page=True)

        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        page.screenshot(path=SCREENSHOTS / "timeline-system-texts-phone-zh.png", full_page=True)
        assert errors == []
