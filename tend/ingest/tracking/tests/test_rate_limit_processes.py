"""The tracking rate limit holds across web processes: two gunicorn workers taking one write
key's calls at once let through exactly the limit between them, not the limit each."""

from __future__ import annotations

import base64
import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tend.accounts.actions import apikey_create
from tend.accounts.models import User
from tend.activity.models import Event
from tend.ingest.tracking.tests.live_process import Server, tend_server

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LIMIT = 12
CALLS = 30


def _track(server: Server, auth: str, tag: str) -> tuple[int, str]:
    # A new connection per call, so calls spread over both processes.
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    body = {"userId": "u1", "event": "Clicked", "messageId": tag}
    conn.request(
        "POST",
        "/v1/track",
        body=json.dumps(body),
        headers={"Authorization": auth, "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, response.getheader("Retry-After") or ""


def test_two_web_processes_share_one_count_per_write_key(tmp_path: Path, owner: User) -> None:
    with tend_server(tmp_path, workers=2, TEND_RATE_LIMIT_TRACKING=f"{LIMIT}/d") as server:
        # A day-long window. Should the day end during the calls, the count restarts; then
        # go again with a new key in the new day (the next boundary is a day away).
        for attempt in range(2):
            raw = apikey_create(name=f"app {attempt}", kind="write", by=owner)[1]
            auth = "Basic " + base64.b64encode(f"{raw}:".encode()).decode()
            day = int(time.time() // 86400)
            tags = [f"a{attempt}-{n}" for n in range(CALLS)]
            with ThreadPoolExecutor(max_workers=6) as pool:
                answers = list(pool.map(_track, [server] * CALLS, [auth] * CALLS, tags))
            if int(time.time() // 86400) == day:
                break
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * LIMIT + [429] * (CALLS - LIMIT)
    assert all(retry.isdigit() and int(retry) >= 1 for status, retry in answers if status == 429)
    assert Event.objects.filter(message_id__startswith=f"a{attempt}-").count() == LIMIT
