"""``tend cleanup``: the housekeeping the worker schedules, run now.

    tend cleanup                 # mark imports that lost their worker interrupted, delete old
                                 # import files, prune rate-limit counters
    tend cleanup --dry-run       # say what would be deleted
    tend cleanup --days 0        # also the files of imports that ended today

Import files: see ``tend.ingest.imports.cleanup`` (schedule ``import-files-cleanup``).
Rate-limit counters: see ``tend.ratelimit.actions.counters_prune`` (``ratelimit-prune``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from tend.ingest.imports.cleanup import import_files_cleanup
from tend.ratelimit.actions import counters_prune


class Command(BaseCommand):
    help = (
        "Mark imports whose worker stopped interrupted, delete uploaded import files no longer "
        "needed and prune rate-limit counters, now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="keep files of imports that ended within this many days "
            "(default TEND_IMPORT_FILE_RETENTION_DAYS)",
        )
        parser.add_argument("--dry-run", action="store_true", help="list, delete nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is not None and days < 0:
            raise CommandError("--days must be 0 or more")
        dry_run = options["dry_run"]
        result = import_files_cleanup(retention_days=days, dry_run=dry_run)
        if result.interrupted or options["verbosity"] > 1:
            text = (
                _(
                    "Would mark %(n)s running imports interrupted: their worker stopped (no "
                    "heartbeat for %(s)s s)."
                )
                if dry_run
                else _(
                    "Marked %(n)s running imports interrupted: their worker stopped (no "
                    "heartbeat for %(s)s s). Resume or cancel them with “tend import --resume "
                    "ID” or “tend import --cancel ID”."
                )
            )
            self.stdout.write(
                text % {"n": len(result.interrupted), "s": settings.TEND_IMPORT_STALE_SECONDS}
            )
            for pk in result.interrupted:
                self.stdout.write("  " + _("import #%(id)s interrupted") % {"id": pk})
        verb = "Would delete" if dry_run else "Deleted"
        kept = settings.TEND_IMPORT_FILE_RETENTION_DAYS if days is None else days
        self.stdout.write(
            f"{verb} {len(result.imports)} files of imports that ended over {kept} days ago "
            f"and {len(result.orphans)} files no import refers to "
            f"({result.bytes / 1_048_576:,.1f} MB)."
        )
        if options["verbosity"] > 1:
            for pk in result.imports:
                self.stdout.write(f"  import #{pk}")
            for name in result.orphans:
                self.stdout.write(f"  {name}")
        if not dry_run:
            self.stdout.write(f"Pruned {counters_prune()} idle rate-limit counters.")
