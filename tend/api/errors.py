"""Every API error is JSON of one shape: ``{"detail": "...", "errors": [{"field", "message"}]}``.

=====  ======================================================================================
400    the body is not JSON (``field: "body"``)
401    no credentials, a malformed ``Authorization`` header, an unknown or revoked key
403    the key kind or the user's role does not allow this request, or the CSRF check failed
404    no object with that id
409    a unique value is taken (``field: "external_id"``)
422    a value is missing, of the wrong type or not allowed; each error names its field
500    a bug; the details are in the server log
=====  ======================================================================================
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from tend.api.parsing import BadText

logger = logging.getLogger(__name__)

# Where ninja puts a value (the first item of an error's ``loc``); path values name the field.
_LOCATIONS = {"body", "query", "path", "header", "cookie", "form", "file"}
BODY_PARAM = "payload"
QUERY_PARAMS = {"params", "filters", "paging"}  # the names endpoints give Query[...] schemas


class FieldError(Exception):
    """Raised by endpoints for a value the schema accepted but the data does not (unknown plan)."""

    def __init__(self, field: str, message: str, status: int = 422, code: str = "invalid") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.status = status
        self.code = code


# The code of a 422 for a well-formed value that names something that does not exist (a plan
# code, a username, a tag): the schema cannot list what is stored, so such a value is valid
# per the OpenAPI document and still refused.
UNKNOWN = "unknown"


def is_unique_violation(exc: IntegrityError) -> bool:
    """True for a unique constraint (409); False for e.g. SQLite's "datatype mismatch"."""
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    if sqlstate is not None:
        return bool(sqlstate == "23505")
    return "UNIQUE constraint failed" in str(exc)


def error_body(detail: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"detail": detail, "errors": errors or []}


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in _LOCATIONS:
        where = parts.pop(0)
        # ninja nests a body under the view's parameter name; every endpoint calls it payload.
        if where == "body" and parts and parts[0] == BODY_PARAM:
            parts.pop(0)
        if where == "query":
            # A query schema's errors may come nested under the view's parameter name and
            # with the index of a repeated value: the client sent ``channel``, say so.
            if len(parts) > 1 and parts[0] in QUERY_PARAMS:
                parts.pop(0)
            parts = parts[:1]
        if not parts:
            return str(where)
    return ".".join(str(p) for p in parts)


def install(api: NinjaAPI) -> None:
    """Register the handlers that give every error the documented shape."""

    def respond(
        request: HttpRequest, status: int, detail: str, errors: list[dict[str, Any]] | None = None
    ) -> HttpResponse:
        response = api.create_response(request, error_body(detail, errors), status=status)
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="tend"'
        return response

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [
            {
                "field": _field_of(e.get("loc", ())),
                "message": e.get("msg", "Invalid value."),
                "code": e.get("type", "invalid"),
            }
            for e in exc.errors
        ]
        return respond(request, 422, "Some values are not valid.", errors)

    @api.exception_handler(DjangoValidationError)
    def model_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        errors: list[dict[str, Any]] = []
        unique = False
        by_field = (
            exc.error_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.error_list}
        )
        for field, items in by_field.items():
            for item in items:
                unique = unique or item.code in {"unique", "unique_together"}
                errors.append(
                    {
                        "field": None if field == NON_FIELD_ERRORS else field,
                        "message": " ".join(item.messages),
                        "code": item.code or "invalid",
                    }
                )
        if unique:
            return respond(request, 409, "A value that must be unique is already taken.", errors)
        return respond(request, 422, "Some values are not valid.", errors)

    @api.exception_handler(BadText)
    def bad_text(request: HttpRequest, exc: BadText) -> HttpResponse:
        # From the parser: a query parameter (a body's arrives wrapped in HttpError, below).
        errors = [{"field": exc.field, "message": exc.message, "code": exc.code}]
        return respond(request, 422, "Some values are not valid.", errors)

    @api.exception_handler(FieldError)
    def field_error(request: HttpRequest, exc: FieldError) -> HttpResponse:
        errors = [{"field": exc.field, "message": exc.message, "code": exc.code}]
        detail = "Conflict." if exc.status == 409 else "Some values are not valid."
        return respond(request, exc.status, detail, errors)

    @api.exception_handler(IntegrityError)
    def integrity_error(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
        # Two writers raced past validation; the database's unique constraint decided. Any other
        # integrity error is a bug (SQLite once called an offset past 2**63 "datatype mismatch"
        # and it answered "taken"), so it stays a 500.
        if not is_unique_violation(exc):
            return server_error(request, exc)
        text = str(exc)
        field = "external_id" if "external_id" in text else None
        errors = [{"field": field, "message": "This value is already taken.", "code": "unique"}]
        return respond(request, 409, "A value that must be unique is already taken.", errors)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, str(exc) or "Not found.")

    @api.exception_handler(PermissionDenied)
    def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return respond(request, 403, str(exc) or "Permission denied.")

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc.__cause__, BadText):
            return bad_text(request, exc.__cause__)
        if exc.status_code == 400 and exc.__cause__ is not None:
            # ninja could not parse the body.
            message = f"Malformed JSON: {exc.__cause__}"
            errors = [{"field": "body", "message": message, "code": "json_invalid"}]
            return respond(request, 400, "The request body is not valid JSON.", errors)
        if isinstance(exc, AuthenticationError) and exc.message == "Unauthorized":
            return respond(request, 401, "Authentication required: send 'Bearer <key>'.")
        return respond(request, exc.status_code, str(exc))

    @api.exception_handler(Exception)
    def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
        return respond(request, 500, "Internal server error.")
