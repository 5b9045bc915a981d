"""``tend retention [--dry-run]``: remove data past its retention now (what the daily
"retention-apply" schedule does), or say what would go.

    tend retention --dry-run   # per kind: kept for, cutoff, rows that would go; nothing changes
    tend retention             # remove them and record the run (shown on the data-quality page)
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from rich.console import Console
from rich.table import Table

from tend.privacy.retention import (
    KINDS,
    oldest_held,
    retention_apply,
    retention_cutoffs,
    retention_days,
    retention_preview,
)


def _kept(days: int, zero_keeps: bool) -> str:
    if days == 0:
        return _("for ever") if zero_keeps else _("until the import ends")
    return _("%(n)d days") % {"n": days}


class Command(BaseCommand):
    help = "Remove events, rejected rows, audit entries, messages and import files past retention."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="show what would be removed; change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        dry_run = options["dry_run"]
        if dry_run:
            counts, notes = retention_preview(now)
        else:
            counts, notes = retention_apply(now), {}
        cutoffs = retention_cutoffs(now)
        oldest = oldest_held()
        console = Console(file=self.stdout, width=140, soft_wrap=True)  # type: ignore[arg-type]
        table = Table(title=_("Would remove (dry run)") if dry_run else _("Removed"))
        table.add_column(_("Data"))
        table.add_column(_("Kept"))
        table.add_column(_("Older than"))
        table.add_column(_("Would remove") if dry_run else _("Removed"), justify="right")
        table.add_column(_("Oldest held now"))
        for kind in KINDS:
            cutoff = cutoffs[kind.key]
            held = oldest.get(kind.key)
            table.add_row(
                str(kind.label),
                _kept(retention_days(kind), kind.zero_keeps),
                cutoff.strftime("%Y-%m-%d %H:%M UTC") if cutoff else "—",
                f"{counts[kind.key]:,}",
                held.strftime("%Y-%m-%d") if held else "—",
            )
        console.print(table)
        days = notes.get("events_rollups_to_recount") or []
        if days:
            console.print(
                _("Rollups of %(n)d days would be recounted from their events first: %(days)s")
                % {"n": len(days), "days": ", ".join(days[:10]) + (" …" if len(days) > 10 else "")}
            )
        if dry_run:
            console.print(_("Nothing was changed (dry run)."))
