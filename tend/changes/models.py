"""The customer-change outbox: one row per change to a customer, read by consumers with cursors.

Every action that changes a customer (single or bulk) writes a row here in its own
transaction, with a unique ``key`` so a retried write is stored once. Consumers (lifecycle
rules now; playbooks, health refresh and digests later) keep their own ``ChangeCursor`` and act
on each row once. This, not Django signals, is how one app reacts to another.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ChangeKind(models.TextChoices):
    CREATED = "created", _("Customer created")
    FIELDS = "fields", _("Profile changed")
    STAGE = "stage", _("Lifecycle stage changed")
    OWNER = "owner", _("Owner changed")
    TAGS = "tags", _("Tags changed")
    NOTE = "note", _("Note, call, email or meeting")
    MRR = "mrr", _("MRR changed")
    SUBSCRIPTION = "subscription", _("Subscription changed")
    PAYMENT_FAILED = "payment_failed", _("Payment failed")
    ORDER = "order", _("Order")
    ACTIVITY = "activity", _("Product activity")
    HEALTH = "health", _("Health colour changed")
    SEGMENT = "segment", _("Segment entered or left")


class CustomerChange(models.Model):
    """One change to one customer. ``key`` is unique: the same change recorded twice (a retried
    webhook, an import resumed) is stored once. ``data`` holds what consumers need to act
    without reading back (e.g. ``{"from": "trial", "to": "onboarding", "manual": true}``)."""

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="changes",
        db_index=False,  # (customer, id) below serves it
    )
    kind = models.CharField(max_length=20, choices=ChangeKind.choices)
    at = models.DateTimeField(default=timezone.now)  # when the change happened
    recorded_at = models.DateTimeField(default=timezone.now)
    key = models.CharField(max_length=200, unique=True)
    data: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "id"], name="change_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} {self.key}"


class ChangeCursor(models.Model):
    """How far one consumer has read the outbox: every id ≤ ``position`` is done, except the
    ids in ``gaps`` — ids it skipped because their transaction had not committed yet
    (PostgreSQL hands out ids before commit), kept as ``[id, first seen]`` pairs and looked at
    again until they appear or are old enough to have been rolled back."""

    consumer = models.CharField(max_length=80, unique=True)
    position = models.BigIntegerField(default=0)
    gaps: models.JSONField[list[list[Any]]] = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.consumer} @ {self.position}"
