"""Writes for customers, contacts, lifecycle stages and the timeline.

Every function is keyword-only, runs in a transaction, and records an audit row; changes a
founder would want to see later also land on the customer's timeline.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import router, transaction
from django.db.models.deletion import Collector
from django.utils import timezone

from tend.accounts.actions import audit_record, audit_record_bulk
from tend.accounts.models import User
from tend.changes.actions import change_key, change_record, changes_record_bulk
from tend.changes.models import ChangeKind
from tend.customers.models import (
    Contact,
    Customer,
    Stage,
    StageChange,
    Tag,
    TimelineEntry,
    TimelineKind,
)
from tend.lib.db import chunks, db_datetime, insert_rows
from tend.lib.updates import update_rows

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
    change_record(
        customer_id=customer.pk,
        kind=ChangeKind.CREATED,
        key=f"created:{customer.pk}",
        data=_created_data(customer, by),
        at=customer.signed_up_at,
    )
    timeline_add(
        customer=customer,
        kind=TimelineKind.SYSTEM,
        by=by,
        data={"msg": "customer_created"},
        at=customer.signed_up_at,
    )
    audit_record(by=by, label=label, action="customer.create", obj=customer, changes={"name": name})
    return customer


def _created_data(customer: Customer, by: User | None) -> dict[str, Any]:
    return {"stage": customer.stage, "by": by.pk if by is not None and by.pk else None}


def _fields_data(changes: dict[str, Any], by: User | None) -> dict[str, Any]:
    return {"fields": sorted(changes), "by": by.pk if by is not None and by.pk else None}


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
        audit = audit_record(
            by=by, label=label, action="customer.update", obj=customer, changes=changes
        )
        change_record(
            customer_id=customer.pk,
            kind=ChangeKind.FIELDS,
            key=f"fields:{audit.pk}",
            data=_fields_data(changes, by),
            at=customer.updated_at,
        )
        owner = _owner_change(changes)
        if owner is not None:
            change_record(
                customer_id=customer.pk,
                kind=ChangeKind.OWNER,
                key=f"owner:{audit.pk}",
                data={**owner, "by": _fields_data({}, by)["by"]},
                at=customer.updated_at,
            )
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
    reason_data: dict[str, Any] | None = None,
    at: datetime | None = None,
    label: str = "",
) -> Customer:
    """Move a customer to ``stage``; records history, a timeline entry and an audit row.

    ``reason`` is what a person wrote; the system gives ``reason_data`` instead, a message id
    and its parameters (``{"msg": "mrr_zero"}``) rendered in the reader's language by
    ``tend.customers.timeline.stage_reason``."""
    if stage not in Stage.values:
        raise ValueError(f"stage must be one of {Stage.values}")
    if customer.stage == stage:
        return customer
    at = at or timezone.now()
    old = customer.stage
    update = _stage_set(customer, stage, at)
    customer.save(update_fields=update)
    move = StageChange.objects.create(
        customer=customer,
        from_stage=old,
        to_stage=stage,
        by=by,
        at=at,
        reason=reason,
        reason_data=reason_data or {},
    )
    change_record(
        customer_id=customer.pk,
        kind=ChangeKind.STAGE,
        key=f"stage:{move.pk}",
        data=stage_change_data(old, stage, by, reason_data),
        at=at,
    )
    timeline_add(
        customer=customer,
        kind=TimelineKind.STAGE,
        by=by,
        at=at,
        body=reason,
        data=_stage_data(old, stage, reason_data),
    )
    audit_record(
        by=by, label=label, action="customer.stage", obj=customer, changes={"stage": (old, stage)}
    )
    return customer


def _stage_set(customer: Customer, stage: str, at: datetime) -> list[str]:
    """Move ``customer`` to ``stage`` in memory; the fields to save."""
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
    return update


def stage_change_data(
    old: str, new: str, by: User | None, reason_data: dict[str, Any] | None
) -> dict[str, Any]:
    """What a "stage" outbox row carries: consumers (lifecycle rules) tell a person's move,
    which is an override, from a rule's by ``manual``."""
    author = by.pk if by is not None and by.pk else None
    return {
        "from": old,
        "to": new,
        "manual": by is not None,
        "by": author,
        "reason": reason_data or {},
    }


