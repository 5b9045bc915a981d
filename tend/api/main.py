"""The REST API, mounted at ``/api/v1/``; its OpenAPI document is ``/api/v1/openapi.json``."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.operation import Operation

from tend.api import errors
from tend.api.auth import API_AUTH, openapi_auth
from tend.api.parsing import TendParser
from tend.api.query import refuse_unknown_query_params
from tend.billing.api import router as billing_router
from tend.customers.api import router as customers_router
from tend.customers.channel_api import router as channels_router
from tend.metrics.api import router as metrics_router

DESCRIPTION = """
The REST API of Tend. Full guide with examples: `docs/api.md`.

## Authentication

Send an API key: `Authorization: Bearer <key>`. Create one under Settings → API keys
(owners) or with `tend apikey create --name NAME --kind read|read_write --user USERNAME`.

| Key kind | GET | POST / PATCH / DELETE |
|---|---|---|
| `read` | yes | 403 |
| `read_write` | yes | yes |
| `write` (event ingestion only) | 403 | 403 |

A key acts with exactly the rights its user has at the time of the call: a deactivated
user's keys are refused (401), a viewer's keys only read, and viewers may own read keys only.
A logged-in browser session works too; unsafe methods then need the `X-CSRFToken` header.
This document itself needs a key or a login.

## Paging

Lists take `limit` (1–200, default 50) and `offset` (0–1,000,000,000, default 0) and answer
`{"items": [...], "count": <total matching>, "limit": 50, "offset": 0}`.

## Query parameters

Each endpoint takes only the query parameters this document lists for it: any other is a 422
naming it (code `unknown_parameter`), so a misspelt filter never returns every row as if no
filter had been sent. `GET /customers` takes `q` (as in the web app's customers list) and its
older name `search`; they mean the same, and sending both with different values is a 422.

## Values

Money is `{"amount": "49.00", "currency": "USD"}` with the amount as a decimal string.
Datetimes are ISO 8601 in UTC (`2025-01-31T09:30:00Z`); a datetime sent without an offset
is taken as UTC. Plans are referred to by `code`, owners by `username`.

Input is strict: integers are JSON integers, booleans `true`/`false`, datetimes ISO 8601
text, amounts decimal strings; read-only and unknown fields are a 422. No string may hold a
NUL character (`\\u0000`) or a lone surrogate: a 422 naming the field (code
`null_character` or `surrogate`). A well-formed name of nothing stored is a 422 with code
`unknown`; values valid alone but not together (a range) one with code `range`.

## Errors

Every error is JSON: `{"detail": "summary", "errors": [{"field": "email", "message": "...",
"code": "..."}]}`; `errors` is empty when no field is at fault.

| Status | When |
|---|---|
| 400 | the body is not valid JSON (`field: "body"`) |
| 401 | no credentials, a malformed `Authorization` header, an unknown or revoked key |
| 403 | the key kind or role does not allow the request, or the CSRF check failed; nothing changed |
| 404 | no object with that id |
| 409 | a unique value, such as `external_id`, is already taken |
| 422 | a value is missing, of the wrong type, unknown (a field not in the schema) or not allowed |
"""


class TendAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        # Client generators name methods after these: customer_list, not tend_customers_api_…
        name: str = operation.view_func.__name__
        return name.removesuffix("_endpoint")


api = TendAPI(
    title="Tend API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=API_AUTH,
    docs_decorator=openapi_auth,
    parser=TendParser(),
)
errors.install(api)
api.add_decorator(refuse_unknown_query_params, mode="view")
api.add_router("", customers_router)
api.add_router("", channels_router)
api.add_router("", billing_router)
api.add_router("", metrics_router)
api.add_router("", "tend.goals.api.router")
api.add_router("", "tend.today.api.router")
api.add_router("", "tend.lifecycle.api.router")
api.add_router("", "tend.segments.behaviour_api.router")
api.add_router("", "tend.segments.api.router")
api.add_router("", "tend.health.api.router")
api.add_router("", "tend.messaging.api.router")
api.add_router("", "tend.tasks.api.router")
api.add_router("", "tend.messaging.template_api.router")
api.add_router("", "tend.playbooks.api.router")
api.add_router("", "tend.jobs.api.router")
api.add_router("", "tend.playbooks.experiment_api.router")
api.add_router("", "tend.privacy.api.router")
api.add_router("", "tend.accounts.audit_api.router")
api.add_router("", "tend.predict.lifetime_api.router")
api.add_router("", "tend.predict.api.router")
api.add_router("", "tend.predict.clv_api.router")


def openapi_schema() -> dict[str, Any]:
    """The OpenAPI document as a dict (for tests and tooling)."""
    return dict(api.get_openapi_schema())
