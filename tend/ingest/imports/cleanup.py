"""Deleting uploaded import files Tend no longer needs; the ``Import`` records stay.

Uploads are copied under ``$TEND_DATA_DIR/imports`` for the worker to read. Once an import has
ended (done, failed, canceled, or checked by a dry run) and ``TEND_IMPORT_FILE_RETENTION_DAYS``
have passed, its file goes and the record's ``path`` is blanked: the summary, the counts and the
rejected rows (kept in the database) remain, and the pages say the file is no longer kept.
An upload nobody took past the mapping step is ended the same way, as failed with a reason.
Files no import refers to (a CLI rejected-rows CSV, the leftover of an upload whose process
died) go once they are as old as the retention, and never before a day, so an upload being
recorded right now is never touched. Files outside that folder (``tend import`` reads the
user's own file where it is) are never deleted.

It first marks running imports whose worker stopped writing its heartbeat (killed, machine
down) as interrupted (``imports.actions.imports_interrupt_stale``), so they can be resumed or
canceled; their files are kept, as for any import that has not ended.

Safe to run concurrently with itself and with imports: a record is claimed with one
conditional UPDATE (still ended, same path) before its file is removed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from tend.accounts.actions import audit_record
from tend.ingest.imports.actions import imports_dir, imports_interrupt_stale
from tend.ingest.imports.models import Import, ImportStatus

log = logging.getLogger(__name__)

# Interrupted imports are not ended: their file stays until they are resumed or canceled.
ENDED = (ImportStatus.DONE, ImportStatus.FAILED, ImportStatus.PREVIEWED, ImportStatus.CANCELED)
ORPHAN_MIN_AGE = timedelta(days=1)


@dataclass
class CleanupResult:
    imports: list[int] = field(default_factory=list)  # ids whose file was deleted
    orphans: list[str] = field(default_factory=list)  # names of unreferenced files deleted
    bytes: int = 0
    interrupted: list[int] = field(default_factory=list)  # running imports that lost a worker

    @property
    def files(self) -> int:
        return len(self.imports) + len(self.orphans)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def import_files_cleanup(
    *, now: datetime | None = None, retention_days: int | None = None, dry_run: bool = False
) -> CleanupResult:
    """Delete the kept files of imports that ended over ``retention_days`` ago (default
    ``TEND_IMPORT_FILE_RETENTION_DAYS``) and unreferenced files as old; ``dry_run`` only
    reports what would go. Running imports that lost their worker are marked interrupted
    first (``dry_run`` lists them)."""
    now = now or timezone.now()
    days = settings.TEND_IMPORT_FILE_RETENTION_DAYS if retention_days is None else retention_days
    cutoff = now - timedelta(days=days)
    folder = imports_dir()  # as import_store wrote it into Import.path
    real_folder = folder.resolve()
    result = CleanupResult()
    if dry_run:
        cutoff_beat = now - timedelta(seconds=settings.TEND_IMPORT_STALE_SECONDS)
        result.interrupted = list(
            Import.objects.filter(status=ImportStatus.RUNNING)
            .annotate(beat=Coalesce("heartbeat_at", "started_at", "created_at"))
            .filter(beat__lt=cutoff_beat)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    else:
        result.interrupted = imports_interrupt_stale(now=now)

    stale = (
        Import.objects.filter(path__startswith=f"{folder}/")
        .annotate(ended=Coalesce("finished_at", "created_at"))
        .filter(
            Q(status__in=ENDED, ended__lt=cutoff)
            | Q(status=ImportStatus.UPLOADED, created_at__lt=cutoff)
        )
        .order_by("pk")
    )
    for run in stale.only("pk", "path", "status", "file_name").iterator():
        file = Path(run.path)
        if file.resolve().parent != real_folder:
            continue  # a path that only looks like ours (e.g. ../ in it): not ours to delete
        size = _size(file)
        if dry_run:
            result.imports.append(run.pk)
            result.bytes += size
            continue
        changes: dict[str, object] = {"path": ""}
        audit: dict[str, object] = {"file": run.file_name}
        if run.status == ImportStatus.UPLOADED:
            # Never mapped: it ends here, as failed with the reason, so no page waits on it.
            changes.update(
                status=ImportStatus.FAILED,
                finished_at=now,
                error=_(
                    "Not imported within %(days)d days of the upload; the file is no longer "
                    "kept. Upload it again to import it."
                )
                % {"days": days},
            )
            audit["status"] = [run.status, ImportStatus.FAILED]
        with transaction.atomic():
            claimed = Import.objects.filter(pk=run.pk, path=run.path, status=run.status).update(
                **changes
            )
            if not claimed:
                continue  # started again or cleaned meanwhile: leave it to that
            audit_record(
                by=None, action="import.file_delete", obj=run, changes=audit, label="cleanup"
            )
        # After the commit: should this process die here, the file is an orphan next time.
        file.unlink(missing_ok=True)
        result.imports.append(run.pk)
        result.bytes += size

    referenced = set(
        Import.objects.filter(path__startswith=f"{folder}/").values_list("path", flat=True)
    )
    orphan_cutoff = min(cutoff, now - ORPHAN_MIN_AGE).timestamp()
    for entry in sorted(folder.iterdir()):
        if not entry.is_file() or entry.is_symlink() or str(entry) in referenced:
            continue
        try:
            stat = entry.stat()
        except OSError:
            continue  # deleted meanwhile
        if stat.st_mtime >= orphan_cutoff:
            continue
        if not dry_run:
            entry.unlink(missing_ok=True)
        result.orphans.append(entry.name)
        result.bytes += stat.st_size

    if result.files and not dry_run:
        log.info(
            "import files clean-up: %d import files and %d unreferenced files deleted (%d bytes)",
            len(result.imports),
            len(result.orphans),
            result.bytes,
        )
    return result
