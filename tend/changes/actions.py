"""Write to and read from the customer-change outbox (``tend.changes.models``).

Writers call ``change_record`` or ``changes_record_bulk`` inside the transaction of the change
itself; consumers call ``changes_consume`` with their own name, and their handler runs in the
same transaction as the cursor's move, so a change is acted on exactly once even when a
consumer dies half-way (the transaction rolls back and the rows are read again).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from tend.changes.models import ChangeCursor, ChangeKind, CustomerChange
from tend.lib.db import chunks, db_datetime, pg_execute

# An id skipped because its transaction was still open is looked at again for this long; after
# that it was rolled back (or lost) and is forgotten.
GAP_WAIT = timedelta(minutes=10)
MAX_GAPS = 10_000
BATCH = 1_000

ChangeRow = tuple[int, str, str, dict[str, Any], datetime | None]  # customer, kind, key, data, at


def change_record(
    *,
    customer_id: int,
    kind: str,
    key: str,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> bool:
    """Record one change; False when a change with this ``key`` is already recorded."""
    return changes_record_bulk([(customer_id, kind, key, data or {}, at)]) == 1


def changes_record_bulk(rows: Iterable[ChangeRow]) -> int:
    """Record many changes with a fixed number of statements; rows whose ``key`` is already
    there are skipped. Returns the rows written."""
    stamp = db_datetime(timezone.now())
    kinds = set(ChangeKind.values)  # once: the enum builds a new list on every access
    values = []
    for customer_id, kind, key, data, at in rows:
        if kind not in kinds:
            raise ValueError(f"unknown change kind {kind!r}")
        values.append(
            (
                customer_id,
                kind,
                key[:200],
                json.dumps(data, default=str),
                stamp if at is None else db_datetime(at),
            )
        )
    if not values:
        return 0
    table = connection.ops.quote_name(CustomerChange._meta.db_table)
    if connection.vendor == "postgresql":
        return _insert_unnest(table, values, stamp)
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            # Keys stored already are left out before the insert: on PostgreSQL a conflicting
            # row still takes an id from the sequence, and every such hole is a gap that
            # consumers must look at again for GAP_WAIT.
            stored = set(
                CustomerChange.objects.filter(key__in=[row[2] for row in chunk]).values_list(
                    "key", flat=True
                )
            )
            chunk = [row for row in chunk if row[2] not in stored]
            if not chunk:
                continue
            marks = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(chunk))
            params: list[Any] = []
            for row in chunk:
                params += [*row, stamp]
            cursor.execute(
                f"INSERT INTO {table} (customer_id, kind, key, data, at, recorded_at) "
                f"VALUES {marks} ON CONFLICT (key) DO NOTHING",
                params,
            )
            written += max(cursor.rowcount, 0)
    return written


def _insert_unnest(table: str, values: list[tuple[Any, ...]], stamp: Any) -> int:
    """``changes_record_bulk`` on PostgreSQL: the same rows, as arrays bound on the server (a
    few parameters per statement instead of six per row, and no quoting of every key and JSON
    text into the statement in Python), so large batches cost little to send and parse."""
    import psycopg

    written = 0
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        for start in range(0, len(values), 5_000):
            chunk = values[start : start + 5_000]
            # Keys stored already are left out before the insert, as above (sequence holes).
            cursor.execute(
                f"SELECT key FROM {table} WHERE key = ANY(%b::varchar[])",
                [[row[2] for row in chunk]],
            )
            stored = {key for (key,) in cursor.fetchall()}
            chunk = [row for row in chunk if row[2] not in stored]
            if not chunk:
                continue
            customers, kinds, keys, data, ats = (list(c) for c in zip(*chunk, strict=True))
            cursor.execute(
                f"INSERT INTO {table} (customer_id, kind, key, data, at, recorded_at) "
                "SELECT c, k, key, d::jsonb, a, %b FROM unnest(%b::bigint[], %b::varchar[], "
                "%b::varchar[], %b::text[], %b::timestamptz[]) AS v(c, k, key, d, a) "
                "ON CONFLICT (key) DO NOTHING",
                [stamp, customers, kinds, keys, data, ats],
            )
            written += max(cursor.rowcount, 0)
    return written


def change_key(kind: str, customer_id: int, *parts: Any) -> str:
    """A dedupe key for a change without an id of its own (a profile edit, a tag change):
    the same change of the same customer at the same moment gives the same key, so a retry is
    stored once, while two different changes never share one. ``parts`` are what identifies the
    change (its moment, its new values), hashed to keep the key short."""
    digest = hashlib.sha1(
        json.dumps(parts, default=str, sort_keys=True).encode(), usedforsecurity=False
    ).hexdigest()[:20]
    return f"{kind}:{customer_id}:{digest}"


# Customer-days per statement of ``changes_record_activity`` on SQLite (5 parameters a row).
ACTIVITY_ROWS = 2_000


def changes_record_activity(days: Mapping[tuple[int, Any], datetime | None]) -> None:
    """Record "product activity" for these (customer id, UTC day) pairs, at most one row per
    customer per day (key ``activity:{customer}:{day}``), in one statement per batch.

    Called by every ingestion path with the batch's customer-days (the value: the earliest
    event of that day in the batch, None for the day's start). The customer-days recorded
    already are left out inside the statement, so a busy customer's hundredth batch of the day
    takes no id from PostgreSQL's sequence (no gap for consumers to wait on)."""
    if not days:
        return
    now = timezone.now()
    rows: list[tuple[int, str, str, str, datetime]] = []
    ordered = sorted(days.items(), key=lambda item: (item[0][0], str(item[0][1])))
    for (customer_id, day), at in ordered:
        text = day if isinstance(day, str) else day.isoformat()
        if at is None:
            at = datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
        rows.append(
            (customer_id, f"activity:{customer_id}:{text}", json.dumps({"day": text}), text, at)
        )
    table = connection.ops.quote_name(CustomerChange._meta.db_table)
    if connection.vendor == "postgresql":
        pg_execute(
            f"INSERT INTO {table} (customer_id, kind, key, data, at, recorded_at) "
            "SELECT v.customer_id, 'activity', v.key, v.data::jsonb, v.at, %b FROM "
            "unnest(%b::bigint[], %b::text[], %b::text[], %b::timestamptz[]) "
            "AS v(customer_id, key, data, at) "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} c WHERE c.key = v.key) "
            "ON CONFLICT (key) DO NOTHING",
            [
                now,
                [r[0] for r in rows],
                [r[1] for r in rows],
                [r[2] for r in rows],
                [r[4] for r in rows],
            ],
        )
        return
    with connection.cursor() as cursor:
        for chunk in chunks(rows, ACTIVITY_ROWS):
            cursor.execute(
                f"INSERT INTO {table} (customer_id, kind, key, data, at, recorded_at) "
                "SELECT v.column1, 'activity', v.column2, v.column3, v.column4, %s FROM (VALUES "
                + ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
                + f") AS v WHERE NOT EXISTS (SELECT 1 FROM {table} c WHERE c.key = v.column2) "
                "ON CONFLICT (key) DO NOTHING",
                [
                    db_datetime(now),
                    *(v for r in chunk for v in (r[0], r[1], r[2], db_datetime(r[4]))),
                ],
            )


