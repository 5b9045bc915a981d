"""Writes for customers, contacts, lifecycle stages and the timeline.

Every function is keyword-only, runs in a transaction, and records an audit row; changes a
founder would want to see later also land on the customer's timeline.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from tend.accounts.actions import audit_record
from tend.accounts.models import User
from tend.customers.models import (
    Contact,
    Customer,
    Stage,
    StageChange,
    Tag,
    TimelineEntry,
    TimelineKind,
)

# Fields a person or an API client may set directly; stage, MRR and dates have actions.
EDITABLE_FIELDS = frozenset(
    {
        "kind",
        "external_id",
        "name",
        "email",
        "phone",
        "industry",
        "size",
        "country",
        "plan",
        "plan_id",
        "channel",
        "acquisition_cost",
        "referred_by",
        "referred_by_id",
        "owner",
        "owner_id",
        "birthday",
        "traits",
        "signed_up_at",
        "first_paid_at",
    }
)


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")


def timeline_add(
    *,
    customer: Customer,
    kind: str,
    by: User | None = None,
    title: str = "",
    body: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> TimelineEntry:
    """Append one entry to a customer's timeline."""
    return TimelineEntry.objects.create(
        customer=customer,
        kind=kind,
        author=by if by is not None and by.pk else None,
        title=title[:200],
        body=body,
        data=data or {},
        at=at or timezone.now(),
    )


@transaction.atomic
def customer_create(
    *,
    by: User | None,
    name: str,
    tags: Iterable[str] = (),
    stage: str = Stage.PROSPECT,
    label: str = "",
    **fields: Any,
) -> Customer:
    """Create a customer, its first timeline entry and an audit row."""
    _check_fields(fields)
    customer = Customer(name=name, stage=stage, **fields)
    customer.full_clean(exclude=["plan", "owner", "referred_by"], validate_unique=True)
    customer.save()
    if tags:
        _set_tags(customer, tags)
    StageChange.objects.create(customer=customer, to_stage=stage, by=by, at=customer.signed_up_at)
    timeline_add(
        customer=customer,
        kind=TimelineKind.SYSTEM,
        by=by,
        data={"msg": "customer_created"},
        at=customer.signed_up_at,
    )
    audit_record(by=by, label=label, action="customer.create", obj=customer, changes={"name": name})
    return customer


@transaction.atomic
def customer_update(
    *, customer: Customer, by: User | None, label: str = "", **fields: Any
) -> Customer:
    """Change the given fields; only real changes are saved and audited."""
    tags = fields.pop("tags", None)
    _check_fields(fields)
    changes: dict[str, Any] = {}
    for name, value in fields.items():
        old = getattr(customer, name)
        if old != value:
            changes[name] = (old, value)
            setattr(customer, name, value)
    if changes:
        customer.full_clean(exclude=["plan", "owner", "referred_by"], validate_unique=True)
        customer.updated_at = timezone.now()
        customer.save(update_fields=[*(_column(n) for n in changes), "updated_at"])
        audit_record(by=by, label=label, action="customer.update", obj=customer, changes=changes)
    if tags is not None:
        customer_set_tags(customer=customer, tags=tags, by=by, label=label)
    return customer


def _column(name: str) -> str:
    # "plan_id" → "plan", "external_id" stays (a suffix test turned it into "external": 500).
    return Customer._meta.get_field(name).name


@transaction.atomic
def customer_change_stage(
    *,
    customer: Customer,
    stage: str,
    by: User | None,
    reason: str = "",
    at: datetime | None = None,
    label: str = "",
) -> Customer:
    """Move a customer to ``stage``; records history, a timeline entry and an audit row."""
    if stage not in Stage.values:
        raise ValueError(f"stage must be one of {Stage.values}")
    if customer.stage == stage:
        return customer
    at = at or timezone.now()
    old = customer.stage
    customer.stage = stage
    customer.stage_changed_at = at
    update = ["stage", "stage_changed_at", "updated_at"]
    if stage == Stage.CHURNED and customer.churned_at is None:
        customer.churned_at = at
        update.append("churned_at")
    elif old == Stage.CHURNED and stage != Stage.CHURNED:
        customer.churned_at = None
        update.append("churned_at")
    customer.updated_at = timezone.now()
    customer.save(update_fields=update)
    StageChange.objects.create(
        customer=customer, from_stage=old, to_stage=stage, by=by, at=at, reason=reason
    )
    timeline_add(
        customer=customer,
        kind=TimelineKind.STAGE,
        by=by,
        at=at,
        body=reason,
        data={"msg": "stage_changed", "from": old, "to": stage},
    )
    audit_record(
        by=by, label=label, action="customer.stage", obj=customer, changes={"stage": (old, stage)}
    )
    return customer


