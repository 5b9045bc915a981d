"""Reading Stripe API objects (as sent in webhook events) into Tend's terms. Pure functions.

The MRR of a subscription, in the subscription's currency:

    item MRR  = unit amount × quantity ÷ (months per interval × interval_count)
                − item-level discounts
    sub MRR   = Σ item MRR − subscription-level discounts, never below zero

with months per interval day = 12/365, week = 12/52, month = 1, year = 12. A percent_off
coupon multiplies by (1 − p/100); an amount_off coupon is an amount per invoice, so it is
spread over the billing period like a price. Coupons with ``duration: once`` and discounts
whose ``end`` has passed do not count: they do not recur. Metered and tiered prices have no
fixed amount and count as zero (their revenue shows up in invoices).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tend.billing.ledger import CENT
from tend.billing.models import MONTHS_PER_INTERVAL, Interval, SubscriptionStatus

# Currencies Stripe counts in whole units or thousandths instead of hundredths.
# https://docs.stripe.com/currencies#zero-decimal
ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA"}
    | {"PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})

MONTHS_PER_STRIPE_INTERVAL: dict[str, Decimal] = {
    "day": Decimal(12) / Decimal(365),
    "week": MONTHS_PER_INTERVAL[Interval.WEEK],
    "month": MONTHS_PER_INTERVAL[Interval.MONTH],
    "year": MONTHS_PER_INTERVAL[Interval.YEAR],
}

# Stripe's subscription statuses, one for one; only ``incomplete_expired`` (the first payment
# never came, a terminal state) has no status of its own and becomes canceled. Which of them
# count towards MRR is decided in ``billing.models.MRR_STATUSES``.
STATUS_MAP: dict[str, str] = {
    "incomplete": SubscriptionStatus.INCOMPLETE,
    "trialing": SubscriptionStatus.TRIALING,
    "active": SubscriptionStatus.ACTIVE,
    "past_due": SubscriptionStatus.PAST_DUE,
    "unpaid": SubscriptionStatus.UNPAID,
    "paused": SubscriptionStatus.PAUSED,
    "canceled": SubscriptionStatus.CANCELED,
    "incomplete_expired": SubscriptionStatus.CANCELED,
}


def to_major(amount: Any, currency: str) -> Decimal:
    """A Stripe amount in minor units (cents, or yen for JPY) as a Decimal in major units."""
    value = Decimal(str(amount or 0))
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return value
    if code in THREE_DECIMAL:
        return value / 1000
    return value / 100


def to_minor(amount: Decimal, currency: str) -> Decimal:
    """A major-unit amount (49.00 USD, as Dashboard exports write it) in Stripe's minor units."""
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return amount
    if code in THREE_DECIMAL:
        return amount * 1000
    return amount * 100


def from_timestamp(value: Any) -> datetime | None:
    """A Stripe unix timestamp as an aware UTC datetime; None stays None."""
    if value in (None, ""):
        return None
    return datetime.fromtimestamp(int(value), tz=UTC)


