"""Experiment results from runs, the MRR ledger and events: who is judged, who waits, who is
left out, and the verdict (tend.playbooks.experiments.experiment_results)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from tend.activity.models import Event
from tend.billing.actions import subscription_cancel
from tend.customers.models import Customer
from tend.factories import make_customer, make_plan, make_subscription
from tend.playbooks.experiment_stats import compare_proportions
from tend.playbooks.experiments import experiment_results
from tend.playbooks.models import Group, Playbook, PlaybookRun, RunStatus

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ENTERED = AS_OF - timedelta(days=60)

pytestmark = pytest.mark.django_db


def playbook(**fields: Any) -> Playbook:
    fields.setdefault("name", "At-risk rescue")
    fields.setdefault("trigger", "manual")
    fields.setdefault("holdout_percent", 40)
    return Playbook.objects.create(**fields)


def enroll(
    pb: Playbook, customer: Customer, group: str, at: datetime, occurrence: str = "1"
) -> None:
    PlaybookRun.objects.create(
        playbook=pb,
        customer=customer,
        occurrence=occurrence,
        group=group,
        status=RunStatus.CONTROL if group == Group.CONTROL else RunStatus.DONE,
        started_at=at,
    )


def paying(churn_at: datetime | None = None) -> Customer:
    """A customer paying 49 a month from 100 days before as_of, canceled at ``churn_at``."""
    customer = make_customer()
    sub = make_subscription(customer, make_plan(), at=AS_OF - timedelta(days=100))
    if churn_at is not None:
        subscription_cancel(subscription=sub, by=None, at=churn_at)
    return customer


def test_retention_counts_each_group_by_hand() -> None:
    pb = playbook(outcome={"kind": "retention", "days": 30})
    in_window = ENTERED + timedelta(days=15)  # churned within the 30 days: not retained
    after_window = ENTERED + timedelta(days=40)  # churned later: retained for this outcome
    treated = (
        [paying() for _ in range(18)]
        + [paying(after_window) for _ in range(2)]
        + [paying(in_window) for _ in range(5)]
    )
    for customer in treated:
        enroll(pb, customer, Group.TREATED, ENTERED)
    enroll(pb, treated[0], Group.TREATED, AS_OF - timedelta(days=5), occurrence="2")  # re-entry
    for _ in range(3):  # entered 10 days ago: waiting
        enroll(pb, paying(), Group.TREATED, AS_OF - timedelta(days=10))
    for _ in range(2):  # no MRR when they entered: cannot churn, left out
        enroll(pb, make_customer(), Group.TREATED, ENTERED)
    enroll(pb, paying(), Group.TREATED, AS_OF + timedelta(days=1))  # after as_of: not seen
    control = [paying() for _ in range(12)] + [paying(in_window) for _ in range(8)]
    for customer in control:
        enroll(pb, customer, Group.CONTROL, ENTERED)

    results = experiment_results(playbook=pb, as_of=AS_OF)

    t, c = results.treated, results.control
    assert (t.enrolled, t.waiting, t.not_paying, t.judged, t.successes) == (30, 3, 2, 25, 20)
    assert (c.enrolled, c.waiting, c.not_paying, c.judged, c.successes) == (20, 0, 0, 20, 12)
    assert (t.rate, c.rate) == (0.8, 0.6)
    expected = compare_proportions(20, 25, 12, 20)
    assert results.comparison == expected
    # Newcombe's interval for 20/25 − 12/20 still holds 0: more customers are needed.
    assert expected.low < 0 < expected.high
    assert results.verdict == "need_more"
    assert results.sentence.startswith("No detectable difference yet: need about")
    assert f"{results.more_treated} more treated" in results.sentence
    assert results.formula.startswith("Retention = customers still paying 30 days after")


def test_too_few_judged_customers_give_no_verdict() -> None:
    pb = playbook(outcome={"kind": "retention", "days": 30})
    for _ in range(20):
        enroll(pb, paying(), Group.TREATED, ENTERED)
    for _ in range(19):
        enroll(pb, paying(), Group.CONTROL, ENTERED)
    enroll(pb, paying(), Group.CONTROL, AS_OF - timedelta(days=29))  # one day too recent
    results = experiment_results(playbook=pb, as_of=AS_OF)
    assert results.comparison is None
    assert results.verdict == "not_enough"
    assert results.sentence == (
        "Not enough data: at least 20 customers per group have to be 30 days past enrollment "
        "(now 20 treated and 19 control; 1 still waiting)."
    )
    # One day later the 20th control customer is 30 days in and the groups are compared.
    later = experiment_results(playbook=pb, as_of=AS_OF + timedelta(days=1))
    assert later.control.judged == 20 and later.comparison is not None
    # 100 % against 100 %: to see 5 points (95 % vs 100 %, Cohen's h = .451) at 80 % power
    # takes (1.96 + .84)² × 2 / .451² ≈ 78 a group.
    assert later.verdict == "need_more"
    assert later.comparison.needed_treated == 78


def event_playbook(treated_did: int, treated_n: int, control_did: int, control_n: int) -> Playbook:
    pb = playbook(name="Onboarding", outcome={"kind": "event", "days": 14, "event": "invite_sent"})
    events = []
    for group, did, n in (
        (Group.TREATED, treated_did, treated_n),
        (Group.CONTROL, control_did, control_n),
    ):
        for i in range(n):
            customer = make_customer()
            enroll(pb, customer, group, ENTERED)
            if i < did:
                events.append(
                    Event(
                        customer=customer, name="invite_sent", timestamp=ENTERED + timedelta(days=3)
                    )
                )
            else:  # too late, or another event: does not count
                events.append(
                    Event(
                        customer=customer,
                        name="invite_sent",
                        timestamp=ENTERED + timedelta(days=15),
                    )
                )
                events.append(
                    Event(customer=customer, name="login", timestamp=ENTERED + timedelta(days=1))
                )
    Event.objects.bulk_create(events)
    return pb


def test_event_outcome_that_works() -> None:
    pb = event_playbook(treated_did=45, treated_n=60, control_did=10, control_n=30)
    results = experiment_results(playbook=pb, as_of=AS_OF)
    assert (results.treated.successes, results.treated.judged) == (45, 60)
    assert (results.control.successes, results.control.judged) == (10, 30)
    c = results.comparison
    assert c is not None and c.difference == pytest.approx(0.75 - 1 / 3)
    assert results.verdict == "works"
    # 75 % − 33.3 % = 41.7 points; the interval is Newcombe's for 45/60 − 10/30.
    expected = compare_proportions(45, 60, 10, 30)
    assert results.sentence == (
        f"Treated customers did “invite_sent” 41.7 points more often (95% CI "
        f"{expected.low * 100:.1f} to {expected.high * 100:.1f}): the playbook works."
    )


def test_event_outcome_that_harms_reads_in_chinese() -> None:
    pb = event_playbook(treated_did=5, treated_n=40, control_did=20, control_n=40)
    with translation.override("zh-hans"):
        results = experiment_results(playbook=pb, as_of=AS_OF)
    assert results.verdict == "harms"
    assert results.comparison is not None and results.comparison.high < 0


def test_mrr_kept_is_the_mean_ratio_with_welch() -> None:
    pb = playbook(name="Expansion nudge", outcome={"kind": "mrr", "days": 30})
    plan = make_plan(price="100")
    treated, control = [], []
    from tend.billing.actions import subscription_update

    for i in range(20):
        customer = make_customer()
        sub = make_subscription(customer, plan, at=AS_OF - timedelta(days=100))
        if i < 5:  # doubled within the window: 200 %
            subscription_update(subscription=sub, by=None, at=ENTERED + timedelta(days=10), mrr=200)
        treated.append(customer)
    for i in range(20):
        customer = make_customer()
        sub = make_subscription(customer, plan, at=AS_OF - timedelta(days=100))
        if i < 4:  # halved within the window: 50 %
            subscription_update(subscription=sub, by=None, at=ENTERED + timedelta(days=10), mrr=50)
        control.append(customer)
    for customer in treated:
        enroll(pb, customer, Group.TREATED, ENTERED)
    for customer in control:
        enroll(pb, customer, Group.CONTROL, ENTERED)
    results = experiment_results(playbook=pb, as_of=AS_OF)
    # treated: (15 × 1.0 + 5 × 2.0) / 20 = 1.25; control: (16 × 1.0 + 4 × 0.5) / 20 = 0.9
    assert results.treated.rate == pytest.approx(1.25)
    assert results.control.rate == pytest.approx(0.9)
    assert results.comparison is not None and results.comparison.method == "welch"
    assert results.comparison.difference == pytest.approx(0.35)
    assert results.treated_rate == "125.0%"


def test_no_control_group() -> None:
    pb = playbook(holdout_percent=0)
    enroll(pb, paying(), Group.TREATED, ENTERED)
    results = experiment_results(playbook=pb, as_of=AS_OF)
    assert results.verdict == "no_control"
    assert "no control group" in results.sentence


def test_a_broken_outcome_falls_back_to_retention_over_30_days() -> None:
    for outcome in (
        {},
        {"kind": "event", "days": 7},
        {"kind": "x", "days": 3},
        {"kind": "mrr", "days": True},
    ):
        pb = playbook(name=f"P {outcome}", outcome=outcome)
        results = experiment_results(playbook=pb, as_of=AS_OF)
        assert (results.outcome.kind, results.outcome.days, results.outcome.default) == (
            "retention",
            30,
            True,
        )


def test_partial_renders_the_sentence_the_chart_and_the_formula() -> None:
    pb = event_playbook(treated_did=45, treated_n=60, control_did=10, control_n=30)
    results = experiment_results(playbook=pb, as_of=AS_OF)
    html = render_to_string("playbooks/_experiment.html", {"results": results})
    assert results.sentence.replace("“", "&ldquo;")[:20] in html or "invite_sent" in html
    assert "<svg" in html and "style=" not in html  # CSP: attributes only
    assert "Event rate = customers who did" in html
    assert "75.0%" in html and "33.3%" in html
    with translation.override("zh-hans"):
        html_zh = render_to_string("playbooks/_experiment.html", {"results": results})
    assert "<svg" in html_zh
