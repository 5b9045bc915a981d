"""``update_rows`` stores what ``bulk_update`` stores: each row its own values, None included."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tend.customers.models import Customer
from tend.factories import make_customer, make_plan
from tend.lib.updates import update_rows

pytestmark = pytest.mark.django_db


def test_each_row_gets_its_own_values_and_other_rows_and_columns_stay():
    plan = make_plan()
    a, b, untouched = make_customer(), make_customer(), make_customer()
    when = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    a.mrr, a.first_paid_at, a.plan = Decimal("1234.50"), when, plan
    b.mrr, b.first_paid_at, b.plan = Decimal("0.01"), None, None
    a.name = "not written"  # a field not named is left as stored
    assert update_rows(Customer, ["mrr", "first_paid_at", "plan"], [a, b]) == 2
    rows = {c.pk: c for c in Customer.objects.filter(pk__in=[a.pk, b.pk, untouched.pk])}
    assert (rows[a.pk].mrr, rows[a.pk].first_paid_at, rows[a.pk].plan_id) == (
        Decimal("1234.50"),
        when,
        plan.pk,
    )
    assert rows[a.pk].name != "not written"
    assert (rows[b.pk].mrr, rows[b.pk].first_paid_at, rows[b.pk].plan_id) == (
        Decimal("0.01"),
        None,
        None,
    )
    assert rows[untouched.pk].mrr == untouched.mrr
    assert update_rows(Customer, ["mrr"], []) == 0


def test_the_primary_key_cannot_be_updated():
    with pytest.raises(ValueError, match="cannot be updated"):
        update_rows(Customer, ["id"], [make_customer()])
