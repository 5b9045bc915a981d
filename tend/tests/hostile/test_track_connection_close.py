"""A request refused before its body is read (413 too large, 401 unknown key) closes its
connection with ``Connection: close``, so the client's next request goes on a new connection
instead of failing on one the server is about to drop. Real ``tend serve`` (gunicorn), real
HTTP/1.1 keep-alive."""

from __future__ import annotations

import base64
import http.client
import json
from pathlib import Path

import pytest

from tend.accounts.actions import apikey_create
from tend.accounts.models import User
from tend.activity.models import Event
from tend.ingest.tracking.messages import MAX_BATCH_BYTES
from tend.ingest.tracking.tests.live_process import tend_server

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _post(
    conn: http.client.HTTPConnection, path: str, body: bytes, auth: str
) -> tuple[int, str, dict[str, object]]:
    conn.request(
        "POST", path, body=body, headers={"Authorization": auth, "Content-Type": "application/json"}
    )
    response = conn.getresponse()
    return response.status, response.getheader("Connection") or "", json.loads(response.read())


def test_a_refused_unread_body_closes_the_connection_and_the_next_request_succeeds(
    tmp_path: Path, owner: User
) -> None:
    raw = apikey_create(name="app", kind="write", by=owner)[1]
    auth = "Basic " + base64.b64encode(f"{raw}:".encode()).decode()
    unknown = "Basic " + base64.b64encode(b"tw_0123456789abcdef_unknown:").decode()
    too_big = b'{"batch": [], "pad": "' + b"x" * (MAX_BATCH_BYTES + 100_000) + b'"}'
    unread = b'{"batch": [], "pad": "' + b"x" * 200_000 + b'"}'

    def good(n: int) -> bytes:
        return json.dumps({"userId": "u1", "event": "Clicked", "messageId": f"m{n}"}).encode()

    with tend_server(tmp_path, workers=1) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        assert _post(conn, "/v1/track", good(1), auth)[:2] == (200, "keep-alive")

        status, connection, answer = _post(conn, "/v1/batch", too_big, auth)
        assert (status, connection, answer["code"]) == (413, "close", "too_large")
        # http.client opens a new connection, as every HTTP client does after "close".
        assert _post(conn, "/v1/track", good(2), auth)[0] == 200

        status, connection, answer = _post(conn, "/v1/batch", unread, unknown)
        assert (status, connection, answer["code"]) == (401, "close", "unauthorized")
        assert _post(conn, "/v1/track", good(3), auth)[:2] == (200, "keep-alive")
        conn.close()

    assert sorted(Event.objects.values_list("message_id", flat=True)) == ["m1", "m2", "m3"]
