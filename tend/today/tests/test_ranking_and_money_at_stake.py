"""The engine ranks customers by money at stake = monthly value × combined risk."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tend.billing.models import Order, OrderStatus
from tend.customers.models import Stage
from tend.today.engine import combined_risk, today_pipeline_step
from tend.today.models import State, TodayItem, ValueBasis
from tend.today.tests.helpers import DAY, customer, days_ago, findings

pytestmark = pytest.mark.django_db


def items() -> list[TodayItem]:
    return list(TodayItem.objects.filter(current=True).order_by("rank"))


def test_customers_are_ranked_by_mrr_times_risk_highest_first() -> None:
    small = customer("Small but very risky", mrr="100")  # 100 × 0.9 = 90
    big = customer("Big, mildly risky", mrr="1000")  # 1000 × 0.1 = 100
    mid = customer("Middle", mrr="200")  # 200 × 0.4 = 80
    with findings({"a": {small.pk: ("a1", 0.9), big.pk: ("a2", 0.1), mid.pk: ("a3", 0.4)}}):
        counts = today_pipeline_step(DAY)
    assert counts["customers"] == 3
    ranked = items()
    assert [i.customer_id for i in ranked] == [big.pk, small.pk, mid.pk]
    assert [i.rank for i in ranked] == [1, 2, 3]
    assert [i.money_at_stake for i in ranked] == [
        Decimal("100.00"),
        Decimal("90.00"),
        Decimal("80.00"),
    ]


def test_ties_go_to_the_higher_risk_then_the_older_customer() -> None:
    first = customer("First", mrr="100")  # 100 × 0.5 = 50
    second = customer("Second", mrr="50")  # 50 × 1.0 = 50: higher risk wins the tie
    third = customer("Third", mrr="100")  # 50, same risk as first, later id
    with findings({"a": {first.pk: ("x", 0.5), second.pk: ("y", 1.0), third.pk: ("z", 0.5)}}):
        today_pipeline_step(DAY)
    assert [i.customer_id for i in items()] == [second.pk, first.pk, third.pk]


def test_risks_of_several_reasons_combine_as_one_minus_the_product_of_their_complements() -> None:
    assert combined_risk([0.4]) == 0.4
    assert combined_risk([0.4, 0.3]) == pytest.approx(1 - 0.6 * 0.7)
    assert combined_risk([0.5, 0.5, 0.5]) == pytest.approx(0.875)
    assert combined_risk([]) == 0.0
    assert combined_risk([1.5, -1]) == 1.0  # out-of-range risks are clipped to 0–1
    acme = customer("Acme", mrr="1000")
    with findings({"a": {acme.pk: ("a", 0.4)}, "b": {acme.pk: ("b", 0.3)}}):
        today_pipeline_step(DAY)
    item = TodayItem.objects.get(customer=acme)
    assert item.risk == pytest.approx(0.58)
    assert item.money_at_stake == Decimal("580.00")
    assert item.signals == " a b " and [r["signal"] for r in item.reasons] == ["a", "b"]


def test_a_customer_without_mrr_is_weighed_by_its_orders_of_the_last_365_days() -> None:
    shop = customer("Shop buyer")  # no MRR
    for when, amount, refunded, status in [
        (days_ago(10), "300.00", "0", OrderStatus.PAID),
        (days_ago(364), "600.00", "100.00", OrderStatus.PAID),  # 500 counts
        (days_ago(366), "9999.00", "0", OrderStatus.PAID),  # older than 365 days
        (days_ago(5), "800.00", "800.00", OrderStatus.REFUNDED),  # refunded: nothing
        (days_ago(2), "700.00", "0", OrderStatus.PENDING),  # not paid
    ]:
        Order.objects.create(
            customer=shop, ordered_at=when, amount=amount, refunded_amount=refunded, status=status
        )
    nothing = customer("No revenue at all")
    with findings({"a": {shop.pk: ("a", 0.5), nothing.pk: ("n", 0.9)}}):
        today_pipeline_step(DAY)
    item = TodayItem.objects.get(customer=shop)
    # (300 + 500) ÷ 12 = 66.67 a month (average order 400 × 2 orders ÷ 12), × 0.5 risk.
    assert item.value_basis == ValueBasis.ORDERS
    assert item.monthly_value == Decimal("66.67")
    assert item.money_at_stake == Decimal("33.34")  # 66.67 × 0.5 = 33.335, half up
    zero = TodayItem.objects.get(customer=nothing)
    assert zero.value_basis == ValueBasis.NONE and zero.money_at_stake == 0
    assert zero.rank == 2


def test_churned_customers_are_left_out() -> None:
    gone = customer("Gone", mrr="0", stage=Stage.CHURNED)
    with findings({"a": {gone.pk: ("a", 0.9)}}):
        today_pipeline_step(DAY)
    assert not TodayItem.objects.exists()


def test_running_twice_for_a_day_writes_the_same_rows() -> None:
    a = customer("A", mrr="100")
    b = customer("B", mrr="300")
    with findings({"a": {a.pk: ("a", 0.5), b.pk: ("b", 0.2)}}):
        today_pipeline_step(DAY)
        first = list(TodayItem.objects.order_by("pk").values())
        today_pipeline_step(DAY)
        second = list(TodayItem.objects.order_by("pk").values())
    for row in first + second:
        row.pop("updated_at")
    assert first == second


def test_a_customer_no_longer_found_leaves_the_list_but_is_remembered() -> None:
    a = customer("A", mrr="100")
    with findings({"a": {a.pk: ("a", 0.5)}}):
        today_pipeline_step(DAY - timedelta(days=1))
    with findings({"a": {}}):
        counts = today_pipeline_step(DAY)
    assert counts["cleared"] == 1
    item = TodayItem.objects.get(customer=a)
    assert not item.current and item.state == State.OPEN
    assert not TodayItem.objects.showing(on=DAY).exists()
    with findings({"a": {a.pk: ("a2", 0.5)}}):
        today_pipeline_step(DAY + timedelta(days=1))
    item.refresh_from_db()
    assert item.current and item.first_seen == DAY + timedelta(days=1)


def test_the_item_keeps_the_day_it_was_first_seen_while_it_stays() -> None:
    a = customer("A", mrr="100")
    b = customer("B", mrr="100")
    with findings({"a": {a.pk: ("a", 0.5)}}):
        today_pipeline_step(DAY - timedelta(days=2))
    first = TodayItem.objects.get(customer=a)
    with findings({"a": {a.pk: ("a", 0.5), b.pk: ("b", 0.9)}}):
        today_pipeline_step(DAY)
    item = TodayItem.objects.get(customer=a)
    assert item.first_seen == DAY - timedelta(days=2) and item.day == DAY
    assert item.pk == first.pk and item.rank == 2  # rewritten under the same id
