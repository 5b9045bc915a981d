"""Writes of the outbox: suppressions, unsubscribing, retrying and canceling messages,
webhook endpoints. Each records an audit row when a person (or an API key) did it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tend.accounts.actions import audit_record
from tend.accounts.models import User
from tend.customers.actions import timeline_add
from tend.customers.consent import consent_withdraw_address, email_allowed
from tend.customers.models import Contact, Customer, TimelineKind
from tend.messaging.models import (
    Channel,
    Message,
    MessageStatus,
    Suppression,
    SuppressionReason,
    WebhookEndpoint,
)
from tend.messaging.outbox import _clean, address_problem
from tend.messaging.webhooks import secret_new, url_problem

NOTE_LENGTH = 300
NAME_LENGTH = 120


def customers_with_email(email: str) -> list[Customer]:
    """Customers whose own address, or one of whose contacts' address, is ``email``."""
    email = email.strip().lower()
    if not email:
        return []
    contact_customers = Contact.objects.filter(email__iexact=email).values("customer_id")
    return list(
        Customer.objects.filter(Q(email__iexact=email) | Q(pk__in=contact_customers)).order_by("pk")
    )


def _suppress_queued(email: str) -> int:
    """Outreach emails to ``email`` still waiting to go: suppressed now, never sent."""
    return Message.objects.filter(
        channel=Channel.EMAIL,
        outreach=True,
        status=MessageStatus.QUEUED,
        to__iexact=email,
    ).update(status=MessageStatus.SUPPRESSED, last_error="the address is on the suppression list")


@transaction.atomic
def suppression_add(
    *,
    email: str,
    reason: str,
    by: User | None = None,
    note: str = "",
    message: Message | None = None,
    label: str = "",
) -> tuple[Suppression, bool]:
    """Put ``email`` on the suppression list (idempotent); returns the row and whether it is
    new. Outreach emails to it still queued are suppressed too. A bounce or unsubscribe
    also writes a line on the timeline of the customers with that address."""
    email = _clean(email).strip().lower()
    problem = address_problem(email)
    if problem is not None and reason == SuppressionReason.MANUAL:
        raise ValidationError({"email": _("Enter a valid email address.")})
    if reason not in SuppressionReason.values:
        raise ValidationError({"reason": _("Choose a reason from the list.")})
    email = email[:254]
    try:
        with transaction.atomic():
            suppression, created = Suppression.objects.get_or_create(
                email=email,
                defaults={
                    "reason": reason,
                    "note": _clean(note)[:NOTE_LENGTH],
                    "message": message,
                },
            )
    except IntegrityError:
        suppression, created = Suppression.objects.get(email=email), False
    if not created:
        return suppression, False
    _suppress_queued(email)
    if by is not None or label:
        audit_record(
            by=by,
            label=label,
            action="suppression.add",
            obj=suppression,
            changes={"email": email, "reason": reason, "note": suppression.note},
        )
    if reason in (SuppressionReason.UNSUBSCRIBED, SuppressionReason.BOUNCED):
        msg = "email_unsubscribed" if reason == SuppressionReason.UNSUBSCRIBED else "email_bounced"
        data: dict[str, Any] = {"msg": msg, "email": email}
        if message is not None:
            data["message"] = message.pk
        if reason == SuppressionReason.BOUNCED:
            data["reply"] = suppression.note[:200]
        for customer in customers_with_email(email):
            timeline_add(customer=customer, kind=TimelineKind.EMAIL, data=data)
    return suppression, True


def email_unsubscribe(*, email: str) -> bool:
    """The recipient asked for no more email (the signed link, or one click in their mail
    client): the address goes on the suppression list and every contact with it withdraws
    marketing consent. True when the address was not suppressed before."""
    with transaction.atomic():
        _suppression, created = suppression_add(email=email, reason=SuppressionReason.UNSUBSCRIBED)
        consent_withdraw_address(email=email, source="unsubscribe", label="unsubscribe")
    return created


@transaction.atomic
def suppression_remove(*, suppression: Suppression, by: User | None, label: str = "") -> None:
    """Take an address off the list (owners): outreach emails may reach it again; the ones
    suppressed meanwhile stay suppressed (retry them by hand)."""
    audit_record(
        by=by,
        label=label,
        action="suppression.remove",
        obj=suppression,
        changes={"email": suppression.email, "reason": suppression.reason},
    )
    suppression.delete()


# --- messages -----------------------------------------------------------------------------

RETRYABLE = frozenset({MessageStatus.FAILED, MessageStatus.CANCELED, MessageStatus.SUPPRESSED})
CANCELABLE = frozenset({MessageStatus.QUEUED})


