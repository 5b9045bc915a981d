"""Reads for the data-quality page: what arrived, what was refused and why, per source and day."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from tend.accounts.models import ApiKey, ApiKeyKind, AuditEntry
from tend.activity.models import Event
from tend.ingest.models import IngestStat, Outcome, Source


@dataclass
class SourceSummary:
    source: str
    label: str
    accepted: int = 0
    duplicates: int = 0
    flagged: int = 0
    rejected: int = 0
    last_at: datetime | None = None

    @property
    def total(self) -> int:
        return self.accepted + self.duplicates + self.flagged + self.rejected

    @property
    def rejection_rate(self) -> float | None:
        """Rejected ÷ (accepted + duplicates + flagged + rejected), as a percentage."""
        return 100.0 * self.rejected / self.total if self.total else None


@dataclass
class DataQuality:
    since: date
    days: int
    sources: list[SourceSummary]
    by_day: list[dict[str, Any]]
    reasons: list[dict[str, Any]]
    unknown_events: int
    unknown_senders: int
    top_unknown: list[dict[str, Any]] = field(default_factory=list)
    keys: list[ApiKey] = field(default_factory=list)
    # Set when this database holds data made by ``tend demo-data`` (which arrives through no
    # source, so none of the counts above include it): when, and how much.
    demo: dict[str, Any] | None = None


def data_quality(*, days: int = 30, today: date | None = None) -> DataQuality:
    """Everything the data-quality page shows for the last ``days`` UTC days (today included)."""
    today = today or timezone.now().astimezone(UTC).date()
    since = today - timedelta(days=days - 1)
    stats = IngestStat.objects.filter(day__gte=since, day__lte=today)

    summaries = {s.value: SourceSummary(source=s.value, label=str(s.label)) for s in Source}
    for row in stats.values("source", "outcome").annotate(n=Sum("count"), last=Max("last_at")):
        summary = summaries.setdefault(
            row["source"], SourceSummary(source=row["source"], label=row["source"])
        )
        _add(summary, row["outcome"], int(row["n"] or 0))
        if summary.last_at is None or (row["last"] and row["last"] > summary.last_at):
            summary.last_at = row["last"]

    days_rows: dict[tuple[date, str], SourceSummary] = {}
    for row in stats.values("day", "source", "outcome").annotate(n=Sum("count")):
        key = (row["day"], row["source"])
        day_summary = days_rows.setdefault(
            key, SourceSummary(source=row["source"], label=summaries[row["source"]].label)
        )
        _add(day_summary, row["outcome"], int(row["n"] or 0))
    by_day = [
        {"day": day, "summary": s} for (day, _src), s in sorted(days_rows.items(), reverse=True)
    ]

    outcomes = dict(Outcome.choices)
    reasons = [
        {
            "source": summaries[row["source"]].label,
            "outcome": outcomes[row["outcome"]],
            "stored": row["outcome"] == Outcome.FLAGGED,
            "reason": row["reason"],
            "count": row["n"],
        }
        for row in stats.filter(outcome__in=[Outcome.REJECTED, Outcome.FLAGGED])
        .values("source", "outcome", "reason")
        .annotate(n=Sum("count"))
        .order_by("-n", "source", "reason")
    ]

    start = datetime(since.year, since.month, since.day, tzinfo=UTC)
    unknown = Event.objects.filter(customer__isnull=True, received_at__gte=start)
    unknown_counts = unknown.aggregate(
        events=Count("id"),
        users=Count("user_id", distinct=True, filter=~Q(user_id="")),
        anonymous=Count("anonymous_id", distinct=True, filter=Q(user_id="")),
    )
    top_unknown = list(
        unknown.values("user_id", "anonymous_id")
        .annotate(events=Count("id"), last=Max("received_at"))
        .order_by("-events")[:10]
    )
    keys = list(
        ApiKey.objects.active()
        .filter(kind__in=[ApiKeyKind.WRITE, ApiKeyKind.READ_WRITE])
        .select_related("created_by")
        .order_by("-last_used_at", "name")
    )
    return DataQuality(
        since=since,
        days=days,
        sources=list(summaries.values()),
        by_day=by_day,
        reasons=reasons,
        unknown_events=unknown_counts["events"],
        unknown_senders=unknown_counts["users"] + unknown_counts["anonymous"],
        top_unknown=top_unknown,
        keys=keys,
        demo=_demo_generation(),
    )


def _demo_generation() -> dict[str, Any] | None:
    """The latest ``tend demo-data`` run, if this database was filled by one."""
    entry = (
        AuditEntry.objects.filter(action="demo.generate", object_type="demo")
        .order_by("-at")
        .first()
    )
    if entry is None:
        return None
    changes = entry.changes or {}
    return {
        "at": entry.at,
        "business": entry.object_id,
        "customers": int(changes.get("customers") or 0),
        "events": int(changes.get("events") or 0),
    }


def _add(summary: SourceSummary, outcome: str, n: int) -> None:
    if outcome == Outcome.ACCEPTED:
        summary.accepted += n
    elif outcome == Outcome.DUPLICATE:
        summary.duplicates += n
    elif outcome == Outcome.FLAGGED:
        summary.flagged += n
    else:
        summary.rejected += n
