"""Details of the customer page: empty values read "—", the current stage's reason sits beside
its badge, dates use one format per language, and the activity chart counts in whole numbers."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tend.activity.models import DailyRollup
from tend.customers.actions import customer_change_stage
from tend.customers.queries import activity_figure
from tend.factories import make_customer, make_plan, make_subscription

pytestmark = pytest.mark.django_db


def page(client, customer, language: str = "en") -> str:  # type: ignore[no-untyped-def]
    response = client.get(
        reverse("customers:detail", args=[customer.pk]), headers={"accept-language": language}
    )
    assert response.status_code == 200
    return response.content.decode()


def test_an_empty_employee_count_reads_a_dash_not_none(owner_client):
    html = page(owner_client, make_customer("Acme", size=None))
    assert '<dd class="col-7" id="profile-size">—</dd>' in html
    assert "None" not in html.split('id="profile"')[1].split("</section>")[0]


def test_a_zero_employee_count_is_shown_as_zero(owner_client):
    html = page(owner_client, make_customer("Acme", size=0))
    assert '<dd class="col-7" id="profile-size">0</dd>' in html


def test_the_country_reads_as_a_name_in_the_readers_language(owner_client):
    customer = make_customer("Acme", country="DE")
    assert "Germany <span" in page(owner_client, customer)
    owner_client.post(reverse("set_language"), {"language": "zh-hans"})
    assert "德国 <span" in page(owner_client, customer, "zh-hans")


def test_the_reason_of_the_current_stage_is_shown_beside_the_badge(owner_client, owner):
    customer = make_customer("Acme")
    customer_change_stage(customer=customer, stage="trial", by=owner, reason="asked for a demo")
    customer_change_stage(customer=customer, stage="at_risk", by=owner, reason="usage dropped")
    html = page(owner_client, customer)
    assert '<span class="small text-body-secondary" id="stage-reason">usage dropped</span>' in html
    assert "asked for a demo" not in html.split('id="stage-reason"')[0][-2000:]


def test_no_reason_shows_nothing_beside_the_badge(owner_client):
    assert 'id="stage-reason"' not in page(owner_client, make_customer("Acme"))


def test_dates_on_the_page_use_one_format(owner_client):
    customer = make_customer("Acme", signed_up_at=timezone.now() - timedelta(days=400))
    make_subscription(customer, make_plan("pro"), at=timezone.now() - timedelta(days=300))
    html = page(owner_client, customer)
    # No numeric 12/06/2026-style dates anywhere: every date reads like "Dec. 6, 2026".
    assert not re.search(r">\s*\d{1,2}/\d{1,2}/\d{4}", html)
    assert re.search(r"[A-Z][a-z]{2,4}\.? \d{1,2}, \d{4}", html)


def test_the_activity_chart_has_whole_number_ticks_for_small_counts():
    today = timezone.now().date()
    figure = activity_figure([(today - timedelta(days=1), 1), (today, 2)], label="Events")
    axis = figure["layout"]["yaxis"]
    assert axis["dtick"] == 1 and axis["tick0"] == 0 and axis["tickformat"] == ",d"


def test_the_activity_chart_leaves_large_counts_to_plotly_in_whole_numbers():
    today = timezone.now().date()
    figure = activity_figure([(today, 950)], label="Events")
    assert "dtick" not in figure["layout"]["yaxis"]
    assert figure["layout"]["yaxis"]["tickformat"] == ",d"


def test_the_chart_dates_follow_the_readers_language(owner_client):
    customer = make_customer("Acme")
    DailyRollup.objects.create(customer=customer, day=timezone.now().date(), name="x", count=2)
    html = page(owner_client, customer)
    data = re.search(r'id="activity-figure" type="application/json">(.*?)</script>', html)
    assert data is not None
    assert json.loads(data.group(1))["layout"]["xaxis"]["tickformat"] == "%b %-d"
