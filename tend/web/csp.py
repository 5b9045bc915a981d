"""Content-Security-Policy on every response, from ``settings.SECURE_CSP``.

Django 5.2 has no CSP of its own; Django 6 adds one with the same setting name and shape
(``SECURE_CSP = {"default-src": ["'self'"], …}``), so moving to it is a change of middleware.
Tend's pages load only their own files: no inline script, no CDN (see docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


def policy_text(policy: Mapping[str, Sequence[str] | bool]) -> str:
    """``{"default-src": ["'self'"], "upgrade-insecure-requests": True}`` as header text."""
    parts = []
    for directive, sources in policy.items():
        if isinstance(sources, bool):
            if sources:
                parts.append(directive)
        elif sources:
            parts.append(" ".join([directive, *sources]))
    return "; ".join(parts)


class ContentSecurityPolicyMiddleware:
    """Adds the policy unless the view set one itself (or ``SECURE_CSP`` is empty)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = policy_text(getattr(settings, "SECURE_CSP", {}))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Django's debug 404/500 pages (TEND_DEBUG only) are built with inline script and style.
        debug_page = settings.DEBUG and response.status_code in (404, 500)
        if self.header and HEADER not in response and not debug_page:
            response[HEADER] = self.header
        return response
