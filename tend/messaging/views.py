"""Outbox pages: the send log and a message's attempts, the suppression list, webhook
endpoints (owners), and the public unsubscribe page (/u/<token>/)."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tend.lib.access import can_manage, can_write, require_manage, require_write
from tend.messaging.actions import (
    email_unsubscribe,
    message_cancel,
    message_retry,
    suppression_add,
    suppression_remove,
    webhook_endpoint_archive,
    webhook_endpoint_create,
    webhook_endpoint_rotate,
)
from tend.messaging.forms import MessageFilterForm, SuppressionForm, WebhookEndpointForm
from tend.messaging.models import (
    Channel,
    Message,
    MessageStatus,
    Suppression,
    SuppressionReason,
    WebhookEndpoint,
)
from tend.messaging.outbox import address_problem, is_suppressed
from tend.messaging.unsubscribe import unsubscribe_email
from tend.messaging.webhooks import secret_hint
from tend.ratelimit.actions import rate_limit_hit
from tend.ratelimit.rates import address_bucket, client_ip

# What an email's HTML may do inside the send log's preview frame: show itself with its own
# inline styles and embedded images, nothing else (no script, no request to any server, so
# opening the log never fires a tracking pixel).
HTML_PREVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
)

STATUS_BADGES: dict[str, str] = {
    MessageStatus.QUEUED.value: "text-bg-secondary",
    MessageStatus.SENDING.value: "text-bg-info",
    MessageStatus.SENT.value: "text-bg-success",
    MessageStatus.FAILED.value: "text-bg-danger",
    MessageStatus.SUPPRESSED.value: "text-bg-warning",
    MessageStatus.CANCELED.value: "text-bg-light border",
}


def _filtered(form: MessageFilterForm) -> QuerySet[Message]:
    messages_qs: QuerySet[Message] = Message.objects.select_related("customer")
    if not form.is_valid():
        return messages_qs.none()
    data = form.cleaned_data
    if data["status"]:
        messages_qs = messages_qs.filter(status=data["status"])
    if data["channel"]:
        messages_qs = messages_qs.filter(channel=data["channel"])
    if data["customer"]:
        messages_qs = messages_qs.filter(customer_id=data["customer"])
    if data["source"]:
        messages_qs = messages_qs.filter(source=data["source"])
    return messages_qs.order_by("-created_at", "-pk")


@require_GET
def message_list(request: HttpRequest) -> HttpResponse:
    """The send log: every email and webhook call, newest first, with filters."""
    form = MessageFilterForm(request.GET or None)
    if not request.GET:
        form = MessageFilterForm({})
    page = Paginator(_filtered(form), settings.TEND_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    sources = list(
        Message.objects.exclude(source="")
        .order_by("source")
        .values_list("source", flat=True)
        .distinct()[:50]
    )
    return render(
        request,
        "messaging/messages.html",
        {
            "form": form,
            "page": page,
            "rows": [(m, STATUS_BADGES.get(m.status, "")) for m in page.object_list],
            "query": query.urlencode(),
            "sources": sources,
            "status_counts": _status_counts(),
            "cap": settings.TEND_EMAIL_DAILY_CAP,
        },
        status=200 if form.is_valid() else 422,
    )


def _status_counts() -> list[tuple[str, str, int]]:
    counts = dict(
        Message.objects.order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return [(value, str(label), counts.get(value, 0)) for value, label in MessageStatus.choices]


@require_GET
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One message: its text, its HTML (in a sandboxed frame), and every attempt."""
    message = get_object_or_404(
        Message.objects.select_related("customer", "endpoint", "template", "user"), pk=pk
    )
    payload = ""
    if message.channel == Channel.WEBHOOK:
        payload = json.dumps(message.payload, indent=2, ensure_ascii=False, sort_keys=True)
    suppressed = message.channel == Channel.EMAIL and message.outreach and is_suppressed(message.to)
    return render(
        request,
        "messaging/message_detail.html",
        {
            "message": message,
            "badge": STATUS_BADGES.get(message.status, ""),
            "attempts": list(message.attempt_log.order_by("at", "pk")),
            "payload": payload,
            "can_write": can_write(request.user),
            "can_retry": message.status
            in (MessageStatus.FAILED, MessageStatus.CANCELED, MessageStatus.SUPPRESSED)
            and not suppressed,
            "can_cancel": message.status == MessageStatus.QUEUED,
            "suppressed": suppressed,
            "headers": sorted(message.headers.items()),
        },
    )


