"""Database helpers shared by bulk writers."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, models


def analyze(model_classes: Iterable[type[models.Model]]) -> None:
    """Refresh the planner statistics of these tables after a bulk load.

    Without it PostgreSQL plans the next queries from pre-load row counts (seen: a sorted,
    paged customers list sorting 100,000 rows on disk instead of walking its index, 91 ms
    against 24 ms) until autovacuum gets round to it; SQLite has no statistics at all
    until ANALYZE runs.
    """
    with connection.cursor() as cursor:
        for model in model_classes:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
