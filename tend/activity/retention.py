"""Removing raw events past their retention: their daily rollups stay, so every metric,
health measure and segment that reads rollups is unchanged.

``events_purge_before`` is the one way events are purged (the retention task calls it). On
PostgreSQL, where the events table is partitioned by month (tend/activity/partitions.py), every
partition wholly before the cutoff is detached and dropped, and only the rest (the boundary
month, the DEFAULT partition) is deleted row by row; SQLite deletes in batches.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.db import connection, transaction

from tend.activity.models import Event
from tend.activity.partitions import DEDUPE, TABLE, is_partitioned, partitions_list

log = logging.getLogger(__name__)

# Rows deleted per statement: short transactions, so tracking keeps writing meanwhile.
PURGE_BATCH = 5_000
PENDING = "tracking_pendingevent"


def events_purge_before(cutoff: datetime) -> int:
    """Delete events whose ``timestamp`` is before ``cutoff``; returns how many went.

    Half-open: an event exactly at ``cutoff`` stays."""
    removed = 0
    if is_partitioned():
        for partition in partitions_list():
            if partition.end is not None and _midnight(partition.end) <= cutoff:
                removed += _partition_drop(partition.name)
    return removed + _delete_in_batches(cutoff)


def _midnight(day: object) -> datetime:
    return datetime.fromisoformat(f"{day}T00:00:00+00:00").astimezone(UTC)


def _partition_drop(name: str) -> int:
    """Drop one partition whose every event is past retention; the number of events it held.

    Its message ids are freed and its events' pending rows removed first (a DROP fires no
    trigger, and the pending rows' foreign key cannot point into a partitioned table), all in
    one transaction so a failure leaves the partition whole."""
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {quote(name)}")
        (rows,) = cursor.fetchone()
        cursor.execute(
            f"DELETE FROM {DEDUPE} d USING {quote(name)} e WHERE e.message_id IS NOT NULL "
            "AND d.message_id = e.message_id AND d.event_id = e.id"
        )
        cursor.execute(
            f"DELETE FROM {PENDING} p USING {quote(name)} e "
            "WHERE e.customer_id IS NULL AND p.event_id = e.id"
        )
        # A partition with deferred foreign key checks still queued (rows written earlier in
        # this transaction) cannot be dropped: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # The last statements take the table's exclusive lock: held only until the commit.
        cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {quote(name)}")
        cursor.execute(f"DROP TABLE {quote(name)}")
    log.info("events partition %s dropped (%s events)", name, rows)
    return int(rows)


def _delete_in_batches(cutoff: datetime) -> int:
    removed = 0
    while True:
        with transaction.atomic():
            # The timestamp condition on both lookups lets PostgreSQL visit only the partitions
            # that can hold such events.
            ids = list(
                Event.objects.filter(timestamp__lt=cutoff)
                .order_by()
                .values_list("pk", flat=True)[:PURGE_BATCH]
            )
            if not ids:
                return removed
            # Pending rows first: this raw delete does not cascade.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"DELETE FROM {PENDING} WHERE event_id IN ({', '.join(['%s'] * len(ids))})",
                    ids,
                )
            removed += Event.objects.filter(pk__in=ids, timestamp__lt=cutoff)._raw_delete(
                Event.objects.db
            )
