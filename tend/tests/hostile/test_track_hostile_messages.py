"""Each hostile message the outside test found, inside a batch with a good one: the good one is
stored, the bad one is rejected alone (or stored with a flag) and the answer is never a 500."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.test import Client

from tend.accounts.actions import apikey_create
from tend.accounts.models import User
from tend.activity.models import Event
from tend.customers.models import Customer
from tend.ingest.models import IngestStat
from tend.ingest.tracking.messages import MAX_DEPTH

pytestmark = pytest.mark.django_db

GOOD = '{"type": "track", "userId": "u1", "event": "Good", "messageId": "good"}'


@pytest.fixture
def post(owner: User) -> Any:
    raw = apikey_create(name="hostile", kind="write", by=owner)[1]
    auth = "Basic " + base64.b64encode(f"{raw}:".encode()).decode()
    client = Client()

    def _post(path: str, body: str | bytes) -> Any:
        data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        return client.post(
            f"/v1/{path}", data=data, content_type="application/json", HTTP_AUTHORIZATION=auth
        )

    return _post


def batch(*messages: str) -> str:
    """A batch body from message texts (written by hand: json.dumps cannot write some of them)."""
    return '{"batch": [' + ", ".join(messages) + "]}"


def track(**extra: str) -> str:
    """A bad track message: ``extra`` maps a field to its raw JSON text."""
    fields = {"type": '"track"', "userId": '"u2"', "event": '"Bad"', "messageId": '"bad"'}
    fields.update(extra)
    return "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}"


REJECTED = [
    # (what is wrong, the bad message, code, field)
    ("NUL in the event name", track(event='"Sign\\u0000ed"'), "bad_text", "event"),
    ("NUL in the user id", track(userId='"u\\u0000"'), "bad_text", "userId"),
    (
        "NUL in a property key",
        track(properties='{"a\\u0000b": 1}'),
        "bad_text",
        "properties.a\\u0000b",
    ),
    (
        "NUL in a nested property",
        track(properties='{"plan": {"name": "x\\u0000"}}'),
        "bad_text",
        "properties.plan.name",
    ),
    ("lone surrogate in the user id", track(userId='"\\ud800"'), "bad_text", "userId"),
    (
        "lone surrogate in a property key",
        track(properties='{"\\udc00": 1}'),
        "bad_text",
        "properties.\\udc00",
    ),
    (
        "lone surrogate in a list",
        track(properties='{"tags": ["ok", "\\udfff"]}'),
        "bad_text",
        "properties.tags[1]",
    ),
    ("NaN", track(properties='{"x": NaN}'), "bad_number", "properties.x"),
    ("Infinity", track(properties='{"x": Infinity}'), "bad_number", "properties.x"),
    ("-Infinity", track(properties='{"x": [-Infinity]}'), "bad_number", "properties.x[0]"),
    (
        "a float too big for a double",
        track(properties='{"x": 1e400}'),
        "bad_number",
        "properties.x",
    ),
    (
        "a 5,000-digit integer",
        track(properties='{"x": ' + "9" * 5000 + "}"),
        "bad_number",
        "properties.x",
    ),
    (
        "an integer past 64 bits",
        track(properties='{"x": 9223372036854775808}'),
        "bad_number",
        "properties.x",
    ),
    (
        "employees: Infinity",
        '{"type": "group", "userId": "u2", "groupId": "g", "traits": {"employees": Infinity}}',
        "bad_number",
        "traits.employees",
    ),
    (
        "nesting past the depth limit",
        track(properties='{"a": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}"),
        "too_deep",
        "properties.a" + "[0]" * (MAX_DEPTH - 2),
    ),
    (
        "a 300-character key",
        track(properties='{"' + "k" * 300 + '": 1}'),
        "too_long",
        "properties." + "k" * 40 + "…",
    ),
]


@pytest.mark.parametrize(
    ("bad", "code", "field"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED]
)
def test_a_hostile_message_is_rejected_alone_and_the_good_one_is_stored(
    post: Any, bad: str, code: str, field: str
) -> None:
    response = post("batch", batch(GOOD, bad))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["rejected"] == [
        {"index": 1, "code": code, "field": field, "reason": body["rejected"][0]["reason"]}
    ]
    assert field.split(".")[0] in body["rejected"][0]["reason"]
    assert list(Event.objects.values_list("message_id", flat=True)) == ["good"]
    rejected = IngestStat.objects.get(source="tracking", outcome="rejected")
    assert (rejected.reason, rejected.count) == (code, 1)


@pytest.mark.parametrize("path", ["track", "identify", "page", "screen", "group", "alias"])
def test_a_single_call_with_a_nul_is_a_400_naming_the_field(post: Any, path: str) -> None:
    body = '{"userId": "u\\u0000", "previousId": "p", "groupId": "g", "event": "E"}'
    response = post(path, body)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "userId"
    assert response.json()["code"] == "bad_text"
    assert not Event.objects.exists()


def test_a_single_call_with_nan_is_a_400_naming_the_field(post: Any) -> None:
    response = post("track", '{"userId": "u", "event": "E", "properties": {"n": NaN}}')
    assert response.status_code == 400
    assert response.json()["error"] == {
        "index": 0,
        "code": "bad_number",
        "field": "properties.n",
        "reason": response.json()["message"],
    }


TIMES = [
    # (timestamp, sentAt, flag): a clock Tend cannot believe; stored at arrival, flagged
    ("0001-01-01T00:00:00+01:00", None, "ancient_timestamp"),
    ("9999-12-31T23:59:59-01:00", None, "future_timestamp"),
    ("9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-14:00", "future_timestamp"),
    ("0001-01-01T00:00:00-14:00", "9999-12-31T23:59:59+14:00", "ancient_timestamp"),
]


@pytest.mark.parametrize(("timestamp", "sent_at", "flag"), TIMES)
def test_a_timestamp_at_the_ends_of_the_calendar_is_stored_at_arrival_and_flagged(
    post: Any, timestamp: str, sent_at: str | None, flag: str
) -> None:
    extra = {"timestamp": json.dumps(timestamp)}
    if sent_at:
        extra["sentAt"] = json.dumps(sent_at)
    response = post("batch", batch(GOOD, track(**extra)))
    assert response.status_code == 200, response.content
    assert "rejected" not in response.json()
    assert response.json()["flagged"][0]["code"] == flag
    bad = Event.objects.get(message_id="bad")
    assert abs((bad.timestamp - bad.received_at).total_seconds()) < 1
    assert bad.properties["$tend"] == {"flag": flag, "timestamp": timestamp}


def test_a_batch_sent_at_outside_the_calendar_is_a_400_not_a_500(post: Any) -> None:
    response = post("batch", '{"sentAt": "0001-01-01T00:00:00+01:00", "batch": [' + GOOD + "]}")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "sentAt"


def test_a_created_at_outside_the_calendar_is_kept_in_traits_and_flagged(post: Any) -> None:
    group = (
        '{"type": "group", "userId": "u2", "groupId": "acme", "traits": {"name": "Acme", '
        '"createdAt": "0001-01-01T00:00:00+01:00"}}'
    )
    response = post("batch", batch(GOOD, group))
    assert response.status_code == 200, response.content
    assert response.json()["flagged"][0]["field"] == "traits.createdAt"
    acme = Customer.objects.get(external_id="acme")
    assert acme.signed_up_at.year > 2000
    assert acme.traits == {"createdAt": "0001-01-01T00:00:00+01:00"}


def test_json_nested_past_what_the_parser_can_follow_is_a_400(post: Any) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    response = post("batch", batch(GOOD, track(properties='{"a": ' + deep + "}")))
    assert response.status_code == 400
    assert response.json()["code"] == "bad_json"
    assert "nested too deeply" in response.json()["message"]


def test_a_batch_context_with_a_nul_is_a_400_naming_it(post: Any) -> None:
    response = post("batch", '{"context": {"ip": "\\u0000"}, "batch": [' + GOOD + "]}")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "context.ip"


@pytest.mark.parametrize("key", ["tw_0123456789abcdef\\u0000x", "tw_\\ud800123456789abcdef_x"])
def test_a_write_key_with_a_nul_or_surrogate_in_the_body_is_a_401(post: Any, key: str) -> None:
    client = Client()
    body = '{"writeKey": "' + key + '", "batch": [' + GOOD + "]}"
    response = client.post("/v1/batch", data=body.encode(), content_type="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
