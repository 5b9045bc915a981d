"""Privacy entries of activity: raw events are erased, daily counts stay with the shell."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tend.activity.models import DailyRollup, Event
from tend.customers.models import Contact, Customer
from tend.privacy.registry import KEEP, PrivacyEntry, privacy
from tend.privacy.scrub import ErasureContext, customer_rows


def _events_erase(customer: Customer, ctx: ErasureContext) -> int:
    # One DELETE, no rows loaded (a customer may have millions of events). The only table
    # pointing at events, tracking's PendingEvent, was emptied of them by the
    # "tracking-identities" entry (order 100), as retention's events_purge_before relies on.
    return int(Event.objects.filter(customer=customer)._raw_delete(Event.objects.db))


def _events_erase_contact(contact: Contact, ctx: ErasureContext) -> int:
    # The customer's usage counts stay right: the events stay, without who sent them.
    return Event.objects.filter(contact=contact).update(
        contact=None, user_id="", anonymous_id="", properties={}
    )


def register() -> None:
    privacy.register(
        PrivacyEntry(
            name="activity-events",
            description=_(
                "Product usage events: name, time, tracking ids and the properties sent."
            ),
            models=("activity.Event",),
            **customer_rows(Event),
            erase=_events_erase,
            erase_contact=_events_erase_contact,
            order=200,
        )
    )
    privacy.register(
        PrivacyEntry(
            name="activity-daily-counts",
            description=_("Events counted per day and event name."),
            models=("activity.DailyRollup",),
            **customer_rows(DailyRollup),
            erase=lambda c, ctx: 0,
            on_erase=KEEP,
            order=200,
        )
    )
