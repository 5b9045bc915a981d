"""Importing CSV and XLSX files: ``import_file`` is the one entry point (CLI, web, Stripe backfill).

    result = import_file(kind="customers", path=Path("crm.xlsx"), mapping=None, by=user)

Rows are read one at a time and written in batches, each batch in its own transaction, so a
bad row is refused on its own and nothing already accepted is lost when a later row fails.
Every run, dry runs included, leaves an ``Import`` row; refused rows are kept with their reason.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import itertools
import json
import logging
import shutil
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from tend.accounts.actions import audit_record
from tend.accounts.models import User
from tend.customers.models import TimelineEntry, TimelineKind
from tend.ingest.actions import stats_add
from tend.ingest.imports.events import EventWriter
from tend.ingest.imports.fields import KINDS, TRAIT, TRAIT_KINDS, fields_for, suggest_mapping
from tend.ingest.imports.models import (
    Import,
    ImportBatch,
    ImportKind,
    ImportStatus,
    RejectedRow,
)
from tend.ingest.imports.problems import problems_sentence
from tend.ingest.imports.reading import FLAGS, Cleaner, open_table, safe_text
from tend.ingest.imports.stripe_export import StripeCustomerWriter, StripeSubscriptionWriter
from tend.ingest.imports.values import ValueMap
from tend.ingest.imports.writers import (
    ContactWriter,
    CustomerWriter,
    OrderWriter,
    Reject,
    SubscriptionWriter,
    Writer,
)
from tend.lib.db import db_datetime, insert_rows
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
log = logging.getLogger(__name__)

PREVIEW_PROBLEMS = 20


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
    # (field, value in the file, value read) → rows: values matched without a choice.
    auto: dict[tuple[str, str, str], int] = field(default_factory=dict)

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
        if name == TRAIT and kind in TRAIT_KINDS:
            if column not in headers:
                raise MappingError(_("The file has no column “%(column)s”.") % {"column": column})
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
    value_map: dict[str, dict[str, str]] | None = None,
    options: dict[str, Any] | None = None,
) -> Import:
    """Record a file waiting to be imported, with its headers and a suggested mapping.

    ``value_map`` and ``options`` are kept as given: check them first
    (``values.check_value_map``, ``import_options``)."""
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
        value_map=value_map or {},
        options=options or {},
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
    value_map: dict[str, dict[str, str]] | None = None,
    options: dict[str, Any] | None = None,
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
        value_map=value_map,
        options=options,
    )
    check_mapping(kind, run.headers, run.mapping)
    claimed = import_claim(run.pk, [ImportStatus.UPLOADED])
    assert claimed is not None  # just created by this process
    return import_run(run=claimed, progress=progress)


class ImportStateError(ValueError):
    """The import cannot do that in its present state (e.g. resume an import that is done)."""


class _Superseded(Exception):
    """This run no longer holds the import (marked interrupted, then resumed elsewhere)."""


class _Tracked(dict[int, int]):
    """A writer's ``affected`` map that remembers which customers changed since it was last
    asked, so each batch records only what it changed (see ``ImportBatch``)."""

    def __init__(self) -> None:
        super().__init__()
        self.changed: set[int] = set()

    def __setitem__(self, key: int, value: int) -> None:
        super().__setitem__(key, value)
        self.changed.add(key)

    def take(self) -> set[int]:
        changed, self.changed = self.changed, set()
        return changed


def heartbeat_seconds() -> float:
    """How often a running import writes its heartbeat: a sixth of the stale limit, ≤ 10 s."""
    return float(min(10.0, settings.TEND_IMPORT_STALE_SECONDS / 6))


def file_digest(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def event_id_prefix(digest: str) -> str:
    """Message ids of event rows that have none are ``file:<first 16 hex digits of the file's
    SHA-256>:<row number, 10 digits>``, so the same rows of the same file are stored once
    however often they are imported. Short, and rising with the row, for the unique index."""
    return f"file:{digest[:16]}:"


def import_claim(pk: int, statuses: Iterable[str], *, cancel: bool = False) -> Import | None:
    """Take an import in one of ``statuses`` for this process: running, the next attempt;
    None when it is in none of them (another process took it, or it ended)."""
    now = timezone.now()
    with transaction.atomic():
        claimed = Import.objects.filter(pk=pk, status__in=list(statuses)).update(
            status=ImportStatus.RUNNING,
            attempt=F("attempt") + 1,
            heartbeat_at=now,
            finished_at=None,
            error="",
            cancel_requested=cancel,
        )
        if not claimed:
            return None
        Import.objects.filter(pk=pk, started_at__isnull=True).update(started_at=now)
        return Import.objects.get(pk=pk)


def _reset(run: Import) -> None:
    """Forget a previous run of this record (its dry run): the next run starts at row one."""
    RejectedRow.objects.filter(run=run).delete()
    ImportBatch.objects.filter(run=run).delete()
    Import.objects.filter(pk=run.pk).update(
        rows_read=0,
        created=0,
        updated=0,
        unchanged=0,
        duplicates=0,
        rejected=0,
        reasons={},
        cleaning={},
        customers_affected=0,
        started_at=None,
        finished_at=None,
        heartbeat_at=None,
        cancel_requested=False,
        digest="",
        error="",
    )


def import_run(*, run: Import, progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Run an import this process has claimed (status running): validate, write in batches,
    summarise. It goes on from the last committed batch of an earlier attempt, if any.

    Each batch commits its rows together with the import's progress (rows done, counts,
    rejected rows, what the end of the run needs), so an attempt killed at any point leaves
    a record a later attempt continues without writing any row twice. Between batches it
    stops when asked to cancel, or when the import was handed to another attempt.
    """
    index = check_mapping(run.kind, run.headers, run.mapping)
    if run.status != ImportStatus.RUNNING:  # a recorded import run directly (tests, scripts)
        if import_claim(run.pk, [run.status]) is None:
            raise ImportStateError(_("This import changed meanwhile; look at it again."))
        run.refresh_from_db()
    attempt = run.attempt
    now = run.started_at or timezone.now()
    skip = run.rows_read
    cleaner = Cleaner(date_order=run.date_order)
    writer = WRITERS[run.kind](
        index=index, cleaner=cleaner, dry_run=run.dry_run, now=now, columns=len(run.headers)
    )
    writer.affected = _Tracked()
    writer.configure(
        values=ValueMap.of(run),
        by=run.created_by,
        traits=[
            (h, i) for i, h in enumerate(run.headers) if run.mapping.get(h) == TRAIT and h.strip()
        ],
    )
    result = ImportResult(run=run)
    reasons: Counter[str] = Counter()
    columns = {name: run.headers[i] for name, i in index.items()}
    canceled = run.cancel_requested
    try:
        with _heartbeat(run.pk, attempt):
            if skip or canceled:
                _restore(run, writer, result, reasons)
            if not canceled:
                canceled = _write_batches(
                    run, writer, result, reasons, columns, attempt, skip, progress
                )
            with transaction.atomic():
                writer.finish()
            result.created, result.updated = writer.created, writer.updated
            result.unchanged, result.duplicates = writer.unchanged, writer.duplicates
            result.reasons, result.cleaning = dict(reasons), dict(cleaner.counts)
            result.customers = len(writer.affected)
            result.auto = dict(writer.values.auto)
            _end(run, writer, result, attempt, now, canceled=canceled)
    except _Superseded:
        run.refresh_from_db()
        return result
    except Exception as exc:
        Import.objects.filter(pk=run.pk, attempt=attempt).update(
            status=ImportStatus.FAILED, finished_at=timezone.now(), error=str(exc)[:2000]
        )
        raise
    finally:
        writer.close()
    return result


