"""Headless Chromium finds an import whose worker died shown as interrupted, with what it
stored, and resumes it; screenshots in test-output/screenshots/import-interrupted-*.png."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tend.accounts.actions import user_create
from tend.accounts.models import Role
from tend.customers.models import Customer
from tend.ingest.imports.actions import import_create, import_run
from tend.ingest.imports.models import Import, ImportStatus
from tend.ingest.imports.writers import CustomerWriter
from tend.testing import PASSWORD, SCREENSHOTS, logged_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Killed(BaseException):
    pass


def test_a_member_resumes_an_interrupted_import_from_its_page(
    live_server, tmp_path: Path, monkeypatch
) -> None:
    from playwright.sync_api import expect

    user_create(username="mia", password=PASSWORD, role=Role.MEMBER)
    path = tmp_path / "customers.csv"
    path.write_text(
        "External ID,Name\n" + "".join(f"c{i},Customer {i}\n" for i in range(10)),
        encoding="utf-8",
    )
    run = import_create(kind="customers", path=path, file_name="customers.csv", by=None)
    monkeypatch.setattr(CustomerWriter, "batch_size", 4)
    write = CustomerWriter.write
    calls = {"n": 0}

    def dies_in_the_second_batch(self, rows):
        calls["n"] += 1
        if calls["n"] == 2:
            raise Killed
        return write(self, rows)

    monkeypatch.setattr(CustomerWriter, "write", dies_in_the_second_batch)
    with pytest.raises(Killed):
        import_run(run=run)
    monkeypatch.setattr(CustomerWriter, "write", write)
    # Its worker has been silent for an hour.
    Import.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))

    with logged_in_browser(live_server.url, tmp_path / "profile", username="mia") as (
        page,
        errors,
    ):
        page.goto(f"{live_server.url}/imports/")
        expect(page.locator("[data-status=interrupted]")).to_be_visible()
        page.screenshot(path=SCREENSHOTS / "import-interrupted-list-en.png", full_page=True)
        page.goto(f"{live_server.url}/imports/{run.pk}/")
        expect(page.locator("#interrupted")).to_contain_text("The first 4 rows")
        expect(page.locator("#count-created")).to_have_text("4")
        page.screenshot(path=SCREENSHOTS / "import-interrupted-en.png", full_page=True)
        for language, title in (("zh-hans", "导入已中断"), ("en", "Import interrupted")):
            page.context.add_cookies(
                [{"name": "django_language", "value": language, "url": live_server.url}]
            )
            page.reload()
            expect(page.locator("#import-title")).to_have_text(title)
            if language == "zh-hans":
                expect(page.locator("button[data-action=resume]")).not_to_have_text("Resume")
                page.screenshot(path=SCREENSHOTS / "import-interrupted-zh.png", full_page=True)
        page.click("button[data-action=resume]")
        expect(page.locator("#import-title")).to_have_text("Import finished")
        expect(page.locator("#count-created")).to_have_text("10")
        page.screenshot(path=SCREENSHOTS / "import-resumed-en.png", full_page=True)
        assert errors == []
    assert Customer.objects.count() == 10
    assert Import.objects.get(pk=run.pk).status == ImportStatus.DONE
