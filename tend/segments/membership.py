"""Who is in each saved segment, and who entered and left it on which day.

``segments_refresh(as_of)`` evaluates every segment's condition with one compiled query
(``tend.segments.conditions.customers_matching``) and brings ``SegmentMember`` in line with it:

- who entered (matches, not a member) and who left (a member, no longer matches) are two
  set queries in the database, never a query per customer;
- members are inserted and deleted in bulk; each move is written to the history
  (``SegmentChange``: one net row per customer, segment and day — a customer who leaves and
  comes back on the same day has no row for that day) and to the customer-change outbox
  (kind ``segment``, key ``segment:{segment}:{customer}:{day}:in|out``, stored once per key);
- ``member_count``, ``refreshed_at`` and ``refreshed_on`` are updated.

Each segment is refreshed in its own transaction, its row locked, so two refreshes of one
segment (the daily pipeline and a "Refresh now" click) never interleave, and a refresh that
fails half-way leaves nothing behind. Running it again for the same day changes nothing.
A refresh for a day earlier than the segment's last one is skipped: history is written in
day order. Conditions relative to now ("seen within the last 7 days") are evaluated at the
current time when ``as_of`` is today, and at the end of ``as_of`` (UTC) for any other day.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from tend.changes.actions import changes_record_bulk
from tend.changes.models import ChangeKind
from tend.customers.models import Customer
from tend.lib.db import chunks, insert_rows
from tend.segments.models import Segment, SegmentChange, SegmentMember

log = logging.getLogger(__name__)

# (raw condition, now) → the customers it matches, as one QuerySet. Tests may pass their own.
Matcher = Callable[[dict[str, Any], datetime], QuerySet[Customer]]


def _default_matcher(raw: dict[str, Any], now: datetime) -> QuerySet[Customer]:
    from tend.segments.conditions import customers_matching

    return customers_matching(raw, now=now)


@dataclass
class RefreshResult:
    """What one segment's refresh did."""

    segment_id: int
    name: str = ""
    entered: int = 0
    left: int = 0
    members: int = 0
    skipped: bool = False  # deleted meanwhile, or already refreshed for a later day
    error: str = ""  # the condition could not be evaluated; members left as they were


def today_utc() -> date:
    return timezone.now().astimezone(UTC).date()


def evaluation_time(as_of: date) -> datetime:
    """The "now" a refresh for ``as_of`` evaluates conditions at (see the module docstring)."""
    now = timezone.now()
    if as_of == now.astimezone(UTC).date():
        return now
    return datetime.combine(as_of, time.max, tzinfo=UTC)


def segments_refresh(
    as_of: date | None = None,
    segments: Iterable[Segment | int] | None = None,
    *,
    now: datetime | None = None,
    matcher: Matcher | None = None,
) -> list[RefreshResult]:
    """Refresh the members of ``segments`` (default: all) as of the day ``as_of`` (default:
    today, UTC); one result per segment, in id order."""
    as_of = as_of or today_utc()
    now = now or evaluation_time(as_of)
    match = matcher or _default_matcher
    ids = Segment.objects.order_by("pk").values_list("pk", flat=True)
    if segments is not None:
        wanted = [s.pk if isinstance(s, Segment) else int(s) for s in segments]
        ids = ids.filter(pk__in=wanted)
    return [_refresh_one(pk, as_of, now, match) for pk in list(ids)]


def segments_pipeline_step(as_of: date) -> dict[str, int]:
    """The daily pipeline's "segments" step: refresh every segment for ``as_of``."""
    results = segments_refresh(as_of)
    for result in results:
        if result.error:
            log.warning("segment %s not refreshed: %s", result.segment_id, result.error)
    done = [r for r in results if not r.skipped and not r.error]
    return {
        "segments": len(done),
        "entered": sum(r.entered for r in done),
        "left": sum(r.left for r in done),
        "members": sum(r.members for r in done),
        "failed": sum(1 for r in results if r.error),
        "skipped": sum(1 for r in results if r.skipped),
    }


