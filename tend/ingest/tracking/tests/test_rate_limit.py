"""A write key that sends more calls than TEND_RATE_LIMIT_TRACKING allows gets a 429 that
names the limit and says when to come back; other keys go on, and nothing refused is stored."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.test import Client

from tend.accounts.actions import apikey_create
from tend.accounts.models import User
from tend.activity.models import Event
from tend.ingest.tracking.tests.conftest import stats
from tend.ratelimit.rates import Rate

pytestmark = pytest.mark.django_db


def _post(client: Client, key: str, body: dict[str, Any], path: str = "batch") -> Any:
    auth = base64.b64encode(f"{key}:".encode()).decode()
    return client.post(
        f"/v1/{path}",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Basic {auth}"},
    )


def _batch(n: int) -> dict[str, Any]:
    return {
        "batch": [
            {"type": "track", "userId": "u1", "event": "Clicked", "messageId": f"m-{n}-{i}"}
            for i in range(3)
        ]
    }


@pytest.fixture
def tight(settings: Any) -> Rate:
    # A day-long window, so the test cannot straddle a window boundary in practice.
    settings.TEND_RATE_LIMIT_TRACKING = Rate(limit=2, seconds=86400)
    return settings.TEND_RATE_LIMIT_TRACKING  # type: ignore[no-any-return]


def test_a_key_over_its_rate_gets_a_429_with_retry_after(
    client: Client, write_key: str, tight: Rate
) -> None:
    answers = [_post(client, write_key, _batch(n)) for n in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[-1]
    assert 1 <= int(refused["Retry-After"]) <= 86400
    error = refused.json()["error"]
    assert refused.json()["success"] is False
    assert error["code"] == "rate_limited"
    assert "2 requests per day" in error["reason"]
    assert "TEND_RATE_LIMIT_TRACKING" in error["reason"]
    # The refused batch stored nothing; the two accepted ones are whole.
    assert Event.objects.count() == 6
    assert not Event.objects.filter(message_id__startswith="m-2-").exists()
    assert stats()[("rejected", "rate_limited")] == 1


def test_the_limit_counts_per_write_key(
    client: Client, owner: User, write_key: str, tight: Rate
) -> None:
    other = apikey_create(name="mobile app", kind="write", by=owner)[1]
    assert [_post(client, write_key, _batch(n)).status_code for n in range(3)] == [200, 200, 429]
    assert _post(client, other, _batch(10)).status_code == 200


def test_a_key_given_in_the_body_is_limited_too(
    client: Client, write_key: str, tight: Rate
) -> None:
    statuses = [
        client.post(
            "/v1/track",
            data=json.dumps({"writeKey": write_key, "userId": "u1", "event": "Clicked"}),
            content_type="application/json",
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_calls_refused_before_the_key_is_known_are_not_counted_against_it(
    client: Client, write_key: str, tight: Rate
) -> None:
    for _ in range(3):
        assert _post(client, "wk_not_a_key", _batch(0)).status_code == 401
    assert _post(client, write_key, _batch(1)).status_code == 200


def test_off_means_no_limit(client: Client, write_key: str, settings: Any) -> None:
    settings.TEND_RATE_LIMIT_TRACKING = None
    assert {_post(client, write_key, _batch(n)).status_code for n in range(5)} == {200}