def _set_tags(customer: Customer, names: Iterable[str]) -> list[str]:
    clean = sorted({n.strip()[:50] for n in names if n and n.strip()})
    existing = {t.name: t for t in Tag.objects.filter(name__in=clean)}
    missing = [Tag(name=n) for n in clean if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=clean)}
    customer.tags.set(list(existing.values()))
    return clean


@transaction.atomic
def customer_set_tags(
    *, customer: Customer, tags: Iterable[str], by: User | None, label: str = ""
) -> list[str]:
    """Replace a customer's tags; unknown tag names are created."""
    before = sorted(customer.tags.values_list("name", flat=True))
    after = _set_tags(customer, tags)
    if before != after:
        timeline_add(
            customer=customer,
            kind=TimelineKind.SYSTEM,
            by=by,
            data={"msg": "tags_changed", "tags": after},
        )
        audit_record(
            by=by,
            label=label,
            action="customer.tags",
            obj=customer,
            changes={"tags": (before, after)},
        )
    return after


@transaction.atomic
def customer_add_note(
    *,
    customer: Customer,
    by: User | None,
    body: str,
    kind: str = TimelineKind.NOTE,
    at: datetime | None = None,
    label: str = "",
) -> TimelineEntry:
    """Add a note (or a logged call, email or meeting) written by a person."""
    body = body.strip()
    if not body:
        raise ValueError("body: a note cannot be empty")
    if kind not in {TimelineKind.NOTE, TimelineKind.CALL, TimelineKind.EMAIL, TimelineKind.MEETING}:
        raise ValueError("kind must be note, call, email or meeting")
    entry = timeline_add(customer=customer, kind=kind, by=by, body=body, at=at)
    audit_record(by=by, label=label, action="timeline.add", obj=entry, changes={"kind": kind})
    return entry


@transaction.atomic
def customer_delete(*, customer: Customer, by: User | None, label: str = "") -> dict[str, int]:
    """Erase a customer and everything attached to it (contacts, events, subscriptions…);
    returns how many rows of each model went, as Django's ``delete()`` counts them."""
    audit = audit_record(
        by=by, label=label, action="customer.delete", obj=customer, changes={"name": customer.name}
    )
    _total, erased = customer.delete()
    audit.changes = {"name": customer.name, "erased": erased}
    audit.save(update_fields=["changes"])
    return erased


@transaction.atomic
def contact_create(
    *, customer: Customer, by: User | None, name: str, label: str = "", **fields: Any
) -> Contact:
    """Add a person to a customer; the first contact, or one marked primary, becomes primary."""
    make_primary = bool(fields.pop("is_primary", False)) or not customer.contacts.exists()
    if make_primary:
        customer.contacts.filter(is_primary=True).update(is_primary=False)
    contact = Contact(customer=customer, name=name, is_primary=make_primary, **fields)
    contact.full_clean(exclude=["customer"], validate_unique=True)
    contact.save()
    timeline_add(
        customer=customer,
        kind=TimelineKind.SYSTEM,
        by=by,
        data={"msg": "contact_added", "name": name},
    )
    audit_record(by=by, label=label, action="contact.create", obj=contact, changes={"name": name})
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, by: User | None, label: str = "", **fields: Any) -> Contact:
    """Change a contact; marking it primary unmarks the customer's previous primary."""
    changes: dict[str, Any] = {}
    if fields.pop("is_primary", None) and not contact.is_primary:
        Contact.objects.filter(customer_id=contact.customer_id, is_primary=True).update(
            is_primary=False
        )
        contact.is_primary = True
        changes["is_primary"] = (False, True)
    for name, value in fields.items():
        if name not in {"name", "email", "phone", "title", "external_id", "traits"}:
            raise ValueError(f"not editable: {name}")
        if getattr(contact, name) != value:
            changes[name] = (getattr(contact, name), value)
            setattr(contact, name, value)
    if changes:
        contact.full_clean(exclude=["customer"], validate_unique=True)
        contact.save(update_fields=list(changes))
        audit_record(by=by, label=label, action="contact.update", obj=contact, changes=changes)
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact, by: User | None, label: str = "") -> None:
    """Remove a contact; its events stay with the customer."""
    audit_record(
        by=by, label=label, action="contact.delete", obj=contact, changes={"name": contact.name}
    )
    contact.delete()
