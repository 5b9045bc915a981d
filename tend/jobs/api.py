"""``GET /api/v1/operations``: the operations page as JSON (``operations_summary``).

Read by owners and members (a key acts with its user's role; viewers' keys get 403), the
same people who see the page. It takes no parameters; the failed lists hold the newest 50
rows each and say how many there are in all.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from tend.api.auth import Principal
from tend.api.schemas import ERRORS, UtcDatetime
from tend.jobs.operations import LIST_LIMIT, can_see_operations, operations_summary

router = Router(tags=["operations"])


class ScheduleOut(Schema):
    name: str
    cron: str = Field(..., description="Five-field cron, evaluated in UTC.")
    description: str = Field(..., description="The cron in words, in the caller's language.")
    task: str = Field(..., description="Dotted path of the task it enqueues.")
    next_due_at: UtcDatetime | None
    last_due_at: UtcDatetime | None = Field(..., description="null: not enqueued yet.")
    last_enqueued_at: UtcDatetime | None
    last_task_id: str
    last_status: str = Field(
        ...,
        description="The last run's task: `ready`, `running`, `successful`, `failed`, or "
        "empty when it was never enqueued or its result was pruned.",
    )
    last_finished_at: UtcDatetime | None
    last_error: str = Field(..., description="The last line of the task's traceback.")


class TaskFailureOut(Schema):
    id: str
    task: str
    finished_at: UtcDatetime | None
    error: str


class QueueOut(Schema):
    ready: int = Field(..., description="Tasks that may run now.")
    scheduled_later: int = Field(..., description="Tasks waiting for a later start time.")
    running: int
    running_too_long: int = Field(
        ..., description="Running for over an hour: their worker was probably stopped."
    )
    failed: int = Field(..., description="Failed task results still kept.")
    failed_last_day: int
    succeeded_last_day: int
    oldest_waiting_since: UtcDatetime | None
    oldest_waiting_seconds: float | None
    oldest_running_since: UtcDatetime | None
    last_worker: str = Field(..., description="Id of the worker that took the newest task.")
    last_worker_at: UtcDatetime | None = Field(..., description="When it took it.")
    recent_failures: list[TaskFailureOut] = Field(..., description="The 10 newest.")


class FailedRunOut(Schema):
    id: int
    playbook_id: int
    playbook: str
    customer_id: int
    customer: str
    status: str = Field(..., description="`failed` (gave up) or `active` (will retry).")
    attempts: int
    next_at: UtcDatetime | None = Field(..., description="Next try, for runs that will retry.")
    error: str


class FailedRunsOut(Schema):
    count: int = Field(..., description="All such runs.")
    items: list[FailedRunOut] = Field(..., description=f"The newest {LIST_LIMIT}.")


class FailedMessageOut(Schema):
    id: int
    channel: str = Field(..., description="`email` or `webhook`.")
    to: str
    subject: str
    source: str
    customer_id: int | None
    status: str = Field(..., description="`failed` (gave up) or `queued` (will retry).")
    attempts: int
    next_attempt_at: UtcDatetime | None
    error: str


class FailedMessagesOut(Schema):
    count: int
    items: list[FailedMessageOut] = Field(..., description=f"The newest {LIST_LIMIT}.")


class PipelineStepOut(Schema):
    step: str
    as_of: date | None
    started_at: UtcDatetime | None
    seconds: float | None
    counts: dict[str, Any]
    error: str


class LastBackupOut(Schema):
    name: str
    created_at: UtcDatetime
    size: int = Field(..., description="Bytes.")
    encrypted: bool


class BackupsOut(Schema):
    folder: str = Field(..., description="TEND_BACKUP_DIR.")
    count: int = Field(..., description="Backups in the folder.")
    keep: int = Field(..., description="How many the scheduled backup keeps (0: all).")
    cron: str = Field(..., description="TEND_BACKUP_CRON; empty: scheduled backups are off.")
    total_size: int = Field(..., description="Bytes, all backups in the folder.")
    stale: bool = Field(..., description="Backups are on and the newest is over 2 days old.")
    last: LastBackupOut | None = Field(..., description="The newest; null: none yet.")


class OperationsOut(Schema):
    generated_at: UtcDatetime
    schedules: list[ScheduleOut]
    queue: QueueOut
    failed_runs: FailedRunsOut
    failed_messages: FailedMessagesOut
    pipeline: list[PipelineStepOut] = Field(..., description="Each step's latest run.")
    backups: BackupsOut = Field(..., description="The backups in TEND_BACKUP_DIR.")


@router.get("/operations", response={200: OperationsOut, **ERRORS})
def operations_retrieve(request: HttpRequest) -> dict[str, Any]:
    """Schedules, the task queue, failed playbook steps and messages, the daily pipeline
    (owners and members)."""
    principal: Principal = request.auth  # type: ignore[attr-defined]
    if not can_see_operations(principal.user):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("Only owners and members see operations.")
    return operations_summary()
