"""``/healthz`` (liveness), ``/readyz`` (readiness) and ``/metrics`` (Prometheus).

``/healthz`` and ``/readyz`` need no login: load balancers call them. They say only which
check failed, in a word: no versions, host names, database names or error texts (those go to
the log). ``/metrics`` is for Prometheus: ``Authorization: Bearer`` with an owner's read or
read-write API key (checked by the REST API's own ``KeyAuth``), or ``TEND_METRICS_TOKEN``
when set. A member's or viewer's key gets 403: the counts describe the whole business.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from ninja.errors import AuthenticationError, AuthorizationError

from tend.api.auth import KeyAuth
from tend.lib.access import can_manage
from tend.observability.readiness import readiness

# Longer than any key Tend makes (about 70 characters) or a sensible token; refused unread.
MAX_CREDENTIAL = 512


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers HTTP. No database work, so a database outage does not
    make a load balancer restart every web process (that is /readyz's business)."""
    return JsonResponse({"status": "ok"})


@login_not_required
@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    ready, checks = readiness()
    failed = sorted(name for name, value in checks.items() if value not in {"ok", "not required"})
    body: dict[str, object] = {"status": "ok" if ready else "unavailable", "checks": checks}
    if failed:
        body["failed"] = failed
    return JsonResponse(body, status=200 if ready else 503)


def _refused(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"detail": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="tend-metrics"'
    return response


def _metrics_refusal(request: HttpRequest) -> JsonResponse | None:
    header = request.META.get("HTTP_AUTHORIZATION")
    if header is None:
        return _refused(401, "Send Authorization: Bearer <owner's API key or metrics token>.")
    if len(header) > MAX_CREDENTIAL or not header.isascii() or not header.isprintable():
        return _refused(401, "Malformed Authorization header.")
    scheme, _sep, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return _refused(401, "Malformed Authorization header; send 'Bearer <key>'.")
    configured = settings.TEND_METRICS_TOKEN
    if configured and hmac.compare_digest(token.encode(), configured.encode()):
        return None
    try:
        principal = KeyAuth().authenticate(request, token)
    except AuthenticationError:
        return _refused(401, "Invalid or revoked key.")
    except AuthorizationError as exc:
        return _refused(403, str(exc))
    if principal is None or not can_manage(principal.user):
        return _refused(403, "Only an owner's API key may read the metrics.")
    return None


@login_not_required
@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    refusal = _metrics_refusal(request)
    if refusal is not None:
        return refusal
    from tend.observability import prom  # see prom's docstring: imported late on purpose

    return HttpResponse(prom.exposition(), content_type=prom.content_type())
