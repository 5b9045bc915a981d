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
        "customers.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
        db_index=False,  # event_contact_idx below: only events that have a contact
    )
    user_id = models.CharField(max_length=120, blank=True)
    anonymous_id = models.CharField(max_length=120, blank=True)
    name = models.CharField(_("event"), max_length=200)
    timestamp = models.DateTimeField(_("time"))
    properties: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    # Retries of the same message are stored once (event_message_id_unique below).
    message_id = models.CharField(max_length=100, null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=20, default="api")

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        # Every index is paid for on each of the millions of rows an import or the tracking API
        # writes, so there is one per reader and no more (no index on received_at alone: no
        # query filters all events by arrival time).
        constraints = [
            # Tracking API and imports: ON CONFLICT (message_id) DO NOTHING. A constraint, not
            # unique=True, so PostgreSQL gets no second, varchar_pattern_ops index for LIKE.
            models.UniqueConstraint(fields=["message_id"], name="event_message_id_unique"),
        ]
        indexes = [
            # Customer page "recent events", per-customer recomputes, a customer's erasure.
            models.Index(fields=["customer", "timestamp"], name="event_customer_ts_idx"),
            # Data-quality page: events still waiting for their customer, by arrival time.
            models.Index(
                fields=["received_at"],
                condition=models.Q(customer__isnull=True),
                name="event_unknown_customer_idx",
            ),
            # Deleting a contact sets its events' contact to NULL; imported events have none.
            models.Index(
                fields=["contact"],
                condition=models.Q(contact__isnull=False),
                name="event_contact_idx",
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
