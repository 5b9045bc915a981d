"""The churn list endpoints and a customer's churn run the same number of queries for a few
rows as for many: no N+1 (scores with their customers and models, runs, the trend)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tend.accounts.actions import apikey_create
from tend.factories import make_customer
from tend.predict.tests.factories import make_churn_model, make_day_of_scores, make_history

pytestmark = pytest.mark.django_db
URLS = [
    "/api/v1/predict/churn/scores",
    "/api/v1/predict/churn/models",
    "/api/v1/predict/churn/model",
]


def _count(client: Client, url: str) -> int:
    client.get(url)  # the key's last-used time is touched at most once a minute
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_lists_do_not_grow_with_rows(owner: Any) -> None:
    _key, raw = apikey_create(name="ci", kind="read", by=owner)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    model = make_churn_model(version=1)
    first = make_customer()
    make_history(first, model=model, days=3)
    day = first.pk and model.trained_at.date()
    make_day_of_scores(
        [make_customer() for _ in range(2)], model=model, day=day + timedelta(days=1)
    )
    few = {url: _count(client, url) for url in URLS}
    few_one = _count(client, f"/api/v1/customers/{first.pk}/churn")
    for v in range(2, 8):
        make_churn_model(version=v)
    make_day_of_scores(
        [make_customer() for _ in range(30)], model=model, day=day + timedelta(days=1), seed=9
    )
    second = make_customer()
    make_history(second, model=model, days=90)
    assert {url: _count(client, url) for url in URLS} == few
    assert _count(client, f"/api/v1/customers/{second.pk}/churn") == few_one
