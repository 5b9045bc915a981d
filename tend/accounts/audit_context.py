"""Where the current write comes from, for the audit log: the client's address and, for an
API call, the key's label. Set once per request by ``AuditContextMiddleware`` (and by
``audit_origin`` in CLI commands and tasks); ``audit_record`` reads it, so no action has to
pass the address along."""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class AuditOrigin:
    ip: str | None = None
    # "web", "api", "cli", "worker", "system": where the write was made.
    via: str = "system"


# A frozen dataclass: sharing the default is safe.
_origin: ContextVar[AuditOrigin] = ContextVar(
    "tend_audit_origin",
    default=AuditOrigin(),  # noqa: B039
)


def current_origin() -> AuditOrigin:
    return _origin.get()


@contextlib.contextmanager
def audit_origin(origin: AuditOrigin) -> Iterator[None]:
    token = _origin.set(origin)
    try:
        yield
    finally:
        _origin.reset(token)


def _address(value: str | None) -> str | None:
    """``value`` when it is an IP address, else None: X-Forwarded-For is text a proxy (or,
    misconfigured, a client) wrote, and the audit column takes addresses only."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


class AuditContextMiddleware:
    """Records the client's address (``client_ip``: REMOTE_ADDR, or the proxy's
    X-Forwarded-For entry under ``TEND_PROXY_COUNT``) for every write this request makes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from tend.ratelimit.rates import client_ip

        via = "api" if request.path.startswith(("/api/", "/v1/")) else "web"
        with audit_origin(AuditOrigin(ip=_address(client_ip(request)), via=via)):
            return self.get_response(request)
