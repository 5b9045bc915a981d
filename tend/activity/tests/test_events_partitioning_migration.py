"""PostgreSQL: migration 0006 turns a filled events table into the partitioned one, keeping
every row with its id, the id sequence, the message ids' uniqueness and the pending rows; and
it runs backwards to the plain table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from tend.activity.partitions import DEFAULT, TABLE, add_months, is_partitioned, month_start
from tend.activity.tests.conftest import partition_of, pg_only

pytestmark = [pytest.mark.django_db(transaction=True), pg_only]

BEFORE = ("activity", "0005_event_indexes_for_bulk_writes")
AFTER = ("activity", "0006_event_partitioned_by_month")
COLUMNS = "user_id, anonymous_id, name, timestamp, properties, message_id, received_at, source"


def _migrate(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


def _rows() -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, name, timestamp, message_id FROM {TABLE} ORDER BY id")
        return cursor.fetchall()


def _insert(name: str, at: datetime, message_id: str | None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} ({COLUMNS}) VALUES ('u', '', %s, %s, '{{}}', %s, now(), 'api') "
            "RETURNING id",
            [name, at, message_id],
        )
        return int(cursor.fetchone()[0])


def test_a_filled_table_is_partitioned_and_back_with_every_row_kept() -> None:
    now = datetime.now(UTC)
    _migrate(BEFORE)
    try:
        assert not is_partitioned()
        three_months_ago = now - timedelta(days=92)
        ids = [
            _insert("old", datetime(1990, 1, 1, tzinfo=UTC), "m-old"),
            _insert("earlier", three_months_ago, "m-earlier"),
            _insert("recent", now, None),
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO tracking_pendingevent (user_id, anonymous_id, event_id) "
                "VALUES ('', 'anon', %s)",
                [ids[1]],
            )
        stored = _rows()

        _migrate(AFTER)
        assert is_partitioned()
        assert _rows() == stored
        assert partition_of(ids[0]) == DEFAULT
        assert partition_of(ids[1]) == f"{TABLE}_y{month_start(three_months_ago):%Ym%m}"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_inherits WHERE inhparent = %s::regclass", [TABLE]
            )
            # From the oldest event's month (1990 is too old) to three months ahead, + DEFAULT.
            (count,) = cursor.fetchone()
            first = month_start(three_months_ago)
            months = 0
            while add_months(first, months) <= add_months(month_start(now), 3):
                months += 1
            assert count == months + 1
            cursor.execute("SELECT count(*) FROM tracking_pendingevent")
            assert cursor.fetchone() == (1,)
        assert _insert("next", now, "m-next") > max(ids)  # the sequence went on
        with pytest.raises(IntegrityError), transaction.atomic():
            _insert("retry", now, "m-earlier")

        _migrate(BEFORE)
        assert not is_partitioned()
        assert [r[0] for r in _rows()] == [*ids, max(ids) + 1]
        with pytest.raises(IntegrityError), transaction.atomic():
            _insert("retry", now, "m-old")
        assert _insert("after", now, "m-after") > max(ids) + 1  # refused inserts used ids
    finally:
        # Every app's latest migration, not just AFTER: going back to BEFORE also unapplied
        # the migrations that depend on AFTER (tracking 0002), which later tests and /readyz
        # expect applied.
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert is_partitioned()
