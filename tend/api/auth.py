"""Who is calling the REST API, and may they make this request?

Two ways in, tried in this order:

1. ``Authorization: Bearer <key>`` with an API key. When the header is present it is the only
   credential considered: a malformed header or an unknown, revoked or orphaned key is a 401
   even if the browser also sends a session cookie.
2. The Django session of a logged-in user (the browser, the interactive docs). Unsafe methods
   must carry a CSRF token.

What a caller may do is decided in ``may_call`` from the key kind and the user's role:
``read`` keys and viewers only read, ``read_write`` keys and members/owners also write, and
``write`` keys (event ingestion) may not use this API at all. A key never does more than its
creator's role allows *now* (``tend.lib.access.key_refusal``, shared with the tracking API).
Every decision is made before the request body is parsed, so a denied
request changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja.errors import AuthenticationError, AuthorizationError
from ninja.security.apikey import APIKeyCookie
from ninja.security.http import HttpBearer
from ninja.utils import check_csrf

from tend.accounts.actions import apikey_authenticate
from tend.accounts.models import ApiKey, User
from tend.lib.access import can_write, key_refusal

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    """The caller: the acting user, and the key they used if any."""

    user: User
    key: ApiKey | None = None

    @property
    def label(self) -> str:
        """Audit label: ``api:<key name>`` for key calls, empty (= the username) for sessions."""
        return f"api:{self.key.name}" if self.key is not None else ""


def may_call(principal: Principal, method: str) -> str | None:
    """Return why ``principal`` may not make a ``method`` request, or None when it may."""
    safe = method.upper() in SAFE_METHODS
    if principal.key is not None:
        return key_refusal(principal.key, "read" if safe else "write")
    if safe or can_write(principal.user):
        return None
    return "Your role can view but not change data."


def _authorize(request: HttpRequest, principal: Principal) -> Principal:
    reason = may_call(principal, request.method or "GET")
    if reason is not None:
        raise AuthorizationError(message=reason)
    return principal


class KeyAuth(HttpBearer):
    """``Authorization: Bearer <key>``; see the module docstring."""

    def __call__(self, request: HttpRequest) -> Principal | None:
        value = request.headers.get(self.header)
        if value is None:
            return None  # no header: let the session have a go
        scheme, _, raw = value.strip().partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise AuthenticationError(
                message="Malformed Authorization header; send 'Bearer <key>'."
            )
        return self.authenticate(request, raw.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        key = apikey_authenticate(token)  # None for a revoked key or a deactivated user's
        if key is None:
            raise AuthenticationError(message="Invalid or revoked API key.")
        return _authorize(request, Principal(user=key.created_by, key=key))


class SessionAuth(APIKeyCookie):
    """A logged-in browser user; unsafe methods need a CSRF token."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=True)  # also tells the docs page to send the CSRF token

    def __call__(self, request: HttpRequest) -> Principal | None:
        user = request.user
        if not (user.is_authenticated and user.is_active):
            return None  # nobody logged in: a 401, not a CSRF 403
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise AuthorizationError(message="CSRF check failed; send the X-CSRFToken header.")
        assert isinstance(user, User)
        return _authorize(request, Principal(user=user))

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:  # pragma: no cover
        return None  # unused: __call__ decides


API_AUTH = [KeyAuth(), SessionAuth()]


def authenticate_request(request: HttpRequest) -> Principal | None:
    """Run the API's authentication on a plain Django view; raises like an API operation."""
    for method in API_AUTH:
        principal = method(request)
        if principal is not None:
            return principal
    return None


def openapi_auth(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorator for the OpenAPI document and docs page: a key or a login is needed there too."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from tend.api.errors import error_body

        try:
            principal = authenticate_request(request)
        except (AuthenticationError, AuthorizationError) as exc:
            return JsonResponse(error_body(str(exc)), status=exc.status_code)
        if principal is None:
            response = JsonResponse(error_body("Authentication required."), status=401)
            response["WWW-Authenticate"] = 'Bearer realm="tend"'
            return response
        return view(request, *args, **kwargs)

    return wrapper
