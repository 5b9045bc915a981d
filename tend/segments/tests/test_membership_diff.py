"""Membership refresh with a plain matcher (the condition language is tested on its own):
who entered and left, the net history per day, the outbox rows written once per move, the
refresh being idempotent, and its query count not growing with the number of members."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

from tend.changes.models import CustomerChange
from tend.customers.models import Customer
from tend.factories import make_customer
from tend.segments.membership import segments_pipeline_step, segments_refresh
from tend.segments.models import Segment, SegmentChange, SegmentMember

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 2)


class Chosen:
    """A matcher whose answer the test sets: the customers in ``ids`` match every segment."""

    def __init__(self) -> None:
        self.ids: set[int] = set()

    def __call__(self, raw: dict[str, Any], now: datetime) -> QuerySet[Customer]:
        return Customer.objects.filter(pk__in=sorted(self.ids))


def members(segment: Segment) -> set[int]:
    return set(SegmentMember.objects.filter(segment=segment).values_list("customer_id", flat=True))


def history(segment: Segment) -> list[tuple[int, date, bool]]:
    return sorted(
        SegmentChange.objects.filter(segment=segment).values_list("customer_id", "day", "entered")
    )


def outbox(segment: Segment) -> list[tuple[int, str, dict[str, Any]]]:
    rows = CustomerChange.objects.filter(kind="segment", key__startswith=f"segment:{segment.pk}:")
    return sorted(rows.values_list("customer_id", "key", "data"))


@pytest.fixture
def segment() -> Segment:
    return Segment.objects.create(name="Big spenders", condition={"all": []})


def test_customers_enter_leave_and_come_back_over_several_days(segment: Segment) -> None:
    a, b, c = (make_customer().pk for _ in range(3))
    match = Chosen()

    match.ids = {a, b}
    [result] = segments_refresh(DAY, matcher=match)
    assert (result.entered, result.left, result.members) == (2, 0, 2)
    match.ids = {b, c}
    segments_refresh(DAY + timedelta(days=1), matcher=match)
    match.ids = {a, b, c}
    segments_refresh(DAY + timedelta(days=3), matcher=match)

    assert members(segment) == {a, b, c}
    assert history(segment) == sorted(
        [
            (a, DAY, True),
            (b, DAY, True),
            (a, DAY + timedelta(days=1), False),
            (c, DAY + timedelta(days=1), True),
            (a, DAY + timedelta(days=3), True),
        ]
    )
    since = dict(SegmentMember.objects.filter(segment=segment).values_list("customer_id", "since"))
    assert since == {a: DAY + timedelta(days=3), b: DAY, c: DAY + timedelta(days=1)}
    segment.refresh_from_db()
    assert segment.member_count == 3
    assert segment.refreshed_on == DAY + timedelta(days=3)
    assert segment.refresh_error == ""
    day1 = (DAY + timedelta(days=1)).isoformat()
    assert [(key, data) for _c, key, data in outbox(segment) if day1 in key] == [
        (f"segment:{segment.pk}:{a}:{day1}:out", {"segment": segment.pk, "entered": False}),
        (f"segment:{segment.pk}:{c}:{day1}:in", {"segment": segment.pk, "entered": True}),
    ]
    assert len(outbox(segment)) == 5


def test_a_second_refresh_on_the_same_day_writes_nothing(segment: Segment) -> None:
    a, b = (make_customer().pk for _ in range(2))
    match = Chosen()
    match.ids = {a, b}
    segments_refresh(DAY, matcher=match)
    before = (history(segment), outbox(segment), members(segment))

    [again] = segments_refresh(DAY, matcher=match)

    assert (again.entered, again.left, again.members) == (0, 0, 2)
    assert (history(segment), outbox(segment), members(segment)) == before


def test_leaving_and_coming_back_on_one_day_leaves_no_history_for_that_day(
    segment: Segment,
) -> None:
    a = make_customer().pk
    match = Chosen()
    match.ids = {a}
    segments_refresh(DAY, matcher=match)
    later = DAY + timedelta(days=5)
    match.ids = set()
    segments_refresh(later, matcher=match)
    assert history(segment)[-1] == (a, later, False)

    match.ids = {a}
    segments_refresh(later, matcher=match)

    assert history(segment) == [(a, DAY, True)]
    assert SegmentMember.objects.get(segment=segment).since == DAY  # not reset to `later`
    # The outbox keeps each move once: in on DAY, out and in again on `later`.
    keys = [key.rsplit(":", 2)[1:] for _c, key, _d in outbox(segment)]
    assert keys == [[DAY.isoformat(), "in"], [later.isoformat(), "in"], [later.isoformat(), "out"]]

    match.ids = set()
    segments_refresh(later, matcher=match)  # out again: the key is taken, stored once
    assert len(outbox(segment)) == 3
    assert history(segment) == [(a, DAY, True), (a, later, False)]


def test_a_refresh_for_an_earlier_day_than_the_last_is_skipped(segment: Segment) -> None:
    a = make_customer().pk
    match = Chosen()
    match.ids = {a}
    segments_refresh(DAY, matcher=match)
    match.ids = set()

    [result] = segments_refresh(DAY - timedelta(days=1), matcher=match)

    assert result.skipped
    assert members(segment) == {a}


def test_each_segment_gets_its_own_members(segment: Segment) -> None:
    other = Segment.objects.create(name="Everyone else", condition={"all": []})
    a, b = (make_customer().pk for _ in range(2))

    def match(raw: dict[str, Any], now: datetime) -> QuerySet[Customer]:
        return Customer.objects.filter(pk=a if raw.get("pick") == "a" else b)

    Segment.objects.filter(pk=segment.pk).update(condition={"pick": "a"})
    results = segments_refresh(DAY, matcher=match)

    assert [r.segment_id for r in results] == sorted([segment.pk, other.pk])
    assert members(segment) == {a}
    assert members(other) == {b}
    only = segments_refresh(DAY + timedelta(days=1), segments=[other], matcher=match)
    assert [r.segment_id for r in only] == [other.pk]


def test_a_condition_that_cannot_be_evaluated_keeps_the_members_and_says_why(
    segment: Segment,
) -> None:
    a = make_customer().pk
    match = Chosen()
    match.ids = {a}
    segments_refresh(DAY, matcher=match)

    def broken(raw: dict[str, Any], now: datetime) -> QuerySet[Customer]:
        raise ValueError("Plan (at value): no plan with id 7.")

    [result] = segments_refresh(DAY + timedelta(days=1), matcher=broken)

    assert result.error == "Plan (at value): no plan with id 7."
    segment.refresh_from_db()
    assert segment.refresh_error == result.error
    assert segment.refreshed_on == DAY
    assert members(segment) == {a}


def _queries_to_refresh(customers: int, moving: int) -> int:
    """Queries of a refresh where ``customers`` were members and ``moving`` of them leave and
    as many others enter."""
    Segment.objects.all().delete()
    Segment.objects.create(name=f"S{customers}", condition={"all": []})
    ids = [make_customer().pk for _ in range(customers + moving)]
    match = Chosen()
    match.ids = set(ids[:customers])
    segments_refresh(DAY, matcher=match)
    match.ids = set(ids[moving : customers + moving])
    with CaptureQueriesContext(connection) as queries:
        [result] = segments_refresh(DAY + timedelta(days=1), matcher=match)
    assert (result.entered, result.left) == (moving, moving)
    return len(queries)


def test_the_refresh_query_count_does_not_grow_with_the_members() -> None:
    assert _queries_to_refresh(5, 2) == _queries_to_refresh(60, 2)
    # and with nobody moving, a handful of queries whatever the size
    assert _queries_to_refresh(5, 0) == _queries_to_refresh(60, 0) <= 8


def test_the_pipeline_step_counts_what_it_did(monkeypatch: pytest.MonkeyPatch) -> None:
    from tend.segments import membership

    Segment.objects.create(name="All", condition={"all": []})
    ids = {make_customer().pk for _ in range(3)}
    match = Chosen()
    match.ids = ids
    monkeypatch.setattr(membership, "_default_matcher", match)

    counts = segments_pipeline_step(DAY)

    assert counts == {
        "segments": 1,
        "entered": 3,
        "left": 0,
        "members": 3,
        "failed": 0,
        "skipped": 0,
    }
