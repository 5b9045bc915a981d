"""The customers app's bulk actions write what the single actions write, in a fixed number of
statements: a stage change, a timeline entry and an audit row for every customer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.accounts.models import AuditEntry, User
from tend.customers.actions import (
    customer_change_stage,
    customers_change_stage_bulk,
    customers_create_bulk,
    customers_update_bulk,
)
from tend.customers.models import Customer, Stage, StageChange, TimelineEntry
from tend.factories import make_customer

pytestmark = pytest.mark.django_db
SIGNED_UP = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def _new(n: int, prefix: str = "c") -> list[Customer]:
    return [
        Customer(name=f"{prefix} {i}", external_id=f"{prefix}{i}", signed_up_at=SIGNED_UP)
        for i in range(n)
    ]


def _statements(n: int, prefix: str, by: User) -> int:
    with CaptureQueriesContext(connection) as ctx:
        customers_create_bulk(customers=_new(n, prefix), by=by, label="import")
    return len(ctx.captured_queries)


def test_creating_many_customers_costs_the_same_statements_as_creating_a_few(owner: User) -> None:
    # 30 customers fit one INSERT even on SQLite, where Django splits an insert at 999
    # parameters (about 38 customers); the stage changes, entries and audit rows never split.
    few = _statements(2, "a", owner)
    many = _statements(30, "b", owner)
    assert many == few
    assert Customer.objects.count() == 32


def test_each_created_customer_gets_a_stage_change_a_timeline_entry_and_an_audit_row(
    owner: User,
) -> None:
    created = customers_create_bulk(customers=_new(3), by=owner, label="import")
    for customer in created:
        [change] = StageChange.objects.filter(customer=customer)
        assert (change.from_stage, change.to_stage, change.at, change.by) == (
            "",
            Stage.PROSPECT,
            SIGNED_UP,
            owner,
        )
        [entry] = TimelineEntry.objects.filter(customer=customer)
        assert (entry.kind, entry.data, entry.at, entry.author) == (
            "system",
            {"msg": "customer_created"},
            SIGNED_UP,
            owner,
        )
        [audit] = AuditEntry.objects.filter(
            object_type="customers.customer", object_id=str(customer.pk)
        )
        assert (audit.action, audit.actor, audit.actor_label, audit.changes) == (
            "customer.create",
            owner,
            "import",
            {"name": customer.name},
        )


def test_an_empty_list_writes_nothing(owner: User) -> None:
    assert customers_create_bulk(customers=[], by=owner) == []
    assert not AuditEntry.objects.filter(object_type="customers.customer").exists()


def test_bulk_updates_audit_only_what_changed(owner: User) -> None:
    acme = make_customer(name="Acme", external_id="a1", phone="1")
    beta = make_customer(name="Beta", external_id="b1")
    AuditEntry.objects.all().delete()
    changed = customers_update_bulk(
        updates=[(acme, {"name": "Acme AG", "phone": "1"}), (beta, {"name": "Beta"})],
        by=None,
        label="import",
    )
    assert changed == [acme]
    acme.refresh_from_db()
    assert acme.name == "Acme AG"
    [audit] = AuditEntry.objects.all()
    assert (audit.object_id, audit.actor_label, audit.changes) == (
        str(acme.pk),
        "import",
        {"name": ["Acme", "Acme AG"]},
    )


def test_bulk_updates_refuse_fields_that_have_their_own_action() -> None:
    acme = make_customer(name="Acme")
    with pytest.raises(ValueError, match="not editable: mrr"):
        customers_update_bulk(updates=[(acme, {"mrr": 5})], by=None)


def test_a_bulk_stage_move_writes_what_one_move_writes(owner: User) -> None:
    at = datetime(2026, 1, 5, tzinfo=UTC)
    one, many = make_customer(name="One"), make_customer(name="Many")
    customer_change_stage(
        customer=one, stage=Stage.CHURNED, by=None, at=at, reason_data={"msg": "mrr_zero"}
    )
    customers_change_stage_bulk(
        moves=[(many, at)], stage=Stage.CHURNED, by=None, reason_data={"msg": "mrr_zero"}
    )

    def written(customer: Customer) -> tuple[object, ...]:
        customer.refresh_from_db()
        change = StageChange.objects.filter(customer=customer).latest("pk")
        entry = TimelineEntry.objects.filter(customer=customer, kind="stage").get()
        audit = AuditEntry.objects.filter(object_id=str(customer.pk), action="customer.stage")
        return (
            customer.stage,
            customer.churned_at,
            customer.stage_changed_at,
            (change.from_stage, change.to_stage, change.at, change.reason, change.reason_data),
            (entry.at, entry.body, entry.data),
            [a.changes for a in audit],
        )

    assert written(one) == written(many)
    assert written(many)[0] == Stage.CHURNED


def test_customers_already_in_the_stage_are_left_alone() -> None:
    gone = make_customer(name="Gone", stage=Stage.CHURNED)
    moved = customers_change_stage_bulk(
        moves=[(gone, datetime(2026, 1, 5, tzinfo=UTC))], stage=Stage.CHURNED, by=None
    )
    assert moved == [] and not TimelineEntry.objects.filter(customer=gone, kind="stage").exists()
