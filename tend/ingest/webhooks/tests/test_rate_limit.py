"""An address that delivers more webhooks than TEND_RATE_LIMIT_WEBHOOKS allows gets a 429
with Retry-After (Stripe delivers again later); other addresses go on, and nothing refused
is applied."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tend.customers.models import Customer
from tend.ingest.models import IngestStat
from tend.ingest.webhooks.models import StripeEvent
from tend.ingest.webhooks.tests import stripe_payloads as sp
from tend.ratelimit.rates import Rate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def tight(settings: Any) -> None:
    # A day-long window, so the test cannot straddle a window boundary in practice.
    settings.TEND_RATE_LIMIT_WEBHOOKS = Rate(limit=2, seconds=86400)


def _deliver(client: Client, n: int) -> Any:
    return sp.post(
        client, sp.event("customer.created", sp.customer(f"cus_{n}"), event_id=f"evt_{n}")
    )


def test_an_address_over_the_rate_gets_a_429_that_names_the_limit() -> None:
    stripe = Client(REMOTE_ADDR="198.51.100.7")
    answers = [_deliver(stripe, n) for n in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[-1]
    assert 1 <= int(refused["Retry-After"]) <= 86400
    assert refused.json()["error"] == "rate_limited"
    assert "2 requests per day" in refused.json()["detail"]
    assert "TEND_RATE_LIMIT_WEBHOOKS" in refused.json()["detail"]
    assert set(StripeEvent.objects.values_list("event_id", flat=True)) == {"evt_0", "evt_1"}
    assert Customer.objects.count() == 2
    assert IngestStat.objects.get(source="stripe", reason="rate_limited").count == 1


def test_the_limit_counts_per_address() -> None:
    first, second = Client(REMOTE_ADDR="198.51.100.7"), Client(REMOTE_ADDR="198.51.100.8")
    assert [_deliver(first, n).status_code for n in range(3)] == [200, 200, 429]
    assert _deliver(second, 3).status_code == 200


def test_behind_a_proxy_the_forwarded_address_counts(settings: Any) -> None:
    settings.TEND_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    one = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")
    two = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert [_deliver(one, n).status_code for n in range(3)] == [200, 200, 429]
    assert _deliver(two, 3).status_code == 200
