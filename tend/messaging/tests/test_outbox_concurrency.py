"""Two senders at once (two threads, each with its own database connection) claiming the
same due rows send each email exactly once: SKIP LOCKED on PostgreSQL, IMMEDIATE
transactions on SQLite. A claim whose worker died is sent again once its lease ends."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from tend.messaging.models import Message, MessageStatus
from tend.messaging.outbox import email_enqueue
from tend.messaging.sending import messages_claim, messages_send_due
from tend.messaging.tests.helpers import smtp_server

EMAILS = 40


@pytest.mark.django_db(transaction=True)
def test_two_senders_claiming_the_same_rows_send_each_email_once(settings: Any) -> None:
    settings.TEND_EMAIL_DAILY_CAP = 0
    with smtp_server(settings) as inbox:
        for i in range(EMAILS):
            email_enqueue(key=f"k{i}", to=f"c{i}@example.com", subject="s", text="t")
        # The on-commit sends ran already (immediate task backend); queue them all again.
        Message.objects.update(status=MessageStatus.QUEUED, attempts=0, sent_at=None)
        inbox.messages.clear()
        inbox.envelopes.clear()
        start = threading.Barrier(2)
        sent: list[int] = []

        def sender() -> None:
            try:
                start.wait()
                total = 0
                while claimed := messages_send_due(limit=3):
                    total += claimed
                sent.append(total)
            finally:
                connection.close()

        threads = [threading.Thread(target=sender) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert sum(sent) == EMAILS
    assert inbox.to() == sorted(f"c{i}@example.com" for i in range(EMAILS))
    assert Message.objects.filter(status=MessageStatus.SENT, attempts=1).count() == EMAILS


@pytest.mark.django_db(transaction=True)
def test_the_claim_of_a_killed_worker_is_taken_again_after_its_lease(settings: Any) -> None:
    settings.TEND_MESSAGE_LEASE_SECONDS = 60
    with smtp_server(settings) as inbox:
        message = email_enqueue(key="k", to="ada@example.com", subject="s", text="t")
        Message.objects.update(status=MessageStatus.QUEUED, attempts=0, sent_at=None)
        inbox.envelopes.clear()
        now = timezone.now()
        # A worker claims it and dies before sending: the row stays "sending".
        [(pk, until)] = messages_claim(limit=10, now=now)
        assert pk == message.pk
        assert messages_send_due(now=now + timedelta(seconds=30)) == 0  # lease still running
        assert messages_send_due(now=until + timedelta(seconds=1)) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 2)
    assert inbox.to() == ["ada@example.com"]


@pytest.mark.django_db
def test_a_message_whose_worker_dies_on_every_try_ends_failed(settings: Any) -> None:
    settings.TEND_MESSAGE_MAX_ATTEMPTS = 2
    message = email_enqueue(key="k", to="ada@example.com", subject="s", text="t")
    now = timezone.now()
    for _ in range(2):  # claimed, and the worker killed before it could finish, twice
        [(_pk, until)] = messages_claim(limit=10, now=now)
        now = until + timedelta(seconds=1)
    assert messages_claim(limit=10, now=now) == []
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 2)
    assert "worker stopped" in message.last_error
