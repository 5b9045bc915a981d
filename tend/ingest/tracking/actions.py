"""Writes for the tracking API: store Segment messages, link ids to customers, merge.

``tracking_ingest`` is the one entry point. It runs in one transaction, so a 200 answer means
every accepted event is committed (nothing waits in memory). Identity messages (identify,
group, alias) are few and go one by one through the customer and contact actions, each in a
savepoint so one bad message does not undo the others; events go in bulk: one multi-row
``INSERT … ON CONFLICT (message_id) DO NOTHING RETURNING`` and one rollup upsert per batch.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections import Counter
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from tend.accounts.models import User
from tend.activity.actions import rollups_rebuild
from tend.activity.models import DailyRollup, Event
from tend.customers.actions import contact_create, contact_update, customer_create, customer_update
from tend.customers.models import Contact, Customer, Kind
from tend.ingest.actions import stats_add
from tend.ingest.tracking.messages import (
    EVENT_TYPES,
    Message,
    Rejected,
    contact_fields,
    customer_fields,
    parse_message,
)
from tend.ingest.tracking.models import Identity, PendingEvent

SOURCE = "tracking"
INSERT_CHUNK = 500
# A batch that meets a deadlock or a serialization failure is run again, at most this many
# times in all, after a jittered pause of about RETRY_BACKOFF seconds, doubling each time.
RETRY_ATTEMPTS = 4
RETRY_BACKOFF = 0.05
RETRY_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure

logger = logging.getLogger(__name__)


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    flagged: Counter[str] = field(default_factory=Counter)
    warnings: list[dict[str, Any]] = field(default_factory=list)  # every flag, by index

    def reject(self, index: int, error: Rejected) -> None:
        self.rejected.append({"index": index, **error.as_dict()})

    def stored(self, message: Message) -> None:
        """Count a stored message: accepted, or flagged (under its first flag) when changed."""
        if not message.flags:
            self.accepted += 1
            return
        self.flagged[message.flags[0].code] += 1
        self.warnings += [{"index": message.index, **f.as_dict()} for f in message.flags]


def _b2c() -> bool:
    return bool(settings.TEND_BUSINESS_MODEL == "b2c")


def tracking_ingest(
    *,
    raws: Sequence[Any],
    label: str,
    by: User | None = None,
    received_at: datetime | None = None,
    default_type: str | None = None,
    batch_sent_at: datetime | None = None,
    batch_context: dict[str, Any] | None = None,
    check_sizes: bool = True,
) -> IngestResult:
    """Store a list of raw Segment messages; bad ones are reported by index, good ones kept.

    Customers and contacts created or changed by identify/group are audited as ``by`` (the
    write key's user) with ``label`` (``api:<key name>``)."""
    received_at = received_at or timezone.now()
    result = IngestResult()
    messages: list[Message] = []
    for index, raw in enumerate(raws):
        try:
            messages.append(
                parse_message(
                    raw,
                    index=index,
                    received_at=received_at,
                    default_type=default_type,
                    batch_sent_at=batch_sent_at,
                    batch_context=batch_context,
                    check_size=check_sizes,
                )
            )
        except Rejected as error:
            result.reject(index, error)
    parse_rejections = list(result.rejected)
    for attempt in range(1, RETRY_ATTEMPTS + 1):
        # A deadlock or serialization failure rolls the whole transaction back; it is run again
        # from the parsed messages (nothing of the failed attempt stayed: message ids, rollups
        # and ledger counts start from the same state), unless an outer transaction holds it.
        result = IngestResult(rejected=list(parse_rejections))
        outermost = not connection.in_atomic_block
        try:
            _store(messages, result=result, by=by, label=label, received_at=received_at)
        except OperationalError as error:
            if not outermost or attempt == RETRY_ATTEMPTS or not _retryable(error):
                raise
            logger.warning(
                "tracking batch of %d messages hit %s; running it again (attempt %d of %d)",
                len(messages),
                type(error.__cause__).__name__,
                attempt + 1,
                RETRY_ATTEMPTS,
            )
            time.sleep(random.uniform(0.5, 1.5) * RETRY_BACKOFF * 2 ** (attempt - 1))
            continue
        break
    result.rejected.sort(key=lambda r: int(r["index"]))
    result.warnings.sort(key=lambda r: int(r["index"]))
    return result


def _store(
    messages: list[Message],
    *,
    result: IngestResult,
    by: User | None,
    label: str,
    received_at: datetime,
) -> None:
    """Write the parsed messages in one transaction, taking row locks in one order.

    Every batch locks the existing customer rows it will change or count for, in ascending id
    order, before it changes any of them (then the identity rows its identify, group and alias
    messages change, in key order): concurrent batches that share customers queue on the first
    shared customer instead of deadlocking on each other's rows. Rows under a customer (its
    contacts, rollups, timeline and audit entries, last-seen) are only written while holding
    the customer's lock; the ledger rows come last, in sorted order.
    """
    with transaction.atomic():
        locked = _rows_lock(messages)
        events: list[Message] = []
        for message in messages:
            if message.type in EVENT_TYPES:
                events.append(message)
                continue
            try:
                with transaction.atomic():
                    _identity_apply(message, by=by, label=label)
                result.stored(message)
            except Rejected as error:
                result.reject(message.index, error)
        if events:
            inserted, duplicates = _events_write(events, received_at=received_at, locked=locked)
            for message in inserted:
                result.stored(message)
            result.duplicates += duplicates
        stats_add(
            source=SOURCE,
            accepted=result.accepted,
            duplicates=result.duplicates,
            rejected=Counter(str(r["code"]) for r in result.rejected),
            flagged=result.flagged,
            at=received_at,
        )


def _retryable(error: OperationalError) -> bool:
    """A deadlock or serialization failure: the database rolled the transaction back, and the
    same transaction run again can succeed."""
    return getattr(error.__cause__, "sqlstate", None) in RETRY_SQLSTATES


def _rows_lock(messages: list[Message]) -> set[int]:
    """Lock the existing rows that this batch's identity messages may change, in one order.

    First the customers (ascending id) that any message of the batch resolves to or names:
    by group id, by a user's or anonymous id's identity, as the customer of a contact whose
    external id is a user id (B2C: the customer with that external id); then the identity rows
    of identify, group and alias messages (ascending key). Returns the locked customer ids.
    Batches of events only lock their customers later, in ``_events_write``. PostgreSQL only:
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
    customers = {link.customer_id for link in _identities(keys).values() if link.customer_id}
    named = set(users) if _b2c() else {m.group_id for m in messages if m.group_id}
    if named:
        customers.update(
            Customer.objects.filter(external_id__in=named).values_list("pk", flat=True)
        )
    if not _b2c():
        people = {m.user_id for m in identity if m.user_id}
        people |= {m.previous_id for m in identity if m.previous_id}
        if people:
            customers.update(
                Contact.objects.filter(external_id__in=people).values_list("customer_id", flat=True)
            )
    locked = _customers_lock(customers)
    changed = set()
    for m in identity:
        changed |= {f"u:{k}" for k in (m.user_id, m.previous_id) if k}
        changed |= {f"a:{k}" for k in (m.anonymous_id, m.previous_id) if k}
    _pg_execute(
        f"SELECT 1 FROM {Identity._meta.db_table} WHERE key = ANY(%b::text[]) "
        "ORDER BY key FOR NO KEY UPDATE",
        [sorted(changed)],
    )
    return locked


def _customers_lock(ids: set[int]) -> set[int]:
    """Lock these customer rows in ascending id order (PostgreSQL; SQLite needs no row locks).

    ``FOR NO KEY UPDATE`` is the lock an UPDATE of the row takes; inserts that refer to the
    customer (events, rollups, contacts, timeline) take ``FOR KEY SHARE`` and do not wait.
    """
    if not ids or connection.vendor != "postgresql":
        return set(ids)
    _pg_execute(
        f"SELECT 1 FROM {Customer._meta.db_table} WHERE id = ANY(%b::bigint[]) "
        "ORDER BY id FOR NO KEY UPDATE",
        [sorted(ids)],
    )
    return set(ids)


def _pg_execute(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run ``sql`` with server-side binding on Django's PostgreSQL connection (same transaction).

    Django's default client-side binding renders every array element into the SQL text in
    Python, quoting each string with a regex (6 ms per 100-event batch); ``%b`` parameters are
    sent bound, in binary, with no quoting at all.
    """
    import psycopg

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


# --- events ------------------------------------------------------------------------------


@dataclass
class _Resolved:
    customer_id: int | None
    contact_id: int | None


def _events_write(
    messages: list[Message], *, received_at: datetime, locked: Set[int] = frozenset()
) -> tuple[list[Message], int]:
    """Insert new events (retried message ids are skipped), then rollups and last-seen.

    The customers the events land on are locked (ascending id) before their rollups and
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
    for _, message, resolved in inserted:
        if resolved.customer_id is None:
            continue
        counts[(resolved.customer_id, message.timestamp.date(), message.name)] += 1
        seen = last_seen.get(resolved.customer_id)
        if seen is None or message.timestamp > seen:
            last_seen[resolved.customer_id] = message.timestamp
    # The inserts above only refer to the customers (FOR KEY SHARE, which never waits for a
    # batch's lock); the counters and last-seen below are the customers' own rows.
    _customers_lock(set(last_seen) - locked)
    rollups_increment(counts)
    customers_touch(last_seen)
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
        # One array per column: a short statement parsed once, where a 100-row VALUES list
        # costs milliseconds of placeholder parsing per batch.
        rows = _pg_execute(
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


def rollups_increment(counts: Counter[tuple[int, Any, str]]) -> None:
    """Add to daily rollups in one upsert (count = count + n); keys sorted to avoid deadlocks."""
    if not counts:
        return
    table = DailyRollup._meta.db_table
    keys = sorted(counts)
    upsert = (
        f" ON CONFLICT (customer_id, day, name) DO UPDATE SET count = {table}.count + "
        "excluded.count"
    )
    if connection.vendor == "postgresql":
        _pg_execute(
            f"INSERT INTO {table} (customer_id, day, name, count) SELECT * FROM "
            "unnest(%b::bigint[], %b::date[], %b::text[], %b::int[])" + upsert,
            [
                [k[0] for k in keys],
                [k[1] for k in keys],
                [k[2] for k in keys],
                [counts[k] for k in keys],
            ],
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (customer_id, day, name, count) VALUES "
            + ", ".join(["(%s, %s, %s, %s)"] * len(keys))
            + upsert,
            [v for k in keys for v in (*k, counts[k])],
        )


def customers_touch(last_seen: dict[int, datetime]) -> None:
    """Move ``last_seen_at`` forward (never back, at most 1 minute stale) in one statement."""
    if not last_seen:
        return
    table = Customer._meta.db_table
    ids = sorted(last_seen)
    # Moved only when at least a minute newer: a busy customer's row (and its many indexes,
    # trigram ones on PostgreSQL) is rewritten once a minute, not on every batch.
    minute_before = (
        "v.ts - interval '1 minute'"
        if connection.vendor == "postgresql"
        else "strftime('%%Y-%%m-%%d %%H:%%M:%%f', v.ts, '-1 minute')"
    )
    only_forward = (
        f" WHERE {table}.id = v.id AND ({table}.last_seen_at IS NULL OR "
        f"{table}.last_seen_at < {minute_before})"
    )
    if connection.vendor == "postgresql":
        _pg_execute(
            f"UPDATE {table} SET last_seen_at = v.ts FROM "
            "unnest(%b::bigint[], %b::timestamptz[]) AS v(id, ts)" + only_forward,
            [ids, [last_seen[i] for i in ids]],
        )
        return
    with connection.cursor() as cursor:
        adapt = connection.ops.adapt_datetimefield_value
        cursor.execute(
            f"UPDATE {table} SET last_seen_at = v.ts FROM (SELECT column1 AS id, "
            "column2 AS ts FROM (VALUES "
            + ", ".join(["(%s, %s)"] * len(ids))
            + ")) AS v"
            + only_forward,
            [v for i in ids for v in (i, adapt(last_seen[i]))],
        )


def _resolve(messages: list[Message]) -> dict[str, _Resolved]:
    """The customer (and contact) of each event, from groupId, userId or anonymousId."""
    group_ids = {m.group_id for m in messages if m.group_id}
    keys = {f"u:{m.user_id}" for m in messages if m.user_id}
    keys |= {f"a:{m.anonymous_id}" for m in messages if m.anonymous_id}
    groups: dict[str | None, int] = {}
    if group_ids and not _b2c():
        groups = dict(
            Customer.objects.filter(external_id__in=group_ids).values_list("external_id", "pk")
        )
    identities = _identities(keys)
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


class _Link(NamedTuple):
    user_id: str
    customer_id: int | None
    contact_id: int | None


def _links(keys: set[str]) -> dict[str, _Link]:
    """Identity rows by key; on the hot path of every batch, so one plain statement."""
    if not keys:
        return {}
    table = Identity._meta.db_table
    select = f"SELECT key, user_id, customer_id, contact_id FROM {table} WHERE key "
    if connection.vendor == "postgresql":
        rows = _pg_execute(select + "= ANY(%b::text[])", [list(keys)])
    else:
        with connection.cursor() as cursor:
            cursor.execute(select + f"IN ({', '.join(['%s'] * len(keys))})", list(keys))
            rows = cursor.fetchall()
    return {key: _Link(*rest) for key, *rest in rows}


def _identities(keys: set[str]) -> dict[str, _Link]:
    """Links for these identity keys, plus the users their anonymous ids were aliased to, plus
    users known only as a contact or customer external id (created by imports or by hand)."""
    found = _links(keys)
    aliased = {f"u:{i.user_id}" for i in found.values() if i.user_id and not i.customer_id}
    aliased -= set(found)
    if aliased:
        found.update(_links(aliased))
    unknown = {k[2:] for k in (keys | aliased) - set(found) if k.startswith("u:")}
    if unknown:
        rows: list[tuple[str | None, int, int | None]]
        if _b2c():
            rows = [
                (ext, pk, None)
                for ext, pk in Customer.objects.filter(external_id__in=unknown).values_list(
                    "external_id", "pk"
                )
            ]
        else:
            rows = list(
                Contact.objects.filter(external_id__in=unknown).values_list(
                    "external_id", "customer_id", "pk"
                )
            )
        for external_id, customer_id, contact_id in rows:
            found[f"u:{external_id}"] = _Link("", customer_id, contact_id)
    return found


# --- identities --------------------------------------------------------------------------


def _identity_apply(message: Message, *, by: User | None, label: str) -> None:
    """Apply one identify, group or alias message; a concurrent twin is retried once."""
    try:
        with transaction.atomic():
            _identity_apply_once(message, by=by, label=label)
    except IntegrityError:
        # Another request created the same customer, contact or identity just now; now it
        # exists, so the second attempt updates it.
        _identity_apply_once(message, by=by, label=label)


def _identity_apply_once(message: Message, *, by: User | None, label: str) -> None:
    try:
        if message.type == "identify":
            _identify(message, by=by, label=label)
        elif message.type == "group":
            _group(message, by=by, label=label)
        else:
            _alias(message)
    except ValidationError as error:
        names = getattr(error, "error_dict", {})
        name = next(iter(names), "")
        raise Rejected(
            "bad_trait", "; ".join(error.messages), f"traits.{name}" if name else "traits"
        ) from None
    except ValueError as error:
        raise Rejected("bad_trait", str(error), "traits") from None


def customer_fields_from_traits(traits: dict[str, Any], *, kind: str) -> dict[str, Any]:
    """Customer fields from Segment traits; traits Tend has no column for go to ``traits``.

    The rules (and the flags they raise) live in ``messages.customer_fields``, which checked
    this message before the write."""
    return customer_fields(traits, kind=kind)[0]


def _customer_upsert(
    *, external_id: str, traits: dict[str, Any], kind: str, by: User | None, label: str
) -> Customer:
    fields = customer_fields_from_traits(traits, kind=kind)
    customer = Customer.objects.filter(external_id=external_id).first()
    if customer is None:
        name = fields.pop("name", "") or fields.get("email") or external_id
        return customer_create(
            by=by, name=name, kind=kind, external_id=external_id, label=label, **fields
        )
    fields.pop("signed_up_at", None)  # createdAt counts on creation only
    if "traits" in fields:
        fields["traits"] = {**customer.traits, **fields["traits"]}
    if not fields.get("name", True):
        fields.pop("name")
    return customer_update(customer=customer, by=by, label=label, **fields)


def contact_fields_from_traits(traits: dict[str, Any]) -> dict[str, Any]:
    return contact_fields(traits)[0]


def _contact_upsert(
    *,
    user_id: str,
    customer: Customer | None,
    traits: dict[str, Any],
    by: User | None,
    label: str,
) -> Contact | None:
    """Create or update the contact for ``user_id``; None while its customer is unknown."""
    fields = contact_fields_from_traits(traits)
    contact = Contact.objects.filter(external_id=user_id).first()
    if contact is not None:
        if "traits" in fields:
            fields["traits"] = {**contact.traits, **fields["traits"]}
        return contact_update(contact=contact, by=by, label=label, **fields)
    if customer is None:
        return None
    name = fields.pop("name", "") or fields.get("email") or user_id
    return contact_create(
        customer=customer, by=by, name=name, external_id=user_id, label=label, **fields
    )


def _identity_link(
    key: str,
    *,
    customer: Customer | None,
    contact: Contact | None = None,
    user_id: str = "",
    traits: dict[str, Any] | None = None,
) -> Identity:
    identity, _ = Identity.objects.get_or_create(key=key)
    if customer is not None:
        identity.customer = customer
    if contact is not None:
        identity.contact = contact
    if user_id:
        identity.user_id = user_id
    if traits is not None:
        identity.traits = traits
    identity.updated_at = timezone.now()
    identity.save()
    return identity


def _identify(message: Message, *, by: User | None, label: str) -> None:
    user_id, anonymous_id = message.user_id, message.anonymous_id
    if not user_id:
        # An anonymous identify: keep its traits for when the person signs up.
        _identity_link(f"a:{anonymous_id}", customer=None, traits=message.traits)
        return
    contact: Contact | None = None
    if _b2c():
        customer: Customer | None = _customer_upsert(
            external_id=user_id, traits=message.traits, kind=Kind.PERSON, by=by, label=label
        )
    else:
        customer = None
        if message.group_id:
            customer = _customer_upsert(
                external_id=message.group_id, traits={}, kind=Kind.COMPANY, by=by, label=label
            )
        else:
            customer = _known_user(user_id)[0]
        contact = _contact_upsert(
            user_id=user_id, customer=customer, traits=message.traits, by=by, label=label
        )
        if contact is not None:
            customer = contact.customer if customer is None else customer
    pending_traits = None if customer is not None else message.traits
    _identity_link(f"u:{user_id}", customer=customer, contact=contact, traits=pending_traits)
    if anonymous_id:
        _identity_link(f"a:{anonymous_id}", customer=customer, contact=contact, user_id=user_id)
    if customer is not None:
        _merge(user_id=user_id, extra_anonymous=[anonymous_id], customer=customer, contact=contact)


def _group(message: Message, *, by: User | None, label: str) -> None:
    if _b2c():
        return  # B2C: customers are people, made by identify; groups have no meaning here.
    customer = _customer_upsert(
        external_id=message.group_id, traits=message.traits, kind=Kind.COMPANY, by=by, label=label
    )
    user_id, anonymous_id = message.user_id, message.anonymous_id
    if not user_id:
        _identity_link(f"a:{anonymous_id}", customer=customer)
        _merge(user_id="", extra_anonymous=[anonymous_id], customer=customer, contact=None)
        return
    known = Identity.objects.filter(key=f"u:{user_id}").first()
    contact = None
    if known is not None and known.traits:
        contact = _contact_upsert(
            user_id=user_id, customer=customer, traits=known.traits, by=by, label=label
        )
    else:
        contact = Contact.objects.filter(external_id=user_id).first()
    if contact is not None and contact.customer_id != customer.pk:
        contact = None  # a person can be in several groups; they stay the contact of the first
    _identity_link(f"u:{user_id}", customer=customer, contact=contact, traits={})
    if anonymous_id:
        _identity_link(f"a:{anonymous_id}", customer=customer, contact=contact, user_id=user_id)
    _merge(user_id=user_id, extra_anonymous=[anonymous_id], customer=customer, contact=contact)


def _known_user(user_id: str) -> tuple[Customer | None, Contact | None]:
    """The customer and contact of a user id: linked by tracking, or created elsewhere (import,
    REST API, by hand) with it as the contact's (B2B) or customer's (B2C) external id."""
    identity = Identity.objects.filter(key=f"u:{user_id}").select_related("customer").first()
    if identity is not None and identity.customer is not None:
        return identity.customer, identity.contact
    if _b2c():
        return Customer.objects.filter(external_id=user_id).first(), None
    contact = Contact.objects.filter(external_id=user_id).select_related("customer").first()
    return (contact.customer, contact) if contact is not None else (None, None)


def _alias(message: Message) -> None:
    user_id, previous_id = message.user_id, message.previous_id
    customer, contact = _known_user(user_id)
    if customer is None:
        customer, contact = _known_user(previous_id)
    if customer is not None:
        _identity_link(f"u:{user_id}", customer=customer, contact=contact)
    _identity_link(f"a:{previous_id}", customer=customer, contact=contact, user_id=user_id)
    if customer is not None:
        _merge(
            user_id=user_id,
            extra_anonymous=[previous_id],
            customer=customer,
            contact=contact,
            extra_users=[previous_id],
        )


def _merge(
    *,
    user_id: str,
    extra_anonymous: Iterable[str],
    customer: Customer,
    contact: Contact | None,
    extra_users: Iterable[str] = (),
) -> int:
    """Attach the waiting events of this user and its anonymous ids to ``customer``.

    Updates the events, recounts the affected customer's rollups from the first moved day and
    moves ``last_seen_at``. Returns the number of events moved.
    """
    users = {u for u in [user_id, *extra_users] if u}
    anonymous = {a for a in extra_anonymous if a}
    if user_id:
        anonymous |= {
            key[2:]
            for key in Identity.objects.filter(user_id=user_id, key__startswith="a:").values_list(
                "key", flat=True
            )
        }
    waiting = PendingEvent.objects.none()
    if users:
        waiting = waiting | PendingEvent.objects.filter(user_id__in=users)
    if anonymous:
        waiting = waiting | PendingEvent.objects.filter(anonymous_id__in=anonymous)
    event_ids = list(waiting.values_list("event_id", flat=True))
    if not event_ids:
        return 0
    events = Event.objects.filter(pk__in=event_ids, customer__isnull=True)
    first = events.order_by("timestamp").values_list("timestamp", flat=True).first()
    last = events.order_by("-timestamp").values_list("timestamp", flat=True).first()
    moved = events.update(customer=customer, contact=contact)
    PendingEvent.objects.filter(event_id__in=event_ids).delete()
    if moved and first is not None and last is not None:
        rollups_rebuild(since=first.date(), customer_ids=[customer.pk])
        customers_touch({customer.pk: last})
    return moved
