"""Refuse, before any view runs, a page request whose address holds a NUL character.

PostgreSQL text cannot hold ``\\x00``, so ``/customers/?q=%00`` used to reach the database
and answer 500. Forms already refuse NUL in fields (Django's CharField); this covers query
strings and paths, which views read directly, in one place. The REST API (``/api/``) checks
its own inputs and answers in its JSON error shape (``tend.api.parsing``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _

API_PREFIX = "/api/"


class RefuseNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX) and _has_nul(request):
            return HttpResponseBadRequest(
                _("The address holds a NUL character, which Tend does not accept."),
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    return any(
        "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()
    )
