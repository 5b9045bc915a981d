"""What health plugs into other apps' registries: the Today signal "health turned red" and the
customer-page panel. (The condition fields health_score, health_colour and
health_colour_since are registered by tend.segments.fields itself, reading ``Customer.health``.)"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tend.health.models import Colour, HealthScore

RED_SIGNAL_DAYS = 7
RED_SIGNAL_RISK = 0.6


def health_red_find(as_of: date) -> Iterable[Any]:
    """Customers whose colour became red within the last 7 days (colour_since in
    [as_of − 6, as_of]), as scored on the latest scored day not after ``as_of``; the
    finding's key is the day it turned red, so a handled item comes back only when the
    customer turns red again."""
    from tend.today.signals import Finding

    latest = (
        HealthScore.objects.filter(day__lte=as_of)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )
    if latest is None:
        return []
    rows = HealthScore.objects.filter(
        day=latest,
        colour=Colour.RED,
        colour_since__gt=as_of - timedelta(days=RED_SIGNAL_DAYS),
    ).values_list("customer_id", "colour_since", "score")
    return [
        Finding(
            customer_id=cid,
            key=f"health-red:{since.isoformat()}",
            risk=RED_SIGNAL_RISK,
            params={"since": since.isoformat(), "score": score},
        )
        for cid, since, score in rows
        if since is not None
    ]


def health_red_describe(params: dict[str, Any]) -> str:
    since = parse_date(str(params.get("since") or ""))
    when = date_format(since) if since else "?"
    score = params.get("score")
    if score is None:
        return gettext("Health turned red on %(day)s") % {"day": when}
    return gettext("Health turned red on %(day)s (score %(score)s of 100)") % {
        "day": when,
        "score": score,
    }


def _register_signal() -> None:
    from tend.today.signals import Signal, signals

    if "health_red" not in signals:
        signals.register(
            Signal(
                name="health_red",
                label=_("Health turned red"),
                find=health_red_find,
                describe=health_red_describe,
                order=20,
            )
        )


def _register_panel() -> None:
    from tend.health.panel import health_panel_context
    from tend.web.panels import Panel, panels

    if "health" not in panels:
        panels.register(
            Panel(
                name="health",
                template="health/panel.html",
                context=health_panel_context,
                order=20,
                column="main",
            )
        )


def register_plugins() -> None:
    _register_signal()
    _register_panel()
