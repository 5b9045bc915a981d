"""A seed fully determines the demo data (for a given end day)."""

import pytest

from tend.activity.models import Event
from tend.billing.models import MrrMovement
from tend.customers.models import Customer
from tend.demo.tests.helpers import generate

pytestmark = pytest.mark.django_db


def snapshot() -> tuple[list[tuple], list[tuple], list[tuple]]:
    customers = list(
        Customer.objects.order_by("pk").values_list(
            "pk", "name", "email", "stage", "mrr", "signed_up_at", "churned_at", "channel"
        )
    )
    moves = list(
        MrrMovement.objects.order_by("at", "customer_id").values_list(
            "customer_id", "at", "kind", "amount"
        )
    )
    events = list(
        Event.objects.order_by("id").values_list("customer_id", "name", "timestamp", "properties")
    )
    return customers, moves, events


def test_the_same_seed_gives_identical_data_and_fingerprint():
    first = generate("saas", seed=11)
    before = snapshot()
    second = generate("saas", seed=11, flush=True)
    assert second.fingerprint == first.fingerprint
    assert snapshot() == before


def test_a_different_seed_gives_different_data():
    first = generate("shop", seed=1)
    before = snapshot()
    second = generate("shop", seed=2, flush=True)
    assert second.fingerprint != first.fingerprint
    assert snapshot()[0] != before[0]
