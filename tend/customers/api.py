"""REST endpoints for customers, their contacts, notes and lifecycle stage.

Each endpoint parses with a schema, is authorised by tend.api.auth before it runs, calls an
action and returns the fresh object. Audit rows carry ``api:<key name>`` for key calls.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.db.models import F
from django.http import Http404, HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from tend.accounts.models import User
from tend.api.auth import Principal
from tend.api.errors import UNKNOWN, FieldError
from tend.api.parsing import BadText, check_text
from tend.api.schemas import ERRORS, ERRORS_404, ERRORS_409, PageParams, PathId, paginate
from tend.billing.models import Plan
from tend.customers.actions import (
    contact_create,
    contact_delete,
    contact_update,
    customer_add_note,
    customer_change_stage,
    customer_create,
    customer_delete,
    customer_set_tags,
    customer_update,
)
from tend.customers.channels import channel_code_problem
from tend.customers.consent import consent_set
from tend.customers.filtering import customers_where, filter_condition
from tend.customers.models import Contact, Customer, CustomerQuerySet
from tend.customers.schemas import (
    MAX_CONDITION_BYTES,
    MAX_CONDITION_DEPTH,
    ContactIn,
    ContactOut,
    ContactPage,
    ContactPatch,
    CustomerFilters,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    NoteIn,
    NoteOut,
    StageIn,
)
from tend.segments.conditions import Condition as ParsedCondition
from tend.segments.conditions import ConditionError, condition_parse
from tend.segments.models import Segment

router = Router()

NO_OWNER = "none"


def _principal(request: HttpRequest) -> Principal:
    principal: Principal = request.auth  # type: ignore[attr-defined]
    return principal


def _customers() -> CustomerQuerySet:
    """Customers with everything the output schema reads, in a fixed number of queries."""
    return Customer.objects.select_related("plan", "owner").prefetch_related("tags")


def _customer(pk: int) -> Customer:
    customer = _customers().filter(pk=pk).first()
    if customer is None:
        raise Http404(f"Customer {pk} not found.")
    return customer


def _contact(pk: int) -> Contact:
    contact = Contact.objects.filter(pk=pk).first()
    if contact is None:
        raise Http404(f"Contact {pk} not found.")
    return contact


def customers_filtered(filters: CustomerFilters) -> CustomerQuerySet:
    """Customers matching the list filters, in the requested order with the id as tiebreak.

    The text search runs as on the web list; stage, plan, owner, tag and segment are one
    condition tree (``tend.customers.filtering``) and ``condition`` a second one, each
    compiled by the condition language. Raises ``FieldError`` naming a bad segment or
    condition.
    """
    # Every parameter is checked before any of them can make the answer empty.
    condition = _condition(filters.condition) if filters.condition is not None else None
    if filters.segment is not None and not Segment.objects.filter(pk=filters.segment).exists():
        raise FieldError("segment", f"No segment with id {filters.segment}.", code=UNKNOWN)
    qs = _customers().search(filters.text)
    plans: list[int] = []
    if filters.plan:
        plan_id = Plan.objects.filter(code=filters.plan).values_list("pk", flat=True).first()
        if plan_id is None:
            return qs.none()  # no such plan: nobody is on it
        plans.append(plan_id)
    owner: int | None = None
    if filters.owner and filters.owner != NO_OWNER:
        owner = User.objects.filter(username=filters.owner).values_list("pk", flat=True).first()
        if owner is None:
            return qs.none()
    chosen = filter_condition(
        stage=filters.stage or "",
        plans=plans,
        owner=owner,
        unowned=filters.owner == NO_OWNER,
        tags_all=[filters.tag] if filters.tag else [],
        segment=filters.segment,
    )
    try:
        qs = customers_where(chosen, qs)
    except ConditionError as exc:  # the segment's own condition names a deleted segment
        raise FieldError("segment", str(exc.message)) from None
    qs = customers_where(condition, qs)
    if filters.updated_since:
        qs = qs.filter(updated_at__gte=filters.updated_since)
    if filters.external_id:
        qs = qs.filter(external_id=filters.external_id)
    column = filters.sort.lstrip("-")
    if filters.sort.startswith("-"):
        return qs.order_by(F(column).desc(nulls_last=True), "-pk")
    return qs.order_by(F(column).asc(nulls_last=True), "pk")


def _not_a_number(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _condition(raw: str) -> ParsedCondition:
    """The ``condition`` parameter: JSON of at most 8 KB, checked by the condition language.

    Every refusal is a FieldError whose field is ``condition`` or ``condition.<path>``.
    """
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_CONDITION_BYTES:
        raise FieldError(
            "condition", f"At most {MAX_CONDITION_BYTES} bytes of UTF-8 JSON.", code="too_long"
        )
    try:
        data = json.loads(raw, parse_constant=_not_a_number)
    except RecursionError:
        raise FieldError(
            "condition", f"Nested deeper than {MAX_CONDITION_DEPTH} levels.", code="depth"
        ) from None
    except ValueError as exc:
        raise FieldError("condition", f"Not JSON: {exc}.", code="json") from None
    try:
        check_text(data, ("condition",))
    except BadText as exc:
        raise FieldError(exc.field, exc.message, code=exc.code) from None
    try:
        return condition_parse(data)
    except ConditionError as exc:
        field = f"condition.{exc.path}" if exc.path else "condition"
        raise FieldError(field, str(exc.message)) from None


def _references(data: dict[str, Any]) -> dict[str, Any]:
    """Turn the plan code, owner username and referrer id of a payload into objects."""
    if data.get("plan") is not None:
        code = data["plan"]
        data["plan"] = Plan.objects.filter(code=code).first()
        if data["plan"] is None:
            raise FieldError("plan", f"No plan with code {code!r}.", code=UNKNOWN)
    if data.get("owner") is not None:
        username = data["owner"]
        data["owner"] = User.objects.filter(username=username, is_active=True).first()
        if data["owner"] is None:
            raise FieldError("owner", f"No active user with username {username!r}.", code=UNKNOWN)
    if data.get("channel"):
        problem = channel_code_problem(data["channel"])
        if problem is not None:
            raise FieldError("channel", problem, code=UNKNOWN)
    referrer = data.get("referred_by_id")
    if referrer is not None and not Customer.objects.filter(pk=referrer).exists():
        raise FieldError("referred_by_id", f"No customer with id {referrer}.", code=UNKNOWN)
    return data


@router.get("/customers", response={200: CustomerPage, **ERRORS}, tags=["customers"])
def customer_list(
    request: HttpRequest, filters: Query[CustomerFilters], paging: Query[PageParams]
) -> dict[str, Any]:
    """List customers, filtered and sorted, one page at a time."""
    if filters.q and filters.search and filters.q.strip() != filters.search.strip():
        # Each is valid alone; together they disagree (code "range", like start after end).
        raise FieldError(
            "q", "Send q or search (the same filter), not both with different values.", code="range"
        )
    return paginate(customers_filtered(filters), paging)


@router.post("/customers", response={201: CustomerOut, **ERRORS_409}, tags=["customers"])
def customer_create_endpoint(request: HttpRequest, payload: CustomerIn) -> Status[Customer]:
    """Create a customer. A taken ``external_id`` is a 409."""
    who = _principal(request)
    data = _references(payload.model_dump(exclude_unset=True))
    customer = customer_create(by=who.user, label=who.label, **data)
    return Status(201, _customer(customer.pk))


@router.get(
    "/customers/{customer_id}", response={200: CustomerOut, **ERRORS_404}, tags=["customers"]
)
def customer_retrieve(request: HttpRequest, customer_id: PathId) -> Customer:
    """One customer."""
    return _customer(customer_id)


@router.patch(
    "/customers/{customer_id}", response={200: CustomerOut, **ERRORS_409}, tags=["customers"]
)
def customer_update_endpoint(
    request: HttpRequest, customer_id: PathId, payload: CustomerPatch
) -> Customer:
    """Change the fields sent; ``tags`` replaces the set, ``stage`` moves the lifecycle stage."""
    who = _principal(request)
    customer = _customer(customer_id)
    data = _references(payload.model_dump(exclude_unset=True))
    if data.get("referred_by_id") == customer.pk:
        raise FieldError("referred_by_id", "A customer cannot refer itself.")
    tags, stage = data.pop("tags", None), data.pop("stage", None)
    with transaction.atomic():
        customer_update(customer=customer, by=who.user, label=who.label, **data)
        if tags is not None:
            customer_set_tags(customer=customer, tags=tags, by=who.user, label=who.label)
        if stage is not None:
            customer_change_stage(customer=customer, stage=stage, by=who.user, label=who.label)
    return _customer(customer_id)


@router.delete("/customers/{customer_id}", response={204: None, **ERRORS_404}, tags=["customers"])
def customer_delete_endpoint(request: HttpRequest, customer_id: PathId) -> Status[None]:
    """Erase a customer with its contacts, subscriptions, events and timeline."""
    who = _principal(request)
    customer_delete(customer=_customer(customer_id), by=who.user, label=who.label)
    return Status(204, None)


@router.post(
    "/customers/{customer_id}/stage", response={200: CustomerOut, **ERRORS_404}, tags=["customers"]
)
def customer_stage(request: HttpRequest, customer_id: PathId, payload: StageIn) -> Customer:
    """Move a customer to another lifecycle stage; the move is kept in its history."""
    who = _principal(request)
    customer_change_stage(
        customer=_customer(customer_id),
        stage=payload.stage,
        reason=payload.reason,
        by=who.user,
        label=who.label,
    )
    return _customer(customer_id)


@router.post(
    "/customers/{customer_id}/notes", response={201: NoteOut, **ERRORS_404}, tags=["customers"]
)
def customer_note(request: HttpRequest, customer_id: PathId, payload: NoteIn) -> Status[Any]:
    """Add a note, or log a call, email or meeting, on the customer's timeline."""
    who = _principal(request)
    entry = customer_add_note(
        customer=_customer(customer_id),
        by=who.user,
        body=payload.body,
        kind=payload.kind,
        at=payload.at,
        label=who.label,
    )
    return Status(201, entry)


