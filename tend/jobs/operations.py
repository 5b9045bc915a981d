"""What the background machinery is doing, read for the operations page, ``GET
/api/v1/operations`` and ``tend operations`` (all three show the same ``operations_summary``).

Five parts: every schedule of ``settings.TEND_SCHEDULES`` with its last due time and how the
task it enqueued ended; the task queue of django-tasks-db (waiting, running, failed, the oldest
waiting task's age, the last worker seen); playbook runs whose step failed or is being retried;
messages (emails, webhooks) that failed or are waiting for a retry; the daily pipeline's last
run of each step. Each part is a fixed number of queries, whatever the table sizes.

Who sees it: owners and members (they act on customers and on what failed); viewers do not
(the page shows SMTP replies, webhook URLs and tracebacks). Retrying is for the same people:
it is the owning apps' own retry (``run_retry``, ``message_retry``), which owners and members
may also use from the run's and the message's page; a stricter rule here would protect nothing.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter  # type: ignore[import-untyped]
from django.conf import settings
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django_tasks_db.models import DBTaskResult

from tend.backups.queries import backups_summary
from tend.jobs.models import PipelineStepRun, ScheduledRun
from tend.jobs.pipeline import last_runs, step_names
from tend.lib.access import can_write
from tend.messaging.models import Message, MessageStatus
from tend.playbooks.models import PlaybookRun, RunStatus

# How many failed runs and messages each list shows (the counts are exact).
LIST_LIMIT = 50
# A task running longer than this is shown as possibly abandoned: django-tasks-db leaves the
# task of a worker that was killed "running" for ever (the work itself is claimed with leases
# and picked up again; see docs/operations.md).
RUNNING_TOO_LONG = timedelta(hours=1)


def can_see_operations(user: Any) -> bool:
    """Owners and members read the operations page; viewers do not."""
    return can_write(user)


def can_retry(user: Any) -> bool:
    """Owners and members send a failed step or message again (as on their own pages)."""
    return can_write(user)


# --- cron in words ------------------------------------------------------------------------

_NUMBER = re.compile(r"^\d+$")
_EVERY = re.compile(r"^\*/(\d+)$")


def _weekday(value: str) -> str | None:
    names = [
        _("Sunday"),
        _("Monday"),
        _("Tuesday"),
        _("Wednesday"),
        _("Thursday"),
        _("Friday"),
        _("Saturday"),
    ]
    if _NUMBER.match(value) and int(value) <= 7:
        return names[int(value) % 7]
    return None


def cron_words(cron: str) -> str:
    """The common cron shapes in the reader's language ("every 5 minutes", "daily at 00:10
    UTC"); anything else is shown as it is written."""
    fields = cron.split()
    if len(fields) != 5:
        return cron
    minute, hour, day, month, weekday = fields
    rest_any = day == "*" and month == "*" and weekday == "*"
    if rest_any and hour == "*":
        if minute == "*":
            return _("every minute")
        every = _EVERY.match(minute)
        if every:
            n = int(every.group(1))
            return ngettext("every %(n)d minute", "every %(n)d minutes", n) % {"n": n}
        if _NUMBER.match(minute):
            return _("every hour at :%(minute)02d") % {"minute": int(minute)}
        minutes = minute.split(",")
        if len(minutes) > 1 and all(_NUMBER.match(m) for m in minutes):
            return _("every hour at %(minutes)s") % {
                "minutes": ", ".join(f":{int(m):02d}" for m in minutes)
            }
        return cron
    if not (_NUMBER.match(minute) and _NUMBER.match(hour)):
        return cron
    at = f"{int(hour):02d}:{int(minute):02d}"
    if rest_any:
        return _("daily at %(time)s UTC") % {"time": at}
    if day == "*" and month == "*":
        name = _weekday(weekday)
        if name:
            return _("every %(weekday)s at %(time)s UTC") % {"weekday": name, "time": at}
    if _NUMBER.match(day) and month == "*" and weekday == "*":
        return _("monthly on day %(day)d at %(time)s UTC") % {"day": int(day), "time": at}
    return cron


# --- the parts ------------------------------------------------------------------------------


@dataclass
class ScheduleRow:
    name: str
    cron: str
    words: str
    task: str
    next_due: datetime | None
    last_due: datetime | None = None
    enqueued_at: datetime | None = None
    task_id: str = ""
    status: str = ""  # the task's: READY, RUNNING, SUCCESSFUL, FAILED; "" = never enqueued
    finished_at: datetime | None = None
    error: str = ""