def stage_change_key(customer_id: int, old: str, new: str, at: datetime) -> str:
    """The key of a bulk stage move's outbox row. The bulk insert gets no StageChange ids
    back (COPY), so the move is named by what makes it unique: customer, moment, from, to."""
    return change_key(ChangeKind.STAGE, customer_id, at.isoformat(), old, new)


def _stage_data(old: str, new: str, reason_data: dict[str, Any] | None) -> dict[str, Any]:
    data: dict[str, Any] = {"msg": "stage_changed", "from": old, "to": new}
    if reason_data:
        data["reason"] = reason_data
    return data


# --- bulk paths (imports, Stripe backfills, the MRR ledger) ---------------------------------
# The same rows as the single actions above, written with a fixed number of statements however
# many customers there are: an import or a webhook backfill goes through here, never around.


@transaction.atomic
def customers_create_bulk(
    *,
    customers: Sequence[Customer],
    by: User | None,
    label: str = "",
    at: datetime | None = None,
) -> list[Customer]:
    """Insert new customers with what ``customer_create`` writes for each: the first stage
    change, a "customer created" timeline entry and an audit row (at ``at``, default now)."""
    customers = list(customers)
    if not customers:
        return []
    author = by.pk if by is not None and by.pk else None
    Customer.objects.bulk_create(customers)
    insert_rows(
        StageChange,
        ["customer", "from_stage", "to_stage", "at", "by", "reason", "reason_data"],
        ((c.pk, "", c.stage, db_datetime(c.signed_up_at), author, "", "{}") for c in customers),
    )
    created = json.dumps({"msg": "customer_created"})
    insert_rows(
        TimelineEntry,
        ["customer", "kind", "at", "author", "title", "body", "data"],
        (
            (c.pk, TimelineKind.SYSTEM, db_datetime(c.signed_up_at), author, "", "", created)
            for c in customers
        ),
    )
    audit_record_bulk(
        by=by,
        label=label,
        action="customer.create",
        rows=((c, {"name": c.name}) for c in customers),
        at=at,
    )
    changes_record_bulk(
        (c.pk, ChangeKind.CREATED, f"created:{c.pk}", _created_data(c, by), c.signed_up_at)
        for c in customers
    )
    return customers


@transaction.atomic
def customers_update_bulk(
    *,
    updates: Sequence[tuple[Customer, dict[str, Any]]],
    by: User | None,
    label: str = "",
    at: datetime | None = None,
) -> list[Customer]:
    """Set new values on many customers (each with its own fields) and write an audit row for
    each, as ``customer_update`` does; values equal to the stored ones are left out."""
    _check_fields({name: None for _c, values in updates for name in values})
    at = at or timezone.now()
    changed: list[Customer] = []
    audits: list[tuple[Customer, dict[str, Any]]] = []
    fields: set[str] = set()
    for customer, values in updates:
        changes = {
            name: (getattr(customer, name), value)
            for name, value in values.items()
            if getattr(customer, name) != value
        }
        if not changes:
            continue
        for name, (_old, value) in changes.items():
            setattr(customer, name, value)
        customer.updated_at = at
        fields.update(changes)
        changed.append(customer)
        audits.append((customer, changes))
    if changed:
        Customer.objects.bulk_update(changed, [*sorted(fields), "updated_at"])
        audit_record_bulk(by=by, label=label, action="customer.update", rows=audits, at=at)
        changes_record_bulk(
            [
                *(
                    (
                        c.pk,
                        ChangeKind.FIELDS,
                        change_key(ChangeKind.FIELDS, c.pk, at.isoformat(), changes),
                        _fields_data(changes, by),
                        at,
                    )
                    for c, changes in audits
                ),
                *(
                    (
                        c.pk,
                        ChangeKind.OWNER,
                        change_key(ChangeKind.OWNER, c.pk, at.isoformat(), owner),
                        {**owner, "by": _fields_data({}, by)["by"]},
                        at,
                    )
                    for c, changes in audits
                    if (owner := _owner_change(changes)) is not None
                ),
            ]
        )
    return changed


