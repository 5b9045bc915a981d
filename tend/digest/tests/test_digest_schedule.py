"""When digests go out: from TEND_DIGEST_HOUR in the business's time zone, daily or on
Mondays, once per user and day (the outbox key), never to viewers. Times are hand-computed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.conf import settings

from tend.accounts.models import Role
from tend.digest.actions import digest_day, digest_send, digests_send_due
from tend.digest.tests.helpers import person
from tend.messaging.models import Message

pytestmark = pytest.mark.django_db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(autouse=True)
def shanghai(settings: settings) -> None:  # type: ignore[valid-type]
    settings.TIME_ZONE = "Asia/Shanghai"  # UTC+8, no daylight saving
    settings.TEND_DIGEST_HOUR = 7


def test_daily_digest_waits_for_seven_local() -> None:
    # 2026-12-06 22:59 UTC = 2026-12-07 06:59 in Shanghai (a Monday): not yet.
    assert digest_day("daily", utc(2026, 12, 6, 22, 59)) is None
    # 23:00 UTC = 07:00 local, Monday 7 December: due, for the local day (not the UTC one).
    assert digest_day("daily", utc(2026, 12, 6, 23, 0)) == date(2026, 12, 7)
    # Late the same local day (15:59 UTC = 23:59 local) it is still that day's digest.
    assert digest_day("daily", utc(2026, 12, 7, 15, 59)) == date(2026, 12, 7)


def test_weekly_digest_only_on_mondays() -> None:
    assert digest_day("weekly", utc(2026, 12, 6, 23, 5)) == date(2026, 12, 7)  # Mon 07:05
    assert digest_day("weekly", utc(2026, 12, 7, 23, 5)) is None  # Tue 07:05
    assert digest_day("weekly", utc(2026, 12, 5, 23, 5)) is None  # Sun 07:05
    assert digest_day("off", utc(2026, 12, 6, 23, 5)) is None


def test_the_hour_moves_with_daylight_saving_time(settings: settings) -> None:  # type: ignore[valid-type]
    settings.TIME_ZONE = "Europe/Berlin"  # CET (UTC+1) until 2026-03-29 02:00, then CEST (UTC+2)
    # Saturday 28 March: 07:00 CET = 06:00 UTC.
    assert digest_day("daily", utc(2026, 3, 28, 5, 59)) is None
    assert digest_day("daily", utc(2026, 3, 28, 6, 0)) == date(2026, 3, 28)
    # Sunday 29 March, after the change: 07:00 CEST = 05:00 UTC.
    assert digest_day("daily", utc(2026, 3, 29, 4, 59)) is None
    assert digest_day("daily", utc(2026, 3, 29, 5, 0)) == date(2026, 3, 29)


def test_hourly_runs_send_each_digest_once() -> None:
    daily = person("dana", digest="daily")
    weekly = person("wes", digest="weekly", role=Role.OWNER)
    person("off", digest="off")
    person("vic", digest="daily", role=Role.VIEWER)  # viewers get none
    person("noemail", digest="daily", email="")
    person("gone", digest="daily", is_active=False)

    assert digests_send_due(now=utc(2026, 12, 6, 22, 5)) == 0  # Mon 06:05 local
    assert digests_send_due(now=utc(2026, 12, 6, 23, 5)) == 2  # Mon 07:05 local
    assert digests_send_due(now=utc(2026, 12, 7, 0, 5)) == 0  # Mon 08:05: already sent
    assert digests_send_due(now=utc(2026, 12, 7, 23, 5)) == 1  # Tue 07:05: daily only
    keys = sorted(Message.objects.filter(source="digest").values_list("key", flat=True))
    assert keys == [
        f"digest:{daily.pk}:2026-12-07",
        f"digest:{daily.pk}:2026-12-08",
        f"digest:{weekly.pk}:2026-12-07",
    ]
    message = Message.objects.get(key=f"digest:{daily.pk}:2026-12-07")
    assert (message.to, message.user_id, message.source_id) == (
        "dana@example.com",
        daily.pk,
        str(daily.pk),
    )
    assert message.channel == "email" and message.subject and message.text and message.html


def test_sending_twice_writes_one_message() -> None:
    user = person("twice")
    first = digest_send(user=user, day=date(2026, 12, 7), now=utc(2026, 12, 6, 23, 5))
    second = digest_send(user=user, day=date(2026, 12, 7), now=utc(2026, 12, 7, 9, 0))
    assert first.pk == second.pk
    assert Message.objects.filter(source="digest").count() == 1


def test_a_missed_seven_oclock_run_sends_at_the_next_hour() -> None:
    user = person("late")
    # The worker was down at 07:05; the 09:05 run still sends that day's digest, once.
    assert digests_send_due(now=utc(2026, 12, 7, 1, 5)) == 1
    assert Message.objects.filter(key=f"digest:{user.pk}:2026-12-07").count() == 1


def test_the_schedule_is_declared_hourly() -> None:
    spec = settings.TEND_SCHEDULES["digest-send"]
    assert spec == {"cron": "5 * * * *", "task": "tend.digest.tasks.digests_send"}
