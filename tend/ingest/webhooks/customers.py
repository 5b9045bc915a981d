"""Which Tend customer a Stripe customer id (cus_…) is: one at a time for webhook events, in
bulk for backfills from Stripe's exports. Both look in the same order and both leave a
``StripeCustomer`` link, so a webhook that arrives after a backfill (or the other way round)
finds the customer the other one made and never makes a second.

The order: the link table; a customer whose external id is the Stripe id; a customer whose
external id is the Stripe customer's metadata ``tend_external_id``; otherwise a new customer,
with the Stripe id as its external id, named after what Stripe sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from tend.accounts.models import User
from tend.customers.actions import customer_create, customers_create_bulk
from tend.customers.models import Customer, Kind
from tend.ingest.webhooks.models import StripeCustomer
from tend.ingest.webhooks.stripe_objects import from_timestamp
from tend.lib.db import chunks

LABEL = "stripe"  # audit rows written for Stripe name Stripe as the actor


def clean_email(value: Any) -> str:
    """A valid, lower-cased email address, or "" (Stripe lets customers keep invalid ones)."""
    email = str(value or "").strip().lower()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError:
        return ""
    return email[:254]


def customer_fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Customer fields from a Stripe customer object; only the ones Stripe actually sent."""
    fields: dict[str, Any] = {}
    email = clean_email(obj.get("email"))
    if email:
        fields["email"] = email
    name = str(obj.get("name") or obj.get("description") or "").strip()
    if name:
        fields["name"] = name[:200]
    if obj.get("phone"):
        fields["phone"] = str(obj["phone"])[:40]
    country = str((obj.get("address") or {}).get("country") or "").strip().upper()
    if len(country) == 2:
        fields["country"] = country
    return fields


def customer_field_changes(obj: Mapping[str, Any]) -> list[str]:
    """What ``customer_fields`` stores changed from this Stripe customer: ``truncated`` (a name
    over 200 or a phone over 40 characters, cut to fit) and ``unknown_country`` (an address
    country that is not a two-letter code, left out). Counted as flagged on the data-quality
    page, so no change is silent."""
    changes: list[str] = []
    name = str(obj.get("name") or obj.get("description") or "").strip()
    if len(name) > 200 or len(str(obj.get("phone") or "")) > 40:
        changes.append("truncated")
    country = str((obj.get("address") or {}).get("country") or "").strip()
    if country and len(country) != 2:
        changes.append("unknown_country")
    return changes


def _kind() -> str:
    return Kind.PERSON if settings.TEND_BUSINESS_MODEL == "b2c" else Kind.COMPANY


def _lookup(hints: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[int, bool]]:
    """{stripe id: (customer id, already linked)} for the ids Tend can place; others are absent."""
    found: dict[str, tuple[int, bool]] = {}
    ids = sorted(hints)
    for chunk in chunks(ids):
        links = StripeCustomer.objects.filter(stripe_id__in=chunk)
        found.update((s, (c, True)) for s, c in links.values_list("stripe_id", "customer_id"))
    rest = [i for i in ids if i not in found]
    for chunk in chunks(rest):
        customers = Customer.objects.filter(external_id__in=chunk, stripe_link__isnull=True)
        found.update(
            (ext or "", (pk, False)) for ext, pk in customers.values_list("external_id", "pk")
        )
    wanted: dict[str, str] = {}
    for stripe_id in ids:
        meta = hints[stripe_id].get("metadata") or {}
        if stripe_id not in found and meta.get("tend_external_id"):
            wanted.setdefault(str(meta["tend_external_id"]), stripe_id)
    for chunk in chunks(sorted(wanted)):
        customers = Customer.objects.filter(external_id__in=chunk, stripe_link__isnull=True)
        for ext, pk in customers.values_list("external_id", "pk"):
            found[wanted[ext or ""]] = (pk, False)
    return found


def stripe_customer_for(
    stripe_id: str, *, at: datetime, hint: Mapping[str, Any] | None = None
) -> Customer:
    """The Tend customer for one Stripe customer id, created (from ``hint``) when unknown."""
    if not stripe_id:
        raise ValueError("the event's object names no Stripe customer")
    hint = hint or {}
    found = _lookup({stripe_id: hint}).get(stripe_id)
    if found is not None:
        pk, linked = found
        customer = Customer.objects.get(pk=pk)
        if linked:
            return customer
    else:
        fields = customer_fields(hint)
        name = fields.pop("name", "") or fields.get("email") or stripe_id
        customer = customer_create(
            by=None,
            label=LABEL,
            name=name,
            kind=_kind(),
            external_id=stripe_id,
            signed_up_at=from_timestamp(hint.get("created")) or at,
            traits={"stripe_customer_id": stripe_id},
            **fields,
        )
    StripeCustomer.objects.create(stripe_id=stripe_id, customer=customer)
    return customer


def stripe_customers_link(
    *,
    hints: Mapping[str, Mapping[str, Any]],
    at: datetime,
    dry_run: bool = False,
    by: User | None = None,
    label: str = LABEL,
) -> tuple[dict[str, int | None], list[int]]:
    """Tend customer ids for many Stripe customer ids, creating and linking the unknown ones.

    ``hints`` maps each Stripe id to what the export says about that customer, shaped like a
    Stripe customer object (name, email, description, phone, address.country, metadata,
    created as a datetime or timestamp). New customers are created with the customers app's
    bulk action (a stage change, a "customer created" timeline entry and an audit row each,
    as ``by``/``label``).
    Returns ({stripe id: customer id}, ids of the customers created); in a dry run nothing
    is written and customers that would be created map to None.
    """
    if dry_run:
        found = _lookup(hints)
        return {s: found[s][0] if s in found else None for s in hints}, []
    for attempt in (1, 2):
        try:
            with transaction.atomic():  # a savepoint: a lost race leaves nothing half-made
                return _link(hints, at, by=by, label=label)
        except IntegrityError:
            # A webhook linked or created one of these customers since the lookup; the
            # second lookup finds it.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _link(
    hints: Mapping[str, Mapping[str, Any]], at: datetime, *, by: User | None, label: str
) -> tuple[dict[str, int | None], list[int]]:
    found = _lookup(hints)
    new: dict[str, Customer] = {}
    for stripe_id in sorted(hints):
        if stripe_id in found:
            continue
        hint = hints[stripe_id]
        fields = customer_fields(hint)
        name = fields.pop("name", "") or fields.get("email") or stripe_id
        created = hint.get("created")
        signed_up = created if isinstance(created, datetime) else from_timestamp(created)
        new[stripe_id] = Customer(
            name=name,
            kind=_kind(),
            external_id=stripe_id,
            signed_up_at=signed_up or at,
            stage_changed_at=signed_up or at,
            traits={"stripe_customer_id": stripe_id},
            created_at=at,
            updated_at=at,
            **fields,
        )
    customers_create_bulk(customers=list(new.values()), by=by, label=label, at=at)
    links = [
        StripeCustomer(stripe_id=s, customer_id=pk, created_at=at)
        for s, (pk, linked) in found.items()
        if not linked
    ]
    links += [StripeCustomer(stripe_id=s, customer_id=c.pk, created_at=at) for s, c in new.items()]
    StripeCustomer.objects.bulk_create(links)
    ids: dict[str, int | None] = {s: pk for s, (pk, _linked) in found.items()}
    ids.update((s, c.pk) for s, c in new.items())
    return ids, [c.pk for c in new.values()]
