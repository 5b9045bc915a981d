"""Today signals owned by billing: a renewal coming up while health is not green, and a
failed payment. Registered in ``BillingConfig.ready()``; each ``find`` is two fixed queries
over every customer, whatever their number."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from django.db.models import Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tend.activity.models import DailyRollup, Event
from tend.billing.models import Subscription, SubscriptionStatus
from tend.lib.money import format_money
from tend.today.signals import Finding, Signal, day_start, signals

RENEWAL_DAYS = 14
PAYMENT_DAYS = 14
PAYMENT_FAILED_EVENT = "Payment Failed"  # written by the Stripe webhook (invoice.payment_failed)

# Chance of losing the customer's MRR at a renewal, by health colour ("" = not scored yet).
RENEWAL_RISK = {"red": 0.5, "yellow": 0.3, "": 0.25}
PAYMENT_RISK = 0.4


def renewal_find(as_of: date) -> Iterator[Finding]:
    """Customers with a subscription counting MRR that renews in 0–14 days (period end in
    [as_of 00:00, as_of + 15 days 00:00) UTC) whose health is not green (or not scored)."""
    rows = (
        Subscription.objects.counting_mrr()
        .filter(
            current_period_end__gte=day_start(as_of),
            current_period_end__lt=day_start(as_of + timedelta(days=RENEWAL_DAYS + 1)),
        )
        .exclude(customer__health__colour="green")
        .order_by("customer_id", "current_period_end", "pk")
        .values_list("customer_id", "pk", "current_period_end", "customer__health__colour")
    )
    seen: set[int] = set()
    for customer_id, pk, period_end, colour in rows:
        if customer_id in seen or period_end is None:  # the earliest renewal speaks for it
            continue
        seen.add(customer_id)
        colour = colour or ""
        day = period_end.date()
        yield Finding(
            customer_id=customer_id,
            key=f"renewal:{pk}:{day.isoformat()}",
            risk=RENEWAL_RISK.get(colour, RENEWAL_RISK[""]),
            params={"days": (day - as_of).days, "colour": colour, "day": day.isoformat()},
        )


def renewal_describe(params: dict[str, Any]) -> str:
    days = int(params.get("days", 0))
    colour = str(params.get("colour", ""))
    if colour == "red":
        health = _("health is red")
    elif colour == "yellow":
        health = _("health is yellow")
    else:
        health = _("no health score yet")
    if days == 0:
        return _("Renewal today and %(health)s") % {"health": health}
    return ngettext(
        "Renewal in %(days)d day and %(health)s",
        "Renewal in %(days)d days and %(health)s",
        days,
    ) % {"days": days, "health": health}


def payment_failed_find(as_of: date) -> Iterator[Finding]:
    """Customers with a "Payment Failed" event in the 14 days ending with ``as_of``, or a
    subscription past due. The daily rollups (indexed by day) say who; the customers' own
    events (indexed by customer and time) then say which invoice."""
    start = as_of - timedelta(days=PAYMENT_DAYS - 1)
    who = DailyRollup.objects.filter(
        name=PAYMENT_FAILED_EVENT, day__gte=start, day__lte=as_of
    ).values("customer_id")
    events = (
        Event.objects.filter(
            customer_id__in=Subquery(who),
            name=PAYMENT_FAILED_EVENT,
            timestamp__gte=day_start(start),
            timestamp__lt=day_start(as_of + timedelta(days=1)),
        )
        .order_by("customer_id", "-timestamp", "-pk")
        .values_list("customer_id", "pk", "timestamp", "properties")
    )
    seen: set[int] = set()
    for customer_id, pk, at, properties in events:
        if customer_id in seen:  # the latest failure speaks for the customer
            continue
        seen.add(customer_id)
        properties = properties if isinstance(properties, dict) else {}
        invoice = properties.get("invoice")
        yield Finding(
            customer_id=customer_id,
            # One key per invoice: Stripe's retries of the same invoice are the same reason.
            key=f"payment_failed:{invoice or f'event{pk}'}",
            risk=PAYMENT_RISK,
            params={
                "days": (as_of - at.date()).days,
                "amount": str(properties.get("amount") or ""),
                "currency": str(properties.get("currency") or ""),
            },
        )
    past_due = (
        Subscription.objects.filter(status=SubscriptionStatus.PAST_DUE)
        .order_by("customer_id", "pk")
        .values_list("customer_id", "pk")
    )
    for customer_id, pk in past_due:
        if customer_id in seen:
            continue
        seen.add(customer_id)
        yield Finding(
            customer_id=customer_id,
            key=f"past_due:{pk}",
            risk=PAYMENT_RISK,
            params={"past_due": True},
        )


def payment_failed_describe(params: dict[str, Any]) -> str:
    if params.get("past_due"):
        return _("A subscription payment is past due")
    days = int(params.get("days", 0))
    amount = str(params.get("amount") or "")
    if amount:
        what = format_money(amount, str(params.get("currency") or "") or None)
        if days == 0:
            return _("A payment of %(amount)s failed today") % {"amount": what}
        return ngettext(
            "A payment of %(amount)s failed %(days)d day ago",
            "A payment of %(amount)s failed %(days)d days ago",
            days,
        ) % {"amount": what, "days": days}
    if days == 0:
        return _("A payment failed today")
    return ngettext(
        "A payment failed %(days)d day ago", "A payment failed %(days)d days ago", days
    ) % {"days": days}


def register() -> None:
    signals.register(
        Signal(
            name="renewal",
            label=gettext_lazy("Renewal soon, not green"),
            find=renewal_find,
            describe=renewal_describe,
            order=20,
        )
    )
    signals.register(
        Signal(
            name="payment_failed",
            label=gettext_lazy("Payment failed"),
            find=payment_failed_find,
            describe=payment_failed_describe,
            order=10,
        )
    )
