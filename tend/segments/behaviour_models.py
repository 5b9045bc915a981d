"""Behavioural segmentation: RFM scores from orders and k-means clusters from usage.

Written only by ``tend.segments.rfm.rfm_refresh`` and ``tend.segments.clusters.clusters_refresh``
(and ``cluster_rename``). Each customer has at most one current RFM row and one current cluster;
every refresh replaces them, so conditions (``rfm_group``, ``usage_cluster``, …) always read the
latest run. docs/behaviour.md explains the maths.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RfmGroup(models.TextChoices):
    """The classic RFM groups, decided by the R score and FM = (F + M) / 2 rounded half up."""

    CHAMPIONS = "champions", pgettext_lazy("RFM group", "Champions")
    LOYAL = "loyal", pgettext_lazy("RFM group", "Loyal")
    POTENTIAL_LOYALISTS = "potential_loyalists", pgettext_lazy("RFM group", "Potential loyalists")
    NEW = "new", pgettext_lazy("RFM group", "New")
    PROMISING = "promising", pgettext_lazy("RFM group", "Promising")
    NEED_ATTENTION = "need_attention", pgettext_lazy("RFM group", "Need attention")
    ABOUT_TO_SLEEP = "about_to_sleep", pgettext_lazy("RFM group", "About to sleep")
    AT_RISK = "at_risk", pgettext_lazy("RFM group", "At risk")
    CANT_LOSE = "cant_lose", pgettext_lazy("RFM group", "Can't lose them")
    HIBERNATING = "hibernating", pgettext_lazy("RFM group", "Hibernating")


class RfmRun(models.Model):
    """One computation of every customer's RFM scores (the latest is the one in force)."""

    as_of = models.DateField(_("as of"))
    window_days = models.PositiveIntegerField(_("window (days)"))
    currency = models.CharField(_("currency"), max_length=3)
    customers = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0)
    # Paid orders counted in R and F but left out of M: no exchange rate covered their day.
    unconverted = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-computed_at", "-pk"]
        verbose_name = _("RFM run")
        verbose_name_plural = _("RFM runs")

    def __str__(self) -> str:
        return f"RFM {self.as_of} ({self.customers})"


class CustomerRfm(models.Model):
    """A customer's latest RFM scores: 1–5 each, 5 best; ``score`` is R, F and M as "545"."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="rfm"
    )
    run = models.ForeignKey(RfmRun, on_delete=models.CASCADE, related_name="rows")
    as_of = models.DateField(_("as of"))
    recency_days = models.PositiveIntegerField(_("days since the last order"))
    frequency = models.PositiveIntegerField(_("orders in the window"))
    monetary = models.DecimalField(
        _("revenue in the window"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    r = models.PositiveSmallIntegerField("R")
    f = models.PositiveSmallIntegerField("F")
    m = models.PositiveSmallIntegerField("M")
    score = models.CharField(_("RFM score"), max_length=3)
    group = models.CharField(_("RFM group"), max_length=24, choices=RfmGroup.choices)

    class Meta:
        verbose_name = _("customer RFM score")
        verbose_name_plural = _("customer RFM scores")
        indexes = [
            # The behaviour page's counts per group; rfm_group conditions.
            models.Index(fields=["group"], name="customerrfm_group_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(r__gte=1, r__lte=5, f__gte=1, f__lte=5, m__gte=1, m__lte=5),
                name="customerrfm_scores_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.score} {self.group}"


class UsageClusterRun(models.Model):
    """One k-means run over usage features: the k chosen, the silhouette of every k tried."""

    as_of = models.DateField(_("as of"))
    days = models.PositiveIntegerField(_("days of usage"))
    k_min = models.PositiveSmallIntegerField()
    k_max = models.PositiveSmallIntegerField()
    k = models.PositiveSmallIntegerField(_("clusters"))
    # {"2": 0.41, "3": 0.58, …}: mean silhouette of each k tried (keys are text: JSON objects).
    silhouettes: models.JSONField[dict[str, float]] = models.JSONField(default=dict)
    features: models.JSONField[list[str]] = models.JSONField(default=list)
    # Per feature: the values at the 1/3 quantile, median and 2/3 quantile of all customers.
    quantiles: models.JSONField[dict[str, Any]] = models.JSONField(default=dict)
    customers = models.PositiveIntegerField(default=0)
    # Customers the silhouette was computed on (all of them, or a sample of SILHOUETTE_SAMPLE).
    silhouette_sample = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-computed_at", "-pk"]
        verbose_name = _("usage cluster run")
        verbose_name_plural = _("usage cluster runs")

    def __str__(self) -> str:
        return f"k={self.k} {self.as_of}"


class UsageCluster(models.Model):
    """One cluster of a run: its centroid in the features' own units and where it stands."""

    run = models.ForeignKey(UsageClusterRun, on_delete=models.CASCADE, related_name="clusters")
    number = models.PositiveSmallIntegerField(_("cluster"))  # 1 = largest
    size = models.PositiveIntegerField(default=0)
    centroid: models.JSONField[dict[str, float]] = models.JSONField(default=dict)
    # Per feature: "low", "mid" or "high" (see clusters.feature_level), or "" (no contrast).
    levels: models.JSONField[dict[str, str]] = models.JSONField(default=dict)
    name = models.CharField(_("name"), max_length=80, blank=True)

    class Meta:
        ordering = ["run", "number"]
        verbose_name = _("usage cluster")
        verbose_name_plural = _("usage clusters")
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="usagecluster_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.number}"


class CustomerCluster(models.Model):
    """The usage cluster a customer is in at the latest run, with their feature values."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="usage_cluster"
    )
    run = models.ForeignKey(UsageClusterRun, on_delete=models.CASCADE, related_name="members")
    cluster = models.ForeignKey(UsageCluster, on_delete=models.CASCADE, related_name="members")
    number = models.PositiveSmallIntegerField(_("cluster"))
    values: models.JSONField[dict[str, float]] = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("customer usage cluster")
        verbose_name_plural = _("customer usage clusters")
        indexes = [
            # Cluster sizes on the page; usage_cluster conditions.
            models.Index(fields=["number"], name="customercluster_number_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.number}"
