"""Privacy entries of billing: kept for accounting, anonymised on erasure, never deleted."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tend.billing.models import MrrMovement, Order, Subscription
from tend.customers.models import Customer
from tend.privacy.registry import ANONYMISE, KEEP, PrivacyEntry, privacy
from tend.privacy.scrub import ErasureContext, customer_rows


def _subscriptions_erase(customer: Customer, ctx: ErasureContext) -> int:
    qs = Subscription.objects.filter(customer=customer)
    ctx.external_ids.extend(e for e in qs.values_list("external_id", flat=True) if e)
    # The billing system's id (sub_…) would lead back to the person there.
    return qs.exclude(external_id=None).update(external_id=None)


def _orders_erase(customer: Customer, ctx: ErasureContext) -> int:
    changed = 0
    for order in Order.objects.filter(customer=customer):
        if order.external_id:
            ctx.external_ids.append(order.external_id)
        order.external_id = None
        order.description = ""
        order.items = ctx.scrub(order.items)
        order.save(update_fields=["external_id", "description", "items"])
        changed += 1
    return changed


def register() -> None:
    privacy.register(
        PrivacyEntry(
            name="billing-subscriptions",
            description=_(
                "Subscriptions: plan, status, MRR, currency, interval, quantity and dates."
            ),
            models=("billing.Subscription",),
            **customer_rows(Subscription),
            erase=_subscriptions_erase,
            on_erase=ANONYMISE,
            kept_for_accounting=True,
            order=600,
        )
    )
    privacy.register(
        PrivacyEntry(
            name="billing-mrr-movements",
            description=_(
                "The MRR ledger: every change of the customer's monthly recurring revenue."
            ),
            models=("billing.MrrMovement",),
            **customer_rows(MrrMovement),
            erase=lambda c, ctx: 0,
            on_erase=KEEP,
            kept_for_accounting=True,
            order=600,
        )
    )
    privacy.register(
        PrivacyEntry(
            name="billing-orders",
            description=_("One-off orders: amount, currency, status, refunds, items and dates."),
            models=("billing.Order",),
            **customer_rows(Order),
            erase=_orders_erase,
            on_erase=ANONYMISE,
            kept_for_accounting=True,
            order=600,
        )
    )
