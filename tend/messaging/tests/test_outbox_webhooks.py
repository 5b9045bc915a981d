"""Webhooks through the outbox to a real HTTP server: signed like Stripe's (the receiver's
verification from docs/email.md passes), non-2xx answers retried with backoff, each try logged
with its status and a truncated response, only http(s) endpoints accepted."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from tend.messaging.actions import (
    webhook_endpoint_archive,
    webhook_endpoint_create,
    webhook_endpoint_rotate,
)
from tend.messaging.models import DeliveryAttempt, Message, MessageStatus
from tend.messaging.outbox import webhook_enqueue
from tend.messaging.sending import messages_send_due
from tend.messaging.tests.helpers import free_port, webhook_server

pytestmark = pytest.mark.django_db


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """The receiver's check, exactly as docs/email.md shows it."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    timestamp, signature = parts["t"], parts["v1"]
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, signature) and abs(time.time() - int(timestamp)) < (
        tolerance
    )


def test_a_webhook_is_posted_signed_and_logged(owner: Any) -> None:
    with webhook_server() as receiver:
        endpoint, secret = webhook_endpoint_create(name="CRM", url=receiver.url, by=owner)
        payload = {"event": "renewal_reminder", "customer": {"id": 7, "name": "Ada 李"}}
        message = webhook_enqueue(key="run:1:step:2", endpoint=endpoint, payload=payload)
        assert webhook_enqueue(key="run:1:step:2", endpoint=endpoint, payload={}).pk == message.pk
        assert messages_send_due() == 1
    [call] = receiver.calls
    assert call["path"] == "/hooks/tend"
    assert json.loads(call["body"]) == payload
    assert call["headers"]["Content-Type"].startswith("application/json")
    assert verify(secret, call["headers"]["Tend-Signature"], call["body"])
    assert not verify("whsec_wrong", call["headers"]["Tend-Signature"], call["body"])
    assert not verify(secret, call["headers"]["Tend-Signature"], call["body"] + b" ")
    assert call["headers"]["Tend-Message-Id"] == str(message.pk)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.sent_at is not None
    attempt = DeliveryAttempt.objects.get(message=message)
    assert attempt.ok and attempt.code == "200" and '"received": true' in attempt.detail


def test_a_non_2xx_answer_is_retried_with_backoff_then_sent(owner: Any) -> None:
    with webhook_server() as receiver:
        receiver.statuses = [500, 404]
        endpoint, _secret = webhook_endpoint_create(name="CRM", url=receiver.url, by=owner)
        message = webhook_enqueue(key="k", endpoint=endpoint, payload={"n": 1})
        assert messages_send_due() == 0
        message.refresh_from_db()
        assert (message.status, message.attempts) == (MessageStatus.QUEUED, 1)
        first_retry = message.next_attempt_at
        assert messages_send_due(now=first_retry) == 0
        message.refresh_from_db()
        assert message.next_attempt_at - first_retry >= timedelta(minutes=5)
        assert messages_send_due(now=message.next_attempt_at) == 1
    assert len(receiver.calls) == 3
    codes = list(message.attempt_log.order_by("at", "pk").values_list("code", "ok"))
    assert codes == [("500", False), ("404", False), ("200", True)]
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.last_error == ""


def test_an_unreachable_endpoint_ends_failed_with_the_error(owner: Any, settings: Any) -> None:
    settings.TEND_MESSAGE_MAX_ATTEMPTS = 2
    endpoint, _secret = webhook_endpoint_create(
        name="Down", url=f"http://127.0.0.1:{free_port()}/x", by=owner
    )
    message = webhook_enqueue(key="k", endpoint=endpoint, payload={})
    messages_send_due()
    message.refresh_from_db()
    messages_send_due(now=message.next_attempt_at)
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "Connection refused" in message.last_error or "URLError" in message.last_error


def test_a_rotated_secret_signs_the_calls_not_yet_sent(owner: Any) -> None:
    with webhook_server() as receiver:
        endpoint, old = webhook_endpoint_create(name="CRM", url=receiver.url, by=owner)
        webhook_enqueue(key="k", endpoint=endpoint, payload={"a": 1})
        new = webhook_endpoint_rotate(endpoint=endpoint, by=owner)
        assert new != old and new.startswith("whsec_")
        messages_send_due()
    header = receiver.calls[0]["headers"]["Tend-Signature"]
    assert verify(new, header, receiver.calls[0]["body"])
    assert not verify(old, header, receiver.calls[0]["body"])


def test_an_archived_endpoint_gets_nothing_more(owner: Any) -> None:
    with webhook_server() as receiver:
        endpoint, _secret = webhook_endpoint_create(name="CRM", url=receiver.url, by=owner)
        queued = webhook_enqueue(key="k", endpoint=endpoint, payload={})
        assert webhook_endpoint_archive(endpoint=endpoint, by=owner) == 1
        later = webhook_enqueue(key="k2", endpoint=endpoint, payload={})
        assert messages_send_due() == 0
    assert receiver.calls == []
    assert Message.objects.get(pk=queued.pk).status == MessageStatus.CANCELED
    assert later.status == MessageStatus.FAILED


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "ftp://example.com/x",
        "data:text/plain,hi",
        "//example.com/x",
        "http://",
        "https://user:pw@example.com/",
        "http://exa mple.com/",
        "http://example.com/\x00",
        "http://example.com/\ud800",
        "https://example.com/" + "a" * 2000,
        "",
    ],
)
def test_only_http_and_https_urls_are_accepted(owner: Any, url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        webhook_endpoint_create(name="Bad", url=url, by=owner)
    assert "url" in caught.value.message_dict
