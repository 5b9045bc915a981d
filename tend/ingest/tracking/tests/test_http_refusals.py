"""Whole requests Tend refuses: each gets a precise 4xx JSON error and changes nothing."""

from __future__ import annotations

import gzip
import json

import pytest

from tend.accounts.actions import apikey_create, apikey_revoke
from tend.accounts.models import User
from tend.activity.models import Event
from tend.ingest.tracking.messages import MAX_BATCH_BYTES, MAX_MESSAGE_BYTES
from tend.ingest.tracking.tests.conftest import Send, stats

pytestmark = pytest.mark.django_db(transaction=True)

TRACK = {"type": "track", "userId": "u1", "event": "Signed In", "messageId": "m1"}


def test_malformed_json_is_a_400_naming_the_problem(send: Send) -> None:
    response = send("batch", content=b'{"batch": [', headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_json"
    assert "not valid JSON" in error["reason"] and "line 1" in error["reason"]
    assert not Event.objects.exists()
    assert stats() == {("rejected", "bad_json"): 1}


def test_a_batch_that_is_not_a_list_names_the_field(send: Send) -> None:
    response = send("batch", {"batch": {"type": "track"}})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "batch"


def test_a_track_call_with_properties_of_the_wrong_type_names_the_field(send: Send) -> None:
    response = send("track", {**TRACK, "properties": ["a", "b"]})
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "code": "wrong_type",
        "message": "properties must be a JSON object",
        "error": {
            "index": 0,
            "code": "wrong_type",
            "field": "properties",
            "reason": "properties must be a JSON object",
        },
    }
    assert not Event.objects.exists()


def test_a_message_with_neither_user_id_nor_anonymous_id_is_refused(send: Send) -> None:
    response = send("track", {"event": "Signed In"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_id"
    assert response.json()["error"]["field"] == "userId"
    assert stats() == {("rejected", "missing_id"): 1}


def test_a_single_message_over_32_kb_is_a_413(send: Send) -> None:
    big = {**TRACK, "properties": {"blob": "x" * MAX_MESSAGE_BYTES}}
    response = send("track", big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert not Event.objects.exists()


def test_a_batch_over_500_kb_is_a_413(send: Send) -> None:
    batch = [
        {**TRACK, "messageId": f"m{n}", "properties": {"blob": "x" * 20_000}} for n in range(30)
    ]
    response = send("batch", {"batch": batch})
    assert response.status_code == 413
    assert str(MAX_BATCH_BYTES) in response.json()["error"]["reason"]
    assert not Event.objects.exists()


def test_a_gzip_body_is_inflated_and_stored(send: Send) -> None:
    body = gzip.compress(json.dumps({"batch": [TRACK]}).encode())
    response = send(
        "batch",
        content=body,
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert Event.objects.get().name == "Signed In"


def test_a_gzip_bomb_is_refused_before_it_fills_the_memory(send: Send) -> None:
    body = gzip.compress(b'{"batch": [' + b" " * (20 * MAX_BATCH_BYTES) + b"]}")
    assert len(body) < MAX_BATCH_BYTES
    response = send("batch", content=body, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert "inflated" in response.json()["error"]["reason"]


def test_a_body_that_is_not_gzip_despite_its_header_is_a_400(send: Send) -> None:
    response = send("batch", content=b"plain", headers={"Content-Encoding": "gzip"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_gzip"


def test_a_request_without_a_key_is_a_401(send: Send) -> None:
    response = send("track", TRACK, key="")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert not Event.objects.exists()


def test_an_unknown_key_is_a_401(send: Send) -> None:
    response = send("track", TRACK, key="tw_0123456789abcdef_nope")
    assert response.status_code == 401
    assert not Event.objects.exists()


def test_a_revoked_key_is_a_401(send: Send, owner: User) -> None:
    key, raw = apikey_create(name="old", kind="write", by=owner)
    apikey_revoke(key=key, by=owner)
    assert send("track", TRACK, key=raw).status_code == 401


def test_a_read_key_may_not_send_events(send: Send, owner: User) -> None:
    raw = apikey_create(name="reporting", kind="read", by=owner)[1]
    response = send("track", TRACK, key=raw)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert not Event.objects.exists()


def test_the_write_key_may_come_in_the_body_instead(send: Send, write_key: str) -> None:
    response = send("batch", {"batch": [TRACK], "writeKey": write_key}, key="")
    assert response.status_code == 200
    assert Event.objects.count() == 1


def test_a_read_write_key_may_send_events(send: Send, owner: User) -> None:
    raw = apikey_create(name="all", kind="read_write", by=owner)[1]
    assert send("track", TRACK, key=raw).status_code == 200


def test_get_is_not_allowed(send: Send, live_server: object) -> None:
    import httpx

    assert httpx.get(f"{live_server.url}/v1/track").status_code == 405  # type: ignore[attr-defined]
