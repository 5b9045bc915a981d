"""PostgreSQL: the events table becomes partitioned by month of ``timestamp`` (SQLite: nothing).

In one transaction, under an exclusive lock on the table: a partitioned copy with the same
columns, defaults and identity; one partition per month from the oldest event of the last
``MAX_PAST_MONTHS`` months (older ones go to DEFAULT) to ``TEND_EVENTS_PARTITIONS_AHEAD``
months past this one, and a DEFAULT partition; every row copied with its id, the id sequence
carried on; names swapped; the old table dropped; its indexes and foreign keys recreated under
their own names. The primary key becomes (id, timestamp): a partitioned table's unique keys
must hold the partition key. Django's model keeps ``id`` as its primary key.

Message ids stay unique through ``activity_event_message_id`` and triggers (see
``tend/activity/partitions.py`` and docs/events-storage.md), since a retried message may carry
another timestamp. The foreign key from ``ingest_tracking_pendingevent.event_id`` cannot point
at ``id`` alone any more: it is dropped in the database (Django still cascades deletes), and
whatever drops events by partition removes their pending rows first.

Reversible: backwards builds the plain table again (primary key ``id``, the unique
``event_message_id_unique``) the same way.
"""

from datetime import UTC, datetime

from django.conf import settings
from django.db import migrations

from tend.activity.partitions import (
    DEDUPE_SQL,
    DEFAULT,
    DROP_DEDUPE_SQL,
    MAX_PAST_MONTHS,
    TABLE,
    add_months,
    month_start,
    partition_name,
)

NEW = f"{TABLE}_new"
OLD = f"{TABLE}_old"
PENDING = "tracking_pendingevent"


def _carried_over(cursor):
    """The table's plain indexes and foreign keys as SQL, to run again on its replacement."""
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = %s::regclass "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid "
        "AND c.conrelid = i.indrelid) AND NOT i.indisunique",
        [TABLE],
    )
    indexes = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f'",
        [TABLE],
    )
    foreign_keys = [
        f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}'
        for name, definition in cursor.fetchall()
    ]
    return indexes, foreign_keys


def _swap(cursor, indexes, foreign_keys, sequence_value):
    """Old table out, new table in under the old name, indexes and keys recreated."""
    cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    cursor.execute(f"DROP TABLE {OLD}")
    cursor.execute(f"ALTER TABLE {NEW} RENAME TO {TABLE}")
    cursor.execute(f"ALTER SEQUENCE {NEW}_id_seq RENAME TO {TABLE}_id_seq")
    cursor.execute(f"ALTER TABLE {TABLE} RENAME CONSTRAINT {NEW}_pkey TO {TABLE}_pkey")
    last_value, is_called = sequence_value
    cursor.execute(f"SELECT setval('{TABLE}_id_seq', %s, %s)", [last_value, is_called])
    for sql in indexes + foreign_keys:
        cursor.execute(sql)


def _sequence_value(cursor):
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
    (sequence,) = cursor.fetchone()
    cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
    return cursor.fetchone()


def _partitioned(cursor):
    cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = %s::regclass", [TABLE])
    return cursor.fetchone() is not None


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if _partitioned(cursor):
            return
        cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        indexes, foreign_keys = _carried_over(cursor)
        sequence_value = _sequence_value(cursor)
        current = month_start(datetime.now(UTC))
        horizon = add_months(current, -MAX_PAST_MONTHS)
        cursor.execute(
            f'SELECT min("timestamp") FROM {TABLE} WHERE "timestamp" >= %s',
            [datetime(horizon.year, horizon.month, 1, tzinfo=UTC)],
        )
        (oldest,) = cursor.fetchone()
        first = min(month_start(oldest.astimezone(UTC)), current) if oldest else current
        cursor.execute(
            f"CREATE TABLE {NEW} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING IDENTITY "
            'INCLUDING STORAGE) PARTITION BY RANGE ("timestamp")'
        )
        cursor.execute(f'ALTER TABLE {NEW} ADD CONSTRAINT {NEW}_pkey PRIMARY KEY (id, "timestamp")')
        month = first
        while month <= add_months(current, settings.TEND_EVENTS_PARTITIONS_AHEAD):
            end = add_months(month, 1)
            cursor.execute(
                f"CREATE TABLE {partition_name(month)} PARTITION OF {NEW} FOR VALUES "
                f"FROM ('{month.isoformat()} 00:00:00+00') TO ('{end.isoformat()} 00:00:00+00')"
            )
            month = end
        cursor.execute(f"CREATE TABLE {DEFAULT} PARTITION OF {NEW} DEFAULT")
        cursor.execute(f"INSERT INTO {NEW} SELECT * FROM {TABLE}")
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f' "
            "AND confrelid = %s::regclass",
            [PENDING, TABLE],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'ALTER TABLE {PENDING} DROP CONSTRAINT "{name}"')
        _swap(cursor, indexes, foreign_keys, sequence_value)
        cursor.execute(DEDUPE_SQL)
        cursor.execute(
            "INSERT INTO activity_event_message_id (message_id, event_id) "
            f"SELECT message_id, id FROM {TABLE} WHERE message_id IS NOT NULL"
        )
        cursor.execute(f"ANALYZE {TABLE}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if not _partitioned(cursor):
            return
        cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        indexes, foreign_keys = _carried_over(cursor)
        sequence_value = _sequence_value(cursor)
        cursor.execute(DROP_DEDUPE_SQL)
        cursor.execute(
            f"CREATE TABLE {NEW} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING IDENTITY "
            "INCLUDING STORAGE)"
        )
        cursor.execute(f"INSERT INTO {NEW} SELECT * FROM {TABLE}")
        cursor.execute(f"ALTER TABLE {NEW} ADD CONSTRAINT {NEW}_pkey PRIMARY KEY (id)")
        cursor.execute(
            f"ALTER TABLE {NEW} ADD CONSTRAINT event_message_id_unique UNIQUE (message_id)"
        )
        # Partition-local index names must go with the partitions before they are reused.
        _swap(cursor, indexes, foreign_keys, sequence_value)
        cursor.execute(
            f"DELETE FROM {PENDING} p WHERE NOT EXISTS "
            f"(SELECT 1 FROM {TABLE} e WHERE e.id = p.event_id)"
        )
        cursor.execute(
            f"ALTER TABLE {PENDING} ADD CONSTRAINT {PENDING}_event_id_fk_{TABLE}_id "
            f"FOREIGN KEY (event_id) REFERENCES {TABLE} (id) DEFERRABLE INITIALLY DEFERRED"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("activity", "0005_event_indexes_for_bulk_writes"),
        ("tracking", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
