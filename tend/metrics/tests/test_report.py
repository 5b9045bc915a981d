"""The printable monthly KPI report: one month against the month before, movements, recent
cohorts and every formula; it prints (Chromium's PDF) on one to three pages."""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.staticfiles import finders
from django.utils import timezone

from tend.metrics.display import display
from tend.metrics.filters import Filters
from tend.metrics.formulas import FORMULAS
from tend.metrics.kpis import PeriodKpis, kpi_series
from tend.metrics.tests.test_dashboard import Book, build_book

URL = "/metrics/report/"


def last_full_month():
    return timezone.now().date().replace(day=1) - relativedelta(months=1)


def report_series(query: dict[str, str], month) -> list[PeriodKpis]:
    filters = Filters.parse({k: v for k, v in query.items() if k != "month"})
    year = replace(filters, start=month - relativedelta(months=11), end=month)
    return kpi_series(year)


@pytest.fixture
def book(db) -> Book:
    return build_book()


def rows_of(html: str) -> dict[str, list[str]]:
    """{kpi key: [this month, previous month, change]} from the report's table."""
    out = {}
    for key, body in re.findall(r'<tr data-kpi="(\w+)">(.*?)</tr>', html, flags=re.S):
        out[key] = [
            unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", body, flags=re.S)
        ]
    return out


@pytest.mark.django_db
@pytest.mark.parametrize("query", [{}, {"channel": "referral"}, {"tag": "vip"}])
def test_the_report_shows_the_month_against_the_month_before(viewer_client, book, query):
    month = last_full_month()
    response = viewer_client.get(URL, {**query, "month": f"{month:%Y-%m}"})
    assert response.status_code == 200
    kpis = report_series(query, month)
    current, previous = kpis[-1], kpis[-2]
    assert response.context["current"].label == f"{month:%Y-%m}" == current.label
    rows = rows_of(response.content.decode())
    for key in ("mrr", "customers", "logo_churn", "nrr", "grr", "crr", "renewal_rate"):
        unit = FORMULAS[key].unit if key in FORMULAS else "count"
        whole = key == "mrr"
        assert rows[key][0] == display(current.metrics[key], unit, whole=whole), key
        assert rows[key][1] == display(previous.metrics[key], unit, whole=whole), key


@pytest.mark.django_db
def test_without_a_month_the_report_covers_the_last_full_month(owner_client, book):
    response = owner_client.get(URL)
    assert response.context["month"] == last_full_month()
    assert response.context["current"].to_date is False


@pytest.mark.django_db
def test_movements_and_cohorts_are_in_the_report(owner_client, book):
    month = last_full_month()
    response = owner_client.get(URL, {"month": f"{month:%Y-%m}"})
    html = response.content.decode()
    kpis = report_series({}, month)
    movements = {m["key"]: m for m in response.context["movements"]}
    assert movements["mrr_end"]["current"] == display(kpis[-1].mrr_end, "money")
    assert movements["churn"]["current"] == display(-abs(kpis[-1].churn), "money")
    assert 'id="report-cohorts"' in html
    cohorts = response.context["report_cohorts"]
    assert 1 <= len(cohorts) <= 6
    for row in cohorts:  # a cohort's row stops at the report month
        y, m = map(int, row["cohort"].split("-"))
        assert len(row["cells"]) == (month.year - y) * 12 + month.month - m + 1


@pytest.mark.django_db
def test_every_metric_in_the_report_comes_with_its_formula(owner_client, book):
    response = owner_client.get(URL)
    html = unescape(response.content.decode())
    shown = [t["key"] for g in response.context["tile_groups"] for t in g["tiles"]]
    for key in shown:
        if key in FORMULAS:
            assert str(FORMULAS[key].formula) in html, key
    assert "Customers = customers with an active paid subscription" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"month": "2025-13"}, "month"),
        ({"month": "last"}, "month"),
        ({"month": "2999-01"}, "month"),
        ({"channel": "fax"}, "channel"),
        ({"plan": "x"}, "plan"),
    ],
)
def test_a_bad_parameter_names_the_field(owner_client, book, query, field):
    response = owner_client.get(URL, query)
    assert response.status_code == 400
    found = re.search(r'id="filter-error" data-field="(\w+)"', response.content.decode())
    assert found is not None and found.group(1) == field


@pytest.mark.django_db
def test_the_report_has_a_print_stylesheet_and_button(owner_client, book):
    html = owner_client.get(URL).content.decode()
    assert "data-print" in html and "Print / save as PDF" in html
    assert "/static/metrics/metrics.css" in html
    css = Path(finders.find("metrics/metrics.css")).read_text(encoding="utf-8")
    media_print = css[css.index("@media print") :]
    assert ".navbar" in media_print and "display: none" in media_print
    assert "#fff" in media_print and "#000" in media_print
    assert "break-inside: avoid" in media_print


@pytest.mark.django_db
def test_without_billing_the_report_says_so(owner_client):
    html = owner_client.get(URL).content.decode()
    assert 'id="metrics-empty"' in html


@pytest.mark.django_db
def test_nobody_posts_to_the_report(viewer_client, outsider_client):
    assert viewer_client.post(URL).status_code == 405
    assert outsider_client.get(URL).status_code == 302


# --- print to PDF in Chromium -------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_report_prints_to_a_pdf_of_one_to_three_pages(live_server, tmp_path):
    from playwright.sync_api import expect

    from tend.accounts.actions import user_create
    from tend.accounts.models import Role
    from tend.testing import PASSWORD, SCREENSHOTS, logged_in_browser

    user_create(username="olivia", password=PASSWORD, role=Role.OWNER)
    build_book()
    with logged_in_browser(live_server.url, tmp_path / "profile", username="olivia") as (
        page,
        errors,
    ):
        page.goto(f"{live_server.url}{URL}")
        expect(page.locator("#report-kpis")).to_be_visible()
        page.emulate_media(media="print")
        expect(page.locator("nav.navbar")).to_be_hidden()
        expect(page.locator("#print-button")).to_be_hidden()
        page.screenshot(path=SCREENSHOTS / "metrics-report-print.png", full_page=True)
        pdf = page.pdf(format="A4", print_background=True)
        assert errors == []
    path = SCREENSHOTS / "metrics-report.pdf"
    path.write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 3, pages
