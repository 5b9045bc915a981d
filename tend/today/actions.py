"""Writes on the Today list: snooze an item, mark it handled, add a note from the list.

Each takes keyword arguments, refuses bad input with a ``ValidationError`` naming the field,
and records who did it in the audit log. Views, the REST API and the CLI all call these.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tend.accounts.actions import audit_record
from tend.accounts.models import User
from tend.customers.actions import customer_add_note
from tend.customers.models import Customer, TimelineEntry
from tend.lib.db import chunks
from tend.today.models import State, TodayItem

SNOOZE_CHOICES = (1, 3, 7, 14)  # what the page offers; the API and CLI take 1–MAX
MAX_SNOOZE_DAYS = 90
MAX_NOTE_LENGTH = 10_000


def today_date() -> date:
    """Today in UTC: the day snoozes are counted from."""
    return timezone.now().astimezone(UTC).date()


def _locked(item: TodayItem) -> TodayItem:
    locked = TodayItem.objects.select_for_update().get(pk=item.pk)
    if not locked.current:
        raise ValidationError(
            {"item": _("This customer is no longer on the Today list: nothing was changed.")},
            code="not_current",
        )
    return locked


@transaction.atomic
def today_snooze(*, item: TodayItem, days: int, by: User | None, label: str = "") -> TodayItem:
    """Hide ``item`` for ``days`` days: it shows again on today + days (UTC)."""
    if isinstance(days, bool) or not isinstance(days, int):
        raise ValidationError({"days": _("Give a whole number of days.")}, code="invalid")
    if not 1 <= days <= MAX_SNOOZE_DAYS:
        raise ValidationError(
            {"days": _("Snooze for 1 to %(max)d days.") % {"max": MAX_SNOOZE_DAYS}},
            code="range",
        )
    locked = _locked(item)
    locked.state = State.SNOOZED
    locked.snoozed_until = today_date() + timedelta(days=days)
    locked.snoozed_by = by if by is not None and by.pk else None
    locked.save(update_fields=["state", "snoozed_until", "snoozed_by", "updated_at"])
    audit_record(
        by=by,
        label=label,
        action="today.snooze",
        obj=locked,
        changes={"customer": locked.customer_id, "until": locked.snoozed_until.isoformat()},
    )
    return locked


@transaction.atomic
def today_handle(*, item: TodayItem, by: User | None, label: str = "") -> TodayItem:
    """Mark ``item`` handled: it leaves the list until a reason with a new key appears."""
    locked = _locked(item)
    keys = [str(r.get("key", "")) for r in locked.reasons]
    locked.handled_keys = sorted(set(locked.handled_keys or []) | set(keys))
    locked.state = State.HANDLED
    locked.snoozed_until = None
    locked.handled_at = timezone.now()
    locked.handled_by = by if by is not None and by.pk else None
    locked.save(
        update_fields=[
            "state", "snoozed_until", "handled_at", "handled_by", "handled_keys", "updated_at",
        ]
    )  # fmt: skip
    audit_record(
        by=by,
        label=label,
        action="today.handled",
        obj=locked,
        changes={"customer": locked.customer_id, "keys": keys},
    )
    return locked


def today_add_note(
    *, item: TodayItem, body: str, by: User | None, label: str = ""
) -> TimelineEntry:
    """Write a note on the item's customer timeline (the item itself does not change)."""
    if not isinstance(body, str) or not body.strip():
        raise ValidationError({"body": _("Write the note first: it is empty.")}, code="required")
    if len(body) > MAX_NOTE_LENGTH:
        raise ValidationError(
            {"body": _("A note has at most %(max)d characters.") % {"max": MAX_NOTE_LENGTH}},
            code="max_length",
        )
    if "\x00" in body:
        raise ValidationError(
            {"body": _("The note holds a NUL character; remove it.")}, code="null_character"
        )
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            {"body": _("The note holds a broken character (a lone surrogate); remove it.")},
            code="surrogate",
        ) from None
    return customer_add_note(customer=item.customer, by=by, body=body, label=label)


def today_owners_refresh(*, customer_ids: Iterable[int]) -> int:
    """Copy the current owner of these customers onto their Today items (one update per
    distinct owner); returns the items changed."""
    ids = sorted(set(customer_ids))
    by_owner: dict[int | None, list[int]] = {}
    for chunk in chunks(ids):
        rows = Customer.objects.filter(pk__in=chunk).values_list("pk", "owner")
        for pk, current in rows:
            by_owner.setdefault(current, []).append(pk)
    changed = 0
    for owner, pks in by_owner.items():
        for chunk in chunks(pks):
            stale = TodayItem.objects.filter(customer_id__in=chunk)
            if owner is None:
                stale = stale.filter(owner__isnull=False)
            else:
                stale = stale.exclude(owner_id=owner)
            changed += stale.update(owner_id=owner)
    return changed
