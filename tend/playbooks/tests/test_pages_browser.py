"""Headless Chromium: a founder builds a playbook in the editor (a step added, a branch with its
own condition builder, an error shown at the step it names), and the list, gallery, editor and
playbook page (with runs) are photographed in English and Chinese, desktop and phone width; no
CSP violation, no error. Screenshots: test-output/screenshots/ and, when it exists,
/work/wt/notes/shots/ui/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tend.accounts.actions import user_create
from tend.accounts.models import Role
from tend.customers.models import Tag
from tend.playbooks.actions import runs_advance
from tend.playbooks.models import Playbook, PlaybookRun
from tend.playbooks.tests.ui_helpers import make_playbook, start_for
from tend.testing import PASSWORD, SCREENSHOTS, logged_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
NOTES = Path("/work/wt/notes/shots/ui")


def shot(page: Any, name: str) -> None:
    path = SCREENSHOTS / f"playbooks-{name}.png"
    page.screenshot(path=path, full_page=True)
    if NOTES.is_dir():
        shutil.copy(path, NOTES / path.name)


def test_a_founder_builds_a_playbook_with_a_branch_in_the_editor(
    live_server: Any, tmp_path: Any
) -> None:
    from playwright.sync_api import expect

    user_create(username="olivia", password=PASSWORD, role=Role.OWNER)
    Tag.objects.create(name="vip")
    base = live_server.url
    with logged_in_browser(base, tmp_path / "profile", username="olivia") as (page, errors):
        page.goto(f"{base}/playbooks/new/")
        page.fill("#id_name", "Big customers get a call")
        page.select_option("#id_trigger", "manual")
        page.click("#steps-editor .step-add")
        page.select_option("#steps-editor li[data-path='steps[0]'] .step-type", "tag_add")
        page.select_option("#steps-editor li[data-path='steps[0]'] [data-setting=tag]", "vip")
        page.click("#steps-editor > div > .step-add")
        page.select_option("#steps-editor li[data-path='steps[1]'] .step-type", "branch")
        expect(page.locator("#steps-editor li[data-path='steps[1]'] .rule-group")).to_be_visible()
        page.click("#steps-editor li[data-path='steps[1]'] .branch-then .step-add")
        page.select_option("#steps-editor li[data-path='steps[1].then[0]'] .step-type", "wait")
        page.fill("#steps-editor li[data-path='steps[1].then[0]'] [data-setting=days]", "999")
        page.click("#playbook-save")
        # The engine's error is shown at the setting it names; nothing was saved.
        expect(page.locator("#editor-errors")).to_contain_text("steps[1].then[0].config.days")
        expect(page.locator("li[data-path='steps[1].then[0]'] [data-setting=days]")).to_have_class(
            "form-control form-control-sm is-invalid"
        )
        assert not Playbook.objects.exists()
        page.fill("#steps-editor li[data-path='steps[1].then[0]'] [data-setting=days]", "3")
        page.click("#playbook-save")
        expect(page.locator("h1")).to_contain_text("Big customers get a call")
        playbook = Playbook.objects.get()
        assert [s["type"] for s in playbook.steps] == ["tag_add", "branch"]
        assert playbook.steps[1]["then"] == [{"id": "s3", "type": "wait", "config": {"days": 3}}]
        # The refused save answered 422 on purpose; nothing else went wrong.
        assert [e for e in errors if not e.startswith("422 ")] == []


def test_screenshots_of_the_pages_in_both_languages(live_server: Any, tmp_path: Any) -> None:
    from playwright.sync_api import expect

    user_create(username="olivia", password=PASSWORD, role=Role.OWNER)
    welcome = make_playbook(
        "Onboarding sequence",
        active=True,
        holdout_percent=20,
        description="Welcome note, three days later a check, then a call for big accounts.",
    )
    customers = start_for(welcome, "Acme Robotics", "Globex", "Initech", "Umbrella Health", "Hooli")
    runs_advance()  # the first step (a note) runs, the wait begins
    run = PlaybookRun.objects.filter(playbook=welcome, group="treated").first()
    assert run is not None
    make_playbook(
        "At-risk rescue",
        trigger="stage_entered",
        trigger_config={"stage": "at_risk"},
        condition={"all": [{"field": "mrr", "op": "gte", "value": 100}]},
    )
    make_playbook("Renewal reminders (30 days)")
    make_playbook("Win-back offer", active=True)
    base = live_server.url
    with logged_in_browser(base, tmp_path / "profile", username="olivia") as (page, errors):
        for lang in ("en", "zh-hans"):
            page.context.add_cookies([{"name": "django_language", "value": lang, "url": base}])
            for size, viewport in SIZES.items():
                page.set_viewport_size(viewport)
                tag = f"{'zh' if lang != 'en' else 'en'}-{size}"
                page.goto(f"{base}/playbooks/")
                expect(page.locator("#playbooks")).to_be_visible()
                shot(page, f"list-{tag}")
                page.goto(f"{base}/playbooks/gallery/")
                shot(page, f"gallery-{tag}")
                page.goto(f"{base}/playbooks/{welcome.pk}/edit/")
                expect(page.locator("#steps-editor .step-branch")).to_be_visible()
                shot(page, f"editor-{tag}")
                page.goto(f"{base}/playbooks/{welcome.pk}/")
                expect(page.locator("#runs")).to_be_visible()
                shot(page, f"playbook-{tag}")
                if size == "desktop":
                    rescue = Playbook.objects.get(name="At-risk rescue")
                    page.goto(f"{base}/playbooks/{rescue.pk}/edit/")
                    expect(page.locator("#trigger-settings select")).to_be_visible()
                    shot(page, f"editor-trigger-{tag}")
                    page.goto(f"{base}/playbooks/runs/{run.pk}/")
                    expect(page.locator("#run-log")).to_be_visible()
                    shot(page, f"run-{tag}")
                    page.goto(f"{base}/customers/{customers[0].pk}/")
                    expect(page.locator("#playbooks-panel")).to_be_visible()
                    shot(page, f"customer-panel-{tag}")
        json.dumps(errors)
        assert errors == []
