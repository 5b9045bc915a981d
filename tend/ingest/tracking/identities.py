"""Identity messages of the tracking API (identify, group, alias): who a user id, an anonymous
id or a group id is, the customers and contacts they make or change (through the customers
app's actions) and the waiting events a new link brings home (``_merge``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from tend.accounts.models import User
from tend.activity.actions import customers_touch, rollups_rebuild
from tend.activity.models import DailyRollup, Event
from tend.changes.actions import changes_record_activity
from tend.customers.actions import contact_create, contact_update, customer_create, customer_update
from tend.customers.models import Contact, Customer, Kind
from tend.ingest.tracking.messages import (
    EVENT_TYPES,
    Message,
    Rejected,
    contact_fields,
    customer_fields,
)
from tend.ingest.tracking.models import Identity, PendingEvent
from tend.lib.db import pg_execute

# A busy customer's row is rewritten at most once a minute for its last-seen moment (events
# stored and events merged alike).
LAST_SEEN_SLACK = timedelta(minutes=1)


def b2c() -> bool:
    return bool(settings.TEND_BUSINESS_MODEL == "b2c")


class IdentityLink(NamedTuple):
    user_id: str
    customer_id: int | None
    contact_id: int | None


def _links(keys: set[str]) -> dict[str, IdentityLink]:
    """Identity rows by key; on the hot path of every batch, so one plain statement."""
    if not keys:
        return {}
    table = Identity._meta.db_table
    select = f"SELECT key, user_id, customer_id, contact_id FROM {table} WHERE key "
    if connection.vendor == "postgresql":
        rows = pg_execute(select + "= ANY(%b::text[])", [list(keys)])
    else:
        with connection.cursor() as cursor:
            cursor.execute(select + f"IN ({', '.join(['%s'] * len(keys))})", list(keys))
            rows = cursor.fetchall()
    return {key: IdentityLink(*rest) for key, *rest in rows}


def identities_find(keys: set[str]) -> dict[str, IdentityLink]:
    """Links for these identity keys, plus the users their anonymous ids were aliased to, plus
    users known only as a contact or customer external id (created by imports or by hand)."""
    found = _links(keys)
    aliased = {f"u:{i.user_id}" for i in found.values() if i.user_id and not i.customer_id}
    aliased -= set(found)
    if aliased:
        found.update(_links(aliased))
    unknown = {k[2:] for k in (keys | aliased) - set(found) if k.startswith("u:")}
    if unknown:
        rows: list[tuple[str | None, int, int | None]]
        if b2c():
            rows = [
                (ext, pk, None)
                for ext, pk in Customer.objects.filter(external_id__in=unknown).values_list(
                    "external_id", "pk"
                )
            ]
        else:
            rows = list(
                Contact.objects.filter(external_id__in=unknown).values_list(
                    "external_id", "customer_id", "pk"
                )
            )
        for external_id, customer_id, contact_id in rows:
            found[f"u:{external_id}"] = IdentityLink("", customer_id, contact_id)
    return found


# Above this many ids a batch's identity messages are looked up one by one (as without a batch).
BATCH_LOOKUP_LIMIT = 500


@dataclass
class _Batch:
    """The rows one batch's identity messages read, fetched in one query per table before the
    first message and kept up to date by the writes of the messages that follow (every read
    and write of these rows in the batch goes through here, so the objects are the ones the
    database holds). A message that fails (its savepoint rolled back) empties it: from then on
    every row is read from the database again."""

    identities: dict[str, Identity | None] = field(default_factory=dict)
    contacts: dict[str, Contact | None] = field(default_factory=dict)
    customers: dict[str, Customer | None] = field(default_factory=dict)
    # False when no event waits under any id of the batch: every merge has nothing to move.
    pending: bool = True
    touched: dict[int, Identity] = field(default_factory=dict)  # unchanged links, by pk
    message_touched: dict[int, Identity] = field(default_factory=dict)

    def clear(self) -> None:
        self.identities.clear()
        self.contacts.clear()
        self.customers.clear()
        self.pending = True
        self.message_touched.clear()


_BATCH: ContextVar[_Batch | None] = ContextVar("tracking_identity_batch", default=None)


@contextmanager
def identity_batch(messages: list[Message]) -> Iterator[None]:
    """Fetch what the identify, group and alias messages among ``messages`` will read (their
    identity rows, contacts, customers, and whether any event waits under their ids) in a few
    statements, for ``identity_apply`` inside the block; on leaving, move ``updated_at`` of the
    links they confirmed unchanged, in one statement. Call it after the batch's row locks."""
    identity = [m for m in messages if m.type not in EVENT_TYPES]
    batch = _Batch()
    users = {u for m in identity for u in (m.user_id, m.previous_id) if u}
    anonymous = {a for m in identity for a in (m.anonymous_id, m.previous_id) if a}
    groups = {m.group_id for m in identity if m.group_id}
    if identity and len(users) + len(anonymous) + len(groups) <= BATCH_LOOKUP_LIMIT:
        keys = {f"u:{u}" for u in users} | {f"a:{a}" for a in anonymous}
        batch.identities = dict.fromkeys(keys)
        for row in Identity.objects.filter(key__in=keys).select_related("customer", "contact"):
            batch.identities[row.key] = row
        people = set(users)
        companies = users | groups if b2c() else groups
        batch.contacts = dict.fromkeys(people)
        for contact in Contact.objects.filter(external_id__in=people).select_related("customer"):
            batch.contacts[str(contact.external_id)] = contact
        batch.customers = dict.fromkeys(companies)
        for customer in Customer.objects.filter(external_id__in=companies):
            batch.customers[str(customer.external_id)] = customer
        if users:
            aliased = Identity.objects.filter(user_id__in=users, key__startswith="a:")
            anonymous |= {key[2:] for key in aliased.values_list("key", flat=True)}
        batch.pending = PendingEvent.objects.filter(
            Q(user_id__in=users) | Q(anonymous_id__in=anonymous)
        ).exists()
    token = _BATCH.set(batch)
    try:
        yield
        if batch.touched:
            Identity.objects.filter(pk__in=sorted(batch.touched)).update(updated_at=timezone.now())
    finally:
        _BATCH.reset(token)


