"""Read helpers for the backups shown on the operations page and by ``tend backup --list``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from tend.backups.actions import backups_list


def size_text(size: int) -> str:
    """1.4 MB, 230 KB: bytes in decimal units, as disks and rsync count them."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover


# The operations page warns when the newest backup is older than this (and backups are on).
STALE_AFTER = timedelta(days=2)


def backups_summary(now: datetime | None = None) -> dict[str, Any]:
    """The newest backup in TEND_BACKUP_DIR, how many are kept there, and the schedule (one
    folder listing, no query)."""
    now = now or timezone.now()
    entries = backups_list()
    newest = entries[0] if entries else None
    return {
        "stale": bool(settings.TEND_BACKUP_CRON)
        and (newest is None or now - newest.created_at > STALE_AFTER),
        "folder": str(settings.TEND_BACKUP_DIR),
        "count": len(entries),
        "keep": settings.TEND_BACKUP_KEEP,
        "cron": settings.TEND_BACKUP_CRON,
        "total_size": sum(e.size for e in entries),
        "last": (
            {
                "name": newest.path.name,
                "created_at": newest.created_at,
                "size": newest.size,
                "encrypted": newest.encrypted,
            }
            if newest
            else None
        ),
    }
