"""Refunds: partial ones add up, a full one marks the order refunded; each is audited."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tend.accounts.models import AuditEntry
from tend.billing.actions import order_create, order_refund
from tend.billing.models import Order
from tend.customers.models import TimelineEntry
from tend.factories import make_customer

pytestmark = pytest.mark.django_db

D = Decimal
AT = datetime(2025, 3, 1, tzinfo=UTC)


def _order(amount: str = "100", **fields: object) -> Order:
    return order_create(customer=make_customer(), by=None, amount=D(amount), **fields)


def test_a_full_refund_marks_the_order_refunded_with_a_timeline_entry_and_audit(owner):
    order = _order(external_id="o1")
    order_refund(order=order, by=owner, at=AT)
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("refunded", D("100.00"))
    entry = TimelineEntry.objects.get(data__msg="order_refunded")
    assert (entry.title, entry.at, entry.author) == ("Refund: 100.00 USD", AT, owner)
    assert entry.data["full"] is True and entry.data["order"] == order.pk
    audit = AuditEntry.objects.get(action="order.refund")
    assert audit.actor == owner
    assert audit.changes == {
        "refunded_amount": ["0.00", "100.00"],
        "status": ["paid", "refunded"],
    }


def test_partial_refunds_add_up_and_the_last_one_completes_the_refund():
    order = _order()
    order_refund(order=order, by=None, amount=D("30"), label="stripe")
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("paid", D("30.00"))
    assert TimelineEntry.objects.get(data__msg="order_refunded").title == (
        "Partial refund: 30.00 USD"
    )
    order_refund(order=order, by=None, amount=D("70"))
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("refunded", D("100.00"))
    assert AuditEntry.objects.filter(action="order.refund").count() == 2
    assert AuditEntry.objects.filter(action="order.refund").first().actor_label == "stripe"


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "amount: a refund must be more than zero"),
        ("-5", "amount: a refund must be more than zero"),
        ("100.01", "amount: 100.01 is more than the 100.00 USD left to refund"),
    ],
)
def test_a_refund_of_nothing_or_of_too_much_is_refused_and_changes_nothing(amount, message):
    order = _order()
    with pytest.raises(ValueError, match=message):
        order_refund(order=order, by=None, amount=D(amount))
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("paid", D("0"))
    assert not AuditEntry.objects.filter(action="order.refund").exists()


def test_only_paid_orders_can_be_refunded():
    pending = _order(status="pending")
    with pytest.raises(ValueError, match="only paid orders can be refunded; this one is pending"):
        order_refund(order=pending, by=None)
    refunded = _order()
    order_refund(order=refunded, by=None)
    with pytest.raises(ValueError, match="this one is refunded"):
        order_refund(order=refunded, by=None, amount=D("1"))
