"""Churn carries a signal a model can learn: usage falls before customers leave."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Count

from tend.activity.models import Event
from tend.billing.models import MovementKind, MrrMovement
from tend.customers.models import Customer
from tend.demo.tests.helpers import END, generate

pytestmark = pytest.mark.django_db


def events_in(customer_id: int, end: datetime) -> int:
    return Event.objects.filter(
        customer_id=customer_id, timestamp__gte=end - timedelta(days=30), timestamp__lt=end
    ).count()


def test_churned_customers_used_the_product_much_less_in_their_last_30_days():
    generate("saas", customers=500, months=12, seed=3)
    churns = dict(
        MrrMovement.objects.filter(kind=MovementKind.CHURN)
        .order_by("customer_id", "at")
        .values_list("customer_id", "at")
    )
    paid_long = Customer.objects.filter(
        mrr__gt=0, first_paid_at__lt=datetime(END.year, END.month, END.day, tzinfo=UTC)
        - timedelta(days=90)
    )  # fmt: skip
    retained = list(paid_long.values_list("pk", flat=True))
    assert len(churns) >= 30 and len(retained) >= 100
    end = datetime(END.year, END.month, END.day, tzinfo=UTC)
    churned_mean = sum(events_in(c, at) for c, at in churns.items()) / len(churns)
    retained_mean = sum(events_in(c, end) for c in retained) / len(retained)
    assert churned_mean < 0.5 * retained_mean


def test_usage_stops_after_churn():
    generate("saas", customers=400, months=12, seed=5)
    for customer in Customer.objects.filter(stage="churned", churned_at__isnull=False):
        later = Event.objects.filter(
            customer=customer, timestamp__gt=customer.churned_at + timedelta(days=25)
        )
        assert not later.exists()


def test_event_volume_follows_the_requested_average():
    summary = generate("saas", customers=300, events_per_customer=40)
    assert summary.events == Event.objects.count()
    assert 0.85 * 300 * 40 < summary.events < 1.15 * 300 * 40
    assert Event.objects.values("customer").annotate(n=Count("id")).count() > 250
