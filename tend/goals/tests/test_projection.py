"""While a period runs, a goal is On track or Off track by a straight-line projection of its
value to the period's end; a period that has ended stays Met or Missed.

projected = value at start + (value to date − value at start) × days in period ÷ days so far

The ledger (tend/goals/tests/helpers.py): 50 customers paying $100 a month since
2 December 2025; "today" is 20 March 2026, day 20 of March's 31.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tend.accounts.actions import apikey_create
from tend.billing.actions import subscription_cancel, subscription_create
from tend.factories import make_customer, make_plan
from tend.goals.actions import goal_create
from tend.goals.queries import GoalStatus, goal_statuses
from tend.goals.tests.helpers import TODAY, build_ledger
from tend.metrics.snapshots import snapshots_refresh

pytestmark = pytest.mark.django_db

D = Decimal


def status_of(metric: str, target: str, comparator: str = "") -> GoalStatus:
    goal = goal_create(by=None, metric=metric, target=D(target), comparator=comparator)
    return goal_statuses([goal], today=TODAY)[0]


@pytest.fixture
def two_left_in_march() -> None:
    ledger = build_ledger()
    ledger.churn(day=5)
    ledger.churn(day=10)


def test_logo_churn_is_projected_from_zero(two_left_in_march: None) -> None:
    # 2 of 50 left by 20 March: 4 % to date. 0 + (4 − 0) × 31 ÷ 20 = 6.2 %.
    off = status_of("logo_churn", "5")
    assert off.current is not None
    assert (off.current.value, off.current.projected) == (D("4.0000"), D("6.2000"))
    assert off.current.met is True  # the 4 % so far is under 5 % …
    assert (off.current.on_track, off.current.status) == (False, "off_track")  # … not for long
    assert off.current.progress == pytest.approx(80.6, abs=0.05)  # 5 ÷ 6.2
    on = status_of("logo_churn", "7")
    assert on.current is not None
    assert (on.current.on_track, on.current.status) == (True, "on_track")


def test_retention_is_projected_from_one_hundred(two_left_in_march: None) -> None:
    # NRR to date: (5,000 − 200) ÷ 5,000 = 96 %. 100 + (96 − 100) × 31 ÷ 20 = 93.8 %.
    off = status_of("nrr", "95")
    assert off.current is not None
    assert (off.current.value, off.current.projected, off.current.status) == (
        D("96.0000"),
        D("93.8000"),
        "off_track",
    )
    assert status_of("nrr", "93").current.status == "on_track"  # type: ignore[union-attr]


def test_mrr_is_projected_from_its_value_at_the_start(two_left_in_march: None) -> None:
    # MRR: 5,000 on 1 March, 4,800 now. 5,000 + (4,800 − 5,000) × 31 ÷ 20 = 4,690.
    current = status_of("mrr", "4700").current
    assert current is not None
    assert (current.value, current.projected, current.status) == (
        D("4800.0000"),
        D("4690.0000"),
        "off_track",
    )
    assert status_of("mrr", "4600").current.status == "on_track"  # type: ignore[union-attr]


def test_renewal_rate_is_projected_as_it_stands(two_left_in_march: None) -> None:
    # Terms end on the 2nd: 50 due on 2 March, all renewed (the two left later): 100 %.
    current = status_of("renewal_rate", "90").current
    assert current is not None
    assert (current.value, current.projected, current.status) == (
        D("100.0000"),
        D("100.0000"),
        "on_track",
    )


def test_a_projection_stays_within_what_the_metric_can_be() -> None:
    ledger = build_ledger(customers=10)
    for day in range(1, 8):
        ledger.churn(day=day)  # 7 of 10 by 20 March: 70 % × 31 ÷ 20 = 108.5 %, at most 100 %
    current = status_of("logo_churn", "50").current
    assert current is not None
    assert (current.value, current.projected) == (D("70.0000"), D("100.0000"))


def test_the_period_that_ended_is_still_met_or_missed(two_left_in_march: None) -> None:
    # February: nobody left. Final, so no projection.
    previous = status_of("logo_churn", "5").previous
    assert previous is not None and not previous.to_date
    assert (previous.value, previous.projected, previous.on_track) == (D("0.0000"), None, None)
    assert (previous.met, previous.status) == (True, "met")
    missed = status_of("new_mrr", "100", comparator="gte").previous
    assert missed is not None
    assert (missed.value, missed.status) == (D("0.0000"), "missed")


# --- pages and API, on the real clock -------------------------------------------------------


@pytest.fixture
def half_gone_this_month() -> None:
    """20 customers since three months ago; 10 leave one second into this month, so this
    month's logo churn to date is 50 % whatever today's date."""
    plan = make_plan("basic", "100")
    first = timezone.now().astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    subs = [
        subscription_create(
            customer=make_customer(), plan=plan, by=None, at=first - relativedelta(months=3)
        )
        for _ in range(20)
    ]
    for sub in subs[:10]:
        subscription_cancel(subscription=sub, by=None, at=first + timedelta(seconds=1))
    snapshots_refresh()


def test_the_goals_page_shows_on_or_off_track_now_and_met_for_the_month_before(
    owner_client: Any, half_gone_this_month: None
) -> None:
    off = goal_create(by=None, metric="logo_churn", target=D(5))
    on = goal_create(by=None, metric="logo_churn", target=D(100))
    html = owner_client.get(reverse("goals:list")).content.decode()
    off_card = html[html.index(f'id="goal-{off.pk}"') : html.index(f'id="goal-{on.pk}"')]
    on_card = html[html.index(f'id="goal-{on.pk}"') :]
    # This month: 50 % so far, projected at least 50 % (more before the month's last day).
    assert 'data-status="off_track"' in off_card and "Off track" in off_card
    assert 'data-status="on_track"' in on_card and "On track" in on_card
    assert "Projected at the end of the period" in off_card
    # Last month nobody left: final, so Met.
    assert 'data-status="met"' in off_card and 'data-status="met"' in on_card
    # The projection's formula is on the page.
    assert (
        "projected = value at start + (value to date − value at start) × days in period "
        "÷ days so far" in html
    )


def test_the_api_gives_the_projection_and_status(owner: Any, half_gone_this_month: None) -> None:
    goal = goal_create(by=owner, metric="logo_churn", target=D(5))
    key = apikey_create(name="reader", kind="read", by=owner)[1]
    body = Client(HTTP_AUTHORIZATION=f"Bearer {key}").get(f"/api/v1/goals/{goal.pk}/progress")
    current, previous = body.json()["current"], body.json()["previous"]
    today = timezone.now().astimezone(UTC).date()
    first = today.replace(day=1)
    days = ((first + relativedelta(months=1)) - first).days
    expected = min(Decimal(50) * days / ((today - first).days + 1), Decimal(100))
    assert Decimal(current["value"]) == Decimal(50)
    assert Decimal(current["projected"]) == expected.quantize(Decimal("0.0001"))
    assert (current["status"], current["on_track"], current["met"]) == ("off_track", False, False)
    assert (previous["status"], previous["projected"], previous["on_track"]) == ("met", None, None)
    assert date.fromisoformat(current["end"]) == first + relativedelta(months=1, days=-1)
    assert datetime.fromisoformat(body.json()["current"]["start"][:10]).date() == first
