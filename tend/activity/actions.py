"""Writes for usage events, their daily rollups and the customers' last-seen moment.

The tracking API and event imports both count through here: one rollup upsert
(``rollups_increment``, ``rollups_add_stored``) and one last-seen update (``customers_touch``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection, transaction

from tend.activity.models import DailyRollup, Event
from tend.customers.models import Customer
from tend.lib.db import chunks, copy_escaped, pg_execute

# Rollup keys above which PostgreSQL gets them by COPY into a temporary table: binding arrays
# of 15,000 values costs psycopg more than the statement (an events import's batch), while a
# tracking batch's few hundred go faster bound in one statement.
COPY_FROM = 2_000
# SQLite: keys per multi-row statement (4 parameters each, far below its 32,766 limit).
SQLITE_ROWS = 2_000


def _upsert(table: str) -> str:
    return (
        f" ON CONFLICT (customer_id, day, name) DO UPDATE SET count = {table}.count + "
        "excluded.count"
    )


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


def rollups_increment(counts: Mapping[tuple[int, Any, str], int]) -> None:
    """Add counts (customer id, day, event name) → n to the daily rollups: one upsert
    (count = count + n), keys sorted so concurrent writers never deadlock on each other."""
    if not counts:
        return
    table = connection.ops.quote_name(DailyRollup._meta.db_table)
    keys = sorted(counts)
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            if len(keys) > SQLITE_ROWS:  # a prepared single-row upsert run per key
                cursor.executemany(
                    f"INSERT INTO {table} (customer_id, day, name, count) VALUES (%s, %s, %s, %s)"
                    + _upsert(table),
                    [(*k, counts[k]) for k in keys],
                )
                return
            cursor.execute(
                f"INSERT INTO {table} (customer_id, day, name, count) VALUES "
                + ", ".join(["(%s, %s, %s, %s)"] * len(keys))
                + _upsert(table),
                [v for k in keys for v in (*k, counts[k])],
            )
        return
    if len(keys) <= COPY_FROM:
        pg_execute(
            f"INSERT INTO {table} (customer_id, day, name, count) SELECT * FROM "
            "unnest(%b::bigint[], %b::date[], %b::text[], %b::int[])" + _upsert(table),
            [
                [k[0] for k in keys],
                [k[1] for k in keys],
                [k[2] for k in keys],
                [counts[k] for k in keys],
            ],
        )
        return
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute(
            "CREATE TEMP TABLE IF NOT EXISTS _tend_rollups (customer_id bigint, day date, "
            "name text, count integer) ON COMMIT DELETE ROWS"
        )
        text = "".join(
            [f"{pk}\t{day}\t{name}\t{counts[pk, day, name]}\n" for pk, day, name in keys]
        )
        # Escaping every name cost as much as the rest: look once at the whole text, and only
        # when a name holds a tab, a line break or a backslash escape them all.
        if (
            text.count("\t") != 3 * len(keys)
            or text.count("\n") != len(keys)
            or ("\\" in text or "\r" in text)
        ):
            text = "".join(
                [
                    f"{pk}\t{day}\t{copy_escaped(name)}\t{counts[pk, day, name]}\n"
                    for pk, day, name in keys
                ]
            )
        with raw.copy("COPY _tend_rollups (customer_id, day, name, count) FROM STDIN") as copy:
            copy.write(text.encode())
        raw.execute(
            f"INSERT INTO {table} (customer_id, day, name, count) SELECT customer_id, day, name, "
            "count FROM _tend_rollups ORDER BY customer_id, day, name" + _upsert(table)
        )
        raw.execute("TRUNCATE _tend_rollups")


def rollups_add_stored(*, after_id: int, received_at: datetime, source: str) -> None:
    """Add to the daily rollups the events of ``source`` received at ``received_at`` with an id
    above ``after_id``: what one batch really stored when some of its events were there
    already (retries skipped by ``ON CONFLICT``), and nothing another writer stored meanwhile.
    """
    table = connection.ops.quote_name(DailyRollup._meta.db_table)
    events = connection.ops.quote_name(Event._meta.db_table)
    day = _day_expr()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (customer_id, day, name, count) "
            f"SELECT e.customer_id, {day}, e.name, COUNT(*) FROM {events} e "
            "WHERE e.id > %s AND e.received_at = %s AND e.source = %s "
            "AND e.customer_id IS NOT NULL "
            f"GROUP BY e.customer_id, {day}, e.name" + _upsert(table),
            [after_id, connection.ops.adapt_datetimefield_value(received_at), source],
        )


def customers_touch(last_seen: Mapping[int, datetime], *, slack: timedelta = timedelta(0)) -> None:
    """Move customers' ``last_seen_at`` forward to these moments, never back, in one statement
    per few thousand customers. With ``slack``, only when at least that much newer: the
    tracking API rewrites a busy customer's row (and its many indexes, trigram ones on
    PostgreSQL) once a minute, not on every batch."""
    if not last_seen:
        return
    table = connection.ops.quote_name(Customer._meta.db_table)
    ids = sorted(last_seen)
    seconds = int(slack.total_seconds())
    if connection.vendor == "postgresql":
        newer = f"v.ts - interval '{seconds} seconds'" if seconds else "v.ts"
        pg_execute(
            f"UPDATE {table} SET last_seen_at = v.ts FROM "
            "unnest(%b::bigint[], %b::timestamptz[]) AS v(id, ts) "
            f"WHERE {table}.id = v.id AND ({table}.last_seen_at IS NULL OR "
            f"{table}.last_seen_at < {newer})",
            [ids, [last_seen[i] for i in ids]],
        )
        return
    newer = (
        f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', v.ts, '-{seconds} seconds')" if seconds else "v.ts"
    )
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        for chunk in chunks(ids, SQLITE_ROWS):
            cursor.execute(
                f"UPDATE {table} SET last_seen_at = v.ts FROM (SELECT column1 AS id, "
                "column2 AS ts FROM (VALUES " + ", ".join(["(%s, %s)"] * len(chunk)) + ")) AS v"
                f" WHERE {table}.id = v.id AND ({table}.last_seen_at IS NULL OR "
                f"{table}.last_seen_at < {newer})",
                [v for i in chunk for v in (i, adapt(last_seen[i]))],
            )
