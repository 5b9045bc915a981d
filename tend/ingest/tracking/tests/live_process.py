"""A real ``tend serve`` (gunicorn, two web processes, as in production) on the test database,
for tests that must kill it or need several processes to share something."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.db import connection

TEND = [sys.executable, "-m", "tend.cli"]
START_DEADLINE = 90.0  # seconds; a cold start on a busy 2-core machine takes a few


def database_url() -> str:
    """The URL of the database this test runs against (the test database, already migrated)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]

    def kill(self) -> None:
        """SIGKILL the whole process group at once: gunicorn's arbiter and every worker."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def _ready(server: Server) -> None:
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"tend serve exited during start-up:\n{server.output()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=0.1)  # returns at once if the server died
    raise AssertionError(f"tend serve did not answer /healthz in {START_DEADLINE} s")


def post_batch(
    server: Server, auth: str, body: dict[str, Any], *, timeout: float = 60
) -> tuple[int, bytes]:
    """POST ``body`` to the server's ``/v1/batch`` on a fresh connection: (status, answer)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request(
            "POST",
            "/v1/batch",
            body=json.dumps(body),
            headers={"Authorization": auth, "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def server_spawn(data_dir: Path, *, workers: int = 2, **env: str) -> Server:
    """Start ``tend serve --workers N`` on the test database on a free port, without waiting
    for it to answer (start several, then ``server_ready`` each). Kill it with ``kill``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TEND_")}
    environ.pop("PYTEST_CURRENT_TEST", None)
    environ.update(TEND_DATA_DIR=str(data_dir), TEND_DATABASE_URL=database_url(), **env)
    port = _free_port()
    log = data_dir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*TEND, "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so one killpg reaches all
        )
    return Server(process=process, port=port, log=log)


def server_ready(server: Server) -> None:
    """Wait until the server answers ``/healthz`` (AssertionError if it dies or is too slow)."""
    _ready(server)


@contextmanager
def tend_server(data_dir: Path, *, workers: int = 2, **env: str) -> Iterator[Server]:
    """``tend serve --workers N`` on the test database; killed (SIGKILL) on the way out."""
    server = server_spawn(data_dir, workers=workers, **env)
    try:
        _ready(server)
        yield server
    finally:
        server.kill()
        sessions_gone()


def sessions_gone() -> None:
    """Wait (30 s at most) until PostgreSQL has ended the killed server's sessions, so the test
    database can be dropped at the end of the run. SQLite has no sessions to wait for."""
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.1)


def worker_spawn(log: Path, *args: str, **env: str) -> subprocess.Popen[bytes]:
    """Start ``tend worker ARGS`` on the test database (queue and scheduler unless ``args``
    say otherwise), its output in ``log``; ``env`` adds to or overrides the environment
    (e.g. ``DJANGO_SETTINGS_MODULE`` for a settings module with test schedules)."""
    environ = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    environ.update(TEND_DATABASE_URL=database_url(), TEND_TASKS_IMMEDIATE="0", **env)
    with log.open("wb") as out:
        return subprocess.Popen(
            [*TEND, "worker", *args], env=environ, stdout=out, stderr=subprocess.STDOUT
        )
