from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_safe
from django.views.i18n import set_language as django_set_language

from tend.accounts.actions import user_set_language
from tend.ratelimit.actions import rate_limit_hit
from tend.ratelimit.rates import address_bucket, client_ip


@login_not_required
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch (cookie, back to ``next``), and for a logged-in user also
    their choice in Settings, so the language follows them to every device."""
    response = django_set_language(request)
    language = request.POST.get("language", "") if request.method == "POST" else ""
    user = request.user
    if user.is_authenticated and language in {code for code, _name in settings.LANGUAGES}:
        user_set_language(user=user, language=language, by=user)  # type: ignore[arg-type]
    return response


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return redirect("today:list")


def _wait_text(seconds: int) -> str:
    if seconds < 90:
        return ngettext(
            "Wait %(n)d second and try again.", "Wait %(n)d seconds and try again.", seconds
        ) % {"n": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext(
        "Wait %(n)d minute and try again.", "Wait %(n)d minutes and try again.", minutes
    ) % {"n": minutes}


def _refused(
    request: HttpRequest, *, username: str, message: str, retry_after: int
) -> HttpResponse:
    """The login page again, unfilled but for the user name, with why and how long to wait."""
    form = AuthenticationForm(request, initial={"username": username})
    response = render(
        request,
        LoginView.template_name,
        {
            "form": form,
            "next": request.POST.get("next", request.GET.get("next", "")),
            "refusal": f"{message} {_wait_text(retry_after)}",
        },
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response


class LoginView(auth_views.LoginView):
    """Django's login (already exempt from LoginRequiredMiddleware) with our template.

    Two guards: at most TEND_RATE_LIMIT_LOGIN submissions per client address (counted before
    any password is checked), and django-axes' lockout of a user name + address pair after
    TEND_LOGIN_FAILURE_LIMIT failures, answered by ``login_locked_out``.
    """

    template_name = "web/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        verdict = rate_limit_hit(
            scope="login",
            key=address_bucket(client_ip(request)),
            rate=settings.TEND_RATE_LIMIT_LOGIN,
        )
        if not verdict.allowed:
            return _refused(
                request,
                username=request.POST.get("username", ""),
                message=_("Too many login attempts from your network."),
                retry_after=verdict.retry_after,
            )
        return super().post(request, *args, **kwargs)


def login_locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict[str, Any] | None
) -> HttpResponse:
    """django-axes' lockout answer (AXES_LOCKOUT_CALLABLE): the login form, status 429.

    Every further failure restarts the wait, so the whole lockout period is the honest wait.
    """
    username = str((credentials or {}).get("username") or request.POST.get("username", ""))
    return _refused(
        request,
        username=username,
        message=_("Too many failed logins for this user name from your network."),
        retry_after=int(settings.AXES_COOLOFF_TIME.total_seconds()),
    )
