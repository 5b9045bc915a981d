"""The digest preview (``/digest/preview/``) and the preference form on the settings page.

The preview shows the logged-in user's digest as it would be sent now: the page frames the
email's own HTML (``/digest/preview/email/``), served with a policy of its own — the email
carries its stylesheet in a ``<style>`` element, as email clients need, which the pages' CSP
forbids; the framed document may run no script and is only framed by Tend's own pages.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from tend.accounts.models import DigestFrequency, User
from tend.digest.actions import (
    digest_day,
    digest_render,
    digest_set_frequency,
    local_now,
    may_receive,
)
from tend.digest.content import digest_build
from tend.digest.forms import DigestForm
from tend.web.csp import HEADER

# The framed email: its own <style> only; no script, no plugin, no form, framed by Tend only.
EMAIL_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)


def _me(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


def _rendered(request: HttpRequest):  # type: ignore[no-untyped-def]
    me = _me(request)
    now = timezone.now()
    digest = digest_build(user=me, day=local_now(now).date(), now=now)
    return digest, digest_render(digest)


@require_GET
def digest_preview(request: HttpRequest) -> HttpResponse:
    """Your digest as it would be sent now, in your language."""
    me = _me(request)
    digest, rendered = _rendered(request)
    now = timezone.now()
    return render(
        request,
        "digest/preview.html",
        {
            "digest": digest,
            "rendered": rendered,
            "frequency": me.get_digest_display(),
            "off": me.digest == DigestFrequency.OFF,
            "receives": may_receive(me),
            "due_now": digest_day(me.digest, now) is not None,
            "hour": settings.TEND_DIGEST_HOUR,
            "time_zone": settings.TIME_ZONE,
        },
    )


@require_GET
@xframe_options_sameorigin
def digest_preview_email(request: HttpRequest) -> HttpResponse:
    """The email's HTML alone, for the preview page's frame."""
    _digest, rendered = _rendered(request)
    response = HttpResponse(rendered.html, content_type="text/html; charset=utf-8")
    response[HEADER] = EMAIL_CSP
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def digest_preference(request: HttpRequest) -> HttpResponse:
    """Off, daily or weekly. Owners and members; a viewer's POST is refused (403)."""
    me = _me(request)
    if not may_receive(me):
        raise PermissionDenied("Viewers do not receive the digest.")
    form = DigestForm(request.POST)
    if form.is_valid():
        try:
            digest_set_frequency(user=me, frequency=form.cleaned_data["digest"], by=me)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Your digest choice was saved."))
        return redirect("settings:account")
    messages.error(
        request,
        _("Digest email: %(errors)s") % {"errors": " ".join(form.errors.get("digest", []))},
    )
    return redirect("settings:account")
