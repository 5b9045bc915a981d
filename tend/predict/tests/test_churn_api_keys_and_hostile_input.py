"""A key acts with its user's rights on the churn endpoints: every reading key reads, only an
owner's read_write key may train (a viewer's or member's gets 403 and nothing changes); bad
ids and bad parameters are 4xx, never 5xx."""

from __future__ import annotations

import pytest
from django.test import Client

from tend.accounts.actions import apikey_create, user_create
from tend.accounts.models import Role
from tend.factories import make_customer
from tend.predict.models import ChurnModel
from tend.predict.tests.factories import make_churn_model, make_day_of_scores
from tend.predict.training_queue import train_task

pytestmark = pytest.mark.django_db

READS = [
    "/api/v1/predict/churn/model",
    "/api/v1/predict/churn/models",
    "/api/v1/predict/churn/scores",
]


@pytest.mark.parametrize("role", [Role.OWNER, Role.MEMBER, Role.VIEWER])
@pytest.mark.parametrize("kind", ["read", "read_write", "write"])
def test_a_key_reads_and_trains_only_as_its_user_may(role: str, kind: str) -> None:
    if role == Role.VIEWER and kind != "read":
        pytest.skip("viewers own read keys only")
    user = user_create(username=f"u-{role}", password="x" * 12, role=role)
    _key, raw = apikey_create(name="k", kind=kind, by=user)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    model = make_churn_model()
    customer = make_customer()
    make_day_of_scores([customer], model=model)
    read = 403 if kind == "write" else 200
    for url in [*READS, f"/api/v1/customers/{customer.pk}/churn"]:
        assert api.get(url).status_code == read, url
    before = list(ChurnModel.objects.values_list("version", "is_active"))
    response = api.post("/api/v1/predict/churn/train", content_type="application/json")
    if kind != "read_write" or role != Role.OWNER:
        assert response.status_code == 403, response.content
        assert list(ChurnModel.objects.values_list("version", "is_active")) == before
    elif train_task() is None:
        assert response.status_code == 503
        assert "not available" in response.json()["detail"]
    else:
        assert response.status_code == 202


def test_no_key_is_a_401_everywhere() -> None:
    client = Client()
    for url in [*READS, "/api/v1/customers/1/churn"]:
        assert client.get(url).status_code == 401
    assert client.post("/api/v1/predict/churn/train").status_code == 401


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/customers/0/churn",
        "/api/v1/customers/-1/churn",
        "/api/v1/customers/abc/churn",
        "/api/v1/customers/99999999999999999999999/churn",
        "/api/v1/customers/1.5/churn",
        "/api/v1/predict/churn/scores?min_risk=2",
        "/api/v1/predict/churn/scores?min_risk=-0.1",
        "/api/v1/predict/churn/scores?min_risk=nan",
        "/api/v1/predict/churn/scores?min_risk=inf",
        "/api/v1/predict/churn/scores?min_risk=abc",
        "/api/v1/predict/churn/scores?day=2025-13-01",
        "/api/v1/predict/churn/scores?day=12345",
        "/api/v1/predict/churn/scores?day=%00",
        "/api/v1/predict/churn/scores?limit=0",
        "/api/v1/predict/churn/scores?limit=201",
        "/api/v1/predict/churn/scores?offset=-1",
        "/api/v1/predict/churn/scores?risk=0.5",
        "/api/v1/predict/churn/models?limit=x",
        "/api/v1/predict/churn/model?x=1",
    ],
)
def test_bad_ids_and_parameters_are_4xx(owner, url: str) -> None:  # type: ignore[no-untyped-def]
    _key, raw = apikey_create(name="k", kind="read", by=owner)
    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get(url)
    assert 400 <= response.status_code < 500, (url, response.status_code)
    assert response.json()["detail"]


def test_an_unknown_customer_is_a_404(owner) -> None:  # type: ignore[no-untyped-def]
    _key, raw = apikey_create(name="k", kind="read", by=owner)
    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/customers/987654/churn")
    assert response.status_code == 404


def test_the_document_states_the_limits() -> None:
    from tend.api.main import openapi_schema

    doc = openapi_schema()
    params = {
        p["name"]: p for p in doc["paths"]["/api/v1/predict/churn/scores"]["get"]["parameters"]
    }
    assert params["min_risk"]["schema"]["anyOf"][0]["maximum"] == 1
    assert params["limit"]["schema"]["maximum"] == 200
    assert 503 in doc["paths"]["/api/v1/predict/churn/train"]["post"]["responses"]
