"""Prediction: churn-risk models and their daily scores, probabilistic CLV (BG/NBD or
Pareto/NBD with Gamma-Gamma) per customer, and retention projections (sBG by cohort).

Models are stored as data, never as pickles: a linear model's coefficients are JSON, a
boosted model's trees go through ``skops`` with an explicit list of trusted types
(tend/predict/serialise.py), so restoring a backup or reading a row never runs code.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ModelKind(models.TextChoices):
    LOGISTIC = "logistic", _("Logistic regression")
    BOOSTING = "boosting", _("Gradient boosting")


class TrainingMode(models.TextChoices):
    # Observation dates from the customer's own history, backtested on later dates.
    HISTORY = "history", _("History (time-based backtest)")
    # A table of traits with a churned flag and no history (a CRM export): 5-fold CV.
    TRAITS = "traits", _("Traits only (cross-validation)")


class TrainingStatus(models.TextChoices):
    TRAINED = "trained", _("Trained")
    NOT_ENOUGH_DATA = "not_enough_data", _("Not enough data")
    FAILED = "failed", _("Failed")


class ChurnModelQuerySet(models.QuerySet["ChurnModel"]):
    def trained(self) -> ChurnModelQuerySet:
        """Runs that produced a usable model."""
        return self.filter(status=TrainingStatus.TRAINED)

    def active(self) -> ChurnModel | None:
        """The model that scores customers now (the latest trained history-mode run)."""
        return self.trained().filter(is_active=True).order_by("-version").first()


class ChurnModel(models.Model):
    """One training run: the chosen model, how it was chosen, and how well it did.

    A run that could not train (too few churned customers) is kept too, with its
    ``status`` and ``message``, so the model page and ``tend train`` say why.
    """

    version = models.PositiveIntegerField(unique=True)
    mode = models.CharField(max_length=10, choices=TrainingMode.choices)
    status = models.CharField(max_length=20, choices=TrainingStatus.choices)
    # "not enough data to train: 12 churned, need 20" (English; shown through gettext with
    # ``message_params`` in the reader's language).
    message = models.CharField(max_length=300, blank=True)
    message_params: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    kind = models.CharField(max_length=10, choices=ModelKind.choices, blank=True)
    is_active = models.BooleanField(default=False)
    # Label: churned within ``horizon_days`` after the observation date (0 = by next renewal).
    horizon_days = models.PositiveIntegerField(default=30)
    # Observation dates used to fit the final model, and the backtest's test dates.
    train_start = models.DateField(null=True, blank=True)
    train_end = models.DateField(null=True, blank=True)
    test_start = models.DateField(null=True, blank=True)
    test_end = models.DateField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    positives = models.PositiveIntegerField(default=0)
    customers = models.PositiveIntegerField(default=0)
    features: models.JSONField[list[str]] = models.JSONField(default=list, blank=True)
    params: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    # {"logistic": {...}, "boosting": {...}, "baseline": {...}}: auc, lift_top_decile, brier,
    # reliability [{"predicted": p, "observed": o, "count": n}], lift curve, folds.
    metrics: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    # [{"feature": name, "importance": x}] for the chosen model, largest first.
    importances: models.JSONField[list[dict[str, Any]]] = models.JSONField(default=list, blank=True)
    # What the scorer needs besides the estimator: column order, category levels, medians.
    preprocessing: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    artifact_format = models.CharField(max_length=20, blank=True)  # "json-linear" | "skops"
    artifact = models.BinaryField(null=True, blank=True, editable=False)
    seconds = models.FloatField(default=0)
    peak_memory_mb = models.FloatField(default=0)
    trained_at = models.DateTimeField(default=timezone.now)
    trained_by = models.CharField(max_length=120, blank=True)  # user, "schedule", "cli"

    objects = ChurnModelQuerySet.as_manager()

    class Meta:
        ordering = ("-version",)

    def __str__(self) -> str:
        return f"churn model v{self.version} ({self.kind or self.status})"


class ChurnScore(models.Model):
    """A customer's churn risk on one day, from one model, with the features behind it."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()
    model = models.ForeignKey(ChurnModel, on_delete=models.CASCADE, related_name="scores")
    risk = models.FloatField()  # 0–1, calibrated probability of churn within the horizon
    # Share of scored customers that day with a lower risk (0–1): 0.95 = "top 5%".
    percentile = models.FloatField(default=0)
    # [{"feature": name, "effect": +0.08, "value": 4, "before": 21}] largest |effect| first.
    drivers: models.JSONField[list[dict[str, Any]]] = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("customer", "day"), name="predict_score_one_a_day"),
        ]
        indexes = [
            # The Today signal and the model page's distribution read one day's scores.
            models.Index(fields=("day", "risk"), name="predict_score_day_risk"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.day}: {self.risk:.2f}"


class ClvModelKind(models.TextChoices):
    BGNBD = "bgnbd", _("BG/NBD")
    PARETO = "pareto_nbd", _("Pareto/NBD")


class ClvFit(models.Model):
    """One fit of the purchase model (BG/NBD or Pareto/NBD) and Gamma-Gamma on orders."""

    fitted_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=20, choices=TrainingStatus.choices)
    message = models.CharField(max_length=300, blank=True)
    message_params: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    kind = models.CharField(max_length=12, choices=ClvModelKind.choices, blank=True)
    # Orders in [calibration_start, calibration_end) make the customers' summaries.
    calibration_start = models.DateField(null=True, blank=True)
    calibration_end = models.DateField(null=True, blank=True)
    period_days = models.PositiveIntegerField(default=7)  # the time unit of t, tₓ and T
    horizon_periods = models.PositiveIntegerField(default=52)  # "next t periods"
    customers = models.PositiveIntegerField(default=0)
    repeaters = models.PositiveIntegerField(default=0)
    params: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    spend_params: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    log_likelihood = models.FloatField(null=True, blank=True)
    spend_log_likelihood = models.FloatField(null=True, blank=True)
    # Holdout check and any other fit diagnostics (expected vs actual repeat purchases).
    diagnostics: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    discount_rate = models.FloatField(default=0.1)  # yearly
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ("-fitted_at", "-id")

    def __str__(self) -> str:
        return f"CLV fit {self.pk} ({self.kind or self.status})"


