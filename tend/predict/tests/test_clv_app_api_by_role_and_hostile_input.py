"""The CLV REST endpoints: every key that reads reads, only an owner's read_write key (or an
owner's session) refits, and bad ids or bodies are 4xx JSON naming the field, never a 5xx.
A refused request changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from tend.accounts.actions import apikey_create, user_create
from tend.accounts.models import AuditEntry, Role
from tend.predict.clv_actions import clv_fit_run
from tend.predict.models import ClvFit, CustomerClv
from tend.predict.tests.clv_app_data import AS_OF, build_shop

pytestmark = pytest.mark.django_db


def _client(role: str, kind: str) -> Client:
    user = user_create(username=f"{role}-{kind}", password="x" * 12, role=Role.MEMBER)
    _key, raw = apikey_create(name=f"{role}-{kind}", kind=kind, by=user)
    user.role = role
    user.save(update_fields=["role"])
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _state() -> tuple[object, ...]:
    return (
        sorted(ClvFit.objects.values_list("pk", "status")),
        sorted(CustomerClv.objects.values_list("customer_id", "fit_id", "clv")),
        AuditEntry.objects.filter(action="clv.fit").count(),
    )


@pytest.mark.parametrize(
    ("role", "kind", "read", "refit"),
    [
        (Role.OWNER, "read_write", 200, 201),
        (Role.OWNER, "read", 200, 403),
        (Role.OWNER, "write", 403, 403),  # ingestion keys read nothing
        (Role.MEMBER, "read_write", 200, 403),
        (Role.MEMBER, "read", 200, 403),
        (Role.VIEWER, "read", 200, 403),
    ],
)
def test_a_key_reads_and_refits_only_as_its_user_and_kind_allow(role, kind, read, refit):
    customers = build_shop(40)
    clv_fit_run(by=None, as_of=AS_OF)
    api = _client(role, kind)
    assert api.get("/api/v1/predict/clv").status_code == read
    assert api.get(f"/api/v1/customers/{customers[0].pk}/clv").status_code == read
    before = _state()
    response = api.post("/api/v1/predict/clv/fit", {"model": "bgnbd"}, "application/json")
    assert response.status_code == refit, response.content
    if refit != 201:
        assert _state() == before
    else:
        body = response.json()
        assert body["status"] == "trained" and body["model"] == "bgnbd"
        assert (
            AuditEntry.objects.filter(action="clv.fit").last().actor_label == f"api:{role}-{kind}"
        )


def test_without_a_key_every_clv_endpoint_is_a_401():
    build_shop(20)
    anonymous = Client()
    for method, path in (
        ("get", "/api/v1/predict/clv"),
        ("get", "/api/v1/customers/1/clv"),
        ("post", "/api/v1/predict/clv/fit"),
    ):
        assert getattr(anonymous, method)(path).status_code == 401, path
    assert not ClvFit.objects.exists()


def test_the_latest_fit_and_a_customers_clv_read_as_documented():
    customers = build_shop(80)
    fit = clv_fit_run(by=None, as_of=AS_OF)
    api = _client(Role.VIEWER, "read")
    body = api.get("/api/v1/predict/clv").json()
    assert body["id"] == fit.pk and body["status"] == "trained"
    assert body["clv_mean"]["currency"] == "USD"
    assert body["holdout"]["status"] == "trained" and body["holdout"]["by_x"]
    assert body["calibration_end"] == "2026-04-01"
    row = CustomerClv.objects.get(customer=customers[3])
    mine = api.get(f"/api/v1/customers/{customers[3].pk}/clv").json()
    assert mine["clv"] == {"amount": f"{row.clv}", "currency": "USD"}
    assert mine["p_alive"] == pytest.approx(row.p_alive)
    assert set(mine["formulas"]) == {
        "expected_purchases",
        "p_alive",
        "expected_spend",
        "clv",
        "log_likelihood",
    }


def test_before_any_fit_the_latest_fit_is_a_404():
    api = _client(Role.VIEWER, "read")
    response = api.get("/api/v1/predict/clv")
    assert response.status_code == 404 and "No CLV fit yet" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/api/v1/customers/0/clv", 422, "customer_id"),
        ("/api/v1/customers/-4/clv", 422, "customer_id"),
        ("/api/v1/customers/abc/clv", 422, "customer_id"),
        ("/api/v1/customers/99999999999999999999999/clv", 422, "customer_id"),
        ("/api/v1/customers/1.5/clv", 422, "customer_id"),
        ("/api/v1/customers/999999/clv", 404, None),
    ],
)
def test_a_bad_customer_id_is_a_4xx_naming_it(path, status, field):
    build_shop(20)
    clv_fit_run(by=None, as_of=AS_OF)
    response = _client(Role.OWNER, "read_write").get(path)
    assert response.status_code == status, response.content
    if field:
        assert response.json()["errors"][0]["field"] == field


def test_a_customer_without_orders_has_no_clv_404():
    from tend.factories import make_customer

    build_shop(60)
    clv_fit_run(by=None, as_of=AS_OF)
    nobody = make_customer()
    response = _client(Role.VIEWER, "read").get(f"/api/v1/customers/{nobody.pk}/clv")
    assert response.status_code == 404
    assert "no paid order" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": "lifetimes"}, "model"),
        ({"model": 1}, "model"),
        ({"model": "bgnbd", "as_of": "2026-01-01"}, "as_of"),
        ([], "body"),
        ("not json", "body"),
    ],
)
def test_a_bad_refit_body_is_a_4xx_and_fits_nothing(body, field):
    build_shop(20)
    api = _client(Role.OWNER, "read_write")
    response = api.post("/api/v1/predict/clv/fit", body, "application/json")
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["errors"][0]["field"].startswith(field), response.json()
    assert not ClvFit.objects.exists()


def test_a_query_parameter_the_endpoint_does_not_take_is_refused():
    build_shop(20)
    clv_fit_run(by=None, as_of=AS_OF)
    api = _client(Role.VIEWER, "read")
    for query in ("limit=abc", "customer_id=1", "model=bgnbd"):
        response = api.get(f"/api/v1/predict/clv?{query}")
        assert response.status_code == 422, (query, response.content)
        assert response.json()["errors"][0]["field"] == query.split("=")[0]
