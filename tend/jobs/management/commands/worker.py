"""``tend worker``: runs queued background tasks and enqueues scheduled ones."""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from tend.accounts.audit_context import AuditOrigin, audit_origin
from tend.jobs.schedule import enqueue_due

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run background tasks from the database queue; also enqueue scheduled jobs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="queue poll seconds")
        parser.add_argument("--no-schedule", action="store_true", help="do not enqueue schedules")
        parser.add_argument("--batch", action="store_true", help="exit when the queue is empty")
        parser.add_argument(
            "--schedule-interval",
            type=float,
            default=30.0,
            help="seconds between looks at TEND_SCHEDULES (default 30; each due time is "
            "enqueued once whatever the number of workers)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        if not options["no_schedule"]:
            interval = max(0.1, float(options["schedule_interval"]))
            threading.Thread(target=self._schedule_loop, args=(stop, interval), daemon=True).start()
        try:
            worker_args = ["--interval", str(options["interval"])]
            if options["batch"]:
                worker_args.append("--batch")
            with audit_origin(AuditOrigin(via="worker")):  # tasks run in this thread
                call_command("db_worker", *worker_args)
        finally:
            stop.set()

    def _schedule_loop(self, stop: threading.Event, interval: float) -> None:
        while not stop.is_set():
            try:
                enqueue_due()
            except Exception:  # keep the loop alive; the error is logged with its cause
                log.exception("could not enqueue scheduled jobs")
            finally:
                close_old_connections()
            stop.wait(interval)
