"""Identity messages of the tracking API (identify, group, alias): who a user id, an anonymous
id or a group id is, the customers and contacts they make or change (through the customers
app's actions) and the waiting events a new link brings home (``_merge``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tend.accounts.models import User
from tend.activity.actions import customers_touch, rollups_rebuild
from tend.activity.models import DailyRollup, Event
from tend.changes.actions import changes_record_activity
from tend.customers.actions import contact_create, contact_update, customer_create, customer_update
from tend.customers.models import Contact, Customer, Kind
from tend.ingest.tracking.messages import Message, Rejected, contact_fields, customer_fields
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


def identity_apply(message: Message, *, by: User | None, label: str) -> None:
    """Apply one identify, group or alias message; a concurrent twin is retried once."""
    try:
        with transaction.atomic():
            _identity_apply_once(message, by=by, label=label)
    except IntegrityError:
        # Another request created the same customer, contact or identity just now; now it
        # exists, so the second attempt updates it.
        _identity_apply_once(message, by=by, label=label)


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
    customer = Customer.objects.filter(external_id=external_id).first()
    if customer is None:
        name = fields.pop("name", "") or fields.get("email") or external_id
        return customer_create(
            by=by, name=name, kind=kind, external_id=external_id, label=label, **fields
        )
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
    contact = Contact.objects.filter(external_id=user_id).first()
    if contact is not None:
        if "traits" in fields:
            fields["traits"] = {**contact.traits, **fields["traits"]}
        return contact_update(contact=contact, by=by, label=label, **fields)
    if customer is None:
        return None
    name = fields.pop("name", "") or fields.get("email") or user_id
    return contact_create(
        customer=customer, by=by, name=name, external_id=user_id, label=label, **fields
    )


def _identity_link(
    key: str,
    *,
    customer: Customer | None,
    contact: Contact | None = None,
    user_id: str = "",
    traits: dict[str, Any] | None = None,
) -> Identity:
    identity, _ = Identity.objects.get_or_create(key=key)
    if customer is not None:
        identity.customer = customer
    if contact is not None:
        identity.contact = contact
    if user_id:
        identity.user_id = user_id
    if traits is not None:
        identity.traits = traits
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
    known = Identity.objects.filter(key=f"u:{user_id}").first()
    contact = None
    if known is not None and known.traits:
        contact = _contact_upsert(
            user_id=user_id, customer=customer, traits=known.traits, by=by, label=label
        )
    else:
        contact = Contact.objects.filter(external_id=user_id).first()
    if contact is not None and contact.customer_id != customer.pk:
        contact = None  # a person can be in several groups; they stay the contact of the first
    _identity_link(f"u:{user_id}", customer=customer, contact=contact, traits={})
    if anonymous_id:
        _identity_link(f"a:{anonymous_id}", customer=customer, contact=contact, user_id=user_id)
    _merge(user_id=user_id, extra_anonymous=[anonymous_id], customer=customer, contact=contact)


def _known_user(user_id: str) -> tuple[Customer | None, Contact | None]:
    """The customer and contact of a user id: linked by tracking, or created elsewhere (import,
    REST API, by hand) with it as the contact's (B2B) or customer's (B2C) external id."""
    identity = Identity.objects.filter(key=f"u:{user_id}").select_related("customer").first()
    if identity is not None and identity.customer is not None:
        return identity.customer, identity.contact
    if b2c():
        return Customer.objects.filter(external_id=user_id).first(), None
    contact = Contact.objects.filter(external_id=user_id).select_related("customer").first()
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
