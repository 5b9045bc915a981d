"""The record that an erasure happened, without what was erased."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ErasureKind(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    CONTACT = "contact", _("Contact")


class Erasure(models.Model):
    """One erasure of a customer or a contact: who asked for it, when, from where, and how
    many rows each privacy entry removed or anonymised. It holds no personal data: the subject
    is an id that no longer resolves to anyone, and ``reference`` is the founder's own note
    (a ticket number, "email of 3 May"), checked on input to hold no email address."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=10, choices=ErasureKind.choices)
    subject_id = models.BigIntegerField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=120, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True, unpack_ipv4=True)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    # {"<entry name>": rows removed or anonymised}
    counts: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} #{self.subject_id}"

    @property
    def total(self) -> int:
        return sum(int(n) for n in self.counts.values() if isinstance(n, int))


class RetentionRun(models.Model):
    """One run of the retention task (``tend.privacy.retention``): when, the cutoff of each
    kind of data, how many rows each removed, and the oldest row each still holds. The
    data-quality page shows the last one. Holds no personal data."""

    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    seconds = models.FloatField(default=0)
    # {"events": 120, "rejected_rows": 4, ...}: rows (files for import files) removed.
    counts: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    # {"events": "2025-11-01T00:00:00+00:00", ...}: what is older than this went.
    cutoffs: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    # {"events": "2025-11-01T08:12:00+00:00" or None}: the oldest row left, after the run.
    oldest: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    # Why something was held back (e.g. days whose rollups could not be verified).
    notes: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.counts}"
