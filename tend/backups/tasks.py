"""The scheduled backup (``TEND_SCHEDULES["backup"]``, TEND_BACKUP_CRON)."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django_tasks import task

from tend.backups.actions import backup_create, backups_prune
from tend.backups.passphrase import passphrase_check_new, passphrase_read

log = logging.getLogger(__name__)


@task()
def backup_scheduled(keep: int | None = None, folder: str = "") -> str:
    """Back up into ``folder`` (default TEND_BACKUP_DIR), encrypted when a passphrase is
    configured, then keep the newest ``keep`` backups there (default TEND_BACKUP_KEEP).
    Old backups are deleted only after the new one is complete. Returns the file's path."""
    passphrase = passphrase_read(settings.TEND_BACKUP_PASSPHRASE_FILE or None)
    passphrase_check_new(passphrase)
    target = folder or settings.TEND_BACKUP_DIR

    result = backup_create(folder=Path(target), passphrase=passphrase)
    removed = backups_prune(
        folder=Path(target), keep=settings.TEND_BACKUP_KEEP if keep is None else keep
    )
    log.info(
        "backup written: %s (%d bytes, %d uploaded files); %d old backups deleted",
        result.path,
        result.size,
        result.files,
        len(removed),
    )
    return str(result.path)
