"""Sending the outbox: claim due messages with a lease, send them, record each attempt.

The protocol, so that any number of workers (and a killed one) send each message once:

1. **Claim** (one short transaction): due rows (``MessageQuerySet.due``: queued and due, or
   ``sending`` whose lease ran out) are locked with ``SELECT … FOR UPDATE SKIP LOCKED`` on
   PostgreSQL (SQLite's IMMEDIATE transactions let one writer in at a time), marked
   ``sending`` with ``claimed_until = now + TEND_MESSAGE_LEASE_SECONDS`` and ``attempts + 1``,
   and committed *before* any SMTP or HTTP conversation starts.
2. **Send** outside any transaction.
3. **Finish** (one short transaction): ``sent`` with ``sent_at``, or a retry with backoff, or
   ``failed``; a ``DeliveryAttempt`` row either way. The update only applies while the row is
   still ours (same lease), so a worker that overran its lease cannot overwrite a newer claim.

A worker killed between 1 and 3 leaves the row ``sending``; once its lease ends the next
sender claims it again. The email then goes out with the same Message-ID (derived from the
key), so a resend after a crash mid-conversation is recognisable as the same message.

The daily cap counts outreach emails sent today (UTC) plus those being sent now; claims are
serialised while the cap applies (an advisory lock on PostgreSQL), so two workers cannot
both take the last places.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import logging
import smtplib
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from tend.customers.consent import email_allowed
from tend.messaging.models import (
    Channel,
    DeliveryAttempt,
    HoldReason,
    Message,
    MessageStatus,
    SuppressionReason,
)
from tend.messaging.outbox import webhook_body

logger = logging.getLogger(__name__)

# Wait before the 2nd, 3rd, … try after a temporary failure; the last repeats.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
DETAIL_LENGTH = 2000  # of a server's reply or a webhook response kept in the attempt log
CAP_LOCK = 0x7E4D_0001  # pg_advisory_xact_lock key serialising capped claims


@dataclass(frozen=True)
class Outcome:
    ok: bool
    code: str = ""
    detail: str = ""
    permanent: bool = False  # retrying cannot help
    bounce: bool = False  # the recipient's server refused the address for good
    duration_ms: int = 0
    final_status: str = ""  # for outcomes that end without a try (suppressed, canceled)


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th try failed for a reason that may pass."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


def next_utc_day(now: datetime) -> datetime:
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=1)


def message_id(message: Message) -> str:
    """The email's Message-ID, the same for every try of one key (resends are recognisable)."""
    digest = hashlib.sha256(message.key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("<> ") or "tend.localhost"
    return f"<tend.{digest}@{domain}>"


# --- claim --------------------------------------------------------------------------------


def _lease() -> timedelta:
    return timedelta(seconds=settings.TEND_MESSAGE_LEASE_SECONDS)


def messages_claim(
    *, limit: int, now: datetime | None = None, ids: list[int] | None = None
) -> list[tuple[int, datetime]]:
    """Claim up to ``limit`` due messages (only ``ids`` when given); returns (id, lease end)
    pairs. Outreach emails beyond the daily cap are put back to wait for the next UTC day."""
    now = now or timezone.now()
    until = now + _lease()
    cap = settings.TEND_EMAIL_DAILY_CAP
    with transaction.atomic():
        if cap and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CAP_LOCK])
        due = Message.objects.due(now)
        if ids is not None:
            due = due.filter(pk__in=ids)
        due = due.order_by("next_attempt_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        found = list(
            due.values_list("pk", "outreach", "channel", "status", "attempts")[: max(limit, 0)]
        )
        # A message whose worker died on every try (a claim that ran out, again and again)
        # must not loop for ever: it fails like any other message out of tries.
        worn = [
            pk
            for pk, _outreach, _channel, status, attempts in found
            if status == MessageStatus.SENDING and attempts >= settings.TEND_MESSAGE_MAX_ATTEMPTS
        ]
        if worn:
            Message.objects.filter(pk__in=worn).update(
                status=MessageStatus.FAILED,
                claimed_until=None,
                last_error="the worker stopped while sending it, on every try",
            )
        rows = [(pk, outreach, channel) for pk, outreach, channel, *_ in found if pk not in worn]
        claim = [pk for pk, outreach, channel in rows if not (outreach and channel == "email")]
        outreach_ids = [pk for pk, outreach, channel in rows if outreach and channel == "email"]
        if cap and outreach_ids:
            room = max(cap - outreach_used_today(now), 0)
            held = outreach_ids[room:]
            outreach_ids = outreach_ids[:room]
            if held:
                Message.objects.filter(pk__in=held).update(
                    status=MessageStatus.QUEUED,
                    next_attempt_at=next_utc_day(now),
                    hold_reason=HoldReason.DAILY_CAP,
                    claimed_until=None,
                )
        claim += outreach_ids
        if claim:
            Message.objects.filter(pk__in=claim).update(
                status=MessageStatus.SENDING,
                claimed_until=until,
                attempts=F("attempts") + 1,
                hold_reason="",
            )
    return [(pk, until) for pk in sorted(claim)]


