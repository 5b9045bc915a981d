"""The one small set of access checks every page and endpoint goes through.

Pages need a login (LoginRequiredMiddleware); writes need a role that may write. API keys act
with their user's rights on every surface (REST API and tracking API): ``key_refusal`` is the
one place that decides what a key may do. Keep every authorisation decision here so it is
tested once and read in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Literal, TypeVar

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from tend.accounts.models import ApiKey, ApiKeyKind, Role, User

F = TypeVar("F", bound=Callable[..., HttpResponse])


def can_write(user: Any) -> bool:
    """Owners and members change data; viewers only read."""
    return bool(user.is_authenticated and user.is_active and user.role in {Role.OWNER, Role.MEMBER})


def can_manage(user: Any) -> bool:
    """Only owners manage users, API keys and settings."""
    return bool(user.is_authenticated and user.is_active and user.role == Role.OWNER)


def require_write(user: Any) -> User:
    """Return the user when they may write, else raise PermissionDenied (HTTP 403)."""
    if not can_write(user):
        raise PermissionDenied("Your role can view but not change data.")
    return user  # type: ignore[no-any-return]


def require_manage(user: Any) -> User:
    """Return the user when they are an owner, else raise PermissionDenied (HTTP 403)."""
    if not can_manage(user):
        raise PermissionDenied("Only owners can do this.")
    return user  # type: ignore[no-any-return]


def write_view(view: F) -> F:
    """Decorator for views that change data: a viewer's POST is refused before the view runs."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in {"GET", "HEAD", "OPTIONS"}:
            require_write(request.user)
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


# --- API keys ----------------------------------------------------------------------------

KeyUse = Literal["read", "write", "ingest"]

# Kinds a user of each role may own: a viewer's key could only ever read, so a viewer may
# hold only ``read`` keys (sending events and REST writes both change data).
WRITING_KINDS = frozenset({ApiKeyKind.WRITE, ApiKeyKind.READ_WRITE})


def key_kind_refusal(user: Any, kind: str) -> str | None:
    """Why ``user`` may not own a key of ``kind``, or None when they may."""
    if not user.is_active:
        return _("%(user)s is deactivated and cannot own API keys.") % {"user": user.username}
    if kind in WRITING_KINDS and not can_write(user):
        return _(
            "%(user)s is a viewer. Viewers only read, so they may own read keys only, "
            "not %(kind)s keys."
        ) % {"user": user.username, "kind": kind}
    return None


def key_refusal(key: ApiKey, use: KeyUse) -> str | None:
    """Why ``key`` may not be used to ``read`` (REST GET), ``write`` (REST changes) or
    ``ingest`` (tracking API), or None when it may.

    A key never does more than its user may do now: a revoked key or a key of a deactivated
    user does nothing, a key of a user who is (or was later made) a viewer only reads.
    """
    if key.revoked_at is not None or not key.created_by.is_active:
        return "Invalid or revoked API key."
    if use == "ingest":
        if not key.can_ingest:
            return "this key cannot send events; use a write key"
        if not can_write(key.created_by):
            return (
                f"this key belongs to {key.created_by.username}, a {key.created_by.role}; "
                "viewers' keys cannot send events"
            )
        return None
    if key.kind == ApiKeyKind.WRITE:
        return "Write keys are for event ingestion only and cannot use the REST API."
    if use == "write":
        if not key.can_write:
            return "This API key can only read; use a read_write key to change data."
        if not can_write(key.created_by):
            return "Your role can view but not change data."
    return None


def key_status(key: ApiKey) -> str:
    """Whether ``key`` works now, and if not why, in words for the keys list (page and CLI)."""
    if key.revoked_at:
        return pgettext("API key status", "revoked %(date)s") % {
            "date": f"{key.revoked_at:%Y-%m-%d}"
        }
    if not key.created_by.is_active:
        return pgettext("API key status", "refused: user deactivated")
    if key.kind == ApiKeyKind.WRITE and not can_write(key.created_by):
        return pgettext("API key status", "refused: user is a viewer")
    if key.kind == ApiKeyKind.READ_WRITE and not can_write(key.created_by):
        return pgettext("API key status", "read only: user is a viewer")
    return pgettext("API key status", "active")
