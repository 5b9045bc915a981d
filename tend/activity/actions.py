"""Writes for usage events and their daily rollups."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from django.db import connection, transaction

from tend.activity.models import DailyRollup, Event


def _day_expr() -> str:
    if connection.vendor == "postgresql":
        return "(e.timestamp AT TIME ZONE 'UTC')::date"
    return "date(e.timestamp)"


@transaction.atomic
def rollups_rebuild(*, since: date | None = None, customer_ids: Iterable[int] | None = None) -> int:
    """Recount daily rollups from events for days ≥ ``since`` (all days when None).

    Replaces the affected rows in one statement pair, so it is safe to run again and safe
    next to ingestion that increments rollups for today. Returns the rows written.
    """
    where = ["e.customer_id IS NOT NULL"]
    params: list[Any] = []
    rollups = DailyRollup.objects.all()
    if since is not None:
        rollups = rollups.filter(day__gte=since)
        start = datetime(since.year, since.month, since.day, tzinfo=UTC)
        where.append("e.timestamp >= %s")
        params.append(connection.ops.adapt_datetimefield_value(start))
    ids = None if customer_ids is None else list(customer_ids)
    if ids is not None:
        if not ids:
            return 0
        rollups = rollups.filter(customer_id__in=ids)
        where.append(f"e.customer_id IN ({', '.join(['%s'] * len(ids))})")
        params.extend(ids)
    rollups._raw_delete(rollups.db)  # type: ignore[attr-defined]
    table = DailyRollup._meta.db_table
    events = Event._meta.db_table
    day = _day_expr()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (customer_id, day, name, count) "
            f"SELECT e.customer_id, {day}, e.name, COUNT(*) FROM {events} e "
            f"WHERE {' AND '.join(where)} GROUP BY e.customer_id, {day}, e.name",
            params,
        )
        return cursor.rowcount
