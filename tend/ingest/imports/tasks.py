"""Background work for imports. Thin: takes the Import id and calls the action."""

from __future__ import annotations

from django_tasks import task

from tend.ingest.imports import cleanup
from tend.ingest.imports.actions import import_run
from tend.ingest.imports.models import Import, ImportStatus


@task()
def import_process(import_id: int) -> int:
    """Run a queued import (or its dry run); a retry after a finished run does nothing."""
    claimed = Import.objects.filter(pk=import_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING
    )
    if not claimed:
        return 0
    run = Import.objects.get(pk=import_id)
    return import_run(run=run).rows


@task()
def import_files_cleanup() -> int:
    """Delete uploaded files of imports that ended long enough ago (scheduled daily)."""
    return cleanup.import_files_cleanup().files
