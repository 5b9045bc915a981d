"""Writes for the data-quality ledger."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone

from tend.ingest.models import IngestStat, Outcome


def stats_add(
    *,
    source: str,
    accepted: int = 0,
    duplicates: int = 0,
    rejected: Mapping[str, int] | None = None,
    flagged: Mapping[str, int] | None = None,
    at: datetime | None = None,
) -> None:
    """Add counts for ``source`` on the UTC day of ``at`` (now by default).

    ``flagged`` counts messages that were stored with a warning, by reason.

    One upsert per (outcome, reason) with ``count = count + n``, so concurrent web processes
    and workers never lose an increment and never check-then-act.
    """
    at = at or timezone.now()
    day = at.astimezone(UTC).date()
    rows: Counter[tuple[str, str]] = Counter()
    if accepted:
        rows[(Outcome.ACCEPTED, "")] += accepted
    if duplicates:
        rows[(Outcome.DUPLICATE, "")] += duplicates
    for reason, n in (rejected or {}).items():
        if n:
            rows[(Outcome.REJECTED, reason[:60])] += n
    for reason, n in (flagged or {}).items():
        if n:
            rows[(Outcome.FLAGGED, reason[:60])] += n
    if not rows:
        return
    table = IngestStat._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        for (outcome, reason), n in sorted(rows.items()):
            cursor.execute(
                f"INSERT INTO {table} (source, day, outcome, reason, count, last_at) "
                "VALUES (%s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (source, day, outcome, reason) DO UPDATE SET "
                "count = " + table + ".count + excluded.count, "
                "last_at = CASE WHEN excluded.last_at > " + table + ".last_at "
                "THEN excluded.last_at ELSE " + table + ".last_at END",
                [
                    source,
                    day,
                    str(outcome),
                    reason,
                    n,
                    connection.ops.adapt_datetimefield_value(at),
                ],
            )
