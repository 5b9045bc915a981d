"""Headless Chromium works through the Tasks page, a customer's tasks panel and Today's "Your
tasks": complete, snooze and reassign in place with htmx, a task added by hand, on a desktop
and on a 390 px phone without sideways scrolling, in English and Chinese; screenshots go to
test-output/screenshots/ for a person to look at."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tend.accounts.actions import user_create
from tend.accounts.models import Role, User
from tend.factories import make_customer
from tend.tasks.actions import task_complete, task_create
from tend.tasks.models import Task, TaskStatus
from tend.testing import PASSWORD, SCREENSHOTS, logged_in_browser
from tend.today.actions import today_date

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TODAY = today_date()


def seed() -> dict[str, Any]:
    olivia = user_create(
        username="olivia", password=PASSWORD, role=Role.OWNER, first_name="Olivia", last_name="Chen"
    )
    mike = user_create(username="mike", password=PASSWORD, role=Role.MEMBER, first_name="Mike")
    acme = make_customer("Acme Manufacturing GmbH & Co. KG")
    globex = make_customer("Globex")
    made = {
        "renewal": task_create(
            title="Call Acme about the renewal: they asked for a discount on 40 seats",
            customer=acme,
            assignee=olivia,
            due_on=TODAY - timedelta(days=3),
            priority=3,
        ),
        "invoice": task_create(
            title="Send the corrected invoice", customer=globex, assignee=olivia, due_on=TODAY
        ),
        "welcome": task_create(
            title="Welcome call",
            customer=globex,
            due_on=TODAY,
            source="playbook",
            source_id="1:welcome",
        ),
        "review": task_create(
            title="Quarterly business review deck",
            customer=acme,
            assignee=mike,
            due_on=TODAY + timedelta(days=5),
            priority=1,
        ),
        "someday": task_create(title="Write the onboarding checklist", assignee=olivia),
    }
    for i in range(12):
        task_create(
            title=f"Follow-up {i + 1} with a fairly long title to wrap on a phone",
            customer=globex if i % 2 else acme,
            assignee=mike if i % 3 else olivia,
            due_on=TODAY + timedelta(days=i - 4),
            priority=(i % 3) + 1,
        )
    task_complete(task=task_create(title="Book the kickoff", customer=acme), by=olivia)
    return {"olivia": olivia, "acme": acme, **made}


def shoot(page: Any, name: str) -> None:
    page.screenshot(path=SCREENSHOTS / f"tasks-{name}.png", full_page=True)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_founder_works_through_tasks_on_desktop_and_phone(
    live_server: Any, tmp_path: Any, language: str
) -> None:
    from playwright.sync_api import expect

    made = seed()
    User.objects.filter(username="olivia").update(language=language)
    base = live_server.url
    with logged_in_browser(base, tmp_path / "profile", username="olivia") as (page, errors):
        # Today: my tasks (overdue first), and the unassigned playbook task.
        page.goto(f"{base}/today/")
        section = page.locator("#today-tasks")
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(section).to_be_visible()  # its words come from the catalog (zh: merged by the lead)
        expect(section.locator(f"#task-{made['renewal'].pk}")).to_be_visible()
        expect(section.locator(f"#task-{made['welcome'].pk}")).to_be_visible()
        shoot(page, f"today-desktop-{language}")

        # The list: tabs, overdue in red, a playbook task says so.
        page.goto(f"{base}/tasks/")
        row = page.locator(f"#task-{made['renewal'].pk}")
        expect(row.locator(".task-overdue")).to_be_visible()
        expect(page.locator(f"#task-{made['welcome'].pk} .task-source")).to_be_visible()
        shoot(page, f"list-desktop-{language}")

        # Complete in place (no page load), then reopen.
        page.evaluate("window.__stay = 1")
        row.locator("button.task-complete").click()
        expect(page.locator(f"#task-{made['renewal'].pk}.task-state-done")).to_be_visible()
        assert page.evaluate("window.__stay") == 1  # the same page: htmx swapped the row
        assert Task.objects.get(pk=made["renewal"].pk).status == TaskStatus.DONE
        page.locator(f"#task-{made['renewal'].pk} button.task-reopen").click()
        expect(page.locator(f"#task-{made['renewal'].pk} button.task-complete")).to_be_visible()

        # Snooze to tomorrow, and to a picked date.
        row = page.locator(f"#task-{made['invoice'].pk}")
        row.locator("details.task-more summary").first.click()
        row.locator("button[value=tomorrow]").click()
        expect(page.locator(f"#task-{made['invoice'].pk} [role=status]")).to_be_visible()
        assert Task.objects.get(pk=made["invoice"].pk).due_on == TODAY + timedelta(days=1)
        row = page.locator(f"#task-{made['review'].pk}")
        row.locator("details.task-more summary").first.click()
        picked = TODAY + timedelta(days=20)
        row.locator("input[name=until]").fill(picked.isoformat())
        row.locator("button[value=date]").click()
        expect(page.locator(f"#task-{made['review'].pk} [role=status]")).to_be_visible()
        assert Task.objects.get(pk=made["review"].pk).due_on == picked
        # A bad date: the error shows in the row, nothing changes.
        row = page.locator(f"#task-{made['review'].pk}")
        row.locator("details.task-more summary").first.click()
        row.locator("input[name=until]").fill("0000-00-00")
        row.locator("button[value=date]").click()
        expect(page.locator(f"#task-{made['review'].pk} [role=alert]")).to_be_visible()
        assert Task.objects.get(pk=made["review"].pk).due_on == picked
        errors[:] = [e for e in errors if not e.startswith("422 ")]  # the refusal, as designed

        # Reassign to Mike.
        row = page.locator(f"#task-{made['someday'].pk}")
        row.locator("details.task-more summary").nth(1).click()
        row.locator("select[name=assignee]").select_option(label="Mike")
        row.locator("details.task-more").nth(1).locator("button").click()
        expect(page.locator(f"#task-{made['someday'].pk} .task-assignee")).to_have_text("Mike")

        # Phone width: no sideways scrolling on the list, Today, a customer page.
        page.set_viewport_size({"width": 390, "height": 844})
        for url, name in (
            ("/tasks/", "list-phone"),
            ("/today/", "today-phone"),
            (f"/customers/{made['acme'].pk}/", "customer-phone"),
        ):
            page.goto(f"{base}{url}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
            shoot(page, f"{name}-{language}")
        page.set_viewport_size({"width": 1280, "height": 900})

        # A task by hand, from the customer page's panel.
        page.goto(f"{base}/customers/{made['acme'].pk}/")
        panel = page.locator("#tasks-panel")
        shoot(page, f"customer-desktop-{language}")
        panel.locator("details.task-add summary").click()
        panel.locator("input[name=title]").fill("Ask for a case study")
        panel.locator("#task-panel-form button[type=submit]").click()
        expect(page.locator("#tasks-panel")).to_contain_text("Ask for a case study")
        assert Task.objects.filter(title="Ask for a case study", customer=made["acme"]).exists()

        # The new-task page with the customer search.
        page.goto(f"{base}/tasks/new/")
        page.fill("input[name=title]", "Check Globex usage")
        page.fill("#task-customer-search", "Glob")
        page.locator("#task-customer-results input[type=radio]").first.check()
        page.fill("input[name=due_on]", (TODAY + timedelta(days=2)).isoformat())
        shoot(page, f"new-desktop-{language}")
        page.locator("#task-form button[type=submit]").click()
        page.wait_for_url(f"{base}/tasks/")
        task = Task.objects.get(title="Check Globex usage")
        assert task.customer is not None and task.customer.name == "Globex"
        assert not errors, errors
