"""Emails through the outbox to a real SMTP server (aiosmtpd): sent once per key, text and
HTML parts, unsubscribe headers on outreach, suppression honoured, bounces suppressed,
temporary failures retried with backoff, the daily cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from tend.customers.models import TimelineEntry
from tend.factories import make_customer
from tend.messaging.actions import suppression_add
from tend.messaging.models import (
    DeliveryAttempt,
    HoldReason,
    Message,
    MessageStatus,
    Suppression,
    SuppressionReason,
)
from tend.messaging.outbox import email_enqueue
from tend.messaging.sending import BACKOFF, messages_send_due, next_utc_day
from tend.messaging.tests.helpers import free_port, point_django_at, smtp_server
from tend.messaging.unsubscribe import unsubscribe_email

pytestmark = pytest.mark.django_db


def enqueue(key: str = "k1", to: str = "ada@example.com", **kwargs: Any) -> Message:
    fields: dict[str, Any] = {
        "subject": "Your renewal is coming",
        "text": "Hello Ada,\nyour plan renews soon.",
        "html": "<p>Hello <b>Ada</b>, your plan renews soon.</p>",
        "source": "playbook",
        "source_id": "7",
        **kwargs,
    }
    return email_enqueue(key=key, to=to, **fields)


def test_an_enqueued_email_is_sent_once_with_text_html_and_unsubscribe_headers(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    customer = make_customer(name="Ada Ltd", email="ada@example.com")
    with smtp_server(settings) as inbox:
        # When a playbook step enqueues an email (the send task runs on commit).
        with django_capture_on_commit_callbacks(execute=True):
            message = enqueue(customer=customer)
            again = enqueue(customer=customer, subject="a retry of the same step")
        # Then one row, sent once, with an attempt logging the server's reply.
        assert again.pk == message.pk
        assert Message.objects.count() == 1
        message.refresh_from_db()
        assert message.status == MessageStatus.SENT and message.sent_at is not None
        assert message.attempts == 1
        attempt = DeliveryAttempt.objects.get(message=message)
        assert attempt.ok and attempt.code == "250" and "accepted" in attempt.detail
        assert inbox.to() == ["ada@example.com"]
        sent = inbox.messages[0]
        assert sent["From"] == settings.DEFAULT_FROM_EMAIL
        assert str(sent["Subject"]).strip() == "Your renewal is coming"
        assert sent["Message-ID"].startswith("<tend.")
        assert sent.get_body(("plain",)).get_content().startswith("Hello Ada,")
        assert "<b>Ada</b>" in sent.get_body(("html",)).get_content()
        # RFC 8058 one-click unsubscribe, pointing at a link signed for this address.
        assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = str(sent["List-Unsubscribe"]).strip().strip("<>")
        assert link.startswith("http://localhost:8000/u/")
        assert unsubscribe_email(link.rstrip("/").rsplit("/", 1)[1]) == "ada@example.com"
        # Sending again finds nothing due.
        assert messages_send_due() == 0
        assert len(inbox.messages) == 1


def test_the_message_id_is_the_same_for_every_try_of_a_key(settings: Any) -> None:
    with smtp_server(settings) as inbox:
        message = enqueue()
        messages_send_due()
        Message.objects.filter(pk=message.pk).update(status=MessageStatus.FAILED)
        from tend.messaging.actions import message_retry

        message_retry(message=Message.objects.get(pk=message.pk), by=None)
        messages_send_due()
    assert len(inbox.messages) == 2
    assert inbox.messages[0]["Message-ID"] == inbox.messages[1]["Message-ID"]


def test_emails_to_tend_users_carry_no_unsubscribe_header(settings: Any) -> None:
    with smtp_server(settings) as inbox:
        enqueue(outreach=False, source="goal_alert")
        assert messages_send_due() == 1
    assert "List-Unsubscribe" not in inbox.messages[0]


def test_a_suppressed_address_is_stored_suppressed_and_never_sent(settings: Any) -> None:
    suppression_add(email="Ada@Example.com", reason=SuppressionReason.MANUAL)
    with smtp_server(settings) as inbox:
        message = enqueue(to="ada@example.com")
        assert message.status == MessageStatus.SUPPRESSED
        assert messages_send_due() == 0
    assert inbox.messages == []
    # An email to a Tend user (not outreach) is not held back by the list.
    assert enqueue(key="alert", outreach=False).status == MessageStatus.QUEUED


def test_an_address_suppressed_after_enqueueing_is_not_sent(settings: Any) -> None:
    with smtp_server(settings) as inbox:
        message = enqueue()
        Suppression.objects.create(email="ada@example.com", reason=SuppressionReason.MANUAL)
        assert messages_send_due() == 0
    message.refresh_from_db()
    assert message.status == MessageStatus.SUPPRESSED
    assert inbox.messages == []


def test_an_invalid_address_is_stored_failed_with_the_reason() -> None:
    message = enqueue(to="not an address")
    assert message.status == MessageStatus.FAILED
    assert message.last_error == "not a valid email address"
    assert enqueue(key="empty", to="").last_error == "no email address"


def test_a_permanent_refusal_is_a_bounce_the_address_is_suppressed(settings: Any) -> None:
    customer = make_customer(name="Gone Inc", email="gone@example.com")
    with smtp_server(settings) as inbox:
        inbox.rcpt_reply["gone@example.com"] = "550 5.1.1 No such user here"
        message = enqueue(to="gone@example.com", customer=customer)
        assert messages_send_due() == 0
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.last_error == "550 5.1.1 No such user here"
    attempt = DeliveryAttempt.objects.get(message=message)
    assert (attempt.ok, attempt.code) == (False, "550")
    suppression = Suppression.objects.get(email="gone@example.com")
    assert suppression.reason == SuppressionReason.BOUNCED and suppression.message == message
    entry = TimelineEntry.objects.get(customer=customer, data__msg="email_bounced")
    assert entry.kind == "email"
    # The next email to it is suppressed at once.
    assert enqueue(key="k2", to="gone@example.com").status == MessageStatus.SUPPRESSED


def test_a_temporary_failure_is_retried_with_backoff_then_sent(settings: Any) -> None:
    with smtp_server(settings) as inbox:
        inbox.rcpt_reply["ada@example.com"] = "451 4.7.1 Greylisted, try again later"
        message = enqueue()
        before = timezone.now()
        assert messages_send_due() == 0
        message.refresh_from_db()
        assert message.status == MessageStatus.QUEUED
        assert message.last_error.startswith("451 4.7.1 Greylisted")
        assert before + BACKOFF[0] <= message.next_attempt_at <= timezone.now() + BACKOFF[0]
        # Not due again before its backoff ends.
        assert messages_send_due() == 0
        assert Message.objects.get(pk=message.pk).attempts == 1

        inbox.rcpt_reply.clear()
        assert messages_send_due(now=message.next_attempt_at + timedelta(seconds=1)) == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.attempts == 2
    assert [a.code for a in message.attempt_log.order_by("at", "pk")] == ["451", "250"]
    assert inbox.to() == ["ada@example.com"]
    assert not Suppression.objects.exists()


def test_a_server_that_is_down_is_retried_until_the_last_attempt_then_failed(
    settings: Any,
) -> None:
    settings.TEND_MESSAGE_MAX_ATTEMPTS = 3
    point_django_at(settings, free_port())  # nobody listens there
    message = enqueue()
    now = timezone.now()
    for expected in (MessageStatus.QUEUED, MessageStatus.QUEUED, MessageStatus.FAILED):
        messages_send_due(now=now)
        message.refresh_from_db()
        assert message.status == expected
        now = message.next_attempt_at + timedelta(seconds=1)
    assert message.attempts == 3
    assert "ConnectionRefusedError" in message.last_error
    gaps = [a.at for a in message.attempt_log.order_by("at")]
    assert len(gaps) == 3
    assert not Suppression.objects.exists()


def test_the_daily_cap_holds_outreach_for_the_next_utc_day(settings: Any) -> None:
    settings.TEND_EMAIL_DAILY_CAP = 2
    now = datetime(2026, 3, 20, 22, 0, tzinfo=UTC)
    with smtp_server(settings) as inbox:
        for i in range(4):
            enqueue(key=f"k{i}", to=f"c{i}@example.com")
        alert = enqueue(key="alert", to="owner@example.com", outreach=False)
        Message.objects.update(next_attempt_at=now)
        assert messages_send_due(now=now) == 3  # two outreach, and the alert (never capped)
        held = list(Message.objects.filter(status=MessageStatus.QUEUED).order_by("pk"))
        assert [m.to for m in held] == ["c2@example.com", "c3@example.com"]
        assert all(m.hold_reason == HoldReason.DAILY_CAP for m in held)
        assert all(m.next_attempt_at == next_utc_day(now) for m in held)
        assert all(m.attempts == 0 for m in held)
        assert Message.objects.get(pk=alert.pk).status == MessageStatus.SENT
        # Still held later that day; sent after midnight UTC.
        assert messages_send_due(now=now + timedelta(hours=1)) == 0
        Message.objects.filter(status=MessageStatus.SENT).update(sent_at=now)
        assert messages_send_due(now=next_utc_day(now) + timedelta(minutes=1)) == 2
    assert sorted(inbox.to()) == sorted(
        [
            "c0@example.com",
            "c1@example.com",
            "c2@example.com",
            "c3@example.com",
            "owner@example.com",
        ]
    )
    assert not Message.objects.exclude(hold_reason="").exists()


def test_the_console_backend_by_default_sends_too(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    enqueue()
    assert messages_send_due() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
