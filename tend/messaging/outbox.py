"""Putting messages in the outbox: ``email_enqueue`` and ``webhook_enqueue``.

Both write one ``Message`` row in the caller's transaction, idempotent on ``key`` (a retried
playbook step or digest run asks again with the same key and gets the row it wrote first),
and ask a worker to send it once the transaction commits (tend.messaging.sending does the
sending; the "messages-send" schedule catches anything a worker missed).

Outreach emails (``outreach=True``, anything a customer receives) honour the suppression list
and the contacts' marketing consent (``tend.customers.consent.email_allowed``; status
``suppressed`` with the reason, never sent), carry RFC 8058 one-click unsubscribe headers and count
towards TEND_EMAIL_DAILY_CAP. Emails to Tend's own users (goal alerts, digests) pass
``outreach=False``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from tend.customers.consent import email_allowed, suppression_reason
from tend.messaging.models import (
    Channel,
    Message,
    MessageStatus,
    WebhookEndpoint,
)
from tend.messaging.unsubscribe import unsubscribe_url

KEY_LENGTH = 200
SUBJECT_LENGTH = 300
ADDRESS_LENGTH = 254
# Headers a caller may not set: the outbox writes these itself.
RESERVED_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "subject", "message-id", "date", "content-type", "mime-version"}
)


def message_key(key: str) -> str:
    """``key`` as stored: keys longer than the column keep a readable head and a digest of
    the whole, so two long keys that share a head stay distinct."""
    key = _clean(key)
    if len(key) <= KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"{key[: KEY_LENGTH - 41]}#{digest}"


def _clean(text: str) -> str:
    """Text safe to store: no NUL (PostgreSQL refuses it) and no lone surrogate."""
    text = str(text).replace("\x00", "")
    return text.encode("utf-8", "replace").decode("utf-8") if _has_surrogate(text) else text


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _one_line(text: str) -> str:
    """A header value on one line (a newline in a header is header injection)."""
    return " ".join(_clean(text).split())


def address_problem(address: str) -> str | None:
    """Why ``address`` cannot receive email, or None when it can."""
    if not address:
        return "no email address"
    if len(address) > ADDRESS_LENGTH:
        return f"the email address is longer than {ADDRESS_LENGTH} characters"
    try:
        validate_email(address)
    except ValidationError:
        return "not a valid email address"
    return None


def is_suppressed(address: str) -> bool:
    """Whether ``address`` is on the suppression list (unsubscribed, bounced, added by hand),
    as itself or in the hashed form an erasure leaves (``tend.customers.consent``)."""
    return suppression_reason(address) is not None


def _existing(key: str) -> Message | None:
    return Message.objects.filter(key=key).first()


def _create(message: Message) -> Message:
    """Insert ``message``; when a concurrent caller inserted the same key first, return theirs."""
    try:
        with transaction.atomic():
            message.save(force_insert=True)
    except IntegrityError:
        existing = _existing(message.key)
        if existing is None:
            raise
        return existing
    if message.status == MessageStatus.QUEUED:
        transaction.on_commit(lambda: _send_soon(message.pk), robust=True)
    return message


def _send_soon(message_id: int) -> None:
    from tend.messaging.tasks import message_send

    message_send.enqueue(message_id)


def email_enqueue(
    *,
    key: str,
    to: str,
    subject: str,
    text: str,
    html: str = "",
    customer: Any = None,
    contact: Any = None,
    template: Any = None,
    user: Any = None,
    language: str = "",
    source: str = "",
    source_id: str = "",
    headers: dict[str, str] | None = None,
    outreach: bool = True,
) -> Message:
    """Put one email in the outbox and return its row (the existing row when ``key`` was
    enqueued before: nothing is written twice).

    An address that cannot receive email is stored ``failed`` with the reason, so the send log
    shows it; a suppressed address (outreach only) is stored ``suppressed`` and never sent.
    """
    key = message_key(key)
    existing = _existing(key)
    if existing is not None:
        return existing
    to = _one_line(to)
    clean_headers: dict[str, str] = {}
    for name, value in (headers or {}).items():
        name = _one_line(name).replace(":", "")[:100]
        if name and name.lower() not in RESERVED_HEADERS:
            clean_headers[name] = _one_line(value)[:1000]
    status = MessageStatus.QUEUED
    error = ""
    problem = address_problem(to)
    if problem is not None:
        status, error = MessageStatus.FAILED, problem
    elif outreach:
        # The one consent check (suppression list, the contact's marketing consent).
        allowed, reason = email_allowed(to)
        if not allowed:
            status, error = MessageStatus.SUPPRESSED, reason
        clean_headers["List-Unsubscribe"] = f"<{unsubscribe_url(to)}>"
        clean_headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = Message(
        key=key,
        channel=Channel.EMAIL,
        status=status,
        source=_clean(source)[:30],
        source_id=_clean(source_id)[:64],
        customer=customer,
        contact=contact,
        template=template,
        user=user,
        to=to[:2000],
        language=_clean(language)[:10],
        subject=_one_line(subject)[:SUBJECT_LENGTH],
        text=_clean(text),
        html=_clean(html),
        headers=clean_headers,
        outreach=outreach,
        last_error=error,
        next_attempt_at=timezone.now(),
    )
    return _create(message)


def webhook_body(payload: Any) -> bytes:
    """The exact bytes posted for ``payload`` (and signed): compact JSON, keys sorted, UTF-8."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def webhook_enqueue(
    *,
    key: str,
    endpoint: WebhookEndpoint,
    payload: dict[str, Any],
    customer: Any = None,
    source: str = "",
    source_id: str = "",
) -> Message:
    """Put one webhook call in the outbox (idempotent on ``key``): ``payload`` is posted as
    JSON to ``endpoint``'s URL, signed with its secret when it is sent. A payload that is not
    JSON, or an archived endpoint, is stored ``failed`` with the reason."""
    key = message_key(key)
    existing = _existing(key)
    if existing is not None:
        return existing
    status, error = MessageStatus.QUEUED, ""
    try:
        if b"\\u0000" in webhook_body(payload):
            raise ValueError("it holds a NUL character (\\u0000)")
    except (TypeError, ValueError) as exc:
        status, error, payload = MessageStatus.FAILED, f"the payload is not JSON: {exc}", {}
    if endpoint.archived_at is not None:
        status, error = MessageStatus.FAILED, "the webhook endpoint is archived"
    message = Message(
        key=key,
        channel=Channel.WEBHOOK,
        status=status,
        source=_clean(source)[:30],
        source_id=_clean(source_id)[:64],
        customer=customer,
        endpoint=endpoint,
        to=endpoint.url,
        subject=endpoint.name[:SUBJECT_LENGTH],
        payload=payload,
        last_error=error,
        next_attempt_at=timezone.now(),
    )
    return _create(message)


def messages_send_due(*, limit: int = 100) -> int:
    """Claim due messages (with a lease) and send them; returns how many were sent."""
    from tend.messaging.sending import messages_send_due as send

    return send(limit=limit)