def changes_consume(
    consumer: str,
    handler: Callable[[Sequence[CustomerChange]], None],
    *,
    kinds: Iterable[str] | None = None,
    batch: int = BATCH,
    max_batches: int | None = None,
    now: datetime | None = None,
) -> int:
    """Hand ``consumer``'s unread changes to ``handler`` a batch at a time, oldest first; returns
    how many were handed over. Rows of other ``kinds`` are passed over (and counted as read).

    Each batch and the cursor's move commit together: if ``handler`` raises, neither happens
    and the same rows come again next time.
    """
    wanted = set(kinds) if kinds is not None else None
    done = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        with transaction.atomic():
            seen = _consume_batch(consumer, handler, wanted, batch, now or timezone.now())
        if seen is None:
            break
        done += seen[1]
    return done


def _consume_batch(
    consumer: str,
    handler: Callable[[Sequence[CustomerChange]], None],
    wanted: set[str] | None,
    batch: int,
    now: datetime,
) -> tuple[int, int] | None:
    """One batch: (rows read, rows handed over); None when there was nothing new to read."""
    ChangeCursor.objects.get_or_create(consumer=consumer)
    cursor = ChangeCursor.objects.select_for_update().get(consumer=consumer)
    gaps = {int(g[0]): g[1] for g in cursor.gaps}
    rows = list(
        CustomerChange.objects.filter(Q(id__gt=cursor.position) | Q(id__in=list(gaps))).order_by(
            "id"
        )[:batch]
    )
    if not rows:
        _forget_old_gaps(cursor, gaps, now)
        return None
    ids = [row.id for row in rows]
    found = set(ids)
    for id_ in found:
        gaps.pop(id_, None)
    top = max(ids)
    stamp = now.isoformat()
    if top > cursor.position:
        known = set(ids)
        # A new consumer starts at the first row there is; below it are no gaps to wait for.
        first = cursor.position + 1 if cursor.position else min(ids)
        for missing in range(first, top):
            if missing not in known and missing not in gaps:
                gaps[missing] = stamp
        cursor.position = top
    useful = [row for row in rows if wanted is None or row.kind in wanted]
    if useful:
        handler(useful)
    _keep_gaps(cursor, gaps, now)
    cursor.updated_at = now
    cursor.save(update_fields=["position", "gaps", "updated_at"])
    # Every row read moved the cursor or closed a gap, so the caller's loop ends.
    return len(rows), len(useful)


def _keep_gaps(cursor: ChangeCursor, gaps: dict[int, str], now: datetime) -> None:
    fresh = [
        [id_, seen]
        for id_, seen in sorted(gaps.items())
        if now - datetime.fromisoformat(seen) < GAP_WAIT
    ]
    cursor.gaps = fresh[-MAX_GAPS:]


def _forget_old_gaps(cursor: ChangeCursor, gaps: dict[int, str], now: datetime) -> None:
    before = len(cursor.gaps)
    _keep_gaps(cursor, gaps, now)
    if len(cursor.gaps) != before:
        cursor.save(update_fields=["gaps"])


def consumer_position(consumer: str) -> int:
    """Where ``consumer`` has read to (0 when it never read)."""
    return (
        ChangeCursor.objects.filter(consumer=consumer).values_list("position", flat=True).first()
        or 0
    )
