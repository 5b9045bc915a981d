"""Request metrics and the request id, in one cheap middleware (first in MIDDLEWARE).

Per request: two clock reads, a contextvar set for the log lines' ``request_id``, one counter,
one histogram observation and the in-flight gauge (docs/benchmarks.md has its cost).

The request id is the proxy's ``X-Request-ID`` when it looks like one (letters, digits,
``-_.:``, at most 64), else a new random one; it is sent back in ``X-Request-ID``.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from tend.observability import prom
from tend.observability.logconfig import request_id_var

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")


def _status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status <= 599 else "other"


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.metrics = prom.request_metrics()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        request.tend_request_id = request_id  # type: ignore[attr-defined]  # for django.request
        metrics = self.metrics
        metrics.in_flight.inc()
        start = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            response["X-Request-ID"] = request_id
            return response
        finally:
            elapsed = time.perf_counter() - start
            metrics.in_flight.dec()
            match = getattr(request, "resolver_match", None)
            route = (match.view_name or "unnamed") if match is not None else "unmatched"
            method = request.method if request.method in prom.METHODS else "other"
            metrics.requests.labels(method, route, _status_class(status)).inc()
            metrics.latency.labels(route).observe(elapsed)
            request_id_var.reset(token)
