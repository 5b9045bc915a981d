"""The events fast path: tens of thousands of rows per statement, no model instances.

SQLite gets ``executemany`` with ``ON CONFLICT DO NOTHING``; PostgreSQL gets ``COPY`` (into a
temporary table first when message ids must be deduplicated against what is stored).
Retried message ids are skipped and counted, never stored twice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Max

from tend.activity.models import DailyRollup, Event
from tend.customers.models import Customer
from tend.ingest.imports.reading import Problem
from tend.ingest.imports.writers import Reject, Row, Writer, _chunks
from tend.lib.db import analyze

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


class EventWriter(Writer):
    batch_size = 50_000
    model = Event

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.pg = connection.vendor == "postgresql"
        self.first_day: date | None = None
        self.last_seen: dict[int, str] = {}
        received = self.now.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        self.received = received + "+00" if self.pg else received

    def _ts(self, value: Any) -> str:
        """The UTC time as ``YYYY-MM-DD HH:MM:SS[.ffffff]``; such strings sort like the times."""
        if isinstance(value, str):
            try:
                ts = datetime.fromisoformat(value)
            except ValueError:
                ts = self.clean.moment("timestamp", value)  # type: ignore[assignment]
            else:
                # The common shapes need no conversion: 2024-03-01T10:00:00Z and naive times.
                n = len(value)
                if (n == 20 and value[19] == "Z") or (n == 19 and ts.tzinfo is None):
                    return f"{value[:10]} {value[11:19]}"
        else:
            ts = self.clean.moment("timestamp", value)  # type: ignore[assignment]
        if ts is None:
            raise Problem("missing_value")
        if ts.tzinfo is not None:
            ts = ts.astimezone(UTC).replace(tzinfo=None)
        return ts.isoformat(sep=" ")

    def write(self, rows: list[Row]) -> list[Reject]:
        ci = self.index["customer"]
        ni = self.index["name"]
        ti = self.index["timestamp"]
        pi = self.index.get("properties")
        mi = self.index.get("message_id")
        width = 1 + max(self.index.values())
        clean = self.clean
        refs = set()
        for _n, row in rows:
            if len(row) > ci and row[ci]:
                refs.add(row[ci].strip() if isinstance(row[ci], str) else str(row[ci]))
        ids = self.customer_ids(refs)
        good: list[tuple[Any, ...]] = []
        rejects: list[Reject] = []
        last_seen = self.last_seen
        first: str | None = None
        suffix = "+00" if self.pg else ""
        for number, row in rows:
            field = "customer"
            try:
                if len(row) < width:
                    row = [*row, *([""] * (width - len(row)))]
                ref = row[ci]
                if not isinstance(ref, str) or ref != ref.strip():
                    ref = clean.text("customer", ref)
                if not ref:
                    raise Problem("missing_value")
                pk = ids.get(ref)
                if pk is None:
                    raise Problem("unknown_customer", ref)
                field = "name"
                name = row[ni]
                if not isinstance(name, str) or name != name.strip():
                    name = clean.text("name", name)
                if not name:
                    raise Problem("missing_value")
                if len(name) > 200:
                    raise Problem("too_long", name)
                field = "timestamp"
                ts = self._ts(row[ti])
                field = "properties"
                raw = row[pi] if pi is not None else ""
                props = "{}" if raw == "" else clean.json_object("properties", raw)
                field = "message_id"
                mid = row[mi] if mi is not None else None
                if mid is not None and not isinstance(mid, str):
                    mid = clean.text("message_id", mid)
                if mid and len(mid) > 100:
                    raise Problem("too_long", mid)
            except Problem as problem:
                rejects.append((number, field, problem.reason, problem.value, row))
                continue
            if first is None or ts < first:
                first = ts
            seen = last_seen.get(pk)
            if seen is None or ts > seen:
                last_seen[pk] = ts
            good.append(
                (
                    pk,
                    "",
                    "",
                    name,
                    ts + suffix,
                    props,
                    mid or None,
                    self.received,
                    "import",
                )
            )
        if first is not None:
            day = date.fromisoformat(first[:10])
            if self.first_day is None or day < self.first_day:
                self.first_day = day
        if self.dry_run:
            stored = self._stored_duplicates(good)
            self.created += len(good) - stored
            self.duplicates += stored
            return rejects
        if self.pg:
            # Each batch is its own transaction and the import can be run again (message ids
            # dedupe), so not waiting for each commit's WAL flush is a safe trade for speed.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        good.sort(key=lambda r: (r[0], r[4]))  # locality for the (customer, timestamp) index
        before = Event.objects.aggregate(top=Max("pk"))["top"] or 0
        inserted = self._insert(good)
        if inserted:
            self._rollups_add(after_id=before)
        self.created += inserted
        self.duplicates += len(good) - inserted
        for row_ in good:
            self.affected[row_[0]] = self.affected.get(row_[0], 0) + 1
        return rejects

    def _rollups_add(self, *, after_id: int) -> None:
        """Add the batch just stored to the daily rollups, in the same transaction.

        The batch's events are exactly those stamped with this run's ``received_at`` and an id
        above the largest id before the batch, so retries skipped by ``ON CONFLICT`` and
        events the tracking API writes meanwhile are never counted, and memory stays bounded
        by the batch, not the file.
        """
        table = connection.ops.quote_name(DailyRollup._meta.db_table)
        events = connection.ops.quote_name(Event._meta.db_table)
        day = "(e.timestamp AT TIME ZONE 'UTC')::date" if self.pg else "date(e.timestamp)"
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (customer_id, day, name, count) "
                f"SELECT e.customer_id, {day}, e.name, COUNT(*) FROM {events} e "
                "WHERE e.id > %s AND e.received_at = %s AND e.source = 'import' "
                "AND e.customer_id IS NOT NULL "
                f"GROUP BY e.customer_id, {day}, e.name "
                f"ON CONFLICT (customer_id, day, name) DO UPDATE SET count = {table}.count + "
                "excluded.count",
                [after_id, connection.ops.adapt_datetimefield_value(self.now)],
            )

    def _stored_duplicates(self, good: list[tuple[Any, ...]]) -> int:
        mids = [r[6] for r in good if r[6]]
        if not mids:
            return 0
        stored = 0
        for chunk in _chunks(mids):
            stored += Event.objects.filter(message_id__in=chunk).count()
        return stored + len(mids) - len(set(mids))

    def _insert(self, good: list[tuple[Any, ...]]) -> int:
        if not good:
            return 0
        table = connection.ops.quote_name(Event._meta.db_table)
        quoted = [connection.ops.quote_name(c) for c in COLUMNS]
        columns = ", ".join(quoted)
        with connection.cursor() as cursor:
            if not self.pg:
                marks = ", ".join(["%s"] * len(COLUMNS))
                cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING",
                    good,
                )
                return int(cursor.rowcount)
            raw = cursor.cursor
            if not any(r[6] for r in good):
                self._copy(raw, table, columns, good)
                return len(good)
            try:
                # Most files hold no retries: COPY straight in, and only when the unique
                # message id refuses the batch, stage it and skip the stored ones.
                with transaction.atomic():
                    self._copy(raw, table, columns, good)
                return len(good)
            except (IntegrityError, connection.Database.IntegrityError):  # type: ignore[attr-defined]
                pass
            raw.execute(
                "CREATE TEMP TABLE IF NOT EXISTS _tend_import_events "
                f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
            raw.execute("ALTER TABLE _tend_import_events ALTER COLUMN id DROP NOT NULL")
            self._copy(raw, "_tend_import_events", columns, good)
            raw.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _tend_import_events "
                "ON CONFLICT DO NOTHING"
            )
            inserted = raw.rowcount
            raw.execute("TRUNCATE _tend_import_events")
            return int(inserted)

    @staticmethod
    def _copy(raw: Any, table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _aware(self, text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    def finish(self) -> None:
        if self.dry_run or not self.affected:
            return
        table = connection.ops.quote_name(Customer._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET last_seen_at = %s "
                "WHERE id = %s AND (last_seen_at IS NULL OR last_seen_at < %s)",
                [
                    (seen, pk, seen)
                    for pk, seen in ((pk, self._aware(t)) for pk, t in self.last_seen.items())
                ],
            )
        if self.created >= ANALYZE_AFTER:
            analyze([Event, DailyRollup])
