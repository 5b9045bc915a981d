"""Bookkeeping for periodic jobs declared in ``settings.TEND_SCHEDULES``."""

from __future__ import annotations

from django.db import models


class ScheduledRun(models.Model):
    """One due time of one schedule. The unique constraint is the lock: with several workers,
    exactly one insert wins and enqueues the task; the others see an IntegrityError."""

    name = models.CharField(max_length=80)
    due_at = models.DateTimeField()
    enqueued_at = models.DateTimeField(auto_now_add=True)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "due_at"], name="scheduledrun_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} @ {self.due_at:%Y-%m-%d %H:%M}"


class PipelineStepRun(models.Model):
    """One run of one step of the daily pipeline (``tend.jobs.pipeline``): when, for which
    day, how long, what it did (``counts``) or why it failed (``error``)."""

    run = models.UUIDField()  # the steps of one ``pipeline_run`` share it
    step = models.CharField(max_length=40)
    as_of = models.DateField()
    started_at = models.DateTimeField()
    seconds = models.FloatField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["step", "-started_at"], name="pipelinestep_step_idx")]

    def __str__(self) -> str:
        return f"{self.step} {self.as_of} {self.seconds:.1f}s"
