"""Headless Chromium walks upload → mapping → dry-run preview → import → summary, in English
and in Chinese, and saves screenshots to test-output/screenshots/import-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest

from tend.accounts.actions import user_create
from tend.accounts.models import Role
from tend.customers.models import Customer
from tend.factories import make_plan
from tend.testing import PASSWORD, SCREENSHOTS, logged_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


ENGLISH = (
    "External ID,Company name,Email,Plan,Signup date,Acquisition cost\n"
    'nw_1,Northwind Analytics,Billing@Northwind.test,growth,2024-03-01,"1,250.00"\n'
    "kite,Kite Logistics,ops@kite.test,growth,03/04/2024,300\n"
    "atlas,Atlas Fitness,gym@atlas,starter,2024-02-30,80\n"
    "pine,  Pine & Co Bakery ,orders@pineco.test,platinum,2024-05-06,-20\n"
    "maple,Maple Learning,team@maple.test,starter,2024年6月1日,120\n"
)
CHINESE = (
    "客户编号,客户名称,邮箱,套餐,注册日期\n"
    "sh_01,上海青木设计,Hello@QingMu.test,growth,2024年3月1日\n"
    "bj_02,北京远山咨询,info@yuanshan.test,starter,2024-04-02\n"
    "gz_03,广州南风餐饮,不是邮箱,starter,2024-05-03\n"
    "sh_01,重复的编号,dup@test.test,growth,2024-06-04\n"
)


def walk(page, base: str, tmp: Path, name: str, content: str, lang: str) -> None:
    from playwright.sync_api import expect

    path = tmp / name
    path.write_text(content, encoding="utf-8")
    page.goto(f"{base}/imports/")
    page.select_option("#id_kind", "customers")
    chosen = page.locator("#id_file-chosen")  # the page's own words, not the browser's
    expect(chosen).to_have_text("未选择文件" if lang == "zh" else "No file chosen")
    page.set_input_files("#id_file", str(path))
    expect(chosen).to_have_text(name)
    page.screenshot(path=SCREENSHOTS / f"import-upload-{lang}.png", full_page=True)
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#mapping-form")).to_be_visible()
    expect(page.locator("#col_0")).to_have_value("external_id")
    page.screenshot(path=SCREENSHOTS / f"import-mapping-{lang}.png", full_page=True)
    page.click("#mapping-form button[type=submit]")
    page.wait_for_selector("#values-form, #start-form")
    if page.locator("#values-form").count():  # a plan that is none of Tend's: leave it refused
        page.click("#values-form button[type=submit]")
    expect(page.locator("#start-form")).to_be_visible()
    expect(page.locator("#problems li").first).to_be_visible()
    page.screenshot(path=SCREENSHOTS / f"import-preview-{lang}.png", full_page=True)
    page.click("#start-form button[type=submit]")
    expect(page.locator("#download-rejected")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / f"import-summary-{lang}.png", full_page=True)
    with page.expect_download() as download:
        page.click("#download-rejected")
    assert download.value.suggested_filename.startswith("rejected-")


def test_a_founder_imports_a_spreadsheet_in_english_and_chinese(live_server, tmp_path):
    from playwright.sync_api import expect

    user_create(username="olivia", password=PASSWORD, role=Role.OWNER)
    make_plan("starter", price="29", name="Starter")
    make_plan("growth", price="99", name="Growth")
    with logged_in_browser(live_server.url, tmp_path / "profile", username="olivia") as (
        page,
        errors,
    ):
        walk(page, live_server.url, tmp_path, "customers.csv", ENGLISH, "en")
        expect(page.locator("#count-created")).to_have_text("3")
        expect(page.locator("#count-rejected")).to_have_text("2")

        page.click("#language-menu")
        page.click("#language-form button[value=zh-hans]")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        walk(page, live_server.url, tmp_path, "客户名单.csv", CHINESE, "zh")
        expect(page.locator("#count-created")).to_have_text("2")
        page.goto(f"{live_server.url}/imports/")
        page.screenshot(path=SCREENSHOTS / "import-history-zh.png", full_page=True)
        assert errors == []
    assert Customer.objects.get(external_id="sh_01").email == "hello@qingmu.test"
