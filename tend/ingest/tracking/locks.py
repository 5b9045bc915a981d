"""Row locks a tracking batch takes before it writes, always in one order (PostgreSQL only:
SQLite writers hold the whole database), so concurrent batches queue instead of deadlocking."""

from __future__ import annotations

from collections.abc import Mapping, Set
from datetime import datetime

from django.db import connection

from tend.customers.models import Contact, Customer
from tend.ingest.tracking.identities import LAST_SEEN_SLACK, b2c, identities_find
from tend.ingest.tracking.messages import EVENT_TYPES, Message
from tend.ingest.tracking.models import Identity
from tend.lib.db import pg_execute


def rows_lock(messages: list[Message]) -> set[int]:
    """Lock the existing rows that this batch's identity messages may change, in one order.

    First the customers, in one statement, ascending id: those the identify, group and alias
    messages resolve to or name (by group id, by a user's or anonymous id's identity, as the
    customer of a contact whose external id is a user id; B2C: the customer with that external
    id), and those of the batch's events whose last-seen moment will move (``stale_lock``);
    then the identity rows of the identity messages (ascending key). Returns the locked
    customer ids. The customers events merely count on are not locked: their rollups are
    upserts that add (``count = count + n``), which concurrent batches may run side by side.
    Batches of events only lock their customers later, in ``events_write``. PostgreSQL only:
    SQLite writers hold the whole database (``BEGIN IMMEDIATE``).
    """
    identity = [m for m in messages if m.type not in EVENT_TYPES]
    if not identity or connection.vendor != "postgresql":
        return set()
    users = {m.user_id for m in identity if m.user_id}
    users |= {m.previous_id for m in identity if m.previous_id}
    anonymous = {m.anonymous_id for m in identity if m.anonymous_id}
    anonymous |= {m.previous_id for m in identity if m.previous_id}
    keys = {f"u:{u}" for u in users} | {f"a:{a}" for a in anonymous}
    customers = {link.customer_id for link in identities_find(keys).values() if link.customer_id}
    named = set(users) if b2c() else {m.group_id for m in identity if m.group_id}
    if named:
        customers.update(
            Customer.objects.filter(external_id__in=named).values_list("pk", flat=True)
        )
    if not b2c() and users:
        customers.update(
            Contact.objects.filter(external_id__in=users).values_list("customer_id", flat=True)
        )
    locked = stale_lock(_events_last_seen(messages), also=customers)
    changed = set()
    for m in identity:
        changed |= {f"u:{k}" for k in (m.user_id, m.previous_id) if k}
        changed |= {f"a:{k}" for k in (m.anonymous_id, m.previous_id) if k}
    pg_execute(
        f"SELECT 1 FROM {Identity._meta.db_table} WHERE key = ANY(%b::text[]) "
        "ORDER BY key FOR NO KEY UPDATE",
        [sorted(changed)],
    )
    return locked


def _events_last_seen(messages: list[Message]) -> dict[int, datetime]:
    """The latest event of the batch per customer, as the events' ids resolve before the
    batch's identity messages run (the customers whose last-seen will likely move)."""
    events = [m for m in messages if m.type in EVENT_TYPES]
    keys = {f"u:{m.user_id}" for m in events if m.user_id}
    keys |= {f"a:{m.anonymous_id}" for m in events if m.anonymous_id}
    links = identities_find(keys)
    latest: dict[int, datetime] = {}
    for m in events:
        link = links.get(f"u:{m.user_id}") if m.user_id else None
        if link is None or not link.customer_id:
            link = links.get(f"a:{m.anonymous_id}") if m.anonymous_id else None
        if link is not None and link.customer_id:
            seen = latest.get(link.customer_id)
            if seen is None or m.timestamp > seen:
                latest[link.customer_id] = m.timestamp
    return latest


def stale_lock(
    last_seen: Mapping[int, datetime], *, also: Set[int] = frozenset(), skip: Set[int] = frozenset()
) -> set[int]:
    """Lock, in one statement and ascending id order (``FOR NO KEY UPDATE``), the customers in
    ``also`` and those of ``last_seen`` whose ``last_seen_at`` this batch will move (older than
    its moment by more than ``LAST_SEEN_SLACK``), leaving out ``skip`` (locked already); return
    the ids locked. A customer whose last-seen stays is not locked: ``last_seen_at`` only moves
    forward, so one found recent stays recent. PostgreSQL; SQLite returns every id."""
    if connection.vendor != "postgresql":
        return set(also) | set(last_seen)
    ids = sorted(set(last_seen) - set(skip))
    wanted = sorted(set(also) - set(skip))
    if not ids and not wanted:
        return set()
    table = Customer._meta.db_table
    seconds = int(LAST_SEEN_SLACK.total_seconds())
    rows = pg_execute(
        f"SELECT c.id FROM {table} c LEFT JOIN unnest(%b::bigint[], %b::timestamptz[]) "
        "AS v(id, ts) ON v.id = c.id WHERE c.id = ANY(%b::bigint[]) AND (c.id = ANY(%b::bigint[]) "
        f"OR c.last_seen_at IS NULL OR c.last_seen_at < v.ts - interval '{seconds} seconds') "
        "ORDER BY c.id FOR NO KEY UPDATE OF c",
        [ids, [last_seen[i] for i in ids], sorted(set(ids) | set(wanted)), wanted],
    )
    return {row[0] for row in rows} | set(wanted)
