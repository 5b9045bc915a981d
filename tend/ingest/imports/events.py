"""The events fast path: tens of thousands of rows per statement, no model instances.

Rows are validated by ``event_rows`` (in a second process for large files). SQLite gets
``executemany`` with ``ON CONFLICT DO NOTHING``; PostgreSQL gets ``COPY`` into the partitioned
events table, whose message-id trigger skips stored ids (tend/activity/partitions.py). Retried
message ids are skipped and counted, never stored twice; daily rollups follow in the same
transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from datetime import UTC, date, datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Max

from tend.activity.actions import customers_touch, rollups_add_stored, rollups_increment
from tend.activity.models import DailyRollup, Event
from tend.activity.partitions import partitions_cover, skip_duplicates, stored_message_ids
from tend.changes.actions import changes_record_activity
from tend.customers.models import Customer
from tend.ingest.imports.event_rows import EventRows, Good, Parsed, parse_ahead
from tend.ingest.imports.writers import Reject, Row, Writer, max_length
from tend.lib.db import analyze, chunks

COLUMNS = (
    "customer_id",
    "user_id",
    "anonymous_id",
    "name",
    "timestamp",
    "properties",
    "message_id",
    "received_at",
    "source",
)
ANALYZE_AFTER = 50_000
WAL_PAGES = 10_000  # 40 MB of write-ahead log between checkpoints during an events import


class EventWriter(Writer):
    batch_size = 50_000
    model = Event
    # Files with fewer rows are read in this process: starting a second one is not worth it.
    parse_ahead_from = 2 * batch_size
    # The first batch is smaller: the database starts on it while the rest is parsed, instead
    # of waiting for 50,000 rows.
    first_batch_size = 5_000

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.pg = connection.vendor == "postgresql"
        self.last_seen: dict[int, str] = {}
        received = self.now.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        self.received = received + "+00" if self.pg else received
        self.rows = EventRows(
            index=self.index,
            cleaner=self.clean,
            customers={},
            lookup=self.customer_ids,
            copy_received=self.received if self.pg else None,
            columns=self.columns,
            limits={f: max_length(Event, f) for f in ("name", "message_id")},
        )
        self.trusted = self.pg and _may_skip_triggers()
        self.covered: set[date] = set()  # months whose events partition exists
        # ANALYZE on a second connection at the end (PostgreSQL, outside a caller's
        # transaction, which that connection could not see into: tests).
        self.aside = False
        self._analyzing: threading.Thread | None = None

    def batches(
        self, batches: Generator[list[Row], None, None], *, total: int
    ) -> Generator[list[Row] | Parsed, None, None]:
        """The batches to hand to ``write``: parsed in a second process for large files."""
        if self.dry_run:
            return batches
        self.aside = self.pg and not connection.in_atomic_block
        out: Generator[list[Row] | Parsed, None, None] = batches
        if total >= self.parse_ahead_from:
            self.rows.customers, self.rows.lookup = _all_customer_ids(), None
            out = parse_ahead(self.rows, batches)
        return out if self.pg else _checkpoints_spaced(out)

    def write(self, rows: list[Row] | Parsed) -> list[Reject]:
        parsed = rows if isinstance(rows, Parsed) else self.rows.parse(rows)
        for key, n in parsed.cleaning.items():
            self.clean.counts[key] = self.clean.counts.get(key, 0) + n
        last_seen = self.last_seen
        for pk, ts in parsed.last_seen.items():
            if ts > last_seen.get(pk, ""):
                last_seen[pk] = ts
        for pk, n in parsed.affected.items():
            self.affected[pk] = self.affected.get(pk, 0) + n
        if self.dry_run:
            stored = self._stored_duplicates(parsed.good)
            self.created += parsed.accepted - stored
            self.duplicates += stored + parsed.repeated
            return parsed.rejects
        inserted = self._insert(parsed) if parsed.accepted else 0
        self.created += inserted
        self.duplicates += parsed.accepted - inserted + parsed.repeated
        return parsed.rejects

    def _insert(self, parsed: Parsed) -> int:
        """Store the batch and add it to the daily rollups; the number of new events."""
        before = Event.objects.aggregate(top=Max("pk"))["top"] or 0
        trusted = False
        with connection.cursor() as cursor:
            if not self.pg:
                inserted = self._insert_sqlite(cursor, parsed.good)
            else:
                # Each batch is its own transaction and the import can be run again (message
                # ids dedupe), so not waiting for each commit's WAL flush is a safe trade.
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
                trusted = self.trusted and _lock_customers(cursor, list(parsed.affected))
                if trusted:
                    # The customers are locked as the foreign key triggers would lock them,
                    # once per batch instead of once per row (see docs/decisions.md).
                    cursor.execute("SET LOCAL session_replication_role TO replica")
                inserted = self._insert_pg(cursor.cursor, parsed)
            if inserted == parsed.accepted:
                rollups_increment(parsed.rollups)
            elif inserted:  # some were stored already: count what this batch really added
                rollups_add_stored(after_id=before, received_at=self.now, source="import")
            if trusted:
                cursor.execute("SET LOCAL session_replication_role TO DEFAULT")
        if inserted:
            # One "activity" outbox row per customer and day, in one statement per batch.
            changes_record_activity(dict.fromkeys({(pk, day) for pk, day, _name in parsed.rollups}))
        return inserted

    def _insert_sqlite(self, cursor: Any, good: list[Good]) -> int:
        table = connection.ops.quote_name(Event._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES (%s, '', '', %s, %s, %s, %s, "
            f"'{self.received}', 'import') ON CONFLICT DO NOTHING",
            good,
        )
        return int(cursor.rowcount)

    def _insert_pg(self, raw: Any, parsed: Parsed) -> int:
        table = connection.ops.quote_name(Event._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
        # Message ids are unique through a trigger on the partitioned table
        # (tend/activity/partitions.py) that skips a stored one in this transaction: COPY
        # straight in, and COPY's row count says how many were new.
        skip_duplicates(raw)
        # The months of a file of past events get their partitions before the rows arrive
        # (rows in DEFAULT would be moved out later, written twice).
        # Months as "YYYY-MM" first: a date per rollup key cost 45 ms a batch.
        months = {date(int(m[:4]), int(m[5:7]), 1) for m in {d[:7] for _c, d, _n in parsed.rollups}}
        months -= self.covered
        if months:
            partitions_cover(months, ahead=settings.TEND_EVENTS_PARTITIONS_AHEAD)
            self.covered |= months
        return self._copy(raw, table, columns, parsed.copy)

    def _stored_duplicates(self, good: list[Good]) -> int:
        mids = [r[4] for r in good if r[4]]
        stored = 0
        for chunk in chunks(mids):
            stored += len(stored_message_ids(chunk))
        return stored

    @staticmethod
    def _copy(raw: Any, table: str, columns: str, data: bytes) -> int:
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            copy.write(data)
        return int(raw.rowcount)

    def finish(self) -> None:
        if self.dry_run or not self.affected:
            return
        if self.created >= ANALYZE_AFTER and self.pg and self.aside:
            # Every batch is committed: the statistics are gathered on a connection of their
            # own while this one moves last-seen times and writes the summary (``close`` waits).
            self._analyzing = threading.Thread(target=_analyze_aside, name="import-analyze")
            self._analyzing.start()
        customers_touch(
            {
                pk: datetime.fromisoformat(ts).replace(tzinfo=UTC)
                for pk, ts in self.last_seen.items()
            }
        )
        if self.created >= ANALYZE_AFTER and self._analyzing is None:
            if not self.pg:  # SQLite reads every index entry unless told to sample
                with connection.cursor() as cursor:
                    cursor.execute("PRAGMA analysis_limit = 1000")
            analyze([Event, DailyRollup])
            if not self.pg:
                with connection.cursor() as cursor:
                    cursor.execute("PRAGMA analysis_limit = 0")

    def close(self) -> None:
        if self._analyzing is not None:
            self._analyzing.join()
            self._analyzing = None


def _analyze_aside() -> None:
    try:
        analyze([Event, DailyRollup])
    finally:
        connection.close()  # this thread's own connection


def _checkpoints_spaced(
    batches: Generator[list[Row] | Parsed, None, None],
) -> Generator[list[Row] | Parsed, None, None]:
    """SQLite copies the write-ahead log into the database when it passes 1,000 pages, after
    nearly every batch; every WAL_PAGES instead, index pages that several batches change are
    copied once (about 10 % less time per million events). This connection only, and reset."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        (pages,) = cursor.fetchone()
        cursor.execute(f"PRAGMA wal_autocheckpoint = {WAL_PAGES}")
    try:
        yield from batches
    finally:
        batches.close()
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")


def _all_customer_ids() -> dict[str, int]:
    """External id → customer id for every customer, for a reading process that cannot ask."""
    table = connection.ops.quote_name(Customer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT external_id, id FROM {table} WHERE external_id <> ''")
        return dict(cursor.fetchall())


def _may_skip_triggers() -> bool:
    """Whether this role may set ``session_replication_role`` (superuser, or granted it)."""
    with connection.cursor() as cursor:
        if connection.pg_version >= 150000:  # type: ignore[attr-defined]
            cursor.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
        else:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])


def _lock_customers(cursor: Any, ids: list[int]) -> bool:
    """Lock these customers as a foreign key check does; False when one of them is gone."""
    table = connection.ops.quote_name(Customer._meta.db_table)
    cursor.execute(f"SELECT id FROM {table} WHERE id = ANY(%s) FOR KEY SHARE", [ids])
    return len(cursor.fetchall()) == len(ids)
