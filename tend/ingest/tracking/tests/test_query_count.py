"""The hot path is bulk: the number of queries does not grow with the batch."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tend.activity.models import Event
from tend.factories import make_contact, make_customer

pytestmark = pytest.mark.django_db


def batch(size: int, start: int) -> str:
    return json.dumps(
        {
            "batch": [
                {
                    "type": "track",
                    "userId": f"u{n % 7}",
                    "event": "Clicked",
                    "messageId": f"m{start + n}",
                }
                for n in range(size)
            ]
        }
    )


def test_a_batch_of_100_events_takes_as_many_queries_as_a_batch_of_10(write_key: str) -> None:
    for n in range(7):
        make_contact(make_customer(), external_id=f"u{n}")
    client = Client()
    auth: dict[str, Any] = {
        "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    }
    # The first call also stamps the key's last use; measure after it.
    client.post("/v1/batch", batch(1, 5000), content_type="application/json", **auth)
    counts = []
    for size, start in ((10, 0), (100, 1000)):
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                "/v1/batch", batch(size, start), content_type="application/json", **auth
            )
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert Event.objects.exclude(customer=None).count() == 111
