"""Importing CSV and XLSX files: ``import_file`` is the one entry point (CLI, web, Stripe backfill).

    result = import_file(kind="customers", path=Path("crm.xlsx"), mapping=None, by=user)

Rows are read one at a time and written in batches, each batch in its own transaction, so a
bad row is refused on its own and nothing already accepted is lost when a later row fails.
Every run, dry runs included, leaves an ``Import`` row; refused rows are kept with their reason.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tend.accounts.actions import audit_record
from tend.accounts.models import User
from tend.customers.models import TimelineEntry, TimelineKind
from tend.ingest.actions import stats_add
from tend.ingest.imports.events import EventWriter
from tend.ingest.imports.fields import KINDS, fields_for, suggest_mapping
from tend.ingest.imports.models import Import, ImportKind, ImportStatus, RejectedRow
from tend.ingest.imports.problems import problem_sentence
from tend.ingest.imports.reading import Cleaner, open_table, safe_text
from tend.ingest.imports.stripe_export import StripeCustomerWriter, StripeSubscriptionWriter
from tend.ingest.imports.writers import (
    ContactWriter,
    CustomerWriter,
    OrderWriter,
    Reject,
    SubscriptionWriter,
    Writer,
)
from tend.lib.private import open_private, private_dir

WRITERS: dict[str, type[Writer]] = {
    ImportKind.CUSTOMERS: CustomerWriter,
    ImportKind.CONTACTS: ContactWriter,
    ImportKind.SUBSCRIPTIONS: SubscriptionWriter,
    ImportKind.ORDERS: OrderWriter,
    ImportKind.EVENTS: EventWriter,
    ImportKind.STRIPE_CUSTOMERS: StripeCustomerWriter,
    ImportKind.STRIPE_SUBSCRIPTIONS: StripeSubscriptionWriter,
}
PREVIEW_PROBLEMS = 20
TIMELINE_CHUNK = 2_000


class MappingError(ValueError):
    """The column mapping cannot work: a required field has no column, or a field is unknown."""


@dataclass
class ImportResult:
    run: Import
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    cleaning: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # the first few, as sentences
    customers: int = 0

    @property
    def accepted(self) -> int:
        return self.created + self.updated + self.unchanged


def imports_dir() -> Path:
    return private_dir(Path(settings.DATA_DIR) / "imports")


def import_store(*, source: Path | Any, file_name: str) -> Path:
    """Copy an uploaded or given file under DATA_DIR/imports so a worker can read it later."""
    suffix = Path(file_name).suffix.lower()[:8] or ".csv"
    target = imports_dir() / f"{uuid.uuid4().hex}{suffix}"
    with open_private(target, "wb") as out:  # 0600: customer data
        if isinstance(source, Path):
            with source.open("rb") as fh:
                shutil.copyfileobj(fh, out)
        else:
            for chunk in source.chunks():
                out.write(chunk)
    return target


def check_mapping(kind: str, headers: list[str], mapping: dict[str, str]) -> dict[str, int]:
    """{field: column index} for a mapping; MappingError names what is missing or unknown."""
    known = {f.name for f in fields_for(kind)}
    index: dict[str, int] = {}
    for column, name in mapping.items():
        if not name:
            continue
        if name not in known:
            raise MappingError(
                _("“%(field)s” is not a field of a %(kind)s import; fields are: %(fields)s")
                % {"field": name, "kind": kind, "fields": ", ".join(sorted(known))}
            )
        if column not in headers:
            raise MappingError(_("The file has no column “%(column)s”.") % {"column": column})
        if name in index:
            raise MappingError(
                _("Two columns are mapped to “%(field)s”; choose one.") % {"field": name}
            )
        index[name] = headers.index(column)
    missing = [f for f in fields_for(kind) if f.required and f.name not in index]
    if missing:
        raise MappingError(
            _("Missing required column: %(fields)s. Map a column of the file to it.")
            % {"fields": ", ".join(str(f.label) for f in missing)}
        )
    return index


def import_create(
    *,
    kind: str,
    path: Path,
    file_name: str,
    by: User | None,
    mapping: dict[str, str] | None = None,
    date_order: str = "dmy",
    dry_run: bool = False,
) -> Import:
    """Record a file waiting to be imported, with its headers and a suggested mapping."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    with open_table(path, name=file_name) as table:
        headers, total = table.headers, table.total
    suggested = suggest_mapping(kind, headers)
    if mapping:
        suggested.update(mapping)
    return Import.objects.create(
        kind=kind,
        file_name=file_name[:255],
        path=str(path),
        headers=headers,
        mapping=suggested,
        date_order=date_order,
        dry_run=dry_run,
        created_by=by if by is not None and by.pk else None,
        total_rows=total,
    )


