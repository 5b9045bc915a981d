"""What arrived from each source and what was refused, per day: the data-quality ledger.

The tracking API, file imports and billing webhooks (each its own app under ``tend.ingest``)
count every message or row they accept or reject here through ``ingest.actions.stats_add``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    TRACKING = "tracking", _("Tracking API")
    IMPORT = "import", _("File import")
    STRIPE = "stripe", _("Stripe webhooks")


class Outcome(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    DUPLICATE = "duplicate", _("Duplicate (already stored)")
    FLAGGED = "flagged", _("Stored with a warning")
    REJECTED = "rejected", _("Rejected")


class IngestStat(models.Model):
    """Count of messages/rows from one source on one UTC day with one outcome and reason.

    ``reason`` is a stable machine code (e.g. ``bad_timestamp``, ``oversize``) so the page can
    group and translate it; it is empty for accepted rows. ``flagged`` rows were stored but
    with a warning (e.g. ``future_timestamp``: stored at arrival time instead).
    """

    source = models.CharField(max_length=20, choices=Source.choices)
    day = models.DateField()
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    reason = models.CharField(max_length=60, blank=True)
    count = models.PositiveBigIntegerField(default=0)
    last_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "day", "outcome", "reason"], name="ingeststat_unique"
            )
        ]
        indexes = [
            # Data-quality page: the last N days across sources.
            models.Index(fields=["day", "source"], name="ingeststat_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.source} {self.outcome} {self.reason}={self.count}"
