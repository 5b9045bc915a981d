"""Signed deliveries that no Stripe account sends (absurd nesting, ids longer than any column,
characters no database stores, numbers JSON cannot carry) are refused with a 400 JSON error
that names the field, and store nothing: never a 500, never an HTML page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tend.billing.models import Order, Subscription
from tend.customers.models import Customer
from tend.ingest.models import IngestStat
from tend.ingest.webhooks.models import StripeEvent
from tend.ingest.webhooks.tests import stripe_payloads as sp


def _nothing_stored() -> bool:
    return not Customer.objects.exists() and not StripeEvent.objects.exists()


def _refused(response: Any, code: str) -> dict[str, Any]:
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["error"] == code
    assert IngestStat.objects.get(source="stripe", outcome="rejected", reason=code).count == 1
    return body


def test_a_signed_event_nested_twenty_thousand_levels_deep_is_refused_as_json(
    stripe_client: Client,
) -> None:
    event = json.dumps(sp.event("customer.created", sp.customer()))
    deep = event[:-1] + ', "extra": ' + "[" * 20_000 + "]" * 20_000 + "}"
    body = _refused(sp.post(stripe_client, deep), "malformed_json")
    assert "nested" in body["detail"]
    assert _nothing_stored()


def test_a_signed_event_nested_deeper_than_any_stripe_object_is_refused_naming_where(
    stripe_client: Client,
) -> None:
    event = sp.event("customer.created", sp.customer())
    inner: dict[str, Any] = {}
    event["data"]["object"]["metadata"] = inner
    for _ in range(100):
        inner["a"] = {}
        inner = inner["a"]
    body = _refused(sp.post(stripe_client, event), "invalid_event")
    assert body["field"].startswith("data.object.metadata.a.a.")
    assert "deeper than 64" in body["detail"]
    assert _nothing_stored()


def test_an_event_id_longer_than_255_characters_is_refused_naming_the_id(
    stripe_client: Client,
) -> None:
    event = sp.event("customer.created", sp.customer(), event_id="evt_" + "x" * 252)
    body = _refused(sp.post(stripe_client, event), "invalid_event")
    assert body["field"] == "id"
    assert "255" in body["detail"]
    assert _nothing_stored()


def test_an_event_id_of_exactly_255_characters_is_accepted(stripe_client: Client) -> None:
    event = sp.event("customer.created", sp.customer(), event_id="evt_" + "x" * 251)
    assert sp.post(stripe_client, event).status_code == 200
    assert StripeEvent.objects.get().event_id == event["id"]


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda e: e.update(type="customer." + "x" * 100), "type"),
        (lambda e: e["data"]["object"].update(id="cus_" + "x" * 117), "data.object.id"),
    ],
)
def test_an_over_long_type_or_object_id_is_refused_naming_it(
    stripe_client: Client, change: Any, field: str
) -> None:
    event = sp.event("customer.created", sp.customer())
    change(event)
    assert _refused(sp.post(stripe_client, event), "invalid_event")["field"] == field
    assert _nothing_stored()


@pytest.mark.parametrize(
    "text, problem",
    [("evt_1\u0000x", "NUL character"), ("evt_1\ud800x", "lone UTF-16 surrogate")],
)
@pytest.mark.parametrize(
    "place, field",
    [
        (lambda e, t: e.update(id=t), "id"),
        (lambda e, t: e["data"]["object"].update(name=t), "data.object.name"),
        (lambda e, t: e["data"]["object"]["metadata"].update({t: "gold"}), "data.object.metadata."),
        (lambda e, t: e["data"]["object"].update(preferred_locales=["de", t]), "[1]"),
    ],
)
def test_nul_characters_and_lone_surrogates_are_refused_naming_the_field(
    stripe_client: Client, text: str, problem: str, place: Any, field: str
) -> None:
    event = sp.event("customer.created", sp.customer())
    place(event, text)
    body = _refused(sp.post(stripe_client, event), "invalid_event")
    assert field in body["field"]
    assert problem in body["detail"]
    assert _nothing_stored()


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1" * 5000])
def test_numbers_json_cannot_carry_are_refused(stripe_client: Client, number: str) -> None:
    event = json.dumps(sp.event("invoice.paid", sp.invoice()))
    payload = event.replace('"amount_paid": 4900', f'"amount_paid": {number}')
    assert payload != event
    _refused(sp.post(stripe_client, payload), "malformed_json")
    assert _nothing_stored()


@pytest.mark.parametrize(
    "event",
    [
        lambda long: sp.event("customer.created", sp.customer(cus_id=long)),
        lambda long: sp.event("customer.subscription.created", sp.subscription(sub_id=long)),
        lambda long: sp.event("customer.subscription.created", sp.subscription(cus_id=long)),
        lambda long: sp.event("invoice.paid", sp.invoice(inv_id=long)),
        lambda long: sp.event("charge.refunded", sp.charge(ch_id=long)),
    ],
)
def test_ids_longer_than_tend_stores_are_refused_never_a_server_error(
    stripe_client: Client, event: Any
) -> None:
    response = sp.post(stripe_client, event("x" * 200))
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"] == "invalid_event"
    assert response.json()["field"]
    assert not Subscription.objects.exists() and not Order.objects.exists()


@pytest.mark.parametrize("created", [-1, 10**20])
def test_an_event_created_outside_the_calendar_is_refused_naming_created(
    stripe_client: Client, created: int
) -> None:
    event = sp.event("customer.created", sp.customer(), created=created)
    assert _refused(sp.post(stripe_client, event), "invalid_event")["field"] == "created"
    assert _nothing_stored()


def test_a_customer_name_cut_to_fit_is_stored_and_flagged_not_silent(stripe_client: Client) -> None:
    long_name = "Acme " + "x" * 250  # Stripe allows 256 characters, Tend's column 200
    event = sp.event("customer.created", sp.customer(name=long_name))
    assert sp.post(stripe_client, event).status_code == 200
    assert Customer.objects.get().name == long_name[:200]
    flagged = IngestStat.objects.get(source="stripe", outcome="flagged")
    assert (flagged.reason, flagged.count) == ("truncated", 1)
    assert not IngestStat.objects.filter(source="stripe", outcome="accepted").exists()


def test_a_customer_with_a_normal_name_is_counted_accepted(stripe_client: Client) -> None:
    assert sp.post(stripe_client, sp.event("customer.created", sp.customer())).status_code == 200
    assert IngestStat.objects.get(source="stripe", outcome="accepted").count == 1
    assert not IngestStat.objects.filter(outcome="flagged").exists()
