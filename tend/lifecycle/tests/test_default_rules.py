"""Each built-in rule on hand-made customers, at its boundaries (docs/lifecycle.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tend.customers.models import Customer, Stage, StageChange
from tend.customers.timeline import stage_reason
from tend.factories import make_customer
from tend.lifecycle.engine import lifecycle_evaluate
from tend.lifecycle.models import LifecycleRule
from tend.lifecycle.tests.helpers import cancel, expand, health, now, paying, set_stage

pytestmark = pytest.mark.django_db


def stage_after_rules(customer: Customer, at: object) -> str:
    lifecycle_evaluate(now=at)  # type: ignore[arg-type]
    customer.refresh_from_db()
    return customer.stage


def test_the_built_in_rules_are_seeded_in_their_order() -> None:
    keys = list(LifecycleRule.objects.in_order().values_list("key", flat=True))
    assert keys == [
        "churned",
        "at_risk",
        "at_risk_hold",
        "renewal_due",
        "expansion",
        "onboarding",
        "adopting",
        "established",
    ]


def test_a_first_payment_ten_days_ago_is_onboarding_with_the_rule_as_reason() -> None:
    t = now()
    customer = paying("Acme", days=10, at=t)
    assert stage_after_rules(customer, t) == Stage.ONBOARDING
    change = StageChange.objects.filter(customer=customer).latest("pk")
    assert change.by is None and change.from_stage == Stage.TRIAL
    assert change.reason_data["msg"] == "lifecycle_rule"
    assert change.reason_data["rule_id"] == LifecycleRule.objects.get(key="onboarding").pk
    assert stage_reason(change) == "Lifecycle rule “First payment in the last 30 days”"


def test_onboarding_ends_after_exactly_30_days_and_adopting_starts() -> None:
    t = now()
    at_30 = paying("Thirty", days=30, at=t)
    past_30 = paying("Thirty and a second", days=30 + 1 / 86400, at=t)
    lifecycle_evaluate(now=t)
    at_30.refresh_from_db()
    past_30.refresh_from_db()
    # within_last 30 includes the instant 30 days ago; one second more is adopting.
    assert at_30.stage == Stage.ONBOARDING
    assert past_30.stage == Stage.ADOPTING


def test_adopting_until_90_days_then_established() -> None:
    t = now()
    adopting = paying("Sixty", days=60, at=t)
    established = paying("Hundred", days=100, at=t)
    lifecycle_evaluate(now=t)
    adopting.refresh_from_db()
    established.refresh_from_db()
    assert adopting.stage == Stage.ADOPTING
    assert established.stage == Stage.ESTABLISHED


def test_a_yearly_renewal_within_60_days_is_renewal_due_and_exactly_60_is_not() -> None:
    t = now()
    due = paying("Due", days=300, at=t, interval="year", renews_in=59)
    edge = paying("Edge", days=300, at=t, interval="year", renews_in=60)
    monthly = paying("Monthly", days=300, at=t, renews_in=10)
    lifecycle_evaluate(now=t)
    for c in (due, edge, monthly):
        c.refresh_from_db()
    assert due.stage == Stage.RENEWAL_DUE
    assert edge.stage == Stage.ESTABLISHED  # within_next is half-open: [now, now + 60 days)
    assert monthly.stage == Stage.ESTABLISHED  # monthly renewals are not "renewal due"


def test_health_red_for_seven_days_is_at_risk_and_six_days_is_not() -> None:
    t = now().replace(hour=12)
    seven = paying("Seven", days=200, at=t)
    six = paying("Six", days=200, at=t)
    # Red since the day 7 days ago (its midnight is more than 7 days before noon today).
    health(seven, "red", since=(t - timedelta(days=7)).date())
    health(six, "red", since=(t - timedelta(days=6)).date())
    lifecycle_evaluate(now=t)
    seven.refresh_from_db()
    six.refresh_from_db()
    assert seven.stage == Stage.AT_RISK
    assert six.stage == Stage.ESTABLISHED


def test_at_risk_stays_until_health_is_green() -> None:
    t = now()
    customer = paying("Wobbly", days=200, at=t)
    set_stage(customer, Stage.AT_RISK)
    health(customer, "yellow", since=t.date())
    assert stage_after_rules(customer, t) == Stage.AT_RISK
    health(customer, "green", since=t.date())
    assert stage_after_rules(customer, t) == Stage.ESTABLISHED


def test_mrr_growth_in_the_last_30_days_is_expansion_and_settles_after() -> None:
    t = now()
    customer = paying("Grower", days=200, at=t)
    expand(customer, at=t - timedelta(days=5))
    assert stage_after_rules(customer, t) == Stage.EXPANSION
    assert stage_after_rules(customer, t + timedelta(days=26)) == Stage.ESTABLISHED


def test_no_active_subscription_after_paying_is_churned() -> None:
    t = now()
    customer = paying("Leaver", days=200, at=t)
    set_stage(customer, Stage.ESTABLISHED)
    cancel(customer, at=t - timedelta(days=1))
    Customer.objects.filter(pk=customer.pk).update(stage=Stage.ESTABLISHED)
    assert stage_after_rules(customer, t) == Stage.CHURNED


def test_prospects_and_trials_match_no_rule_and_stay() -> None:
    t = now()
    prospect = make_customer("Lead", stage=Stage.PROSPECT)
    trial = make_customer("Trying", stage=Stage.TRIAL)
    evaluation = lifecycle_evaluate(now=t)
    assert evaluation.moved == 0
    assert Customer.objects.get(pk=prospect.pk).stage == Stage.PROSPECT
    assert Customer.objects.get(pk=trial.pk).stage == Stage.TRIAL


def test_running_the_rules_twice_moves_nobody_the_second_time() -> None:
    t = now()
    paying("A", days=10, at=t)
    paying("B", days=100, at=t)
    assert lifecycle_evaluate(now=t).moved == 2
    before = StageChange.objects.count()
    assert lifecycle_evaluate(now=t).moved == 0
    assert StageChange.objects.count() == before


def test_the_engine_agrees_with_a_plain_python_first_match_over_mixed_customers() -> None:
    from tend.segments.conditions import condition_matches

    t = now().replace(hour=12)
    people = [
        paying("New", days=3, at=t),
        paying("Month", days=45, at=t, stage=Stage.ESTABLISHED),
        paying("Old", days=400, at=t, stage=Stage.ONBOARDING),
        paying("Yearly", days=300, at=t, interval="year", renews_in=20),
        paying("Grower", days=150, at=t),
        paying("Red", days=150, at=t),
        paying("Gone", days=150, at=t),
        paying("Held", days=150, at=t),
        make_customer("Lead", stage=Stage.PROSPECT),
    ]
    expand(people[4], at=t - timedelta(days=2))
    health(people[5], "red", since=(t - timedelta(days=20)).date())
    cancel(people[6], at=t - timedelta(days=1))
    set_stage(people[7], Stage.AT_RISK)
    health(people[7], "yellow", since=t.date())
    rules = list(LifecycleRule.objects.active())
    expected = {}
    for customer in Customer.objects.filter(pk__in=[c.pk for c in people]):
        expected[customer.pk] = customer.stage
        for rule in rules:
            if rule.from_stages and customer.stage not in rule.from_stages:
                continue
            if condition_matches(rule.condition, customer, now=t):
                expected[customer.pk] = rule.stage
                break
    lifecycle_evaluate(now=t)
    got = dict(Customer.objects.filter(pk__in=expected).values_list("pk", "stage"))
    assert got == expected
    assert set(got.values()) >= {
        Stage.ONBOARDING,
        Stage.ADOPTING,
        Stage.ESTABLISHED,
        Stage.RENEWAL_DUE,
        Stage.EXPANSION,
        Stage.AT_RISK,
        Stage.CHURNED,
        Stage.PROSPECT,
    }
