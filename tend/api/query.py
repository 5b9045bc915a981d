"""Unknown query parameters are refused, on every operation, in one place.

A client that sends ``?q=acme`` to an endpoint that reads ``search`` used to get every row
back, as if it had asked for no filter at all. Every operation now compares the parameters it
was sent with the ones it declares (its ``Query[...]`` schemas) and answers 422 naming each
parameter it does not know, with the list of those it takes. Authentication still comes first:
a request without a key is a 401 whatever its query string.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from ninja.params.models import QueryModel

from tend.api.errors import error_body
from tend.api.parsing import text_problem

UNKNOWN_PARAMETER = "unknown_parameter"


def declared_query_params(operation: Any) -> frozenset[str]:
    """The query parameter names an operation takes (its aliases, as clients send them)."""
    names: set[str] = set()
    for model in operation.models:
        if isinstance(model, type) and issubclass(model, QueryModel):
            names.update(getattr(model, "__ninja_flatten_map__", {}) or model.model_fields)
    return frozenset(names)


def unknown_query_params(request: HttpRequest, allowed: frozenset[str]) -> list[str]:
    """The names in the request's query string the operation does not declare, sorted."""
    return sorted(set(request.GET.keys()) - allowed)


def refuse_unknown_query_params(run: Callable[..., HttpResponseBase]) -> Callable[..., Any]:
    """A "view" decorator for every operation (``api.add_decorator(..., mode="view")``)."""
    operation = getattr(run, "__self__", None)
    if operation is None:  # pragma: no cover - ninja always hands over a bound method
        return run
    allowed = declared_query_params(operation)

    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        unknown = unknown_query_params(request, allowed)
        if not unknown or any(text_problem(name) for name in unknown):
            # A NUL or lone surrogate in a name is the parser's 422, named as it names it.
            return run(request, *args, **kwargs)
        refused = operation._run_checks(request)  # a 401/403 comes before a 422
        if refused is not None:
            return refused  # type: ignore[no-any-return]
        takes = ", ".join(sorted(allowed)) or "none"
        errors = [
            {
                "field": name,
                "message": f"Unknown query parameter {name!r}; this endpoint takes: {takes}.",
                "code": UNKNOWN_PARAMETER,
            }
            for name in unknown
        ]
        detail = f"Unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}."
        return operation.api.create_response(  # type: ignore[no-any-return]
            request, error_body(detail, errors), status=422
        )

    return checked
