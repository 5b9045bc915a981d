"""The customer-change outbox: a change recorded twice is stored once, and each consumer acts
on each change once, whatever fails in between."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from django.utils import timezone

from tend.changes.actions import (
    GAP_WAIT,
    change_record,
    changes_consume,
    changes_record_bulk,
    consumer_position,
)
from tend.changes.models import ChangeCursor, CustomerChange
from tend.factories import make_customer

pytestmark = pytest.mark.django_db


def _collect(into: list[str]):  # type: ignore[no-untyped-def]
    def handle(rows: Sequence[CustomerChange]) -> None:
        into.extend(row.key for row in rows)

    return handle


def test_a_change_recorded_twice_is_stored_once() -> None:
    customer = make_customer()
    before = CustomerChange.objects.count()
    assert change_record(customer_id=customer.pk, kind="note", key="note:1") is True
    assert change_record(customer_id=customer.pk, kind="note", key="note:1") is False
    written = changes_record_bulk(
        [
            (customer.pk, "note", "note:1", {}, None),
            (customer.pk, "tags", "tags:1", {"added": ["vip"]}, None),
        ]
    )
    assert written == 1
    assert CustomerChange.objects.count() == before + 2
    assert CustomerChange.objects.get(key="tags:1").data == {"added": ["vip"]}


def test_an_unknown_kind_is_refused_and_nothing_is_written() -> None:
    customer = make_customer()
    before = CustomerChange.objects.count()
    with pytest.raises(ValueError, match="unknown change kind"):
        changes_record_bulk(
            [(customer.pk, "note", "a", {}, None), (customer.pk, "nonsense", "b", {}, None)]
        )
    assert CustomerChange.objects.count() == before


def test_each_consumer_reads_each_change_once_with_its_own_cursor() -> None:
    customer = make_customer()
    CustomerChange.objects.all().delete()
    changes_record_bulk([(customer.pk, "note", f"k{i}", {}, None) for i in range(5)])
    first: list[str] = []
    second: list[str] = []
    assert changes_consume("first", _collect(first), batch=2) == 5
    assert changes_consume("first", _collect(first)) == 0
    assert first == [f"k{i}" for i in range(5)]
    change_record(customer_id=customer.pk, kind="note", key="k5")
    assert changes_consume("first", _collect(first)) == 1
    assert changes_consume("second", _collect(second)) == 6
    assert first == second == [f"k{i}" for i in range(6)]
    assert consumer_position("first") == CustomerChange.objects.order_by("-id")[0].id


def test_a_failing_handler_moves_no_cursor_and_sees_the_rows_again() -> None:
    customer = make_customer()
    CustomerChange.objects.all().delete()
    changes_record_bulk([(customer.pk, "note", f"k{i}", {}, None) for i in range(3)])

    def broken(rows: Sequence[CustomerChange]) -> None:
        raise RuntimeError("consumer died")

    with pytest.raises(RuntimeError):
        changes_consume("flaky", broken)
    assert consumer_position("flaky") == 0
    seen: list[str] = []
    assert changes_consume("flaky", _collect(seen)) == 3
    assert seen == ["k0", "k1", "k2"]


def test_a_consumer_passes_over_kinds_it_does_not_want() -> None:
    customer = make_customer()
    CustomerChange.objects.all().delete()
    changes_record_bulk(
        [
            (customer.pk, "note", "n", {}, None),
            (customer.pk, "stage", "s", {}, None),
            (customer.pk, "tags", "t", {}, None),
        ]
    )
    seen: list[str] = []
    assert changes_consume("stages-only", _collect(seen), kinds=["stage"]) == 1
    assert seen == ["s"]
    assert changes_consume("stages-only", _collect(seen), kinds=["stage"]) == 0


def test_a_change_committed_after_a_later_one_is_not_skipped() -> None:
    """PostgreSQL hands out ids before commit: a consumer may see id n+1 while n is still in
    an open transaction. The skipped id is kept as a gap and read once it appears."""
    customer = make_customer()
    CustomerChange.objects.all().delete()
    change_record(customer_id=customer.pk, kind="note", key="early")
    early = CustomerChange.objects.get(key="early").id
    # id early+1 is "in flight"; early+2 commits first.
    CustomerChange.objects.create(id=early + 2, customer=customer, kind="note", key="late")
    seen: list[str] = []
    changes_consume("gappy", _collect(seen))
    assert seen == ["early", "late"]
    assert [g[0] for g in ChangeCursor.objects.get(consumer="gappy").gaps] == [early + 1]
    CustomerChange.objects.create(id=early + 1, customer=customer, kind="note", key="slow")
    changes_consume("gappy", _collect(seen))
    assert seen == ["early", "late", "slow"]
    assert ChangeCursor.objects.get(consumer="gappy").gaps == []


def test_a_gap_that_never_fills_is_forgotten_after_the_wait() -> None:
    customer = make_customer()
    CustomerChange.objects.all().delete()
    change_record(customer_id=customer.pk, kind="note", key="a")
    first = CustomerChange.objects.get(key="a").id
    CustomerChange.objects.create(id=first + 2, customer=customer, kind="note", key="c")
    changes_consume("patient", _collect([]))
    assert ChangeCursor.objects.get(consumer="patient").gaps
    later = timezone.now() + GAP_WAIT + timedelta(seconds=1)
    changes_consume("patient", _collect([]), now=later)
    assert ChangeCursor.objects.get(consumer="patient").gaps == []
