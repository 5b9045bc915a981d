"""Privacy entry of imports: rows the importer refused, which still hold the raw values."""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tend.customers.models import Contact, Customer
from tend.ingest.imports.models import RejectedRow
from tend.privacy.registry import ANONYMISE, PrivacyEntry, privacy
from tend.privacy.scrub import ErasureContext, model_rows, scrub_rows


def _mentioning(ctx: ErasureContext) -> Any:
    """Rejected rows whose raw values contain one of the person's values (no foreign key:
    a refused row never became a customer)."""
    terms = ctx.lookup_terms()
    if not terms:
        return RejectedRow.objects.none()
    match = reduce(
        or_,
        (Q(value__icontains=t) | Q(values__icontains=t) | Q(problems__icontains=t) for t in terms),
    )
    return RejectedRow.objects.filter(match)


def _rows(customer: Customer) -> Any:
    return model_rows(_mentioning(ErasureContext.for_customer(customer)))


def _erase(customer: Customer, ctx: ErasureContext) -> int:
    return scrub_rows(ctx, _mentioning(ctx), ["value", "values", "problems"])


def _erase_contact(contact: Contact, ctx: ErasureContext) -> int:
    return scrub_rows(ctx, _mentioning(ctx), ["value", "values", "problems"])


def register() -> None:
    privacy.register(
        PrivacyEntry(
            name="import-rejected-rows",
            description=_(
                "Rows of imported files that were refused and contain the customer's or its "
                "contacts' names, emails, phones or external ids, as they were in the file."
            ),
            models=("imports.RejectedRow",),
            export=_rows,
            erase=_erase,
            erase_contact=_erase_contact,
            count=lambda c: _mentioning(ErasureContext.for_customer(c)).count(),
            on_erase=ANONYMISE,
            order=400,
        )
    )
