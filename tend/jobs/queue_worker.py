"""django-tasks-db's queue worker, with a first SIGTERM/SIGINT that cannot lose a task.

django-tasks-db's worker exits at once on the first signal when it is not running a task
(``running_task`` false). But that flag is set only once the task starts, after the worker
has committed its claim (status "running", its worker id): a signal in between — a deploy
stopping workers while one just took a task — exits with the task claimed and never run,
"running" for ever. Here the first signal only asks the loop to stop: a task being claimed
is run to its end first, an idle worker leaves after its current wait (``--interval``). A
second signal still stops at once, as before (the task it interrupts is lost, as with a kill).
Found by tend/tests/test_multiprocess_e2e.py, which stops a worker with SIGTERM under load.
"""

from __future__ import annotations

import logging
from types import FrameType
from typing import Any

from django_tasks_db.management.commands import db_worker

log = logging.getLogger("django_tasks_db")


class Worker(db_worker.Worker):
    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        if not self.running:  # a second signal: stop now
            super().shutdown(signum, frame)
            return
        log.warning("Received a signal - stopping after the task in hand, if any (again: now)")
        self.running = False


class Command(db_worker.Command):
    """``db_worker`` with the worker above (``tend worker`` runs it)."""

    def handle(self, *args: Any, **options: Any) -> None:
        real = db_worker.Worker
        db_worker.Worker = Worker  # type: ignore[misc]  # its handle builds the worker by this name
        try:
            super().handle(*args, **options)
        finally:
            db_worker.Worker = real  # type: ignore[misc]
