"""A heartbeat row per running ``tend worker`` process (tend.observability.heartbeat)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WorkerBeat(models.Model):
    """One ``tend worker`` process: where it runs, since when, and when it was last alive.

    Written every ``BEAT_SECONDS`` by the worker itself; deleted when it stops cleanly, and
    pruned by any worker once it has not been seen for ``STALE_AFTER`` (a killed one)."""

    host = models.CharField(_("host"), max_length=255)
    pid = models.PositiveIntegerField(_("process id"))
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    seen_at = models.DateTimeField(_("last seen"), default=timezone.now, db_index=True)
    # The id this process claims queued tasks under (DBTaskResult.worker_ids): a task still
    # "running" under an id whose heartbeat stopped was lost with its worker
    # (tend.jobs.recover).
    task_worker_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")
        constraints = [
            models.UniqueConstraint(
                fields=["host", "pid", "started_at"], name="workerbeat_process_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}"