@dataclass
class QueueState:
    ready: int  # may run now
    later: int  # waiting for their run_after time
    running: int
    failed: int  # all kept task results that failed (tend cleanup prunes old ones)
    failed_day: int  # failed in the last 24 hours
    succeeded_day: int  # finished successfully in the last 24 hours
    oldest_waiting_since: datetime | None  # the oldest ready task's enqueue time
    oldest_running_since: datetime | None
    running_too_long: int  # running for more than RUNNING_TOO_LONG
    last_worker: str  # the id of the worker that claimed the newest task
    last_worker_at: datetime | None
    recent_failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def oldest_waiting_seconds(self) -> float | None:
        if self.oldest_waiting_since is None:
            return None
        return max(0.0, (timezone.now() - self.oldest_waiting_since).total_seconds())


def error_line(traceback: str, exception_path: str = "") -> str:
    """The last line of a traceback ("SMTPServerDisconnected: Connection unexpectedly
    closed"), which says what happened; the whole traceback stays in the task's row."""
    lines = [line for line in (traceback or "").strip().splitlines() if line.strip()]
    if lines:
        return lines[-1].strip()[:500]
    return exception_path.rsplit(".", 1)[-1]


def schedules_state(now: datetime | None = None) -> list[ScheduleRow]:
    """Every declared schedule in declaration order, with its latest enqueued run and the
    outcome of that run's task. Three queries."""
    now = now or timezone.now()
    schedules: dict[str, dict[str, str]] = settings.TEND_SCHEDULES
    latest = {run.name: run for run in _latest_runs(list(schedules))}
    task_ids = [run.task_id for run in latest.values() if run.task_id]
    tasks = {str(t.id): t for t in DBTaskResult.objects.filter(id__in=_uuids(task_ids))}
    rows = []
    for name, spec in schedules.items():
        try:
            next_due = croniter(spec["cron"], now).get_next(datetime)
        except (ValueError, KeyError):
            next_due = None
        row = ScheduleRow(
            name=name,
            cron=spec.get("cron", ""),
            words=cron_words(spec.get("cron", "")),
            task=spec.get("task", ""),
            next_due=next_due,
        )
        last = latest.get(name)
        if last is not None:
            row.last_due, row.enqueued_at, row.task_id = last.due_at, last.enqueued_at, last.task_id
            task = tasks.get(_uuid_text(last.task_id))
            if task is not None:
                row.status = task.status
                row.finished_at = task.finished_at
                if task.status == "FAILED":
                    row.error = error_line(task.traceback, task.exception_class_path)
        rows.append(row)
    return rows


def _latest_runs(names: list[str]) -> list[ScheduledRun]:
    """The latest due run of each name: the latest due time per name, then those rows (two
    queries on the (name, due_at) unique index, on SQLite and PostgreSQL alike)."""
    last = dict(
        ScheduledRun.objects.filter(name__in=names)
        .values("name")
        .annotate(last=Max("due_at"))
        .values_list("name", "last")
    )
    if not last:
        return []
    match = Q()
    for name, due in last.items():
        match |= Q(name=name, due_at=due)
    return list(ScheduledRun.objects.filter(match))


def _uuid_text(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError):
        return value


def _uuids(values: list[str]) -> list[str]:
    found = []
    for value in values:
        try:
            found.append(str(uuid.UUID(value)))
        except (ValueError, TypeError):
            continue
    return found


def queue_state(now: datetime | None = None) -> QueueState:
    """The django-tasks-db queue at a glance. A handful of queries; the status counts are one
    GROUP BY."""
    now = now or timezone.now()
    day_ago = now - timedelta(days=1)
    results = DBTaskResult.objects.all()
    by_status = dict(results.values_list("status").annotate(n=Count("id")).order_by())
    ready = results.ready()
    oldest_waiting = ready.aggregate(at=Min("enqueued_at"))["at"]
    ready_count = ready.count()
    running = results.running()
    oldest_running = running.aggregate(at=Min("started_at"))["at"]
    too_long = running.filter(started_at__lt=now - RUNNING_TOO_LONG).count()
    day = results.filter(finished_at__gte=day_ago)
    day_counts = dict(day.values_list("status").annotate(n=Count("id")).order_by())
    newest = results.filter(started_at__isnull=False).order_by("-started_at").first()
    last_worker = ""
    if newest is not None and newest.worker_ids:
        last_worker = str(newest.worker_ids[-1])
    failures = [
        {
            "id": str(t.id),
            "task": t.task_path.rsplit(".", 1)[-1],
            "finished_at": t.finished_at,
            "error": error_line(t.traceback, t.exception_class_path),
        }
        for t in results.failed().order_by("-finished_at")[:10]
    ]
    return QueueState(
        ready=ready_count,
        later=by_status.get("READY", 0) - ready_count,
        running=by_status.get("RUNNING", 0),
        failed=by_status.get("FAILED", 0),
        failed_day=day_counts.get("FAILED", 0),
        succeeded_day=day_counts.get("SUCCESSFUL", 0),
        oldest_waiting_since=oldest_waiting,
        oldest_running_since=oldest_running,
        running_too_long=too_long,
        last_worker=last_worker,
        last_worker_at=newest.started_at if newest is not None else None,
        recent_failures=failures,
    )


