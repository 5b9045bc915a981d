"""MRR of Stripe subscriptions, checked against numbers worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from tend.billing.actions import exchange_rate_set
from tend.billing.models import Subscription
from tend.customers.models import Customer
from tend.ingest.webhooks.tests import stripe_payloads as sp


def _mrr_of(client: Client, **subscription: Any) -> Subscription:
    response = sp.post(
        client, sp.event("customer.subscription.created", sp.subscription(**subscription))
    )
    assert response.status_code == 200, response.content
    return Subscription.objects.get(external_id=subscription.get("sub_id", "sub_1Example"))


@pytest.mark.parametrize(
    "unit_amount, interval, count, quantity, expected",
    [
        (4900, "month", 1, 1, "49.00"),  # 49
        (120000, "year", 1, 1, "100.00"),  # 1,200 ÷ 12
        (1000, "week", 1, 1, "43.33"),  # 10 × 52 ÷ 12 = 43.333…
        (2000, "month", 1, 5, "100.00"),  # 20 × 5 seats
        (9000, "month", 3, 1, "30.00"),  # 90 every 3 months
        (30000, "month", 6, 2, "100.00"),  # 300 every 6 months × 2
        (240000, "year", 2, 1, "100.00"),  # 2,400 every 2 years ÷ 24
        (100, "day", 1, 1, "30.42"),  # 1 a day × 365 ÷ 12 = 30.4166…
    ],
)
def test_mrr_is_normalised_to_a_month(
    stripe_client: Client,
    unit_amount: int,
    interval: str,
    count: int,
    quantity: int,
    expected: str,
) -> None:
    p = sp.price(unit_amount=unit_amount, interval=interval, interval_count=count)
    sub = _mrr_of(stripe_client, items=[sp.item(p, quantity=quantity)])
    assert sub.mrr == Decimal(expected)
    assert Customer.objects.get().mrr == Decimal(expected)


def test_a_percent_off_coupon_lowers_mrr(stripe_client: Client) -> None:
    p = sp.price(unit_amount=10000)
    d = sp.discount(sp.coupon(percent_off=25.0))
    sub = _mrr_of(stripe_client, items=[sp.item(p)], discount=d, discounts=[d])
    assert sub.mrr == Decimal("75.00")  # 100 × 0.75


def test_an_amount_off_coupon_is_spread_over_the_billing_period(stripe_client: Client) -> None:
    p = sp.price(unit_amount=120000, interval="year")
    d = sp.discount(sp.coupon(amount_off=1000))
    sub = _mrr_of(stripe_client, items=[sp.item(p)], discounts=[d])
    assert sub.mrr == Decimal("99.17")  # (1,200 − 10) ÷ 12 = 99.1666…


def test_a_repeating_coupon_counts_until_it_ends(stripe_client: Client) -> None:
    p = sp.price(unit_amount=10000)
    running = sp.discount(sp.coupon(percent_off=50, duration="repeating"), end=sp.T0 + 86_400)
    ended = sp.discount(sp.coupon(percent_off=50, duration="repeating"), end=sp.T0 - 86_400)
    assert _mrr_of(stripe_client, sub_id="sub_a", items=[sp.item(p)], discounts=[running]).mrr == 50
    assert _mrr_of(stripe_client, sub_id="sub_b", items=[sp.item(p)], discounts=[ended]).mrr == 100


def test_a_once_only_coupon_does_not_lower_recurring_revenue(stripe_client: Client) -> None:
    p = sp.price(unit_amount=10000)
    d = sp.discount(sp.coupon(percent_off=100, duration="once"))
    assert _mrr_of(stripe_client, items=[sp.item(p)], discounts=[d]).mrr == Decimal("100.00")


def test_a_discount_on_one_item_applies_to_that_item_only(stripe_client: Client) -> None:
    base = sp.item(sp.price("price_base", unit_amount=5000))
    seats = sp.item(
        sp.price("price_seat", unit_amount=1000),
        quantity=4,
        discounts=[sp.discount(sp.coupon(percent_off=50))],
    )
    sub = _mrr_of(stripe_client, items=[base, seats])
    assert sub.mrr == Decimal("70.00")  # 50 + 4 × 10 × 0.5


def test_a_multi_item_subscription_sums_its_items(stripe_client: Client) -> None:
    base = sp.item(sp.price("price_base", unit_amount=4900, nickname="Base"))
    seats = sp.item(sp.price("price_seat", unit_amount=1000, nickname="Seat"), quantity=3)
    metered = sp.item(sp.price("price_api", unit_amount=1, usage_type="metered"), quantity=None)
    sub = _mrr_of(stripe_client, items=[base, seats, metered])
    assert sub.mrr == Decimal("79.00")  # 49 + 3 × 10; metered usage is not recurring
    assert sub.plan is not None and sub.plan.code == "price_base"  # the biggest item


def test_the_plan_is_taken_from_the_price(stripe_client: Client) -> None:
    p = sp.price("price_1Annual", unit_amount=120000, interval="year", nickname="Pro yearly")
    sub = _mrr_of(stripe_client, items=[sp.item(p, quantity=2)])
    assert sub.plan is not None
    assert (sub.plan.code, sub.plan.name, sub.plan.price, sub.plan.interval) == (
        "price_1Annual",
        "Pro yearly",
        Decimal("1200.00"),
        "year",
    )
    assert (sub.interval, sub.quantity, sub.mrr) == ("year", 2, Decimal("200.00"))
    assert Customer.objects.get().plan == sub.plan


def test_zero_decimal_currencies_are_not_divided_by_a_hundred(stripe_client: Client) -> None:
    exchange_rate_set(currency="JPY", rate="0.0065", valid_from=date(2025, 1, 1), by=None)
    p = sp.price(unit_amount=12000, interval="year", currency="jpy")
    sub = _mrr_of(stripe_client, items=[sp.item(p)], currency="jpy")
    assert (sub.mrr, sub.currency) == (Decimal("1000.00"), "JPY")  # ¥12,000 ÷ 12
    assert Customer.objects.get().mrr == Decimal("6.50")  # ¥1,000 × 0.0065 USD per yen


def test_a_subscription_in_another_currency_keeps_its_currency(stripe_client: Client) -> None:
    exchange_rate_set(currency="EUR", rate="1.08", valid_from=date(2025, 1, 1), by=None)
    p = sp.price(unit_amount=3900, currency="eur")
    sub = _mrr_of(stripe_client, items=[sp.item(p)], currency="eur")
    assert (sub.mrr, sub.currency) == (Decimal("39.00"), "EUR")
    assert Customer.objects.get().mrr == Decimal("42.12")  # 39 EUR × 1.08 USD per euro