class CustomerClv(models.Model):
    """A customer's probabilistic CLV from the latest fit (one row per customer)."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    fit = models.ForeignKey(ClvFit, on_delete=models.CASCADE, related_name="+")
    frequency = models.PositiveIntegerField()  # repeat purchase days in the calibration range
    recency = models.FloatField()  # tₓ, periods from first purchase to the last
    age = models.FloatField()  # T, periods from first purchase to the calibration end
    expected_purchases = models.FloatField()  # in the next ``fit.horizon_periods``
    p_alive = models.FloatField()
    expected_spend = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    clv = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.customer_id}: CLV {self.clv}"


class RetentionFitKind(models.TextChoices):
    SBG = "sbg", _("Shifted-beta-geometric")
    COX = "cox", _("Cox proportional hazards")


class RetentionFit(models.Model):
    """A survival model of subscription customers: sBG for one cohort (or all), or Cox.

    ``params`` holds α, β (sBG) or the coefficients with hazard ratios and confidence
    intervals (Cox); ``results`` the projected survival curve, expected remaining lifetime,
    concordance and whatever the page shows.
    """

    kind = models.CharField(max_length=5, choices=RetentionFitKind.choices)
    cohort = models.CharField(max_length=40, blank=True)  # "2025-03", "all", plan code…
    fitted_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=20, choices=TrainingStatus.choices)
    message = models.CharField(max_length=300, blank=True)
    message_params: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    customers = models.PositiveIntegerField(default=0)
    events = models.PositiveIntegerField(default=0)  # churns observed
    params: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    results: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    log_likelihood = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ("-fitted_at", "-id")
        indexes = [models.Index(fields=("kind", "cohort", "-fitted_at"), name="predict_ret_latest")]

    def __str__(self) -> str:
        return f"{self.kind} {self.cohort}"
