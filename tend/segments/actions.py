"""Writes for saved segments: create, change, delete.

Each runs in one transaction: the segment, its audit row and its first members (a refresh for
today, so a new or changed segment shows its members at once) are saved together or not at
all. Bad input raises ``ValidationError`` keyed by the field at fault; an invalid condition is
keyed ``condition`` and carries the condition path (``params["path"]``, e.g.
``all[1].any[0].value``) so the builder can show the message at that condition.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from tend.accounts.actions import audit_record
from tend.accounts.models import User
from tend.api.parsing import BadText, check_text
from tend.segments.conditions import ConditionError, condition_parse
from tend.segments.membership import segments_refresh
from tend.segments.models import Segment

NAME_MAX = 120
DESCRIPTION_MAX = 2_000
SEGMENT_FIELDS = frozenset({"name", "description", "condition"})
EVERY_CUSTOMER: dict[str, Any] = {"all": []}

# NUL cannot be stored by PostgreSQL; a lone surrogate cannot be encoded for either database.
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def _text_error(value: str) -> str | None:
    if _BAD_TEXT.search(value):
        return _("Remove the NUL or unpaired surrogate characters.")
    return None


def _clean_name(name: Any, *, segment: Segment | None) -> str:
    if not isinstance(name, str):
        raise ValidationError({"name": ValidationError(_("Give the name as text."), "invalid")})
    name = " ".join(name.split())
    problem = _text_error(name)
    if problem:
        raise ValidationError({"name": ValidationError(problem, "invalid")})
    if not name:
        raise ValidationError({"name": ValidationError(_("Give the segment a name."), "required")})
    if len(name) > NAME_MAX:
        raise ValidationError(
            {
                "name": ValidationError(
                    _("A name has at most %(max)d characters.") % {"max": NAME_MAX}, "max_length"
                )
            }
        )
    taken = Segment.objects.filter(name__iexact=name)
    if segment is not None and segment.pk:
        taken = taken.exclude(pk=segment.pk)
    if taken.exists():
        raise ValidationError({"name": _taken(name)})
    return name


def _taken(name: str) -> ValidationError:
    return ValidationError(
        _("A segment called “%(name)s” exists already.") % {"name": name}, "unique"
    )


def _clean_description(description: Any) -> str:
    if not isinstance(description, str):
        raise ValidationError(
            {"description": ValidationError(_("Give the description as text."), "invalid")}
        )
    description = description.strip()
    problem = _text_error(description)
    if problem:
        raise ValidationError({"description": ValidationError(problem, "invalid")})
    if len(description) > DESCRIPTION_MAX:
        raise ValidationError(
            {
                "description": ValidationError(
                    _("A description has at most %(max)d characters.") % {"max": DESCRIPTION_MAX},
                    "max_length",
                )
            }
        )
    return description


def condition_error(exc: ConditionError) -> ValidationError:
    """A ConditionError as the ``condition`` error of a ValidationError, path kept."""
    return ValidationError(
        {
            "condition": ValidationError(
                exc.text(),
                "condition",
                params={"path": exc.path, "message": exc.message, "field": exc.field},
            )
        }
    )


def _clean_condition(raw: Any, *, segment: Segment | None) -> dict[str, Any]:
    if raw is None:
        raw = dict(EVERY_CUSTOMER)
    try:
        check_text(raw)
    except BadText as exc:
        path = _bracketed(exc.field)
        raise ValidationError(
            {
                "condition": ValidationError(
                    _("Condition (at %(path)s): %(message)s")
                    % {"path": path, "message": exc.message},
                    "condition",
                    params={"path": path, "message": exc.message},
                )
            }
        ) from None
    try:
        # With the segment's id, a rule naming its own segment (directly or through others)
        # is refused.
        parsed = condition_parse(raw, segment_id=segment.pk if segment is not None else None)
    except ConditionError as exc:
        raise condition_error(exc) from None
    except RecursionError:
        raise ValidationError(
            {"condition": ValidationError(_("The condition is nested too deeply."), "condition")}
        ) from None
    return parsed.as_json()


def _bracketed(dotted: str) -> str:
    """``all.1.any.0.value`` (a dotted path) as a condition path: ``all[1].any[0].value``."""
    out = ""
    for part in dotted.split("."):
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


def segment_references(raw: Any, path: str = "") -> Iterator[tuple[str, int]]:
    """Every (condition path, segment id) a condition names through the ``segment`` field."""
    if isinstance(raw, dict):
        if raw.get("field") == "segment":
            value = raw.get("value")
            values = value if isinstance(value, list) else [value]
            for index, item in enumerate(values):
                try:
                    number = int(item)
                except (TypeError, ValueError):
                    continue
                where = f"{path}.value" if path else "value"
                yield (f"{where}[{index}]" if isinstance(value, list) else where), number
            return
        for key in ("all", "any"):
            children = raw.get(key)
            if isinstance(children, list):
                for index, child in enumerate(children):
                    step = f"{key}[{index}]"
                    yield from segment_references(child, f"{path}.{step}" if path else step)
        if "not" in raw:
            yield from segment_references(raw["not"], f"{path}.not" if path else "not")


def _refresh(segment: Segment) -> None:
    segments_refresh(segments=[segment])
    segment.refresh_from_db()


@transaction.atomic
def segment_create(
    *,
    by: User | None,
    name: Any,
    condition: Any = None,
    description: Any = "",
    label: str = "",
    refresh: bool = True,
) -> Segment:
    """Save a new segment and (``refresh``) its members as of today.

    Raises ``ValidationError`` naming the field (and for the condition, its path).
    """
    errors: dict[str, Any] = {}
    cleaned: dict[str, Any] = {}
    for field, clean in (
        ("name", lambda: _clean_name(name, segment=None)),
        ("description", lambda: _clean_description(description)),
        ("condition", lambda: _clean_condition(condition, segment=None)),
    ):
        try:
            cleaned[field] = clean()
        except ValidationError as exc:
            errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    segment = Segment(
        **cleaned,
        created_by=by if by is not None and by.pk else None,
        created_at=now,
        updated_at=now,
    )
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError:  # a racing create took the name after the check above
        raise ValidationError({"name": _taken(cleaned["name"])}) from None
    audit_record(by=by, label=label, action="segment.create", obj=segment, changes=cleaned)
    if refresh:
        _refresh(segment)
    return segment


@transaction.atomic
def segment_update(
    *,
    segment: Segment,
    by: User | None,
    label: str = "",
    refresh: bool = True,
    **fields: Any,
) -> Segment:
    """Change the fields given (name, description, condition); a new condition refreshes the
    members at once (``refresh``), recording who entered and left today."""
    unknown = set(fields) - SEGMENT_FIELDS
    if unknown:
        raise ValueError(f"not a segment field: {', '.join(sorted(unknown))}")
    cleaners = {
        "name": lambda v: _clean_name(v, segment=segment),
        "description": _clean_description,
        "condition": lambda v: _clean_condition(v, segment=segment),
    }
    errors: dict[str, Any] = {}
    cleaned: dict[str, Any] = {}
    for field, value in fields.items():
        try:
            cleaned[field] = cleaners[field](value)
        except ValidationError as exc:
            errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    changes = {
        field: (getattr(segment, field), value)
        for field, value in cleaned.items()
        if getattr(segment, field) != value
    }
    if not changes:
        return segment
    for field, (_before, after) in changes.items():
        setattr(segment, field, after)
    segment.updated_at = timezone.now()
    try:
        with transaction.atomic():
            segment.save(update_fields=[*changes, "updated_at"])
    except IntegrityError:
        raise ValidationError({"name": _taken(segment.name)}) from None
    audit_record(by=by, label=label, action="segment.update", obj=segment, changes=changes)
    if refresh and "condition" in changes:
        _refresh(segment)
    return segment


@transaction.atomic
def segment_delete(*, segment: Segment, by: User | None, label: str = "") -> None:
    """Delete a segment with its members and history. Refused (ValidationError) while another
    segment's condition or another app's record (a scorecard, a rule) uses it."""
    users = [
        (other.name, path)
        for other in Segment.objects.exclude(pk=segment.pk).order_by("name")
        for path, pk in segment_references(other.condition)
        if pk == segment.pk
    ]
    if users:
        names = ", ".join(f"“{name}” ({path})" for name, path in users)
        raise ValidationError(
            {
                "segment": ValidationError(
                    _("Segment: used in the condition of %(names)s; change those first.")
                    % {"names": names},
                    "protected",
                )
            }
        )
    audit_record(
        by=by,
        label=label,
        action="segment.delete",
        obj=segment,
        changes={"name": segment.name, "condition": segment.condition},
    )
    try:
        with transaction.atomic():
            segment.delete()
    except ProtectedError as exc:
        what = sorted({str(obj._meta.verbose_name) for obj in exc.protected_objects})
        raise ValidationError(
            {
                "segment": ValidationError(
                    _("Segment: still used by %(what)s; change those first.")
                    % {"what": ", ".join(what)},
                    "protected",
                )
            }
        ) from None