def _write_batches(
    run: Import,
    writer: Writer,
    result: ImportResult,
    reasons: Counter[str],
    columns: dict[str, str],
    attempt: int,
    skip: int,
    progress: Callable[[int, int], None] | None,
) -> bool:
    """Write the file's batches after the first ``skip`` rows; True when asked to cancel."""
    path = Path(run.path)
    if not run.path or not path.is_file():
        raise ImportStateError(
            _("The file of this import is no longer kept; upload it again to import it.")
        )
    digest = file_digest(path)
    if run.digest and digest != run.digest:
        raise ImportStateError(
            _(
                "The file has changed since this import started, so it cannot go on where it "
                "stopped; import the file again."
            )
        )
    if not run.digest:
        Import.objects.filter(pk=run.pk).update(digest=digest)
        run.digest = digest
    if isinstance(writer, EventWriter):
        writer.rows.id_prefix = event_id_prefix(digest)
    affected = writer.affected
    assert isinstance(affected, _Tracked)
    result.rows = skip
    with open_table(path, name=run.file_name) as table:
        total = max(table.total, skip)
        if table.encoding not in ("", "utf-8", "utf-8-sig"):  # said on the summary
            writer.clean.counts[f": encoding_{table.encoding}"] = 1
        rows: Iterator[list[Any]] = iter(table.rows)
        if skip:
            _skip(rows, skip, writer, run)
        batches: Generator[Any, None, None] = _batches(
            rows, writer.batch_size, start=2 + skip, first=getattr(writer, "first_batch_size", 0)
        )
        if isinstance(writer, EventWriter):  # large files are parsed in a second process
            batches = writer.batches(batches, total=total - skip)
        with contextlib.closing(batches):
            for batch in batches:
                if Import.objects.filter(pk=run.pk, cancel_requested=True).exists():
                    return True
                with transaction.atomic():
                    rejects = writer.write(batch)
                    _keep_rejects(run, rejects, columns, result, reasons, more=writer.more)
                    result.rows += len(batch)
                    total = max(total, result.rows)
                    _commit_progress(run, writer, result, reasons, attempt, total, affected.take())
                if progress is not None:
                    progress(result.rows, total)
    return Import.objects.filter(pk=run.pk, cancel_requested=True).exists()


