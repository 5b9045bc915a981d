"""Headless Chromium opens every main page in English and in Chinese under Tend's
Content-Security-Policy: the policy header is on each page, no violation is reported
(``securitypolicyviolation`` and console), the charts and the API docs still render, and
no request leaves the server (the API docs' Swagger UI comes from Tend itself).
Screenshots go to test-output/screenshots/csp-*.png for a person to look at."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tend.accounts.actions import user_create
from tend.accounts.models import Role
from tend.customers.models import Customer
from tend.demo.generator import demo_generate
from tend.goals.actions import goal_create, goals_evaluate
from tend.ingest.imports.actions import import_file
from tend.testing import PASSWORD, SCREENSHOTS, browser_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def seed(tmp_path: Path) -> int:
    owner = user_create(username="olivia", password=PASSWORD, role=Role.OWNER)
    demo_generate(
        business="saas",
        customers=80,
        months=18,
        seed=5,
        events_per_customer=1,
        end=datetime.now(UTC).date(),
    )
    goal_create(by=owner, metric="logo_churn", target=Decimal(5), name="Keep churn low")
    goal_create(by=owner, metric="mrr", target=Decimal(50_000))
    goals_evaluate()
    crm = tmp_path / "crm.csv"
    crm.write_text("External ID,Name,Email\nx1,Acme,bad\nx2,Beta,\n", encoding="utf-8")
    import_file(kind="customers", path=crm, by=owner)
    star = Customer.objects.filter(mrr__gt=0).order_by("-mrr").first()
    assert star is not None
    return star.pk


def pages(star: int) -> list[tuple[str, str, str]]:
    """(name, path, what must be visible once the page has done its work)."""
    return [
        ("today", "/today/", "#page-main h1"),
        ("customers", "/customers/", "#customer-table tbody tr"),
        ("customer", f"/customers/{star}/", "#revenue .main-svg"),
        ("metrics", "/metrics/", "#chart-mrr .main-svg"),
        ("report", "/metrics/report/", "#report"),
        ("imports", "/imports/", "#page-main h1"),
        ("goals", "/goals/", ".goal-progress .progress-bar"),
        ("data-quality", "/data-quality/", "[data-source=import]"),
        ("api-docs", "/api/v1/docs", "#swagger-ui .opblock"),
    ]


def visit(page: Any, base: str, language: str, star: int) -> None:
    from playwright.sync_api import expect

    response = page.goto(f"{base}/login/")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.screenshot(path=SCREENSHOTS / f"csp-login-{language}.png", full_page=True)
    page.fill("input[name=username]", "olivia")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_url(f"{base}/today/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    for name, path, ready in pages(star):
        response = page.goto(base + path)
        assert response.status == 200, (name, response.status)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "object-src 'none'" in policy, name
        expect(page.locator(ready).first).to_be_visible()
        if name == "customers":  # htmx swaps the table in under the policy
            page.fill("#id_q", "zz-nobody")
            expect(page.locator("#customer-table tbody tr")).to_have_count(0)
        if name == "metrics":
            for chart in ("#chart-movements", "#chart-churn", "#cohort-logo"):
                expect(page.locator(f"{chart} .main-svg").first).to_be_visible()
            # plotly's own rules arrived through the CSSOM: the hover layer is positioned.
            position = page.evaluate(
                "getComputedStyle(document.querySelector('.js-plotly-plot .plotly .main-svg'))"
                ".position"
            )
            assert position == "absolute"
        if name == "goals":
            width = page.locator(".goal-progress .progress-bar").first.evaluate(
                "el => el.style.width"
            )
            assert width.endswith("%")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=SCREENSHOTS / f"csp-{name}-{language}.png", full_page=True)


@pytest.mark.parametrize(("locale", "language"), [("en-US", "en"), ("zh-CN", "zh-hans")])
def test_every_main_page_renders_under_the_policy_without_a_violation(
    live_server: Any, tmp_path: Path, locale: str, language: str
) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)  # plotly.js is 4 MB to parse on a busy machine
    star = seed(tmp_path)
    base = live_server.url
    outside: list[str] = []
    with browser_page(tmp_path / "profile", locale=locale) as (page, errors):

        def only_this_server(route: Any) -> None:
            if urlsplit(route.request.url).netloc == urlsplit(base).netloc:
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_this_server)
        visit(page, base, language, star)
    assert outside == []
    assert errors == [], "\n".join(errors)