@router.get(
    "/customers/{customer_id}/contacts",
    response={200: ContactPage, **ERRORS_404},
    tags=["contacts"],
)
def contact_list(
    request: HttpRequest, customer_id: PathId, paging: Query[PageParams]
) -> dict[str, Any]:
    """A customer's contacts, the primary one first."""
    customer = _customer(customer_id)
    return paginate(customer.contacts.order_by("-is_primary", "name", "pk"), paging)


@router.post(
    "/customers/{customer_id}/contacts",
    response={201: ContactOut, **ERRORS_409},
    tags=["contacts"],
)
def contact_create_endpoint(
    request: HttpRequest, customer_id: PathId, payload: ContactIn
) -> Status[Contact]:
    """Add a contact; the customer's first contact, or one sent as primary, becomes primary."""
    who = _principal(request)
    fields = payload.model_dump(exclude_unset=True)
    consent = fields.pop("marketing_consent", None)
    with transaction.atomic():
        contact = contact_create(
            customer=_customer(customer_id), by=who.user, label=who.label, **fields
        )
        if consent:
            consent_set(contact=contact, state=consent, source="api", by=who.user, label=who.label)
    return Status(201, contact)


@router.get("/contacts/{contact_id}", response={200: ContactOut, **ERRORS_404}, tags=["contacts"])
def contact_retrieve(request: HttpRequest, contact_id: PathId) -> Contact:
    """One contact."""
    return _contact(contact_id)


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **ERRORS_409}, tags=["contacts"])
def contact_update_endpoint(
    request: HttpRequest, contact_id: PathId, payload: ContactPatch
) -> Contact:
    """Change the fields sent. ``is_primary: true`` unmarks the previous primary contact."""
    who = _principal(request)
    fields = payload.model_dump(exclude_unset=True)
    consent = fields.pop("marketing_consent", None)
    with transaction.atomic():
        contact = contact_update(
            contact=_contact(contact_id), by=who.user, label=who.label, **fields
        )
        if consent:
            consent_set(contact=contact, state=consent, source="api", by=who.user, label=who.label)
    return contact


@router.delete("/contacts/{contact_id}", response={204: None, **ERRORS_404}, tags=["contacts"])
def contact_delete_endpoint(request: HttpRequest, contact_id: PathId) -> Status[None]:
    """Remove a contact."""
    who = _principal(request)
    contact_delete(contact=_contact(contact_id), by=who.user, label=who.label)
    return Status(204, None)
