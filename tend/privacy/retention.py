"""Removing data past its retention (``TEND_RETENTION_*``), once a day ("retention-apply").

Each kind of data has a setting in days (0 keeps it for ever) and a cutoff: rows older than
the cutoff go, a row exactly at it stays (half-open). Cutoffs are UTC midnights, so whole days
go and a day is never split between kept and removed.

- **events**: raw usage events. Their daily rollups stay, so everything that reads rollups
  (charts, health, metrics, segments) is unchanged. Before any event goes, the rollups of the
  days about to go are checked against the events (per UTC day: events with a customer vs the
  rollups' sum); a day whose rollups fall short is recounted from its events first, and a day
  still short after that is not purged (the run says so in ``notes``). Deleting goes through
  ``tend.activity.retention.events_purge_before`` (batched; whole partitions on PostgreSQL).
- **rejected_rows**: the rows an import refused, of imports that ended before the cutoff (the
  import's record and counts stay).
- **audit**: audit entries.
- **messages**: outgoing emails and webhook calls that ended (sent, failed, suppressed,
  canceled), with their delivery attempts.
- **import_files**: uploaded import files, by ``tend.ingest.imports.cleanup`` (which the
  "import-files-cleanup" schedule also runs); its setting's 0 means "as soon as the import
  ended", as it always has.

Every run is recorded (``RetentionRun``: counts, cutoffs, the oldest row left) with an audit
row; ``retention_preview`` counts what would go and changes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tend.accounts.actions import audit_record
from tend.accounts.models import AuditEntry
from tend.activity.models import DailyRollup, Event
from tend.activity.retention import events_purge_before
from tend.ingest.imports.cleanup import ENDED, import_files_cleanup
from tend.ingest.imports.models import Import, RejectedRow
from tend.ingest.tracking.models import PendingEvent
from tend.lib.db import chunks
from tend.messaging.models import Message, MessageStatus
from tend.privacy.models import RetentionRun

# Messages in these states are done with: nothing will send or retry them by itself.
MESSAGES_ENDED = (
    MessageStatus.SENT,
    MessageStatus.FAILED,
    MessageStatus.SUPPRESSED,
    MessageStatus.CANCELED,
)
DELETE_BATCH = 2_000  # messages per delete (each takes its attempts with it)


@dataclass(frozen=True)
class Kind:
    key: str
    label: Promise
    setting: str
    # What happens to it, for the data-quality page and the CLI.
    description: Promise
    # The setting's 0 keeps for ever (True), or removes at once (import files).
    zero_keeps: bool = True


KINDS = (
    Kind(
        "events",
        _("Raw events"),
        "TEND_RETENTION_EVENTS_DAYS",
        _("Usage events one by one; their daily counts per customer stay."),
    ),
    Kind(
        "rejected_rows",
        _("Rejected import rows"),
        "TEND_RETENTION_REJECTED_ROWS_DAYS",
        _("Rows an import refused, kept to be fixed and sent again; the import's summary stays."),
    ),
    Kind(
        "audit",
        _("Audit entries"),
        "TEND_RETENTION_AUDIT_DAYS",
        _("Who changed what, when and from where."),
    ),
    Kind(
        "messages",
        _("Sent messages"),
        "TEND_RETENTION_MESSAGES_DAYS",
        _("Emails and webhook calls that ended, with their delivery attempts."),
    ),
    Kind(
        "import_files",
        _("Import files"),
        "TEND_IMPORT_FILE_RETENTION_DAYS",
        _("Uploaded files, after their import ended; the import's record stays."),
        zero_keeps=False,
    ),
)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def retention_days(kind: Kind) -> int:
    return int(getattr(settings, kind.setting))


def retention_cutoffs(now: datetime | None = None) -> dict[str, datetime | None]:
    """What is older than each cutoff goes (None: kept for ever). Cutoffs are UTC midnights:
    ``days`` full days before today (UTC) are kept besides today."""
    now = now or timezone.now()
    today = now.astimezone(UTC).date()
    out: dict[str, datetime | None] = {}
    for kind in KINDS:
        days = retention_days(kind)
        if days == 0 and kind.zero_keeps:
            out[kind.key] = None
        elif kind.key == "import_files":
            out[kind.key] = now - timedelta(days=days)  # as import_files_cleanup counts it
        else:
            out[kind.key] = _midnight(today - timedelta(days=days))
    return out


# --- events and their rollups -----------------------------------------------------------------


def rollup_gaps(cutoff: datetime) -> list[date]:
    """UTC days before ``cutoff`` whose events (with a customer) outnumber their rollups: the
    days whose counts would be lost with their events. Days already purged are not looked at
    (they start at the oldest event still held)."""
    events = Event.objects.filter(customer__isnull=False, timestamp__lt=cutoff)
    first = events.aggregate(first=Min("timestamp"))["first"]
    if first is None:
        return []
    start = first.astimezone(UTC).date()
    per_day = dict(
        events.filter(timestamp__gte=_midnight(start))
        .annotate(day=TruncDate("timestamp", tzinfo=UTC))
        .order_by()
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    rolled = dict(
        DailyRollup.objects.filter(day__gte=start, day__lt=cutoff.astimezone(UTC).date())
        .order_by()
        .values("day")
        .annotate(n=Sum("count"))
        .values_list("day", "n")
    )
    return sorted(day for day, n in per_day.items() if n > (rolled.get(day) or 0))


@transaction.atomic
def rollups_recount_day(day: date) -> int:
    """Recount one UTC day's rollups from its events; returns the rows written."""
    DailyRollup.objects.filter(day=day)._raw_delete(DailyRollup.objects.db)  # type: ignore[attr-defined]
    counts = (
        Event.objects.filter(
            customer__isnull=False,
            timestamp__gte=_midnight(day),
            timestamp__lt=_midnight(day + timedelta(days=1)),
        )
        .order_by()
        .values("customer_id", "name")
        .annotate(n=Count("pk"))
        .values_list("customer_id", "name", "n")
    )
    rows = [DailyRollup(customer_id=c, day=day, name=name, count=n) for c, name, n in counts]
    DailyRollup.objects.bulk_create(rows, batch_size=2_000)
    return len(rows)