def _skip(rows: Iterator[list[Any]], skip: int, writer: Writer, run: Import) -> None:
    """Pass the rows an earlier attempt committed. Writers that refuse an id seen earlier in the
    file read them again (writing nothing) to know those ids; the counts stay as recorded."""
    head = itertools.islice(rows, skip)
    record = getattr(writer, "_record", None)
    if record is None or isinstance(writer, EventWriter):
        collections.deque(head, maxlen=0)
    else:
        for batch in _batches(head, writer.batch_size, start=2):
            writer.parse(batch, record)
        writer.more.clear()  # refused rows of those batches are kept already
    writer.clean.counts = dict(run.cleaning)
    for key, n in run.cleaning.items():  # values stored changed (see Cleaner.flag)
        what = key.rpartition(": ")[2]
        if what in FLAGS:
            writer.clean.flags[what] = writer.clean.flags.get(what, 0) + n


def _commit_progress(
    run: Import,
    writer: Writer,
    result: ImportResult,
    reasons: Counter[str],
    attempt: int,
    total: int,
    changed: set[int],
) -> None:
    """In the batch's transaction: the progress a later attempt goes on from."""
    saved = Import.objects.filter(pk=run.pk, status=ImportStatus.RUNNING, attempt=attempt).update(
        rows_read=result.rows,
        total_rows=total,
        created=writer.created,
        updated=writer.updated,
        unchanged=writer.unchanged,
        duplicates=writer.duplicates,
        rejected=result.rejected,
        reasons=dict(reasons),
        cleaning=dict(writer.clean.counts),
        customers_affected=len(writer.affected),
        heartbeat_at=timezone.now(),
    )
    if not saved:
        raise _Superseded  # rolls this batch back: the attempt that holds the import goes on
    state: dict[str, Any] = {"affected": {str(pk): writer.affected[pk] for pk in changed}}
    last_seen: dict[int, str] | None = getattr(writer, "last_seen", None)
    if last_seen:
        state["last_seen"] = {str(pk): last_seen[pk] for pk in changed if pk in last_seen}
    mrr: dict[int, tuple[Decimal, Decimal]] | None = getattr(writer, "mrr_changes", None)
    if mrr:
        state["mrr"] = {str(pk): [str(b), str(a)] for pk, (b, a) in mrr.items() if pk in changed}
    if changed:
        ImportBatch.objects.create(run=run, rows=result.rows, state=state)


