"""Condition fields the lifecycle's default rules need, registered with the condition language.

- ``ever_subscribed`` (bool): the customer has had a subscription, in any status. It tells a
  subscriber who stopped paying (churned) from a shop customer who buys by order.
- ``next_yearly_renewal`` (date): the earliest end of the current period, at or after now, of
  a yearly subscription that counts towards MRR. Monthly plans renew every month, so "renewal
  within 60 days" would hold for every monthly customer; renewal due is about yearly ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import DateTimeField, Exists, OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from tend.segments.fields import ConditionField, condition_fields


def _subscriptions() -> Any:
    from tend.billing.models import Subscription

    return Subscription.objects.all()


def _yearly_renewals(now: datetime) -> Any:
    from tend.billing.models import MRR_STATUSES, Interval, Subscription

    return Subscription.objects.filter(
        status__in=MRR_STATUSES, interval=Interval.YEAR, current_period_end__gte=now
    ).order_by("current_period_end")


def _ever_subscribed_sql(now: datetime) -> Any:
    return Exists(_subscriptions().filter(customer=OuterRef("pk")))


def _ever_subscribed(customer: Any, now: datetime) -> bool:
    return bool(_subscriptions().filter(customer=customer).exists())


def _next_yearly_sql(now: datetime) -> Any:
    rows = _yearly_renewals(now).filter(customer=OuterRef("pk"))
    return Subquery(rows.values("current_period_end")[:1], output_field=DateTimeField())


def _next_yearly(customer: Any, now: datetime) -> Any:
    rows = _yearly_renewals(now).filter(customer=customer)
    return rows.values_list("current_period_end", flat=True).first()


FIELDS = (
    ConditionField(
        "ever_subscribed",
        _("Has had a subscription"),
        "bool",
        expression=_ever_subscribed_sql,
        value=_ever_subscribed,
        description=_("At least one subscription in any status, now or in the past."),
    ),
    ConditionField(
        "next_yearly_renewal",
        _("Next yearly renewal"),
        "date",
        expression=_next_yearly_sql,
        value=_next_yearly,
        description=_(
            "The earliest renewal (end of the current period, from now on) of a yearly "
            "subscription that counts towards MRR."
        ),
    ),
)


def register_fields() -> None:
    """Register the lifecycle's fields (once; the registry refuses a name twice)."""
    for entry in FIELDS:
        if entry.name not in condition_fields:
            condition_fields.register(entry)
