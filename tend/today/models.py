"""Today: one row per customer who needs (or needed) the founder, with why and how much.

The daily pipeline's ``today`` step (tend.today.engine) writes these rows from the registered
signals; the Today page, ``GET /api/v1/today`` and ``tend today`` only read them, so the page
costs the same at 100 customers and at 100,000.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    OPEN = "open", _("Open")
    SNOOZED = "snoozed", _("Snoozed")
    HANDLED = "handled", _("Handled")


class ValueBasis(models.TextChoices):
    MRR = "mrr", _("MRR")
    ORDERS = "orders", _("Orders in the last 365 days")
    NONE = "none", _("No revenue")


class TodayItemQuerySet(models.QuerySet["TodayItem"]):
    def showing(self, *, on: date) -> TodayItemQuerySet:
        """Items on the list on day ``on``: found by the latest run, open or snoozed until
        ``on`` or earlier (a snooze ends by itself on its day, without waiting for a run)."""
        return self.filter(current=True).filter(
            Q(state=State.OPEN) | Q(state=State.SNOOZED, snoozed_until__lte=on)
        )

    def ranked(self) -> TodayItemQuerySet:
        """Highest money at stake first (``rank`` 1). Each run numbers its items 1, 2, 3 … (ties
        already broken), so ordering by rank alone walks todayitem_current_rank_idx and stops
        after a page even when a filter joins the customers."""
        return self.order_by("rank")


class TodayItem(models.Model):
    """One customer on the Today list.

    ``reasons`` is what the signals found, strongest first: ``[{"signal": "renewal", "key":
    "renewal:12:2026-12-18", "risk": 0.3, "params": {...}}, …]``; each line is rendered in the
    reader's language by its signal's ``describe``. ``handled_keys`` remembers every reason
    key the founder marked handled: a handled item opens again only when a reason with a key
    not in it appears. ``current`` is False when the latest run found nothing for the
    customer; the row stays so that what was handled is not forgotten.
    """

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="today_item"
    )
    day = models.DateField(help_text="The day of the run that last wrote the reasons.")
    # The customer's owner, copied so that "My customers" reads only Today rows (a join with
    # the owner's customers cost 40–100 ms at 100,000 customers). Written by every run and,
    # between runs, by the "today-owner" change consumer when an owner changes (apps.py).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # todayitem_owner_rank_idx below serves it
    )
    current = models.BooleanField(default=True)
    reasons: models.JSONField[list[dict[str, Any]]] = models.JSONField(default=list, blank=True)
    # " renewal payment_failed " — the signal names, space-delimited, for the signal filter.
    signals = models.CharField(max_length=500, blank=True)
    value_basis = models.CharField(
        max_length=10, choices=ValueBasis.choices, default=ValueBasis.MRR
    )
    # MRR, or for a customer without MRR: paid order value of the last 365 days ÷ 12.
    monthly_value = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    risk = models.FloatField(default=0.0)  # 1 − Π(1 − risk of each reason)
    money_at_stake = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    rank = models.PositiveIntegerField(default=0)
    first_seen = models.DateField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    snoozed_until = models.DateField(null=True, blank=True)
    snoozed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    handled_keys: models.JSONField[list[str]] = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TodayItemQuerySet.as_manager()

    class Meta:
        indexes = [
            # The Today page, API and CLI: the first 50 by rank of the items showing today.
            models.Index(
                fields=["rank"], condition=Q(current=True), name="todayitem_current_rank_idx"
            ),
            # "My customers": the owner's items by rank.
            models.Index(
                fields=["owner", "rank"],
                condition=Q(current=True),
                name="todayitem_owner_rank_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} #{self.rank} {self.state}"

    @property
    def signal_names(self) -> list[str]:
        return [str(r.get("signal", "")) for r in self.reasons]

    def is_showing(self, on: date) -> bool:
        if not self.current:
            return False
        if self.state == State.OPEN:
            return True
        return bool(self.state == State.SNOOZED and self.snoozed_until and self.snoozed_until <= on)
