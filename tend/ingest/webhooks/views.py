"""The Stripe webhook endpoint: rate limit → verify → parse → apply → answer. No session, no
CSRF token: Stripe authenticates each delivery with the signature instead. Deliveries are
counted per client address (TEND_RATE_LIMIT_WEBHOOKS); over it, 429 with Retry-After, and
Stripe delivers again later. A subscription in a currency with no exchange rate for the
event's day is answered 422 naming the currency; Stripe keeps retrying until a rate exists."""

from __future__ import annotations

import json
import logging
from typing import NoReturn

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tend.billing.currency import CurrencyError
from tend.ingest.actions import stats_add
from tend.ingest.models import Source
from tend.ingest.webhooks.actions import (
    NO_EXCHANGE_RATE,
    EventError,
    parse_event,
    stripe_event_receive,
)
from tend.ingest.webhooks.signature import SignatureError, verify_signature
from tend.ratelimit.actions import rate_limit_hit
from tend.ratelimit.rates import address_bucket, client_ip

log = logging.getLogger(__name__)


def _refuse(status: int, code: str, detail: str, *, field: str = "") -> JsonResponse:
    stats_add(source=Source.STRIPE, rejected={code: 1})
    # The code only: the header and the secret never reach the log.
    log.warning("Stripe webhook refused: %s", code)
    body = {"error": code, "detail": detail}
    if field:
        body["field"] = field
    return JsonResponse(body, status=status)


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


@csrf_exempt
@login_not_required
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    rate = settings.TEND_RATE_LIMIT_WEBHOOKS
    verdict = rate_limit_hit(scope="webhooks", key=address_bucket(client_ip(request)), rate=rate)
    if not verdict.allowed:
        response = _refuse(
            429,
            "rate_limited",
            f"This address sent more than {rate} (TEND_RATE_LIMIT_WEBHOOKS); "
            f"retry after {verdict.retry_after} s.",
        )
        response["Retry-After"] = str(verdict.retry_after)
        return response
    secret: str = settings.TEND_STRIPE_WEBHOOK_SECRET
    if not secret:
        return _refuse(
            503,
            "not_configured",
            "Stripe webhooks are off: set TEND_STRIPE_WEBHOOK_SECRET to the endpoint's "
            "signing secret (whsec_…).",
        )
    try:
        payload = request.body
    except RequestDataTooBig:
        return _refuse(413, "oversize", "The request body is larger than Tend accepts.")
    try:
        verify_signature(
            payload=payload,
            header=request.headers.get("Stripe-Signature"),
            secret=secret,
            tolerance=settings.TEND_STRIPE_WEBHOOK_TOLERANCE,
        )
    except SignatureError as exc:
        return _refuse(400, exc.code, exc.message)
    try:
        data = json.loads(payload, parse_constant=_no_constant)
    except RecursionError:
        return _refuse(400, "malformed_json", "The body is JSON nested too deeply to read.")
    except (UnicodeDecodeError, ValueError) as exc:
        # ValueError: JSONDecodeError, NaN/Infinity, an integer over 4,300 digits.
        return _refuse(400, "malformed_json", f"The body is not valid JSON: {exc}")
    try:
        event = parse_event(data)
    except EventError as exc:
        return _refuse(
            400, "invalid_event", f"The body is not a Stripe event: {exc}", field=exc.field
        )
    try:
        received = stripe_event_receive(event=event)
    except CurrencyError as exc:
        # Already recorded as failed and counted; any 4xx makes Stripe deliver it again, and
        # it is applied once the founder has added the rate.
        return JsonResponse(
            {
                "error": NO_EXCHANGE_RATE,
                "detail": str(exc),
                "field": "currency",
                "currency": exc.currency,
                "date": exc.day.isoformat(),
            },
            status=422,
        )
    except Exception:
        # Already recorded as failed and counted; a 5xx makes Stripe retry later.
        return JsonResponse(
            {"error": "processing_failed", "detail": "Tend could not apply this event."},
            status=500,
        )
    body: dict[str, object] = {"received": True, "outcome": received.outcome}
    if received.duplicate:
        body["duplicate"] = True
    return JsonResponse(body)
