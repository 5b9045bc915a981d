"""Playbooks: a trigger, optional conditions and ordered steps, run once per customer and
trigger occurrence; with an optional random control group (an experiment).

``Playbook.steps`` is a validated JSON list (tend.playbooks.steps): each step is
``{"id": "s1", "type": "<action name>" | "wait" | "branch", "config": {…}}``; a branch holds
``{"condition": <condition tree>, "then": [steps], "else": [steps]}``. A run's ``position``
is the path to its next step (e.g. ``["s3", "then", "s4"]`` as step ids).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PlaybookStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("playbook status", "Draft")
    ACTIVE = "active", pgettext_lazy("playbook status", "Active")
    PAUSED = "paused", pgettext_lazy("playbook status", "Paused")
    ARCHIVED = "archived", pgettext_lazy("playbook status", "Archived")


class Reentry(models.TextChoices):
    ONCE = "once", _("Once per customer, ever")
    PER_OCCURRENCE = "occurrence", _("Once per trigger occurrence")
    AFTER_DAYS = "after_days", _("Again after a number of days")


class Playbook(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    key = models.SlugField(max_length=60, blank=True)  # the built-in template it came from
    status = models.CharField(
        _("status"), max_length=10, choices=PlaybookStatus.choices, default=PlaybookStatus.DRAFT
    )
    trigger = models.CharField(_("trigger"), max_length=40)  # a name in the trigger registry
    trigger_config: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    condition: models.JSONField[dict[str, Any] | None] = models.JSONField(null=True, blank=True)
    steps: models.JSONField[list[dict[str, Any]]] = models.JSONField(default=list, blank=True)
    reentry = models.CharField(
        _("re-entry"), max_length=12, choices=Reentry.choices, default=Reentry.PER_OCCURRENCE
    )
    reentry_days = models.PositiveIntegerField(_("re-entry after days"), default=0)
    # Experiment: this share of entering customers (0–90 %) is held out as a control group.
    holdout_percent = models.PositiveSmallIntegerField(_("control group %"), default=0)
    # What the experiment compares: {"kind": "retention"|"mrr"|"event", "days": 30, "event": …}
    outcome: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)  # +1 on every saved edit
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    enabled_at = models.DateTimeField(null=True, blank=True)  # last switched on

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RunStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("playbook run status", "Running")  # next step due at next_at
    PAUSED = "paused", pgettext_lazy("playbook run status", "Paused")
    DONE = "done", pgettext_lazy("playbook run status", "Finished")
    CANCELED = "canceled", pgettext_lazy("playbook run status", "Canceled")
    FAILED = "failed", pgettext_lazy("playbook run status", "Failed")  # a step gave up
    CONTROL = "control", pgettext_lazy("playbook run status", "Control group")  # held out


class Group(models.TextChoices):
    TREATED = "treated", _("Treated")
    CONTROL = "control", _("Control")


class RunQuerySet(models.QuerySet["PlaybookRun"]):
    def due(self, now: Any = None) -> RunQuerySet:
        """Active runs whose next step is due, or claims whose worker died."""
        now = now or timezone.now()
        return self.filter(status=RunStatus.ACTIVE, next_at__lte=now).filter(
            models.Q(claimed_until__isnull=True) | models.Q(claimed_until__lt=now)
        )


class PlaybookRun(models.Model):
    """One customer going through one playbook for one trigger occurrence. The unique
    (playbook, customer, occurrence) is the enrollment guard: a trigger seen twice enrolls once."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="runs")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="playbook_runs"
    )
    occurrence = models.CharField(max_length=200)  # e.g. "stage:42", "renewal:2027-01-31:30"
    group = models.CharField(max_length=10, choices=Group.choices, default=Group.TREATED)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.ACTIVE)
    position: models.JSONField[list[str]] = models.JSONField(default=list, blank=True)
    next_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)  # the worker holding the lease
    attempts = models.PositiveSmallIntegerField(default=0)  # of the current step
    last_error = models.TextField(blank=True)
    context: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    playbook_version = models.PositiveIntegerField(default=1)
    started_by = models.ForeignKey(  # manual starts
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["playbook", "customer", "occurrence"], name="playbookrun_once"
            ),
        ]
        indexes = [
            # The executor's poll (RunQuerySet.due).
            models.Index(fields=["status", "next_at"], name="playbookrun_due_idx"),
            # Re-entry checks and the customer page's runs.
            models.Index(fields=["customer", "playbook"], name="playbookrun_customer_idx"),
            # The playbook page's runs, newest first.
            models.Index(fields=["playbook", "-started_at"], name="playbookrun_playbook_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.playbook_id}/{self.customer_id} {self.occurrence} [{self.status}]"


class StepOutcome(models.TextChoices):
    DONE = "done", pgettext_lazy("step outcome", "Done")
    SKIPPED = "skipped", pgettext_lazy("step outcome", "Skipped")
    WAITING = "waiting", pgettext_lazy("step outcome", "Waiting")
    FAILED = "failed", pgettext_lazy("step outcome", "Failed")
    RETRYING = "retrying", pgettext_lazy("step outcome", "Will retry")


class RunStep(models.Model):
    """What one step did for one run: an outcome and a message id with parameters (``detail``,
    rendered in the reader's language), or the error."""

    run = models.ForeignKey(PlaybookRun, on_delete=models.CASCADE, related_name="step_log")
    step_id = models.CharField(max_length=20)
    step_type = models.CharField(max_length=40)
    outcome = models.CharField(max_length=10, choices=StepOutcome.choices)
    detail: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["step_type", "outcome", "at"], name="runstep_outcome_idx")]

    def __str__(self) -> str:
        return f"{self.run_id} {self.step_id} {self.outcome}"


class TriggerCursor(models.Model):
    """How far a polling trigger has read (events by received time, date triggers by day)."""

    name = models.CharField(max_length=80, unique=True)
    position = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} @ {self.position}"
