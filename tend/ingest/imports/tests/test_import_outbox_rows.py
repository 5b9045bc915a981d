"""Imports write the customer-change outbox through the bulk actions: one row per change, and
importing the same file again adds none."""

from __future__ import annotations

import pytest

from tend.billing.models import MrrMovement, Order, Subscription
from tend.changes.models import CustomerChange
from tend.customers.models import Customer
from tend.factories import make_customer
from tend.ingest.imports.actions import import_file

pytestmark = pytest.mark.django_db


def _count(kind: str) -> int:
    return CustomerChange.objects.filter(kind=kind).count()


def test_a_customer_import_records_created_then_fields_and_stage(write_csv, owner):
    path = write_csv(
        "crm.csv",
        ["External ID", "Name", "Industry"],
        [["c1", "Acme", "retail"], ["c2", "Beta", "media"]],
    )
    import_file(kind="customers", path=path, by=owner)
    assert _count("created") == 2
    import_file(kind="customers", path=path, by=owner)  # the same file: nothing changed
    assert _count("created") == 2 and _count("fields") == 0
    path = write_csv("crm2.csv", ["External ID", "Name", "Industry"], [["c1", "Acme", "finance"]])
    import_file(kind="customers", path=path, by=owner)
    [row] = CustomerChange.objects.filter(kind="fields")
    assert row.customer == Customer.objects.get(external_id="c1")
    assert row.data["fields"] == ["industry"]


def test_subscription_and_order_imports_record_their_rows_once(write_csv):
    make_customer("Acme", external_id="c1")
    subs = write_csv(
        "subs.csv",
        ["ID", "Customer", "MRR", "Status", "Start"],
        [["s1", "c1", "50", "active", "2024-01-01"]],
    )
    import_file(kind="subscriptions", path=subs)
    import_file(kind="subscriptions", path=subs)
    sub = Subscription.objects.get()
    [row] = CustomerChange.objects.filter(kind="subscription")
    assert row.key == f"subscription:{sub.pk}:created"
    [mrr] = CustomerChange.objects.filter(kind="mrr")
    assert mrr.key == f"mrr:{MrrMovement.objects.get().pk}"

    orders = write_csv(
        "orders.csv",
        ["Order", "Customer", "Amount", "Date", "Status"],
        [["o1", "c1", "20", "2024-02-01", "paid"], ["o2", "c1", "30", "2024-02-03", "paid"]],
    )
    import_file(kind="orders", path=orders)
    import_file(kind="orders", path=orders)
    keys = set(CustomerChange.objects.filter(kind="order").values_list("key", flat=True))
    assert keys == {f"order:{o.pk}" for o in Order.objects.all()}


def test_an_event_import_records_one_activity_row_per_customer_and_day(write_csv):
    acme = make_customer("Acme", external_id="c1")
    beta = make_customer("Beta", external_id="c2")
    path = write_csv(
        "events.csv",
        ["Customer ID", "Event", "Timestamp", "Message ID"],
        [
            ["c1", "login", "2024-03-01T10:00:00Z", "m1"],
            ["c1", "report", "2024-03-01T11:00:00Z", "m2"],
            ["c1", "login", "2024-03-02T09:00:00Z", "m3"],
            ["c2", "login", "2024-03-02T09:00:00Z", "m4"],
        ],
    )
    import_file(kind="events", path=path)
    import_file(kind="events", path=path)
    keys = sorted(CustomerChange.objects.filter(kind="activity").values_list("key", flat=True))
    assert keys == [
        f"activity:{acme.pk}:2024-03-01",
        f"activity:{acme.pk}:2024-03-02",
        f"activity:{beta.pk}:2024-03-02",
    ]
