"""REST API shapes of plans (read and write), subscriptions (read-only: billing changes come
from Stripe, imports and the web pages, which keep the MRR ledger in step), and of exchange
rates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.conf import settings
from ninja import Field, Schema
from pydantic import AfterValidator, WithJsonSchema
from pydantic import Field as PydanticField

from tend.api.schemas import (
    UNSET,
    Amount,
    DecimalText,
    InputSchema,
    Money,
    Page,
    PlanCode,
    QueryBool,
    QueryId,
    UtcDatetime,
    money,
)
from tend.billing.models import ExchangeRate, Plan, Subscription, SubscriptionStatus


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


class PlanFilters(Schema):
    offered: QueryBool | None = Field(
        None, description="true: only plans offered for new customers; false: only archived ones."
    )


PlanInterval = Literal["week", "month", "quarter", "year"]


def _iso_4217() -> list[str]:
    import pycountry

    return sorted(c.alpha_3 for c in pycountry.currencies)


ISO_4217 = _iso_4217()
_ISO_4217_SET = frozenset(ISO_4217)


def _currency(value: str) -> str:
    if value not in _ISO_4217_SET:
        raise ValueError(f"“{value}” is not an ISO 4217 currency code, such as USD or EUR.")
    return value


# An ISO 4217 code in capitals; the document lists them all, so what it calls valid is.
PlanCurrency = Annotated[
    str,
    AfterValidator(_currency),
    WithJsonSchema({"type": "string", "enum": ISO_4217, "description": "ISO 4217 code, e.g. EUR."}),
]
# Text with at least one character that is not a space (names are stored trimmed).
PlanName = Annotated[str, PydanticField(min_length=1, max_length=120, pattern=r"\S")]


class PlanIn(InputSchema):
    """A new plan, offered at once. A code another plan has is a 409."""

    code: PlanCode
    name: PlanName
    price: Amount = Field(..., description="Per billing interval; 0 or more, two decimals.")
    interval: PlanInterval = "month"
    currency: PlanCurrency | None = Field(None, description="Default: `TEND_CURRENCY`.")


class PlanPatch(InputSchema):
    """Change only the fields sent. Subscriptions already on the plan keep their own price."""

    code: PlanCode = Field(UNSET)
    name: PlanName = Field(UNSET)
    price: Amount = Field(UNSET)
    interval: PlanInterval = Field(UNSET)
    currency: PlanCurrency = Field(UNSET)


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
    customer: QueryId | None = Field(None, description="Customer id.")
    status: SubscriptionStatus | None = None
    plan: str | None = Field(None, max_length=60, description="Plan code.")


class ExchangeRateOut(Schema):
    id: int
    currency: str = Field(..., examples=["EUR"])
    rate: Decimal = Field(
        ...,
        examples=["1.08"],
        description="Units of the reporting currency for 1 unit of `currency`.",
    )
    reporting_currency: str = Field(..., examples=["USD"], description="`TEND_CURRENCY`.")
    valid_from: date = Field(..., description="First day (UTC) the rate applies to.")
    created_by: str | None = Field(..., description="Username of who set it.")
    created_at: UtcDatetime

    @staticmethod
    def resolve_rate(obj: ExchangeRate) -> Decimal:
        return Decimal(obj.rate_text)  # 1.08, not 1.08000000

    @staticmethod
    def resolve_reporting_currency(obj: ExchangeRate) -> str:
        from tend.billing.currency import reporting_currency

        return reporting_currency()

    @staticmethod
    def resolve_created_by(obj: ExchangeRate) -> str | None:
        return obj.created_by.username if obj.created_by is not None else None


class ExchangeRatePage(Page):
    items: list[ExchangeRateOut]


class ExchangeRateFilters(Schema):
    currency: str | None = Field(
        None, pattern=r"^[A-Za-z]{3}$", description="Only this currency, e.g. EUR."
    )


# The column holds 10 digits before the point and 8 after; zero is refused (not all zeros).
RATE_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,8})?$"
Rate = Annotated[Decimal, DecimalText(RATE_PATTERN, "1.08", **{"not": {"pattern": "^[0.]*$"}})]

_REPORTING = "".join(f"[{c.upper()}{c.lower()}]" for c in settings.TEND_CURRENCY)
# A currency code in a path: three letters, any case, not the reporting currency.
CurrencyPath = Annotated[
    str,
    PydanticField(pattern=r"^[A-Za-z]{3}$"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^[A-Za-z]{3}$",
            "not": {"pattern": f"^{_REPORTING}$"},
            "description": "ISO 4217 code, not the reporting currency (`TEND_CURRENCY`).",
        }
    ),
]


class ExchangeRateIn(InputSchema):
    rate: Rate = Field(
        ...,
        description="Units of the reporting currency for 1 unit of the currency; more than 0.",
    )