def object_id(value: Any) -> str:
    """The id of an expandable field, whether Stripe sent the id or the expanded object."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


@dataclass(frozen=True)
class PlanTerms:
    code: str
    name: str
    price: Decimal
    interval: str
    currency: str


@dataclass(frozen=True)
class SubscriptionTerms:
    status: str | None  # None: a status Stripe may add later that Tend does not know yet
    mrr: Decimal
    currency: str
    interval: str
    quantity: int
    plan: PlanTerms | None
    started_at: datetime | None
    trial_ends_at: datetime | None
    current_period_end: datetime | None
    canceled_at: datetime | None


def _price(item: dict[str, Any]) -> dict[str, Any]:
    # ``price`` since 2020; older API versions send only ``plan`` with the same amounts.
    price = item.get("price") or item.get("plan") or {}
    return price if isinstance(price, dict) else {}


def _recurring(price: dict[str, Any]) -> tuple[str, int]:
    recurring = price.get("recurring") or {}
    interval = recurring.get("interval") or price.get("interval") or "month"
    count = recurring.get("interval_count") or price.get("interval_count") or 1
    return str(interval), max(int(count), 1)


def _unit_amount(price: dict[str, Any], currency: str) -> Decimal:
    raw = price.get("unit_amount_decimal")
    if raw in (None, ""):
        raw = price.get("unit_amount")
    if raw in (None, ""):
        raw = price.get("amount")  # legacy plan objects
    return to_major(raw, currency)


def _months(interval: str, count: int) -> Decimal:
    if interval not in MONTHS_PER_STRIPE_INTERVAL:
        raise ValueError(f"unknown Stripe billing interval {interval!r}")
    return MONTHS_PER_STRIPE_INTERVAL[interval] * count


def tend_interval(interval: str, count: int) -> str | None:
    """Tend's name for a Stripe interval, or None when Tend has no such interval."""
    if count == 1 and interval in {"week", "month", "year"}:
        return interval
    if interval == "month" and count == 3:
        return Interval.QUARTER
    return None


def _discount_active(discount: Any, at: datetime) -> dict[str, Any] | None:
    """The coupon of a discount that recurs at ``at``, or None."""
    if not isinstance(discount, dict):
        return None  # a bare discount id: its coupon was not sent, so it cannot count
    coupon = discount.get("coupon") or (discount.get("source") or {}).get("coupon") or {}
    if not isinstance(coupon, dict) or coupon.get("duration") == "once":
        return None
    end = from_timestamp(discount.get("end"))
    if end is not None and end <= at:
        return None
    return coupon


def _apply(
    monthly: Decimal, coupons: list[dict[str, Any]], months: Decimal, currency: str
) -> Decimal:
    for coupon in coupons:
        if coupon.get("percent_off") not in (None, ""):
            monthly *= 1 - Decimal(str(coupon["percent_off"])) / 100
        elif coupon.get("amount_off") not in (None, ""):
            off = to_major(coupon["amount_off"], str(coupon.get("currency") or currency))
            monthly -= off / months
        monthly = max(monthly, Decimal(0))
    return monthly


def _discounts(obj: dict[str, Any], at: datetime) -> list[dict[str, Any]]:
    found: list[Any] = list(obj.get("discounts") or [])
    single = obj.get("discount")
    if single and not any(isinstance(d, dict) and d.get("id") == single.get("id") for d in found):
        found.append(single)
    coupons = [_discount_active(d, at) for d in found]
    return [c for c in coupons if c is not None]


