"""The settings area: your own password and language (everyone); users, API keys and the
business settings in force (owners only: 403 for everyone else, before anything is read)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from tend.accounts.actions import (
    apikey_create,
    apikey_revoke,
    temporary_password,
    user_change_role,
    user_create,
    user_deactivate,
    user_reactivate,
    user_set_language,
    user_set_password,
)
from tend.accounts.business import business_settings, operational_settings
from tend.accounts.forms import ApiKeyForm, LanguageForm, PasswordForm, RoleForm, UserAddForm
from tend.accounts.models import ApiKey, ApiKeyKind, Role, User
from tend.lib.access import key_status, require_manage
from tend.ratelimit.actions import rate_limit_hit


def _me(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


def _secret(response: HttpResponse) -> HttpResponse:
    """A page holding a secret shown once: no copy in any cache or the browser's history."""
    response["Cache-Control"] = "no-store"
    return response


# --- your account (everyone) ----------------------------------------------------------------


def _account_page(
    request: HttpRequest,
    *,
    password_form: PasswordForm | None = None,
    language_form: LanguageForm | None = None,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    me = _me(request)
    return render(
        request,
        "accounts/account.html",
        {
            "section": "account",
            "password_form": password_form or PasswordForm(me),
            "language_form": language_form or LanguageForm(initial={"language": me.language}),
            "refusal": refusal,
        },
        status=status,
    )


@require_safe
def account(request: HttpRequest) -> HttpResponse:
    """Your password and your language."""
    return _account_page(request)


@require_POST
def password_change(request: HttpRequest) -> HttpResponse:
    """Django's password change: the old password and the new one twice; you stay logged in
    here, and every other session of yours is logged out."""
    me = _me(request)
    # Guessing the old password through a stolen session is held to the login form's rate.
    verdict = rate_limit_hit(scope="password", key=str(me.pk), rate=settings.TEND_RATE_LIMIT_LOGIN)
    if not verdict.allowed:
        response = _account_page(
            request,
            refusal=_("Too many attempts. Wait a few minutes and try again."),
            status=429,
        )
        response["Retry-After"] = str(verdict.retry_after)
        return response
    form = PasswordForm(me, request.POST)
    if not form.is_valid():
        return _account_page(request, password_form=form, status=422)
    user_set_password(user=me, password=form.cleaned_data["new_password1"], by=me)
    update_session_auth_hash(request, me)
    messages.success(request, _("Your password was changed."))
    return redirect("settings:account")


@require_POST
def language_change(request: HttpRequest) -> HttpResponse:
    """Store the language on the user, so it follows them to every device."""
    me = _me(request)
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return _account_page(request, language_form=form, status=422)
    language = form.cleaned_data["language"]
    user_set_language(user=me, language=language, by=me)
    response = redirect("settings:account")
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax", secure=settings.SECURE_COOKIES
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
    if language:
        translation.activate(language)  # the message below is read on a page in it
    messages.success(request, _("Your language was saved."))
    return response


# --- users (owners) ---------------------------------------------------------------------------


def _users_page(
    request: HttpRequest,
    *,
    form: UserAddForm | None = None,
    revealed: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    users = User.objects.order_by("-is_active", "username")
    response = render(
        request,
        "accounts/users.html",
        {
            "section": "users",
            "users": users,
            "form": form or UserAddForm(),
            "roles": Role.choices,
            "revealed": revealed,
            "me": _me(request),
        },
        status=status,
    )
    return _secret(response) if revealed else response


@require_http_methods(["GET", "POST"])
def users(request: HttpRequest) -> HttpResponse:
    """Everyone who can log in; owners add users here."""
    me = require_manage(request.user)
    if request.method != "POST":
        return _users_page(request)
    form = UserAddForm(request.POST)
    if not form.is_valid():
        return _users_page(request, form=form, status=422)
    data = form.cleaned_data
    generated = not data["password"]
    password = data["password"] or temporary_password()
    user = user_create(
        username=data["username"],
        password=password,
        role=data["role"],
        email=data["email"],
        first_name=data["first_name"],
        last_name=data["last_name"],
        by=me,
    )
    revealed = {"user": user, "password": password if generated else None, "added": True}
    return _users_page(request, revealed=revealed, status=201)


def _target(pk: int) -> User:
    return get_object_or_404(User, pk=pk)


@require_POST
def user_role(request: HttpRequest, pk: int) -> HttpResponse:
    me = require_manage(request.user)
    user = _target(pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("role", [])))
        return redirect("settings:users")
    try:
        user = user_change_role(user=user, role=form.cleaned_data["role"], by=me)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(user)s is now a %(role)s.")
            % {"user": user.username, "role": user.get_role_display().lower()},
        )
        if user.pk == me.pk and user.role != Role.OWNER:
            return redirect("settings:account")  # the users page is for owners only now
    return redirect("settings:users")


