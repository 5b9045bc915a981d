"""REST endpoints for privacy: export one customer (ZIP), erase a customer or a contact, list
the erasures.

Export is a read of everything held on a person: any key of an owner or member (viewers'
keys are refused). Erasing and the list of erasures are for owners only, and erasing needs a
``read_write`` key. Erasing takes the customer's (or contact's) name in ``confirm``, as the
web page does, so a wrong id in a script erases nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from tend.api.auth import Principal
from tend.api.schemas import ERRORS, ERRORS_404, InputSchema, Page, PageParams, PathId, paginate
from tend.customers.models import Contact, Customer
from tend.lib.access import can_manage, can_write
from tend.privacy.actions import (
    REFERENCE_LENGTH,
    check_confirmation,
    contact_erase,
    customer_erase,
    customer_export,
    export_filename,
)
from tend.privacy.models import Erasure

router = Router(tags=["privacy"])


class EraseIn(InputSchema):
    confirm: str = Field(
        ..., max_length=1000, description="The customer's (or contact's) name, as shown."
    )
    reference: str = Field(
        "",
        max_length=REFERENCE_LENGTH,
        description="Your own note (a ticket number); no email addresses.",
    )


class ErasureOut(Schema):
    id: int
    at: datetime
    kind: str = Field(..., description="`customer` or `contact`.")
    subject_id: int = Field(..., description="The erased customer's or contact's id.")
    by: str = Field(..., description="Who erased: a username or `api:<key name>`.")
    reference: str
    counts: dict[str, int] = Field(..., description="Rows removed or anonymised per entry.")

    @staticmethod
    def resolve_by(obj: Erasure) -> str:
        return obj.actor_label

    @staticmethod
    def resolve_counts(obj: Erasure) -> dict[str, int]:
        return {str(k): int(v) for k, v in obj.counts.items() if isinstance(v, int)}


class ErasurePage(Page):
    items: list[ErasureOut]


def _principal(request: HttpRequest) -> Principal:
    principal: Principal = request.auth  # type: ignore[attr-defined]
    return principal


def _owner(request: HttpRequest) -> Principal:
    who = _principal(request)
    if not can_manage(who.user):
        raise PermissionDenied("Only owners can erase customers and see erasures.")
    return who


def _customer(customer_id: int) -> Customer:
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise Http404(f"Customer {customer_id} not found.")
    return customer


@router.get(
    "/customers/{customer_id}/export",
    response={200: None, **ERRORS_404},
    openapi_extra={
        "responses": {
            200: {
                "description": "A ZIP: one JSON and one CSV file per privacy entry, README.txt.",
                "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def customer_export_endpoint(request: HttpRequest, customer_id: PathId) -> Any:
    """Everything Tend holds about one customer, as a ZIP (owners and members)."""
    who = _principal(request)
    if not can_write(who.user):
        raise PermissionDenied("Viewers cannot export a customer's data.")
    customer = _customer(customer_id)
    data = customer_export(customer=customer, by=who.user, label=who.label)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(customer)}"'
    response["Cache-Control"] = "no-store"
    return response


@router.post("/customers/{customer_id}/erase", response={200: ErasureOut, **ERRORS_404})
def customer_erase_endpoint(request: HttpRequest, customer_id: PathId, payload: EraseIn) -> Any:
    """Erase a customer (owners): removes or anonymises everything, keeps billing anonymised."""
    who = _owner(request)
    customer = _customer(customer_id)
    check_confirmation(payload.confirm, customer.name)
    return customer_erase(
        customer=customer, by=who.user, label=who.label, reference=payload.reference
    )


@router.post("/contacts/{contact_id}/erase", response={200: ErasureOut, **ERRORS_404})
def contact_erase_endpoint(request: HttpRequest, contact_id: PathId, payload: EraseIn) -> Any:
    """Erase one contact (owners); the customer and its other contacts stay."""
    who = _owner(request)
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None:
        raise Http404(f"Contact {contact_id} not found.")
    check_confirmation(payload.confirm, contact.name)
    return contact_erase(contact=contact, by=who.user, label=who.label, reference=payload.reference)


@router.get("/privacy/erasures", response={200: ErasurePage, **ERRORS})
def erasure_list_endpoint(request: HttpRequest, paging: Query[PageParams]) -> Any:
    """Past erasures, newest first (owners); they hold no erased data."""
    _owner(request)
    return paginate(Erasure.objects.order_by("-at", "-pk"), paging)