def _restore(run: Import, writer: Writer, result: ImportResult, reasons: Counter[str]) -> None:
    """Take up the counts and state the committed batches of earlier attempts left."""
    writer.created, writer.updated = run.created, run.updated
    writer.unchanged, writer.duplicates = run.unchanged, run.duplicates
    writer.clean.counts = dict(run.cleaning)
    for key, n in run.cleaning.items():  # values stored changed (see Cleaner.flag)
        what = key.rpartition(": ")[2]
        if what in FLAGS:
            writer.clean.flags[what] = writer.clean.flags.get(what, 0) + n
    reasons.update(run.reasons)
    result.rejected = run.rejected
    result.rows = run.rows_read
    last_seen: dict[int, str] | None = getattr(writer, "last_seen", None)
    mrr: dict[int, tuple[Decimal, Decimal]] | None = getattr(writer, "mrr_changes", None)
    for batch in ImportBatch.objects.filter(run=run).order_by("rows", "pk").iterator():
        for pk, n in batch.state.get("affected", {}).items():
            writer.affected[int(pk)] = n
        if last_seen is not None:
            for pk, ts in batch.state.get("last_seen", {}).items():
                last_seen[int(pk)] = max(ts, last_seen.get(int(pk), ""))
        if mrr is not None:
            for pk, (before, after) in batch.state.get("mrr", {}).items():
                first = mrr.get(int(pk), (Decimal(before), Decimal(after)))[0]
                mrr[int(pk)] = (first, Decimal(after))
    affected = writer.affected
    if isinstance(affected, _Tracked):
        affected.take()


def _end(
    run: Import,
    writer: Writer,
    result: ImportResult,
    attempt: int,
    now: datetime,
    *,
    canceled: bool,
) -> None:
    """The summary, the timeline and the statistics, with the final status, in one transaction."""
    if canceled:
        status = ImportStatus.CANCELED
    else:
        status = ImportStatus.PREVIEWED if run.dry_run else ImportStatus.DONE
    with transaction.atomic():
        ended = Import.objects.filter(
            pk=run.pk, status=ImportStatus.RUNNING, attempt=attempt
        ).update(
            status=status,
            finished_at=timezone.now(),
            heartbeat_at=None,
            rows_read=result.rows,
            total_rows=result.rows if not canceled else max(result.rows, run.total_rows),
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            duplicates=result.duplicates,
            rejected=result.rejected,
            reasons=result.reasons,
            cleaning=result.cleaning,
            customers_affected=result.customers,
        )
        if not ended:
            raise _Superseded
        ImportBatch.objects.filter(run=run).delete()
        if not run.dry_run:
            _timeline(run, writer, now)
            flagged = sum(writer.clean.flags.values())  # rows stored with a value changed
            stats_add(
                source="import",
                accepted=max(result.accepted - flagged, 0),
                duplicates=result.duplicates,
                rejected=result.reasons,
                flagged=writer.clean.flags,
                at=now,
            )
            audit_record(
                by=run.created_by,
                action="import.cancel" if canceled else "import.run",
                obj=run,
                changes={"kind": run.kind, "file": run.file_name, "rows": result.rows},
            )
    run.refresh_from_db()


