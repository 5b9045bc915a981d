"""The events fast path: tens of thousands of rows per statement, no model instances.

SQLite gets ``executemany`` with ``ON CONFLICT DO NOTHING``; PostgreSQL gets ``COPY`` (into a
temporary table first when message ids must be deduplicated against what is stored).
Retried message ids are skipped and counted, never stored twice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.db import connection

from tend.activity.actions import rollups_rebuild
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
ROLLUP_CUSTOMER_LIMIT = 5_000  # more affected customers than this: rebuild rollups for all
ANALYZE_AFTER = 50_000


class EventWriter(Writer):
    batch_size = 25_000
    model = Event

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.pg = connection.vendor == "postgresql"
        self.first_day: date | None = None
        self.last_seen: dict[int, datetime] = {}
        received = self.now.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        self.received = received + "+00" if self.pg else received

    def _ts(self, value: Any) -> datetime:
        if isinstance(value, str):
            try:
                ts = datetime.fromisoformat(value)
            except ValueError:
                ts = self.clean.moment("timestamp", value)  # type: ignore[assignment]
        else:
            ts = self.clean.moment("timestamp", value)  # type: ignore[assignment]
        if ts is None:
            raise Problem("missing_value")
        if ts.tzinfo is None:
            return ts
        return ts.astimezone(UTC).replace(tzinfo=None)

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
        first: datetime | None = None
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
                props = clean.json_object("properties", row[pi]) if pi is not None else "{}"
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
                    ts.isoformat(sep=" ") + suffix,
                    props,
                    mid or None,
                    self.received,
                    "import",
                )
            )
        if first is not None and (self.first_day is None or first.date() < self.first_day):
            self.first_day = first.date()
        if self.dry_run:
            stored = self._stored_duplicates(good)
            self.created += len(good) - stored
            self.duplicates += stored
            return rejects
        inserted = self._insert(good)
        self.created += inserted
        self.duplicates += len(good) - inserted
        for row_ in good:
            self.affected[row_[0]] = self.affected.get(row_[0], 0) + 1
        return rejects

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
            has_ids = any(r[6] for r in good)
            target = "_tend_import_events" if has_ids else table
            if has_ids:
                raw.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS _tend_import_events "
                    f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
                )
                raw.execute("ALTER TABLE _tend_import_events ALTER COLUMN id DROP NOT NULL")
            with raw.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
                for row in good:
                    copy.write_row(row)
            if not has_ids:
                return len(good)
            raw.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _tend_import_events "
                "ON CONFLICT DO NOTHING"
            )
            inserted = raw.rowcount
            raw.execute("TRUNCATE _tend_import_events")
            return int(inserted)

    def finish(self) -> None:
        if self.dry_run or not self.affected:
            return
        ids = sorted(self.affected)
        rollups_rebuild(
            since=self.first_day,
            customer_ids=ids if len(ids) <= ROLLUP_CUSTOMER_LIMIT else None,
        )
        for chunk in _chunks(ids):
            changed = []
            for customer in Customer.objects.filter(pk__in=chunk).only("pk", "last_seen_at"):
                seen = self.last_seen[customer.pk].replace(tzinfo=UTC)
                if customer.last_seen_at is None or seen > customer.last_seen_at:
                    customer.last_seen_at = seen
                    changed.append(customer)
            Customer.objects.bulk_update(changed, ["last_seen_at"])
        if self.created >= ANALYZE_AFTER:
            analyze([Event, DailyRollup])
