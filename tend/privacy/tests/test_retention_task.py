"""The retention task removes exactly what is past each setting (half-open at UTC midnight),
keeps every rollup-based number the same, recounts missing rollups before purging, and a dry
run changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils.module_loading import import_string

from tend.accounts.models import AuditEntry
from tend.activity.actions import rollups_rebuild
from tend.activity.models import DailyRollup, Event
from tend.customers.queries import activity_by_day
from tend.factories import make_customer
from tend.health.measures import active_days_compute, event_count_compute
from tend.ingest.imports.models import Import, ImportStatus, RejectedRow
from tend.ingest.tracking.models import PendingEvent
from tend.messaging.models import Channel, DeliveryAttempt, Message, MessageStatus
from tend.privacy.models import RetentionRun
from tend.privacy.retention import retention_apply, retention_cutoffs, retention_preview

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 10, 30, tzinfo=UTC)
CUTOFF = datetime(2026, 5, 16, tzinfo=UTC)  # 30 days before 15 June, at UTC midnight
TICK = timedelta(microseconds=1)


@pytest.fixture(autouse=True)
def _retention(settings: Any) -> None:
    settings.TEND_RETENTION_EVENTS_DAYS = 30
    settings.TEND_RETENTION_REJECTED_ROWS_DAYS = 30
    settings.TEND_RETENTION_AUDIT_DAYS = 30
    settings.TEND_RETENTION_MESSAGES_DAYS = 30


def _event(customer: Any, at: datetime, name: str = "login") -> Event:
    return Event.objects.create(customer=customer, name=name, timestamp=at)


def _rollups() -> dict[tuple[int, date, str], int]:
    return {(r.customer_id, r.day, r.name): r.count for r in DailyRollup.objects.all()}


def _numbers(customers: list[Any]) -> dict[str, Any]:
    ids = [c.pk for c in customers]
    as_of = NOW.date()
    return {
        "rollups": _rollups(),
        "activity": [activity_by_day(c, days=90, today=as_of) for c in customers],
        "active_days": active_days_compute(ids, as_of, {"days": 60}),
        "events_60": event_count_compute(ids, as_of, {"days": 60, "events": []}),
    }


def test_cutoffs_are_utc_midnights_n_days_back() -> None:
    cutoffs = retention_cutoffs(NOW)
    assert cutoffs["events"] == CUTOFF
    assert cutoffs["audit"] == CUTOFF


def test_events_before_the_cutoff_go_and_every_rollup_number_stays() -> None:
    acme, globex = make_customer(), make_customer()
    gone = [
        _event(acme, CUTOFF - TICK),
        _event(acme, CUTOFF - timedelta(days=10), "report"),
        _event(globex, CUTOFF - timedelta(days=20, hours=3)),
    ]
    kept = [_event(acme, CUTOFF), _event(globex, CUTOFF + timedelta(days=3)), _event(acme, NOW)]
    anonymous = Event.objects.create(customer=None, name="visit", timestamp=CUTOFF - TICK)
    PendingEvent.objects.create(event=anonymous, anonymous_id="anon-1")
    rollups_rebuild()
    before = _numbers([acme, globex])

    counts = retention_apply(NOW)

    assert counts["events"] == len(gone) + 1
    assert sorted(Event.objects.values_list("pk", flat=True)) == sorted(e.pk for e in kept)
    assert not PendingEvent.objects.exists()
    assert _numbers([acme, globex]) == before


def test_days_whose_rollups_are_missing_are_recounted_before_their_events_go() -> None:
    acme = make_customer()
    for hours in (1, 2, 30):
        _event(acme, CUTOFF - timedelta(hours=hours))
    _event(acme, CUTOFF + timedelta(hours=1))
    rollups_rebuild()
    complete = _rollups()
    # The day before the cutoff lost its rollups (e.g. events imported without them).
    DailyRollup.objects.filter(day=date(2026, 5, 15)).delete()

    preview, notes = retention_preview(NOW)
    assert preview["events"] == 3
    assert notes["events_rollups_to_recount"] == ["2026-05-15"]
    assert DailyRollup.objects.filter(day=date(2026, 5, 15)).count() == 0  # dry run

    retention_apply(NOW)

    assert _rollups() == complete
    run = RetentionRun.objects.get()
    assert run.notes["events_rollups_recounted"] == ["2026-05-15"]
    assert Event.objects.count() == 1


def test_rejected_rows_audit_and_messages_go_only_past_their_cutoff(tmp_path: Any) -> None:
    acme = make_customer()
    old = Import.objects.create(
        kind="customers",
        file_name="old.csv",
        status=ImportStatus.DONE,
        created_at=CUTOFF - timedelta(days=2),
        finished_at=CUTOFF - TICK,
    )
    edge = Import.objects.create(
        kind="customers",
        file_name="edge.csv",
        status=ImportStatus.DONE,
        created_at=CUTOFF - timedelta(days=2),
        finished_at=CUTOFF,
    )
    running = Import.objects.create(
        kind="customers",
        file_name="running.csv",
        status=ImportStatus.RUNNING,
        created_at=CUTOFF - timedelta(days=40),
    )
    for run in (old, edge, running):
        RejectedRow.objects.create(run=run, row=2, reason="bad_email", values=["x"])
    AuditEntry.objects.create(action="old", object_type="x", object_id="1", at=CUTOFF - TICK)
    kept_audit = AuditEntry.objects.create(action="edge", object_type="x", object_id="2", at=CUTOFF)
    sent_old = Message.objects.create(
        key="old",
        channel=Channel.EMAIL,
        status=MessageStatus.SENT,
        to="a@example.com",
        customer=acme,
        created_at=CUTOFF - TICK,
    )
    DeliveryAttempt.objects.create(message=sent_old, ok=True)
    queued_old = Message.objects.create(
        key="queued",
        channel=Channel.EMAIL,
        status=MessageStatus.QUEUED,
        to="a@example.com",
        created_at=CUTOFF - timedelta(days=5),
    )
    sent_edge = Message.objects.create(
        key="edge",
        channel=Channel.EMAIL,
        status=MessageStatus.SENT,
        to="a@example.com",
        created_at=CUTOFF,
    )

    counts = retention_apply(NOW)

    assert counts["rejected_rows"] == 1
    assert sorted(RejectedRow.objects.values_list("run__file_name", flat=True)) == [
        "edge.csv",
        "running.csv",
    ]
    assert Import.objects.count() == 3  # the records and their counts stay
    assert counts["audit"] == 1
    assert list(AuditEntry.objects.filter(action__in=["old", "edge"])) == [kept_audit]
    assert counts["messages"] == 1
    assert set(Message.objects.values_list("pk", flat=True)) == {queued_old.pk, sent_edge.pk}
    assert not DeliveryAttempt.objects.exists()


def test_a_dry_run_changes_nothing_and_records_no_run() -> None:
    acme = make_customer()
    _event(acme, CUTOFF - TICK)
    rollups_rebuild()
    AuditEntry.objects.create(action="old", object_type="x", object_id="1", at=CUTOFF - TICK)

    counts, _notes = retention_preview(NOW)

    assert counts["events"] == 1 and counts["audit"] == 1
    assert Event.objects.count() == 1
    assert AuditEntry.objects.filter(action="old").count() == 1
    assert not RetentionRun.objects.exists()


def test_zero_keeps_for_ever(settings: Any) -> None:
    settings.TEND_RETENTION_EVENTS_DAYS = 0
    settings.TEND_RETENTION_AUDIT_DAYS = 0
    acme = make_customer()
    _event(acme, datetime(2001, 1, 1, tzinfo=UTC))
    AuditEntry.objects.create(action="old", object_type="x", object_id="1", at=CUTOFF - TICK)

    counts = retention_apply(NOW)

    assert counts["events"] == 0 and counts["audit"] == 0
    assert Event.objects.count() == 1


def test_each_run_is_recorded_with_an_audit_row_and_runs_again_harmlessly() -> None:
    acme = make_customer()
    _event(acme, CUTOFF - TICK)
    _event(acme, NOW)
    rollups_rebuild()

    retention_apply(NOW)
    second = retention_apply(NOW)

    assert second["events"] == 0
    first_run, _second_run = RetentionRun.objects.order_by("pk")
    assert first_run.counts["events"] == 1
    assert first_run.cutoffs["events"] == CUTOFF.isoformat()
    assert first_run.oldest["events"] == NOW.isoformat()
    assert AuditEntry.objects.filter(action="retention.apply").count() == 2


def test_the_task_is_scheduled_daily_and_runs(settings: Any) -> None:
    spec = settings.TEND_SCHEDULES["retention-apply"]
    assert spec["cron"] == "20 3 * * *"
    task = import_string(spec["task"])
    task.call()
    assert RetentionRun.objects.count() == 1


def test_the_cli_dry_run_lists_each_kind_and_changes_nothing(capsys: Any) -> None:
    acme = make_customer()
    _event(acme, datetime(2020, 1, 1, tzinfo=UTC))
    rollups_rebuild()

    call_command("retention", "--dry-run")

    out = capsys.readouterr().out
    assert "Raw events" in out and "Audit entries" in out and "Nothing was changed" in out
    assert Event.objects.count() == 1

    call_command("retention")
    assert Event.objects.count() == 0
    assert RetentionRun.objects.count() == 1
