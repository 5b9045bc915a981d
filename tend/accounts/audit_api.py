"""``GET /api/v1/audit``: the audit log for owners, with the filters of the ``/audit/`` page.

Only an owner (by session, or a key of an owner; a ``read`` key is enough) may read it; any
other caller gets 403. Pages are cursor-based: pass the ``next_cursor`` of one answer as
``cursor`` to get the next (older) entries; a page costs the same however deep it is.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from tend.accounts.audit_queries import (
    MAX_PAGE_SIZE,
    MAX_TEXT,
    PAGE_SIZE,
    AuditFilterError,
    AuditFilters,
    entries_filtered,
    page_of,
    who,
)
from tend.api.auth import Principal
from tend.api.errors import FieldError
from tend.api.schemas import ERRORS, IsoDate, QueryId, QueryInt, UtcDatetime
from tend.lib.access import require_manage

router = Router(tags=["audit"])


class AuditEntryOut(Schema):
    id: int
    at: UtcDatetime
    who: str = Field(
        ..., description="The username, `api:<key name>` for a key, or `system`, `stripe`, …"
    )
    user: str | None = Field(..., description="The acting user (a key's user); null for none.")
    action: str = Field(..., description="e.g. `customer.update`.")
    object_type: str = Field(..., description="`app.model`, e.g. `customers.customer`.")
    object_id: str
    customer_id: int | None = Field(..., description="The customer the change concerned.")
    ip: str | None = Field(..., description="The client's address (web and API writes).")
    via: str = Field(..., description="`web`, `api`, `cli`, `worker` or `system`.")
    changes: dict[str, Any] = Field(
        ..., description="Changed fields: `[before, after]` pairs, or plain values."
    )


class AuditPageOut(Schema):
    items: list[AuditEntryOut]
    next_cursor: str | None = Field(
        ..., description="Pass as `cursor` for the next (older) page; null on the last page."
    )


class AuditQuery(Schema):
    user: str | None = Field(
        None,
        max_length=MAX_TEXT,
        description="A username (all their writes, also through their keys), or an exact "
        "actor label such as `api:crm-sync`, `system`, `stripe`.",
    )
    customer: QueryId | None = Field(None, description="Only entries about this customer id.")
    action: str | None = Field(
        None, max_length=MAX_TEXT, description="An exact action name, e.g. `customer.update`."
    )
    since: IsoDate | None = Field(
        None, description="First day included (business time zone, `TEND_TIME_ZONE`)."
    )
    until: IsoDate | None = Field(
        None, description="First day NOT included: `[since, until)` (business time zone)."
    )
    cursor: str | None = Field(
        None, max_length=200, description="`next_cursor` of the previous page."
    )
    limit: QueryInt = Field(
        PAGE_SIZE,
        ge=1,
        le=MAX_PAGE_SIZE,
        description=f"Entries per page, 1–{MAX_PAGE_SIZE}.",
    )


def _out(entry: Any) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "at": entry.at,
        "who": who(entry),
        "user": entry.actor.username if entry.actor else None,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "customer_id": entry.customer_id,
        "ip": entry.ip,
        "via": entry.via,
        "changes": entry.changes if isinstance(entry.changes, dict) else {},
    }


@router.get("/audit", response={200: AuditPageOut, **ERRORS})
def audit_list(request: HttpRequest, query: Query[AuditQuery]) -> dict[str, Any]:
    """Audit entries, newest first (owners only)."""
    principal: Principal = request.auth  # type: ignore[attr-defined]
    require_manage(principal.user)
    if query.since and query.until and query.until <= query.since:
        raise FieldError("until", "`until` must be after `since` ([since, until)).", 422, "range")
    filters = AuditFilters(
        user=(query.user or "").strip(),
        customer=query.customer,
        action=(query.action or "").strip(),
        since=query.since,
        until=query.until,
    )
    try:
        page = page_of(entries_filtered(filters), before=query.cursor or "", size=query.limit)
    except AuditFilterError as exc:
        raise FieldError("cursor", exc.message, 422, "invalid") from None
    return {"items": [_out(e) for e in page.entries], "next_cursor": page.older}
