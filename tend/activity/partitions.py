"""The events table on PostgreSQL: partitioned by month of ``timestamp`` (see
docs/events-storage.md).

- One partition per calendar month (UTC), ``activity_event_yYYYYmMM``, and a DEFAULT partition,
  ``activity_event_default``, so no event is ever refused for want of a partition.
- A unique index on a partitioned table must hold the partition key, and a retried message
  does not always carry the same timestamp (without one, the arrival time is used), so message
  ids are kept unique in a small unpartitioned table, ``activity_event_message_id``, written by
  a trigger on every insert whatever the writer (ORM, tracking API, COPY of an import). A
  stored message id raises a unique violation as the old constraint did, unless the
  transaction said ``SET LOCAL tend.event_duplicates = 'skip'`` (the tracking API and imports:
  ``ON CONFLICT DO NOTHING`` semantics); deleting or truncating events frees their ids.

SQLite keeps one table with its unique constraint; every function here is a no-op there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.db import connection, transaction

log = logging.getLogger(__name__)

TABLE = "activity_event"
DEFAULT = f"{TABLE}_default"
DEDUPE = f"{TABLE}_message_id"
PREFIX = f"{TABLE}_y"
# Months before this many ago get no partition of their own: their events stay in DEFAULT.
MAX_PAST_MONTHS = 120
# pg_advisory_xact_lock key serialising partition creation ("tendpart").
LOCK_KEY = 0x74656E6470617274

# The trigger functions; created by migration 0006 and named in docs/events-storage.md.
DEDUPE_SQL = f"""
CREATE TABLE IF NOT EXISTS {DEDUPE} (
    message_id varchar(100) PRIMARY KEY,
    event_id bigint NOT NULL
);
CREATE OR REPLACE FUNCTION activity_event_claim_message_id() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {DEDUPE} (message_id, event_id) VALUES (NEW.message_id, NEW.id)
        ON CONFLICT DO NOTHING;
    IF FOUND THEN
        RETURN NEW;
    END IF;
    -- An UPDATE moving an event to another partition inserts it again: same id, keep it.
    IF EXISTS (SELECT 1 FROM {DEDUPE} WHERE message_id = NEW.message_id
               AND event_id = NEW.id) THEN
        RETURN NEW;
    END IF;
    IF current_setting('tend.event_duplicates', true) = 'skip' THEN
        RETURN NULL;
    END IF;
    RAISE unique_violation USING
        MESSAGE = format('duplicate message_id %L', NEW.message_id),
        CONSTRAINT = 'event_message_id_unique', TABLE = '{TABLE}';
END $$;
CREATE OR REPLACE FUNCTION activity_event_free_message_ids() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {DEDUPE} d USING gone g
        WHERE g.message_id IS NOT NULL AND d.message_id = g.message_id AND d.event_id = g.id;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION activity_event_truncate_message_ids() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE {DEDUPE};
    RETURN NULL;
END $$;
CREATE TRIGGER event_claim_message_id BEFORE INSERT ON {TABLE}
    FOR EACH ROW WHEN (NEW.message_id IS NOT NULL)
    EXECUTE FUNCTION activity_event_claim_message_id();
-- Imports may run with session_replication_role = replica (foreign key triggers off): this
-- one must fire all the same.
ALTER TABLE {TABLE} ENABLE ALWAYS TRIGGER event_claim_message_id;
CREATE TRIGGER event_free_message_ids AFTER DELETE ON {TABLE}
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION activity_event_free_message_ids();
CREATE TRIGGER event_truncate_message_ids AFTER TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION activity_event_truncate_message_ids();
"""

DROP_DEDUPE_SQL = f"""
DROP TRIGGER IF EXISTS event_claim_message_id ON {TABLE};
DROP TRIGGER IF EXISTS event_free_message_ids ON {TABLE};
DROP TRIGGER IF EXISTS event_truncate_message_ids ON {TABLE};
DROP FUNCTION IF EXISTS activity_event_claim_message_id();
DROP FUNCTION IF EXISTS activity_event_free_message_ids();
DROP FUNCTION IF EXISTS activity_event_truncate_message_ids();
DROP TABLE IF EXISTS {DEDUPE};
"""


@dataclass(frozen=True)
class Partition:
    name: str
    start: date | None  # None for DEFAULT
    end: date | None
    rows_estimate: int
    bytes: int

    @property
    def is_default(self) -> bool:
        return self.start is None


def month_start(value: date | datetime) -> date:
    return date(value.year, value.month, 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{PREFIX}{month.year:04d}m{month.month:02d}"


def is_partitioned(cursor: Any = None) -> bool:
    """Whether the events table is partitioned (PostgreSQL after migration 0006)."""
    if connection.vendor != "postgresql":
        return False
    if cursor is None:
        with connection.cursor() as own:
            return is_partitioned(own)
    cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = %s::regclass", [TABLE])
    return cursor.fetchone() is not None


def skip_duplicates(cursor: Any) -> None:
    """In this transaction, inserting a stored message id skips the row (``ON CONFLICT DO
    NOTHING``) instead of raising. PostgreSQL only; the caller is in a transaction."""
    cursor.execute("SET LOCAL tend.event_duplicates = 'skip'")


def stored_message_ids(ids: list[str]) -> set[str]:
    """Which of these message ids are stored (looked up in the dedupe table on PostgreSQL,
    where the partitioned events table has no index on message_id)."""
    from tend.activity.models import Event

    if not ids:
        return set()
    if not is_partitioned():
        stored = Event.objects.filter(message_id__in=ids).values_list("message_id", flat=True)
        return {m for m in stored if m is not None}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT message_id FROM {DEDUPE} WHERE message_id = ANY(%s)", [ids])
        return {row[0] for row in cursor.fetchall()}


def partitions_list(cursor: Any = None) -> list[Partition]:
    """The events table's partitions, oldest first, DEFAULT last (empty when unpartitioned)."""
    if not is_partitioned(cursor):
        return []
    if cursor is None:
        with connection.cursor() as own:
            return partitions_list(own)
    cursor.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), c.reltuples::bigint, "
        "pg_total_relation_size(c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = %s::regclass",
        [TABLE],
    )
    out = []
    for name, bound, estimate, size in cursor.fetchall():
        start = end = None
        if bound != "DEFAULT":
            # FOR VALUES FROM ('2026-12-01 00:00:00+00') TO ('2027-01-01 00:00:00+00')
            parts = bound.split("'")
            start = datetime.fromisoformat(parts[1]).astimezone(UTC).date()
            end = datetime.fromisoformat(parts[3]).astimezone(UTC).date()
        out.append(Partition(name, start, end, max(int(estimate), 0), int(size)))
    out.sort(key=lambda p: (p.start is None, p.start or date.min))
    return out


