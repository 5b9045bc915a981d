"""Privacy entry of the audit log: who did what to the customer and when stays; what the
diffs said about the person goes."""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tend.accounts.models import AuditEntry
from tend.customers.models import Contact, Customer
from tend.privacy.registry import ANONYMISE, PrivacyEntry, privacy
from tend.privacy.scrub import ErasureContext, model_rows, scrub_rows

# What an erased row's ``changes`` become.
ERASED_CHANGES = {"erased": True}


def _about(customer_id: int, contact_ids: list[int]) -> Q:
    match = Q(customer_id=customer_id)
    if contact_ids:
        match |= Q(object_type="customers.contact", object_id__in=[str(i) for i in contact_ids])
    return match


def _mentioning(ctx: ErasureContext) -> Q | None:
    """Rows elsewhere in the log whose diff holds one of the person's addresses or ids (a
    suppression added by hand, a bulk action's summary)."""
    terms = [t for t in ctx.lookup_terms() if "@" in t or t in ctx.external_ids]
    if not terms:
        return None
    return reduce(or_, (Q(changes__icontains=t) for t in terms))


def _erase(customer: Customer, ctx: ErasureContext) -> int:
    changed = (
        AuditEntry.objects.filter(_about(customer.pk, ctx.contact_ids))
        .exclude(action="privacy.erase")
        .update(changes=ERASED_CHANGES)
    )
    mentioning = _mentioning(ctx)
    if mentioning is not None:
        changed += scrub_rows(ctx, AuditEntry.objects.filter(mentioning), ["changes"])
    return changed


def _erase_contact(contact: Contact, ctx: ErasureContext) -> int:
    changed = AuditEntry.objects.filter(
        object_type="customers.contact", object_id=str(contact.pk)
    ).update(changes=ERASED_CHANGES)
    # The customer's other rows stay; only what they said about this person goes.
    changed += scrub_rows(
        ctx, AuditEntry.objects.filter(customer_id=contact.customer_id), ["changes"]
    )
    mentioning = _mentioning(ctx)
    if mentioning is not None:
        changed += scrub_rows(ctx, AuditEntry.objects.filter(mentioning), ["changes"])
    return changed


def _rows(customer: Customer) -> Any:
    contact_ids = list(Contact.objects.filter(customer=customer).values_list("pk", flat=True))
    return model_rows(AuditEntry.objects.filter(_about(customer.pk, contact_ids)))


def register() -> None:
    privacy.register(
        PrivacyEntry(
            name="audit-log",
            description=_(
                "The audit log's rows about the customer and its contacts: who changed what "
                "and when, from which address, with the changes made."
            ),
            models=("accounts.AuditEntry",),
            export=_rows,
            erase=_erase,
            erase_contact=_erase_contact,
            count=lambda c: AuditEntry.objects.filter(_about(c.pk, [])).count(),
            on_erase=ANONYMISE,
            order=950,
        )
    )