def failed_runs_query() -> Any:
    """Playbook runs whose step gave up, or failed and waits for its next try."""
    return PlaybookRun.objects.filter(
        Q(status=RunStatus.FAILED)
        | (Q(status=RunStatus.ACTIVE, attempts__gt=0) & ~Q(last_error=""))
    )


def failed_runs(limit: int = LIST_LIMIT) -> tuple[int, list[PlaybookRun]]:
    """How many, and the latest ``limit`` of them with their playbook and customer."""
    query = failed_runs_query()
    rows = list(query.select_related("playbook", "customer").order_by("-started_at", "-pk")[:limit])
    return query.count(), rows


def failed_messages_query() -> Any:
    """Messages that gave up, or failed and wait for their next attempt."""
    return Message.objects.filter(
        Q(status=MessageStatus.FAILED) | Q(status=MessageStatus.QUEUED, attempts__gt=0)
    )


def failed_messages(limit: int = LIST_LIMIT) -> tuple[int, list[Message]]:
    query = failed_messages_query()
    rows = list(
        query.select_related("customer")
        .defer("text", "html", "payload")
        .order_by("-created_at", "-pk")[:limit]
    )
    return query.count(), rows


@dataclass
class PipelineRow:
    step: str
    run: PipelineStepRun | None


def pipeline_state() -> list[PipelineRow]:
    """Each pipeline step in its order with its latest recorded run (one query a step)."""
    runs = last_runs()
    return [PipelineRow(step=name, run=runs.get(name)) for name in step_names()]


# --- one summary for the REST API and the CLI ----------------------------------------------


def run_status_text(run: PlaybookRun) -> str:
    if run.status == RunStatus.FAILED:
        return pgettext("operations", "gave up")
    return pgettext("operations", "will retry")


def operations_summary(now: datetime | None = None) -> dict[str, Any]:
    """Everything the operations page shows, as plain data (datetimes stay datetimes)."""
    now = now or timezone.now()
    queue = queue_state(now)
    runs_count, runs = failed_runs()
    messages_count, messages = failed_messages()
    return {
        "generated_at": now,
        "schedules": [
            {
                "name": row.name,
                "cron": row.cron,
                "description": row.words,
                "task": row.task,
                "next_due_at": row.next_due,
                "last_due_at": row.last_due,
                "last_enqueued_at": row.enqueued_at,
                "last_task_id": row.task_id,
                "last_status": row.status.lower(),
                "last_finished_at": row.finished_at,
                "last_error": row.error,
            }
            for row in schedules_state(now)
        ],
        "queue": {
            "ready": queue.ready,
            "scheduled_later": queue.later,
            "running": queue.running,
            "running_too_long": queue.running_too_long,
            "failed": queue.failed,
            "failed_last_day": queue.failed_day,
            "succeeded_last_day": queue.succeeded_day,
            "oldest_waiting_since": queue.oldest_waiting_since,
            "oldest_waiting_seconds": (
                None
                if queue.oldest_waiting_since is None
                else round(max(0.0, (now - queue.oldest_waiting_since).total_seconds()), 1)
            ),
            "oldest_running_since": queue.oldest_running_since,
            "last_worker": queue.last_worker,
            "last_worker_at": queue.last_worker_at,
            "recent_failures": queue.recent_failures,
        },
        "failed_runs": {
            "count": runs_count,
            "items": [
                {
                    "id": run.pk,
                    "playbook_id": run.playbook_id,
                    "playbook": run.playbook.name,
                    "customer_id": run.customer_id,
                    "customer": run.customer.name,
                    "status": run.status,
                    "attempts": run.attempts,
                    "next_at": run.next_at if run.status == RunStatus.ACTIVE else None,
                    "error": run.last_error,
                }
                for run in runs
            ],
        },
        "failed_messages": {
            "count": messages_count,
            "items": [
                {
                    "id": message.pk,
                    "channel": message.channel,
                    "to": message.to,
                    "subject": message.subject,
                    "source": message.source,
                    "customer_id": message.customer_id,
                    "status": message.status,
                    "attempts": message.attempts,
                    "next_attempt_at": (
                        message.next_attempt_at if message.status == MessageStatus.QUEUED else None
                    ),
                    "error": message.last_error,
                }
                for message in messages
            ],
        },
        "pipeline": [
            {
                "step": row.step,
                "as_of": row.run.as_of if row.run else None,
                "started_at": row.run.started_at if row.run else None,
                "seconds": round(row.run.seconds, 3) if row.run else None,
                "counts": row.run.counts if row.run else {},
                "error": row.run.error if row.run else "",
            }
            for row in pipeline_state()
        ],
        "backups": backups_summary(now),
    }