@contextlib.contextmanager
def _heartbeat(pk: int, attempt: int) -> Iterator[None]:
    """Write the import's heartbeat every few seconds from a thread while the body runs, also
    through long statements (a batch, statistics at the end). Not inside a transaction the
    thread could not see (tests), where the heartbeat of each batch is enough."""
    if connection.in_atomic_block:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(heartbeat_seconds()):
                try:
                    Import.objects.filter(
                        pk=pk, status=ImportStatus.RUNNING, attempt=attempt
                    ).update(heartbeat_at=timezone.now())
                except Exception:  # a busy database: the next beat tries again
                    log.warning("import %s: could not write the heartbeat", pk, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"import-{pk}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _batches(
    rows: Iterable[list[Any]], size: int, *, start: int = 2, first: int = 0
) -> Generator[list[tuple[int, list[Any]]], None, None]:
    """Rows in lists of ``size`` (the first of ``first`` when smaller), each row numbered as
    the spreadsheet numbers it."""
    numbered = zip(itertools.count(start), rows, strict=False)
    if 0 < first < size and (batch := list(itertools.islice(numbered, first))):
        yield batch
    while batch := list(itertools.islice(numbered, size)):
        yield batch


def _keep_rejects(
    run: Import,
    rejects: list[Reject],
    columns: dict[str, str],
    result: ImportResult,
    reasons: Counter[str],
    *,
    more: dict[int, list[tuple[str, str, str]]] | None = None,
) -> None:
    """Keep a batch's refused rows, each with every problem it has (the first in ``column``,
    ``reason``, ``value``; the others in ``problems``)."""
    if not rejects:
        return
    rows = []
    for number, name, reason, value, cells in sorted(rejects, key=lambda r: r[0]):
        column = columns.get(name, name)
        reasons[reason] += 1
        others = [
            [columns.get(f, f)[:255], r, safe_text(v[:255])]
            for f, r, v in (more.pop(number, []) if more is not None else [])
        ]
        if len(result.problems) < PREVIEW_PROBLEMS:
            result.problems.append(
                problems_sentence(row=number, problems=[[column, reason, value], *others])
            )
        rows.append(
            RejectedRow(
                run=run,
                row=number,
                column=column[:255],
                reason=reason,
                value=safe_text(value[:255]),
                values=["" if v is None else safe_text(str(v)) for v in cells],
                problems=others,
            )
        )
    RejectedRow.objects.bulk_create(rows, batch_size=2_000)
    result.rejected += len(rows)


def _timeline(run: Import, writer: Writer, at: datetime) -> None:
    """One entry per affected customer for the whole file, never one per row. Stored as a
    message id with its parameters; ``customers.timeline.describe`` words it for the reader."""
    changes = getattr(writer, "mrr_changes", {})
    stamp = db_datetime(at)

    def entries() -> Iterator[tuple[Any, ...]]:
        for pk, rows in writer.affected.items():
            data: dict[str, Any] = {
                "msg": "imported",
                "kind": run.kind,
                "rows": rows,
                "file": run.file_name,
                "import": run.pk,
            }
            if pk in changes:
                before, after = changes[pk]
                data["mrr"] = {
                    "before": str(before),
                    "after": str(after),
                    "currency": settings.TEND_CURRENCY,
                }
            yield (pk, TimelineKind.IMPORT, stamp, run.created_by_id, "", "", json.dumps(data))

    # COPY on PostgreSQL: a file touching 40,000 customers writes 40,000 entries.
    insert_rows(
        TimelineEntry, ["customer", "kind", "at", "author", "title", "body", "data"], entries()
    )


