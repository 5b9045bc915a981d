"""Billing rows are kept (anonymised) with the erased customer's shell, so the MRR ledger and
every report built on it read the same after an erasure."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from tend.billing.actions import subscription_cancel
from tend.billing.models import MrrMovement
from tend.factories import make_customer, make_plan, make_subscription
from tend.metrics.models import MonthlySummary
from tend.metrics.snapshots import snapshots_refresh
from tend.privacy.actions import customer_erase

pytestmark = pytest.mark.django_db


def _ledger() -> list[tuple[str, Decimal]]:
    return list(
        MrrMovement.objects.annotate(m=TruncMonth("at"))
        .values_list("m")
        .annotate(total=Sum("amount"))
        .order_by("m")
        .values_list("m", "total")
    )


def _summaries() -> list[tuple]:
    return list(
        MonthlySummary.objects.order_by("period", "dimension", "value", "month").values_list(
            "period",
            "dimension",
            "value",
            "month",
            "customers_start",
            "customers_end",
            "mrr_start",
            "mrr_end",
            "churned",
        )
    )


def test_mrr_totals_by_month_are_the_same_after_erasing_a_paying_customer(owner):
    now = timezone.now()
    plan = make_plan("pro", "49")
    big = make_plan("big", "199")
    payer = make_customer("Paying Person", country="GB", channel="referral")
    make_subscription(payer, big, at=now - timedelta(days=95))
    other = make_customer("Other One")
    sub = make_subscription(other, plan, at=now - timedelta(days=60))
    subscription_cancel(subscription=sub, by=owner, at=now - timedelta(days=20))
    snapshots_refresh(full=True)
    ledger, summaries = _ledger(), _summaries()
    assert ledger and summaries

    customer_erase(customer=payer, by=owner)
    snapshots_refresh(full=True)

    assert _ledger() == ledger
    assert _summaries() == summaries
    payer.refresh_from_db()
    assert payer.mrr == Decimal("199.00") and payer.name.startswith("Erased customer")