def _owner_change(changes: dict[str, Any]) -> dict[str, Any] | None:
    """``{"from": id, "to": id}`` when ``changes`` (name → (old, new)) moves the owner."""
    pair = changes.get("owner") or changes.get("owner_id")
    if pair is None:
        return None
    old, new = (getattr(v, "pk", v) for v in pair)
    return {"from": old, "to": new}


@transaction.atomic
def customers_change_stage_bulk(
    *,
    moves: Sequence[tuple[Customer, datetime]],
    stage: str,
    by: User | None,
    reason: str = "",
    reason_data: dict[str, Any] | None = None,
    label: str = "",
) -> list[Customer]:
    """Move many customers to ``stage``, each at its own moment, writing what
    ``customer_change_stage`` writes for each; customers already there are left alone."""
    if stage not in Stage.values:
        raise ValueError(f"stage must be one of {Stage.values}")
    author = by.pk if by is not None and by.pk else None
    moved: list[tuple[Customer, str, datetime]] = []
    for customer, at in moves:
        if customer.stage != stage:
            old = customer.stage
            _stage_set(customer, stage, at)
            moved.append((customer, old, at))
    if not moved:
        return []
    customers = [c for c, _old, _at in moved]
    update_rows(Customer, ["stage", "stage_changed_at", "churned_at", "updated_at"], customers)
    why = json.dumps(reason_data or {})
    insert_rows(
        StageChange,
        ["customer", "from_stage", "to_stage", "at", "by", "reason", "reason_data"],
        ((c.pk, old, stage, db_datetime(at), author, reason, why) for c, old, at in moved),
    )
    insert_rows(
        TimelineEntry,
        ["customer", "kind", "at", "author", "title", "body", "data"],
        (
            (
                c.pk,
                TimelineKind.STAGE,
                db_datetime(at),
                author,
                "",
                reason,
                json.dumps(_stage_data(old, stage, reason_data)),
            )
            for c, old, at in moved
        ),
    )
    audit_record_bulk(
        by=by,
        label=label,
        action="customer.stage",
        rows=((c, {"stage": (old, stage)}) for c, old, _at in moved),
    )
    changes_record_bulk(
        (
            c.pk,
            ChangeKind.STAGE,
            stage_change_key(c.pk, old, stage, at),
            stage_change_data(old, stage, by, reason_data),
            at,
        )
        for c, old, at in moved
    )
    return customers


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
        now = timezone.now()
        change_record(
            customer_id=customer.pk,
            kind=ChangeKind.TAGS,
            key=change_key(ChangeKind.TAGS, customer.pk, now.isoformat(), before, after),
            data={
                "added": sorted(set(after) - set(before)),
                "removed": sorted(set(before) - set(after)),
                "tags": after,
            },
            at=now,
        )
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
    change_record(
        customer_id=customer.pk,
        kind=ChangeKind.NOTE,
        key=f"note:{entry.pk}",
        data={"kind": kind, "entry": entry.pk, "by": by.pk if by is not None and by.pk else None},
        at=entry.at,
    )
    return entry


@transaction.atomic
def customer_delete(*, customer: Customer, by: User | None, label: str = "") -> dict[str, int]:
    """Delete a customer and everything attached to it (contacts, events, subscriptions…);
    returns how many rows of each model went, as Django's ``delete()`` counts them.

    It erases first (``tend.privacy.actions.customer_erase`` without leaving the addresses on
    the suppression list), so no name or address survives in the audit log's diffs, rejected
    import rows or webhook records; then the anonymised row goes with its billing rows."""
    from tend.privacy.actions import customer_erase

    pk = customer.pk
    collector = Collector(using=router.db_for_write(Customer))
    collector.collect([customer])
    erased: dict[str, int] = {}
    for model, objs in collector.data.items():
        erased[model._meta.label] = erased.get(model._meta.label, 0) + len(objs)
    for qs in collector.fast_deletes:
        n = qs.count()
        if n:
            erased[qs.model._meta.label] = erased.get(qs.model._meta.label, 0) + n
    customer_erase(customer=customer, by=by, label=label, reference="deleted", suppress=False)
    Customer.objects.filter(pk=pk).delete()
    audit_record(
        by=by, label=label, action="customer.delete", obj=customer, changes={"erased": erased}
    )
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
    """Remove a contact; its events stay with the customer, and its timeline says so."""
    audit_record(
        by=by, label=label, action="contact.delete", obj=contact, changes={"name": contact.name}
    )
    timeline_add(
        customer=contact.customer,
        kind=TimelineKind.SYSTEM,
        by=by,
        data={"msg": "contact_removed", "name": contact.name},
    )
    contact.delete()


