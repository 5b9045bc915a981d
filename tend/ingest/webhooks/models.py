"""Stripe webhook deliveries: one row per Stripe event id, for idempotency and audit."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EventOutcome(models.TextChoices):
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored (event type Tend does not use)")
    STALE = "stale", _("Ignored (older than a change already applied)")
    FAILED = "failed", _("Failed (Stripe will retry)")


class StripeEvent(models.Model):
    """One Stripe event Tend received. The unique ``event_id`` makes redeliveries no-ops.

    A row is inserted before the event is processed, in the same transaction, so two
    concurrent deliveries of one event cannot both apply it. A failed event is kept with its
    error and processed again when Stripe retries it.
    """

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    # The id of ``data.object`` (cus_…, sub_…, in_…, ch_…); out-of-order detection uses it.
    object_id = models.CharField(max_length=255, blank=True)
    created = models.DateTimeField(help_text="When Stripe created the event")
    livemode = models.BooleanField(default=False)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=EventOutcome.choices)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")
        indexes = [
            # Out-of-order check: the newest applied event for one Stripe object.
            models.Index(fields=["object_id", "created"], name="stripeevent_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type} {self.outcome}"


class StripeCustomer(models.Model):
    """Links a Stripe customer id (cus_…) to a Tend customer.

    A separate table rather than ``Customer.external_id`` alone, because a customer that
    arrived first from the tracking API or an import already has its own external id; Stripe
    metadata ``tend_external_id`` links the two.
    """

    stripe_id = models.CharField(max_length=255, unique=True)
    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="stripe_link"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Stripe customer link")
        verbose_name_plural = _("Stripe customer links")

    def __str__(self) -> str:
        return f"{self.stripe_id} → {self.customer_id}"
