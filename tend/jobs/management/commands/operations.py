"""``tend operations``: the operations page in the terminal (``--json``: the API's document).

Shows the task queue, failed playbook steps and messages, every schedule and the daily
pipeline's last runs — the same ``operations_summary`` as ``/operations/`` and
``GET /api/v1/operations``. Exits with status 1 when something failed and gave up
(``--check``), for monitoring scripts.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from rich.console import Console
from rich.table import Table

from tend.jobs.operations import operations_summary
from tend.messaging.models import Message, MessageStatus
from tend.playbooks.models import PlaybookRun, RunStatus


def _when(value: datetime | None) -> str:
    return "—" if value is None else timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class Command(BaseCommand):
    help = "Show schedules, the task queue, failed playbook steps and messages, the pipeline."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the API's JSON")
        parser.add_argument(
            "--check",
            action="store_true",
            help="exit 1 when a run or message gave up, or a task failed in the last day",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        summary = operations_summary()
        if options["json"]:
            self.stdout.write(json.dumps(summary, cls=DjangoJSONEncoder, indent=2))
        else:
            self._print(summary)
        if options["check"]:
            gave_up_runs = PlaybookRun.objects.filter(status=RunStatus.FAILED).count()
            gave_up_messages = Message.objects.filter(status=MessageStatus.FAILED).count()
            if gave_up_runs or gave_up_messages or summary["queue"]["failed_last_day"]:
                raise CommandError(
                    f"failed: {gave_up_runs} playbook runs, {gave_up_messages} messages, "
                    f"{summary['queue']['failed_last_day']} tasks in the last day"
                )

    def _print(self, summary: dict[str, Any]) -> None:
        console = Console(file=self.stdout, width=140, soft_wrap=True)  # type: ignore[arg-type]
        queue = summary["queue"]
        console.print(
            f"[bold]Task queue[/bold]  waiting {queue['ready']} (+{queue['scheduled_later']} "
            f"later) · oldest waiting {_age(queue['oldest_waiting_seconds'])} · running "
            f"{queue['running']} · failed in 24 h {queue['failed_last_day']} · done in 24 h "
            f"{queue['succeeded_last_day']} · last worker {queue['last_worker'] or '—'} at "
            f"{_when(queue['last_worker_at'])}"
        )
        if queue["running_too_long"]:
            console.print(
                f"[yellow]{queue['running_too_long']} tasks running for over an hour: their "
                "worker was probably stopped.[/yellow]"
            )

        runs = Table(title=f"Failed playbook steps ({summary['failed_runs']['count']})")
        for column in ("run", "playbook", "customer", "state", "tries", "error"):
            runs.add_column(column)
        for r in summary["failed_runs"]["items"]:
            state = "gave up" if r["status"] == "failed" else f"retry {_when(r['next_at'])}"
            runs.add_row(
                str(r["id"]), r["playbook"], r["customer"], state, str(r["attempts"]), r["error"]
            )
        console.print(runs)

        count = summary["failed_messages"]["count"]
        messages = Table(title=f"Failed and retrying messages ({count})")
        for column in ("id", "channel", "to", "state", "tries", "error"):
            messages.add_column(column)
        for m in summary["failed_messages"]["items"]:
            state = "gave up" if m["status"] == "failed" else f"retry {_when(m['next_attempt_at'])}"
            messages.add_row(
                str(m["id"]), m["channel"], m["to"], state, str(m["attempts"]), m["error"]
            )
        console.print(messages)

        schedules = Table(title="Scheduled jobs (UTC)")
        for column in ("job", "when", "last due", "last result", "next due"):
            schedules.add_column(column)
        for s in summary["schedules"]:
            result = s["last_status"] or "—"
            if s["last_error"]:
                result += f": {s['last_error']}"
            last, next_due = _when(s["last_due_at"]), _when(s["next_due_at"])
            schedules.add_row(s["name"], s["description"], last, result, next_due)
        console.print(schedules)

        pipeline = Table(title="Daily pipeline, last runs")
        for column in ("step", "day", "started", "seconds", "result"):
            pipeline.add_column(column)
        for p in summary["pipeline"]:
            result = p["error"] or " · ".join(f"{k} {v}" for k, v in p["counts"].items())
            pipeline.add_row(
                p["step"],
                str(p["as_of"] or "—"),
                _when(p["started_at"]),
                "—" if p["seconds"] is None else f"{p['seconds']:.1f}",
                result,
            )
        console.print(pipeline)
