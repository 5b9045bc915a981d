"""REST API shapes of plans and subscriptions (read-only: billing changes come from Stripe,
imports and the web pages, which keep the MRR ledger in step)."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema

from tend.api.schemas import Money, Page, UtcDatetime, money
from tend.billing.models import Plan, Subscription, SubscriptionStatus


class PlanOut(Schema):
    id: int
    code: str
    name: str
    interval: str
    price: Money
    is_active: bool = Field(..., description="Still offered to new customers.")

    @staticmethod
    def resolve_price(obj: Plan) -> dict[str, Any] | None:
        return money(obj.price, obj.currency)


class PlanPage(Page):
    items: list[PlanOut]


class SubscriptionOut(Schema):
    id: int
    customer_id: int
    plan: str | None = Field(..., description="Plan code.")
    external_id: str | None
    status: str
    mrr: Money
    interval: str
    quantity: int
    started_at: UtcDatetime
    trial_ends_at: UtcDatetime | None
    current_period_end: UtcDatetime | None
    canceled_at: UtcDatetime | None
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @staticmethod
    def resolve_plan(obj: Subscription) -> str | None:
        return obj.plan.code if obj.plan is not None else None

    @staticmethod
    def resolve_mrr(obj: Subscription) -> dict[str, Any] | None:
        return money(obj.mrr, obj.currency)


class SubscriptionPage(Page):
    items: list[SubscriptionOut]


class SubscriptionFilters(Schema):
    customer: int | None = Field(None, description="Customer id.")
    status: SubscriptionStatus | None = None
    plan: str | None = Field(None, description="Plan code.")
