"""``tend backup``: write a backup of the database and the uploaded files (docs/backups.md).

``tend backup`` writes a dated file into TEND_BACKUP_DIR; ``-o FILE`` writes FILE instead.
Encrypted when a passphrase is given (``--passphrase-file F`` or TEND_BACKUP_PASSPHRASE);
the passphrase is never printed. ``tend backup --list`` shows the backups in TEND_BACKUP_DIR.
``--keep N`` deletes all but the newest N there afterwards, as the scheduled backup does.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from rich.console import Console
from rich.table import Table

from tend.backups.actions import backup_create, backups_list, backups_prune
from tend.backups.archive import BackupError
from tend.backups.passphrase import passphrase_check_new, passphrase_read
from tend.backups.queries import size_text


class Command(BaseCommand):
    help = "Back up the database and the uploaded files into one archive (docs/backups.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "-o", "--output", help="the file to write (default: a dated file in TEND_BACKUP_DIR)"
        )
        parser.add_argument(
            "--passphrase-file",
            help="encrypt with the passphrase on this file's first line "
            "(else TEND_BACKUP_PASSPHRASE, if set)",
        )
        parser.add_argument(
            "--keep",
            type=int,
            help="afterwards, keep only the newest N backups in TEND_BACKUP_DIR",
        )
        parser.add_argument(
            "--list", action="store_true", help="list the backups in TEND_BACKUP_DIR"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            self._list()
            return
        try:
            passphrase = passphrase_read(options["passphrase_file"])
            passphrase_check_new(passphrase)
            output = Path(options["output"]).expanduser() if options["output"] else None
            result = backup_create(output=output, passphrase=passphrase)
            removed = []
            if options["keep"] is not None:
                if options["keep"] < 1:
                    raise BackupError(_("--keep must be 1 or more."))
                removed = backups_prune(keep=options["keep"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            _("Backup written: %(path)s (%(size)s, %(files)d uploaded files, %(how)s).")
            % {
                "path": result.path,
                "size": size_text(result.size),
                "files": result.files,
                "how": _("encrypted") if result.encrypted else _("not encrypted"),
            }
        )
        for path in removed:
            self.stdout.write(_("Deleted old backup %(path)s") % {"path": path})

    def _list(self) -> None:
        entries = backups_list()
        table = Table(_("Backup"), _("Taken (UTC)"), _("Size"), _("Encrypted"))
        for entry in entries:
            table.add_row(
                entry.path.name,
                entry.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                size_text(entry.size),
                _("yes") if entry.encrypted else _("no"),
            )
        buffer = io.StringIO()
        Console(file=buffer, width=120).print(table)
        self.stdout.write(buffer.getvalue(), ending="")
        self.stdout.write(
            _("%(n)d backup(s) in %(folder)s.")
            % {"n": len(entries), "folder": settings.TEND_BACKUP_DIR}
        )