@require_POST
def user_deactivate_view(request: HttpRequest, pk: int) -> HttpResponse:
    me = require_manage(request.user)
    user = _target(pk)
    try:
        user_deactivate(user=user, by=me)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _(
                "%(user)s is deactivated: they cannot log in and their API keys are refused. "
                "Nothing they did is removed."
            )
            % {"user": user.username},
        )
    return redirect("settings:users")


@require_POST
def user_reactivate_view(request: HttpRequest, pk: int) -> HttpResponse:
    me = require_manage(request.user)
    user = user_reactivate(user=_target(pk), by=me)
    messages.success(
        request,
        _("%(user)s can log in again; their unrevoked API keys work again.")
        % {"user": user.username},
    )
    return redirect("settings:users")


@require_http_methods(["GET", "POST"])
def user_password_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask, then give a user a new temporary password, shown once on this response only."""
    me = require_manage(request.user)
    user = _target(pk)
    if request.method != "POST":
        return render(
            request, "accounts/user_password_reset.html", {"section": "users", "target": user}
        )
    password = temporary_password()
    user_set_password(user=user, password=password, by=me, reset=True)
    if user.pk == me.pk:
        update_session_auth_hash(request, me)
    return _users_page(request, revealed={"user": user, "password": password, "added": False})


# --- API keys (owners) --------------------------------------------------------------------


def _keys_page(
    request: HttpRequest,
    *,
    form: ApiKeyForm | None = None,
    created: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    keys = ApiKey.objects.select_related("created_by").order_by("revoked_at", "-created_at")
    rows = [{"key": key, "status": key_status(key)} for key in keys]
    response = render(
        request,
        "accounts/keys.html",
        {
            "section": "keys",
            "rows": rows,
            "form": form or ApiKeyForm(initial={"kind": ApiKeyKind.READ, "user": request.user}),
            "created": created,
        },
        status=status,
    )
    return _secret(response) if created else response


@require_http_methods(["GET", "POST"])
def keys(request: HttpRequest) -> HttpResponse:
    """Every API key, and a form to create one; the new key is shown on this response only."""
    me = require_manage(request.user)
    if request.method != "POST":
        return _keys_page(request)
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _keys_page(request, form=form, status=422)
    data = form.cleaned_data
    try:
        key, raw = apikey_create(name=data["name"], kind=data["kind"], user=data["user"], by=me)
    except ValidationError as exc:  # the user changed between the form and the action
        form.add_action_errors(exc)
        return _keys_page(request, form=form, status=422)
    return _keys_page(request, created={"key": key, "raw": raw}, status=201)


@require_http_methods(["GET", "POST"])
def key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask, then revoke: calls with the key are refused (401) from the next request on."""
    me = require_manage(request.user)
    key = get_object_or_404(ApiKey.objects.select_related("created_by"), pk=pk)
    if request.method == "POST":
        if key.revoked_at is None:
            apikey_revoke(key=key, by=me)
            messages.success(request, _("Revoked the key “%(name)s”.") % {"name": key.name})
        else:
            messages.info(
                request, _("The key “%(name)s” was already revoked.") % {"name": key.name}
            )
        return redirect("settings:keys")
    return render(
        request,
        "accounts/key_revoke.html",
        {"section": "keys", "key": key, "status": key_status(key)},
    )


# --- business settings (owners) -------------------------------------------------------------


@require_safe
def business(request: HttpRequest) -> HttpResponse:
    """The settings in force, read-only: they come from the environment."""
    require_manage(request.user)
    return render(
        request,
        "accounts/business.html",
        {
            "section": "business",
            "business": business_settings(),
            "operational": operational_settings(),
        },
    )
