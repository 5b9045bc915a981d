"""Where a backup's passphrase comes from: a file (its first line) or TEND_BACKUP_PASSPHRASE.

Never from the command line: other users of the machine can read a process's arguments.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.utils.translation import gettext as _

from tend.backups.archive import BackupError

ENV = "TEND_BACKUP_PASSPHRASE"
MIN_LENGTH = 12


def passphrase_read(file: str | Path | None = None) -> str:
    """The passphrase from ``file`` if given, else from the environment; "" when neither."""
    if file:
        try:
            with Path(file).open(encoding="utf-8") as fh:
                value = fh.readline().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise BackupError(
                _("Cannot read the passphrase file %(file)s: %(error)s")
                % {"file": file, "error": getattr(exc, "strerror", None) or exc.__class__.__name__}
            ) from None
        if not value:
            raise BackupError(
                _("The passphrase file %(file)s is empty (the first line is the passphrase).")
                % {"file": file}
            )
        return value
    return os.environ.get(ENV, "")


def passphrase_check_new(value: str) -> None:
    """A passphrase that encrypts a new backup must be long enough to resist guessing."""
    if value and len(value) < MIN_LENGTH:
        raise BackupError(
            _("The passphrase must have at least %(n)d characters (a few random words).")
            % {"n": MIN_LENGTH}
        )
