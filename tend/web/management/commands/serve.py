"""``tend serve``: the web app under gunicorn, optionally with a background worker beside it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve Tend over HTTP with gunicorn (and, with --with-worker, run a worker too)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("TEND_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("TEND_WEB_WORKERS", "2"))
        )
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument(
            "--with-worker",
            action="store_true",
            help="also start `tend worker` and stop it on exit",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from gunicorn.app.base import BaseApplication

        from tend.observability import multiproc

        # Before the application (and prometheus-client) loads: the gunicorn workers' shared
        # metrics folder (tend/observability/multiproc.py).
        metrics_folder = multiproc.metrics_folder_prepare()
        from tend.wsgi import application

        class App(BaseApplication):  # type: ignore[misc]
            def load_config(self) -> None:
                self.cfg.set("bind", options["bind"])
                self.cfg.set("workers", options["workers"])
                self.cfg.set("threads", options["threads"])
                self.cfg.set("accesslog", "-" if os.environ.get("TEND_ACCESS_LOG") else None)
                self.cfg.set("graceful_timeout", 10)
                # gunicorn's largest request line (default 4,094 bytes): room for a URL-encoded
                # `condition` on GET /api/v1/customers (docs/segments-filters.md).
                self.cfg.set("limit_request_line", 8190)
                # One control socket per user would be shared by every `tend serve` on the
                # machine (tests, benchmarks, a demo); Tend does not use gunicornc.
                self.cfg.set("control_socket_disable", True)
                self.cfg.set("child_exit", multiproc.worker_exit)

            def load(self) -> Any:
                return application

        worker = None
        if options["with_worker"]:
            worker = subprocess.Popen([sys.executable, "-m", "tend.cli", "worker"])
        try:
            App().run()
        finally:
            multiproc.metrics_folder_remove(metrics_folder)
            if worker is not None and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()