def partition_create(cursor: Any, month: date) -> int | None:
    """Create the partition for ``month``; rows of that month waiting in DEFAULT move into it.
    Returns how many rows moved, None when another transaction created it meanwhile. The
    caller holds a transaction (two imports, or an import and the daily task, may want the
    same month: the second waits for the first to commit, then finds it there).

    Built as a plain table and then attached: ATTACH takes only a SHARE UPDATE EXCLUSIVE lock
    on the events table, so tracking and imports keep writing meanwhile (CREATE TABLE …
    PARTITION OF would wait for them and stop them). The attached table gets the indexes and
    the message-id trigger of the events table."""
    name, start, end = partition_name(month), month, add_months(month, 1)
    low, high = f"'{start.isoformat()} 00:00:00+00'", f"'{end.isoformat()} 00:00:00+00'"
    within = f'"timestamp" >= {low} AND "timestamp" < {high}'
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
    cursor.execute("SELECT to_regclass(%s)", [name])
    if cursor.fetchone()[0] is not None:
        return None
    cursor.execute(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS)")
    # A plain table has no triggers: the rows keep their ids and their message ids stay
    # claimed. Deleting from the partition itself (not through the parent) frees none.
    cursor.execute(
        f"WITH moved AS (DELETE FROM {DEFAULT} WHERE {within} RETURNING *) "
        f"INSERT INTO {name} SELECT * FROM moved"
    )
    moved = int(cursor.rowcount)
    # The bounds as a checked constraint first: ATTACH then skips scanning the new table.
    cursor.execute(f"ALTER TABLE {name} ADD CONSTRAINT {name}_bounds CHECK ({within})")
    cursor.execute(
        f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM ({low}) TO ({high})"
    )
    cursor.execute(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bounds")
    return moved


def partitions_cover(months: set[date], *, ahead: int) -> int:
    """Create the partitions missing for ``months`` (those within the window partitions are
    kept for: ``MAX_PAST_MONTHS`` back to ``ahead`` months ahead), so a bulk load of past
    events lands in monthly partitions, not in DEFAULT. Returns how many were created."""
    if not months or not is_partitioned():
        return 0
    current = month_start(datetime.now(UTC))
    low, high = add_months(current, -MAX_PAST_MONTHS), add_months(current, ahead)
    wanted = {m for m in months if low <= m <= high}
    missing = wanted - {p.start for p in partitions_list()}
    created = 0
    for month in sorted(missing):
        with transaction.atomic(), connection.cursor() as cursor:
            if partition_create(cursor, month) is not None:
                created += 1
                log.info("events partition %s created", partition_name(month))
    return created


def partitions_ensure(*, ahead: int, today: date | None = None) -> dict[str, int]:
    """Create monthly partitions up to ``ahead`` months past this one, and for any month with
    events waiting in DEFAULT (moving them in), back to ``MAX_PAST_MONTHS`` months ago.

    Returns ``created``, ``moved`` (rows out of DEFAULT) and ``default_rows`` (rows still in
    DEFAULT: older than that, or too far ahead), which the caller reports.
    """
    result = {"created": 0, "moved": 0, "default_rows": 0}
    if not is_partitioned():
        return result
    today = today or datetime.now(UTC).date()
    current = month_start(today)
    existing = {p.start for p in partitions_list() if p.start is not None}
    wanted = {add_months(current, n) for n in range(ahead + 1)}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT date_trunc('month', \"timestamp\" AT TIME ZONE 'UTC')::date "
            f"FROM {DEFAULT}"
        )
        waiting = {row[0] for row in cursor.fetchall()}
    low, high = add_months(current, -MAX_PAST_MONTHS), add_months(current, ahead)
    wanted |= {m for m in waiting if low <= m <= high}
    for month in sorted(wanted - existing):
        with transaction.atomic(), connection.cursor() as cursor:
            moved = partition_create(cursor, month)
        if moved is not None:
            result["moved"] += moved
            result["created"] += 1
            log.info("events partition %s created", partition_name(month))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {DEFAULT}")
        result["default_rows"] = int(cursor.fetchone()[0])
    if result["default_rows"]:
        log.warning(
            "%s events are in %s (timestamps outside the monthly partitions); "
            "see docs/events-storage.md",
            result["default_rows"],
            DEFAULT,
        )
    return result
