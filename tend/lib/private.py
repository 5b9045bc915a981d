"""Files and folders only Tend's own user may read: the data folder, the SQLite database, the
generated secret key, uploaded import files, rejected-row files and the demo login.

Modes are given when a file or folder is created (0600 / 0700), whatever the umask; files that
already exist keep the mode their owner gave them (``tend check --deploy`` warns when the data
folder is open to others, check ``tend.W030``).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO, Any

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) if needed; a folder Tend creates gets 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 unless it exists (SQLite then gives its -wal and
    -shm files the same mode)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    return path


def open_private(path: Path, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """``open(path, mode)`` for writing, creating the file with mode 0600."""
    if mode not in {"w", "wb", "x", "xb"}:
        raise ValueError(f"open_private writes; mode {mode!r} is not one of w, wb, x, xb")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if mode.startswith("x") else os.O_TRUNC)
    return os.fdopen(os.open(path, flags, FILE_MODE), mode.replace("x", "w"), **kwargs)
