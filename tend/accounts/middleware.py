"""Pages in the language a logged-in user chose in Settings (``User.language``).

Django's LocaleMiddleware runs before the user is known and picks the language from the
cookie or the browser. This runs after authentication: a user who chose a language sees it
on every device; a user who left the choice empty keeps what LocaleMiddleware picked. The
language menu in the page header stores its choice on the user too (``tend.web.views``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

LANGUAGE_CODES = frozenset(code for code, _name in settings.LANGUAGES)


class UserLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user is not None else ""
        if language in LANGUAGE_CODES and user is not None and user.is_authenticated:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