def _cached_identity(key: str) -> Identity | None:
    batch = _BATCH.get()
    if batch is not None and key in batch.identities:
        return batch.identities[key]
    identity = Identity.objects.filter(key=key).select_related("customer", "contact").first()
    if batch is not None:
        batch.identities[key] = identity
    return identity


def _cached_contact(external_id: str) -> Contact | None:
    batch = _BATCH.get()
    if batch is not None and external_id in batch.contacts:
        return batch.contacts[external_id]
    contact = Contact.objects.filter(external_id=external_id).select_related("customer").first()
    if batch is not None:
        batch.contacts[external_id] = contact
    return contact


def _cached_customer(external_id: str) -> Customer | None:
    batch = _BATCH.get()
    if batch is not None and external_id in batch.customers:
        return batch.customers[external_id]
    customer = Customer.objects.filter(external_id=external_id).first()
    if batch is not None:
        batch.customers[external_id] = customer
    return customer


def _remember(contact: Contact | None = None, customer: Customer | None = None) -> None:
    batch = _BATCH.get()
    if batch is None:
        return
    if contact is not None and contact.external_id:
        batch.contacts[str(contact.external_id)] = contact
    if customer is not None and customer.external_id:
        batch.customers[str(customer.external_id)] = customer


def identity_apply(message: Message, *, by: User | None, label: str) -> None:
    """Apply one identify, group or alias message in a savepoint (a refused one leaves no
    trace); a concurrent twin is retried once."""
    batch = _BATCH.get()
    try:
        try:
            with transaction.atomic():
                _identity_apply_once(message, by=by, label=label)
        except IntegrityError:
            # Another request created the same customer, contact or identity just now; now it
            # exists, so the second attempt updates it (read again from the database).
            if batch is not None:
                batch.clear()
            with transaction.atomic():
                _identity_apply_once(message, by=by, label=label)
    except BaseException:
        if batch is not None:
            batch.clear()  # the rolled-back writes may linger in the kept objects
        raise
    if batch is not None:
        batch.touched.update(batch.message_touched)
        batch.message_touched.clear()


def _identity_apply_once(message: Message, *, by: User | None, label: str) -> None:
    try:
        if message.type == "identify":
            _identify(message, by=by, label=label)
        elif message.type == "group":
            _group(message, by=by, label=label)
        else:
            _alias(message)
    except ValidationError as error:
        names = getattr(error, "error_dict", {})
        name = next(iter(names), "")
        raise Rejected(
            "bad_trait", "; ".join(error.messages), f"traits.{name}" if name else "traits"
        ) from None
    except ValueError as error:
        raise Rejected("bad_trait", str(error), "traits") from None


def customer_fields_from_traits(traits: dict[str, Any], *, kind: str) -> dict[str, Any]:
    """Customer fields from Segment traits; traits Tend has no column for go to ``traits``.

    The rules (and the flags they raise) live in ``messages.customer_fields``, which checked
    this message before the write."""
    return customer_fields(traits, kind=kind)[0]


