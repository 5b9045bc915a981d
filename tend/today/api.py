"""REST endpoints of the Today list: the ranked list, snooze, handled.

``GET /today`` returns the same items in the same order as the Today page and ``tend today``
(tend.today.queries.today_items). Writes need a role that writes and a read_write key; they
go through tend.today.actions, whose ValidationError becomes a 422 naming the field.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import Field as PydanticField

from tend.api.auth import Principal
from tend.api.schemas import (
    ERRORS,
    ERRORS_404,
    InputSchema,
    Money,
    Page,
    PageParams,
    PathId,
    StrictInt,
    UtcDatetime,
    paginate,
)
from tend.lib.money import reporting_currency
from tend.today.actions import MAX_SNOOZE_DAYS, today_date, today_handle, today_snooze
from tend.today.models import TodayItem
from tend.today.queries import TodayFilters, reason_text, today_items

router = Router(tags=["today"])

FORMULA = (
    "money_at_stake = monthly_value × risk; monthly_value = MRR, or for a customer without "
    "MRR the paid orders of the last 365 days ÷ 12; risk = 1 − Π(1 − riskᵢ) over the reasons."
)


class ReasonOut(Schema):
    signal: str = Field(..., description="The signal that found it, e.g. `renewal`.")
    key: str = Field(..., description="This occurrence; handled keys do not reopen the item.")
    risk: float
    text: str = Field(..., description="One line in the caller's language.")
    params: dict[str, Any]


class TodayItemOut(Schema):
    id: int
    rank: int = Field(..., description="1 = most money at stake.")
    customer_id: int
    customer_name: str
    owner: str | None = Field(..., description="Username of the customer's owner.")
    reason: str = Field(..., description="The first reason, one line.")
    reasons: list[ReasonOut]
    mrr: Money
    value_basis: str = Field(..., description="`mrr`, `orders` or `none`.")
    monthly_value: Money
    risk: float = Field(..., description="Combined risk, 0–1.")
    money_at_stake: Money = Field(..., description=FORMULA)
    health_colour: str = Field(..., description="`red`, `yellow`, `green` or empty.")
    state: str = Field(..., description="`open` or `snoozed` (a snooze that has ended).")
    snoozed_until: date | None
    handled_at: UtcDatetime | None
    first_seen: date
    day: date = Field(..., description="The day the list was computed for (UTC).")


class TodayPage(Page):
    items: list[TodayItemOut]


class TodayQuery(Schema):
    owner: Literal["all", "mine"] = Field("all", description="`mine`: customers you own.")
    signal: str = Field("", max_length=60, description="Only items with this reason.")


class SnoozeIn(InputSchema):
    days: Annotated[StrictInt, PydanticField(ge=1, le=MAX_SNOOZE_DAYS)] = Field(
        ..., description=f"Hide the item until today + days (UTC), 1–{MAX_SNOOZE_DAYS}."
    )


def _principal(request: HttpRequest) -> Principal:
    principal: Principal = request.auth  # type: ignore[attr-defined]
    return principal


def item_out(item: TodayItem) -> dict[str, Any]:
    currency = reporting_currency()
    customer = item.customer
    try:
        colour = customer.health.colour  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        colour = ""
    reasons = [
        {
            "signal": str(r.get("signal", "")),
            "key": str(r.get("key", "")),
            "risk": float(r.get("risk", 0)),
            "text": reason_text(r),
            "params": r.get("params") if isinstance(r.get("params"), dict) else {},
        }
        for r in item.reasons
    ]
    return {
        "id": item.pk,
        "rank": item.rank,
        "customer_id": customer.pk,
        "customer_name": customer.name,
        "owner": customer.owner.username if customer.owner is not None else None,
        "reason": reasons[0]["text"] if reasons else "",
        "reasons": reasons,
        "mrr": {"amount": Decimal(customer.mrr), "currency": currency},
        "value_basis": item.value_basis,
        "monthly_value": {"amount": Decimal(item.monthly_value), "currency": currency},
        "risk": item.risk,
        "money_at_stake": {"amount": Decimal(item.money_at_stake), "currency": currency},
        "health_colour": colour,
        "state": item.state,
        "snoozed_until": item.snoozed_until,
        "handled_at": item.handled_at,
        "first_seen": item.first_seen,
        "day": item.day,
    }


def _item(pk: int) -> TodayItem:
    item = (
        TodayItem.objects.select_related("customer", "customer__health", "customer__owner")
        .filter(pk=pk)
        .first()
    )
    if item is None:
        raise Http404(f"Today item {pk} not found.")
    return item


@router.get("/today", response={200: TodayPage, **ERRORS})
def today_list(
    request: HttpRequest, filters: Query[TodayQuery], paging: Query[PageParams]
) -> dict[str, Any]:
    """Customers who need attention today, most money at stake first (as the Today page)."""
    who = _principal(request)
    qs = today_items(
        on=today_date(),
        user=who.user,
        filters=TodayFilters(mine=filters.owner == "mine", signal=filters.signal),
    )
    page = paginate(qs, paging)
    page["items"] = [item_out(item) for item in page["items"]]
    return page


@router.post("/today/{item_id}/snooze", response={200: TodayItemOut, **ERRORS_404})
def today_snooze_endpoint(
    request: HttpRequest, item_id: PathId, payload: SnoozeIn
) -> dict[str, Any]:
    """Hide the item until today + ``days``; it comes back by itself on that day."""
    who = _principal(request)
    today_snooze(item=_item(item_id), days=payload.days, by=who.user, label=who.label)
    return item_out(_item(item_id))


@router.post("/today/{item_id}/handled", response={200: TodayItemOut, **ERRORS_404})
def today_handled_endpoint(request: HttpRequest, item_id: PathId) -> dict[str, Any]:
    """Mark the item handled: it comes back only when a reason with a new key appears."""
    who = _principal(request)
    today_handle(item=_item(item_id), by=who.user, label=who.label)
    return item_out(_item(item_id))
