"""Real-shaped Stripe objects and events for the webhook tests, signed with the official SDK.

The structures copy Stripe's API reference (event → data.object; subscription →
items.data[].price.recurring; discount → coupon) and keep only the fields Tend reads plus
enough neighbours to look like what Stripe sends.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import stripe
from django.test import Client

SECRET = "whsec_test_5f3c0a1d9e7b4c2a8f6e0d1c3b5a7988"
URL = "/webhooks/stripe"
T0 = 1_767_225_600  # 2026-01-01 00:00:00 UTC

_seq = itertools.count(1)


def customer(cus_id: str = "cus_Q1xExample", **over: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": cus_id,
        "object": "customer",
        "address": {
            "city": "Berlin",
            "country": "DE",
            "line1": "Torstraße 1",
            "line2": None,
            "postal_code": "10119",
            "state": None,
        },
        "balance": 0,
        "created": T0 - 86_400,
        "currency": "usd",
        "default_source": None,
        "delinquent": False,
        "description": None,
        "email": "billing@acme.example",
        "invoice_prefix": "A1B2C3D4",
        "invoice_settings": {"default_payment_method": None, "footer": None},
        "livemode": False,
        "metadata": {"plan_tier": "gold", "account_manager": "sam"},
        "name": "Acme GmbH",
        "phone": "+49 30 1234567",
        "preferred_locales": ["de"],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }
    obj.update(over)
    return obj


def price(
    price_id: str = "price_1Pro",
    *,
    unit_amount: int = 4900,
    interval: str = "month",
    interval_count: int = 1,
    currency: str = "usd",
    nickname: str | None = "Pro",
    usage_type: str = "licensed",
) -> dict[str, Any]:
    return {
        "id": price_id,
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": T0 - 10 * 86_400,
        "currency": currency,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": nickname,
        "product": "prod_Tend" + price_id[-4:],
        "recurring": {
            "aggregate_usage": None,
            "interval": interval,
            "interval_count": interval_count,
            "trial_period_days": None,
            "usage_type": usage_type,
        },
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "type": "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def item(p: dict[str, Any], *, quantity: int = 1, **over: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": f"si_{next(_seq):06d}",
        "object": "subscription_item",
        "created": T0,
        "current_period_start": T0,
        "current_period_end": T0 + 30 * 86_400,
        "discounts": [],
        "metadata": {},
        "price": p,
        "quantity": quantity,
        "subscription": "sub_1Example",
        "tax_rates": [],
    }
    obj.update(over)
    return obj


def coupon(
    *, percent_off: float | None = None, amount_off: int | None = None, duration: str = "forever"
) -> dict[str, Any]:
    return {
        "id": f"co_{next(_seq):04d}",
        "object": "coupon",
        "amount_off": amount_off,
        "currency": "usd" if amount_off is not None else None,
        "duration": duration,
        "duration_in_months": 3 if duration == "repeating" else None,
        "livemode": False,
        "max_redemptions": None,
        "metadata": {},
        "name": None,
        "percent_off": percent_off,
        "times_redeemed": 1,
        "valid": True,
    }


def discount(c: dict[str, Any], *, end: int | None = None) -> dict[str, Any]:
    return {
        "id": f"di_{next(_seq):06d}",
        "object": "discount",
        "checkout_session": None,
        "coupon": c,
        "customer": "cus_Q1xExample",
        "end": end,
        "invoice": None,
        "invoice_item": None,
        "promotion_code": None,
        "start": T0,
        "subscription": "sub_1Example",
    }


def subscription(
    sub_id: str = "sub_1Example",
    *,
    items: list[dict[str, Any]] | None = None,
    status: str = "active",
    cus_id: str = "cus_Q1xExample",
    currency: str = "usd",
    **over: Any,
) -> dict[str, Any]:
    its = items if items is not None else [item(price())]
    obj: dict[str, Any] = {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "billing_cycle_anchor": T0,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "collection_method": "charge_automatically",
        "created": T0,
        "currency": currency,
        "current_period_end": T0 + 30 * 86_400,
        "current_period_start": T0,
        "customer": cus_id,
        "days_until_due": None,
        "default_payment_method": "pm_1Card",
        "discount": None,
        "discounts": [],
        "ended_at": None,
        "items": {
            "object": "list",
            "data": its,
            "has_more": False,
            "total_count": len(its),
            "url": f"/v1/subscription_items?subscription={sub_id}",
        },
        "latest_invoice": "in_1Latest",
        "livemode": False,
        "metadata": {},
        "pause_collection": None,
        "start_date": T0,
        "status": status,
        "trial_end": None,
        "trial_start": None,
    }
    obj.update(over)
    return obj


def invoice(
    inv_id: str = "in_1Example",
    *,
    cus_id: str = "cus_Q1xExample",
    amount: int = 4900,
    sub_id: str | None = "sub_1Example",
    status: str = "paid",
    **over: Any,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": inv_id,
        "object": "invoice",
        "amount_due": amount,
        "amount_paid": amount if status == "paid" else 0,
        "amount_remaining": 0 if status == "paid" else amount,
        "attempt_count": 1,
        "attempted": True,
        "billing_reason": "subscription_cycle",
        "collection_method": "charge_automatically",
        "created": T0,
        "currency": "usd",
        "customer": cus_id,
        "customer_email": "billing@acme.example",
        "customer_name": "Acme GmbH",
        "hosted_invoice_url": f"https://invoice.stripe.com/i/{inv_id}",
        "livemode": False,
        "next_payment_attempt": None if status == "paid" else T0 + 3 * 86_400,
        "number": "A1B2C3D4-0001",
        "paid": status == "paid",
        "status": status,
        "status_transitions": {
            "finalized_at": T0,
            "paid_at": T0 + 60 if status == "paid" else None,
            "voided_at": None,
        },
        "subscription": sub_id,
        "total": amount,
    }
    obj.update(over)
    return obj


def charge(
    ch_id: str = "ch_1Example",
    *,
    cus_id: str = "cus_Q1xExample",
    amount: int = 4900,
    refunded_amount: int = 4900,
    **over: Any,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": ch_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": refunded_amount,
        "billing_details": {"email": "billing@acme.example", "name": "Acme GmbH"},
        "captured": True,
        "created": T0,
        "currency": "usd",
        "customer": cus_id,
        "invoice": None,
        "livemode": False,
        "paid": True,
        "payment_intent": "pi_1Example",
        "refunded": refunded_amount >= amount,
        "status": "succeeded",
    }
    obj.update(over)
    return obj


def event(
    type_: str,
    obj: dict[str, Any],
    *,
    created: int = T0,
    event_id: str | None = None,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    return {
        "id": event_id or f"evt_1Test{next(_seq):08d}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": created,
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": "req_1Example", "idempotency_key": None},
        "type": type_,
    }


def sign(payload: str, *, secret: str = SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe would send, made by the official SDK."""
    return stripe.WebhookSignature.generate_signature_header(
        payload, secret, timestamp=timestamp if timestamp is not None else int(time.time())
    )


def post(
    client: Client,
    body: dict[str, Any] | str,
    *,
    header: str | None = None,
    secret: str = SECRET,
    timestamp: int | None = None,
) -> Any:
    """Send ``body`` to the webhook endpoint as Stripe would: JSON, signed."""
    payload = body if isinstance(body, str) else json.dumps(body)
    headers = {}
    sig = header if header is not None else sign(payload, secret=secret, timestamp=timestamp)
    if sig:
        headers["Stripe-Signature"] = sig
    return client.post(URL, data=payload, content_type="application/json", headers=headers)
