"""One end-to-end path over real HTTP: Stripe's signed delivery to a running server."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx

from tend.billing.models import MrrMovement
from tend.customers.models import Customer
from tend.ingest.webhooks.tests import stripe_payloads as sp


def test_a_signed_subscription_event_over_http_updates_mrr(live_server: Any) -> None:
    payload = json.dumps(sp.event("customer.subscription.created", sp.subscription()))
    headers = {"Stripe-Signature": sp.sign(payload), "Content-Type": "application/json"}
    url = live_server.url + sp.URL
    with httpx.Client(timeout=10) as client:
        first = client.post(url, content=payload, headers=headers)
        again = client.post(url, content=payload, headers=headers)
        forged = client.post(url, content=payload, headers={"Stripe-Signature": "t=1,v1=00"})
    assert first.status_code == 200 and first.json()["outcome"] == "processed"
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert forged.status_code == 400
    assert Customer.objects.get().mrr == Decimal("49.00")
    assert MrrMovement.objects.count() == 1


def test_concurrent_deliveries_of_one_event_apply_it_once(live_server: Any) -> None:
    payload = json.dumps(sp.event("customer.subscription.created", sp.subscription()))
    headers = {"Stripe-Signature": sp.sign(payload), "Content-Type": "application/json"}
    url = live_server.url + sp.URL

    def deliver(_: int) -> dict[str, Any]:
        with httpx.Client(timeout=30) as client:
            response = client.post(url, content=payload, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(deliver, range(4)))
    assert sorted(a["outcome"] for a in answers) == ["duplicate"] * 3 + ["processed"]
    assert MrrMovement.objects.count() == 1
