"""Privacy entry of the Stripe webhooks: the customer's Stripe id and the events about it.

Tend stores no raw webhook payload (only the event id, type, the Stripe object's id and the
outcome); an erasure removes the link to the Stripe customer and blanks the object ids that
named the customer, its subscriptions or orders."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext_lazy as _

from tend.billing.models import Order, Subscription
from tend.customers.models import Customer
from tend.ingest.webhooks.models import StripeCustomer, StripeEvent
from tend.privacy.registry import DELETE, PrivacyEntry, privacy
from tend.privacy.scrub import ErasureContext, model_rows


def _stripe_ids(customer: Customer) -> list[str]:
    ids = list(StripeCustomer.objects.filter(customer=customer).values_list("stripe_id", flat=True))
    for model in (Subscription, Order):
        ids += [
            e
            for e in model.objects.filter(customer=customer).values_list("external_id", flat=True)
            if e
        ]
    return ids


def _rows(customer: Customer) -> Iterator[dict[str, Any]]:
    for row in model_rows(StripeCustomer.objects.filter(customer=customer)):
        yield {"record": "stripe customer", **row}
    ids = _stripe_ids(customer)
    for row in model_rows(StripeEvent.objects.filter(object_id__in=ids)):
        yield {"record": "stripe event", **row}


def _erase(customer: Customer, ctx: ErasureContext) -> int:
    links = StripeCustomer.objects.filter(customer=customer)
    ids = list(links.values_list("stripe_id", flat=True)) + ctx.external_ids
    ctx.add(*ids)
    deleted, _by_model = links.delete()
    blanked = StripeEvent.objects.filter(object_id__in=ids).update(object_id="")
    return int(deleted) + blanked


def register() -> None:
    privacy.register(
        PrivacyEntry(
            name="stripe",
            description=_(
                "The customer's Stripe id and the Stripe events Tend received about the "
                "customer, its subscriptions and orders (event id, type, time, outcome)."
            ),
            models=("webhooks.StripeCustomer", "webhooks.StripeEvent"),
            export=_rows,
            erase=_erase,
            count=lambda c: (
                StripeCustomer.objects.filter(customer=c).count()
                + StripeEvent.objects.filter(object_id__in=_stripe_ids(c)).count()
            ),
            on_erase=DELETE,
            order=700,
        )
    )
