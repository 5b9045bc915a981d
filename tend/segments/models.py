"""Saved segments: a named condition (``tend.segments.conditions``) and its members by day."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Segment(models.Model):
    """A named group of customers, defined by a condition tree stored as validated JSON."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    condition: models.JSONField[dict[str, Any]] = models.JSONField(_("condition"), default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Members as of the last refresh (``SegmentMember``) and when that was.
    member_count = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return self.name


class SegmentMember(models.Model):
    """A customer in a segment at its last refresh, since the day it entered."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="segment_memberships"
    )
    since = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "customer"], name="segmentmember_unique")
        ]

    def __str__(self) -> str:
        return f"{self.segment_id}: {self.customer_id}"


class SegmentChange(models.Model):
    """A customer entered (``entered``) or left a segment on ``day``: membership history."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="history")
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="segment_changes",
        db_index=False,  # (customer, day) below serves it
    )
    day = models.DateField()
    entered = models.BooleanField()

    class Meta:
        indexes = [
            models.Index(fields=["segment", "day"], name="segmentchange_segment_idx"),
            models.Index(fields=["customer", "day"], name="segmentchange_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.segment_id}: {self.customer_id} {'+' if self.entered else '-'}{self.day}"


# Behavioural segmentation (RFM, usage clusters) lives in its own module; imported here so
# Django finds its models in this app.
from tend.segments.behaviour_models import (  # noqa: E402, F401
    CustomerCluster,
    CustomerRfm,
    RfmGroup,
    RfmRun,
    UsageCluster,
    UsageClusterRun,
)