def subscription_terms(sub: dict[str, Any], *, at: datetime) -> SubscriptionTerms:
    """What a Stripe subscription object means for Tend's Subscription row, at time ``at``."""
    currency = str(sub.get("currency") or "").upper()
    items = [i for i in ((sub.get("items") or {}).get("data") or []) if isinstance(i, dict)]
    if not currency and items:
        currency = str(_price(items[0]).get("currency") or "usd").upper()
    currency = currency or "USD"
    total = Decimal(0)
    best: tuple[Decimal, dict[str, Any], int] | None = None
    sub_months = Decimal(1)
    for n, item in enumerate(items):
        price = _price(item)
        interval, count = _recurring(price)
        months = _months(interval, count)
        if n == 0:
            sub_months = months
        raw_quantity = item.get("quantity")
        quantity = 1 if raw_quantity is None else int(raw_quantity)
        metered = (price.get("recurring") or {}).get("usage_type") == "metered"
        amount = Decimal(0) if metered else _unit_amount(price, currency)
        monthly = amount * quantity / months
        monthly = _apply(monthly, _discounts(item, at), months, currency)
        total += monthly
        if best is None or monthly > best[0]:
            best = (monthly, item, quantity)
    total = _apply(total, _discounts(sub, at), sub_months, currency)
    plan: PlanTerms | None = None
    interval_name: str = Interval.MONTH
    quantity = 1
    if best is not None:
        _monthly, item, quantity = best
        price = _price(item)
        interval, count = _recurring(price)
        named = tend_interval(interval, count)
        unit = _unit_amount(price, currency)
        product = price.get("product")
        product_name = product.get("name") if isinstance(product, dict) else None
        price_id = object_id(price) or object_id(product) or "stripe"
        plan = PlanTerms(
            code=price_id[:60],
            name=str(price.get("nickname") or product_name or price_id)[:120],
            # A price on an interval Tend has no name for is kept as its monthly equivalent.
            price=unit if named else (unit / _months(interval, count)).quantize(CENT),
            interval=named or Interval.MONTH,
            currency=currency,
        )
        interval_name = named or Interval.MONTH
    period_ends = [from_timestamp(i.get("current_period_end")) for i in items]
    period_end = from_timestamp(sub.get("current_period_end")) or max(
        (p for p in period_ends if p is not None), default=None
    )
    status = STATUS_MAP.get(str(sub.get("status") or ""))
    canceled_at = from_timestamp(sub.get("ended_at")) or from_timestamp(sub.get("canceled_at"))
    return SubscriptionTerms(
        status=status,
        mrr=total.quantize(CENT, rounding=ROUND_HALF_UP),
        currency=currency,
        interval=interval_name,
        quantity=max(quantity, 0),
        plan=plan,
        started_at=from_timestamp(sub.get("start_date")) or from_timestamp(sub.get("created")),
        trial_ends_at=from_timestamp(sub.get("trial_end")),
        current_period_end=period_end,
        canceled_at=canceled_at if status == SubscriptionStatus.CANCELED else None,
    )


def _stamp(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def export_subscription(
    *,
    sub_id: str,
    customer: str,
    status: str,
    amount: Decimal,
    currency: str,
    interval: str,
    interval_count: int = 1,
    quantity: int = 1,
    price_id: str = "",
    price_name: str = "",
    product: str = "",
    percent_off: Decimal | None = None,
    amount_off: Decimal | None = None,
    created: datetime | None = None,
    start_date: datetime | None = None,
    trial_end: datetime | None = None,
    current_period_end: datetime | None = None,
    canceled_at: datetime | None = None,
    ended_at: datetime | None = None,
) -> dict[str, Any]:
    """One row of the Dashboard's subscriptions export as the API's subscription object.

    The export has one price per subscription: ``amount`` per unit and per ``interval_count``
    × ``interval``, in major units, and ``quantity`` units. Reading the result with
    ``subscription_terms`` gives a backfilled subscription exactly the MRR, plan and status
    the webhook would give it. A coupon's percent or amount off, when the file has it, is
    taken as recurring (the export does not say for how long a coupon applies).
    """
    code = currency.lower()
    is_product_id = product.startswith("prod_")
    price: dict[str, Any] = {
        "id": price_id,
        "object": "price",
        "currency": code,
        "nickname": price_name or None,
        "product": {
            "id": product if is_product_id else "",
            "name": None if is_product_id else product or None,
        },
        "recurring": {
            "interval": interval,
            "interval_count": interval_count,
            "usage_type": "licensed",
        },
        "unit_amount_decimal": str(to_minor(amount, currency)),
    }
    coupon: dict[str, Any] | None = None
    if percent_off is not None:
        coupon = {"percent_off": str(percent_off), "duration": "forever"}
    elif amount_off is not None:
        coupon = {
            "amount_off": str(to_minor(amount_off, currency)),
            "currency": code,
            "duration": "forever",
        }
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "currency": code,
        "items": {"object": "list", "data": [{"price": price, "quantity": quantity}]},
        "discount": {"id": "", "coupon": coupon} if coupon else None,
        "created": _stamp(created),
        "start_date": _stamp(start_date),
        "trial_end": _stamp(trial_end),
        "current_period_end": _stamp(current_period_end),
        "canceled_at": _stamp(canceled_at),
        "ended_at": _stamp(ended_at),
    }
