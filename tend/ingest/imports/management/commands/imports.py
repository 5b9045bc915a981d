"""``tend imports``: the imports, newest first, with their status and what they stored.

    tend imports                      # the last 20
    tend imports --status interrupted # those whose worker stopped part-way
    tend imports --limit 100

Running imports whose worker stopped (no heartbeat for ``TEND_IMPORT_STALE_SECONDS``) are
marked interrupted first. ``tend import --resume ID`` / ``--cancel ID`` act on one.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _
from rich.console import Console
from rich.table import Table

from tend.ingest.imports.actions import imports_interrupt_stale
from tend.ingest.imports.models import Import, ImportStatus


class Command(BaseCommand):
    help = "List imports, newest first, with their status; interrupted ones can be resumed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--status", choices=ImportStatus.values, help="only this status")
        parser.add_argument("--limit", type=int, default=20, help="how many (default 20)")

    def handle(self, *args: Any, **options: Any) -> None:
        imports_interrupt_stale()
        runs = Import.objects.recent()
        if options["status"]:
            runs = runs.filter(status=options["status"])
        console = Console(file=self.stdout, highlight=False, width=120)  # type: ignore[arg-type]
        table = Table(title=_("Imports"))
        for name in (_("ID"), _("When"), _("Kind"), _("File"), _("Status")):
            table.add_column(name)
        for name in (_("Rows done"), _("Accepted"), _("Rejected")):
            table.add_column(name, justify="right")
        interrupted = False
        for run in runs[: max(options["limit"], 1)]:
            status = str(run.get_status_display())
            if run.dry_run:
                status += " · " + _("dry run")
            if run.cancel_requested and run.is_active:
                status += " · " + _("canceling…")
            interrupted = interrupted or run.status == ImportStatus.INTERRUPTED
            table.add_row(
                str(run.pk),
                run.created_at.strftime("%Y-%m-%d %H:%M"),
                str(run.get_kind_display()),
                run.file_name,
                status,
                f"{run.rows_read:,}",
                f"{run.accepted:,}",
                f"{run.rejected:,}",
            )
        console.print(table)
        if interrupted:
            console.print(
                _(
                    "Interrupted imports stopped part-way; “tend import --resume ID” goes on "
                    "after the last stored row, “tend import --cancel ID” stops for good."
                )
            )