def _purge_events(cutoff: datetime, *, dry_run: bool, notes: dict[str, Any]) -> int:
    gaps = rollup_gaps(cutoff)
    if dry_run:
        if gaps:
            notes["events_rollups_to_recount"] = [d.isoformat() for d in gaps]
        return Event.objects.filter(timestamp__lt=cutoff).count()
    if gaps:
        for day in gaps:
            rollups_recount_day(day)
        notes["events_rollups_recounted"] = [d.isoformat() for d in gaps]
        still = rollup_gaps(cutoff)
        if still:
            # Should never happen (events arriving for those days meanwhile): keep the days
            # from the first one whose counts could not be verified.
            cutoff = _midnight(still[0])
            notes["events_held_from"] = still[0].isoformat()
    # Waiting (anonymous) events reference their event row; they go with it.
    PendingEvent.objects.filter(event__timestamp__lt=cutoff).delete()
    return events_purge_before(cutoff)


# --- the other kinds --------------------------------------------------------------------------


def _imports_ended_before(cutoff: datetime) -> QuerySet[Import]:
    return (
        Import.objects.filter(status__in=ENDED)
        .annotate(ended=Coalesce("finished_at", "created_at"))
        .filter(ended__lt=cutoff)
    )


def _purge_rejected_rows(cutoff: datetime, *, dry_run: bool) -> int:
    rows = RejectedRow.objects.filter(run__in=_imports_ended_before(cutoff).values("pk"))
    if dry_run:
        return rows.count()
    return int(rows.delete()[0])


def _purge_audit(cutoff: datetime, *, dry_run: bool) -> int:
    rows = AuditEntry.objects.filter(at__lt=cutoff)
    if dry_run:
        return rows.count()
    return int(rows._raw_delete(rows.db))  # type: ignore[attr-defined]


def _messages_past(cutoff: datetime) -> QuerySet[Message]:
    return Message.objects.filter(status__in=MESSAGES_ENDED, created_at__lt=cutoff)


def _purge_messages(cutoff: datetime, *, dry_run: bool) -> int:
    if dry_run:
        return _messages_past(cutoff).count()
    removed = 0
    ids = list(_messages_past(cutoff).order_by("pk").values_list("pk", flat=True))
    for chunk in chunks(ids, DELETE_BATCH):
        with transaction.atomic():
            # Attempts cascade; a suppression keeps its row and forgets the message.
            _deleted, per_model = Message.objects.filter(
                pk__in=chunk, status__in=MESSAGES_ENDED
            ).delete()
            removed += per_model.get(Message._meta.label, 0)
    return removed


