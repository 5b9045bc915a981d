"""Deliveries Tend cannot trust or read are refused with a precise 4xx and change nothing."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
from django.test import Client

from tend.customers.models import Customer
from tend.ingest.models import IngestStat
from tend.ingest.webhooks.models import StripeEvent
from tend.ingest.webhooks.tests import stripe_payloads as sp


def _nothing_stored() -> bool:
    return not Customer.objects.exists() and not StripeEvent.objects.exists()


def _rejected(reason: str) -> int:
    row = IngestStat.objects.filter(source="stripe", outcome="rejected", reason=reason).first()
    return row.count if row else 0


def test_a_delivery_without_a_configured_secret_answers_503(
    stripe_client: Client, settings: Any
) -> None:
    settings.TEND_STRIPE_WEBHOOK_SECRET = ""
    response = sp.post(stripe_client, sp.event("customer.created", sp.customer()))
    assert response.status_code == 503
    assert response.json()["error"] == "not_configured"
    assert "TEND_STRIPE_WEBHOOK_SECRET" in response.json()["detail"]
    assert _nothing_stored()


def test_a_delivery_without_the_signature_header_is_refused(stripe_client: Client) -> None:
    response = sp.post(stripe_client, sp.event("customer.created", sp.customer()), header="")
    assert response.status_code == 400
    assert response.json()["error"] == "missing_signature"
    assert _nothing_stored()
    assert _rejected("missing_signature") == 1


def test_a_delivery_signed_with_another_secret_is_refused(stripe_client: Client) -> None:
    body = sp.event("customer.created", sp.customer())
    response = sp.post(stripe_client, body, secret="whsec_someone_else")
    assert response.status_code == 400
    assert response.json()["error"] == "bad_signature"
    assert _nothing_stored()


def test_a_payload_changed_after_signing_is_refused(stripe_client: Client) -> None:
    payload = json.dumps(sp.event("customer.created", sp.customer()))
    header = sp.sign(payload)
    tampered = payload.replace("Acme GmbH", "Evil Corp")
    response = sp.post(stripe_client, tampered, header=header)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_signature"
    assert _nothing_stored()


def test_a_signature_older_than_the_tolerance_is_refused(stripe_client: Client) -> None:
    body = sp.event("customer.created", sp.customer())
    response = sp.post(stripe_client, body, timestamp=int(time.time()) - 301)
    assert response.status_code == 400
    assert response.json()["error"] == "expired_signature"
    assert _nothing_stored()


def test_a_signature_just_inside_the_tolerance_is_accepted(stripe_client: Client) -> None:
    body = sp.event("customer.created", sp.customer())
    response = sp.post(stripe_client, body, timestamp=int(time.time()) - 290)
    assert response.status_code == 200


def test_a_header_with_one_good_signature_among_several_is_accepted(
    stripe_client: Client,
) -> None:
    # Stripe signs with the old and the new secret while a secret is being rolled.
    payload = json.dumps(sp.event("customer.created", sp.customer()))
    good = sp.sign(payload)
    header = f"{good},v1={'0' * 64},v0=ignored"
    response = sp.post(stripe_client, payload, header=header)
    assert response.status_code == 200
    assert Customer.objects.count() == 1


@pytest.mark.parametrize("header", ["v1=abc", "t=notanumber,v1=abc", "t=123", "garbage"])
def test_a_header_that_is_not_stripes_format_is_refused(stripe_client: Client, header: str) -> None:
    response = sp.post(stripe_client, sp.event("customer.created", sp.customer()), header=header)
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_signature"
    assert _nothing_stored()


def test_a_signed_body_that_is_not_json_is_refused(stripe_client: Client) -> None:
    response = sp.post(stripe_client, '{"id": "evt_1", "type": ')
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"
    assert _nothing_stored()
    assert _rejected("malformed_json") == 1


@pytest.mark.parametrize(
    "body, problem",
    [
        ("[]", "JSON object"),
        ('{"id": "evt_1", "type": "customer.created", "created": 1, "data": {}}', "data.object"),
        ('{"type": "customer.created", "created": 1, "data": {"object": {}}}', "id"),
        ('{"id": "evt_1", "type": "x", "created": "soon", "data": {"object": {}}}', "created"),
    ],
)
def test_signed_json_that_is_not_a_stripe_event_is_refused(
    stripe_client: Client, body: str, problem: str
) -> None:
    response = sp.post(stripe_client, body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_event"
    assert problem in response.json()["detail"]
    assert _nothing_stored()


def test_the_endpoint_answers_only_post(stripe_client: Client) -> None:
    assert stripe_client.get(sp.URL).status_code == 405


def test_neither_the_secret_nor_the_signature_reaches_the_log(
    stripe_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    payload = json.dumps(sp.event("customer.created", sp.customer()))
    header = sp.sign(payload)
    sp.post(stripe_client, payload, header=header)
    sp.post(stripe_client, payload, secret="whsec_wrong_secret_value")
    signature = header.split("v1=")[1]
    assert sp.SECRET not in caplog.text
    assert signature not in caplog.text
    assert "whsec_wrong_secret_value" not in caplog.text
