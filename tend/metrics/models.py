"""Monthly snapshots the revenue dashboards read, rebuilt in the background from the ledger.

``billing.MrrMovement`` is the source of truth. ``CustomerMonth`` turns it into one row per
customer and calendar month in which the customer paid or moved; ``MonthlySummary`` and
``CohortCell`` add those rows up per month for the whole business and for each plan,
channel and country, so the dashboard reads a few dozen rows instead of the ledger.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone


def money() -> Any:
    """An amount in the reporting currency."""
    return models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))


class CustomerMonth(models.Model):
    """One customer in one calendar month in which it had MRR or an MRR movement.

    Movement columns are signed like the ledger (contraction and churn negative), so
    ``mrr_start + new + expansion + contraction + churn + reactivation == mrr_end``.
    """

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    month = models.DateField()  # first day of the month
    cohort = models.DateField()  # first month in which the customer had MRR
    age = models.PositiveSmallIntegerField()  # months since ``cohort`` (0 in the first month)
    mrr_start = money()
    mrr_end = money()
    new = money()
    expansion = money()
    contraction = money()
    churn = money()
    reactivation = money()
    # MRR at the end of this month's quarter and year (as of the build when they are not over):
    # quarterly and yearly retention of the customers active at a period's start.
    quarter_end_mrr = money()
    year_end_mrr = money()
    # Subscription renewal dates that fell in the month, and how many of them renewed.
    renewals_due = models.PositiveIntegerField(default=0)
    renewals_done = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "month"], name="customermonth_unique")
        ]
        indexes = [
            models.Index(fields=["month"], name="customermonth_month_idx"),
            models.Index(fields=["cohort", "month"], name="customermonth_cohort_idx"),
            # Cohort sizes read each customer's first month only.
            models.Index(fields=["age", "cohort"], name="customermonth_age_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.month:%Y-%m}"


class CustomerLife(models.Model):
    """When a customer first paid and when it first churned after that (None: still paying)."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    started_at = models.DateTimeField()
    churned_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.customer_id} {self.started_at:%Y-%m-%d}"


class Dimension(models.TextChoices):
    ALL = "all"
    PLAN = "plan"
    CHANNEL = "channel"
    COUNTRY = "country"


class MonthlySummary(models.Model):
    """A period's figures for all customers (dimension "all") or one plan/channel/country.

    ``period`` is month, quarter or year; ``month`` is the period's first month. ``base_*``
    columns are net changes of the customers active at the start of the period (per
    customer: end − start), the inputs of GRR, NRR, CER and revenue churn.
    """

    period = models.CharField(max_length=7, default="month")
    dimension = models.CharField(max_length=10, choices=Dimension.choices)
    value = models.CharField(max_length=80, blank=True)
    month = models.DateField()
    customers_start = models.PositiveIntegerField(default=0)
    customers_end = models.PositiveIntegerField(default=0)
    retained = models.PositiveIntegerField(default=0)
    churned = models.PositiveIntegerField(default=0)
    expanded = models.PositiveIntegerField(default=0)
    mrr_start = money()
    mrr_end = money()
    new = money()
    expansion = money()
    contraction = money()
    churn = money()
    reactivation = money()
    base_expansion = money()
    base_contraction = money()
    base_churn = money()
    renewals_due = models.PositiveIntegerField(default=0)
    renewals_done = models.PositiveIntegerField(default=0)
    acquired = models.PositiveIntegerField(default=0)
    # Of those, the ones with a recorded acquisition cost: CAC divides by these only.
    acquired_costed = models.PositiveIntegerField(default=0)
    acquisition_cost = money()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["period", "dimension", "value", "month"], name="monthlysummary_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dimension}:{self.value} {self.month:%Y-%m}"


class CohortCell(models.Model):
    """Customers who started paying in ``cohort``, ``age`` months later: how many still pay."""

    dimension = models.CharField(max_length=10, choices=Dimension.choices)
    value = models.CharField(max_length=80, blank=True)
    cohort = models.DateField()
    age = models.PositiveSmallIntegerField()
    month = models.DateField(null=True)  # cohort + age months: refreshes replace from a month on
    cohort_customers = models.PositiveIntegerField()
    cohort_mrr = money()  # the cohort's first MRR (its "new" movements)
    active = models.PositiveIntegerField()
    mrr = money()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "value", "cohort", "age"], name="cohortcell_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dimension}:{self.value} {self.cohort:%Y-%m} +{self.age}"


class SnapshotState(models.Model):
    """How far the snapshots are built (one row, pk 1)."""

    last_movement_id = models.BigIntegerField(default=0)
    built_through = models.DateField(null=True, blank=True)
    built_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    customers_rebuilt = models.PositiveIntegerField(default=0)
    survival: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"snapshots built {self.built_at or timezone.now():%Y-%m-%d %H:%M}"


class OnDemandFigure(models.Model):
    """A figure the pre-added summaries cannot answer (a tag's series, a segment's cohorts, …),
    computed once per snapshot build and shared by every web process and the worker
    (``tend.metrics.kpis.on_demand``). ``value`` is the pickled answer; ``query`` the filters
    it was asked for (``Filters.as_query``), so the refresh can compute the views people used
    again for the new build (``warm_on_demand``) instead of leaving that to their next visit.
    Rows of older builds are deleted after each refresh."""

    key = models.CharField(max_length=64, primary_key=True)
    built_at = models.DateTimeField(null=True)  # the snapshot build it was computed from
    query = models.JSONField(default=dict, blank=True)
    value = models.BinaryField()
    used_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["used_at"], name="ondemandfigure_used_idx")]

    def __str__(self) -> str:
        return f"{self.key[:12]} {self.query}"
