"""Today signals owned by customers (the lifecycle stages): onboarding stalled, and a move
to at risk. Registered in ``CustomersConfig.ready()``; each ``find`` is one fixed query."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tend.customers.models import Customer, Stage, StageChange
from tend.today.signals import Finding, Signal, day_start, signals

STALLED_AFTER_DAYS = 21  # in onboarding for more than this many days…
ACTIVE_WINDOW_DAYS = 14  # …with fewer than FEW_ACTIVE active days in the last 14
FEW_ACTIVE = 3
STALLED_RISK = 0.3
AT_RISK_DAYS = 7
AT_RISK_RISK = 0.4


def onboarding_find(as_of: date) -> Iterator[Finding]:
    """Customers in onboarding since before (as_of − 21) 00:00 UTC (more than 21 whole days)
    with fewer than 3 active days in the 14 days ending with ``as_of``."""
    window = as_of - timedelta(days=ACTIVE_WINDOW_DAYS - 1)
    rows = (
        Customer.objects.filter(
            stage=Stage.ONBOARDING,
            stage_changed_at__lt=day_start(as_of - timedelta(days=STALLED_AFTER_DAYS)),
        )
        .annotate(
            active=Count(
                "daily_rollups__day",
                distinct=True,
                filter=Q(daily_rollups__day__gte=window, daily_rollups__day__lte=as_of),
            )
        )
        .filter(active__lt=FEW_ACTIVE)
        .order_by("pk")
        .values_list("pk", "stage_changed_at", "active")
    )
    for customer_id, since, active in rows:
        day = since.date()
        yield Finding(
            customer_id=customer_id,
            key=f"onboarding:{day.isoformat()}",
            risk=STALLED_RISK,
            params={"days": (as_of - day).days, "active": active},
        )


def onboarding_describe(params: dict[str, Any]) -> str:
    days = int(params.get("days", 0))
    active = int(params.get("active", 0))
    if active == 0:
        return _("Onboarding for %(days)d days and not active in the last 14") % {"days": days}
    return ngettext(
        "Onboarding for %(days)d days with only %(n)d active day in the last 14",
        "Onboarding for %(days)d days with only %(n)d active days in the last 14",
        active,
    ) % {"days": days, "n": active}


def at_risk_find(as_of: date) -> Iterator[Finding]:
    """Customers still at risk who moved there in the 7 days ending with ``as_of``."""
    rows = (
        StageChange.objects.filter(
            to_stage=Stage.AT_RISK,
            customer__stage=Stage.AT_RISK,
            at__gte=day_start(as_of - timedelta(days=AT_RISK_DAYS - 1)),
            at__lt=day_start(as_of + timedelta(days=1)),
        )
        .order_by("customer_id", "-at", "-pk")
        .values_list("customer_id", "pk", "at", "by_id")
    )
    seen: set[int] = set()
    for customer_id, pk, at, by in rows:
        if customer_id in seen:
            continue
        seen.add(customer_id)
        yield Finding(
            customer_id=customer_id,
            key=f"at_risk:{pk}",
            risk=AT_RISK_RISK,
            params={"days": (as_of - at.date()).days, "manual": by is not None},
        )


def at_risk_describe(params: dict[str, Any]) -> str:
    days = int(params.get("days", 0))
    manual = bool(params.get("manual"))
    if days == 0:
        if manual:
            return _("Moved to At risk by hand today")
        return _("Moved to At risk today")
    if manual:
        return ngettext(
            "Moved to At risk by hand %(days)d day ago",
            "Moved to At risk by hand %(days)d days ago",
            days,
        ) % {"days": days}
    return ngettext(
        "Moved to At risk %(days)d day ago", "Moved to At risk %(days)d days ago", days
    ) % {"days": days}


def register() -> None:
    signals.register(
        Signal(
            name="at_risk",
            label=gettext_lazy("Moved to at risk"),
            find=at_risk_find,
            describe=at_risk_describe,
            order=30,
        )
    )
    signals.register(
        Signal(
            name="onboarding_stalled",
            label=gettext_lazy("Onboarding stalled"),
            find=onboarding_find,
            describe=onboarding_describe,
            order=50,
        )
    )