def import_file(
    *,
    kind: str,
    path: Path,
    mapping: dict[str, str] | None = None,
    by: User | None = None,
    dry_run: bool = False,
    date_order: str = "dmy",
    file_name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import one file (CSV or XLSX) of ``kind``; ``mapping`` overrides the suggested one.

    Raises MappingError before touching anything when required columns are not mapped.
    """
    run = import_create(
        kind=kind,
        path=path,
        file_name=file_name or path.name,
        by=by,
        mapping=mapping,
        date_order=date_order,
        dry_run=dry_run,
    )
    check_mapping(kind, run.headers, run.mapping)
    return import_run(run=run, progress=progress)


def import_run(*, run: Import, progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Run (or re-run) a recorded import: validate, write in batches, summarise."""
    index = check_mapping(run.kind, run.headers, run.mapping)
    now = timezone.now()
    Import.objects.filter(pk=run.pk).update(status=ImportStatus.RUNNING, started_at=now, error="")
    RejectedRow.objects.filter(run=run).delete()
    cleaner = Cleaner(date_order=run.date_order)
    writer = WRITERS[run.kind](
        index=index, cleaner=cleaner, dry_run=run.dry_run, now=now, columns=len(run.headers)
    )
    result = ImportResult(run=run)
    reasons: Counter[str] = Counter()
    columns = {name: run.headers[i] for name, i in index.items()}
    try:
        with open_table(Path(run.path), name=run.file_name) as table:
            total = table.total
            if table.encoding not in ("", "utf-8", "utf-8-sig"):  # said on the summary
                cleaner.note("", f"encoding_{table.encoding}")
            batches: Generator[Any, None, None] = _batches(table.rows, writer.batch_size)
            if isinstance(writer, EventWriter):  # large files are parsed in a second process
                batches = writer.batches(batches, total=total)
            with contextlib.closing(batches):
                for batch in batches:
                    with transaction.atomic():
                        rejects = writer.write(batch)
                        _keep_rejects(run, rejects, columns, result, reasons)
                    result.rows += len(batch)
                    total = max(total, result.rows)
                    Import.objects.filter(pk=run.pk).update(
                        rows_read=result.rows, total_rows=total, rejected=result.rejected
                    )
                    if progress is not None:
                        progress(result.rows, total)
        with transaction.atomic():
            writer.finish()
    except Exception as exc:
        Import.objects.filter(pk=run.pk).update(
            status=ImportStatus.FAILED, finished_at=timezone.now(), error=str(exc)[:2000]
        )
        raise
    result.created, result.updated = writer.created, writer.updated
    result.unchanged, result.duplicates = writer.unchanged, writer.duplicates
    result.reasons, result.cleaning = dict(reasons), dict(cleaner.counts)
    result.customers = len(writer.affected)
    with transaction.atomic():
        if not run.dry_run:
            _timeline(run, writer, now)
            flagged = sum(cleaner.flags.values())  # rows stored with a value changed
            stats_add(
                source="import",
                accepted=max(result.accepted - flagged, 0),
                duplicates=result.duplicates,
                rejected=result.reasons,
                flagged=cleaner.flags,
                at=now,
            )
        run.status = ImportStatus.PREVIEWED if run.dry_run else ImportStatus.DONE
        run.finished_at = timezone.now()
        run.rows_read, run.total_rows = result.rows, result.rows
        run.created, run.updated, run.unchanged = result.created, result.updated, result.unchanged
        run.duplicates, run.rejected = result.duplicates, result.rejected
        run.reasons, run.cleaning = result.reasons, result.cleaning
        run.customers_affected = result.customers
        run.save()
        if not run.dry_run:
            audit_record(
                by=run.created_by,
                action="import.run",
                obj=run,
                changes={"kind": run.kind, "file": run.file_name, "rows": result.rows},
            )
    return result


def _batches(
    rows: Iterable[list[Any]], size: int
) -> Generator[list[tuple[int, list[Any]]], None, None]:
    """Rows in lists of ``size``, each row numbered as the spreadsheet numbers it."""
    numbered = zip(itertools.count(2), rows, strict=False)
    while batch := list(itertools.islice(numbered, size)):
        yield batch


def _keep_rejects(
    run: Import,
    rejects: list[Reject],
    columns: dict[str, str],
    result: ImportResult,
    reasons: Counter[str],
) -> None:
    if not rejects:
        return
    rows = []
    for number, name, reason, value, cells in sorted(rejects, key=lambda r: r[0]):
        column = columns.get(name, name)
        reasons[reason] += 1
        if len(result.problems) < PREVIEW_PROBLEMS:
            result.problems.append(
                problem_sentence(row=number, column=column, reason=reason, value=value)
            )
        rows.append(
            RejectedRow(
                run=run,
                row=number,
                column=column[:255],
                reason=reason,
                value=safe_text(value[:255]),
                values=["" if v is None else safe_text(str(v)) for v in cells],
            )
        )
    RejectedRow.objects.bulk_create(rows, batch_size=2_000)
    result.rejected += len(rows)


def _timeline(run: Import, writer: Writer, at: datetime) -> None:
    """One entry per affected customer for the whole file, never one per row."""
    kind_label = str(ImportKind(run.kind).label).lower()
    changes = getattr(writer, "mrr_changes", {})
    entries = []
    for pk, rows in writer.affected.items():
        body = ""
        if pk in changes:
            before, after = changes[pk]
            body = _("MRR %(before)s → %(after)s %(currency)s") % {
                "before": before,
                "after": after,
                "currency": settings.TEND_CURRENCY,
            }
        entries.append(
            TimelineEntry(
                customer_id=pk,
                kind=TimelineKind.IMPORT,
                at=at,
                author=run.created_by,
                title=(
                    _("Imported %(rows)s rows of %(kind)s from %(file)s")
                    % {"rows": rows, "kind": kind_label, "file": run.file_name}
                )[:200],
                body=body,
                data={"msg": "imported", "kind": run.kind, "rows": rows, "import": run.pk},
            )
        )
    TimelineEntry.objects.bulk_create(entries, batch_size=TIMELINE_CHUNK)


def import_start(*, run: Import, by: User, dry_run: bool) -> Import:
    """Queue a recorded import (or its dry run) for the background worker."""
    from tend.ingest.imports.tasks import import_process

    check_mapping(run.kind, run.headers, run.mapping)
    Import.objects.filter(pk=run.pk).update(
        status=ImportStatus.QUEUED, dry_run=dry_run, rows_read=0, error=""
    )
    transaction.on_commit(lambda: import_process.enqueue(run.pk))
    run.refresh_from_db()
    return run