def import_start(*, run: Import, by: User, dry_run: bool) -> Import:
    """Queue a recorded import (or its dry run) for the background worker, from row one."""
    from tend.ingest.imports.tasks import import_process

    check_mapping(run.kind, run.headers, run.mapping)
    run.refresh_from_db()
    if run.is_active or run.status == ImportStatus.INTERRUPTED:
        # Starting over would forget what the run holding it has stored: resume or cancel it.
        raise ImportStateError(
            _("This import is running or interrupted; resume or cancel it before starting again.")
        )
    _reset(run)
    Import.objects.filter(pk=run.pk).update(status=ImportStatus.QUEUED, dry_run=dry_run)
    if not dry_run:
        # Who started it and from where; the worker's "import.run" row tells what it wrote.
        audit_record(
            by=by, action="import.start", obj=run, changes={"kind": run.kind, "file": run.file_name}
        )
    transaction.on_commit(lambda: import_process.enqueue(run.pk))
    run.refresh_from_db()
    return run


def imports_interrupt_stale(*, now: datetime | None = None, pk: int | None = None) -> list[int]:
    """Mark running imports whose worker stopped writing its heartbeat over
    ``TEND_IMPORT_STALE_SECONDS`` ago as interrupted; their ids. What their committed
    batches stored stays, with the counts of those batches, ready to resume or cancel."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.TEND_IMPORT_STALE_SECONDS)
    stale = (
        Import.objects.filter(status=ImportStatus.RUNNING)
        .annotate(beat=Coalesce("heartbeat_at", "started_at", "created_at"))
        .filter(beat__lt=cutoff)
        .order_by("pk")
    )
    if pk is not None:
        stale = stale.filter(pk=pk)
    marked: list[int] = []
    for run in stale.only("pk", "attempt", "heartbeat_at", "rows_read", "file_name", "kind"):
        with transaction.atomic():
            done = Import.objects.filter(
                pk=run.pk,
                status=ImportStatus.RUNNING,
                attempt=run.attempt,
                heartbeat_at=run.heartbeat_at,
            ).update(status=ImportStatus.INTERRUPTED, cancel_requested=False)
            if not done:
                continue  # it beat, ended or was taken meanwhile
            audit_record(
                by=None,
                action="import.interrupt",
                obj=run,
                changes={"rows": run.rows_read, "last_heartbeat": str(run.heartbeat_at)},
                label="cleanup",
            )
        log.warning(
            "import %s (%s, %s) lost its worker after %s rows: marked interrupted",
            run.pk,
            run.kind,
            run.file_name,
            run.rows_read,
        )
        marked.append(run.pk)
    return marked


def imports_requeue_lost(*, now: datetime | None = None) -> list[int]:
    """Queue again the queued imports whose task was lost; their ids.

    A worker killed after it took an import's task from the queue and before the task
    claimed the import (``import_claim``) leaves the import "queued" for ever, and its task
    "running" for ever (django-tasks-db does not notice dead workers). A queued import with
    no waiting task, and none running for less than ``TEND_IMPORT_STALE_SECONDS`` (the claim
    is the task's first statement), has lost its task. Enqueuing another is safe even when
    the first is merely slow: only one ``import_claim`` of a queued import succeeds, the
    other task does nothing. Only with the database queue (the immediate backend runs the
    task inside ``import_start``)."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    from tend.ingest.imports.tasks import import_process

    if not isinstance(import_process.get_backend(), DatabaseBackend):
        return []
    queued = list(
        Import.objects.filter(status=ImportStatus.QUEUED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not queued:
        return []
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.TEND_IMPORT_STALE_SECONDS)
    waiting: set[Any] = set()
    tasks = DBTaskResult.objects.filter(
        task_path=import_process.module_path, status__in=["READY", "RUNNING"]
    ).values_list("args_kwargs", "status", "started_at")
    for args_kwargs, status, started_at in tasks:
        if status == "RUNNING" and started_at is not None and started_at < cutoff:
            continue  # taken long ago and the import still queued: lost with its worker
        waiting.update((args_kwargs or {}).get("args", [])[:1])
    lost = [pk for pk in queued if pk not in waiting]
    for pk in lost:
        import_process.enqueue(pk)
        log.warning("queued import %s had lost its task (its worker died?): queued again", pk)
    return lost


def import_resume(*, run: Import, by: User | None) -> Import:
    """Queue an interrupted (or failed) import to go on after its last committed batch."""
    from tend.ingest.imports.tasks import import_process

    imports_interrupt_stale(pk=run.pk)
    run.refresh_from_db()
    if not run.is_resumable:
        raise ImportStateError(_resume_refusal(run))
    with transaction.atomic():
        queued = Import.objects.filter(pk=run.pk, status=run.status).update(
            status=ImportStatus.QUEUED, cancel_requested=False, error=""
        )
        if not queued:
            raise ImportStateError(_("This import changed meanwhile; look at it again."))
        audit_record(by=by, action="import.resume", obj=run, changes={"rows": run.rows_read})
        transaction.on_commit(lambda: import_process.enqueue(run.pk))
    run.refresh_from_db()
    return run


def import_resume_here(
    *, run: Import, by: User | None, progress: Callable[[int, int], None] | None = None
) -> ImportResult:
    """Resume an interrupted (or failed) import in this process (``tend import --resume``)."""
    imports_interrupt_stale(pk=run.pk)
    run.refresh_from_db()
    if not run.is_resumable:
        raise ImportStateError(_resume_refusal(run))
    audit_record(by=by, action="import.resume", obj=run, changes={"rows": run.rows_read})
    claimed = import_claim(run.pk, [run.status])
    if claimed is None:
        raise ImportStateError(_("This import changed meanwhile; look at it again."))
    return import_run(run=claimed, progress=progress)


def _resume_refusal(run: Import) -> str:
    if run.status in {ImportStatus.INTERRUPTED, ImportStatus.FAILED} and not run.attempt:
        return _(
            "This import ran before imports could be resumed; cancel it and import the file "
            "again (rows with message ids or external ids are not stored twice)."
        )
    if run.status in {ImportStatus.INTERRUPTED, ImportStatus.FAILED}:
        return _("The file of this import is no longer kept; upload it again to import it.")
    if run.is_active:
        return _("This import is still running; it can be resumed once it is interrupted.")
    return _("Only an interrupted or failed import can be resumed; this one is %(status)s.") % {
        "status": run.get_status_display()
    }


def import_cancel(*, run: Import, by: User | None) -> Import:
    """Cancel an import: a queued one never starts, a running one stops at its next batch
    boundary, an interrupted one ends where it stopped. What committed batches stored stays
    and the summary says how much it was."""
    imports_interrupt_stale(pk=run.pk)
    run.refresh_from_db()
    if not run.is_cancelable:
        raise ImportStateError(
            _(
                "Only a queued, running or interrupted import can be canceled; "
                "this one is %(status)s."
            )
            % {"status": run.get_status_display()}
        )
    if run.status == ImportStatus.RUNNING:
        with transaction.atomic():
            asked = Import.objects.filter(pk=run.pk, status=ImportStatus.RUNNING).update(
                cancel_requested=True
            )
            if asked:
                audit_record(by=by, action="import.cancel", obj=run, changes={"asked": True})
    elif (run.status == ImportStatus.QUEUED and not run.rows_read) or not run.attempt:
        # Nothing stored yet, or a run from before resumable imports: it just ends.
        with transaction.atomic():
            done = Import.objects.filter(pk=run.pk, status=run.status).update(
                status=ImportStatus.CANCELED, finished_at=timezone.now()
            )
            if done:
                audit_record(
                    by=by, action="import.cancel", obj=run, changes={"rows": run.rows_read}
                )
    else:
        # Batches were stored: end the run as a finished one would (timeline, statistics,
        # last-seen times) for what they stored, here and now.
        claimed = import_claim(run.pk, [run.status], cancel=True)
        if claimed is not None:
            import_run(run=claimed)
    run.refresh_from_db()
    return run
