"""Accepted events are durable when the response is sent: a server killed (SIGKILL, the whole
process group) right after answering 200 has lost nothing it accepted.

A real ``tend serve`` with two gunicorn processes takes batches from several clients at once;
the moment one batch is answered 200 the server is killed mid-traffic. Read back through a new
database connection: every batch answered 200 is there whole, with its rollup counts; batches
caught in flight are there whole or not at all, never in part.
"""

from __future__ import annotations

import base64
import http.client
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from tend.activity.models import DailyRollup, Event
from tend.customers.models import Customer
from tend.ingest.tracking.tests.live_process import Server, post_batch, tend_server

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

USERS = 5
BATCH = 50
EVENTS = ["Report Created", "Invite Sent", "Signed In"]


def _post(server: Server, auth: str, body: dict[str, Any]) -> int | None:
    """The status of one call, or None when the server went away before answering."""
    try:
        status, answer = post_batch(server, auth, body, timeout=30)
    except (OSError, http.client.HTTPException):
        return None
    if status == 200:
        assert b"rejected" not in answer, answer
    return status


def _batch(tag: str, when: datetime) -> dict[str, Any]:
    return {
        "batch": [
            {
                "type": "track",
                "userId": f"user-{i % USERS}",
                "event": EVENTS[i % len(EVENTS)],
                "timestamp": when.isoformat(),
                "messageId": f"{tag}-{i}",
            }
            for i in range(BATCH)
        ]
    }


def test_a_server_killed_right_after_a_200_has_lost_no_accepted_event(
    tmp_path: Path, write_key: str
) -> None:
    auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    when = (datetime.now(UTC) - timedelta(days=1)).replace(hour=12, minute=0, second=0)
    answered: dict[str, int | None] = {}
    lock = threading.Lock()
    with tend_server(tmp_path, workers=2) as server:
        setup = [
            {
                "type": "group",
                "userId": f"user-{n}",
                "groupId": f"co-{n}",
                "traits": {"name": f"Co {n}"},
            }
            for n in range(USERS)
        ]
        assert _post(server, auth, {"batch": setup}) == 200
        killed = threading.Event()
        flowing = threading.Event()  # set once the clients have had a few batches accepted

        def client(number: int) -> None:
            sequence = 0
            while not killed.is_set() and sequence < 200:
                tag = f"c{number}-b{sequence}"
                status = _post(server, auth, _batch(tag, when))
                with lock:
                    answered[tag] = status
                    if sum(1 for s in answered.values() if s == 200) >= 6:
                        flowing.set()
                sequence += 1

        clients = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for thread in clients:
            thread.start()
        assert flowing.wait(timeout=120), f"the clients got no batch through: {answered}"
        # Given batches in flight from four clients, when this batch is answered 200 ...
        assert _post(server, auth, _batch("main", when)) == 200
        # ... then kill every server process at once, before anything else can happen.
        server.kill()
        killed.set()
        for thread in clients:
            thread.join(timeout=60)
        answered["main"] = 200

    connections.close_all()  # read back through a new connection, not one the server shared
    stored = Counter(
        message_id.rsplit("-", 1)[0]
        for message_id in Event.objects.filter(message_id__isnull=False).values_list(
            "message_id", flat=True
        )
    )
    accepted = [tag for tag, status in answered.items() if status == 200]
    assert len(accepted) >= 1
    for tag in accepted:
        assert stored[tag] == BATCH, f"batch {tag} was answered 200 but has {stored[tag]} events"
    # Nothing half-stored: a batch the kill interrupted is whole or absent.
    assert set(stored.values()) <= {BATCH}, stored
    assert set(stored) <= set(answered)

    # The daily rollups say exactly what the events say.
    events = Counter(Event.objects.values_list("customer__external_id", "name").iterator())
    rollups = {
        (external_id, name): count
        for external_id, name, count in DailyRollup.objects.values_list(
            "customer__external_id", "name", "count"
        )
    }
    assert rollups == dict(events)
    assert sum(rollups.values()) == BATCH * len(stored)
    assert Customer.objects.count() == USERS
    assert set(DailyRollup.objects.values_list("day", flat=True)) == {when.date()}
