"""The purchase summary from orders, checked by hand.

as_of 31 Mar 2026, so orders count in [first order's day, 1 Apr 2026 00:00 UTC); periods of 7
days. "d days ago" is as_of − d at 10:00 UTC.

=== ================================================================= === ====== ====== ====
who orders                                                              x  tₓ     T      m̄
=== ================================================================= === ====== ====== ====
A   100 and 50 on day 70 ago (one purchase day); 80 at 56 ago; 120 at     2  4      10.14  90
    42 ago with 20 refunded (net 100); 999 refunded at 35 ago; 500
    pending at 28 ago; 60 tomorrow (after the range)
B   one EUR 40 order 14 ago (rate 1.25 → 50 USD)                        0  0      2.14   0
C   USD 30 at 21 ago, GBP 10 at 7 ago (no GBP rate: a purchase day,     1  2      3.14   0
    not valued)
=== ================================================================= === ====== ====== ====

A: days 70, 56, 42 ago → x = 2, tₓ = (70 − 42) ÷ 7 = 4, T = (70 + 1) ÷ 7 (the range ends at
the end of as_of). m̄ = (80 + 100) ÷ 2 = 90 (the first purchase day is left out).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
import pytest

from tend.billing.actions import exchange_rate_set, order_create, order_refund
from tend.billing.models import OrderStatus
from tend.factories import make_customer
from tend.predict.clv_fit import end_of, purchase_days, summarise

AS_OF = date(2026, 3, 31)

pytestmark = pytest.mark.django_db


def ago(days: int) -> datetime:
    return datetime.combine(AS_OF - timedelta(days=days), time(10), tzinfo=UTC)


def test_the_summary_counts_paid_purchase_days_net_of_refunds_in_the_reporting_currency(
    settings,
):
    settings.TEND_CURRENCY = "USD"
    a, b, c = make_customer(name="A"), make_customer(name="B"), make_customer(name="C")
    order_create(customer=a, by=None, amount=Decimal("100"), at=ago(70))
    order_create(customer=a, by=None, amount=Decimal("50"), at=ago(70) + timedelta(hours=3))
    order_create(customer=a, by=None, amount=Decimal("80"), at=ago(56))
    partly = order_create(customer=a, by=None, amount=Decimal("120"), at=ago(42))
    order_refund(order=partly, by=None, amount=Decimal("20"))
    gone = order_create(customer=a, by=None, amount=Decimal("999"), at=ago(35))
    order_refund(order=gone, by=None)
    order_create(customer=a, by=None, amount=Decimal("500"), at=ago(28), status=OrderStatus.PENDING)
    order_create(customer=a, by=None, amount=Decimal("60"), at=ago(-1))
    exchange_rate_set(currency="EUR", rate="1.25", valid_from=date(2026, 1, 1), by=None)
    order_create(customer=b, by=None, amount=Decimal("40"), at=ago(14), currency="EUR")
    order_create(customer=c, by=None, amount=Decimal("30"), at=ago(21))
    order_create(customer=c, by=None, amount=Decimal("10"), at=ago(7), currency="GBP")

    end = end_of(AS_OF)
    days = purchase_days(end=end)
    assert days.orders == 7  # A 4 paid (two on one day), B 1, C 2
    assert days.unconverted == 1
    summary = summarise(days, end_day=end.date().toordinal(), period_days=7)
    rows = {
        int(cid): (x, tx, big_t, m)
        for cid, x, tx, big_t, m in zip(
            summary.customer, summary.x, summary.tx, summary.T, summary.monetary, strict=True
        )
    }
    assert rows[a.pk][:3] == (2, 4, pytest.approx(71 / 7))
    assert rows[a.pk][3] == pytest.approx(90)
    assert rows[b.pk] == (0, 0, pytest.approx(15 / 7), 0)
    assert rows[c.pk][:3] == (1, 2, pytest.approx(22 / 7))
    assert rows[c.pk][3] == 0  # its one repeat purchase has no rate
    # B's EUR order is valued at the rate of its day: the first purchase is its only one.
    b_row = np.flatnonzero(days.customer == b.pk)
    assert days.value[b_row].tolist() == [50.0]
    assert summary.repeaters == 2


def test_orders_on_the_last_day_count_and_later_ones_do_not():
    customer = make_customer()
    order_create(customer=customer, by=None, amount=Decimal("10"), at=ago(7))
    order_create(
        customer=customer,
        by=None,
        amount=Decimal("10"),
        at=datetime.combine(AS_OF, time(23, 59), tzinfo=UTC),
    )
    order_create(
        customer=customer,
        by=None,
        amount=Decimal("10"),
        at=datetime.combine(AS_OF + timedelta(days=1), time(0), tzinfo=UTC),
    )
    end = end_of(AS_OF)
    summary = summarise(purchase_days(end=end), end_day=end.date().toordinal(), period_days=7)
    assert summary.x.tolist() == [1]
    assert summary.tx.tolist() == [1]
    assert summary.T.tolist() == [pytest.approx(8 / 7)]
