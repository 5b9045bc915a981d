"""Writes for users, API keys and the audit log."""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from tend.accounts.models import ApiKey, AuditEntry, Role, User
from tend.lib.access import key_kind_refusal
from tend.lib.db import db_datetime, insert_rows


def audit_record(
    *,
    by: User | None,
    action: str,
    obj: models.Model,
    changes: dict[str, Any] | None = None,
    label: str = "",
) -> AuditEntry:
    """Append one audit row: who (a user, or ``label`` like ``api:<key>``) did what to what."""
    return AuditEntry.objects.create(
        actor=by if by is not None and by.pk else None,
        actor_label=label or (by.username if by is not None else "system"),
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        changes=_jsonable(changes or {}),
    )


def audit_record_bulk(
    *,
    by: User | None,
    action: str,
    rows: Iterable[tuple[models.Model, dict[str, Any]]],
    label: str = "",
    at: datetime | None = None,
) -> int:
    """One audit row per (object, changes) pair, in one statement whatever their number: the
    bulk paths (imports, Stripe backfills) audit every row without a query per row. Returns
    the rows written."""
    at = db_datetime(at or timezone.now())
    actor = by.pk if by is not None and by.pk else None
    actor_label = label or (by.username if by is not None else "system")
    return insert_rows(
        AuditEntry,
        ["at", "actor", "actor_label", "action", "object_type", "object_id", "changes"],
        (
            (
                at,
                actor,
                actor_label,
                action,
                obj._meta.label_lower,
                str(obj.pk),
                json.dumps(_jsonable(changes or {})),
            )
            for obj, changes in rows
        ),
    )


def _jsonable(changes: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if isinstance(value, (list, tuple)) and len(value) == 2:
            out[key] = [_plain(value[0]), _plain(value[1])]
        else:
            out[key] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return str(value)


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: str = Role.MEMBER,
    email: str = "",
    by: User | None = None,
) -> User:
    """Create a login with ``role``; owners also get Django admin rights."""
    if role not in Role.values:
        raise ValueError(f"role must be one of {Role.values}")
    user = User.objects.create_user(
        username=username,
        email=email,
        password=password,
        role=role,
        is_staff=role == Role.OWNER,
        is_superuser=role == Role.OWNER,
    )
    audit_record(by=by, action="user.create", obj=user, changes={"role": role})
    return user


@transaction.atomic
def apikey_create(*, name: str, kind: str, by: User) -> tuple[ApiKey, str]:
    """Create a key acting for ``by`` and return it with the raw secret, which is never stored
    or shown again. A viewer may own ``read`` keys only (ValidationError on ``kind``)."""
    refusal = key_kind_refusal(by, kind)
    if refusal is not None:
        raise ValidationError({"kind": refusal}, code="kind_not_allowed")
    raw, lookup = ApiKey.generate(kind)
    key = ApiKey.objects.create(
        name=name, kind=kind, lookup=lookup, hashed=ApiKey.hash(raw), created_by=by
    )
    audit_record(by=by, action="apikey.create", obj=key, changes={"name": name, "kind": kind})
    return key, raw


@transaction.atomic
def apikey_revoke(*, key: ApiKey, by: User) -> ApiKey:
    """Revoke a key; requests with it are refused from now on."""
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    audit_record(by=by, action="apikey.revoke", obj=key)
    return key


def apikey_authenticate(raw: str) -> ApiKey | None:
    """Return the usable key matching ``raw``, compared in constant time, or None.

    Every surface that takes a key (REST API, tracking API) comes through here, so a revoked
    key and a key of a deactivated user are refused everywhere. What a usable key may do is
    decided by ``tend.lib.access.key_refusal``.
    """
    lookup = ApiKey.lookup_of(raw)
    if lookup is None:
        return None
    key = (
        ApiKey.objects.active()
        .filter(lookup=lookup, created_by__is_active=True)
        .select_related("created_by")
        .first()
    )
    if key is None or not hmac.compare_digest(key.hashed, ApiKey.hash(raw)):
        return None
    now = timezone.now()
    # Touch at most once a minute so a busy key does not write on every request.
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key
