"""The demo MRR ledger means what the billing actions' ledger means."""

from collections import defaultdict
from decimal import Decimal

import pytest

from tend.billing.ledger import classify
from tend.billing.models import MRR_STATUSES, MovementKind, MrrMovement, Subscription
from tend.customers.models import Customer
from tend.demo.tests.helpers import generate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("business", ["saas", "course", "shop"])
def test_movements_chain_classify_and_sum_to_each_customers_mrr(business):
    generate(business, customers=300, months=12)
    by_customer: dict[int, list[MrrMovement]] = defaultdict(list)
    for m in MrrMovement.objects.order_by("customer_id", "at", "id"):
        by_customer[m.customer_id].append(m)
    assert by_customer, "expected some paying customers"
    for customer in Customer.objects.all():
        moves = by_customer.get(customer.pk, [])
        assert sum((m.amount for m in moves), Decimal(0)) == customer.mrr
        if not moves:
            assert customer.mrr == 0
            continue
        assert moves[-1].mrr_after == customer.mrr
        assert moves[0].kind == MovementKind.NEW
        before, had = Decimal(0), False
        for m in moves:
            assert m.mrr_before == before
            assert m.amount == m.mrr_after - m.mrr_before
            assert m.kind == classify(before=before, after=m.mrr_after, had_mrr_before=had)
            before, had = m.mrr_after, True
        assert customer.first_paid_at is not None
        assert customer.first_paid_at <= moves[0].at


def test_reactivation_only_follows_a_churn():
    generate("saas", customers=600, months=18)
    kinds: dict[int, list[str]] = defaultdict(list)
    for customer_id, kind in MrrMovement.objects.order_by("at", "id").values_list(
        "customer_id", "kind"
    ):
        kinds[customer_id].append(kind)
    for seq in kinds.values():
        for i, kind in enumerate(seq):
            if kind == MovementKind.REACTIVATION:
                assert seq[i - 1] == MovementKind.CHURN


@pytest.mark.parametrize("business", ["saas", "course", "shop"])
def test_live_subscriptions_add_up_to_the_customers_mrr(business):
    generate(business, customers=300, months=12)
    live: dict[int, Decimal] = defaultdict(Decimal)
    for sub in Subscription.objects.filter(status__in=MRR_STATUSES):
        live[sub.customer_id] += sub.mrr
    for customer in Customer.objects.all():
        assert live.get(customer.pk, Decimal(0)) == customer.mrr


def test_the_saas_ledger_has_every_kind_of_movement():
    generate("saas", customers=800, months=24)
    kinds = set(MrrMovement.objects.values_list("kind", flat=True).distinct())
    assert kinds == set(MovementKind.values)
