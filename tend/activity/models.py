"""Usage events and their daily rollups."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Event(models.Model):
    """One thing a user did in the founder's product (Segment track/page/screen).

    ``customer`` may be empty while the sender is still unknown (an anonymous id that is
    merged on identify/alias); such events are kept, never dropped.
    """

    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,  # (customer, timestamp) below serves it; one B-tree less per event
    )
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    user_id = models.CharField(max_length=120, blank=True)
    anonymous_id = models.CharField(max_length=120, blank=True)
    name = models.CharField(_("event"), max_length=200)
    timestamp = models.DateTimeField(_("time"))
    properties: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    # Retries of the same message are stored once.
    message_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=20, default="api")

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [
            # Customer page "recent events" and per-customer recomputes.
            models.Index(fields=["customer", "timestamp"], name="event_customer_ts_idx"),
            # Daily rollup refresh and data-quality page scan by arrival time.
            models.Index(fields=["received_at"], name="event_received_idx"),
            # Data-quality page: events still waiting for their customer, by arrival time.
            models.Index(
                fields=["received_at"],
                condition=models.Q(customer__isnull=True),
                name="event_unknown_customer_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} @ {self.timestamp:%Y-%m-%d %H:%M}"


class DailyRollup(models.Model):
    """Events per customer, day (UTC) and event name; charts and scores read this, not events."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="daily_rollups",
        db_index=False,  # the (customer, day, name) unique index serves it
    )
    day = models.DateField()
    name = models.CharField(max_length=200)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "day", "name"], name="rollup_unique"),
        ]
        indexes = [
            # Activity over a date range for all customers (metrics, health scores).
            models.Index(fields=["day"], name="rollup_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.day} {self.name}={self.count}"