def _customer_upsert(
    *, external_id: str, traits: dict[str, Any], kind: str, by: User | None, label: str
) -> Customer:
    fields = customer_fields_from_traits(traits, kind=kind)
    customer = _cached_customer(external_id)
    if customer is None:
        name = fields.pop("name", "") or fields.get("email") or external_id
        customer = customer_create(
            by=by, name=name, kind=kind, external_id=external_id, label=label, **fields
        )
        _remember(customer=customer)
        return customer
    fields.pop("signed_up_at", None)  # createdAt counts on creation only
    if "traits" in fields:
        fields["traits"] = {**customer.traits, **fields["traits"]}
    if not fields.get("name", True):
        fields.pop("name")
    return customer_update(customer=customer, by=by, label=label, **fields)


def contact_fields_from_traits(traits: dict[str, Any]) -> dict[str, Any]:
    return contact_fields(traits)[0]


def _contact_upsert(
    *,
    user_id: str,
    customer: Customer | None,
    traits: dict[str, Any],
    by: User | None,
    label: str,
) -> Contact | None:
    """Create or update the contact for ``user_id``; None while its customer is unknown."""
    fields = contact_fields_from_traits(traits)
    contact = _cached_contact(user_id)
    if contact is not None:
        if "traits" in fields:
            fields["traits"] = {**contact.traits, **fields["traits"]}
        return contact_update(contact=contact, by=by, label=label, **fields)
    if customer is None:
        return None
    name = fields.pop("name", "") or fields.get("email") or user_id
    contact = contact_create(
        customer=customer, by=by, name=name, external_id=user_id, label=label, **fields
    )
    _remember(contact=contact)
    return contact


def _identity_link(
    key: str,
    *,
    customer: Customer | None,
    contact: Contact | None = None,
    user_id: str = "",
    traits: dict[str, Any] | None = None,
) -> Identity:
    batch = _BATCH.get()
    if batch is not None and key in batch.identities and batch.identities[key] is None:
        # Known to be new: one INSERT (a concurrent twin raises IntegrityError, and the
        # message is run again by ``identity_apply``, reading from the database).
        created = Identity.objects.create(
            key=key,
            customer=customer,
            contact=contact,
            user_id=user_id,
            traits=traits if traits is not None else {},
            updated_at=timezone.now(),
        )
        batch.identities[key] = created
        return created
    identity = _cached_identity(key) if batch is not None else None
    if identity is None:
        identity, _ = Identity.objects.get_or_create(key=key)
        if batch is not None:
            batch.identities[key] = identity
    before = (identity.customer_id, identity.contact_id, identity.user_id, identity.traits)
    if customer is not None:
        identity.customer = customer
    if contact is not None:
        identity.contact = contact
    if user_id:
        identity.user_id = user_id
    if traits is not None:
        identity.traits = traits
    after = (identity.customer_id, identity.contact_id, identity.user_id, identity.traits)
    if batch is not None and before == after:
        # Nothing to write but the moment: one statement for the batch (``identity_batch``).
        batch.message_touched[identity.pk] = identity
        return identity
    identity.updated_at = timezone.now()
    identity.save()
    return identity


def _identify(message: Message, *, by: User | None, label: str) -> None:
    user_id, anonymous_id = message.user_id, message.anonymous_id
    if not user_id:
        # An anonymous identify: keep its traits for when the person signs up.
        _identity_link(f"a:{anonymous_id}", customer=None, traits=message.traits)
        return
    contact: Contact | None = None
    if b2c():
        customer: Customer | None = _customer_upsert(
            external_id=user_id, traits=message.traits, kind=Kind.PERSON, by=by, label=label
        )
    else:
        customer = None
        if message.group_id:
            customer = _customer_upsert(
                external_id=message.group_id, traits={}, kind=Kind.COMPANY, by=by, label=label
            )
        else:
            customer = _known_user(user_id)[0]
        contact = _contact_upsert(
            user_id=user_id, customer=customer, traits=message.traits, by=by, label=label
        )
        if contact is not None:
            customer = contact.customer if customer is None else customer
    pending_traits = None if customer is not None else message.traits
    _identity_link(f"u:{user_id}", customer=customer, contact=contact, traits=pending_traits)
    if anonymous_id:
        _identity_link(f"a:{anonymous_id}", customer=customer, contact=contact, user_id=user_id)
    if customer is not None:
        _merge(user_id=user_id, extra_anonymous=[anonymous_id], customer=customer, contact=contact)


