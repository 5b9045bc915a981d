"""Outgoing messages: email templates, the outbox of emails and webhooks, the suppression list.

Every email and webhook Tend sends is a ``Message`` row first, written in the transaction of
whatever caused it, with a unique ``key`` (a retried playbook step or digest run writes the
same key and is stored once). The worker claims due rows, sends them, and logs each attempt
as a ``DeliveryAttempt``; failures are retried with backoff and end ``failed`` with the error
shown on the operations page.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class EmailTemplate(models.Model):
    """An email a founder wrote: subject and Markdown body per language, with ``{{ variables }}``
    rendered in a sandbox (tend.messaging.templating). ``key`` names a built-in template it was
    made from (blank for the founder's own)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    key = models.SlugField(max_length=60, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    subject_en = models.CharField(_("subject (English)"), max_length=300, blank=True)
    body_en = models.TextField(_("body (English)"), blank=True)
    subject_zh_hans = models.CharField(_("subject (Chinese)"), max_length=300, blank=True)
    body_zh_hans = models.TextField(_("body (Chinese)"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Channel(models.TextChoices):
    EMAIL = "email", pgettext_lazy("message channel", "Email")
    WEBHOOK = "webhook", _("Webhook")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")  # waiting for its next attempt (next_attempt_at)
    SENDING = "sending", _("Sending")  # claimed by a worker until claimed_until
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")  # gave up after the last retry, or refused for good (bounce)
    SUPPRESSED = "suppressed", _("Suppressed")  # recipient unsubscribed or on the list
    CANCELED = "canceled", _("Canceled")


class HoldReason(models.TextChoices):
    """Why a queued message waits although nothing failed."""

    DAILY_CAP = "daily_cap", _("Daily send cap reached: waits for the next day (UTC)")


class MessageQuerySet(models.QuerySet["Message"]):
    def due(self, now: Any = None) -> MessageQuerySet:
        """Queued messages whose next attempt is due, or claims whose worker died."""
        now = now or timezone.now()
        return self.filter(
            models.Q(status=MessageStatus.QUEUED, next_attempt_at__lte=now)
            | models.Q(status=MessageStatus.SENDING, claimed_until__lt=now)
        )


class Message(models.Model):
    """One email or webhook call to send. ``source``/``source_id`` say who asked for it
    ("playbook" + run step, "digest" + user, "goal_alert" + alert, "manual")."""

    key = models.CharField(max_length=200, unique=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(
        max_length=12, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    source = models.CharField(max_length=30, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    template = models.ForeignKey(
        EmailTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    user = models.ForeignKey(  # a Tend user it is for (digests, goal alerts)
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    to = models.CharField(max_length=2000)  # an email address or a webhook URL
    language = models.CharField(max_length=10, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    headers: models.JSONField[dict[str, str]] = models.JSONField(default=dict, blank=True)
    payload: models.JSONField[Any] = models.JSONField(default=dict, blank=True)  # webhook body
    endpoint = models.ForeignKey(
        "messaging.WebhookEndpoint",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    # A customer-facing email: suppression list, unsubscribe headers and the daily cap apply.
    outreach = models.BooleanField(default=False)
    hold_reason = models.CharField(max_length=20, choices=HoldReason.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The sender's poll (MessageQuerySet.due): queued by next attempt, stale claims.
            models.Index(fields=["status", "next_attempt_at"], name="message_due_idx"),
            # The customer page's emails and the send log per customer.
            models.Index(fields=["customer", "-created_at"], name="message_customer_idx"),
            # The per-day send cap counts today's sent emails.
            models.Index(fields=["channel", "sent_at"], name="message_sent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.to} [{self.status}]"


class DeliveryAttempt(models.Model):
    """One try at sending a message: the SMTP reply or HTTP status, or the error."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField(default=False)
    code = models.CharField(max_length=20, blank=True)  # SMTP code or HTTP status
    detail = models.TextField(blank=True)  # the server's reply or the error (no secrets)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.message_id} {self.code} {'ok' if self.ok else 'error'}"


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    BOUNCED = "bounced", _("Bounced")
    COMPLAINED = "complained", _("Complained")
    MANUAL = "manual", _("Added by hand")


class Suppression(models.Model):
    """An address Tend never emails (customers' and contacts' outreach): every send checks it.
    ``email`` is stored lower-cased."""

    email = models.CharField(max_length=254, unique=True)
    reason = models.CharField(max_length=20, choices=SuppressionReason.choices)
    note = models.CharField(max_length=300, blank=True)
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"


class WebhookEndpoint(models.Model):
    """Where a playbook's webhook step posts to. The body is signed with ``secret`` (HMAC-SHA256
    in the ``Tend-Signature`` header); the secret is shown once, then only its last 4 characters."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    url = models.URLField(_("URL"), max_length=2000)
    secret = models.CharField(max_length=80)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