def outreach_used_today(now: datetime) -> int:
    """Outreach emails sent since midnight UTC, plus those a worker is sending right now."""
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return (
        Message.objects.filter(channel=Channel.EMAIL, outreach=True)
        .filter(
            Q(sent_at__gte=start, status=MessageStatus.SENT)
            | Q(status=MessageStatus.SENDING, claimed_until__gte=now)
        )
        .count()
    )


# --- send ---------------------------------------------------------------------------------


def messages_send_due(
    *, limit: int = 100, now: datetime | None = None, ids: list[int] | None = None
) -> int:
    """Claim due messages and send each; returns how many were sent."""
    sent = 0
    for pk, until in messages_claim(limit=limit, now=now, ids=ids):
        message = Message.objects.select_related("endpoint").filter(pk=pk).first()
        if message is None:
            continue
        try:
            outcome = _deliver(message)
        except Exception as exc:  # a bug must not leave the claim to the lease alone
            logger.exception("message %s: unexpected error while sending", pk)
            outcome = Outcome(ok=False, detail=f"{type(exc).__name__}: {exc}"[:DETAIL_LENGTH])
        if message_finish(message=message, until=until, outcome=outcome, now=now):
            sent += outcome.ok
    return sent


def _deliver(message: Message) -> Outcome:
    if message.channel == Channel.WEBHOOK:
        return _webhook(message)
    if message.outreach:
        # Asked again just before the send: an unsubscribe or a withdrawal may have come since.
        allowed, reason = email_allowed(message.to)
        if not allowed:
            return Outcome(
                ok=False,
                detail=f"{reason} (before the send)",
                final_status=MessageStatus.SUPPRESSED,
            )
    return _email(message)


def email_build(message: Message) -> EmailMultiAlternatives:
    """The email as it goes out: text part, HTML part when there is one, the outbox headers."""
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers={**message.headers, "Message-ID": message_id(message)},
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    return email


def _email(message: Message) -> Outcome:
    email = email_build(message)
    started = time.monotonic()
    backend = get_connection(fail_silently=False, timeout=settings.TEND_MESSAGE_TIMEOUT_SECONDS)
    try:
        if isinstance(backend, SmtpBackend):
            code, reply = _smtp_send(backend, email)
        else:
            backend.send_messages([email])
            code, reply = "", "handed to " + type(backend).__module__
    except smtplib.SMTPRecipientsRefused as exc:
        refused = next(iter(exc.recipients.values()), (0, b""))
        return _smtp_outcome(refused[0], refused[1], started, recipient=True)
    except smtplib.SMTPAuthenticationError as exc:
        # Wrong credentials are fixed in TEND_EMAIL_URL, then the retries go through.
        return _smtp_outcome(exc.smtp_code, exc.smtp_error, started, temporary=True)
    except smtplib.SMTPSenderRefused as exc:
        return _smtp_outcome(exc.smtp_code, exc.smtp_error, started, temporary=True)
    except smtplib.SMTPResponseException as exc:
        return _smtp_outcome(exc.smtp_code, exc.smtp_error, started)
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        # Connection refused, timeouts, a name that does not resolve, a dropped connection.
        return Outcome(ok=False, detail=_error_text(exc), duration_ms=_ms(started))
    return Outcome(ok=True, code=code, detail=reply, duration_ms=_ms(started))