def _refresh_one(pk: int, as_of: date, now: datetime, match: Matcher) -> RefreshResult:
    with transaction.atomic():
        segment = Segment.objects.select_for_update().filter(pk=pk).first()
        if segment is None:
            return RefreshResult(pk, skipped=True)
        result = RefreshResult(pk, name=segment.name, members=segment.member_count)
        if segment.refreshed_on is not None and as_of < segment.refreshed_on:
            result.skipped = True
            return result
        try:
            matching = match(segment.condition, now).order_by()
        except ValueError as exc:  # ConditionError: a plan, trait or segment it names is gone
            result.error = exc.text() if hasattr(exc, "text") else str(exc)
            Segment.objects.filter(pk=pk).update(refresh_error=result.error[:2000])
            return result
        members = SegmentMember.objects.filter(segment_id=pk)
        entered = list(
            matching.exclude(pk__in=members.values("customer_id")).values_list("pk", flat=True)
        )
        left = list(
            members.exclude(customer_id__in=matching.values("pk"))
            .order_by()
            .values_list("customer_id", flat=True)
        )
        if entered or left:
            _apply(segment, as_of, now, entered, left)
        result.entered, result.left = len(entered), len(left)
        result.members = members.count()
        Segment.objects.filter(pk=pk).update(
            member_count=result.members,
            refreshed_at=timezone.now(),
            refreshed_on=as_of,
            refresh_error="",
            history_since=segment.history_since or as_of,
        )
        return result


def _apply(
    segment: Segment, as_of: date, now: datetime, entered: list[int], left: list[int]
) -> None:
    """Write the members, the day's net history and the outbox rows for these moves."""
    pk = segment.pk
    day = as_of.isoformat()
    # Moves already recorded for this day: a move back cancels them (net history per day).
    earlier = dict(
        SegmentChange.objects.filter(segment_id=pk, day=as_of).values_list("customer_id", "entered")
    )
    came_back = [c for c in entered if earlier.get(c) is False]
    went_again = [c for c in left if earlier.get(c) is True]
    cancelled = came_back + went_again
    for chunk in chunks(cancelled):
        SegmentChange.objects.filter(segment_id=pk, day=as_of, customer_id__in=chunk).delete()
    since = _since_before(pk, as_of, came_back)
    cancelled_set = set(cancelled)
    insert_rows(
        SegmentChange,
        ["segment", "customer", "day", "entered"],
        [(pk, c, day, True) for c in entered if c not in cancelled_set]
        + [(pk, c, day, False) for c in left if c not in cancelled_set],
    )
    for chunk in chunks(left):
        SegmentMember.objects.filter(segment_id=pk, customer_id__in=chunk).delete()
    insert_rows(
        SegmentMember,
        ["segment", "customer", "since"],
        ((pk, c, since.get(c, day)) for c in entered),
    )
    kind = ChangeKind.SEGMENT.value
    changes_record_bulk(
        [
            (c, kind, f"segment:{pk}:{c}:{day}:in", {"segment": pk, "entered": True}, now)
            for c in entered
        ]
        + [
            (c, kind, f"segment:{pk}:{c}:{day}:out", {"segment": pk, "entered": False}, now)
            for c in left
        ]
    )


def _since_before(pk: int, as_of: date, customers: list[int]) -> dict[int, str]:
    """For customers who left and came back on ``as_of``: the day they had entered before."""
    since: dict[int, str] = {}
    for chunk in chunks(customers):
        rows = (
            SegmentChange.objects.filter(
                segment_id=pk, customer_id__in=chunk, entered=True, day__lt=as_of
            )
            .values("customer_id")
            .annotate(last=Max("day"))
            .values_list("customer_id", "last")
        )
        since.update({c: d.isoformat() for c, d in rows})
    return since
