"""Each built-in signal's ``find`` on hand-made data, boundaries included, and its line."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from tend.activity.actions import rollups_rebuild
from tend.activity.models import Event
from tend.billing.models import Subscription, SubscriptionStatus
from tend.customers.models import Stage, StageChange
from tend.health.models import CustomerHealth, HealthScore
from tend.predict.models import ChurnScore
from tend.predict.tests.factories import make_churn_model
from tend.today.signals import signals
from tend.today.tests.helpers import DAY, at, customer, days_ago

pytestmark = pytest.mark.django_db


def found(name: str, as_of: date = DAY) -> dict[int, object]:
    return {f.customer_id: f for f in signals.get(name).find(as_of)}


def text(name: str, params: dict[str, object], language: str = "en") -> str:
    with translation.override(language):
        return signals.get(name).describe(params)


def test_the_five_built_in_signals_are_registered_by_their_apps() -> None:
    assert {"renewal", "payment_failed", "went_quiet", "onboarding_stalled", "at_risk"} <= set(
        signals.names()
    )


# --- renewal in ≤ 14 days and not green ----------------------------------------------------


def subscription(c, *, renews_in: int, status=SubscriptionStatus.ACTIVE, hour: int = 12):
    return Subscription.objects.create(
        customer=c,
        status=status,
        mrr=Decimal("100"),
        current_period_end=at(DAY + timedelta(days=renews_in), hour),
    )


def health(c, colour: str) -> None:
    CustomerHealth.objects.create(customer=c, day=DAY, score=50, colour=colour)


def test_renewal_finds_renewals_in_0_to_14_days_when_health_is_not_green() -> None:
    today = customer("Renews today at midnight")
    subscription(today, renews_in=0, hour=0)
    edge = customer("Renews in exactly 14 days")
    subscription(edge, renews_in=14, hour=23)
    late = customer("Renews in 15 days")
    subscription(late, renews_in=15, hour=0)
    past = customer("Renewal passed yesterday")
    subscription(past, renews_in=-1, hour=23)
    green = customer("Green")
    subscription(green, renews_in=3)
    health(green, "green")
    red = customer("Red")
    subscription(red, renews_in=3)
    health(red, "red")
    yellow = customer("Yellow")
    subscription(yellow, renews_in=12)
    health(yellow, "yellow")
    canceled = customer("Canceled")
    subscription(canceled, renews_in=3, status=SubscriptionStatus.CANCELED)
    result = found("renewal")
    assert set(result) == {today.pk, edge.pk, red.pk, yellow.pk}
    assert result[red.pk].risk == 0.5 and result[yellow.pk].risk == 0.3
    assert result[today.pk].risk == 0.25  # no health row counts as not green
    assert result[edge.pk].params["days"] == 14
    assert text("renewal", result[yellow.pk].params) == "Renewal in 12 days and health is yellow"
    assert text("renewal", result[today.pk].params) == "Renewal today and no health score yet"
    assert text("renewal", {"days": 1, "colour": "red"}) == "Renewal in 1 day and health is red"


def test_renewal_speaks_of_the_earliest_renewal_and_keys_it_by_subscription_and_day() -> None:
    c = customer("Two subscriptions")
    later = subscription(c, renews_in=10)
    sooner = subscription(c, renews_in=4)
    finding = found("renewal")[c.pk]
    assert finding.key == f"renewal:{sooner.pk}:{(DAY + timedelta(days=4)).isoformat()}"
    assert later.pk != sooner.pk


# --- payment failed -------------------------------------------------------------------------


def failed(c, when, invoice: str = "in_1") -> None:
    Event.objects.create(
        customer=c,
        name="Payment Failed",
        timestamp=when,
        properties={"invoice": invoice, "amount": "49.00", "currency": "USD"},
        source="stripe",
        message_id=f"stripe:{c.pk}:{invoice}:{when.isoformat()}",
    )


def test_payment_failed_finds_failures_of_the_last_14_days_and_past_due_subscriptions() -> None:
    recent = customer("Failed 2 days ago")
    failed(recent, days_ago(2))
    edge = customer("Failed 13 days ago, at 00:00")  # the 14th day back, counting today
    failed(edge, days_ago(13, hour=0))
    old = customer("Failed 14 days ago, 23:59")
    failed(old, days_ago(14, hour=23))
    due = customer("Past due")
    past_due = subscription(due, renews_in=-3, status=SubscriptionStatus.PAST_DUE)
    rollups_rebuild(since=DAY - timedelta(days=30))
    result = found("payment_failed")
    assert set(result) == {recent.pk, edge.pk, due.pk}
    assert result[recent.pk].key == "payment_failed:in_1"
    assert result[due.pk].key == f"past_due:{past_due.pk}"
    assert (
        text("payment_failed", result[recent.pk].params) == "A payment of $49.00 failed 2 days ago"
    )
    assert text("payment_failed", result[due.pk].params) == "A subscription payment is past due"
    assert text("payment_failed", {"days": 0}) == "A payment failed today"


def test_payment_failed_keys_by_the_latest_invoice() -> None:
    c = customer("Twice")
    failed(c, days_ago(6), invoice="in_old")
    failed(c, days_ago(1), invoice="in_new")
    rollups_rebuild(since=DAY - timedelta(days=30))
    assert found("payment_failed")[c.pk].key == "payment_failed:in_new"


# --- went quiet -------------------------------------------------------------------------------


def active_on(c, *days_back: int, name: str = "Page Viewed") -> None:
    Event.objects.bulk_create(
        Event(customer=c, name=name, timestamp=days_ago(n), message_id=f"{c.pk}:{name}:{n}")
        for n in days_back
    )


def test_went_quiet_needs_14_silent_days_after_8_active_days_in_the_30_before() -> None:
    quiet = customer("Quiet")  # active on 8 days 14–43 days ago, nothing since
    active_on(quiet, 14, 15, 20, 25, 30, 35, 40, 43)
    seven = customer("Only 7 active days before")
    active_on(seven, 14, 15, 20, 25, 30, 35, 40)
    recent = customer("Active 13 days ago")  # inside the 14 quiet days
    active_on(recent, 13, 15, 20, 25, 30, 35, 40, 43, 42)
    too_old = customer("Active days 44 days ago do not count")
    active_on(too_old, 14, 15, 20, 25, 30, 35, 40, 44)
    billing = customer("Only a failed payment lately")
    active_on(billing, 14, 15, 20, 25, 30, 35, 40, 43)
    active_on(billing, 2, name="Payment Failed")  # not usage: still quiet
    rollups_rebuild(since=DAY - timedelta(days=60))
    result = found("went_quiet")
    assert set(result) == {quiet.pk, billing.pk}
    assert result[quiet.pk].params["before"] == 8
    assert result[quiet.pk].key == f"quiet:{(DAY - timedelta(days=14)).isoformat()}"
    assert text("went_quiet", result[quiet.pk].params) == (
        "Went quiet: no activity in 14 days, after 8 active days in the 30 days before"
    )


# --- onboarding stalled -------------------------------------------------------------------


def test_onboarding_stalls_after_more_than_21_days_with_fewer_than_3_active_days() -> None:
    stalled = customer(
        "22 days, 2 active", stage=Stage.ONBOARDING, stage_changed_at=days_ago(22, 23)
    )
    active_on(stalled, 1, 5)
    edge = customer("Exactly 21 days", stage=Stage.ONBOARDING, stage_changed_at=days_ago(21, 0))
    busy = customer("Busy", stage=Stage.ONBOARDING, stage_changed_at=days_ago(40))
    active_on(busy, 1, 2, 13)
    lazy_but_old_activity = customer(
        "Active only 14+ days ago", stage=Stage.ONBOARDING, stage_changed_at=days_ago(40)
    )
    active_on(lazy_but_old_activity, 14, 15, 16, 17)
    adopting = customer("Adopting", stage=Stage.ADOPTING, stage_changed_at=days_ago(60))
    rollups_rebuild(since=DAY - timedelta(days=60))
    result = found("onboarding_stalled")
    assert set(result) == {stalled.pk, lazy_but_old_activity.pk}
    assert result[stalled.pk].params == {"days": 22, "active": 2}
    assert text("onboarding_stalled", result[stalled.pk].params) == (
        "Onboarding for 22 days with only 2 active days in the last 14"
    )
    assert text("onboarding_stalled", {"days": 40, "active": 0}) == (
        "Onboarding for 40 days and not active in the last 14"
    )
    assert edge.pk not in result and adopting.pk not in result and busy.pk not in result


# --- moved to at risk -----------------------------------------------------------------------


def test_at_risk_finds_moves_of_the_last_7_days_of_customers_still_at_risk(owner) -> None:
    moved = customer("Moved 6 days ago", stage=Stage.AT_RISK)
    change = StageChange.objects.create(
        customer=moved,
        from_stage=Stage.ADOPTING,
        to_stage=Stage.AT_RISK,
        at=days_ago(6, 0),
        by=owner,
    )
    old = customer("Moved 7 days ago", stage=Stage.AT_RISK)
    StageChange.objects.create(customer=old, to_stage=Stage.AT_RISK, at=days_ago(7, 23))
    back = customer("Moved there and back", stage=Stage.ADOPTING)
    StageChange.objects.create(customer=back, to_stage=Stage.AT_RISK, at=days_ago(2))
    result = found("at_risk")
    assert set(result) == {moved.pk}
    assert result[moved.pk].key == f"at_risk:{change.pk}"
    assert text("at_risk", result[moved.pk].params) == "Moved to At risk by hand 6 days ago"
    assert text("at_risk", {"days": 0, "manual": False}) == "Moved to At risk today"


# --- every signal is vectorised -------------------------------------------------------------


@pytest.mark.parametrize("count", [3, 30])
def test_each_signal_uses_the_same_number_of_queries_whatever_the_customer_count(count) -> None:
    model = make_churn_model()
    for i in range(count):
        c = customer(f"C{i}", stage=Stage.ONBOARDING, stage_changed_at=days_ago(30))
        subscription(c, renews_in=2, status=SubscriptionStatus.PAST_DUE)
        failed(c, days_ago(1), invoice=f"in_{i}")
        active_on(c, 14, 15, 20, 25, 30, 35, 40, 43)
        StageChange.objects.create(customer=c, to_stage=Stage.AT_RISK, at=days_ago(1))
        HealthScore.objects.create(  # health turned red yesterday (the health app's signal)
            customer=c, day=DAY, score=30, colour="red", colour_since=DAY - timedelta(days=1)
        )
        ChurnScore.objects.bulk_create(  # churn risk rose into the top 10% (predict's signal)
            [
                ChurnScore(customer=c, model=model, day=DAY - timedelta(days=8), risk=0.1),
                ChurnScore(customer=c, model=model, day=DAY, risk=0.4, percentile=0.95),
            ]
        )
    rollups_rebuild(since=DAY - timedelta(days=60))
    for signal in signals:
        with CaptureQueriesContext(connection) as queries:
            result = list(signal.find(DAY))
        assert len(queries) <= 2, (signal.name, len(queries))
        assert len(result) >= (0 if signal.name == "at_risk" else count), signal.name


def test_each_line_reads_in_chinese_too() -> None:
    line = text("renewal", {"days": 12, "colour": "yellow"}, "zh-hans")
    assert line  # the catalog fills in at merge; the line never breaks
