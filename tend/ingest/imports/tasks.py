"""Background work for imports. Thin: takes the Import id and calls the action."""

from __future__ import annotations

from django_tasks import task

from tend.ingest.imports import cleanup
from tend.ingest.imports.actions import (
    import_claim,
    import_run,
    imports_interrupt_stale,
    imports_requeue_lost,
)
from tend.ingest.imports.models import ImportStatus


@task()
def import_process(import_id: int) -> int:
    """Run a queued import (or its dry run), from its last committed batch when it is being
    resumed; a retry after a finished or canceled run does nothing."""
    run = import_claim(import_id, [ImportStatus.QUEUED])
    if run is None:
        return 0
    return import_run(run=run).rows


@task()
def import_files_cleanup() -> int:
    """Mark imports that lost their worker interrupted, and delete uploaded files of imports
    that ended long enough ago (scheduled daily)."""
    result = cleanup.import_files_cleanup()
    return result.files + len(result.interrupted)


@task()
def imports_interrupted_mark() -> int:
    """Mark running imports that lost their worker interrupted, and queue again queued imports
    whose task was lost with its worker (scheduled every 5 minutes)."""
    return len(imports_interrupt_stale()) + len(imports_requeue_lost())
