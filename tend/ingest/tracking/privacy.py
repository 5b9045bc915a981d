"""Privacy entry of tracking: who is behind a tracking id, and events still waiting for it."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tend.activity.models import Event
from tend.customers.models import Contact, Customer
from tend.ingest.tracking.models import Identity, PendingEvent
from tend.privacy.registry import DELETE, PrivacyEntry, privacy
from tend.privacy.scrub import ErasureContext, customer_rows


def _user_ids(identities: Iterable[Identity]) -> set[str]:
    out: set[str] = set()
    for identity in identities:
        if identity.key.startswith("u:"):
            out.add(identity.key[2:])
        if identity.user_id:
            out.add(identity.user_id)
    return out


def _forget(ids: set[str], base: Q) -> int:
    """Delete the identities matching ``base`` or naming one of ``ids``, and the events still
    waiting (unattached) under those ids."""
    ids.discard("")
    match = base
    if ids:
        match |= Q(user_id__in=ids) | Q(key__in=[f"u:{i}" for i in ids])
    deleted, _by_model = Identity.objects.filter(match).delete()
    if ids:
        waiting = PendingEvent.objects.filter(Q(user_id__in=ids)).values("event_id")
        Event.objects.filter(pk__in=waiting, customer=None).delete()
    return int(deleted)


def _erase(customer: Customer, ctx: ErasureContext) -> int:
    # Before the customer's events go in one raw DELETE ("activity-events", order 200).
    PendingEvent.objects.filter(event__customer=customer).delete()
    ids = _user_ids(Identity.objects.filter(customer=customer))
    ctx.add(*ids)  # later entries scrub them from text (runs first: order 100)
    return _forget(ids, Q(customer=customer))


def _erase_contact(contact: Contact, ctx: ErasureContext) -> int:
    ids = _user_ids(Identity.objects.filter(contact=contact))
    ctx.add(*ids)
    return _forget(ids, Q(contact=contact))


def register() -> None:
    privacy.register(
        PrivacyEntry(
            name="tracking-identities",
            description=_(
                "Tracking ids (user and anonymous ids) known to belong to the customer, with "
                "the traits sent in identify calls."
            ),
            models=("tracking.Identity",),
            **customer_rows(Identity),
            erase=_erase,
            erase_contact=_erase_contact,
            on_erase=DELETE,
            order=100,
        )
    )
