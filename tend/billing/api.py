"""Read-only REST endpoints for plans and subscriptions."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router

from tend.api.schemas import ERRORS, ERRORS_404, PageParams, paginate
from tend.billing.models import Plan, Subscription
from tend.billing.schemas import PlanPage, SubscriptionFilters, SubscriptionOut, SubscriptionPage

router = Router()


@router.get("/plans", response={200: PlanPage, **ERRORS}, tags=["billing"])
def plan_list(request: HttpRequest, paging: Query[PageParams]) -> dict[str, Any]:
    """All plans, cheapest first, including ones no longer offered."""
    return paginate(Plan.objects.order_by("price", "name", "pk"), paging)


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
def subscription_retrieve(request: HttpRequest, subscription_id: int) -> Subscription:
    """One subscription."""
    subscription = Subscription.objects.select_related("plan").filter(pk=subscription_id).first()
    if subscription is None:
        raise Http404(f"Subscription {subscription_id} not found.")
    return subscription