# --- bulk actions (the customers list's selection) -----------------------------------------

# The most customers one bulk action changes; the list says so and refuses a larger selection.
BULK_LIMIT = 10_000
# Ids per ``IN (...)`` list: well under SQLite's and PostgreSQL's parameter limits.
_BULK_CHUNK = 500


class BulkTooLarge(ValueError):
    """A bulk action was asked to change more than ``BULK_LIMIT`` customers."""


def _bulk_ids(customers: Any) -> list[int]:
    """The ids of a queryset, a list of customers or a list of ids; refused past the limit."""
    if hasattr(customers, "values_list"):
        ids = list(
            customers.order_by()
            .select_related(None)
            .prefetch_related(None)
            .values_list("pk", flat=True)[: BULK_LIMIT + 1]
        )
    else:
        ids = [c if isinstance(c, int) else c.pk for c in customers]
    ids = sorted(set(ids))
    if len(ids) > BULK_LIMIT:
        raise BulkTooLarge(f"a bulk action changes at most {BULK_LIMIT} customers at once")
    return ids


def _bulk_record(
    *,
    ids: list[int],
    by: User | None,
    label: str,
    action: str,
    changes: dict[str, Any] | Callable[[int], dict[str, Any]],
    kind: str,
    data: dict[str, Any] | Callable[[int], dict[str, Any]],
    body: str = "",
    at: datetime | None = None,
    outbox: tuple[str, Callable[[int], dict[str, Any]]] | None = None,
) -> None:
    """One timeline entry, one audit row and (with ``outbox``: its kind and each customer's
    data) one outbox row per changed customer, in bulk inserts.

    ``changes`` and ``data`` are the same for every customer, or functions of its id."""
    changes_of = changes if callable(changes) else (lambda _pk: changes)
    data_of = data if callable(data) else (lambda _pk: data)
    from tend.accounts.audit_context import current_origin
    from tend.accounts.models import AuditEntry

    origin = current_origin()
    now = timezone.now()
    author = by if by is not None and by.pk else None
    TimelineEntry.objects.bulk_create(
        [
            TimelineEntry(
                customer_id=pk, kind=kind, author=author, body=body, data=data_of(pk), at=at or now
            )
            for pk in ids
        ],
        batch_size=_BULK_CHUNK,
    )
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                at=now,
                actor=author,
                actor_label=label or (by.username if by is not None else "system"),
                action=action,
                object_type=Customer._meta.label_lower,
                object_id=str(pk),
                changes=changes_of(pk),
                customer_id=pk,
                ip=origin.ip,
                via=origin.via,
            )
            for pk in ids
        ],
        batch_size=_BULK_CHUNK,
    )
    if outbox is not None:
        change_kind, outbox_of = outbox
        moment = at or now
        changes_record_bulk(
            (
                pk,
                change_kind,
                change_key(change_kind, pk, moment.isoformat(), outbox_of(pk)),
                outbox_of(pk),
                moment,
            )
            for pk in ids
        )


