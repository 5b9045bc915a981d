"""``tend events partitions [--ensure]``: the events table's monthly partitions (PostgreSQL).

Lists each partition with its range, estimated rows (from the planner's statistics) and size
on disk, DEFAULT last with its exact row count; ``--ensure`` first does what the daily
``events-partitions`` schedule does: partitions ready ``TEND_EVENTS_PARTITIONS_AHEAD`` months
ahead, rows that waited in DEFAULT moved into their month. See docs/events-storage.md.
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from rich.console import Console
from rich.table import Table

from tend.activity.partitions import DEFAULT, partitions_ensure, partitions_list


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n:.1f} TB"


class Command(BaseCommand):
    help = "Show (and with --ensure, create ahead) the events table's monthly partitions."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="partitions")
        listing = actions.add_parser("partitions", help="the monthly partitions of events")
        listing.add_argument(
            "--ensure",
            action="store_true",
            help="create the partitions ahead now and move rows out of DEFAULT",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["ensure"]:
            done = partitions_ensure(ahead=settings.TEND_EVENTS_PARTITIONS_AHEAD)
            self.stdout.write(
                f"{done['created']} partitions created, {done['moved']} events moved out of DEFAULT"
            )
        partitions = partitions_list()
        if not partitions:
            self.stdout.write(
                "The events table is not partitioned (partitioning is for PostgreSQL)."
            )
            return
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {DEFAULT}")
            (in_default,) = cursor.fetchone()
        table = Table("Partition", "From (UTC)", "To (UTC)", "Rows (est.)", "Size", title="Events")
        for p in partitions:
            table.add_row(
                p.name,
                str(p.start) if p.start else "DEFAULT",
                str(p.end) if p.end else "",
                f"{in_default:,}" if p.is_default else f"~{p.rows_estimate:,}",
                _size(p.bytes),
            )
        buffer = io.StringIO()
        Console(file=buffer, width=120).print(table)
        self.stdout.write(buffer.getvalue(), ending="")
        if in_default:
            self.stdout.write(
                f"{in_default} events are in {DEFAULT}: their months have no partition "
                "(see docs/events-storage.md)."
            )
