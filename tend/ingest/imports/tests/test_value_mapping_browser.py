"""Headless Chromium walks a CRM export through the value-mapping step and a dry run that can
import no row, in English and Chinese, on a desktop and a phone; screenshots are saved to
test-output/screenshots/import-values-*.png and import-nothing-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest

from tend.accounts.actions import user_create
from tend.accounts.models import Role
from tend.customers.models import Customer
from tend.factories import make_plan
from tend.testing import PASSWORD, SCREENSHOTS, logged_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CRM = (
    "id,company,email,plan,channel,country,status,birthday,user_id\n"
    "c1,Northwind Analytics,a@northwind.test,Starter,web,Germany,试用期,1990-05-01,u-1\n"
    "c2,上海青木设计,b@qingmu.test,starter,Web,德国,已流失,,u-2\n"
    "c3,Kite Logistics,,Basic,organic,UK,,,u-3\n"
    "c4,Atlas Fitness,,Enterprise,partner,United States,Churned,,u-4\n"
)
NOTHING = "id,company,email\n,No id,a@b.test\nc2,,bad-email\n"


def walk(page, base: str, tmp: Path, lang: str, width: int) -> None:
    from playwright.sync_api import expect

    page.set_viewport_size({"width": width, "height": 900})
    size = "phone" if width < 500 else "desktop"
    path = tmp / f"crm-{lang}-{size}.csv"
    path.write_text(CRM, encoding="utf-8")
    page.goto(f"{base}/imports/")
    page.select_option("#id_kind", "customers")
    page.set_input_files("#id_file", str(path))
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#mapping-form")).to_be_visible()
    expect(page.locator("#col_8")).to_have_value("trait")  # user_id kept as a trait
    expect(page.locator("#col_7")).to_have_value("birthday")
    page.check("#create_plans")
    page.screenshot(path=SCREENSHOTS / f"import-mapping-options-{lang}-{size}.png", full_page=True)
    page.click("#mapping-form button[type=submit]")
    expect(page.locator("#values-form")).to_be_visible()
    expect(page.locator("#values-country")).to_contain_text("德国")
    page.select_option("#values-plan select >> nth=0", "basic")
    page.select_option("#values-channel select >> nth=0", "organic")
    page.screenshot(path=SCREENSHOTS / f"import-values-{lang}-{size}.png", full_page=True)
    page.click("#values-form button[type=submit]")
    expect(page.locator("#start-form")).to_be_visible()
    expect(page.locator("#count-rejected")).to_have_text("0")
    page.screenshot(path=SCREENSHOTS / f"import-values-preview-{lang}-{size}.png", full_page=True)

    path = tmp / f"nothing-{lang}-{size}.csv"
    path.write_text(NOTHING, encoding="utf-8")
    page.goto(f"{base}/imports/")
    page.select_option("#id_kind", "customers")
    page.set_input_files("#id_file", str(path))
    page.click("#upload-form button[type=submit]")
    page.click("#mapping-form button[type=submit]")
    expect(page.locator("#nothing-importable")).to_be_visible()
    expect(page.locator("#start-form")).to_have_count(0)
    page.screenshot(path=SCREENSHOTS / f"import-nothing-{lang}-{size}.png", full_page=True)


def test_a_crm_export_is_matched_in_the_browser_in_english_and_chinese(live_server, tmp_path):
    from playwright.sync_api import expect

    user_create(username="olivia", password=PASSWORD, role=Role.OWNER)
    make_plan("basic", price="29", name="Basic")
    with logged_in_browser(live_server.url, tmp_path / "profile", username="olivia") as (
        page,
        errors,
    ):
        walk(page, live_server.url, tmp_path, "en", 1280)
        walk(page, live_server.url, tmp_path, "en", 390)
        page.goto(f"{live_server.url}/imports/")
        page.set_viewport_size({"width": 1280, "height": 900})
        page.click("#language-menu")
        page.click("#language-form button[value=zh-hans]")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        walk(page, live_server.url, tmp_path, "zh", 1280)
        walk(page, live_server.url, tmp_path, "zh", 390)
        assert errors == []
    assert Customer.objects.count() == 0  # only dry runs
