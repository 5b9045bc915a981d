"""``tend import KIND FILE``: load a CSV or XLSX file of customers, contacts, subscriptions,
orders or events, or a Stripe Dashboard export, with a progress bar and a summary.

    tend import customers crm.xlsx
    tend import events events.csv --mapping "uid=customer,ts=timestamp" --dry-run
    tend import orders orders.csv --date-order mdy --user olivia
    tend import stripe_subscriptions subscriptions.csv   # backfill from Stripe
    tend import customers crm.csv --map-values "plan:Starter=basic" \
        --map-values "channel:web=organic"
    tend import customers crm.csv --map-values-file values.json --create-missing-plans \
        --create-missing-channels --owner olivia --stage trial
    tend import --resume 42      # go on with interrupted import 42 after its last batch
    tend import --cancel 42      # stop import 42 for good; what it stored stays

Values of the file that are not Tend's (plan "Starter", country "德国") are read through
``--map-values`` and, where the match is obvious, automatically; the command prints what it
read automatically and which columns it used, kept as traits or ignored.

Exits with status 3 when rows were rejected (they are written to a CSV whose path is
printed), and says so plainly when no row at all can be imported.
``tend imports`` lists the imports with their status.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.checks import Tags
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
from tend.ingest.imports.fields import KINDS, TRAIT, fields_for, parse_mapping
from tend.ingest.imports.models import Import, ImportStatus
from tend.ingest.imports.problems import cleaning_lines, reason_label
from tend.ingest.imports.queries import rejected_csv_write
from tend.ingest.imports.reading import FileError
from tend.ingest.imports.values import (
    ValueMapError,
    check_options,
    check_value_map,
    parse_map_values,
)

MAX_VALUE_FILE = 2 * 1024 * 1024  # bytes of a --map-values-file

REJECTED_EXIT = 3


class Command(BaseCommand):
    help = (
        "Import customers, contacts, subscriptions, orders or events from a CSV or XLSX file, "
        "or backfill from Stripe's customers or subscriptions export."
    )
    # Every system check but the URL ones: those import the whole URL tree (the REST API's
    # pydantic schemas), which an import never serves — a second or more of start-up, a
    # sixth of a 640,000-row events import. `tend serve`, `tend migrate` and `tend check`
    # still run them.
    requires_system_checks = [
        tag for name, tag in vars(Tags).items() if not name.startswith("_") and tag != Tags.urls
    ]

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
        parser.add_argument(
            "--map-values",
            action="append",
            default=[],
            metavar="FIELD:VALUE=TO",
            help='read a value of the file as one of Tend\'s, e.g. "plan:Starter=basic", '
            '"country:德国=DE" (repeatable)',
        )
        parser.add_argument(
            "--map-values-file",
            type=Path,
            metavar="JSON",
            help='a JSON file of values to map: {"plan": {"Starter": "basic"}, …}',
        )
        parser.add_argument(
            "--create-missing-plans",
            action="store_true",
            help="a plan value that matches no plan creates one (price from the row, else 0/month)",
        )
        parser.add_argument(
            "--create-missing-channels",
            action="store_true",
            help="a channel value that matches none of your acquisition channels creates one",
        )
        parser.add_argument(
            "--owner",
            default="",
            metavar="USERNAME",
            help="owner of customers whose row names none",
        )
        parser.add_argument(
            "--stage", default="", help="lifecycle stage of new customers whose row sets none"
        )

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
        value_map, import_options = self._values(options)
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
                    value_map=value_map,
                    options=import_options,
                )
            except (MappingError, FileError) as exc:
                raise CommandError(str(exc)) from None
        self._columns(console, result)
        self._summary(console, result)

    def _values(self, options: dict[str, Any]) -> tuple[dict[str, dict[str, str]], dict[str, Any]]:
        """``--map-values``, ``--map-values-file`` and the options, checked (every problem
        named at once)."""
        kind = options["kind"]
        try:
            given: dict[str, dict[str, str]] = {}
            path: Path | None = options["map_values_file"]
            if path is not None:
                if not path.is_file():
                    raise CommandError(_("No such file: %(path)s") % {"path": path})
                if path.stat().st_size > MAX_VALUE_FILE:
                    raise CommandError(_("The value map file is larger than 2 MB."))
                try:
                    data = json.loads(path.read_text(encoding="utf-8-sig"))
                except (ValueError, UnicodeError) as exc:
                    raise CommandError(
                        _("The value map file is not JSON: %(error)s") % {"error": exc}
                    ) from None
                given = check_value_map(kind, data)
            flags = parse_map_values(options["map_values"])
            for name, pairs in check_value_map(kind, flags).items():
                given.setdefault(name, {}).update(pairs)
            extra = check_options(
                kind,
                create_plans=options["create_missing_plans"],
                create_channels=options["create_missing_channels"],
                owner=options["owner"],
                stage=options["stage"],
            )
        except ValueMapError as exc:
            raise CommandError(str(exc)) from None
        return given, extra

    def _columns(self, console: Console, result: ImportResult) -> None:
        """Which columns filled which field, which were kept as traits, which were ignored;
        and the values read automatically."""
        run = result.run
        labels = {f.name: str(f.label) for f in fields_for(run.kind)}
        used, traits, ignored = [], [], []
        for header in run.headers:
            name = run.mapping.get(header, "")
            if name == TRAIT:
                traits.append(header)
            elif name:
                used.append(f"{header} → {labels.get(name, name)}")
            else:
                ignored.append(header or "—")
        none = _("none")
        console.print(_("Columns used: %(columns)s") % {"columns": "; ".join(used) or none})
        if run.kind in ("customers", "contacts"):
            console.print(
                _("Columns kept as traits: %(columns)s") % {"columns": ", ".join(traits) or none}
            )
        console.print(_("Columns ignored: %(columns)s") % {"columns": ", ".join(ignored) or none})
        if result.auto:
            console.print(_("Values read automatically (--map-values to read them otherwise):"))
            for (name, value, code), n in sorted(result.auto.items()):
                console.print(
                    "  "
                    + _("%(field)s: “%(value)s” → %(code)s (%(n)s rows)")
                    % {"field": labels.get(name, name), "value": value, "code": code, "n": n}
                )

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
            empty = not (result.accepted or result.duplicates or result.rows)
            if empty and run.status in {ImportStatus.DONE, ImportStatus.PREVIEWED}:
                raise CommandError(_("The file holds no rows to import."), returncode=REJECTED_EXIT)
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
        if not result.accepted:
            raise CommandError(
                _(
                    "No row of this file can be imported: all %(n)s rows were rejected. They "
                    "are in %(path)s with a reason column; fix them, or map their values "
                    "(--map-values), and import again."
                )
                % {"n": f"{result.rejected:,}", "path": out},
                returncode=REJECTED_EXIT,
            )
        raise CommandError(
            _("%(n)s rows were rejected; they are in %(path)s with a reason column.")
            % {"n": f"{result.rejected:,}", "path": out},
            returncode=REJECTED_EXIT,
        )
