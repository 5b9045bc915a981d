"""Tasks: things a person must do, made by hand or by a playbook step, mostly about a customer."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TaskStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("task status", "Open")
    DONE = "done", pgettext_lazy("task status", "Done")
    CANCELED = "canceled", pgettext_lazy("task status", "Canceled")


class Priority(models.IntegerChoices):
    LOW = 1, pgettext_lazy("task priority", "Low")
    NORMAL = 2, pgettext_lazy("task priority", "Normal")
    HIGH = 3, pgettext_lazy("task priority", "High")


class TaskQuerySet(models.QuerySet["Task"]):
    def open(self) -> TaskQuerySet:
        """Tasks not done or canceled."""
        return self.filter(status=TaskStatus.OPEN)

    def due_by(self, day: date) -> TaskQuerySet:
        """Open tasks due on or before ``day`` (overdue ones included)."""
        return self.open().filter(due_on__lte=day)

    def overdue(self, today: date) -> TaskQuerySet:
        """Open tasks due before ``today``."""
        return self.open().filter(due_on__lt=today)

    def due_on_day(self, day: date) -> TaskQuerySet:
        """Open tasks due exactly on ``day``."""
        return self.open().filter(due_on=day)

    def upcoming(self, today: date) -> TaskQuerySet:
        """Open tasks due after ``today`` or with no due date."""
        return self.open().filter(models.Q(due_on__gt=today) | models.Q(due_on__isnull=True))

    def done(self) -> TaskQuerySet:
        """Completed tasks."""
        return self.filter(status=TaskStatus.DONE)

    def assigned_to(self, user: Any) -> TaskQuerySet:
        """Tasks given to ``user``."""
        return self.filter(assignee=user)

    def for_user(self, user: Any) -> TaskQuerySet:
        """Tasks given to ``user`` or to nobody (anyone may pick those up)."""
        return self.filter(models.Q(assignee=user) | models.Q(assignee__isnull=True))

    def in_order(self) -> TaskQuerySet:
        """Soonest due first (no due date last), then highest priority, then oldest."""
        return self.order_by(
            models.F("due_on").asc(nulls_last=True), "-priority", "created_at", "id"
        )


class Task(models.Model):
    """A to-do. ``key`` (unique when set) makes creation idempotent: a playbook step that runs
    again creates nothing new. Snoozing moves ``due_on`` and remembers it in ``snoozed_until``."""

    title = models.CharField(_("title"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
        verbose_name=_("customer"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
        verbose_name=_("assignee"),
    )
    due_on = models.DateField(_("due"), null=True, blank=True)
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    source = models.CharField(max_length=30, blank=True)  # "", "playbook", "api", "import"…
    source_id = models.CharField(max_length=64, blank=True)  # e.g. the playbook run step
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "-priority", "id"]
        indexes = [
            # The task list and Today: open tasks by assignee and due day.
            models.Index(fields=["status", "assignee", "due_on"], name="task_open_idx"),
            # The customer page's tasks.
            models.Index(fields=["customer", "status"], name="task_customer_idx"),
        ]

    def __str__(self) -> str:
        return self.title
