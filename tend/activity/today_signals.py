"""Today signal owned by activity: a customer who went quiet after being active.

Registered in ``ActivityConfig.ready()``. ``find`` is one grouped query over the daily
rollups of the last 44 days (indexed by day), whatever the number of customers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Max, Q
from django.utils.translation import gettext_lazy, ngettext

from tend.activity.models import DailyRollup
from tend.today.signals import Finding, Signal, signals

QUIET_DAYS = 14  # no active day in the 14 days ending with the day…
BEFORE_DAYS = 30  # …after at least MIN_ACTIVE active days in the 30 days before them
MIN_ACTIVE = 8
QUIET_RISK = 0.35
# Events the product's users did not do themselves: they do not make a day active.
NOT_USAGE = ("Payment Failed",)


def quiet_find(as_of: date) -> Iterator[Finding]:
    """Customers with 0 active days in [as_of − 13, as_of] and ≥ 8 in the 30 days before
    ([as_of − 43, as_of − 14]). An active day is a UTC day with at least one event."""
    quiet_from = as_of - timedelta(days=QUIET_DAYS - 1)
    since = quiet_from - timedelta(days=BEFORE_DAYS)
    rows = (
        DailyRollup.objects.filter(day__gte=since, day__lte=as_of, count__gt=0)
        .exclude(name__in=NOT_USAGE)
        .values("customer_id")
        .annotate(
            recent=Count("day", distinct=True, filter=Q(day__gte=quiet_from)),
            before=Count("day", distinct=True, filter=Q(day__lt=quiet_from)),
            last=Max("day"),
        )
        .filter(recent=0, before__gte=MIN_ACTIVE)
        .order_by("customer_id")
        .values_list("customer_id", "before", "last")
    )
    for customer_id, before, last in rows:
        yield Finding(
            customer_id=customer_id,
            # One key per stretch of silence: it starts after the last active day.
            key=f"quiet:{last.isoformat()}",
            risk=QUIET_RISK,
            params={"before": before, "last": last.isoformat(), "quiet_days": QUIET_DAYS},
        )


def quiet_describe(params: dict[str, Any]) -> str:
    before = int(params.get("before", 0))
    return ngettext(
        "Went quiet: no activity in 14 days, after %(n)d active day in the 30 days before",
        "Went quiet: no activity in 14 days, after %(n)d active days in the 30 days before",
        before,
    ) % {"n": before}


def register() -> None:
    signals.register(
        Signal(
            name="went_quiet",
            label=gettext_lazy("Went quiet"),
            find=quiet_find,
            describe=quiet_describe,
            order=40,
        )
    )
