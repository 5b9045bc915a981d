"""``/readyz``: may a load balancer send this process traffic?

Three checks, each answered ``ok`` or with a short reason:

- ``database``: ``SELECT 1`` answers. The error itself is logged, never returned (it can
  name the database host and user).
- ``migrations``: no migration of an installed app is unapplied (a web process started
  before ``tend migrate`` finished). Once it passes, the process remembers it: migrations do
  not get unapplied, and the check costs a migration-graph load.
- ``worker``: a ``tend worker`` wrote its heartbeat within ``TEND_READY_WORKER_MINUTES``;
  0 turns the check off (a web-only host whose workers are watched elsewhere).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tend.observability.models import WorkerBeat

log = logging.getLogger(__name__)

OK = "ok"
_migrations_ok = threading.Event()


def forget_migrations_check() -> None:
    """Check migrations again on the next call (tests; after a deploy in the same process)."""
    _migrations_ok.clear()


def _database() -> str:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        log.exception("readiness: the database did not answer")
        return "unreachable"
    return OK


def _migrations() -> str:
    if _migrations_ok.is_set():
        return OK
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:
        log.exception("readiness: could not read the migration state")
        return "unknown"
    if plan:
        return "unapplied"  # how many and which is for `tend showmigrations`, not the public
    _migrations_ok.set()
    return OK


def _worker(now: datetime) -> str:
    minutes = settings.TEND_READY_WORKER_MINUTES
    if minutes <= 0:
        return "not required"
    try:
        seen = WorkerBeat.objects.filter(seen_at__gte=now - timedelta(minutes=minutes)).exists()
    except Exception:
        log.exception("readiness: could not read worker heartbeats")
        return "unknown"
    return OK if seen else f"none seen in {minutes} min"


def readiness(now: datetime | None = None) -> tuple[bool, dict[str, str]]:
    """``(ready, {check: "ok" | reason})``; a check after a failed database is "skipped"."""
    checks = {"database": _database()}
    if checks["database"] == OK:
        checks["migrations"] = _migrations()
        checks["worker"] = _worker(now or timezone.now())
    else:
        checks["migrations"] = checks["worker"] = "skipped"
    ready = all(value in {OK, "not required"} for value in checks.values())
    return ready, checks
