"""Property: whatever arbitrary or hostile messages a batch holds, the answer is never a 5xx and
every good message in it is stored (counted in the events table)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tend.accounts.actions import apikey_create
from tend.accounts.models import User
from tend.activity.models import Event

pytestmark = pytest.mark.django_db

# Text as hostile clients send it: any code point, plus NUL and lone surrogates.
text = st.text(
    st.one_of(
        st.characters(codec=None, exclude_categories=()),
        st.sampled_from(["\x00", "\ud800", "\udbff", "\udc00", "\udfff"]),
    ),
    max_size=12,
)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, text),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=12,
)
times = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "9999-12-31T23:59:59+14:00",
            "0001-01-01T00:00:00-14:00",
            "1970-01-01T00:00:00Z",
            "yesterday",
            "2026-02-30T00:00:00Z",
        ]
    ),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    json_values,
)


def _dump(value: Any) -> str:
    """JSON text as a hostile client writes it: NaN and Infinity tokens, surrogates escaped."""
    return json.dumps(value, allow_nan=True)


@st.composite
def hostile_messages(draw: st.DrawFn) -> str:
    """One message as raw JSON text: arbitrary fields, the fields Tend reads set to anything."""
    message: dict[str, Any] = draw(st.dictionaries(text, json_values, max_size=3))
    message["type"] = draw(
        st.sampled_from(["track", "page", "screen", "identify", "group", "alias"]) | json_values
    )
    for name in ("userId", "anonymousId", "groupId", "previousId", "event", "name", "messageId"):
        if draw(st.booleans()):
            message[name] = draw(text | json_values)
    for name in ("properties", "traits", "context"):
        if draw(st.booleans()):
            message[name] = draw(
                st.dictionaries(
                    st.sampled_from(
                        ["name", "email", "employees", "country", "createdAt", "firstName"]
                    )
                    | text,
                    json_values,
                    max_size=4,
                )
                | json_values
            )
    for name in ("timestamp", "sentAt", "originalTimestamp"):
        if draw(st.booleans()):
            message[name] = draw(times)
    raw = _dump(message)
    # What json.dumps cannot write: a 5,000-digit integer, nesting past the limits.
    extra = draw(st.sampled_from(["", "digits", "deep"]))
    if extra == "digits":
        raw = raw[:-1] + (", " if len(message) else "") + '"big": ' + "7" * 5000 + "}"
    elif extra == "deep":
        depth = draw(st.integers(min_value=30, max_value=400))
        raw = (
            raw[:-1] + (", " if len(message) else "") + '"deep": ' + "[" * depth + "]" * depth + "}"
        )
    return raw


def good_message() -> dict[str, Any]:
    return {"type": "track", "userId": "good", "event": "Good", "messageId": str(uuid.uuid4())}


@pytest.fixture
def post(owner: User, settings: Any) -> Any:
    settings.TEND_RATE_LIMIT_TRACKING = None  # off: examples come faster than 500/s
    raw = apikey_create(name="property", kind="write", by=owner)[1]
    auth = "Basic " + base64.b64encode(f"{raw}:".encode()).decode()
    client = Client()  # a 500 raises here, so hypothesis shows the failing batch

    def _post(body: str) -> Any:
        return client.post(
            "/v1/batch",
            data=body.encode("utf-8", "surrogatepass"),
            content_type="application/json",
            HTTP_AUTHORIZATION=auth,
        )

    return _post


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    hostile=st.lists(hostile_messages(), max_size=4),
    good_count=st.integers(min_value=1, max_value=3),
    order=st.randoms(use_true_random=False),
)
def test_hostile_messages_never_cost_a_5xx_or_a_good_message(
    post: Any, hostile: list[str], good_count: int, order: Any
) -> None:
    good = [good_message() for _ in range(good_count)]
    messages = hostile + [_dump(m) for m in good]
    order.shuffle(messages)
    response = post('{"batch": [' + ", ".join(messages) + "]}")

    assert response.status_code == 200, response.content
    stored = Event.objects.filter(message_id__in=[m["messageId"] for m in good]).count()
    assert stored == good_count
    answer = response.json()
    # Every message is accounted for: stored (maybe flagged) or rejected with a reason.
    for rejected in answer.get("rejected", []):
        assert set(rejected) == {"index", "code", "field", "reason"}
        assert rejected["reason"]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    message=hostile_messages(),
    path=st.sampled_from(["track", "page", "screen", "identify", "group", "alias"]),
)
def test_a_hostile_single_call_is_stored_or_refused_with_a_reason_never_a_5xx(
    owner: User, message: str, path: str
) -> None:
    raw = apikey_create(name="single", kind="write", by=owner)[1]
    response = Client().post(
        f"/v1/{path}",
        data=message.encode("utf-8", "surrogatepass"),
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{raw}:".encode()).decode(),
    )
    assert response.status_code in {200, 400}, response.content
    if response.status_code == 400:
        answer = response.json()
        assert answer["code"] == answer["error"]["code"]
        assert answer["message"] == answer["error"]["reason"]
