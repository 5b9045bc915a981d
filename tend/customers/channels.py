"""The founder's own list of acquisition channels: reads and writes.

``Customer.channel`` stores a channel's ``code``; the list starts with the built-in channels
(``Channel``) and the founder adds, renames, reorders and archives their own. Every surface
that offers or labels a channel — the customer form, the customers list, imports, the REST
API, the dashboard and goals — reads it through the functions here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from tend.accounts.actions import audit_record
from tend.accounts.models import User
from tend.customers.models import AcquisitionChannel, Channel


def channels_seed_defaults() -> None:
    """Put the built-in channels on an empty list (a new or emptied database).

    Migration 0005 seeds them; a database flushed afterwards (``tend flush``, a restore of
    another table set, tests that empty every table) would otherwise offer no channel at all.
    Does nothing when the list has any row, archived ones included.
    """
    if AcquisitionChannel.objects.exists():
        return
    AcquisitionChannel.objects.bulk_create(
        [AcquisitionChannel(code=code, position=i) for i, code in enumerate(Channel.values, 1)],
        ignore_conflicts=True,
    )


def channel_choices(*, include_archived: bool = False) -> list[tuple[str, str]]:
    """``(code, label)`` pairs in the founder's order; archived channels only when asked."""
    qs = (
        AcquisitionChannel.objects.all()
        if include_archived
        else AcquisitionChannel.objects.offered()
    )
    rows = [(c.code, c.label) for c in qs.order_by("position", "code")]
    if not rows and not AcquisitionChannel.objects.exists():
        channels_seed_defaults()
        rows = [(c.code, c.label) for c in qs.all().order_by("position", "code")]
    return rows


def channel_labels() -> dict[str, str]:
    """Every channel's label by code, archived ones included (old customers still show them)."""
    labels = {str(code): str(label) for code, label in Channel.choices}
    labels.update({c.code: c.label for c in AcquisitionChannel.objects.all()})
    return labels


def channel_label(code: str) -> str:
    """The label of one channel code; an unknown code is shown as it is."""
    return channel_labels().get(code, code)


def channel_code_for(text: str) -> str:
    """The code a new channel named ``text`` gets: a slug of at most 20 characters."""
    return slugify(text).replace("-", "_")[:20]


@transaction.atomic
def channel_create(
    *, code: str, by: User | None, name: str = "", position: int | None = None, label: str = ""
) -> AcquisitionChannel:
    """Add a channel to the founder's list."""
    channels_seed_defaults()
    if position is None:
        last = AcquisitionChannel.objects.order_by("-position").values_list("position", flat=True)
        position = (last.first() or 0) + 1
    channel = AcquisitionChannel(code=code, name=name, position=position)
    channel.full_clean()
    channel.save()
    audit_record(
        by=by,
        label=label,
        action="channel.create",
        obj=channel,
        changes={"code": code, "name": name},
    )
    return channel


@transaction.atomic
def channels_ensure(
    *, codes: Iterable[str], by: User | None, label: str = ""
) -> list[AcquisitionChannel]:
    """Create the channels in ``codes`` that do not exist yet (imports' "create missing")."""
    wanted = sorted({c for c in codes if c})
    channels_seed_defaults()
    existing = set(
        AcquisitionChannel.objects.filter(code__in=wanted).values_list("code", flat=True)
    )
    created = []
    for code in wanted:
        if code not in existing:
            created.append(channel_create(code=code, name=code, by=by, label=label))
    return created


@transaction.atomic
def channel_archive(*, channel: AcquisitionChannel, by: User | None, label: str = "") -> None:
    """Stop offering a channel; customers who came through it keep it."""
    if channel.archived_at is None:
        channel.archived_at = timezone.now()
        channel.save(update_fields=["archived_at"])
        audit_record(by=by, label=label, action="channel.archive", obj=channel, changes={})


# What a channel code may look like (``AcquisitionChannel.code`` is a 20-character slug).
CODE_PATTERN = r"[-a-zA-Z0-9_]{1,20}"


def channel_code_problem(code: str) -> str | None:
    """Why ``code`` is not one of the founder's channels (listing those offered), or None."""
    if not code or code in channel_labels():
        return None
    allowed = ", ".join(c for c, _label in channel_choices())
    return _("“%(value)s” is not one of your acquisition channels (%(allowed)s).") % {
        "value": code,
        "allowed": allowed,
    }


def channels_with_counts() -> Any:
    """Every channel in the founder's order, with its number of customers (one query)."""
    from tend.customers.models import Customer

    channels_seed_defaults()
    counts = (
        Customer.objects.filter(channel=OuterRef("code"))
        .order_by()
        .values("channel")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return AcquisitionChannel.objects.annotate(
        customer_count=Coalesce(Subquery(counts), 0)
    ).order_by("position", "code")


@transaction.atomic
def channel_rename(
    *, channel: AcquisitionChannel, name: str, by: User | None, label: str = ""
) -> AcquisitionChannel:
    """Give a channel the founder's own name (empty: a built-in channel's translated name)."""
    name = name.strip()
    if name != channel.name:
        old = channel.name
        channel.name = name
        channel.full_clean()
        channel.save(update_fields=["name"])
        audit_record(
            by=by, label=label, action="channel.rename", obj=channel, changes={"name": (old, name)}
        )
    return channel


@transaction.atomic
def channel_move(
    *, channel: AcquisitionChannel, to: int, by: User | None, label: str = ""
) -> AcquisitionChannel:
    """Put a channel at place ``to`` (0 = first) of the list; the others keep their order.

    Positions are renumbered 1, 2, 3, … so the order never depends on ties."""
    rows = list(AcquisitionChannel.objects.select_for_update().order_by("position", "code"))
    order = [c for c in rows if c.pk != channel.pk]
    to = max(0, min(to, len(order)))
    order.insert(to, channel)
    old = channel.position
    changed = []
    for i, c in enumerate(order, start=1):
        if c.position != i:
            c.position = i
            changed.append(c)
    if changed:
        AcquisitionChannel.objects.bulk_update(changed, ["position"])
        channel.position = to + 1
        audit_record(
            by=by,
            label=label,
            action="channel.move",
            obj=channel,
            changes={"position": (old, channel.position)},
        )
    return channel


@transaction.atomic
def channel_restore(*, channel: AcquisitionChannel, by: User | None, label: str = "") -> None:
    """Offer an archived channel again."""
    if channel.archived_at is not None:
        channel.archived_at = None
        channel.save(update_fields=["archived_at"])
        audit_record(by=by, label=label, action="channel.restore", obj=channel, changes={})


def channel_code_free(name: str) -> str:
    """A code not taken yet for a new channel named ``name``: its slug (``trade_fairs``), with
    ``_2``, ``_3``… when taken; ``channel_N`` for a name with no latin letters (“展会”)."""
    base = channel_code_for(name) or "channel"
    taken = set(
        AcquisitionChannel.objects.filter(code__startswith=base[:17]).values_list("code", flat=True)
    )
    if base not in taken and base != "channel":
        return base
    for n in range(2, 10_000):
        candidate = f"{base[: 20 - len(str(n)) - 1]}_{n}"
        if candidate not in taken:
            return candidate
    raise ValueError("no free channel code")  # pragma: no cover - 10,000 channels
