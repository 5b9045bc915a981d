"""Health scores: each customer's 0–100 score and colour, by day, and the latest one."""

from __future__ import annotations

from typing import Any

from django.conf import settings
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
    # The first day of the run of days with this colour (kept across days by the engine).
    colour_since = models.DateField(null=True, blank=True)

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


class Mapping(models.TextChoices):
    THRESHOLDS = "thresholds", _("Thresholds")
    PERCENTILE = "percentile", _("Percentile")


class Direction(models.TextChoices):
    HIGHER = "higher", _("Higher is better")
    LOWER = "lower", _("Lower is better")


class Scorecard(models.Model):
    """How health is scored for a group of customers.

    The scorecards with a condition (or a segment) are tried in ``position`` order and the
    first that matches a customer scores it; the default scorecard (``is_default``, no
    condition) scores everyone else. Overall score 0–100: red below ``red_below``, green from
    ``green_from``, yellow between. Written only by ``tend.health.scorecards.scorecard_save``
    (validated, in one transaction).
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    position = models.PositiveIntegerField(_("order"), default=0)
    is_default = models.BooleanField(_("default"), default=False)
    condition: models.JSONField[Any] = models.JSONField(_("condition"), null=True, blank=True)
    segment = models.ForeignKey(
        "segments.Segment",
        verbose_name=_("segment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,  # then it matches nobody until the owner picks another
        related_name="scorecards",
    )
    red_below = models.PositiveSmallIntegerField(_("red below"), default=40)
    green_from = models.PositiveSmallIntegerField(_("green from"), default=70)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        ordering = ["is_default", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="scorecard_one_default",
            ),
            models.CheckConstraint(
                condition=models.Q(red_below__lte=models.F("green_from"), green_from__lte=100),
                name="scorecard_cutoffs_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ScorecardMeasure(models.Model):
    """One measure of a scorecard: its parameters, weight, and how its raw value becomes
    0–100 points.

    ``thresholds`` (mapping "thresholds") is a list of ``[raw, points]`` breakpoints with raw
    values ascending. Higher is better: the points of the highest breakpoint the raw value
    reaches (raw ≥ breakpoint), 0 below the first. Lower is better: the points of the lowest
    breakpoint the raw value stays within (raw ≤ breakpoint), 0 above the last. Mapping
    "percentile": the customer's rank among every customer scored that day with data for
    this measure, 0–100 (ties share their middle rank; lower is better reverses it).
    """

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="measures")
    position = models.PositiveSmallIntegerField(default=0)
    measure = models.CharField(_("measure"), max_length=60)
    params: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    weight = models.FloatField(_("weight"))
    mapping = models.CharField(
        _("mapping"), max_length=10, choices=Mapping.choices, default=Mapping.THRESHOLDS
    )
    direction = models.CharField(
        _("direction"), max_length=6, choices=Direction.choices, default=Direction.HIGHER
    )
    thresholds: models.JSONField[list[Any]] = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weight__gte=0), name="scorecardmeasure_weight"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure} × {self.weight}"