# --- the oldest rows held ---------------------------------------------------------------------


def oldest_held(*, events: bool = True) -> dict[str, datetime | None]:
    """The oldest row of each kind Tend still holds (None: none). ``events=False`` skips the
    events table (no index on time alone: a full scan, fine for the daily run, not a page)."""
    with_rejects = Import.objects.filter(Exists(RejectedRow.objects.filter(run=OuterRef("pk"))))
    out: dict[str, datetime | None] = {
        "rejected_rows": with_rejects.aggregate(m=Min(Coalesce("finished_at", "created_at")))["m"],
        "audit": AuditEntry.objects.aggregate(m=Min("at"))["m"],
        "messages": _messages_past(timezone.now() + timedelta(days=1)).aggregate(
            m=Min("created_at")
        )["m"],
        "import_files": Import.objects.exclude(path="")
        .filter(Q(finished_at__isnull=False) | Q(status__in=ENDED))
        .aggregate(m=Min(Coalesce("finished_at", "created_at")))["m"],
    }
    if events:
        out["events"] = Event.objects.aggregate(m=Min("timestamp"))["m"]
    return out


# --- the run ----------------------------------------------------------------------------------


def _run(now: datetime, *, dry_run: bool) -> tuple[dict[str, int], dict[str, Any]]:
    cutoffs = retention_cutoffs(now)
    counts: dict[str, int] = {}
    notes: dict[str, Any] = {}
    for kind in KINDS:
        cutoff = cutoffs[kind.key]
        if cutoff is None:
            counts[kind.key] = 0
        elif kind.key == "events":
            counts[kind.key] = _purge_events(cutoff, dry_run=dry_run, notes=notes)
        elif kind.key == "rejected_rows":
            counts[kind.key] = _purge_rejected_rows(cutoff, dry_run=dry_run)
        elif kind.key == "audit":
            counts[kind.key] = _purge_audit(cutoff, dry_run=dry_run)
        elif kind.key == "messages":
            counts[kind.key] = _purge_messages(cutoff, dry_run=dry_run)
        else:
            counts[kind.key] = import_files_cleanup(now=now, dry_run=dry_run).files
    return counts, notes


def retention_apply(now: datetime | None = None) -> dict[str, int]:
    """Remove what is past each retention and record the run; returns what each kind lost
    (rows; files for import files)."""
    now = now or timezone.now()
    started = time.monotonic()
    counts, notes = _run(now, dry_run=False)
    oldest = oldest_held()
    cutoffs = retention_cutoffs(now)
    with transaction.atomic():
        run = RetentionRun.objects.create(
            started_at=now,
            seconds=round(time.monotonic() - started, 3),
            counts=counts,
            cutoffs={k: (v.isoformat() if v else None) for k, v in cutoffs.items()},
            oldest={k: (v.isoformat() if v else None) for k, v in oldest.items()},
            notes=notes,
        )
        audit_record(
            by=None, action="retention.apply", obj=run, changes=dict(counts), label="retention"
        )
    return counts


def retention_preview(now: datetime | None = None) -> tuple[dict[str, int], dict[str, Any]]:
    """What a run now would remove, per kind, and its notes (days whose rollups it would
    recount first). Changes nothing and records nothing."""
    return _run(now or timezone.now(), dry_run=True)


# --- what the data-quality page shows ---------------------------------------------------------


@dataclass
class RetentionRow:
    kind: Kind
    days: int
    oldest: datetime | None
    removed: int | None  # by the last run (None: no run yet)


@dataclass
class RetentionOverview:
    rows: list[RetentionRow]
    last_run: RetentionRun | None


def retention_overview() -> RetentionOverview:
    """Each kind of data, how long it is kept, the oldest row held, and the last run: a fixed
    handful of queries (the oldest event is the one the last run measured)."""
    last = RetentionRun.objects.order_by("-started_at", "-pk").first()
    oldest: dict[str, Any] = oldest_held(events=False)
    recorded = (last.oldest or {}).get("events") if last else None
    oldest["events"] = datetime.fromisoformat(recorded) if recorded else None
    rows = [
        RetentionRow(
            kind=kind,
            days=retention_days(kind),
            oldest=oldest.get(kind.key),
            removed=None if last is None else int((last.counts or {}).get(kind.key, 0)),
        )
        for kind in KINDS
    ]
    return RetentionOverview(rows=rows, last_run=last)