@transaction.atomic
def customers_bulk_tag(
    *,
    customers: Any,
    by: User | None,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    label: str = "",
) -> list[int]:
    """Add and/or remove tags on many customers; returns the ids of those that changed.

    A customer that already has every added tag and none of the removed ones is left alone:
    no timeline entry, no audit row.
    """
    ids = _bulk_ids(customers)
    add_names = sorted({n.strip()[:50] for n in add if n and n.strip()})
    remove_names = sorted({n.strip()[:50] for n in remove if n and n.strip()} - set(add_names))
    if not ids or not (add_names or remove_names):
        return []
    through = Customer.tags.through
    added: dict[int, list[str]] = {}
    removed: dict[int, list[str]] = {}
    if add_names:
        Tag.objects.bulk_create([Tag(name=n) for n in add_names], ignore_conflicts=True)
        tag_names = dict(Tag.objects.filter(name__in=add_names).values_list("pk", "name"))
        for chunk in chunks(ids, _BULK_CHUNK):
            have = set(
                through.objects.filter(
                    customer_id__in=chunk, tag_id__in=list(tag_names)
                ).values_list("customer_id", "tag_id")
            )
            missing = [
                through(customer_id=pk, tag_id=t)
                for pk in chunk
                for t in tag_names
                if (pk, t) not in have
            ]
            through.objects.bulk_create(missing, ignore_conflicts=True)
            for row in missing:
                added.setdefault(row.customer_id, []).append(tag_names[row.tag_id])
    if remove_names:
        rows = through.objects.filter(tag__name__in=remove_names)
        for chunk in chunks(ids, _BULK_CHUNK):
            found = rows.filter(customer_id__in=chunk)
            for pk, name in found.values_list("customer_id", "tag__name"):
                removed.setdefault(pk, []).append(name)
            found.delete()
    done = sorted(set(added) | set(removed))
    for chunk in chunks(done, _BULK_CHUNK):
        Customer.objects.filter(pk__in=chunk).update(updated_at=timezone.now())

    def change(pk: int) -> dict[str, Any]:
        return {"added": sorted(added.get(pk, [])), "removed": sorted(removed.get(pk, []))}

    _bulk_record(
        ids=done,
        by=by,
        label=label,
        action="customer.tags",
        changes=change,
        kind=TimelineKind.SYSTEM,
        data=lambda pk: {"msg": "tags_bulk", **change(pk)},
        outbox=(ChangeKind.TAGS, change),
    )
    return done


@transaction.atomic
def customers_bulk_set_owner(
    *, customers: Any, owner: User | None, by: User | None, label: str = ""
) -> list[int]:
    """Give many customers one owner (``None`` unassigns them); returns the changed ids."""
    ids = _bulk_ids(customers)
    owner_id = owner.pk if owner is not None else None
    olds: dict[int, int | None] = {}
    for chunk in chunks(ids, _BULK_CHUNK):
        qs = Customer.objects.filter(pk__in=chunk)
        qs = qs.exclude(owner_id=owner_id) if owner_id else qs.exclude(owner__isnull=True)
        before = dict(qs.values_list("pk", "owner_id"))
        if before:
            Customer.objects.filter(pk__in=list(before)).update(
                owner_id=owner_id, updated_at=timezone.now()
            )
            olds.update(before)
    done = sorted(olds)
    name = ""
    if owner is not None:
        name = owner.get_full_name() or owner.username
    _bulk_record(
        ids=done,
        by=by,
        label=label,
        action="customer.update",
        changes=lambda pk: {"owner": [olds[pk], owner_id]},
        kind=TimelineKind.SYSTEM,
        data={"msg": "owner_set", "owner": name},
        outbox=(
            ChangeKind.OWNER,
            lambda pk: {"from": olds[pk], "to": owner_id, "by": by.pk if by and by.pk else None},
        ),
    )
    return done


@transaction.atomic
def customers_bulk_change_stage(
    *,
    customers: Any,
    stage: str,
    by: User | None,
    reason: str = "",
    at: datetime | None = None,
    label: str = "",
) -> list[int]:
    """Move many customers to ``stage`` like ``customer_change_stage`` does one: each changed
    customer gets a StageChange, a timeline entry and an audit row. Returns the changed ids."""
    if stage not in Stage.values:
        raise ValueError(f"stage must be one of {Stage.values}")
    ids = _bulk_ids(customers)
    at = at or timezone.now()
    done: list[int] = []
    # One writer of bulk stage moves (``customers_change_stage_bulk``), a slice at a time.
    for chunk in chunks(ids, _BULK_CHUNK):
        found = list(Customer.objects.filter(pk__in=chunk).exclude(stage=stage).order_by("pk"))
        moved = customers_change_stage_bulk(
            moves=[(c, at) for c in found],
            stage=stage,
            by=by,
            reason=reason.strip()[:200],
            label=label,
        )
        done.extend(c.pk for c in moved)
    return done
