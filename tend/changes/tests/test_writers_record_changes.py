"""Every action that changes a customer writes its outbox row in the same transaction, once:
a retry (the same call again) adds nothing, and the bulk paths write with as many statements
for 3 customers as for 30."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tend.accounts.models import User
from tend.billing.actions import (
    order_create,
    order_refund,
    subscription_cancel,
    subscription_update,
)
from tend.billing.bulk import customers_mrr_sync_bulk
from tend.billing.models import MrrMovement, Subscription
from tend.changes.actions import changes_record_activity, changes_record_bulk
from tend.changes.models import CustomerChange
from tend.customers.actions import (
    customer_add_note,
    customer_change_stage,
    customer_set_tags,
    customer_update,
    customers_bulk_change_stage,
    customers_bulk_set_owner,
    customers_bulk_tag,
    customers_create_bulk,
    customers_update_bulk,
)
from tend.customers.models import Customer, StageChange
from tend.factories import make_customer, make_plan, make_subscription

pytestmark = pytest.mark.django_db


def rows(kind: str, customer: Customer | None = None) -> list[CustomerChange]:
    qs = CustomerChange.objects.filter(kind=kind).order_by("id")
    if customer is not None:
        qs = qs.filter(customer=customer)
    return list(qs)


# --- customers ------------------------------------------------------------------------------


def test_creating_a_customer_records_created_once(owner: User) -> None:
    customer = make_customer("Acme")
    [row] = rows("created", customer)
    assert row.key == f"created:{customer.pk}"
    assert row.data == {"stage": customer.stage, "by": None}
    assert row.at == customer.signed_up_at


def test_an_update_records_the_changed_field_names_and_a_repeat_records_nothing(
    owner: User,
) -> None:
    customer = make_customer("Acme", industry="retail")
    customer_update(customer=customer, by=owner, name="Acme Ltd", industry="retail")
    [row] = rows("fields", customer)
    assert row.data == {"fields": ["name"], "by": owner.pk}
    customer_update(customer=customer, by=owner, name="Acme Ltd")  # a retry: no change
    assert len(rows("fields", customer)) == 1


def test_a_new_owner_records_owner_as_well_as_fields(owner: User, member: User) -> None:
    customer = make_customer()
    customer_update(customer=customer, by=owner, owner=member)
    [row] = rows("owner", customer)
    assert (row.data["from"], row.data["to"], row.data["by"]) == (None, member.pk, owner.pk)
    assert rows("fields", customer)[0].data["fields"] == ["owner"]


def test_a_manual_stage_change_records_from_to_manual_and_its_stage_change_id(
    owner: User,
) -> None:
    customer = make_customer(stage="trial")
    customer_change_stage(customer=customer, stage="onboarding", by=owner, reason="signed")
    move = StageChange.objects.filter(customer=customer).latest("pk")
    [row] = rows("stage", customer)
    assert row.key == f"stage:{move.pk}"
    assert row.data == {
        "from": "trial",
        "to": "onboarding",
        "manual": True,
        "by": owner.pk,
        "reason": {},
    }
    customer_change_stage(customer=customer, stage="onboarding", by=owner)  # already there
    assert len(rows("stage", customer)) == 1


def test_a_rule_stage_change_is_not_manual_and_carries_its_reason() -> None:
    customer = make_customer(stage="onboarding")
    customer_change_stage(
        customer=customer, stage="at_risk", by=None, reason_data={"msg": "rule", "rule": 3}
    )
    [row] = rows("stage", customer)
    assert row.data["manual"] is False and row.data["by"] is None
    assert row.data["reason"] == {"msg": "rule", "rule": 3}


def test_tags_and_notes_record_their_rows(owner: User) -> None:
    customer = make_customer()
    customer_set_tags(customer=customer, tags=["vip", "eu"], by=owner)
    customer_set_tags(customer=customer, tags=["eu", "vip"], by=owner)  # the same set again
    [row] = rows("tags", customer)
    assert row.data == {"added": ["eu", "vip"], "removed": [], "tags": ["eu", "vip"]}
    entry = customer_add_note(customer=customer, by=owner, body="Called them", kind="call")
    [note] = rows("note", customer)
    assert note.key == f"note:{entry.pk}"
    assert note.data == {"kind": "call", "entry": entry.pk, "by": owner.pk}


def test_a_failed_action_leaves_no_outbox_row(owner: User) -> None:
    customer = make_customer(stage="trial")
    with pytest.raises(RuntimeError), transaction.atomic():
        customer_change_stage(customer=customer, stage="onboarding", by=owner)
        raise RuntimeError("the caller's transaction fails after the change")
    assert rows("stage", customer) == []


def _new(n: int, start: int) -> list[Customer]:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        Customer(name=f"C{i}", external_id=f"bulk{i}", stage="trial", signed_up_at=at)
        for i in range(start, start + n)
    ]


@contextmanager
def counted(counts: dict[str, list[int]], name: str) -> Iterator[None]:
    with CaptureQueriesContext(connection) as queries:
        yield
    counts.setdefault(name, []).append(len(queries))


def test_the_bulk_customer_paths_write_their_rows_with_a_fixed_number_of_statements(
    owner: User, member: User
) -> None:
    counts: dict[str, list[int]] = {}
    for size, start in ((3, 0), (30, 100)):
        with counted(counts, "create"):
            made = customers_create_bulk(customers=_new(size, start), by=owner)
        at = timezone.now()
        with counted(counts, "update"):
            customers_update_bulk(
                updates=[(c, {"industry": f"x{c.pk}"}) for c in made], by=owner, at=at
            )
        ids = [c.pk for c in made]
        with counted(counts, "stage"):
            customers_bulk_change_stage(customers=ids, stage="onboarding", by=owner)
        with counted(counts, "tags"):
            customers_bulk_tag(customers=ids, by=owner, add=["vip"])
        with counted(counts, "owner"):
            customers_bulk_set_owner(customers=ids, owner=member, by=owner)
        for kind in ("created", "fields", "stage", "tags", "owner"):
            assert CustomerChange.objects.filter(kind=kind, customer_id__in=ids).count() == size
    for name, (small, large) in counts.items():
        assert small == large, name
    row = CustomerChange.objects.filter(kind="stage").latest("id")
    assert row.data == {
        "from": "trial",
        "to": "onboarding",
        "manual": True,
        "by": owner.pk,
        "reason": {},
    }
    assert CustomerChange.objects.filter(kind="owner").latest("id").data["to"] == member.pk
    assert CustomerChange.objects.filter(kind="tags").latest("id").data == {
        "added": ["vip"],
        "removed": [],
    }


def test_a_bulk_update_that_moves_the_owner_records_owner_too(owner: User, member: User) -> None:
    made = customers_create_bulk(customers=_new(2, 300), by=owner)
    customers_update_bulk(updates=[(made[0], {"owner": member})], by=owner)
    [row] = CustomerChange.objects.filter(kind="owner")
    assert (row.customer_id, row.data) == (
        made[0].pk,
        {"from": None, "to": member.pk, "by": owner.pk},
    )


def test_bulk_retries_record_nothing_twice(owner: User) -> None:
    made = customers_create_bulk(customers=_new(4, 200), by=owner)
    at = timezone.now()
    updates = [(c, {"industry": "retail"}) for c in made]
    customers_update_bulk(updates=updates, by=owner, at=at)
    customers_update_bulk(updates=updates, by=owner, at=at)
    customers_bulk_change_stage(customers=made, stage="onboarding", by=owner, at=at)
    customers_bulk_change_stage(customers=made, stage="onboarding", by=owner, at=at)
    assert CustomerChange.objects.filter(kind="fields").count() == 4
    assert CustomerChange.objects.filter(kind="stage").count() == 4
    # The same changes written again (a retried transaction) are stored once.
    before = CustomerChange.objects.count()
    from tend.customers.actions import stage_change_key

    key = stage_change_key(made[0].pk, "trial", "onboarding", at)
    stored = CustomerChange.objects.get(key=key)
    again = changes_record_bulk([(made[0].pk, "stage", key, stored.data, at)])
    assert again == 0 and CustomerChange.objects.count() == before


# --- billing --------------------------------------------------------------------------------


def test_a_subscription_records_subscription_and_mrr_rows_and_cancel_once() -> None:
    customer = make_customer()
    at = datetime(2026, 3, 1, tzinfo=UTC)
    sub = make_subscription(customer, make_plan("pro", price="49"), at=at)
    [created] = rows("subscription", customer)
    assert created.key == f"subscription:{sub.pk}:created"
    assert created.data["action"] == "created" and created.data["mrr"] == "49.00"
    [mrr] = rows("mrr", customer)
    movement = MrrMovement.objects.get(customer=customer)
    assert mrr.key == f"mrr:{movement.pk}"
    assert (mrr.data["kind"], mrr.data["after"]) == ("new", "49.00")

    subscription_update(subscription=sub, by=None, at=at + timedelta(days=3), mrr=Decimal("98"))
    subscription_update(subscription=sub, by=None, at=at + timedelta(days=3), mrr=Decimal("98"))
    assert [r.data["action"] for r in rows("subscription", customer)] == ["created", "updated"]
    subscription_cancel(subscription=sub, by=None, at=at + timedelta(days=9))
    subscription_cancel(
        subscription=Subscription.objects.get(pk=sub.pk), by=None, at=at + timedelta(days=9)
    )
    assert rows("subscription", customer)[-1].data["action"] == "canceled"
    assert len(rows("subscription", customer)) == 3
    assert [r.data["kind"] for r in rows("mrr", customer)] == ["new", "expansion", "churn"]
    # Churned at zero MRR by the rule: the stage row says so, not manual.
    assert rows("stage", customer)[-1].data["manual"] is False


def test_orders_and_refunds_record_order_rows_once() -> None:
    customer = make_customer()
    order = order_create(customer=customer, by=None, amount=Decimal("30"))
    order_refund(order=order, by=None, amount=Decimal("10"))
    order_refund(order=order, by=None, amount=Decimal("20"))
    with pytest.raises(ValueError):
        order_refund(order=order, by=None, amount=Decimal("1"))  # nothing left: no row
    assert [r.key for r in rows("order", customer)] == [
        f"order:{order.pk}",
        f"order:{order.pk}:refunded:10.00",
        f"order:{order.pk}:refunded:30.00",
    ]


def test_the_bulk_ledger_records_one_mrr_row_per_movement_with_fixed_statements() -> None:
    plan = make_plan("pro", price="10")
    counts: dict[str, list[int]] = {}
    for size in (2, 12):
        customers = [make_customer() for _ in range(size)]
        Subscription.objects.bulk_create(
            [
                Subscription(customer=c, plan=plan, mrr=Decimal("10"), started_at=timezone.now())
                for c in customers
            ]
        )
        ids = [c.pk for c in customers]
        with counted(counts, "sync"):
            customers_mrr_sync_bulk(customer_ids=ids, now=timezone.now())
        movements = MrrMovement.objects.filter(customer_id__in=ids)
        assert movements.count() == size
        keys = set(CustomerChange.objects.filter(kind="mrr").values_list("key", flat=True))
        assert {f"mrr:{m.pk}" for m in movements} <= keys
        customers_mrr_sync_bulk(customer_ids=ids, now=timezone.now())  # nothing moved: no row
        assert CustomerChange.objects.filter(kind="mrr", customer_id__in=ids).count() == size
    assert counts["sync"][0] == counts["sync"][1]


# --- activity -------------------------------------------------------------------------------


def test_activity_is_one_row_per_customer_per_day_whatever_the_batches() -> None:
    a, b = make_customer(), make_customer()
    first = datetime(2026, 5, 1, 9, tzinfo=UTC)
    changes_record_activity({(a.pk, first.date()): first, (b.pk, "2026-05-01"): None})
    changes_record_activity(
        {(a.pk, first.date()): first + timedelta(hours=3), (a.pk, "2026-05-02"): None}
    )
    got = sorted(CustomerChange.objects.filter(kind="activity").values_list("key", "at", "data"))
    assert got == [
        (f"activity:{a.pk}:2026-05-01", first, {"day": "2026-05-01"}),
        (f"activity:{a.pk}:2026-05-02", datetime(2026, 5, 2, tzinfo=UTC), {"day": "2026-05-02"}),
        (f"activity:{b.pk}:2026-05-01", datetime(2026, 5, 1, tzinfo=UTC), {"day": "2026-05-01"}),
    ]


def test_activity_is_one_statement_per_batch() -> None:
    customers = [make_customer() for _ in range(40)]
    day = datetime(2026, 5, 1, tzinfo=UTC).date()
    counts = []
    for group in (customers[:2], customers[2:]):
        with CaptureQueriesContext(connection) as queries:
            changes_record_activity({(c.pk, day): None for c in group})
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 1  # PostgreSQL's bound statement is not captured
    assert CustomerChange.objects.filter(kind="activity").count() == 40
