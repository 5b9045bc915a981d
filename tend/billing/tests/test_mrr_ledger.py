"""The MRR ledger: every change of a customer's MRR is one classified movement."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db.models import Sum

from tend.billing.actions import subscription_cancel, subscription_create, subscription_update
from tend.billing.ledger import classify, monthly_amount
from tend.billing.models import MovementKind, MrrMovement
from tend.customers.models import Stage
from tend.factories import make_customer, make_plan

D = Decimal


def at(month: int, day: int = 1) -> datetime:
    return datetime(2025, month, day, tzinfo=UTC)


def test_yearly_prices_are_divided_by_twelve_and_weekly_multiplied_by_52_over_12():
    assert monthly_amount(price=D("1200"), quantity=1, interval="year") == D("100.00")
    assert monthly_amount(price=D("10"), quantity=3, interval="week") == D("130.00")
    assert monthly_amount(price=D("90"), quantity=1, interval="quarter") == D("30.00")
    assert monthly_amount(price=D("100"), quantity=2, interval="month", discount=D("0.25")) == D(
        "150.00"
    )


def test_negative_prices_and_discounts_over_100_percent_are_refused():
    with pytest.raises(ValueError, match="price"):
        monthly_amount(price=D("-1"), quantity=1, interval="month")
    with pytest.raises(ValueError, match="discount"):
        monthly_amount(price=D("1"), quantity=1, interval="month", discount=D("1.5"))


@pytest.mark.parametrize(
    ("before", "after", "had", "kind"),
    [
        ("0", "10", False, MovementKind.NEW),
        ("0", "10", True, MovementKind.REACTIVATION),
        ("10", "0", True, MovementKind.CHURN),
        ("10", "20", True, MovementKind.EXPANSION),
        ("20", "10", True, MovementKind.CONTRACTION),
        ("10", "10", True, None),
    ],
)
def test_a_change_of_mrr_is_classified_by_its_direction_and_history(before, after, had, kind):
    assert classify(before=D(before), after=D(after), had_mrr_before=had) == kind


@pytest.mark.django_db
def test_subscription_life_writes_new_expansion_contraction_churn_and_reactivation():
    plan = make_plan(price="50")
    customer = make_customer(stage=Stage.TRIAL)
    sub = subscription_create(customer=customer, plan=plan, by=None, at=at(1))
    subscription_update(subscription=sub, by=None, at=at(2), quantity=3, mrr=D("150"))
    subscription_update(subscription=sub, by=None, at=at(3), quantity=2, mrr=D("100"))
    subscription_cancel(subscription=sub, by=None, at=at(4))
    subscription_create(customer=customer, plan=plan, by=None, at=at(6))

    kinds = list(
        MrrMovement.objects.filter(customer=customer).order_by("at").values_list("kind", "amount")
    )
    assert kinds == [
        ("new", D("50.00")),
        ("expansion", D("100.00")),
        ("contraction", D("-50.00")),
        ("churn", D("-100.00")),
        ("reactivation", D("50.00")),
    ]
    customer.refresh_from_db()
    total = MrrMovement.objects.filter(customer=customer).aggregate(s=Sum("amount"))["s"]
    assert customer.mrr == total == D("50.00")
    assert customer.first_paid_at == at(1)


@pytest.mark.django_db
def test_churn_moves_the_customer_to_the_churned_stage_with_a_timeline_entry():
    customer = make_customer(stage=Stage.ESTABLISHED, signed_up_at=at(1))
    sub = subscription_create(customer=customer, plan=make_plan(), by=None, at=at(1))
    subscription_cancel(subscription=sub, by=None, at=at(5))
    customer.refresh_from_db()
    assert customer.stage == Stage.CHURNED
    assert customer.churned_at == at(5)
    messages = [e.data.get("msg") for e in customer.timeline.order_by("at", "id")]
    assert messages == ["customer_created", "mrr_changed", "stage_changed", "mrr_changed"]


@pytest.mark.django_db
def test_negative_mrr_is_refused_and_nothing_is_written():
    customer = make_customer()
    with pytest.raises(ValueError, match="mrr"):
        subscription_create(customer=customer, by=None, mrr=D("-5"))
    assert not customer.subscriptions.exists()
    assert not MrrMovement.objects.exists()


@pytest.mark.django_db
def test_a_trial_does_not_count_towards_mrr_until_it_converts():
    customer = make_customer()
    sub = subscription_create(
        customer=customer, plan=make_plan(), by=None, at=at(1), status="trialing"
    )
    customer.refresh_from_db()
    assert customer.mrr == 0 and not MrrMovement.objects.exists()
    subscription_update(subscription=sub, by=None, at=at(2), status="active")
    customer.refresh_from_db()
    assert customer.mrr == D("49.00")
    assert MrrMovement.objects.get().kind == MovementKind.NEW