def message_retry(*, message: Message, by: User | None, label: str = "") -> Message:
    """Send a failed, canceled or suppressed message again, now, with a fresh set of tries.
    A suppressed address must be taken off the list first."""
    from tend.messaging.outbox import _send_soon, is_suppressed

    if message.status not in RETRYABLE:
        raise ValidationError(
            {"status": _("Only failed, canceled or suppressed messages can be sent again.")}
        )
    if message.channel == Channel.EMAIL and message.outreach and is_suppressed(message.to):
        raise ValidationError(
            {
                "status": _("%(email)s is on the suppression list; remove it first.")
                % {"email": message.to}
            }
        )
    if message.channel == Channel.EMAIL and message.outreach and not email_allowed(message.to)[0]:
        raise ValidationError(
            {
                "status": _(
                    "A contact with %(email)s withdrew consent to marketing emails (or never "
                    "gave the consent required); change it on the contact first."
                )
                % {"email": message.to}
            }
        )
    with transaction.atomic():
        updated = Message.objects.filter(pk=message.pk, status=message.status).update(
            status=MessageStatus.QUEUED,
            attempts=0,
            next_attempt_at=timezone.now(),
            claimed_until=None,
            hold_reason="",
        )
        if not updated:
            raise ValidationError({"status": _("The message changed meanwhile; reload it.")})
        audit_record(
            by=by,
            label=label,
            action="message.retry",
            obj=message,
            changes={"from": message.status},
        )
        transaction.on_commit(lambda: _send_soon(message.pk), robust=True)
    message.refresh_from_db()
    return message


def message_cancel(*, message: Message, by: User | None, label: str = "") -> Message:
    """Cancel a queued message (waiting for a retry or for the daily cap): it is not sent."""
    if message.status not in CANCELABLE:
        raise ValidationError({"status": _("Only queued messages can be canceled.")})
    with transaction.atomic():
        updated = Message.objects.filter(pk=message.pk, status=MessageStatus.QUEUED).update(
            status=MessageStatus.CANCELED, claimed_until=None, hold_reason=""
        )
        if not updated:
            raise ValidationError({"status": _("The message changed meanwhile; reload it.")})
        audit_record(by=by, label=label, action="message.cancel", obj=message)
    message.refresh_from_db()
    return message


# --- webhook endpoints --------------------------------------------------------------------


def _endpoint_name(name: str) -> str:
    name = " ".join(_clean(name).split())
    if not name:
        raise ValidationError({"name": _("Enter a name.")})
    if len(name) > NAME_LENGTH:
        raise ValidationError({"name": _("At most %(max)s characters.") % {"max": NAME_LENGTH}})
    return name


def webhook_endpoint_create(
    *, name: str, url: str, by: User | None, label: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint (owners); returns it and its signing secret, shown this once."""
    name = _endpoint_name(name)
    problem = url_problem(url)
    if problem is not None:
        raise ValidationError({"url": problem})
    if WebhookEndpoint.objects.filter(name=name).exists():
        raise ValidationError(
            {"name": ValidationError(_("An endpoint with this name exists."), code="unique")}
        )
    secret = secret_new()
    with transaction.atomic():
        try:
            with transaction.atomic():
                endpoint = WebhookEndpoint.objects.create(
                    name=name, url=url.strip(), secret=secret, created_by=by
                )
        except IntegrityError:
            raise ValidationError(
                {"name": ValidationError(_("An endpoint with this name exists."), code="unique")}
            ) from None
        audit_record(
            by=by,
            label=label,
            action="webhook_endpoint.create",
            obj=endpoint,
            changes={"name": name, "url": endpoint.url},  # never the secret
        )
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_archive(*, endpoint: WebhookEndpoint, by: User | None, label: str = "") -> int:
    """Archive an endpoint (owners): nothing more is posted to it; its queued calls are
    canceled. Returns how many were canceled."""
    if endpoint.archived_at is None:
        endpoint.archived_at = timezone.now()
        endpoint.save(update_fields=["archived_at"])
        audit_record(by=by, label=label, action="webhook_endpoint.archive", obj=endpoint)
    return Message.objects.filter(endpoint=endpoint, status=MessageStatus.QUEUED).update(
        status=MessageStatus.CANCELED, last_error="the webhook endpoint was archived"
    )


@transaction.atomic
def webhook_endpoint_rotate(*, endpoint: WebhookEndpoint, by: User | None, label: str = "") -> str:
    """Give an endpoint a new signing secret (owners), returned this once; calls not yet
    sent are signed with the new one."""
    if endpoint.archived_at is not None:
        raise ValidationError({"endpoint": _("This endpoint is archived.")})
    secret = secret_new()
    endpoint.secret = secret
    endpoint.save(update_fields=["secret"])
    audit_record(by=by, label=label, action="webhook_endpoint.rotate", obj=endpoint)
    return secret
