"""``tend import KIND FILE``: load a CSV or XLSX file of customers, contacts, subscriptions,
orders or events, or a Stripe Dashboard export, with a progress bar and a summary.

    tend import customers crm.xlsx
    tend import events events.csv --mapping "uid=customer,ts=timestamp" --dry-run
    tend import orders orders.csv --date-order mdy --user olivia
    tend import stripe_subscriptions subscriptions.csv   # backfill from Stripe

Exits with status 3 when rows were rejected; they are written to a CSV whose path is printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from tend.accounts.models import User
from tend.ingest.imports.actions import MappingError, import_file, imports_dir
from tend.ingest.imports.fields import KINDS, parse_mapping
from tend.ingest.imports.problems import cleaning_lines, reason_label
from tend.ingest.imports.queries import rejected_csv_write
from tend.ingest.imports.reading import FileError

REJECTED_EXIT = 3


class Command(BaseCommand):
    help = (
        "Import customers, contacts, subscriptions, orders or events from a CSV or XLSX file, "
        "or backfill from Stripe's customers or subscriptions export."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--mapping",
            default="",
            help='column=field pairs overriding the suggested mapping, e.g. "Kunde=customer"',
        )
        parser.add_argument("--dry-run", action="store_true", help="check every row, write none")
        parser.add_argument("--date-order", choices=["dmy", "mdy"], default="dmy")
        parser.add_argument("--user", default="", help="username recorded as running the import")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        by = None
        if options["user"]:
            by = User.objects.filter(username=options["user"]).first()
            if by is None:
                raise CommandError(f"No user named {options['user']!r}")
        try:
            mapping = parse_mapping(options["mapping"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        console = Console(file=self.stdout, highlight=False, width=100)  # type: ignore[arg-type]
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=options["verbosity"] == 0,
        )
        with progress:
            task = progress.add_task(f"{options['kind']} ← {path.name}", total=None)

            def tick(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            try:
                result = import_file(
                    kind=options["kind"],
                    path=path,
                    mapping=mapping or None,
                    by=by,
                    dry_run=options["dry_run"],
                    date_order=options["date_order"],
                    progress=tick,
                )
            except (MappingError, FileError) as exc:
                raise CommandError(str(exc)) from None
        run = result.run
        table = Table(title=_("Dry run: nothing was written") if run.dry_run else _("Import"))
        table.add_column(_("Rows"))
        table.add_column(_("Count"), justify="right")
        for label, value in [
            (_("Read"), result.rows),
            (_("Created"), result.created),
            (_("Updated"), result.updated),
            (_("Unchanged"), result.unchanged),
            (_("Duplicates skipped"), result.duplicates),
            (_("Rejected"), result.rejected),
            (_("Customers affected"), result.customers),
        ]:
            table.add_row(str(label), f"{value:,}")
        console.print(table)
        columns = {run.mapping[h]: h for h in run.headers if run.mapping.get(h)}
        if result.cleaning:
            cleaned = Table(title=_("Cleaned"))
            for name in (_("Column"), _("What"), _("Rows")):
                cleaned.add_column(name)
            for line in cleaning_lines(result.cleaning, columns):
                cleaned.add_row(str(line["column"]), str(line["what"]), f"{line['count']:,}")
            console.print(cleaned)
        if not result.rejected:
            return
        reasons = Table(title=_("Rejected"))
        reasons.add_column(_("Reason"))
        reasons.add_column(_("Rows"), justify="right")
        for code, n in sorted(result.reasons.items(), key=lambda kv: -kv[1]):
            reasons.add_row(reason_label(code), f"{n:,}")
        console.print(reasons)
        for text in result.problems[:10]:
            console.print(f"  {text}")
        out = rejected_csv_write(run, imports_dir() / f"rejected-{run.pk}-{path.stem}.csv")
        raise CommandError(
            _("%(n)s rows were rejected; they are in %(path)s with a reason column.")
            % {"n": f"{result.rejected:,}", "path": out},
            returncode=REJECTED_EXIT,
        )
