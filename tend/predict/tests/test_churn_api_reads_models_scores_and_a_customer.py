"""REST: the active model with its backtest (or why there is none), the training history,
the day's scores (paged, min_risk, day) and one customer's risk with trend and drivers in
words, in the language of the key's user."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from tend.accounts.actions import apikey_create
from tend.factories import make_customer
from tend.predict.tests.factories import (
    make_churn_model,
    make_day_of_scores,
    make_history,
    make_not_enough_data_model,
)

pytestmark = pytest.mark.django_db


def _api(owner: Any) -> Client:
    _key, raw = apikey_create(name="ci", kind="read", by=owner)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_the_model_endpoint_says_not_enough_data_then_shows_the_model(owner) -> None:  # type: ignore[no-untyped-def]
    api = _api(owner)
    none = api.get("/api/v1/predict/churn/model").json()
    assert none["status"] == "none" and none["model"] is None
    make_not_enough_data_model(version=1, have=12)
    body = api.get("/api/v1/predict/churn/model").json()
    assert body["status"] == "not_enough_data"
    assert body["message"] == "Not enough data to train: 12 churned, need 20."
    assert body["model"] is None and body["latest_run"]["version"] == 1
    make_churn_model(version=2)
    body = api.get("/api/v1/predict/churn/model").json()
    assert body["status"] == "active" and body["model"]["version"] == 2
    assert body["model"]["auc"] == 0.81 and body["model"]["baseline_auc"] == 0.66
    assert body["earns_its_place"] is True
    assert {m["key"] for m in body["summary"]} == {"auc", "lift_top_decile", "brier"}
    assert all(m["formula"] for m in body["summary"])


def test_the_history_is_paged_newest_first(owner) -> None:  # type: ignore[no-untyped-def]
    api = _api(owner)
    for v in range(1, 6):
        make_churn_model(version=v)
    page = api.get("/api/v1/predict/churn/models?limit=2&offset=1").json()
    assert page["count"] == 5 and [r["version"] for r in page["items"]] == [4, 3]
    assert [r["is_active"] for r in page["items"]] == [False, False]


def test_scores_are_riskiest_first_and_filter_by_day_and_min_risk(owner) -> None:  # type: ignore[no-untyped-def]
    api = _api(owner)
    model = make_churn_model()
    customers = [make_customer() for _ in range(25)]
    scores = make_day_of_scores(customers, model=model)
    day = scores[0].day
    make_day_of_scores(customers[:3], model=model, day=day - timedelta(days=1))
    page = api.get("/api/v1/predict/churn/scores?limit=10").json()
    assert page["count"] == 25 and page["day"] == day.isoformat()
    risks = [s["risk"] for s in page["items"]]
    assert risks == sorted(risks, reverse=True)
    assert page["items"][0]["top"].startswith("top ")
    high = api.get("/api/v1/predict/churn/scores?min_risk=0.1").json()
    assert high["count"] == sum(1 for s in scores if s.risk >= 0.1)
    earlier = api.get(f"/api/v1/predict/churn/scores?day={(day - timedelta(days=1)).isoformat()}")
    assert earlier.json()["count"] == 3


def test_a_customers_risk_has_trend_and_drivers_in_the_users_language(owner) -> None:  # type: ignore[no-untyped-def]
    api = _api(owner)
    customer = make_customer()
    make_history(customer, model=make_churn_model(version=4), days=30, end=0.42)
    body = api.get(f"/api/v1/customers/{customer.pk}/churn").json()
    assert body["scored"] is True and body["risk"] == 0.42 and body["top"] == "top 5%"
    assert body["model_version"] == 4 and len(body["trend"]) == 30
    assert body["change"] > 0.2
    effects = [d["effect"] for d in body["drivers"]]
    assert effects == sorted(effects, key=abs, reverse=True)
    assert body["drivers"][0]["direction"] == "up" and body["drivers"][0]["text"]
    assert "probability" in body["formula"]
    owner.language = "zh-hans"
    owner.save(update_fields=["language"])
    zh = api.get(f"/api/v1/customers/{customer.pk}/churn").json()
    # The rank is pgettext'd: in Chinese once the catalog has it; never an error either way.
    assert zh["risk"] == 0.42 and zh["top"]


def test_a_customer_without_a_score_is_not_an_error(owner) -> None:  # type: ignore[no-untyped-def]
    customer = make_customer()
    body = _api(owner).get(f"/api/v1/customers/{customer.pk}/churn").json()
    assert body["scored"] is False and body["risk"] is None and body["drivers"] == []
