"""Daily membership with real conditions through the pipeline: customers enter, leave and come
back over several days; history, outbox and member counts agree; conditions relative to now
are evaluated at the day refreshed; a deleted segment named by another is reported, not
crashed on."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tend.changes.models import CustomerChange
from tend.customers.models import Customer
from tend.jobs.pipeline import pipeline_run
from tend.segments.actions import segment_create
from tend.segments.membership import evaluation_time, segments_refresh
from tend.segments.models import Segment, SegmentChange, SegmentMember
from tend.segments.queries import daily_history
from tend.segments.tests.segment_helpers import BIG, customers, resize

pytestmark = pytest.mark.django_db

DAY = date(2026, 5, 4)


def test_enter_leave_and_reenter_over_several_days_through_the_pipeline() -> None:
    a, b, c = customers(100, 5, 300)
    segment = segment_create(by=None, name="Big", condition=BIG, refresh=False)

    pipeline_run(as_of=DAY, only=["segments"])
    resize(a, 10)
    resize(b, 150)
    pipeline_run(as_of=DAY + timedelta(days=1), only=["segments"])
    pipeline_run(as_of=DAY + timedelta(days=2), only=["segments"])  # nothing moves
    resize(a, 120)
    pipeline_run(as_of=DAY + timedelta(days=3), only=["segments"])

    days = [(d.day - DAY).days for d in daily_history(segment)]
    assert days == [0, 1, 3]
    assert [(d.entered, d.left, d.members) for d in daily_history(segment)] == [
        (2, 0, 2),
        (1, 1, 2),
        (1, 0, 3),
    ]
    assert set(SegmentMember.objects.values_list("customer_id", flat=True)) == {a.pk, b.pk, c.pk}
    segment.refresh_from_db()
    assert segment.member_count == 3
    keys = sorted(CustomerChange.objects.filter(kind="segment").values_list("key", flat=True))
    assert len(keys) == 5
    assert f"segment:{segment.pk}:{a.pk}:{(DAY + timedelta(days=1)).isoformat()}:out" in keys

    pipeline_run(as_of=DAY + timedelta(days=3), only=["segments"])  # again: idempotent
    assert CustomerChange.objects.filter(kind="segment").count() == 5
    assert SegmentChange.objects.count() == 5


def test_relative_dates_are_evaluated_at_the_day_refreshed() -> None:
    seen = datetime(2026, 5, 1, 12, tzinfo=UTC)
    [customer] = customers(1)
    Customer.objects.filter(pk=customer.pk).update(last_seen_at=seen)
    segment = segment_create(
        by=None,
        name="Seen this week",
        condition={"field": "last_seen", "op": "within_last", "value": 7},
        refresh=False,
    )
    assert evaluation_time(date(2026, 5, 3)) == datetime(2026, 5, 3, 23, 59, 59, 999999, UTC)

    segments_refresh(date(2026, 5, 3))
    assert segment.members.count() == 1
    segments_refresh(date(2026, 5, 9))
    assert segment.members.count() == 0


def test_a_segment_naming_a_deleted_segment_reports_it_and_others_still_refresh() -> None:
    big = segment_create(by=None, name="Big", condition=BIG)
    named = segment_create(
        by=None,
        name="Not big",
        condition={"not": {"field": "segment", "op": "eq", "value": big.pk}},
    )
    # Deleted behind the action's back (the action refuses while it is used).
    Segment.objects.filter(pk=big.pk).delete()
    customers(500)
    segment_create(by=None, name="Everyone", condition={"all": []}, refresh=False)

    counts = pipeline_run(only=["segments"])[0].counts

    assert (counts["failed"], counts["segments"], counts["entered"]) == (1, 1, 1)
    named.refresh_from_db()
    assert "at" in named.refresh_error
