"""CORS for the tracking API only, so analytics.js in a browser can send events to ``/v1/*``.

django-cors-headers does the work (origin parsing, ``Vary: Origin``, preflight answers); the
settings limit it to ``^/v1/`` and never allow credentials: the write key travels in the
``Authorization`` header or the body, not in a cookie, so a page on another site gains nothing
from a user's browser that it could not do with curl. This subclass adds two things:

- a preflight is answered ``204 No Content`` (the library answers 200 with an empty body);
- a call from a browser page whose ``Origin`` is not in ``TEND_TRACKING_CORS_ORIGINS`` is
  refused with 403 before it is stored. Without this, a ``sendBeacon`` or a ``text/plain``
  ``fetch`` (which need no preflight) from any site would still be stored, and the setting
  would only decide who may read the answer.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from corsheaders.conf import conf
from corsheaders.middleware import CorsMiddleware
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase

from tend.ingest.tracking.messages import Rejected
from tend.ingest.tracking.views import _error


class TrackingCorsMiddleware(CorsMiddleware):
    def check_preflight(self, request: HttpRequest) -> HttpResponseBase | None:
        response = super().check_preflight(request)
        if response is not None:
            response.status_code = 204
            del response["Content-Length"]
            return response
        if getattr(request, "_cors_enabled", False) and not self._origin_allowed(request):
            return self._refuse_origin(request)
        return None

    def _origin_allowed(self, request: HttpRequest) -> bool:
        origin = request.headers.get("Origin")
        if origin is None or conf.CORS_ALLOW_ALL_ORIGINS:
            return True  # not a browser call from a page, or any page may call
        try:
            url = urlsplit(origin)
        except ValueError:
            return False
        return self.origin_found_in_white_lists(origin, url)

    def _refuse_origin(self, request: HttpRequest) -> JsonResponse:
        origin = request.headers.get("Origin", "")[:200]
        reason = f"pages on {origin} may not send events here (TEND_TRACKING_CORS_ORIGINS)"
        return _error(Rejected("forbidden_origin", reason, "Origin", status=403))
