"""Worker heartbeats: each ``tend worker`` process keeps one ``WorkerBeat`` row fresh.

``tend worker`` starts ``beat_loop`` in a thread beside the task loop. It writes its row at
once, then every ``BEAT_SECONDS``; on a clean stop it deletes the row. A worker killed with
``kill -9`` leaves its row, which stops getting fresher: ``/readyz`` then counts it as not
seen, the operations page shows its age, and after ``STALE_AFTER`` the next beat of any
worker deletes it.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from tend.observability.models import WorkerBeat

log = logging.getLogger(__name__)

BEAT_SECONDS = 30.0
STALE_AFTER = timedelta(days=1)


def host_name() -> str:
    return socket.gethostname()[:255] or "localhost"


def worker_beat(
    *, beat: WorkerBeat | None = None, now: datetime | None = None, task_worker_id: str = ""
) -> WorkerBeat:
    """Create this process's row (``beat`` None) or mark it seen now; prune stale rows."""
    now = now or timezone.now()
    if beat is None:
        beat = WorkerBeat.objects.create(
            host=host_name(),
            pid=os.getpid(),
            started_at=now,
            seen_at=now,
            task_worker_id=task_worker_id,
        )
    elif not WorkerBeat.objects.filter(pk=beat.pk).update(seen_at=now):
        # Pruned while this worker was paused (a suspended VM): come back as a new row.
        beat = WorkerBeat.objects.create(
            host=beat.host,
            pid=beat.pid,
            started_at=beat.started_at,
            seen_at=now,
            task_worker_id=beat.task_worker_id,
        )
    beat.seen_at = now
    WorkerBeat.objects.filter(seen_at__lt=now - STALE_AFTER).delete()
    return beat


def beat_loop(
    stop: threading.Event, interval: float = BEAT_SECONDS, task_worker_id: str = ""
) -> None:
    """Beat until ``stop`` is set, then delete this process's row."""
    beat: WorkerBeat | None = None
    while not stop.is_set():
        try:
            beat = worker_beat(beat=beat, task_worker_id=task_worker_id)
        except Exception:  # a database hiccup must not stop the worker; the next beat retries
            log.exception("could not write the worker heartbeat")
        finally:
            close_old_connections()
        stop.wait(interval)
    if beat is not None:
        try:
            WorkerBeat.objects.filter(pk=beat.pk).delete()
        except Exception:
            log.exception("could not delete the worker heartbeat")
        finally:
            close_old_connections()


def start_beating(stop: threading.Event, task_worker_id: str = "") -> threading.Thread:
    """Start ``beat_loop`` in a daemon thread (called by ``tend worker``).

    The worker leaves by ``sys.exit`` from its SIGTERM handler, which would end a daemon
    thread mid-way: at exit the loop is stopped and given a few seconds to delete its row."""
    thread = threading.Thread(
        target=beat_loop,
        args=(stop, BEAT_SECONDS, task_worker_id),
        name="tend-heartbeat",
        daemon=True,
    )
    thread.start()

    def _finish() -> None:
        stop.set()
        thread.join(timeout=5)

    atexit.register(_finish)
    return thread


@dataclass
class WorkerSeen:
    host: str
    pid: int
    started_at: datetime
    seen_at: datetime
    seconds: float  # since last seen
    alive: bool  # seen within the readiness window (or three beats when that is 0)


def recent_window() -> timedelta:
    """How recently a worker must have been seen to count as running."""
    minutes = settings.TEND_READY_WORKER_MINUTES
    return timedelta(minutes=minutes) if minutes > 0 else timedelta(seconds=3 * BEAT_SECONDS)


def workers_seen(now: datetime | None = None) -> list[WorkerSeen]:
    """Every kept heartbeat row, the freshest first (one query)."""
    now = now or timezone.now()
    window = recent_window()
    rows = []
    for beat in WorkerBeat.objects.order_by("-seen_at", "host", "pid")[:100]:
        age = max(0.0, (now - beat.seen_at).total_seconds())
        rows.append(
            WorkerSeen(
                host=beat.host,
                pid=beat.pid,
                started_at=beat.started_at,
                seen_at=beat.seen_at,
                seconds=age,
                alive=age <= window.total_seconds(),
            )
        )
    return rows
