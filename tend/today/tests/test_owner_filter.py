""" "My customers" reads the owner copied on each item: the run writes it, and an owner change
reaches Today through the customer-change outbox before the next run."""

from __future__ import annotations

import pytest

from tend.changes.actions import change_record, changes_consume
from tend.changes.consumers import consumers
from tend.customers.models import Customer
from tend.today.engine import today_pipeline_step
from tend.today.models import TodayItem
from tend.today.queries import TodayFilters, today_items
from tend.today.tests.helpers import DAY, customer, findings

pytestmark = pytest.mark.django_db


def mine(user) -> list[int]:
    qs = today_items(on=DAY, user=user, filters=TodayFilters(mine=True))
    return list(qs.values_list("customer_id", flat=True))


def test_the_run_copies_each_customers_owner_onto_its_item(owner, member) -> None:
    a = customer("Olivia's", mrr="100", owner=owner)
    b = customer("Mike's", mrr="200", owner=member)
    c = customer("Nobody's", mrr="300")
    with findings({"x": {a.pk: ("a", 0.5), b.pk: ("b", 0.5), c.pk: ("c", 0.5)}}):
        today_pipeline_step(DAY)
    assert mine(owner) == [a.pk] and mine(member) == [b.pk]
    assert TodayItem.objects.get(customer=c).owner_id is None


def test_an_owner_change_reaches_today_through_the_outbox(owner, member) -> None:
    a = customer("Moves", mrr="100", owner=owner)
    b = customer("Loses its owner", mrr="100", owner=member)
    with findings({"x": {a.pk: ("a", 0.5), b.pk: ("b", 0.5)}}):
        today_pipeline_step(DAY)
    Customer.objects.filter(pk=a.pk).update(owner=member)
    Customer.objects.filter(pk=b.pk).update(owner=None)
    change_record(customer_id=a.pk, kind="owner", key=f"test-owner:{a.pk}", data={})
    change_record(customer_id=b.pk, kind="owner", key=f"test-owner:{b.pk}", data={})
    ours = consumers.get("today-owner")  # only ours: other apps' consumers are theirs to test
    assert changes_consume(ours.name, ours.handle, kinds=ours.kinds) == 2
    assert mine(owner) == [] and mine(member) == [a.pk]
    assert TodayItem.objects.get(customer=b).owner_id is None
