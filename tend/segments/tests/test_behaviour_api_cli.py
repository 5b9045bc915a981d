"""REST (/api/v1/segments/rfm, /api/v1/segments/clusters) and CLI (tend segments rfm|clusters)."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tend.accounts.actions import apikey_create
from tend.segments.behaviour_models import CustomerRfm, RfmRun, UsageClusterRun
from tend.segments.tests.behaviour_data import AS_OF, build_shop, build_usage

pytestmark = pytest.mark.django_db


def client_with(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def rw(owner: Any) -> Client:
    return client_with(apikey_create(name="robot", kind="read_write", by=owner)[1])


@pytest.fixture
def ro(owner: Any) -> Client:
    return client_with(apikey_create(name="reader", kind="read", by=owner)[1])


def post(client: Client, path: str, body: Any = None) -> Any:
    data = body if isinstance(body, str) else json.dumps(body or {})
    return client.post(f"/api/v1{path}", data, content_type="application/json")


def test_rfm_reads_empty_then_recomputes_with_a_read_write_key(rw: Client) -> None:
    build_shop()
    before = rw.get("/api/v1/segments/rfm").json()
    assert before["run"] is None and before["message"] == "RFM scores have not been computed yet."
    response = post(rw, "/segments/rfm", {"as_of": AS_OF.isoformat(), "window_days": 365})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["recomputed"] is True and body["run"]["customers"] == 10
    assert body["run"]["as_of"] == "2026-03-31"
    groups = {g["key"]: g for g in body["groups"]}
    assert groups["loyal"]["customers"] == 2 and groups["loyal"]["revenue"] == {
        "amount": "1250.00",
        "currency": "USD",
    }
    assert groups["cant_lose"]["rule"] == "R 1–2, FM 5"
    assert body["formula"].startswith("R, F, M scored 1–5")
    page = rw.get("/api/v1/segments/rfm/customers?group=hibernating").json()
    assert page["count"] == 2
    assert {i["score"] for i in page["items"]} == {"222", "111"}
    assert rw.get("/api/v1/segments/rfm/customers?group=best").status_code == 422


def test_no_orders_is_an_empty_run_with_a_message(rw: Client) -> None:
    body = post(rw, "/segments/rfm").json()
    assert body["run"]["customers"] == 0
    assert body["message"].startswith("No paid orders up to")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"window_days": 5}, "window_days"),
        ({"window_days": "365"}, "window_days"),
        ({"window_days": 365.0}, "window_days"),
        ({"as_of": "2999-01-01"}, "as_of"),
        ({"as_of": "1999-12-31"}, "as_of"),
        ({"as_of": "9999-12-31"}, "as_of"),
        ({"as_of": 20260331}, "as_of"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_rfm_input_is_a_422_naming_the_field(rw: Client, body: dict, field: str) -> None:  # type: ignore[type-arg]
    response = post(rw, "/segments/rfm", body)
    assert response.status_code == 422, response.json()
    assert response.json()["errors"][0]["field"] == field
    if field == "as_of" and body["as_of"] != 20260331:
        assert response.json()["errors"][0]["code"] == "range"
    assert not RfmRun.objects.exists()


@pytest.mark.parametrize(
    "raw", ['{"window_days": NaN}', '{"window_days": 1e999}', "[" * 5000 + "]" * 5000, "\x00"]
)
def test_hostile_bodies_never_give_a_5xx(rw: Client, raw: str) -> None:
    response = post(rw, "/segments/rfm", raw)
    assert response.status_code in (400, 422)
    assert not RfmRun.objects.exists()


def test_read_keys_and_viewers_cannot_recompute(ro: Client, viewer_client: Client) -> None:
    build_usage()
    assert ro.get("/api/v1/segments/clusters").status_code == 200
    for client in (ro, viewer_client):
        assert post(client, "/segments/rfm").status_code == 403
        assert post(client, "/segments/clusters", {"as_of": "2026-03-31"}).status_code == 403
    assert not RfmRun.objects.exists() and not UsageClusterRun.objects.exists()


def test_no_credentials_is_a_401() -> None:
    assert Client().get("/api/v1/segments/rfm").status_code == 401


def test_clusters_recompute_and_read(rw: Client) -> None:
    build_usage()
    response = post(rw, "/segments/clusters", {"as_of": "2026-03-31", "k_min": 2, "k_max": 6})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["run"]["k"] == 3 and set(body["run"]["silhouettes"]) == {"2", "3", "4", "5", "6"}
    described = {c["number"]: c["description"] for c in body["clusters"]}
    assert described == {
        1: "quiet, high spend, few features",
        2: "regular users, medium spend, new and growing",
        3: "heavy users, low spend, many features",
    }
    assert rw.get("/api/v1/segments/clusters").json() == {**body, "recomputed": False}


def test_clusters_with_no_usage_answer_with_a_message_and_write_nothing(rw: Client) -> None:
    response = post(rw, "/segments/clusters")
    assert response.status_code == 200
    body = response.json()
    assert body["recomputed"] is False and body["run"] is None and body["clusters"] == []
    assert body["message"].startswith("Too little usage to cluster: 0 customers")
    assert not UsageClusterRun.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [({"k_min": 1}, "k_min"), ({"k_max": 13}, "k_max"), ({"days": 30}, "days"),
     ({"k_min": 5, "k_max": 3}, "k_max")],
)  # fmt: skip
def test_bad_cluster_input_is_a_422_naming_the_field(rw: Client, body: dict, field: str) -> None:  # type: ignore[type-arg]
    build_usage()
    response = post(rw, "/segments/clusters", {"as_of": "2026-03-31", **body})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert not UsageClusterRun.objects.exists()


def test_cli_rfm_prints_the_groups() -> None:
    build_shop()
    out = StringIO()
    call_command("segments", "rfm", "--as-of", "2026-03-31", stdout=out)
    text = out.getvalue()
    assert "RFM as of 2026-03-31 (window 365 days): 10 customers, 51 paid orders" in text
    assert "Can't lose them" in text and "R 1–2, FM 5" in text
    assert CustomerRfm.objects.count() == 10
    shown = StringIO()
    call_command("segments", "rfm", "--show", stdout=shown)
    assert RfmRun.objects.count() == 1 and "10 customers" in shown.getvalue()


def test_cli_clusters_prints_the_clusters_and_silhouettes() -> None:
    build_usage()
    out = StringIO()
    call_command(
        "segments", "clusters", "--as-of", "2026-03-31", "--k-min", "2", "--k-max", "4",
        "--days", "90", stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "15 customers, k = 3" in text and "(chosen k = 3)" in text
    assert "heavy users, low spend" in text


def test_cli_errors_name_the_flag() -> None:
    with pytest.raises(CommandError, match=r"^--k-max: must be at least k_min"):
        call_command("segments", "clusters", "--k-min", "6", "--k-max", "3")
    with pytest.raises(CommandError, match="Too little usage to cluster"):
        call_command("segments", "clusters")
    with pytest.raises(CommandError, match=r"^--window: "):
        call_command("segments", "rfm", "--window", "2")
    with pytest.raises(CommandError, match=r"^--as-of: "):
        call_command("segments", "rfm", "--as-of", "tomorrow")
    out = StringIO()
    call_command("segments", "clusters", "--show", stdout=out)
    assert "not been computed yet" in out.getvalue()


def test_rfm_customer_list_costs_the_same_queries_for_few_and_many_rows(ro: Client) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tend.billing.actions import order_create
    from tend.factories import make_customer
    from tend.segments.rfm import rfm_refresh
    from tend.segments.tests.behaviour_data import ago

    def count() -> int:
        ro.get("/api/v1/segments/rfm/customers?limit=200")
        with CaptureQueriesContext(connection) as captured:
            assert ro.get("/api/v1/segments/rfm/customers?limit=200").status_code == 200
        return len(captured)

    build_shop()
    rfm_refresh(AS_OF)
    few = count()
    for i in range(30):
        order_create(customer=make_customer(f"More {i}"), by=None, amount=i + 1, at=ago(i))  # type: ignore[arg-type]
    rfm_refresh(AS_OF)
    assert count() == few