def _group(message: Message, *, by: User | None, label: str) -> None:
    if b2c():
        return  # B2C: customers are people, made by identify; groups have no meaning here.
    customer = _customer_upsert(
        external_id=message.group_id, traits=message.traits, kind=Kind.COMPANY, by=by, label=label
    )
    user_id, anonymous_id = message.user_id, message.anonymous_id
    if not user_id:
        _identity_link(f"a:{anonymous_id}", customer=customer)
        _merge(user_id="", extra_anonymous=[anonymous_id], customer=customer, contact=None)
        return
    known = _cached_identity(f"u:{user_id}")
    contact = None
    if known is not None and known.traits:
        contact = _contact_upsert(
            user_id=user_id, customer=customer, traits=known.traits, by=by, label=label
        )
    else:
        contact = _cached_contact(user_id)
    if contact is not None and contact.customer_id != customer.pk:
        contact = None  # a person can be in several groups; they stay the contact of the first
    _identity_link(f"u:{user_id}", customer=customer, contact=contact, traits={})
    if anonymous_id:
        _identity_link(f"a:{anonymous_id}", customer=customer, contact=contact, user_id=user_id)
    _merge(user_id=user_id, extra_anonymous=[anonymous_id], customer=customer, contact=contact)


def _known_user(user_id: str) -> tuple[Customer | None, Contact | None]:
    """The customer and contact of a user id: linked by tracking, or created elsewhere (import,
    REST API, by hand) with it as the contact's (B2B) or customer's (B2C) external id."""
    identity = _cached_identity(f"u:{user_id}")
    if identity is not None and identity.customer is not None:
        return identity.customer, identity.contact
    if b2c():
        return _cached_customer(user_id), None
    contact = _cached_contact(user_id)
    return (contact.customer, contact) if contact is not None else (None, None)


def _alias(message: Message) -> None:
    user_id, previous_id = message.user_id, message.previous_id
    customer, contact = _known_user(user_id)
    if customer is None:
        customer, contact = _known_user(previous_id)
    if customer is not None:
        _identity_link(f"u:{user_id}", customer=customer, contact=contact)
    _identity_link(f"a:{previous_id}", customer=customer, contact=contact, user_id=user_id)
    if customer is not None:
        _merge(
            user_id=user_id,
            extra_anonymous=[previous_id],
            customer=customer,
            contact=contact,
            extra_users=[previous_id],
        )


def _merge(
    *,
    user_id: str,
    extra_anonymous: Iterable[str],
    customer: Customer,
    contact: Contact | None,
    extra_users: Iterable[str] = (),
) -> int:
    """Attach the waiting events of this user and its anonymous ids to ``customer``.

    Updates the events, recounts the affected customer's rollups from the first moved day and
    moves ``last_seen_at``. Returns the number of events moved.
    """
    batch = _BATCH.get()
    if batch is not None and not batch.pending:
        return 0  # no event waits under any id of this batch (looked up once for the batch)
    users = {u for u in [user_id, *extra_users] if u}
    anonymous = {a for a in extra_anonymous if a}
    if user_id:
        anonymous |= {
            key[2:]
            for key in Identity.objects.filter(user_id=user_id, key__startswith="a:").values_list(
                "key", flat=True
            )
        }
    waiting = PendingEvent.objects.none()
    if users:
        waiting = waiting | PendingEvent.objects.filter(user_id__in=users)
    if anonymous:
        waiting = waiting | PendingEvent.objects.filter(anonymous_id__in=anonymous)
    event_ids = list(waiting.values_list("event_id", flat=True))
    if not event_ids:
        return 0
    events = Event.objects.filter(pk__in=event_ids, customer__isnull=True)
    first = events.order_by("timestamp").values_list("timestamp", flat=True).first()
    last = events.order_by("-timestamp").values_list("timestamp", flat=True).first()
    moved = events.update(customer=customer, contact=contact)
    PendingEvent.objects.filter(event_id__in=event_ids).delete()
    if moved and first is not None and last is not None:
        rollups_rebuild(since=first.date(), customer_ids=[customer.pk])
        # The days these events now count on are the customer's activity too (one statement;
        # days recorded already are left as they are).
        days = (
            DailyRollup.objects.filter(customer=customer, day__gte=first.date())
            .order_by("day")
            .values_list("day", flat=True)
            .distinct()
        )
        changes_record_activity(dict.fromkeys((customer.pk, day) for day in days))
        customers_touch({customer.pk: last}, slack=LAST_SEEN_SLACK)
    return moved
