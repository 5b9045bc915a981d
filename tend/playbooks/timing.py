"""Time in the business's time zone (``settings.TIME_ZONE``): waits until a weekday and hour,
and the business hour at which date-relative triggers start their runs.

Wall times are computed in local time and converted to UTC with zoneinfo, so "Monday 09:00"
is 09:00 on the local clock on both sides of a daylight-saving change (08:00Z in London summer
time, 09:00Z in winter).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings


def business_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_date(moment: datetime) -> date:
    return moment.astimezone(business_tz()).date()


def local_instant(day: date, hour: int = 0) -> datetime:
    """``day`` at ``hour``:00 on the local clock, as a UTC datetime."""
    return datetime.combine(day, time(hour), tzinfo=business_tz()).astimezone(UTC)


def business_hour() -> int:
    return int(settings.TEND_PLAYBOOK_HOUR)


def next_weekday_hour(now: datetime, weekday: int, hour: int) -> datetime:
    """The first moment after ``now`` that is ``weekday`` (0 = Monday) at ``hour``:00 local
    time, in UTC. A wall time that does not exist that day (skipped by a DST change) is read
    with the offset before the change."""
    tz = business_tz()
    local = now.astimezone(tz)
    day = local.date() + timedelta(days=(weekday - local.weekday()) % 7)
    candidate = datetime.combine(day, time(hour), tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(day + timedelta(days=7), time(hour), tzinfo=tz)
    return candidate.astimezone(UTC)


def add_days(now: datetime, days: int, hours: int = 0) -> datetime:
    """``now`` plus whole local days (the same wall time, across DST) and hours."""
    tz = business_tz()
    local = now.astimezone(tz)
    wall = datetime.combine(
        local.date() + timedelta(days=days), local.timetz().replace(tzinfo=None)
    )
    return (wall.replace(tzinfo=tz) + timedelta(hours=hours)).astimezone(UTC)
