"""Storing the tracking API's events: resolve each to its customer and contact, insert them in
one statement per chunk (retried message ids are skipped), park those of unknown people as
pending, then count them into the daily rollups and move the customers' last-seen."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from tend.activity.actions import customers_touch, rollups_increment
from tend.activity.models import Event
from tend.activity.partitions import skip_duplicates
from tend.changes.actions import changes_record_activity
from tend.customers.models import Customer
from tend.ingest.tracking.identities import LAST_SEEN_SLACK, b2c, identities_find
from tend.ingest.tracking.locks import stale_lock
from tend.ingest.tracking.messages import Message
from tend.ingest.tracking.models import PendingEvent
from tend.lib.db import pg_execute

SOURCE = "tracking"
INSERT_CHUNK = 500


@dataclass
class _Resolved:
    customer_id: int | None
    contact_id: int | None


def events_write(
    messages: list[Message], *, received_at: datetime, locked: Set[int] = frozenset()
) -> tuple[list[Message], int]:
    """Insert new events (retried message ids are skipped), then rollups and last-seen.

    The customers whose last-seen moves are locked (ascending id) before their rollups and
    last-seen are written, unless ``locked`` holds them already.
    """
    unique: dict[str, Message] = {}
    for message in messages:
        unique.setdefault(message.message_id, message)
    duplicates = len(messages) - len(unique)
    batch = list(unique.values())
    who = _resolve(batch)
    inserted: list[tuple[int, Message, _Resolved]] = []
    for start in range(0, len(batch), INSERT_CHUNK):
        chunk = batch[start : start + INSERT_CHUNK]
        ids = _insert_events(chunk, who, received_at=received_at)
        for message in chunk:
            event_id = ids.get(message.message_id)
            if event_id is not None:
                inserted.append((event_id, message, who[message.message_id]))
    duplicates += len(batch) - len(inserted)
    pending = [
        PendingEvent(event_id=event_id, user_id=m.user_id, anonymous_id=m.anonymous_id)
        for event_id, m, r in inserted
        if r.customer_id is None
    ]
    if pending:
        PendingEvent.objects.bulk_create(pending)
    counts: Counter[tuple[int, Any, str]] = Counter()
    last_seen: dict[int, datetime] = {}
    active: dict[tuple[int, Any], datetime] = {}
    for _, message, resolved in inserted:
        if resolved.customer_id is None:
            continue
        day = message.timestamp.date()
        counts[(resolved.customer_id, day, message.name)] += 1
        first = active.get((resolved.customer_id, day))
        if first is None or message.timestamp < first:
            active[(resolved.customer_id, day)] = message.timestamp
        seen = last_seen.get(resolved.customer_id)
        if seen is None or message.timestamp > seen:
            last_seen[resolved.customer_id] = message.timestamp
    # The inserts above only refer to the customers (FOR KEY SHARE, which never waits for a
    # batch's lock). The customers whose last-seen moves are locked (ascending id) before any
    # counter is written; the others are not locked at all: a rollup is an upsert that adds,
    # and concurrent batches adding to one customer's counters do not wait for each other's
    # commit (only for the counter row's own short lock, taken in sorted key order).
    touch = stale_lock(last_seen, skip=locked) | (set(last_seen) & set(locked))
    rollups_increment(counts)
    changes_record_activity(active)
    customers_touch({c: last_seen[c] for c in touch}, slack=LAST_SEEN_SLACK)
    return [m for _, m, _ in inserted], duplicates


def _insert_events(
    chunk: list[Message], who: dict[str, _Resolved], *, received_at: datetime
) -> dict[str, int]:
    """Insert one chunk of events in one statement; return {message_id: id} of the new ones."""
    columns: list[list[Any]] = [[] for _ in range(9)]
    for message in chunk:
        resolved = who[message.message_id]
        properties = message.properties
        if message.flag:
            properties = {
                **properties,
                "$tend": {"flag": message.flag, "timestamp": message.original_timestamp},
            }
        for column, value in zip(
            columns,
            (
                resolved.customer_id,
                resolved.contact_id,
                message.user_id,
                message.anonymous_id,
                message.name,
                message.timestamp,
                json.dumps(properties, separators=(",", ":")),
                message.message_id,
                received_at,
            ),
            strict=True,
        ):
            column.append(value)
    table = Event._meta.db_table
    insert = (
        f"INSERT INTO {table} (customer_id, contact_id, user_id, anonymous_id, name, timestamp, "
        "properties, message_id, received_at, source) "
    )
    conflict = " ON CONFLICT (message_id) DO NOTHING RETURNING id, message_id"
    if connection.vendor == "postgresql":
        # The partitioned table's message ids are unique through a trigger
        # (tend/activity/partitions.py), told here to skip a stored one rather than raise; no
        # ON CONFLICT, which would make every row a speculative insertion into the primary key.
        conflict = " RETURNING id, message_id"
        with connection.cursor() as cursor:
            skip_duplicates(cursor)
        # One array per column: a short statement parsed once, where a 100-row VALUES list
        # costs milliseconds of placeholder parsing per batch.
        rows = pg_execute(
            insert + "SELECT c, k, u, a, n, t, p::jsonb, m, r, %s::text FROM unnest(%b::bigint[], "
            "%b::bigint[], %b::text[], %b::text[], %b::text[], %b::timestamptz[], "
            "%b::text[], %b::text[], %b::timestamptz[]) AS x(c, k, u, a, n, t, p, m, r)" + conflict,
            [SOURCE, *columns],
        )
        return {message_id: event_id for event_id, message_id in rows}
    with connection.cursor() as cursor:
        adapt = connection.ops.adapt_datetimefield_value
        columns[5] = [adapt(t) for t in columns[5]]
        columns[8] = [adapt(t) for t in columns[8]]
        values = [[*row, SOURCE] for row in zip(*columns, strict=True)]
        cursor.execute(
            insert
            + "VALUES "
            + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(values))
            + conflict,
            [value for row in values for value in row],
        )
        return {message_id: event_id for event_id, message_id in cursor.fetchall()}


def _resolve(messages: list[Message]) -> dict[str, _Resolved]:
    """The customer (and contact) of each event, from groupId, userId or anonymousId."""
    group_ids = {m.group_id for m in messages if m.group_id}
    keys = {f"u:{m.user_id}" for m in messages if m.user_id}
    keys |= {f"a:{m.anonymous_id}" for m in messages if m.anonymous_id}
    groups: dict[str | None, int] = {}
    if group_ids and not b2c():
        groups = dict(
            Customer.objects.filter(external_id__in=group_ids).values_list("external_id", "pk")
        )
    identities = identities_find(keys)
    result: dict[str, _Resolved] = {}
    for m in messages:
        user = identities.get(f"u:{m.user_id}") if m.user_id else None
        anon = identities.get(f"a:{m.anonymous_id}") if m.anonymous_id else None
        person = user if user is not None and user.customer_id else anon
        if person is not None and not person.customer_id and person.user_id:
            person = identities.get(f"u:{person.user_id}")
        customer_id = groups.get(m.group_id) if m.group_id else None
        contact_id = None
        if (
            person is not None
            and person.customer_id
            and (customer_id is None or customer_id == person.customer_id)
        ):
            customer_id = person.customer_id
            contact_id = person.contact_id
        result[m.message_id] = _Resolved(customer_id, contact_id)
    return result
