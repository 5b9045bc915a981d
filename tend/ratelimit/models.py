"""One counter per rate-limit bucket: how many requests fell in its current window."""

from __future__ import annotations

from django.db import models


class RateCounter(models.Model):
    """Requests counted for one bucket (``<scope>:<who>``, e.g. ``tracking:key-12``) in the
    window that starts at ``window_start`` (Unix seconds, a multiple of the window length).

    One row per bucket, reset in place when a new window starts, so the hot path is a single
    upsert on the primary key. No index on ``window_start``: only the hourly prune reads it,
    and an index there would be rewritten on every new window. On PostgreSQL the table is
    UNLOGGED (migration 0002): counters need not survive a database crash, and commits that
    touch only it do not wait for a WAL flush.
    """

    bucket = models.CharField(max_length=120, primary_key=True)
    window_start = models.BigIntegerField()
    hits = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.bucket}: {self.hits} since {self.window_start}"
