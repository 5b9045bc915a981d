"""Health scores: each customer's 0–100 score and colour, by day, and the latest one."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Colour(models.TextChoices):
    RED = "red", _("Red")
    YELLOW = "yellow", _("Yellow")
    GREEN = "green", _("Green")


class HealthScore(models.Model):
    """One customer's health on one day (one row per customer per day).

    ``score`` is None when no measure had data for the customer. ``details`` holds each
    measure's raw value, points and weight: ``{"active_days": {"raw": 2, "points": 10,
    "weight": 3, "was": 18}, …}`` — what the customer page explains in plain words.
    """

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="health_scores",
        db_index=False,  # (customer, day) unique below serves it
    )
    day = models.DateField()
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    colour = models.CharField(max_length=6, choices=Colour.choices, blank=True)
    scorecard = models.CharField(max_length=120, blank=True)  # name at the time of scoring
    details: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "day"], name="healthscore_unique"),
        ]
        indexes = [models.Index(fields=["day", "colour"], name="healthscore_day_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.day} {self.score}"


class CustomerHealth(models.Model):
    """A customer's latest health, one row per customer, for conditions, lists and Today
    (``Customer.health``). ``colour_since`` is the day the current colour began."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, primary_key=True, related_name="health"
    )
    day = models.DateField()
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    colour = models.CharField(max_length=6, choices=Colour.choices, blank=True)
    colour_since = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["score"], name="customerhealth_score_idx"),
            models.Index(fields=["colour", "colour_since"], name="customerhealth_colour_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.score} {self.colour}"
