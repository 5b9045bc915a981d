"""Headless Chromium opens the revenue dashboard on a demo business in English and Chinese,
uses its tooltips, tabs and survival switch, and saves screenshots for a person to look at
(with TEND_PUBLISH_SCREENSHOTS=1, copies of the final ones go to docs/screenshots/)."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tend.accounts.actions import user_create
from tend.accounts.models import Role
from tend.demo.generator import demo_generate
from tend.testing import PASSWORD, SCREENSHOTS, logged_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DOCS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
CHARTS = ("#chart-movements", "#chart-mrr", "#chart-churn", "#chart-retention", "#cohort-logo")


def _publish(name: str) -> None:
    # Only on request: a test run must not change files of the checkout.
    if os.environ.get("TEND_PUBLISH_SCREENSHOTS") != "1":
        return
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SCREENSHOTS / name, DOCS / name)


def _shoot(page, name: str) -> None:
    # From the top: a sticky navigation bar scrolled along would land mid-page.
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(150)
    page.screenshot(path=SCREENSHOTS / name, full_page=True)


def test_a_founder_reads_revenue_and_retention_in_english_and_chinese(live_server, tmp_path):
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)  # plotly.js is 4 MB to parse on a busy machine
    user_create(username="olivia", password=PASSWORD, role=Role.OWNER)
    # The demo business, up to today (the dashboard reads the clock); it builds the snapshots.
    demo_generate(
        business="saas",
        customers=250,
        months=24,
        seed=11,
        events_per_customer=1,
        end=datetime.now(UTC).date(),
    )
    base = live_server.url
    with logged_in_browser(base, tmp_path / "profile", username="olivia") as (page, errors):
        page.click("nav a[href='/metrics/']")
        expect(page.locator("h1")).to_have_text("Revenue & retention")
        for chart in CHARTS:
            expect(page.locator(f"{chart} .main-svg").first).to_be_visible()
        expect(page.locator("[data-kpi=mrr] .kpi-value")).to_contain_text("$")
        expect(page.locator("#channel-table tbody tr").first).to_be_visible()

        # The formula tooltip opens from the keyboard.
        page.focus("[data-kpi=nrr] .kpi-tip")
        expect(page.locator(".tooltip")).to_contain_text("NRR = (MRR at start")
        page.keyboard.press("Escape")
        page.locator("body").click(position={"x": 5, "y": 5})

        # Revenue cohorts: the hidden tab's heatmap takes the full width once shown.
        page.click("#cohort-revenue-tab")
        heatmap = page.locator("#cohort-revenue .main-svg").first
        expect(heatmap).to_be_visible()
        assert heatmap.bounding_box()["width"] > 400
        page.click("#cohort-logo-tab")

        # Survival by plan comes in through htmx with one curve per plan.
        page.click("#survival-card button[data-by=plan]")
        expect(page.locator("#survival-card button[data-by=plan]")).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(page.locator("#survival-card .main-svg").first).to_be_visible()
        assert page.locator("#survival-card .legend .traces").count() >= 2
        page.click("#survival-card button[data-by=all]")
        expect(page.locator("#survival-card button[data-by=all]")).to_have_attribute(
            "aria-pressed", "true"
        )
        _shoot(page, "metrics-dashboard-en.png")

        # The tiles show the last complete month; "Month to date" compares the same days.
        expect(page.locator("#compare-note")).to_contain_text("the last complete month")
        expect(page.locator("#chart-mrr .annotation-text")).to_have_text("to date")
        expect(page.locator("#channel-table thead")).to_contain_text("Paying at end")
        page.click("#compare-choice a[data-compare=to_date]")
        expect(page.locator("#compare-note")).to_contain_text("month to date")
        expect(page.locator("#compare-choice a[data-compare=to_date]")).to_have_class(
            "btn btn-outline-secondary active"
        )
        _shoot(page, "metrics-dashboard-to-date-en.png")
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{base}/metrics/")
        expect(page.locator("#chart-movements .main-svg").first).to_be_visible()
        _shoot(page, "metrics-dashboard-phone-en.png")
        page.goto(f"{base}/metrics/report/")
        expect(page.locator("#report-kpis")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the report scrolls sideways on a phone ({width}px)"
        _shoot(page, "metrics-report-phone-en.png")
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{base}/metrics/")

        # Filters: quarters for one channel; the filter bar keeps the choice.
        page.select_option("#f-period", "quarter")
        page.select_option("#f-channel", "organic")
        page.click("#metric-filters button[type=submit]")
        expect(page.locator("#f-channel")).to_have_value("organic")
        expect(page.locator("#chart-movements .main-svg").first).to_be_visible()
        _shoot(page, "metrics-dashboard-quarters-en.png")

        page.goto(f"{base}/metrics/report/")
        expect(page.locator("#report-kpis")).to_be_visible()
        _shoot(page, "metrics-report-en.png")

        page.goto(f"{base}/metrics/")
        page.click("#language-menu")
        page.click("#language-form button[value=zh-hans]")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        for chart in CHARTS:
            expect(page.locator(f"{chart} .main-svg").first).to_be_visible()
        # (The Chinese of the new sentences comes with the catalog; the ticks are code.)
        ticks = page.locator("#chart-mrr .ytick text").evaluate_all(
            "els => els.map(e => e.textContent)"
        )
        assert any("万" in t for t in ticks) and all("$" not in t or "US$" in t for t in ticks)
        _shoot(page, "metrics-dashboard-zh.png")
        page.goto(f"{base}/metrics/report/")
        expect(page.locator("#report-kpis")).to_be_visible()
        _shoot(page, "metrics-report-zh.png")

        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{base}/metrics/")
        expect(page.locator("#chart-movements .main-svg").first).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
        _shoot(page, "metrics-dashboard-phone-zh.png")
        page.goto(f"{base}/metrics/report/")
        expect(page.locator("#report-kpis")).to_be_visible()
        _shoot(page, "metrics-report-phone-zh.png")
        assert errors == []

    for name in ("metrics-dashboard-en.png", "metrics-dashboard-zh.png", "metrics-report-en.png"):
        _publish(name)
