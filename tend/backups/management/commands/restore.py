"""``tend restore FILE``: restore a backup into an empty database and data folder.

Refuses, before touching anything, a file that is not a Tend backup, a damaged or truncated
one, a wrong passphrase, a backup of another database vendor or from a newer Tend, and a target
that is not empty (docs/backups.md, "Restore"). ``--check`` reads and checks the whole backup
and writes nothing: a restore drill without a spare machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from tend.backups.actions import backup_check, backup_restore
from tend.backups.archive import BackupError
from tend.backups.passphrase import passphrase_read
from tend.backups.queries import size_text


class Command(BaseCommand):
    help = "Restore a backup written by tend backup into an empty database (docs/backups.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the backup file")
        parser.add_argument(
            "--passphrase-file",
            help="the passphrase of an encrypted backup, on this file's first line "
            "(else TEND_BACKUP_PASSPHRASE)",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="only read the backup and check every checksum; restore nothing",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"]).expanduser()
        try:
            passphrase = passphrase_read(options["passphrase_file"])
            if options["check"]:
                manifest = backup_check(path=path, passphrase=passphrase)
                self.stdout.write(
                    _(
                        "The backup is complete and every checksum matches: %(vendor)s database, "
                        "%(n)d files, %(size)s, taken %(at)s by Tend %(version)s."
                    )
                    % {
                        "vendor": manifest.vendor,
                        "n": len(manifest.members),
                        "size": size_text(manifest.total_size),
                        "at": manifest.data.get("created_at", "?"),
                        "version": manifest.data.get("tend_version", "?"),
                    }
                )
                return
            result = backup_restore(path=path, passphrase=passphrase)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            _("Restored the backup of %(at)s: the %(vendor)s database and %(n)d uploaded files.")
            % {
                "at": result.manifest.data.get("created_at", "?"),
                "vendor": result.manifest.vendor,
                "n": result.files,
            }
        )
        if result.secret_key == "restored":
            self.stdout.write(_("The generated secret key was restored too."))
        elif result.secret_key == "skipped":
            self.stdout.write(
                _(
                    "The backup holds a generated secret key; TEND_SECRET_KEY is set, so it was "
                    "not used (links in emails sent before the backup stop working unless "
                    "TEND_SECRET_KEY is the same as then)."
                )
            )
        if result.older_schema:
            self.stdout.write(
                _("The backup is from an older Tend: run `tend migrate` before starting Tend.")
            )
