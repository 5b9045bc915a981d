"""The one small set of access checks every page and endpoint goes through.

Pages need a login (LoginRequiredMiddleware); writes need a role that may write. Keep every
authorisation decision here so it is tested once and read in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from tend.accounts.models import Role, User

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
