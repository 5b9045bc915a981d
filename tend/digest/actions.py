"""Sending digests: the preference, rendering in the user's language, and the hourly job.

The "digest-send" schedule runs every hour. From ``TEND_DIGEST_HOUR`` (07:00 by default) in
the business's time zone (``TEND_TIME_ZONE``) on, each owner or member who chose a digest and
has an email address gets one, daily or on Mondays. The outbox key
``digest:<user id>:<local date>`` makes it once per day (or week): a second run, a second
worker or a retried job finds the message already written. A run missed at 07:00 (worker down)
sends at the next hour. Viewers get no digest: the digest is a to-do list (Today, tasks), and
viewers act on nothing (docs/digest.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tend.accounts.actions import audit_record
from tend.accounts.models import DigestFrequency, Role, User
from tend.digest.content import SOURCE, Digest, digest_build
from tend.messaging.models import Message

logger = logging.getLogger(__name__)

RECEIVING_ROLES = (Role.OWNER, Role.MEMBER)


def may_receive(user: User) -> bool:
    """Owners and members who are active; viewers never (see the module docstring)."""
    return bool(user.is_active and user.role in RECEIVING_ROLES)


def digest_set_frequency(*, user: User, frequency: str, by: User | None, label: str = "") -> User:
    """Choose ``off``, ``daily`` or ``weekly`` (Mondays) for ``user``'s digest."""
    if frequency not in DigestFrequency.values:
        raise ValidationError(
            {
                "digest": _("Choose one of: %(choices)s.")
                % {"choices": ", ".join(DigestFrequency.values)}
            },
            code="invalid_choice",
        )
    if frequency != DigestFrequency.OFF and not may_receive(user):
        raise ValidationError(
            {"digest": _("Viewers do not receive the digest; only owners and members do.")},
            code="viewer",
        )
    if user.digest == frequency:
        return user
    before = user.digest
    user.digest = frequency
    user.save(update_fields=["digest"])
    audit_record(
        by=by, label=label, action="user.digest", obj=user, changes={"digest": (before, frequency)}
    )
    return user


# --- when --------------------------------------------------------------------------------


def local_now(now: datetime) -> datetime:
    """``now`` in the business's time zone."""
    return now.astimezone(ZoneInfo(settings.TIME_ZONE))


def digest_day(frequency: str, now: datetime) -> date | None:
    """The local day a digest of ``frequency`` is due at ``now``, or None when none is due:
    before TEND_DIGEST_HOUR local time, digests off, or a weekly digest on a day other than
    Monday."""
    local = local_now(now)
    if local.hour < settings.TEND_DIGEST_HOUR:
        return None
    if frequency == DigestFrequency.DAILY:
        return local.date()
    if frequency == DigestFrequency.WEEKLY and local.weekday() == 0:
        return local.date()
    return None


def digest_key(user: User, day: date) -> str:
    return f"digest:{user.pk}:{day.isoformat()}"


# --- rendering ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    text: str
    html: str
    language: str


def user_language(user: User) -> str:
    return user.language or settings.LANGUAGE_CODE


def digest_render(digest: Digest) -> RenderedDigest:
    """Subject, plain text and HTML in the user's language (else the site's)."""
    language = user_language(digest.user)
    with translation.override(language):
        context: dict[str, Any] = {
            "digest": digest,
            "user": digest.user,
            "name": digest.user.first_name or digest.user.username,
            "weekly": digest.frequency == DigestFrequency.WEEKLY,
            "hour": settings.TEND_DIGEST_HOUR,
            "time_zone": settings.TIME_ZONE,
            "language": language,
        }
        subject = " ".join(render_to_string("digest/subject.txt", context).split())
        text = render_to_string("digest/email.txt", context)
        html = render_to_string("digest/email.html", context)
    return RenderedDigest(subject=subject, text=text, html=html, language=language)


# --- sending -----------------------------------------------------------------------------


def digest_send(
    *, user: User, day: date, now: datetime | None = None, frequency: str | None = None
) -> Message:
    """Write ``user``'s digest for ``day`` to the outbox (once: the key is per user and day)."""
    now = now or timezone.now()
    if not may_receive(user):
        raise ValidationError({"user": _("Viewers do not receive the digest.")}, code="viewer")
    if not user.email:
        raise ValidationError({"user": _("This user has no email address.")}, code="no_email")
    key = digest_key(user, day)
    existing = Message.objects.filter(key=key).first()
    if existing is not None:
        return existing
    # Imported here so that this app's pages load on a branch without the outbox (helper
    # "outbox" builds it alongside; after the merge this is an ordinary import).
    from tend.messaging.outbox import email_enqueue

    rendered = digest_render(digest_build(user=user, day=day, now=now, frequency=frequency))
    return email_enqueue(
        key=key,
        to=user.email,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        user=user,
        language=rendered.language,
        source=SOURCE,
        source_id=str(user.pk),
        outreach=False,
    )


def digest_recipients(now: datetime) -> list[tuple[User, date]]:
    """Who is due a digest at ``now`` and for which local day (keys not yet written)."""
    due = []
    users = (
        User.objects.filter(is_active=True, role__in=RECEIVING_ROLES)
        .exclude(digest=DigestFrequency.OFF)
        .exclude(email="")
        .order_by("pk")
    )
    for user in users:
        day = digest_day(user.digest, now)
        if day is not None:
            due.append((user, day))
    if not due:
        return []
    written = set(
        Message.objects.filter(key__in=[digest_key(u, d) for u, d in due]).values_list(
            "key", flat=True
        )
    )
    return [(u, d) for u, d in due if digest_key(u, d) not in written]


def digests_send_due(*, now: datetime | None = None) -> int:
    """Send every digest due at ``now``; returns how many were written to the outbox. A
    digest that fails to build is logged and skipped; the next hourly run tries again."""
    now = now or timezone.now()
    sent = 0
    for user, day in digest_recipients(now):
        try:
            digest_send(user=user, day=day, now=now)
        except Exception:
            logger.exception("digest for user %s (%s) failed; the next run retries", user.pk, day)
            continue
        sent += 1
    return sent
