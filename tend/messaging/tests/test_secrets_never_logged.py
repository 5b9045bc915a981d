"""Secrets never reach a log line, an attempt row or an audit row: the SMTP password (a mail
server that refuses the login), and a webhook endpoint's signing secret."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tend.accounts.models import AuditEntry
from tend.messaging.actions import webhook_endpoint_create, webhook_endpoint_rotate
from tend.messaging.models import DeliveryAttempt, Message, MessageStatus
from tend.messaging.outbox import email_enqueue, webhook_enqueue
from tend.messaging.sending import messages_send_due
from tend.messaging.tests.helpers import Inbox, free_port, point_django_at, webhook_server

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-Pa55word-never-logged"


def refuse_everyone(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    return AuthResult(success=False, handled=False)


def test_a_refused_smtp_login_is_retried_and_the_password_is_nowhere(
    settings: Any, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    port = free_port()
    controller = Controller(
        Inbox(),
        hostname="127.0.0.1",
        port=port,
        authenticator=refuse_everyone,
        auth_require_tls=False,
    )
    controller.start()
    try:
        point_django_at(settings, port)
        settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "tend", PASSWORD
        message = email_enqueue(key="k", to="ada@example.com", subject="s", text="t")
        assert messages_send_due() == 0
    finally:
        controller.stop()
    message.refresh_from_db()
    # Wrong credentials are fixed in TEND_EMAIL_URL; the message waits for its retry.
    assert message.status == MessageStatus.QUEUED
    assert message.last_error.startswith("535")
    stored = " ".join(DeliveryAttempt.objects.values_list("detail", flat=True))
    assert PASSWORD not in caplog.text + message.last_error + stored


def test_a_webhook_secret_is_in_no_log_attempt_or_audit_row(owner: Any, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    with webhook_server() as receiver:
        receiver.statuses = [500]
        endpoint, secret = webhook_endpoint_create(name="CRM", url=receiver.url, by=owner)
        rotated = webhook_endpoint_rotate(endpoint=endpoint, by=owner)
        message = webhook_enqueue(key="k", endpoint=endpoint, payload={"a": 1})
        messages_send_due()
        messages_send_due(now=Message.objects.get(pk=message.pk).next_attempt_at)
    assert len(receiver.calls) == 2
    rows = " ".join(
        [
            *DeliveryAttempt.objects.values_list("detail", flat=True),
            *(str(c) for c in AuditEntry.objects.values_list("changes", flat=True)),
            *Message.objects.values_list("last_error", flat=True),
        ]
    )
    for value in (secret, rotated):
        assert value not in caplog.text and value not in rows