@require_GET
@xframe_options_sameorigin
def message_html(request: HttpRequest, pk: int) -> HttpResponse:
    """An email's HTML part on its own, for the detail page's sandboxed frame."""
    message = get_object_or_404(Message, pk=pk)
    response = HttpResponse(message.html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = HTML_PREVIEW_CSP
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def message_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a failed, canceled or suppressed message again (owners and members)."""
    user = require_write(request.user)
    message = get_object_or_404(Message, pk=pk)
    try:
        message_retry(message=message, by=user)
        messages.success(request, _("The message is queued to be sent again."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("messaging:detail", pk=pk)


@require_POST
def message_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a queued message (owners and members)."""
    user = require_write(request.user)
    message = get_object_or_404(Message, pk=pk)
    try:
        message_cancel(message=message, by=user)
        messages.success(request, _("The message was canceled; it will not be sent."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("messaging:detail", pk=pk)


# --- suppressions -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def suppression_list(request: HttpRequest) -> HttpResponse:
    """Addresses Tend never emails; owners and members add one by hand, owners remove."""
    form = SuppressionForm()
    status = 200
    if request.method == "POST":
        user = require_write(request.user)
        form = SuppressionForm(request.POST)
        if form.is_valid():
            _row, created = suppression_add(
                email=form.cleaned_data["email"],
                reason=SuppressionReason.MANUAL,
                note=form.cleaned_data["note"],
                by=user,
            )
            if created:
                messages.success(
                    request,
                    _("%(email)s added: Tend will not email it.")
                    % {"email": form.cleaned_data["email"]},
                )
            else:
                messages.info(
                    request,
                    _("%(email)s is on the list already.") % {"email": form.cleaned_data["email"]},
                )
            return redirect("messaging:suppressions")
        status = 422
    q = request.GET.get("q", "")[:254].replace("\x00", "")
    rows: QuerySet[Suppression] = Suppression.objects.all().order_by("-created_at", "-pk")
    if q.strip():
        rows = rows.filter(Q(email__icontains=q.strip().lower()) | Q(note__icontains=q.strip()))
    page = Paginator(rows, settings.TEND_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "messaging/suppressions.html",
        {
            "form": form,
            "page": page,
            "q": q,
            "can_write": can_write(request.user),
            "can_manage": can_manage(request.user),
        },
        status=status,
    )


@require_POST
def suppression_remove_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Take an address off the list (owners); an audit row records who did."""
    user = require_manage(request.user)
    suppression = get_object_or_404(Suppression, pk=pk)
    email = suppression.email
    suppression_remove(suppression=suppression, by=user)
    messages.success(request, _("%(email)s removed from the list.") % {"email": email})
    return redirect("messaging:suppressions")


# --- webhook endpoints --------------------------------------------------------------------


def _endpoints_page(
    request: HttpRequest,
    form: WebhookEndpointForm,
    *,
    secret: str = "",
    secret_for: WebhookEndpoint | None = None,
    status: int = 200,
) -> HttpResponse:
    endpoints = list(WebhookEndpoint.objects.order_by("archived_at", "name"))
    response = render(
        request,
        "messaging/webhooks.html",
        {
            "form": form,
            "rows": [(e, secret_hint(e.secret)) for e in endpoints],
            "secret": secret,
            "secret_for": secret_for,
            "can_manage": can_manage(request.user),
        },
        status=status,
    )
    if secret:
        response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def endpoint_list(request: HttpRequest) -> HttpResponse:
    """Webhook endpoints; owners add one (its secret is shown once), archive or rotate."""
    if request.method != "POST":
        return _endpoints_page(request, WebhookEndpointForm())
    user = require_manage(request.user)
    form = WebhookEndpointForm(request.POST)
    if not form.is_valid():
        return _endpoints_page(request, form, status=422)
    try:
        endpoint, secret = webhook_endpoint_create(
            name=form.cleaned_data["name"], url=form.cleaned_data["url"], by=user
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _endpoints_page(request, form, status=422)
    return _endpoints_page(
        request, WebhookEndpointForm(), secret=secret, secret_for=endpoint, status=201
    )


@require_POST
def endpoint_archive(request: HttpRequest, pk: int) -> HttpResponse:
    """Archive an endpoint (owners): nothing more is posted to it."""
    user = require_manage(request.user)
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    canceled = webhook_endpoint_archive(endpoint=endpoint, by=user)
    messages.success(
        request,
        _("“%(name)s” archived; %(count)s queued calls canceled.")
        % {"name": endpoint.name, "count": canceled},
    )
    return redirect("messaging:webhooks")


@require_POST
def endpoint_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    """A new signing secret for an endpoint (owners), shown once."""
    user = require_manage(request.user)
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    try:
        secret = webhook_endpoint_rotate(endpoint=endpoint, by=user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("messaging:webhooks")
    return _endpoints_page(request, WebhookEndpointForm(), secret=secret, secret_for=endpoint)


# --- unsubscribe (public) -----------------------------------------------------------------


@csrf_exempt  # RFC 8058: mail clients POST without a CSRF token; the signed token authorises.
@login_not_required
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a button that confirms; POST (that button, or a mail client's one-click
    ``List-Unsubscribe-Post``): the address goes on the suppression list."""
    verdict = rate_limit_hit(
        scope="unsubscribe",
        key=address_bucket(client_ip(request)),
        rate=settings.TEND_RATE_LIMIT_UNSUBSCRIBE,
    )
    if not verdict.allowed:
        response = render(
            request,
            "messaging/unsubscribe.html",
            {"state": "limited", "retry_after": verdict.retry_after},
            status=429,
        )
        response["Retry-After"] = str(verdict.retry_after)
        return response
    email = unsubscribe_email(token) if len(token) <= 1000 else None
    if email is None or address_problem(email) is not None:
        return render(request, "messaging/unsubscribe.html", {"state": "invalid"}, status=400)
    if request.method == "POST":
        email_unsubscribe(email=email)
        return render(request, "messaging/unsubscribe.html", {"state": "done", "email": email})
    return render(
        request,
        "messaging/unsubscribe.html",
        {
            "state": "confirm" if not is_suppressed(email) else "already",
            "email": email,
            "action": reverse("messaging:unsubscribe", args=[token]),
        },
    )
