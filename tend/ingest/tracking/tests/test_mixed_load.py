"""Realistic mixed tracking traffic from six clients at once never answers 5xx.

Each batch is what an app's SDK sends: 85 % track, 10 % page, 3 % identify, 2 % group, about
1 KB per message with a full Segment ``context``, random UUID message ids, over a small set of
customers that every client shares (so identify/group updates, rollup upserts and last-seen
updates of concurrent batches meet on the same rows). A real ``tend serve`` (two gunicorn
processes, four threads each) takes them; every batch must be answered 200 and the database must
hold exactly the events sent, with rollups and the data-quality ledger that agree.

PostgreSQL only: row locks and deadlocks exist there. SQLite takes one write lock per
transaction (``BEGIN IMMEDIATE``), so concurrent batches queue and cannot deadlock.
"""

from __future__ import annotations

import base64
import random
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from tend.activity.models import DailyRollup, Event
from tend.ingest.models import IngestStat
from tend.ingest.tracking.samples import realistic_batch
from tend.ingest.tracking.tests.live_process import post_batch, tend_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="PostgreSQL only: SQLite serialises writers, so batches cannot deadlock",
    ),
]

CLIENTS = 6
BATCHES = 6  # per client
BATCH = 100
COMPANIES = 12
USERS = 36


def mixed_batch(rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    """One batch of ``BATCH`` messages in the realistic mix, over the shared customers."""
    return realistic_batch(
        rng, size=BATCH, users=USERS, companies=COMPANIES, now=now, spread=timedelta(hours=2)
    )


def test_six_clients_sending_mixed_batches_on_shared_customers_get_no_server_error(
    tmp_path: Path, write_key: str
) -> None:
    auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    now = datetime.now(UTC)
    answers: list[tuple[int, bytes]] = []
    sent = Counter[str]()
    lock = threading.Lock()
    with tend_server(tmp_path, workers=2) as server:
        setup = [
            {
                "type": "group",
                "userId": f"user-{n}",
                "groupId": f"co-{n % COMPANIES}",
                "traits": {"name": f"Co {n % COMPANIES}"},
            }
            for n in range(USERS)
        ]
        assert post_batch(server, auth, {"batch": setup}) == (200, b'{"success": true}')

        def client(seed: int) -> None:
            rng = random.Random(seed)
            for _ in range(BATCHES):
                batch = mixed_batch(rng, now)
                status, answer = post_batch(server, auth, {"batch": batch})
                with lock:
                    answers.append((status, answer))
                    if status == 200:
                        sent.update(m["type"] for m in batch)

        threads = [threading.Thread(target=client, args=(seed,)) for seed in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    failed = [status for status, _ in answers if status != 200]
    log = server.log.read_text(errors="replace").splitlines()
    errors = Counter(line.split(" on ")[0] for line in log if line.startswith("psycopg.errors."))
    assert failed == [], f"{len(failed)} of {len(answers)} batches failed: {errors}"
    assert len(answers) == CLIENTS * BATCHES
    assert all(b"rejected" not in answer for _, answer in answers)

    connections.close_all()  # read back through a new connection, not one the server shared
    events = sent["track"] + sent["page"]
    assert Event.objects.count() == events
    # Every event landed on its user's company; the rollups count each exactly once.
    assert Event.objects.filter(customer__isnull=True).count() == 0
    rollups = Counter[tuple[str, str]]()
    for external_id, name, count in DailyRollup.objects.values_list(
        "customer__external_id", "name", "count"
    ):
        rollups[(external_id, name)] += count
    assert rollups == Counter(Event.objects.values_list("customer__external_id", "name"))
    assert rollups.total() == events
    # The ledger counts every message once: a batch the server re-ran counts once.
    ledger = {s.outcome: s.count for s in IngestStat.objects.filter(source="tracking", reason="")}
    assert ledger == {"accepted": len(setup) + CLIENTS * BATCHES * BATCH}


def _lock_waiters(conn: Any) -> int:
    """How many sessions on this database wait for a lock."""
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    ).fetchone()
    return int(row[0])


def test_a_batch_chosen_as_a_deadlock_victim_is_run_again_and_stored_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Another transaction holds the ledger row the batch writes last, then asks for the
    customer row the batch holds: PostgreSQL breaks the deadlock by failing the batch (it has
    waited longest), and the server runs the whole batch again instead of answering 500."""
    import psycopg

    from tend.customers.actions import customer_create
    from tend.ingest.tracking.actions import tracking_ingest
    from tend.ingest.tracking.tests.live_process import database_url

    customer = customer_create(by=None, name="Acme", external_id="co-1")
    tracking_ingest(raws=[{"type": "group", "userId": "u-1", "groupId": "co-1"}], label="t")
    received_at = datetime.now(UTC)
    batch = [
        {"type": "track", "userId": "u-1", "event": "Report Created", "messageId": f"m-{n}"}
        for n in range(3)
    ]
    results: list[Any] = []

    def ingest() -> None:
        try:
            results.append(tracking_ingest(raws=batch, label="t", received_at=received_at))
        except Exception as error:  # reported by the assertion below
            results.append(error)
        finally:
            connections.close_all()

    with psycopg.connect(database_url()) as other:
        other.execute("SET deadlock_timeout = '20s'")  # so the batch is the one PostgreSQL fails
        table = IngestStat._meta.db_table
        other.execute(
            f"INSERT INTO {table} (source, day, outcome, reason, count, last_at) "
            "VALUES ('tracking', %s, 'accepted', '', 0, now()) ON CONFLICT "
            "(source, day, outcome, reason) DO UPDATE SET count = excluded.count + "
            f"{table}.count",
            [received_at.date()],
        )
        worker = threading.Thread(target=ingest)
        worker.start()
        # The batch now holds the customer row and waits for the ledger row.
        with psycopg.connect(database_url(), autocommit=True) as watcher:
            while worker.is_alive() and _lock_waiters(watcher) == 0:
                time.sleep(0.01)
        other.execute("UPDATE customers_customer SET name = name WHERE id = %s", [customer.pk])
        other.commit()
    worker.join(timeout=30)

    assert len(results) == 1 and not isinstance(results[0], Exception), results
    assert results[0].accepted == 3
    assert "DeadlockDetected" in caplog.text
    assert Event.objects.filter(message_id__startswith="m-").count() == 3
    assert DailyRollup.objects.get(customer=customer, name="Report Created").count == 3
    ledger = IngestStat.objects.get(source="tracking", outcome="accepted", day=received_at.date())
    assert ledger.count == 1 + 3  # the group, then the batch once
