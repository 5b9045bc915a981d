"""PostgreSQL: the daily task keeps monthly partitions ready ahead and moves events that waited
in DEFAULT into their new month; ``tend events partitions`` shows them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command

from tend.activity.models import Event
from tend.activity.partitions import (
    DEFAULT,
    add_months,
    month_start,
    partition_name,
    partitions_ensure,
    partitions_list,
)
from tend.activity.tasks import events_partitions_maintain
from tend.activity.tests.conftest import partition_of, pg_only

pytestmark = [pytest.mark.django_db, pg_only]


def test_the_task_creates_the_months_ahead(settings) -> None:
    settings.TEND_EVENTS_PARTITIONS_AHEAD = 6
    current = month_start(datetime.now(UTC))
    events_partitions_maintain.call()
    starts = {p.start for p in partitions_list()}
    assert {add_months(current, n) for n in range(7)} <= starts
    assert events_partitions_maintain.call()["created"] == 0  # idempotent


def test_events_waiting_in_default_move_into_their_new_month() -> None:
    current = month_start(datetime.now(UTC))
    far = add_months(current, 8)
    at = datetime(far.year, far.month, 2, tzinfo=UTC)
    event = Event.objects.create(name="Planned", timestamp=at, message_id="planned")
    assert partition_of(event.pk) == DEFAULT

    done = partitions_ensure(ahead=8)
    assert done["moved"] == 1 and done["default_rows"] == 0
    assert partition_of(event.pk) == partition_name(far)
    assert Event.objects.get(pk=event.pk).message_id == "planned"
    Event.objects.filter(pk=event.pk).update(name="Planned!")
    assert Event.objects.get(message_id="planned").name == "Planned!"


def test_events_before_the_first_partition_stay_in_default_and_are_reported(capsys) -> None:
    Event.objects.create(name="Old", timestamp=datetime(1999, 1, 1, tzinfo=UTC))
    assert partitions_ensure(ahead=3)["default_rows"] == 1
    call_command("events", "partitions")
    out = capsys.readouterr().out
    assert partition_name(date.today().replace(day=1)) in out
    assert "1 events are in activity_event_default" in out
