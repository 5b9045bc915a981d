"""Writes for users, API keys and the audit log."""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tend.accounts.audit_context import current_origin
from tend.accounts.models import ApiKey, AuditEntry, Role, User
from tend.lib.access import key_kind_refusal
from tend.lib.db import db_datetime, insert_rows


def audit_customer_id(obj: models.Model) -> int | None:
    """The customer a written object concerns: the customer itself, or its ``customer_id``."""
    if obj._meta.label_lower == "customers.customer":
        return obj.pk  # type: ignore[no-any-return]
    return getattr(obj, "customer_id", None)


def audit_record(
    *,
    by: User | None,
    action: str,
    obj: models.Model,
    changes: dict[str, Any] | None = None,
    label: str = "",
    customer_id: int | None = None,
) -> AuditEntry:
    """Append one audit row: who (a user, or ``label`` like ``api:<key>``) did what to what,
    from where (``tend.accounts.audit_context``), concerning which customer (``customer_id``,
    else derived from ``obj``)."""
    origin = current_origin()
    return AuditEntry.objects.create(
        actor=by if by is not None and by.pk else None,
        actor_label=label or (by.username if by is not None else "system"),
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        changes=_jsonable(changes or {}),
        customer_id=customer_id if customer_id is not None else audit_customer_id(obj),
        ip=origin.ip,
        via=origin.via,
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
    origin = current_origin()
    return insert_rows(
        AuditEntry,
        [
            "at",
            "actor",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "changes",
            "customer_id",
            "ip",
            "via",
        ],
        (
            (
                at,
                actor,
                actor_label,
                action,
                obj._meta.label_lower,
                str(obj.pk),
                json.dumps(_jsonable(changes or {})),
                audit_customer_id(obj),
                origin.ip,
                origin.via,
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
    first_name: str = "",
    last_name: str = "",
    by: User | None = None,
    label: str = "",
) -> User:
    """Create a login with ``role``; owners also get Django admin rights."""
    if role not in Role.values:
        raise ValueError(f"role must be one of {Role.values}")
    user = User.objects.create_user(
        username=username,
        email=email,
        password=password,
        role=role,
        first_name=first_name,
        last_name=last_name,
        is_staff=role == Role.OWNER,
        is_superuser=role == Role.OWNER,
    )
    audit_record(by=by, label=label, action="user.create", obj=user, changes={"role": role})
    return user


def temporary_password() -> str:
    """A random password to hand over once; its user should change it after logging in."""
    return secrets.token_urlsafe(12)


def _lock_owners_then(user: User) -> tuple[User, int]:
    """Lock every active owner's row (in id order, so two owners demoting each other at once
    queue instead of deadlocking, and cannot both succeed), then ``user``'s; return ``user``
    fresh and how many active owners there are besides them."""
    owners = list(
        User.objects.select_for_update()
        .filter(role=Role.OWNER, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    fresh = User.objects.select_for_update().get(pk=user.pk)
    return fresh, sum(1 for pk in owners if pk != user.pk)


@transaction.atomic
def user_change_role(*, user: User, role: str, by: User | None, label: str = "") -> User:
    """Give ``user`` another role. The last active owner cannot be demoted (ValidationError
    on ``role``): someone must always be able to manage users and keys."""
    if role not in Role.values:
        raise ValidationError({"role": _("Choose owner, member or viewer.")}, code="invalid_choice")
    user, other_owners = _lock_owners_then(user)
    if user.role == role:
        return user
    if user.role == Role.OWNER and user.is_active and other_owners == 0:
        raise ValidationError(
            {
                "role": _(
                    "%(user)s is the last active owner. Make another user an owner first, "
                    "so someone can still manage users and keys."
                )
                % {"user": user.username}
            },
            code="last_owner",
        )
    before = user.role
    user.role = role
    user.is_staff = user.is_superuser = role == Role.OWNER
    user.save(update_fields=["role", "is_staff", "is_superuser"])
    audit_record(by=by, label=label, action="user.role", obj=user, changes={"role": (before, role)})
    return user


@transaction.atomic
def user_deactivate(*, user: User, by: User | None, label: str = "") -> User:
    """Stop ``user`` from logging in; their API keys are refused from the next request on.
    Refused (ValidationError) for yourself and for the last active owner."""
    user, other_owners = _lock_owners_then(user)
    if by is not None and by.pk == user.pk:
        raise ValidationError(
            _("You cannot deactivate yourself. Ask another owner to do it."), code="self"
        )
    if not user.is_active:
        return user
    if user.role == Role.OWNER and other_owners == 0:
        raise ValidationError(
            _(
                "%(user)s is the last active owner and cannot be deactivated. Make another "
                "user an owner first."
            )
            % {"user": user.username},
            code="last_owner",
        )
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit_record(
        by=by, label=label, action="user.deactivate", obj=user, changes={"is_active": (True, False)}
    )
    return user


@transaction.atomic
def user_reactivate(*, user: User, by: User | None, label: str = "") -> User:
    """Let a deactivated user log in again; their unrevoked API keys work again."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        return user
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit_record(
        by=by, label=label, action="user.reactivate", obj=user, changes={"is_active": (False, True)}
    )
    return user


@transaction.atomic
def user_set_password(
    *, user: User, password: str, by: User | None, label: str = "", reset: bool = False
) -> User:
    """Set ``user``'s password (already validated by the caller's form). ``reset`` marks an
    owner handing out a temporary password; the audit row never holds the password."""
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(
        by=by,
        label=label,
        action="user.password_reset" if reset else "user.password_change",
        obj=user,
    )
    return user


@transaction.atomic
def user_set_language(*, user: User, language: str, by: User | None, label: str = "") -> User:
    """Choose the language of ``user``'s pages and emails; empty follows the browser."""
    codes = {code for code, _name in settings.LANGUAGES}
    if language and language not in codes:
        raise ValidationError(
            {"language": _("Choose one of: %(codes)s.") % {"codes": ", ".join(sorted(codes))}},
            code="invalid_choice",
        )
    if user.language == language:
        return user
    before = user.language
    user.language = language
    user.save(update_fields=["language"])
    audit_record(
        by=by,
        label=label,
        action="user.language",
        obj=user,
        changes={"language": (before, language)},
    )
    return user


@transaction.atomic
def apikey_create(
    *, name: str, kind: str, by: User, user: User | None = None, label: str = ""
) -> tuple[ApiKey, str]:
    """Create a key acting as ``user`` (default: ``by``) and return it with the raw secret,
    which is never stored or shown again. The key has exactly its user's rights; a viewer may
    own ``read`` keys only and a deactivated user none (ValidationError on ``kind``)."""
    owner = user if user is not None else by
    refusal = key_kind_refusal(owner, kind)
    if refusal is not None:
        raise ValidationError({"kind": refusal}, code="kind_not_allowed")
    raw, lookup = ApiKey.generate(kind)
    key = ApiKey.objects.create(
        name=name, kind=kind, lookup=lookup, hashed=ApiKey.hash(raw), created_by=owner
    )
    audit_record(
        by=by,
        label=label,
        action="apikey.create",
        obj=key,
        changes={"name": name, "kind": kind, "user": owner.username},
    )
    return key, raw


@transaction.atomic
def apikey_revoke(*, key: ApiKey, by: User | None, label: str = "") -> ApiKey:
    """Revoke a key; requests with it are refused from now on. Revoking twice keeps the
    first time."""
    if key.revoked_at is not None:
        return key
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    audit_record(by=by, label=label, action="apikey.revoke", obj=key)
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
