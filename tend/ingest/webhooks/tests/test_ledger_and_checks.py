"""Every delivery is counted in the data-quality ledger; a missing secret is flagged."""

from __future__ import annotations

from typing import Any

from django.core.checks import run_checks
from django.test import Client

from tend.ingest.models import IngestStat
from tend.ingest.webhooks.tests import stripe_payloads as sp


def test_every_delivery_is_counted_by_outcome_and_reason(stripe_client: Client) -> None:
    created = sp.event("customer.created", sp.customer())
    sp.post(stripe_client, created)
    sp.post(stripe_client, created)
    sp.post(stripe_client, sp.event("charge.succeeded", {"id": "ch_1"}))
    sp.post(stripe_client, created, secret="whsec_wrong")
    sp.post(stripe_client, "{", header=None)
    counts = {
        (row.outcome, row.reason): row.count for row in IngestStat.objects.filter(source="stripe")
    }
    assert counts == {
        ("accepted", ""): 2,
        ("duplicate", ""): 1,
        ("rejected", "bad_signature"): 1,
        ("rejected", "malformed_json"): 1,
    }


def test_the_deploy_check_warns_when_no_secret_is_set(settings: Any) -> None:
    settings.TEND_STRIPE_WEBHOOK_SECRET = ""
    ids = {m.id for m in run_checks(include_deployment_checks=True)}
    assert "tend.W010" in ids


def test_the_deploy_check_warns_when_the_secret_is_an_api_key(settings: Any) -> None:
    settings.TEND_STRIPE_WEBHOOK_SECRET = "sk_live_123"
    ids = {m.id for m in run_checks(include_deployment_checks=True)}
    assert "tend.W011" in ids and "tend.W010" not in ids


def test_no_stripe_warning_outside_deploy_checks(settings: Any) -> None:
    settings.TEND_STRIPE_WEBHOOK_SECRET = ""
    assert not {m.id for m in run_checks()} & {"tend.W010", "tend.W011"}
