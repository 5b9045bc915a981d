"""The customer page's Privacy panel (side column): export, erase, erase one contact."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tend.customers.models import Contact
from tend.lib.access import can_manage, can_write
from tend.privacy.models import Erasure, ErasureKind
from tend.web.panels import Panel

CONTACTS_SHOWN = 20


def _context(request: HttpRequest, customer: Any) -> dict[str, Any] | None:
    if not can_write(request.user):
        return None  # viewers neither export nor erase
    owner = can_manage(request.user)
    contacts = (
        list(Contact.objects.filter(customer=customer).order_by("name", "pk")[:CONTACTS_SHOWN])
        if owner
        else []
    )
    erased = (
        Erasure.objects.filter(kind=ErasureKind.CUSTOMER, subject_id=customer.pk)
        .order_by("-at")
        .first()
    )
    return {"can_erase": owner, "privacy_contacts": contacts, "erased": erased}


privacy_panel = Panel(
    name="privacy",
    template="privacy/_panel.html",
    context=_context,
    order=900,
    column="side",
)
