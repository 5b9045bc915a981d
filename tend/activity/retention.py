"""Removing raw events past their retention: their daily rollups stay, so every metric,
health measure and segment that reads rollups is unchanged.

``events_purge_before`` is the one way events are purged (the retention task calls it); on
PostgreSQL with the events table partitioned by month it drops whole partitions.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from tend.activity.models import Event

# Rows deleted per statement: short transactions, so tracking keeps writing meanwhile.
PURGE_BATCH = 5_000


def events_purge_before(cutoff: datetime) -> int:
    """Delete events whose ``timestamp`` is before ``cutoff``; returns how many went.

    Half-open: an event exactly at ``cutoff`` stays."""
    removed = 0
    while True:
        with transaction.atomic():
            ids = list(
                Event.objects.filter(timestamp__lt=cutoff)
                .order_by()
                .values_list("pk", flat=True)[:PURGE_BATCH]
            )
            if not ids:
                return removed
            removed += Event.objects.filter(pk__in=ids)._raw_delete(Event.objects.db)
