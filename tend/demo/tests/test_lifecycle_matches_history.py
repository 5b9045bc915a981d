"""Stages, churn dates and plans agree with the billing history and the stage log."""

from collections import defaultdict
from itertools import pairwise

import pytest
from django.db.models import Max

from tend.billing.models import MrrMovement, Order, Subscription
from tend.customers.models import Customer, Stage, StageChange, TimelineEntry
from tend.demo.tests.helpers import generate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("business", ["saas", "course", "shop"])
def test_churned_customers_have_a_churn_date_and_no_mrr(business):
    generate(business, customers=300, months=12)
    churned = Customer.objects.filter(stage=Stage.CHURNED)
    assert churned.exists()
    assert not churned.filter(churned_at__isnull=True).exists()
    assert not churned.filter(mrr__gt=0).exists()
    assert (
        not Customer.objects.exclude(stage=Stage.CHURNED).filter(churned_at__isnull=False).exists()
    )


@pytest.mark.parametrize("business", ["saas", "course", "shop"])
def test_stage_log_is_a_chain_that_ends_in_the_current_stage(business):
    generate(business, customers=300, months=12)
    log: dict[int, list[StageChange]] = defaultdict(list)
    for change in StageChange.objects.order_by("at", "id"):
        log[change.customer_id].append(change)
    for customer in Customer.objects.all():
        changes = log[customer.pk]
        assert changes[0].from_stage == ""
        assert changes[0].at == customer.signed_up_at
        for previous, change in pairwise(changes):
            assert change.from_stage == previous.to_stage
            assert change.from_stage != change.to_stage
        assert changes[-1].to_stage == customer.stage
        assert customer.stage_changed_at == changes[-1].at
        if customer.stage == Stage.CHURNED:
            assert customer.churned_at == changes[-1].at


def test_saas_stages_follow_billing():
    generate("saas", customers=400, months=12)
    paying = Customer.objects.filter(mrr__gt=0)
    assert not paying.filter(stage__in=[Stage.TRIAL, Stage.PROSPECT, Stage.CHURNED]).exists()
    assert paying.filter(plan__isnull=True).count() == 0
    trials = Customer.objects.filter(stage=Stage.TRIAL)
    for customer in trials:
        assert Subscription.objects.filter(customer=customer, status="trialing").exists()
    stages = set(Customer.objects.values_list("stage", flat=True))
    assert {Stage.TRIAL, Stage.ONBOARDING, Stage.ESTABLISHED, Stage.CHURNED} <= stages


def test_every_movement_and_stage_move_is_on_the_timeline():
    generate("saas")
    assert TimelineEntry.objects.filter(data__msg="mrr_changed").count() == (
        MrrMovement.objects.count()
    )
    moves = StageChange.objects.exclude(from_stage="").count()
    assert TimelineEntry.objects.filter(data__msg="stage_changed").count() == moves
    assert TimelineEntry.objects.filter(data__msg="customer_created").count() == 150


def test_last_seen_is_the_latest_event():
    generate("saas")
    latest = dict(Customer.objects.annotate(top=Max("events__timestamp")).values_list("pk", "top"))
    for pk, seen in Customer.objects.values_list("pk", "last_seen_at"):
        assert seen == latest[pk]


@pytest.mark.parametrize("business", ["course", "shop"])
def test_buyers_are_never_left_as_prospects(business):
    generate(business, customers=300, months=12)
    buyers = Order.objects.values("customer")
    assert not Customer.objects.filter(pk__in=buyers, stage=Stage.PROSPECT).exists()
    for customer in Customer.objects.filter(pk__in=buyers):
        first = Order.objects.filter(customer=customer).order_by("ordered_at").first()
        assert first is not None and first.ordered_at >= customer.signed_up_at
