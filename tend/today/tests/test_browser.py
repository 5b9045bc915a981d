"""Headless Chromium walks the Today page: 50 items on a 390 px phone without sideways
scrolling, snooze and handled in place with htmx, a note from the list; screenshots go to
test-output/screenshots/ for a person to look at."""

from __future__ import annotations

from typing import Any

import pytest

from tend.accounts.actions import user_create
from tend.accounts.models import Role
from tend.customers.models import TimelineEntry
from tend.health.models import CustomerHealth
from tend.testing import PASSWORD, SCREENSHOTS, logged_in_browser
from tend.today.engine import today_pipeline_step
from tend.today.models import State, TodayItem
from tend.today.tests.helpers import DAY, customer, fixed_signal, only_signals

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


FIRST: dict[int, tuple[str, float]] = {}
SECOND: dict[int, tuple[str, float]] = {}


@pytest.fixture(autouse=True)
def _plugged() -> Any:
    """Two throw-away signals, registered while the live server renders their lines."""
    with only_signals(
        fixed_signal("renewal_like", FIRST, 1), fixed_signal("payment_like", SECOND, 2)
    ):
        yield


def seed() -> None:
    user_create(username="olivia", password=PASSWORD, role=Role.OWNER)
    first, second = FIRST, SECOND
    for i in range(55):
        c = customer(
            f"Customer with a rather long company name number {i:02d} GmbH & Co. KG",
            mrr=str(20 * (i + 1)),
        )
        first[c.pk] = (f"a:{i}", 0.3)
        if i % 4 == 0:
            second[c.pk] = (f"b:{i}", 0.4)
        if i % 3 == 0:
            CustomerHealth.objects.create(customer=c, day=DAY, score=35, colour="red")
    today_pipeline_step(DAY)


def test_a_founder_works_through_today_on_a_phone(live_server: Any, tmp_path: Any) -> None:
    from playwright.sync_api import expect

    seed()
    top = list(TodayItem.objects.order_by("rank")[:3])
    base = live_server.url
    with logged_in_browser(base, tmp_path / "profile", username="olivia") as (page, errors):
        expect(page.locator(".today-item")).to_have_count(50)
        page.screenshot(path=SCREENSHOTS / "today-desktop.png")
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        expect(page.locator(".today-item")).to_have_count(50)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=SCREENSHOTS / "today-phone.png")

        row = page.locator(f"#today-item-{top[0].pk}")
        row.get_by_role("button", name="3 d").click()
        expect(page.locator(f"#today-item-{top[0].pk}.today-done")).to_contain_text("snoozed")
        row = page.locator(f"#today-item-{top[1].pk}")
        row.get_by_role("button", name="Mark handled").click()
        expect(page.locator(f"#today-item-{top[1].pk}.today-done")).to_contain_text("handled")
        row = page.locator(f"#today-item-{top[2].pk}")
        row.locator("summary", has_text="Add a note").click()
        row.locator("textarea").fill("Called them; renewal call booked.")
        row.get_by_role("button", name="Save note").click()
        expect(page.locator(f"#today-item-{top[2].pk}")).to_contain_text("Note added")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=SCREENSHOTS / "today-phone-after-actions.png")
        assert page.url == f"{base}/today/"  # never left the page
        assert errors == []
    states = dict(TodayItem.objects.filter(pk__in=[t.pk for t in top]).values_list("pk", "state"))
    assert states == {top[0].pk: State.SNOOZED, top[1].pk: State.HANDLED, top[2].pk: State.OPEN}
    assert TimelineEntry.objects.get(customer_id=top[2].customer_id, kind="note").body.startswith(
        "Called"
    )
