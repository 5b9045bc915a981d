"""``tend import KIND FILE``: load a CSV or XLSX file of customers, contacts, subscriptions,
orders or events, or a Stripe Dashboard export, with a progress bar and a summary.

    tend import customers crm.xlsx
    tend import events events.csv --mapping "uid=customer,ts=timestamp" --dry-run
    tend import orders orders.csv --date-order mdy --user olivia
    tend import stripe_subscriptions subscriptions.csv   # backfill from Stripe
    tend import --resume 42      # go on with interrupted import 42 after its last batch
    tend import --cancel 42      # stop import 42 for good; what it stored stays

Exits with status 3 when rows were rejected; they are written to a CSV whose path is printed.
``tend imports`` lists the imports with their status.
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
from tend.ingest.imports.actions import (
    ImportResult,
    ImportStateError,
    MappingError,
    import_cancel,
    import_file,
    import_resume_here,
    imports_dir,
)
from tend.ingest.imports.fields import KINDS, parse_mapping
from tend.ingest.imports.models import Import, ImportStatus
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
        parser.add_argument("kind", choices=KINDS, nargs="?")
        parser.add_argument("file", type=Path, nargs="?")
        parser.add_argument(
            "--resume",
            type=int,
            metavar="ID",
            help="go on with an interrupted (or failed) import after its last committed batch",
        )
        parser.add_argument(
            "--cancel",
            type=int,
            metavar="ID",
            help="cancel a queued, running or interrupted import; what it stored stays",
        )
        parser.add_argument(
            "--mapping",
            default="",
            help='column=field pairs overriding the suggested mapping, e.g. "Kunde=customer"',
        )
        parser.add_argument("--dry-run", action="store_true", help="check every row, write none")
        parser.add_argument("--date-order", choices=["dmy", "mdy"], default="dmy")
        parser.add_argument("--user", default="", help="username recorded as running the import")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["resume"] is not None or options["cancel"] is not None:
            if options["kind"] or options["file"]:
                raise CommandError(_("--resume and --cancel take an import id, not a file."))
            self._again(options)
            return
        if not options["kind"] or not options["file"]:
            raise CommandError(
                _("Give the kind and the file, e.g. “tend import customers crm.csv”.")
            )
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
        console = self._console()
        progress = self._progress(console, options)
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
        self._summary(console, result)

    def _console(self) -> Console:
        return Console(file=self.stdout, highlight=False, width=100)  # type: ignore[arg-type]

    def _progress(self, console: Console, options: dict[str, Any]) -> Progress:
        return Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=options["verbosity"] == 0,
        )

    def _again(self, options: dict[str, Any]) -> None:
        """``--resume ID`` (here, with a progress bar) or ``--cancel ID``."""
        pk = options["resume"] if options["resume"] is not None else options["cancel"]
        run = Import.objects.filter(pk=pk).first()
        if run is None:
            raise CommandError(_("No import #%(id)s; “tend imports” lists them.") % {"id": pk})
        by = None
        if options["user"]:
            by = User.objects.filter(username=options["user"]).first()
            if by is None:
                raise CommandError(f"No user named {options['user']!r}")
        console = self._console()
        if options["cancel"] is not None:
            try:
                run = import_cancel(run=run, by=by)
            except ImportStateError as exc:
                raise CommandError(str(exc)) from None
            if run.status == ImportStatus.CANCELED:
                console.print(
                    _(
                        "Import #%(id)s canceled after %(rows)s rows of the file: %(created)s "
                        "created, %(updated)s updated, %(rejected)s rejected; that stays."
                    )
                    % {
                        "id": run.pk,
                        "rows": f"{run.rows_read:,}",
                        "created": f"{run.created:,}",
                        "updated": f"{run.updated:,}",
                        "rejected": f"{run.rejected:,}",
                    }
                )
            else:
                console.print(
                    _("Import #%(id)s stops after the batch it is writing.") % {"id": run.pk}
                )
            return
        progress = self._progress(console, options)
        with progress:
            task = progress.add_task(f"#{run.pk} {run.kind} ← {run.file_name}", total=None)

            def tick(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            try:
                result = import_resume_here(run=run, by=by, progress=tick)
            except (ImportStateError, MappingError) as exc:
                raise CommandError(str(exc)) from None
        self._summary(console, result)

    def _summary(self, console: Console, result: ImportResult) -> None:
        run = result.run
        run.refresh_from_db()
        if run.status == ImportStatus.CANCELED:
            console.print(
                _("Canceled after %(rows)s rows of the file; what they stored stays.")
                % {"rows": f"{run.rows_read:,}"}
            )
        elif run.status == ImportStatus.INTERRUPTED:  # taken over by another attempt
            console.print(_("This import was handed to another run; see “tend imports”."))
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
        stem = Path(run.file_name).stem or "import"
        out = rejected_csv_write(run, imports_dir() / f"rejected-{run.pk}-{stem}.csv")
        raise CommandError(
            _("%(n)s rows were rejected; they are in %(path)s with a reason column.")
            % {"n": f"{result.rejected:,}", "path": out},
            returncode=REJECTED_EXIT,
        )
