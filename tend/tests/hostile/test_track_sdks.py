"""The official Segment and RudderStack Python SDKs against a live Tend: hostile values in a
batch cost only their own messages; refusals are read (code and message reach the application)
and a 4xx is given up at once instead of retried."""

from __future__ import annotations

import queue
from typing import Any

import pytest
from rudderstack.analytics.consumer import Consumer as RudderConsumer
from rudderstack.analytics.request import APIError as RudderAPIError
from segment.analytics.client import Client as SegmentClient
from segment.analytics.consumer import Consumer as SegmentConsumer
from segment.analytics.request import APIError as SegmentAPIError

from tend.accounts.actions import apikey_create
from tend.accounts.models import User
from tend.activity.models import Event
from tend.ingest.models import IngestStat

pytestmark = pytest.mark.django_db(transaction=True)

UNKNOWN_KEY = "tw_0123456789abcdef_unknown"
MESSAGE = {"type": "track", "userId": "u1", "event": "Signed In", "messageId": "m1"}


def refusals(code: str) -> int:
    """How many requests Tend refused with ``code`` (each request counts once)."""
    row = IngestStat.objects.filter(source="tracking", outcome="rejected", reason=code).first()
    return row.count if row else 0


def test_the_segment_sdk_reports_our_code_and_message_and_does_not_retry_a_401(
    live_server: Any,
) -> None:
    consumer = SegmentConsumer(queue.Queue(), UNKNOWN_KEY, host=live_server.url, retries=3)
    with pytest.raises(SegmentAPIError) as refused:
        consumer.request([MESSAGE])
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")
    assert refused.value.message == "unknown or revoked write key"
    assert refusals("unauthorized") == 1


def test_the_rudderstack_sdk_reports_our_code_and_message_and_does_not_retry_a_401(
    live_server: Any,
) -> None:
    consumer = RudderConsumer(queue.Queue(), UNKNOWN_KEY, host=live_server.url, retries=3)
    with pytest.raises(RudderAPIError) as refused:
        consumer.request([MESSAGE])
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")
    assert refused.value.message == "unknown or revoked write key"
    assert refusals("unauthorized") == 1


@pytest.mark.parametrize("sdk", ["segment", "rudderstack"])
def test_both_sdks_give_up_a_413_at_once_and_name_the_limit(
    live_server: Any, owner: User, sdk: str
) -> None:
    key = apikey_create(name="sdk", kind="write", by=owner)[1]
    consumer_class, error_class = {
        "segment": (SegmentConsumer, SegmentAPIError),
        "rudderstack": (RudderConsumer, RudderAPIError),
    }[sdk]
    # RudderStack gzips by default; the inflated batch is still over 500 KB.
    big = [{**MESSAGE, "messageId": f"m{n}", "properties": {"x": "y" * 30_000}} for n in range(20)]
    consumer = consumer_class(queue.Queue(), key, host=live_server.url, retries=3)
    with pytest.raises(error_class) as refused:
        consumer.request(big)
    assert (refused.value.status, refused.value.code) == (413, "too_large")
    assert "500" in refused.value.message or "bytes" in refused.value.message
    assert refusals("too_large") == 1
    assert not Event.objects.exists()


def test_the_segment_sdk_batch_with_nan_nul_and_surrogates_stores_every_good_event(
    live_server: Any, owner: User
) -> None:
    key = apikey_create(name="sdk", kind="write", by=owner)[1]
    errors: list[Exception] = []
    client = SegmentClient(
        key,
        host=live_server.url,
        upload_size=100,
        max_retries=0,
        on_error=lambda error, _batch: errors.append(error),
    )
    hostile = [
        {"score": float("nan")},  # Python's json writes NaN, which JSON does not have
        {"score": float("inf")},
        {"note": "nul\x00byte"},
        {"note": "half an emoji \ud83d"},
        {"nested": {"k\x00": 1}},
        {"big": 10**30},
    ]
    for n in range(30):
        client.track("u1", "Good", {"n": n}, message_id=f"good-{n}")
    for n, properties in enumerate(hostile):
        client.track("u1", "Bad", properties, message_id=f"bad-{n}")
    client.flush()
    client.shutdown()

    assert not errors  # one 200 answer: nothing for the SDK to retry or drop
    assert Event.objects.filter(name="Good").count() == 30
    assert not Event.objects.filter(name="Bad").exists()
    rejected = IngestStat.objects.filter(source="tracking", outcome="rejected")
    assert {r.reason: r.count for r in rejected} == {"bad_number": 3, "bad_text": 3}
