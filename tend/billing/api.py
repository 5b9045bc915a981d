"""REST endpoints: plans (list, create, change, archive, restore), subscriptions (read-only),
exchange rates (read and set).

Subscriptions are written only by Stripe, imports and the pages, so no endpoint here can meet
a missing exchange rate; the rates themselves are set through ``exchange_rate_set``, whose
ValidationError becomes a 422 naming the field.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from tend.api.auth import Principal
from tend.api.schemas import (
    ERRORS,
    ERRORS_404,
    ERRORS_409,
    IsoDate,
    PageParams,
    PathId,
    paginate,
)
from tend.billing.actions import (
    exchange_rate_delete,
    exchange_rate_set,
    plan_archive,
    plan_create,
    plan_restore,
    plan_update,
)
from tend.billing.models import ExchangeRate, Plan, Subscription
from tend.billing.schemas import (
    CurrencyPath,
    ExchangeRateFilters,
    ExchangeRateIn,
    ExchangeRateOut,
    ExchangeRatePage,
    PlanFilters,
    PlanIn,
    PlanOut,
    PlanPage,
    PlanPatch,
    SubscriptionFilters,
    SubscriptionOut,
    SubscriptionPage,
)

router = Router()


@router.get("/plans", response={200: PlanPage, **ERRORS}, tags=["billing"])
def plan_list(
    request: HttpRequest, filters: Query[PlanFilters], paging: Query[PageParams]
) -> dict[str, Any]:
    """All plans, cheapest first, including ones no longer offered (`is_active: false`)."""
    qs = Plan.objects.all()
    if filters.offered is True:
        qs = qs.offered()
    elif filters.offered is False:
        qs = qs.filter(is_active=False)
    return paginate(qs.order_by("price", "name", "pk"), paging)


def _plan(plan_id: int) -> Plan:
    plan = Plan.objects.filter(pk=plan_id).first()
    if plan is None:
        raise Http404(f"Plan {plan_id} not found.")
    return plan


@router.get("/plans/{plan_id}", response={200: PlanOut, **ERRORS_404}, tags=["billing"])
def plan_retrieve(request: HttpRequest, plan_id: PathId) -> Plan:
    """One plan."""
    return _plan(plan_id)


@router.post("/plans", response={201: PlanOut, **ERRORS_409}, tags=["billing"])
def plan_create_endpoint(request: HttpRequest, payload: PlanIn) -> Status[Plan]:
    """Create a plan, offered at once. Every field at fault is named in one 422; a code that
    another plan has is a 409; a currency code that is not in ISO 4217 is a 422."""
    who = _principal(request)
    plan = plan_create(**payload.model_dump(), by=who.user, label=who.label)
    return Status(201, plan)


@router.patch("/plans/{plan_id}", response={200: PlanOut, **ERRORS_409}, tags=["billing"])
def plan_update_endpoint(request: HttpRequest, plan_id: PathId, payload: PlanPatch) -> Plan:
    """Change the fields sent. Subscriptions already on the plan keep their own price and MRR."""
    who = _principal(request)
    return plan_update(
        plan=_plan(plan_id), by=who.user, label=who.label, **payload.model_dump(exclude_unset=True)
    )


@router.post("/plans/{plan_id}/archive", response={200: PlanOut, **ERRORS_404}, tags=["billing"])
def plan_archive_endpoint(request: HttpRequest, plan_id: PathId) -> Plan:
    """Stop offering the plan for new customers and subscriptions; those on it keep it.
    Archiving an archived plan changes nothing."""
    who = _principal(request)
    return plan_archive(plan=_plan(plan_id), by=who.user, label=who.label)


@router.post("/plans/{plan_id}/restore", response={200: PlanOut, **ERRORS_404}, tags=["billing"])
def plan_restore_endpoint(request: HttpRequest, plan_id: PathId) -> Plan:
    """Offer an archived plan again."""
    who = _principal(request)
    return plan_restore(plan=_plan(plan_id), by=who.user, label=who.label)


@router.get("/subscriptions", response={200: SubscriptionPage, **ERRORS}, tags=["billing"])
def subscription_list(
    request: HttpRequest, filters: Query[SubscriptionFilters], paging: Query[PageParams]
) -> dict[str, Any]:
    """Subscriptions, newest first."""
    qs = Subscription.objects.select_related("plan")
    if filters.customer is not None:
        qs = qs.filter(customer_id=filters.customer)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.plan:
        qs = qs.filter(plan__code=filters.plan)
    return paginate(qs.order_by("-started_at", "-pk"), paging)


@router.get(
    "/subscriptions/{subscription_id}",
    response={200: SubscriptionOut, **ERRORS_404},
    tags=["billing"],
)
def subscription_retrieve(request: HttpRequest, subscription_id: PathId) -> Subscription:
    """One subscription."""
    subscription = Subscription.objects.select_related("plan").filter(pk=subscription_id).first()
    if subscription is None:
        raise Http404(f"Subscription {subscription_id} not found.")
    return subscription


def _principal(request: HttpRequest) -> Principal:
    principal: Principal = request.auth  # type: ignore[attr-defined]
    return principal


@router.get("/exchange-rates", response={200: ExchangeRatePage, **ERRORS}, tags=["billing"])
def exchange_rate_list(
    request: HttpRequest, filters: Query[ExchangeRateFilters], paging: Query[PageParams]
) -> dict[str, Any]:
    """Stored exchange rates by currency, newest first within each currency."""
    qs = ExchangeRate.objects.select_related("created_by")
    if filters.currency:
        qs = qs.filter(currency=filters.currency.strip().upper())
    return paginate(qs.order_by("currency", "-valid_from", "pk"), paging)


@router.put(
    "/exchange-rates/{currency}/{valid_from}",
    response={200: ExchangeRateOut, **ERRORS},
    tags=["billing"],
)
def exchange_rate_set_endpoint(
    request: HttpRequest, currency: CurrencyPath, valid_from: IsoDate, payload: ExchangeRateIn
) -> ExchangeRate:
    """Set the rate of ``currency`` from ``valid_from`` (YYYY-MM-DD) on, replacing the one of
    that day if any: ``rate`` units of the reporting currency per 1 ``currency``. A code that
    is not three letters, the reporting currency itself or a rate of zero or less is a 422
    naming the field. Changes of MRR recorded from that day on use it."""
    who = _principal(request)
    rate = exchange_rate_set(
        currency=currency, rate=payload.rate, valid_from=valid_from, by=who.user, label=who.label
    )
    return ExchangeRate.objects.select_related("created_by").get(pk=rate.pk)


@router.delete(
    "/exchange-rates/{currency}/{valid_from}",
    response={204: None, **ERRORS_404},
    tags=["billing"],
)
def exchange_rate_delete_endpoint(
    request: HttpRequest, currency: CurrencyPath, valid_from: IsoDate
) -> Status[None]:
    """Remove the rate of ``currency`` that starts on ``valid_from``."""
    who = _principal(request)
    rate = ExchangeRate.objects.filter(currency=currency.upper(), valid_from=valid_from).first()
    if rate is None:
        raise Http404(f"No {currency.upper()} rate starts on {valid_from.isoformat()}.")
    exchange_rate_delete(rate=rate, by=who.user, label=who.label)
    return Status(204, None)
