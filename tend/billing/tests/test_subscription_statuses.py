"""Which statuses count towards MRR: active and past due; never unpaid, paused or incomplete."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tend.billing.actions import subscription_create, subscription_update
from tend.billing.models import MRR_STATUSES, Subscription, SubscriptionStatus
from tend.factories import make_customer, make_plan

pytestmark = pytest.mark.django_db


def test_the_statuses_are_stripes_and_only_active_and_past_due_count():
    assert SubscriptionStatus.values == [
        "incomplete",
        "trialing",
        "active",
        "past_due",
        "unpaid",
        "paused",
        "canceled",
    ]
    assert set(MRR_STATUSES) == {"active", "past_due"}


@pytest.mark.parametrize(
    ("status", "counts"),
    [
        ("incomplete", False),
        ("trialing", False),
        ("active", True),
        ("past_due", True),
        ("unpaid", False),
        ("paused", False),
        ("canceled", False),
    ],
)
def test_a_subscription_counts_towards_mrr_only_in_a_paying_status(status, counts):
    customer = make_customer()
    subscription_create(customer=customer, by=None, plan=make_plan(price="49"), status=status)
    customer.refresh_from_db()
    assert customer.mrr == (Decimal("49.00") if counts else Decimal("0"))
    assert Subscription.objects.counting_mrr().exists() is counts


def test_an_unpaid_subscription_is_churn_and_paying_again_is_a_reactivation():
    customer = make_customer()
    sub = subscription_create(customer=customer, by=None, plan=make_plan(price="49"))
    subscription_update(subscription=sub, by=None, status=SubscriptionStatus.UNPAID)
    subscription_update(subscription=sub, by=None, status=SubscriptionStatus.ACTIVE)
    kinds = list(customer.mrr_movements.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["new", "churn", "reactivation"]
