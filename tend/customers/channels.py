"""The founder's own list of acquisition channels: reads and writes.

``Customer.channel`` stores a channel's ``code``; the list starts with the built-in channels
(``Channel``) and the founder adds, renames, reorders and archives their own. Every surface
that offers or labels a channel — the customer form, the customers list, imports, the REST
API, the dashboard and goals — reads it through the functions here.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from tend.accounts.actions import audit_record
from tend.accounts.models import User
from tend.customers.models import AcquisitionChannel, Channel


def channel_choices(*, include_archived: bool = False) -> list[tuple[str, str]]:
    """``(code, label)`` pairs in the founder's order; archived channels only when asked."""
    qs = (
        AcquisitionChannel.objects.all()
        if include_archived
        else AcquisitionChannel.objects.offered()
    )
    return [(c.code, c.label) for c in qs.order_by("position", "code")]


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
