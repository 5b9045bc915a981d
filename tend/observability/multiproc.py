"""prometheus-client's multiprocess mode for ``tend serve`` (several gunicorn workers).

``metrics_folder_prepare`` runs in ``tend serve`` before the WSGI application (and so
prometheus-client) is loaded: it makes ``$TEND_DATA_DIR/prometheus/serve-<pid>``, removes the
folders of servers that are no longer running (their pid is gone), and sets
``PROMETHEUS_MULTIPROC_DIR`` so every gunicorn worker writes there. One folder per server, so
two ``tend serve`` on one host (two ports, a test beside a demo) never mix or wipe each
other's counts. ``worker_exit`` tells prometheus-client a gunicorn worker died, so the
in-flight gauge forgets it; a restarted worker gets a new pid and its own files.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings

from tend.observability.prom_env import MULTIPROC_ENV


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def metrics_folder_prepare() -> Path:
    base = Path(settings.DATA_DIR) / "prometheus"
    base.mkdir(mode=0o700, exist_ok=True)
    for old in base.glob("serve-*"):
        pid = old.name.removeprefix("serve-")
        if not pid.isdigit() or not _alive(int(pid)) or int(pid) == os.getpid():
            shutil.rmtree(old, ignore_errors=True)
    folder = base / f"serve-{os.getpid()}"
    folder.mkdir(mode=0o700)
    os.environ[MULTIPROC_ENV] = str(folder)
    return folder


def metrics_folder_remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def worker_exit(server: Any, worker: Any) -> None:
    """gunicorn's ``child_exit`` hook."""
    from prometheus_client import multiprocess

    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(worker.pid)
