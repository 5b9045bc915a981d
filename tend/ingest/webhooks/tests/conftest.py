from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tend.ingest.webhooks.tests.stripe_payloads import SECRET


@pytest.fixture(autouse=True)
def _stripe_secret(settings: Any) -> None:
    settings.TEND_STRIPE_WEBHOOK_SECRET = SECRET
    settings.TEND_STRIPE_WEBHOOK_TOLERANCE = 300


@pytest.fixture
def stripe_client(db: Any) -> Client:
    """Stripe's side of the conversation: no session, no CSRF token."""
    return Client(enforce_csrf_checks=True)
