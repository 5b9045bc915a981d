"""Lifecycle rules (conditions that move customers between stages) and manual overrides.

Rules are evaluated in ``position`` order and the first rule whose condition holds for a
customer decides their stage (see docs/lifecycle.md); a customer no rule matches stays where
they are. A stage set by hand is a ``StageOverride``: rules leave that customer alone until a
person clears it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tend.customers.models import Stage


class LifecycleRuleQuerySet(models.QuerySet["LifecycleRule"]):
    def in_order(self) -> LifecycleRuleQuerySet:
        """Rules in the order they are evaluated (position, then age)."""
        return self.order_by("position", "pk")

    def active(self) -> LifecycleRuleQuerySet:
        """Enabled rules in evaluation order."""
        return self.filter(enabled=True).in_order()


class LifecycleRule(models.Model):
    """When ``condition`` holds for a customer (currently in one of ``from_stages``, or in any
    stage when that list is empty), move them to ``stage``.

    ``key`` names a built-in rule seeded on install; its ``name`` is an English message id and
    is shown in the reader's language until an owner renames the rule.
    """

    name = models.CharField(_("name"), max_length=120)
    key = models.SlugField(_("built-in rule"), max_length=40, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    enabled = models.BooleanField(_("enabled"), default=True)
    condition: models.JSONField[dict[str, Any]] = models.JSONField(_("condition"), default=dict)
    stage = models.CharField(_("move to stage"), max_length=20, choices=Stage.choices)
    from_stages: models.JSONField[list[str]] = models.JSONField(
        _("only from stages"), default=list, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = LifecycleRuleQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("lifecycle rule")
        verbose_name_plural = _("lifecycle rules")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the reader's language (built-in names are message ids)."""
        return gettext(self.name) if self.key else self.name

    @property
    def stage_label(self) -> str:
        return str(Stage(self.stage).label)

    @property
    def from_labels(self) -> list[str]:
        return [str(Stage(s).label) for s in self.from_stages if s in Stage.values]


class StageOverrideQuerySet(models.QuerySet["StageOverride"]):
    def active(self) -> StageOverrideQuerySet:
        """Overrides not cleared: the rules leave these customers alone."""
        return self.filter(cleared_at__isnull=True)


class StageOverride(models.Model):
    """A stage a person chose for a customer; it sticks until someone clears it.

    One row per customer: clearing keeps the row (``cleared_at``) so that a manual move older
    than the clearing, read late from the change outbox, does not bring the override back.
    """

    customer = models.OneToOneField(
        "customers.Customer",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="stage_override",
    )
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("set at"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = StageOverrideQuerySet.as_manager()

    class Meta:
        verbose_name = _("stage override")
        verbose_name_plural = _("stage overrides")
        indexes = [
            # The engine excludes customers with an active override on every evaluation.
            models.Index(
                fields=["customer"],
                condition=models.Q(cleared_at__isnull=True),
                name="stageoverride_active_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.stage}"

    @property
    def active(self) -> bool:
        return self.cleared_at is None
