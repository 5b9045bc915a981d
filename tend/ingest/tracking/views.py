"""The Segment-compatible HTTP endpoints: ``POST /v1/<type>``, ``/v1/batch``, ``/v1/import``.

parse (size limits, gzip, JSON) → authorise (write key) → rate limit (per key) →
``tracking_ingest`` → answer. Every refusal is JSON
``{"success": false, "code", "message", "error": {"code", "field", "reason"}}`` (``code`` and
``message`` at the top are what the Segment and RudderStack SDKs read) and is counted in the
data-quality ledger; a rate-limited call (429) also carries ``Retry-After``.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tend.accounts.actions import apikey_authenticate
from tend.accounts.models import ApiKey
from tend.ingest.actions import stats_add
from tend.ingest.tracking.actions import SOURCE, tracking_ingest
from tend.ingest.tracking.messages import (
    BAD_TEXT,
    MAX_BATCH_BYTES,
    MAX_INFLATED_BYTES,
    MAX_MESSAGE_BYTES,
    Rejected,
    json_parse,
    parse_time,
    value_check,
)
from tend.lib.access import key_refusal
from tend.ratelimit.actions import rate_limit_hit

BATCH_KINDS = frozenset({"batch", "import"})


def _read_body(request: HttpRequest, limit: int) -> bytes:
    """The request body, inflated when gzip-encoded, refusing anything over ``limit``."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > limit:
        raise Rejected("too_large", f"the request body may not exceed {limit} bytes", status=413)
    body = request.read(limit + 1)
    if len(body) > limit:
        raise Rejected("too_large", f"the request body may not exceed {limit} bytes", status=413)
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding in {"gzip", "x-gzip"}:
        inflater = zlib.decompressobj(wbits=31)
        try:
            body = inflater.decompress(body, MAX_INFLATED_BYTES + 1)
        except zlib.error:
            raise Rejected("bad_gzip", "the body is not valid gzip data") from None
        if len(body) > MAX_INFLATED_BYTES or inflater.unconsumed_tail:
            raise Rejected(
                "too_large",
                f"the inflated body may not exceed {MAX_INFLATED_BYTES} bytes",
                status=413,
            )
        if len(body) > limit:
            raise Rejected(
                "too_large", f"the request body may not exceed {limit} bytes", status=413
            )
    elif encoding not in {"", "identity"}:
        raise Rejected(
            "bad_encoding", f"Content-Encoding {encoding!r} is not supported; use gzip", status=415
        )
    return body


def _parse_json(body: bytes) -> dict[str, Any]:
    data = json_parse(body)
    if not isinstance(data, dict):
        raise Rejected("bad_json", "the body must be a JSON object")
    return data


def _basic_key(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        raise Rejected(
            "unauthorized", "use HTTP Basic auth with the write key as user name", status=401
        )
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Rejected(
            "unauthorized", "the Authorization header is not valid Basic auth", status=401
        ) from None
    return decoded.partition(":")[0]


def _clean_key(raw: Any) -> str | None:
    """A write key as sent, or None when absent; one no key can be (a NUL, a lone surrogate,
    not ASCII) is refused here, before it reaches a database query."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or not raw.isascii() or BAD_TEXT.search(raw):
        raise Rejected("unauthorized", "unknown or revoked write key", status=401)
    return raw


def _authorise(raw_key: str | None) -> ApiKey:
    if not raw_key:
        raise Rejected(
            "unauthorized",
            "a write key is required (HTTP Basic user name, or writeKey in the body)",
            status=401,
        )
    key = apikey_authenticate(raw_key)  # None when revoked or its user is deactivated
    if key is None:
        raise Rejected("unauthorized", "unknown or revoked write key", status=401)
    refusal = key_refusal(key, "ingest")  # a read key, or a viewer's key
    if refusal is not None:
        raise Rejected("forbidden", refusal, "writeKey", status=403)
    return key


class Throttled(Rejected):
    """The write key sent more calls than TEND_RATE_LIMIT_TRACKING allows."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__("rate_limited", reason, status=429)
        self.retry_after = retry_after


def _throttle(key: ApiKey) -> None:
    """Count the call against the key's rate; Throttled when it is over."""
    rate = settings.TEND_RATE_LIMIT_TRACKING
    verdict = rate_limit_hit(scope="tracking", key=str(key.pk), rate=rate)
    if not verdict.allowed:
        raise Throttled(
            f"this write key sent more than {rate} (TEND_RATE_LIMIT_TRACKING); "
            f"retry after {verdict.retry_after} s",
            verdict.retry_after,
        )


def refusal(error: dict[str, Any], status: int) -> JsonResponse:
    """A refusal both official SDKs parse: ``code`` and ``message`` at the top (their
    ``APIError(status, code, message)``), Tend's ``error`` object with the field beside them."""
    body = {"success": False, "code": error["code"], "message": error["reason"], "error": error}
    return JsonResponse(body, status=status)


def _error(error: Rejected) -> JsonResponse:
    stats_add(source=SOURCE, rejected={error.code: 1})
    response = refusal(error.as_dict(), error.status)
    if isinstance(error, Throttled):
        response["Retry-After"] = str(error.retry_after)
    return response


@csrf_exempt
@login_not_required
@require_POST
def receive(request: HttpRequest, kind: str) -> JsonResponse:
    """One Segment call (``kind`` = its type) or a batch of them."""
    received_at = timezone.now()
    is_batch = kind in BATCH_KINDS
    try:
        header_key = _clean_key(_basic_key(request))
        if header_key is not None:
            key = _authorise(header_key)
            _throttle(key)  # before the body is read: a refused call costs little
        body = _read_body(request, MAX_BATCH_BYTES if is_batch else MAX_MESSAGE_BYTES)
        data = _parse_json(body)
        if header_key is None:
            body_key = data.get("writeKey")
            key = _authorise(_clean_key(body_key) if isinstance(body_key, str) else None)
            _throttle(key)
        if is_batch:
            raws = data.get("batch")
            if not isinstance(raws, list):
                raise Rejected("wrong_type", "batch must be a list of messages", "batch")
            context = data.get("context")
            if context is not None and not isinstance(context, dict):
                raise Rejected("wrong_type", "context must be a JSON object", "context")
            value_check(context, "context", depth=2)  # it is merged into every message
            sent_at = parse_time(data.get("sentAt"), "sentAt")
        else:
            raws, context, sent_at = [data], None, None
    except Rejected as error:
        return _error(error)
    result = tracking_ingest(
        raws=raws,
        by=key.created_by,  # the audit log names the key's user and the key
        label=f"api:{key.name}",
        received_at=received_at,
        default_type=None if is_batch else kind,
        batch_sent_at=sent_at,
        batch_context=context,
        # A message can only pass 32 KB if the whole body does.
        check_sizes=is_batch and len(body) > MAX_MESSAGE_BYTES,
    )
    if not is_batch and result.rejected:
        return refusal(result.rejected[0], 400)
    answer: dict[str, Any] = {"success": True}
    if result.rejected:
        answer["rejected"] = result.rejected
    if result.warnings:
        answer["flagged"] = result.warnings
    return JsonResponse(answer)
