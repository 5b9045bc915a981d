"""Row locks a tracking batch takes before it writes, always in one order (PostgreSQL only:
SQLite writers hold the whole database), so concurrent batches queue instead of deadlocking."""

from __future__ import annotations

from django.db import connection

from tend.customers.models import Contact, Customer
from tend.ingest.tracking.identities import b2c, identities_find
from tend.ingest.tracking.messages import EVENT_TYPES, Message
from tend.ingest.tracking.models import Identity
from tend.lib.db import pg_execute


def rows_lock(messages: list[Message]) -> set[int]:
    """Lock the existing rows that this batch's identity messages may change, in one order.

    First the customers (ascending id) that any message of the batch resolves to or names:
    by group id, by a user's or anonymous id's identity, as the customer of a contact whose
    external id is a user id (B2C: the customer with that external id); then the identity rows
    of identify, group and alias messages (ascending key). Returns the locked customer ids.
    Batches of events only lock their customers later, in ``events_write``. PostgreSQL only:
    SQLite writers hold the whole database (``BEGIN IMMEDIATE``).
    """
    identity = [m for m in messages if m.type not in EVENT_TYPES]
    if not identity or connection.vendor != "postgresql":
        return set()
    users = {m.user_id for m in messages if m.user_id}
    users |= {m.previous_id for m in identity if m.previous_id}
    anonymous = {m.anonymous_id for m in messages if m.anonymous_id}
    anonymous |= {m.previous_id for m in identity if m.previous_id}
    keys = {f"u:{u}" for u in users} | {f"a:{a}" for a in anonymous}
    customers = {link.customer_id for link in identities_find(keys).values() if link.customer_id}
    named = set(users) if b2c() else {m.group_id for m in messages if m.group_id}
    if named:
        customers.update(
            Customer.objects.filter(external_id__in=named).values_list("pk", flat=True)
        )
    if not b2c():
        people = {m.user_id for m in identity if m.user_id}
        people |= {m.previous_id for m in identity if m.previous_id}
        if people:
            customers.update(
                Contact.objects.filter(external_id__in=people).values_list("customer_id", flat=True)
            )
    locked = customers_lock(customers)
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


def customers_lock(ids: set[int]) -> set[int]:
    """Lock these customer rows in ascending id order (PostgreSQL; SQLite needs no row locks).

    ``FOR NO KEY UPDATE`` is the lock an UPDATE of the row takes; inserts that refer to the
    customer (events, rollups, contacts, timeline) take ``FOR KEY SHARE`` and do not wait.
    """
    if not ids or connection.vendor != "postgresql":
        return set(ids)
    pg_execute(
        f"SELECT 1 FROM {Customer._meta.db_table} WHERE id = ANY(%b::bigint[]) "
        "ORDER BY id FOR NO KEY UPDATE",
        [sorted(ids)],
    )
    return set(ids)
