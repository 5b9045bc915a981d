"""The django-axes login guard, for logins made over HTTP only."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LoginGuardBackend(AxesStandaloneBackend):  # type: ignore[misc]
    """Refuses a locked-out user name + address before the password is checked.

    ``authenticate()`` called without a request (a script, a management command, a test) is
    no login over HTTP and has no address to lock out: the guard steps aside and Django's
    ModelBackend checks the password as before, instead of django-axes raising
    ``AxesBackendRequestParameterRequired``.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)  # type: ignore[no-any-return]
