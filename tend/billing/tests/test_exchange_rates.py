"""MRR in other currencies: converted with the stored rate in force that day, or refused.

Every number is worked out by hand; the reporting currency is USD (the default).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from tend.accounts.models import AuditEntry
from tend.billing.actions import (
    CurrencyError,
    customer_mrr_sync,
    exchange_rate_delete,
    exchange_rate_set,
    subscription_create,
    subscription_update,
    to_reporting,
)
from tend.billing.models import ExchangeRate, MrrMovement, Subscription
from tend.customers.models import Customer, TimelineEntry
from tend.factories import make_customer, make_plan

D = Decimal
pytestmark = pytest.mark.django_db


def on(month: int, day: int = 1, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def eur(rate: str, valid_from: date) -> ExchangeRate:
    return exchange_rate_set(currency="EUR", rate=rate, valid_from=valid_from, by=None)


def ledger_total(customer: Customer) -> Decimal:
    return MrrMovement.objects.filter(customer=customer).aggregate(s=Sum("amount"))["s"] or D(0)


# --- the conversion rule -----------------------------------------------------------------------


def test_an_amount_is_multiplied_by_the_rate_and_rounded_to_the_cent():
    eur("1.08", date(2026, 1, 1))
    assert to_reporting(D("100"), "EUR", on(1, 15)) == D("108.00")
    assert to_reporting(D("33.33"), "eur", on(1, 15)) == D("36.00")  # 35.9964 → 36.00
    assert to_reporting(D("0.05"), "EUR", on(1, 15)) == D("0.05")  # 0.054 → 0.05


def test_the_reporting_currency_and_zero_never_need_a_rate():
    assert to_reporting(D("49.5"), "USD", on(1)) == D("49.50")
    assert to_reporting(D("0"), "GBP", on(1)) == D("0.00")


def test_the_rate_used_is_the_latest_that_starts_on_or_before_the_day():
    eur("1.08", date(2026, 1, 1))
    eur("1.10", date(2026, 3, 1))
    assert to_reporting(D("100"), "EUR", date(2026, 1, 1)) == D("108.00")
    assert to_reporting(D("100"), "EUR", on(2, 28, 23)) == D("108.00")
    assert to_reporting(D("100"), "EUR", datetime(2026, 3, 1, 0, 0, tzinfo=UTC)) == D("110.00")
    assert to_reporting(D("100"), "EUR", on(12, 31)) == D("110.00")


def test_a_day_before_the_first_rate_is_refused_naming_the_currency_the_day_and_the_fix():
    eur("1.08", date(2026, 1, 1))
    with pytest.raises(CurrencyError) as caught:
        to_reporting(D("100"), "EUR", datetime(2025, 12, 31, 23, 59, tzinfo=UTC))
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.currency, error.day) == ("EUR", date(2025, 12, 31))
    message = str(error)
    assert "EUR" in message and "2025-12-31" in message
    assert "tend rates set EUR" in message and "--from 2025-12-31" in message
    assert "/billing/rates/" in message


def test_a_currency_with_no_rate_at_all_is_refused():
    with pytest.raises(CurrencyError, match="no exchange rate for GBP on 2026-02-01"):
        to_reporting(D("10"), "GBP", on(2))


# --- the MRR ledger ----------------------------------------------------------------------------


def test_a_eur_subscription_of_100_a_month_at_1_08_is_108_usd_of_mrr():
    eur("1.08", date(2026, 1, 1))
    customer = make_customer()
    sub = subscription_create(customer=customer, by=None, mrr=D("100"), currency="EUR", at=on(1))
    customer.refresh_from_db()
    assert (sub.mrr, sub.currency) == (D("100.00"), "EUR")  # the subscription keeps its money
    assert customer.mrr == D("108.00")
    movement = MrrMovement.objects.get(customer=customer)
    assert (movement.kind, movement.amount, movement.currency) == ("new", D("108.00"), "USD")


def test_a_customer_with_a_usd_and_a_eur_subscription_adds_them_in_usd():
    eur("1.08", date(2026, 1, 1))
    customer = make_customer()
    subscription_create(customer=customer, by=None, mrr=D("50"), currency="USD", at=on(1))
    subscription_create(customer=customer, by=None, mrr=D("100"), currency="EUR", at=on(2))
    customer.refresh_from_db()
    assert customer.mrr == D("158.00")  # 50 + 100 × 1.08
    amounts = list(
        MrrMovement.objects.filter(customer=customer)
        .order_by("at")
        .values_list("kind", "amount", "mrr_after")
    )
    assert amounts == [("new", D("50.00"), D("50.00")), ("expansion", D("108.00"), D("158.00"))]
    assert ledger_total(customer) == customer.mrr


def test_a_rate_change_applies_to_movements_from_its_day():
    eur("1.08", date(2026, 1, 1))
    eur("1.10", date(2026, 3, 1))
    customer = make_customer()
    sub = subscription_create(customer=customer, by=None, mrr=D("100"), currency="EUR", at=on(2))
    customer.refresh_from_db()
    assert customer.mrr == D("108.00")  # February: 1.08
    subscription_update(subscription=sub, by=None, at=on(3, 1, 0), mrr=D("200"), quantity=2)
    customer.refresh_from_db()
    assert customer.mrr == D("220.00")  # 200 × 1.10 from March 1st
    last = MrrMovement.objects.filter(customer=customer).latest("at")
    assert (last.kind, last.amount, last.mrr_before) == ("expansion", D("112.00"), D("108.00"))
    assert ledger_total(customer) == customer.mrr


def test_a_yearly_eur_plan_of_1200_is_100_eur_a_month_and_108_usd():
    eur("1.08", date(2026, 1, 1))
    plan = make_plan("pro-eur", price="1200", interval="year", name="Pro (EUR)")
    plan.currency = "EUR"
    plan.save(update_fields=["currency"])
    customer = make_customer()
    sub = subscription_create(customer=customer, plan=plan, by=None, at=on(1))
    customer.refresh_from_db()
    assert (sub.mrr, sub.currency, sub.interval) == (D("100.00"), "EUR", "year")
    assert customer.mrr == D("108.00")
    assert customer.plan == plan


def test_the_paying_plan_is_the_largest_subscription_in_usd_not_in_its_own_currency():
    exchange_rate_set(currency="JPY", rate="0.0065", valid_from=date(2026, 1, 1), by=None)
    small = make_plan("usd-small", price="20")
    yen = make_plan("yen-big", price="1000")  # ¥1,000 = 6.50 USD: fewer dollars, bigger number
    yen.currency = "JPY"
    yen.save(update_fields=["currency"])
    customer = make_customer()
    subscription_create(customer=customer, plan=small, by=None, at=on(1))
    subscription_create(customer=customer, plan=yen, by=None, at=on(2))
    customer.refresh_from_db()
    assert customer.mrr == D("26.50")
    assert customer.plan == small


def test_a_missing_rate_raises_before_anything_is_written():
    customer = make_customer()
    subscription_create(customer=customer, by=None, mrr=D("50"), currency="USD", at=on(1))
    before = (
        Subscription.objects.count(),
        MrrMovement.objects.count(),
        AuditEntry.objects.count(),
        TimelineEntry.objects.count(),
    )
    with pytest.raises(CurrencyError, match="EUR on 2026-02-01"):
        subscription_create(customer=customer, by=None, mrr=D("100"), currency="EUR", at=on(2))
    after = (
        Subscription.objects.count(),
        MrrMovement.objects.count(),
        AuditEntry.objects.count(),
        TimelineEntry.objects.count(),
    )
    assert after == before
    customer.refresh_from_db()
    assert customer.mrr == D("50.00")


def test_a_change_to_a_currency_without_a_rate_is_rolled_back():
    customer = make_customer()
    sub = subscription_create(customer=customer, by=None, mrr=D("50"), at=on(1))
    with pytest.raises(CurrencyError):
        subscription_update(subscription=sub, by=None, at=on(2), currency="GBP")
    sub.refresh_from_db()
    assert sub.currency == "USD"
    assert MrrMovement.objects.filter(customer=customer).count() == 1


def test_subscriptions_that_do_not_count_need_no_rate():
    customer = make_customer()
    subscription_create(
        customer=customer, by=None, mrr=D("100"), currency="EUR", status="trialing", at=on(1)
    )
    customer.refresh_from_db()
    assert customer.mrr == 0
    assert customer_mrr_sync(customer=customer, at=on(2)) is None


def test_a_later_rate_does_not_rewrite_the_ledger():
    eur("1.08", date(2026, 1, 1))
    customer = make_customer()
    subscription_create(customer=customer, by=None, mrr=D("100"), currency="EUR", at=on(1))
    eur("1.20", date(2026, 1, 1))  # corrected afterwards
    customer.refresh_from_db()
    assert customer.mrr == D("108.00")
    assert MrrMovement.objects.get(customer=customer).amount == D("108.00")


# --- setting and deleting rates ------------------------------------------------------------------


def test_setting_a_rate_records_who_and_an_audit_row_and_the_same_day_replaces_it(owner):
    rate = exchange_rate_set(currency="eur", rate="1.08", valid_from=date(2026, 1, 1), by=owner)
    assert (rate.currency, rate.rate, rate.created_by) == ("EUR", D("1.08"), owner)
    again = exchange_rate_set(currency="EUR", rate="1.09", valid_from=date(2026, 1, 1), by=owner)
    assert again.pk == rate.pk and ExchangeRate.objects.count() == 1
    assert ExchangeRate.objects.get().rate == D("1.09")
    actions = list(
        AuditEntry.objects.filter(object_type="billing.exchangerate")
        .order_by("pk")
        .values_list("action", "changes")
    )
    assert actions == [
        ("exchange_rate.set", {"currency": "EUR", "valid_from": "2026-01-01", "rate": "1.08"}),
        (
            "exchange_rate.update",
            {"currency": "EUR", "valid_from": "2026-01-01", "rate": ["1.08", "1.09"]},
        ),
    ]
    exchange_rate_delete(rate=again, by=owner)
    assert not ExchangeRate.objects.exists()
    assert AuditEntry.objects.filter(action="exchange_rate.delete").count() == 1


@pytest.mark.parametrize(
    ("currency", "rate", "valid_from", "field", "message"),
    [
        ("EUR", "0", date(2026, 1, 1), "rate", "more than zero"),
        ("EUR", "-1.08", date(2026, 1, 1), "rate", "more than zero"),
        ("EUR", "abc", date(2026, 1, 1), "rate", "not a number"),
        ("EUR", "NaN", date(2026, 1, 1), "rate", "not a number"),
        ("EURO", "1.08", date(2026, 1, 1), "currency", "three-letter"),
        ("E1R", "1.08", date(2026, 1, 1), "currency", "three-letter"),
        ("", "1.08", date(2026, 1, 1), "currency", "three-letter"),
        ("USD", "1", date(2026, 1, 1), "currency", "reporting currency"),
        ("EUR", "1.08", "2026-13-01", "valid_from", "2026-01-01"),
        ("EUR", "1.123456789", date(2026, 1, 1), "rate", "8 decimal places"),
    ],
)
def test_bad_input_is_refused_naming_the_field(currency, rate, valid_from, field, message):
    with pytest.raises(ValidationError) as caught:
        exchange_rate_set(currency=currency, rate=rate, valid_from=valid_from, by=None)
    errors = caught.value.message_dict
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not ExchangeRate.objects.exists()
    assert not AuditEntry.objects.exists()


def test_the_database_refuses_a_rate_of_zero_and_two_rates_for_one_day():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        ExchangeRate.objects.create(currency="EUR", rate=D("0"), valid_from=date(2026, 1, 1))
    ExchangeRate.objects.create(currency="EUR", rate=D("1.08"), valid_from=date(2026, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        ExchangeRate.objects.create(currency="EUR", rate=D("1.09"), valid_from=date(2026, 1, 1))


def test_in_force_finds_the_rate_of_a_day():
    eur("1.08", date(2026, 1, 1))
    eur("1.10", date(2026, 3, 1))
    assert ExchangeRate.objects.in_force(currency="eur", on=date(2026, 2, 28)).rate == D("1.08")
    assert ExchangeRate.objects.in_force(currency="EUR", on=date(2025, 12, 31)) is None
