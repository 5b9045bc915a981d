"""Subscriptions and orders go through the billing rules: MRR normalised, ledger consistent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db.models import Sum

from tend.billing.models import MrrMovement, Order, Subscription
from tend.customers.models import Customer, Stage, TimelineEntry
from tend.factories import make_customer, make_plan, make_subscription
from tend.ingest.imports.actions import import_file

pytestmark = pytest.mark.django_db


def ledger_matches(customer: Customer) -> bool:
    total = MrrMovement.objects.filter(customer=customer).aggregate(s=Sum("amount"))["s"]
    return (total or Decimal(0)) == customer.mrr


def test_subscriptions_are_normalised_to_monthly_and_history_is_replayed(write_csv):
    make_plan("scale", price="1200", interval="year", name="Scale")
    acme = make_customer("Acme", external_id="c1")
    path = write_csv(
        "subs.csv",
        ["Subscription ID", "Customer ID", "Plan", "Status", "Quantity", "Start date", "Canceled"],
        [
            ["s1", "c1", "scale", "active", "2", "2024-01-01", ""],
            ["s2", "c1", "", "canceled", "", "2024-02-01", "2024-04-01"],
        ],
    )
    # s2 has no plan and no price: it is refused, naming the price/MRR column.
    result = import_file(kind="subscriptions", path=path)
    assert result.created == 1
    assert result.problems == ["Row 3, column “Plan”: a value is required but the cell is empty"]
    acme.refresh_from_db()
    assert acme.mrr == Decimal("200.00")
    movement = MrrMovement.objects.get(customer=acme)
    assert (movement.kind, movement.at) == ("new", datetime(2024, 1, 1, tzinfo=UTC))
    assert ledger_matches(acme)
    assert TimelineEntry.objects.filter(customer=acme, kind="import").count() == 1


def test_a_backfill_with_churn_and_comeback_keeps_the_ledger_summing_to_mrr(write_csv):
    bob = make_customer("Bob", external_id="c2")
    path = write_csv(
        "subs.csv",
        ["ID", "Customer", "MRR", "Status", "Start", "Canceled at"],
        [
            ["a", "c2", "50", "canceled", "2024-01-01", "2024-03-01"],
            ["b", "c2", "80", "active", "2024-05-01", ""],
            ["c", "c2", "1,000.00", "trialing", "2024-06-01", ""],
        ],
    )
    import_file(kind="subscriptions", path=path)
    bob.refresh_from_db()
    kinds = list(
        MrrMovement.objects.filter(customer=bob).order_by("at").values_list("kind", flat=True)
    )
    assert kinds == ["new", "churn", "reactivation"]
    assert bob.mrr == Decimal("80.00")
    assert ledger_matches(bob)


def test_reimporting_a_changed_subscription_records_one_movement_now(write_csv):
    plan = make_plan("pro", price="49")
    carol = make_customer("Carol", external_id="c3")
    make_subscription(carol, plan, external_id="s9")
    path = write_csv("subs.csv", ["ID", "Customer", "Status"], [["s9", "c3", "canceled"]])
    result = import_file(kind="subscriptions", path=path)
    assert result.updated == 1
    carol.refresh_from_db()
    assert carol.mrr == 0 and carol.stage == Stage.CHURNED
    assert ledger_matches(carol)
    assert Subscription.objects.get(external_id="s9").status == "canceled"


def test_unknown_customers_and_negative_prices_are_refused(write_csv):
    make_plan("pro", price="49")
    make_customer("Dan", external_id="c4")
    path = write_csv(
        "subs.csv",
        ["ID", "Customer", "Plan", "Price"],
        [["s1", "nobody", "pro", ""], ["s2", "c4", "pro", "-10"], ["s3", "c4", "pro", ""]],
    )
    result = import_file(kind="subscriptions", path=path)
    assert result.problems == [
        "Row 2, column “Customer”: no customer has the external id “nobody”",
        "Row 3, column “Price”: -10 is negative; amounts must be zero or more",
    ]
    assert Customer.objects.get(external_id="c4").mrr == Decimal("49.00")


def test_orders_are_upserted_by_id_and_set_the_first_paid_date(write_csv):
    erin = make_customer("Erin", external_id="c5")
    path = write_csv(
        "orders.csv",
        ["订单号", "客户ID", "金额", "日期", "状态"],
        [
            ["o1", "c5", "¥1,234.50", "2024年3月1日", "已支付"],
            ["o2", "c5", "20", "2024-02-01", "pending"],
            ["o3", "c5", "abc", "2024-02-01", ""],
        ],
    )
    result = import_file(kind="orders", path=path)
    assert (result.created, result.rejected) == (2, 1)
    assert result.problems == ["Row 4, column “金额”: “abc” is not a number"]
    assert Order.objects.get(external_id="o1").amount == Decimal("1234.50")
    erin.refresh_from_db()
    assert erin.first_paid_at == datetime(2024, 3, 1, tzinfo=UTC)
    again = import_file(kind="orders", path=path)
    assert (again.created, again.unchanged) == (0, 2)
    assert Order.objects.count() == 2


def test_contacts_attach_to_their_customer_and_the_first_becomes_primary(write_csv):
    frank = make_customer("Frank Ltd", external_id="c6")
    path = write_csv(
        "contacts.csv",
        ["Customer ID", "Name", "Email", "Title"],
        [["c6", "Ann", "ANN@frank.test", "CEO"], ["c6", "Ben", "ben@frank.test", ""]],
    )
    result = import_file(kind="contacts", path=path)
    assert result.created == 2
    contacts = list(frank.contacts.order_by("name").values_list("name", "email", "is_primary"))
    assert contacts == [("Ann", "ann@frank.test", True), ("Ben", "ben@frank.test", False)]


def test_stripe_statuses_are_kept_one_for_one_and_only_paying_ones_count(write_csv):
    make_customer("Gina", external_id="c7")
    path = write_csv(
        "subs.csv",
        ["ID", "Customer", "MRR", "Status"],
        [
            ["u", "c7", "10", "unpaid"],
            ["p", "c7", "20", "暂停"],
            ["i", "c7", "30", "incomplete"],
            ["x", "c7", "40", "incomplete_expired"],
            ["d", "c7", "50", "past due"],
        ],
    )
    result = import_file(kind="subscriptions", path=path)
    assert result.rejected == 0
    statuses = dict(Subscription.objects.values_list("external_id", "status"))
    assert statuses == {
        "u": "unpaid",
        "p": "paused",
        "i": "incomplete",
        "x": "canceled",
        "d": "past_due",
    }
    assert Customer.objects.get(external_id="c7").mrr == Decimal("50.00")