def _smtp_send(backend: SmtpBackend, email: EmailMultiAlternatives) -> tuple[str, str]:
    """One SMTP transaction (MAIL, RCPT, DATA) keeping the server's final reply, which
    ``smtplib.sendmail`` throws away."""
    try:
        backend.open()
        smtp = backend.connection
        assert smtp is not None
        encoding = email.encoding or settings.DEFAULT_CHARSET
        sender = sanitize_address(email.from_email, encoding)
        recipient = sanitize_address(email.to[0], encoding)
        body = email.message().as_bytes(linesep="\r\n")
        smtp.ehlo_or_helo_if_needed()
        code, reply = smtp.mail(sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
        code, reply = smtp.data(body)
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
        return str(code), _text(reply)
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            backend.close()


def _smtp_outcome(
    code: int,
    reply: Any,
    started: float,
    *,
    recipient: bool = False,
    temporary: bool = False,
) -> Outcome:
    permanent = 500 <= code < 600 and not temporary
    return Outcome(
        ok=False,
        code=str(code),
        detail=f"{code} {_text(reply)}"[:DETAIL_LENGTH],
        permanent=permanent,
        bounce=permanent and recipient,
        duration_ms=_ms(started),
    )


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).replace("\x00", "")[:DETAIL_LENGTH]


def _error_text(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    return _text(f"{type(exc).__name__}: {reason}")


def _ms(started: float) -> int:
    return max(int((time.monotonic() - started) * 1000), 0)


# --- webhooks ------------------------------------------------------------------------------


def webhook_signature(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Tend-Signature`` header: ``t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">``."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a delivery: it is logged and retried, never followed (a
    signed body must not be re-posted somewhere the endpoint's owner did not name)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _webhook(message: Message) -> Outcome:
    from tend.messaging.webhooks import url_problem

    endpoint = message.endpoint
    if endpoint is None or endpoint.archived_at is not None:
        return Outcome(
            ok=False,
            detail="the webhook endpoint was archived or deleted",
            final_status=MessageStatus.CANCELED,
        )
    problem = url_problem(endpoint.url)
    if problem is not None:
        return Outcome(ok=False, detail=problem, permanent=True)
    body = webhook_body(message.payload)
    timestamp = int(time.time())
    request = urllib.request.Request(
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Tend-Webhooks/1",
            "Tend-Signature": webhook_signature(endpoint.secret, body, timestamp),
            "Tend-Message-Id": str(message.pk),
            "Tend-Message-Key": message.key.encode("ascii", "replace").decode(),
        },
    )
    started = time.monotonic()
    try:
        with _opener.open(request, timeout=settings.TEND_MESSAGE_TIMEOUT_SECONDS) as response:
            status, text = response.status, response.read(DETAIL_LENGTH)
    except urllib.error.HTTPError as exc:
        status = exc.code
        try:
            text = exc.read(DETAIL_LENGTH)
        except (OSError, http.client.HTTPException):
            text = b""
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return Outcome(ok=False, detail=_error_text(exc), duration_ms=_ms(started))
    return Outcome(
        ok=200 <= status < 300,
        code=str(status),
        detail=_text(text)[:DETAIL_LENGTH],
        duration_ms=_ms(started),
    )


# --- finish -------------------------------------------------------------------------------


def message_finish(
    *, message: Message, until: datetime, outcome: Outcome, now: datetime | None = None
) -> bool:
    """Record how a claimed message's try ended; False when the claim was no longer ours."""
    now = now or timezone.now()
    ours = Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING, claimed_until=until)
    fields: dict[str, Any] = {"claimed_until": None}
    if outcome.ok:
        fields.update(status=MessageStatus.SENT, sent_at=now, last_error="")
    elif outcome.final_status:
        fields.update(status=outcome.final_status, last_error=outcome.detail)
    elif outcome.permanent or message.attempts >= settings.TEND_MESSAGE_MAX_ATTEMPTS:
        fields.update(status=MessageStatus.FAILED, last_error=outcome.detail)
    else:
        fields.update(
            status=MessageStatus.QUEUED,
            next_attempt_at=now + backoff(message.attempts),
            last_error=outcome.detail,
        )
    with transaction.atomic():
        updated = ours.update(**fields)
        if not outcome.final_status:
            DeliveryAttempt.objects.create(
                message=message,
                at=now,
                ok=outcome.ok,
                code=outcome.code[:20],
                detail=outcome.detail[:DETAIL_LENGTH],
                duration_ms=outcome.duration_ms,
            )
        if updated and outcome.bounce:
            from tend.messaging.actions import suppression_add

            suppression_add(
                email=message.to,
                reason=SuppressionReason.BOUNCED,
                note=outcome.detail[:300],
                message=message,
            )
    if not updated:
        logger.warning("message %s: the claim ran out before the send ended", message.pk)
    elif outcome.ok:
        logger.info("message %s sent (%s)", message.pk, message.channel)
    else:
        logger.info("message %s not sent: %s", message.pk, fields["status"])
    return bool(updated)
