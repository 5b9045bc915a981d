"""The metrics REST API over HTTP: who may call it, what it answers, how it refuses."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tend.accounts.actions import apikey_create
from tend.accounts.models import User
from tend.api.main import openapi_schema
from tend.factories import make_customer, make_subscription
from tend.metrics.filters import Filters
from tend.metrics.formulas import FORMULAS
from tend.metrics.kpis import kpi_series
from tend.metrics.models import SnapshotState
from tend.metrics.schemas import FIGURE_NAMES, METRIC_NAMES
from tend.metrics.snapshots import snapshots_refresh
from tend.metrics.tests.ledger import Ledger, build_ledger, months_ago
from tend.metrics.value import lifetime_value

pytestmark = pytest.mark.django_db

READS = [
    "/metrics/formulas",
    "/metrics/series",
    "/metrics/summary",
    "/metrics/channels",
    "/metrics/cac",
    "/metrics/cohorts",
    "/metrics/survival",
    "/metrics/freshness",
]


def key_client(user: User, kind: str) -> Client:
    _key, raw = apikey_create(name=f"{kind}-key", kind=kind, by=user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def get(client: Client, path: str, **params: Any) -> Any:
    response = client.get(f"/api/v1{path}", params)
    assert response.status_code == 200, response.content
    return response.json()


def refresh(client: Client, body: Any = None) -> Any:
    data = "" if body is None else json.dumps(body)
    return client.post("/api/v1/metrics/refresh", data, content_type="application/json")


def amount(money: dict[str, str] | None) -> Decimal | None:
    return None if money is None else Decimal(money["amount"])


@pytest.fixture
def ledger() -> Ledger:
    return build_ledger()


@pytest.fixture
def ro(owner: User) -> Client:
    return key_client(owner, "read")


# --- who may call ---------------------------------------------------------------------------


def test_every_metrics_operation_is_in_the_openapi_document():
    paths = openapi_schema()["paths"]
    operations = {
        (method, path.removeprefix("/api/v1")): op["operationId"]
        for path, methods in paths.items()
        for method, op in methods.items()
        if "/metrics/" in path
    }
    assert operations == {
        ("get", "/metrics/formulas"): "metric_formulas",
        ("get", "/metrics/series"): "metric_series",
        ("get", "/metrics/summary"): "metric_summary",
        ("get", "/metrics/channels"): "metric_channels",
        ("get", "/metrics/cac"): "metric_cac",
        ("get", "/metrics/cohorts"): "metric_cohorts",
        ("get", "/metrics/survival"): "metric_survival",
        ("get", "/metrics/freshness"): "metric_freshness",
        ("post", "/metrics/refresh"): "metric_refresh",
    }
    series = paths["/api/v1/metrics/series"]["get"]
    names = {p["name"] for p in series["parameters"]}
    assert names == {"period", "start", "end", "plan", "channel", "country", "tag", "segment"}


def test_outsiders_get_a_401_and_nothing_is_refreshed(outsider_client):
    for path in READS:
        response = outsider_client.get(f"/api/v1{path}")
        assert response.status_code == 401, path
        assert response.json()["detail"]
    assert refresh(outsider_client).status_code == 401
    assert not SnapshotState.objects.exists()


def test_a_write_key_may_not_read_metrics(owner):
    client = key_client(owner, "write")
    for path in READS:
        response = client.get(f"/api/v1{path}")
        assert response.status_code == 403, path
        assert "ingestion" in response.json()["detail"]
    assert refresh(client).status_code == 403
    assert not SnapshotState.objects.exists()


def test_a_read_key_and_a_viewer_session_read_but_do_not_refresh(owner, member, viewer_client):
    # A viewer may own read keys only; a member's read_write key made a viewer's only reads.
    demoted = key_client(member, "read_write")
    member.role = "viewer"
    member.save(update_fields=["role"])
    for client in (key_client(owner, "read"), viewer_client, demoted):
        for path in READS:
            assert client.get(f"/api/v1{path}").status_code == 200, path
        response = refresh(client)
        assert response.status_code == 403
        assert response.json()["errors"] == []
    assert not SnapshotState.objects.exists()  # read, never built: reads never write


def test_a_read_write_key_queues_a_refresh_that_builds_the_snapshots(owner, ledger):
    client = key_client(owner, "read_write")
    before = SnapshotState.objects.get().built_at
    response = refresh(client, {"full": True})
    assert response.status_code == 202
    body = response.json()
    assert body["full"] is True and body["task_id"]
    # Tests run tasks immediately; in production the worker picks it up.
    assert body["status"] == "SUCCESSFUL"
    assert SnapshotState.objects.get().built_at > before
    assert refresh(client).json()["full"] is False


def test_a_member_session_may_refresh(member_client):
    response = refresh(member_client)
    assert response.status_code == 202
    assert get(member_client, "/metrics/freshness")["built_at"] is not None


def test_refresh_refuses_a_field_it_does_not_take(owner):
    response = refresh(key_client(owner, "read_write"), {"everything": True})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "everything"


# --- bad filters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, field",
    [
        ({"period": "week"}, "period"),
        ({"start": "2025-13"}, "start"),
        ({"end": "last year"}, "end"),
        ({"start": "2025-06", "end": "2025-01"}, "start"),
        ({"start": "1900-01", "end": "2025-01"}, "start"),
        ({"plan": "no-such-plan"}, "plan"),
        ({"channel": "carrier_pigeon"}, "channel"),
        ({"country": "DEU"}, "country"),
        ({"tag": "no-such-tag"}, "tag"),
    ],
)
def test_a_bad_filter_is_a_422_naming_the_parameter(ro, params, field):
    for path in ("/metrics/series", "/metrics/summary", "/metrics/cohorts"):
        response = ro.get(f"/api/v1{path}", params)
        assert response.status_code == 422, (path, response.content)
        body = response.json()
        assert body["detail"] == "Some values are not valid."
        assert [e["field"] for e in body["errors"]] == [field]
        assert body["errors"][0]["message"]


@pytest.mark.parametrize("path, params, field", [
    ("/metrics/cohorts", {"basis": "seats"}, "basis"),
    ("/metrics/survival", {"by": "country"}, "by"),
])  # fmt: skip
def test_a_bad_choice_is_a_422_naming_it(ro, path, params, field):
    response = ro.get(f"/api/v1{path}", params)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


# --- what it answers -------------------------------------------------------------------------


def test_formulas_list_the_whole_catalogue_with_units_and_direction(ro):
    items = get(ro, "/metrics/formulas")["items"]
    assert [i["key"] for i in items] == list(FORMULAS)
    nps = next(i for i in items if i["key"] == "nps")
    assert nps["unit"] == "score" and nps["higher_is_better"] is True
    assert "promoters" in nps["formula"]
    churn = next(i for i in items if i["key"] == "logo_churn")
    assert churn["unit"] == "percent" and churn["higher_is_better"] is False


def test_the_series_has_every_figure_and_metric_per_month_oldest_first(ro, ledger):
    body = get(ro, "/metrics/series", start=months_ago(7).strftime("%Y-%m"))
    assert body["currency"] == "USD"
    periods = body["periods"]
    assert len(periods) == 8
    assert [p["period"] for p in periods] == sorted(p["period"] for p in periods)
    assert set(periods[0]["figures"]) == set(FIGURE_NAMES)
    assert set(periods[0]["metrics"]) == set(METRIC_NAMES)
    now, last_month, three_ago = periods[-1], periods[-2], periods[-4]
    assert now["to_date"] is True and last_month["to_date"] is False
    # Gus 40 + Ada 100 + Cy 15 + Dee 1200/12 + Eve 50 + Fay 20 + Hal 20
    assert now["metrics"]["mrr"] == {"amount": "345.00", "currency": "USD"}
    assert now["metrics"]["customers"] == 7
    assert amount(last_month["metrics"]["mrr"]) == Decimal(325)
    # Three months ago: Dee's annual plan is new, Ada doubled, Eve left.
    assert amount(three_ago["metrics"]["new_mrr"]) == Decimal(100)
    assert amount(three_ago["metrics"]["expansion_mrr"]) == Decimal(50)
    assert amount(three_ago["metrics"]["churned_mrr"]) == Decimal(50)
    assert three_ago["figures"]["churn"]["amount"] == "-50.00"
    assert three_ago["metrics"]["logo_churn"] == 20.0  # 1 of the 5 paying at its start
    # Last month Eve came back and Cy moved down to 15.
    assert amount(last_month["metrics"]["reactivation_mrr"]) == Decimal(50)
    assert amount(last_month["metrics"]["contraction_mrr"]) == Decimal(5)
    # Before anyone paid, rates are undefined, never 0.
    assert periods[0]["metrics"]["crr"] is None and periods[0]["metrics"]["arpa"] is None
    assert periods[0]["metrics"]["mrr"]["amount"] == "0.00"


def test_the_series_by_quarter_and_by_year_labels_its_periods(ro, ledger):
    quarters = get(ro, "/metrics/series", period="quarter")
    assert quarters["filters"]["period"] == "quarter"
    assert len(quarters["periods"]) == 8
    assert all("-Q" in p["period"] for p in quarters["periods"])
    years = get(ro, "/metrics/series", period="year", start="2024-01")
    assert years["periods"][0]["period"] == "2024"
    assert years["periods"][-1]["metrics"]["customers"] == 7


def test_filters_take_plan_codes_or_ids_and_lists_or_commas(ro, ledger):
    by_code = get(ro, "/metrics/series", plan="basic")
    by_id = get(ro, "/metrics/series", plan=str(ledger.basic.pk))
    assert by_code == by_id
    assert by_code["filters"]["plan"] == ["basic"]
    assert by_code["periods"][-1]["metrics"]["customers"] == 3  # Cy, Fay, Hal
    repeated = ro.get("/api/v1/metrics/series?country=de&country=us").json()
    commas = get(ro, "/metrics/series", country="DE,US")
    assert repeated == commas
    assert commas["filters"]["country"] == ["DE", "US"]
    assert commas["periods"][-1]["metrics"]["customers"] == 7


def test_the_summary_gives_tiles_lifetime_value_referrals_and_what_is_missing(ro, ledger):
    body = get(ro, "/metrics/summary")
    # The tiles show the last complete month against the one before, not this running month.
    assert body["period"] == months_ago(1).strftime("%Y-%m") and body["to_date"] is False
    assert body["compare"]["mode"] == "complete" and body["compare"]["days"] is None
    assert body["compare"]["previous"]["label"] == months_ago(2).strftime("%Y-%m")
    tiles = {t["key"]: t for t in body["tiles"]}
    # Month −2 ends at Gus 40 + Ada 100 + Cy 20 + Dee 100 + Fay 20 = 280; month −1 adds Eve's
    # return (+50) and Cy's cut (−5): 325.
    assert tiles["mrr"]["value"] == {"amount": "325.00", "currency": "USD"}
    assert tiles["mrr"]["previous"]["amount"] == "280.00"
    assert tiles["mrr"]["change_kind"] == "percent"
    assert tiles["mrr"]["change"] == pytest.approx(45 / 280 * 100)
    assert tiles["customers"]["value"] == 6 and tiles["customers"]["unit"] == "count"
    assert tiles["crr"]["change_kind"] == "points" and tiles["crr"]["unit"] == "percent"
    assert tiles["nrr"]["label"] == str(FORMULAS["nrr"].label)
    assert body["referral"] == {"customers": 8, "referrers": 1, "referral_rate": 12.5}
    value = body["lifetime_value"]
    assert value["gross_margin"] == 0.8
    # Over the range up to the tiles' month: Hal (this month, no recorded cost) is not in it.
    assert value["acquired"] == 7 and amount(value["acquisition_cost"]) == Decimal(210)
    assert amount(value["cac"]) == Decimal("30.00")
    with_hal = get(ro, "/metrics/summary", compare="to_date")["lifetime_value"]
    # One of the eight has no recorded cost: CAC = 210 ÷ 7, not 210 ÷ 8.
    assert with_hal["acquired"] == 8 and amount(with_hal["cac"]) == Decimal("30.00")
    assert set(value) == set(lifetime_value([])), "every figure of lifetime_value is in the API"
    assert value["clv_discount_rate"] == 0.1 and value["clv_years"] >= 1
    assert amount(value["clv_discounted"]) > 0
    missing = {m["key"]: m["reason"] for m in body["unavailable"]}
    assert {"nps", "csat", "csi", "ces", "satisfaction_ratio"} <= set(missing)
    assert "survey" in missing["nps"]
    assert not {"mrr", "nrr", "clv_simple", "clv_discounted", "referral_rate"} & set(missing)


def test_channels_give_cac_and_lifetime_value_per_channel(ro, ledger):
    items = {i["channel"]: i for i in get(ro, "/metrics/channels")["items"]}
    assert set(items) == {"organic", "paid_search", "referral"}
    referral = items["referral"]
    assert referral["label"] == "Referral"
    assert referral["acquired"] == 3 and referral["customers"] == 3
    assert amount(referral["cac"]) == Decimal(30)
    assert amount(referral["mrr"]) == Decimal(240)  # Ada 100 + Dee 100 + Gus 40
    only = get(ro, "/metrics/channels", channel="organic")["items"]
    assert [i["channel"] for i in only] == ["organic"]


def test_cac_per_channel_and_month(ro, ledger):
    items = get(ro, "/metrics/cac", channel="referral")["items"]
    assert [(i["month"], i["acquired"]) for i in items] == [
        (months_ago(k).strftime("%Y-%m"), 1)
        for k in (6, 5, 3)  # Gus, Ada, Dee
    ]
    assert {i["cac"]["amount"] for i in items} == {"30.00"}
    assert {i["label"] for i in items} == {"Referral"}
    everyone = get(ro, "/metrics/cac")["items"]
    assert sum(i["acquired"] for i in everyone) == 8
    vip = get(ro, "/metrics/cac", tag="vip")["items"]
    month = {k: months_ago(k).strftime("%Y-%m") for k in range(7)}
    assert sorted((i["channel"], i["month"]) for i in vip) == sorted(
        [("referral", month[6]), ("referral", month[5]), ("paid_search", month[4])]  # Gus, Ada, Cy
    )


def test_cohorts_keep_customers_or_revenue(ro, ledger):
    logo = get(ro, "/metrics/cohorts")
    revenue = get(ro, "/metrics/cohorts", basis="revenue")
    assert logo["basis"] == "logo" and revenue["basis"] == "revenue"
    cohort = months_ago(5).strftime("%Y-%m")  # Ada, Bob, Eve
    first = next(i for i in logo["items"] if i["cohort"] == cohort)
    assert first["customers"] == 3 and amount(first["first_mrr"]) == Decimal(120)
    assert first["retention"][0] == 100.0
    assert first["retention"][3] == 33.3  # Eve left at 2, Bob at 3; Ada still pays
    revenue_row = next(i for i in revenue["items"] if i["cohort"] == cohort)
    assert revenue_row["retention"][5] == 125.0  # Ada 100 + Eve back at 50, of 120


def test_survival_curves_per_group_with_their_band(ro, ledger):
    body = get(ro, "/metrics/survival")
    assert body["by"] == "all"
    [curve] = body["groups"]
    assert curve["group"] == "all" and curve["customers"] == 8 and curve["churned"] == 2
    assert curve["survival"][0] == 100.0
    assert len(curve["months"]) == len(curve["lower"]) == len(curve["upper"])
    assert all(
        lo <= s <= up
        for lo, s, up in zip(curve["lower"], curve["survival"], curve["upper"], strict=True)
    )
    by_plan = get(ro, "/metrics/survival", by="plan")
    assert by_plan["by"] == "plan" and by_plan["groups"] == []  # no plan has 5 customers


def test_freshness_says_when_the_snapshots_were_built(ro, ledger):
    body = get(ro, "/metrics/freshness")
    built = SnapshotState.objects.get()
    assert body["built_at"].startswith(built.built_at.strftime("%Y-%m-%dT%H:%M"))
    assert body["built_at"].endswith("Z")
    assert body["duration_ms"] == built.duration_ms


def test_the_series_answers_in_the_same_number_of_queries_for_more_customers(ro, ledger):
    def count(**params: Any) -> int:
        with CaptureQueriesContext(connection) as queries:
            get(ro, "/metrics/series", **params)
        return len(queries)

    get(ro, "/metrics/freshness")  # the key's first use stamps last_used_at once
    few = [count(), count(tag="vip"), count(period="quarter"), count(plan="pro")]
    for n in range(6):
        make_subscription(make_customer(f"More {n}", tags=["vip"]), ledger.pro, at=months_ago(n))
    snapshots_refresh()
    assert [count(), count(tag="vip"), count(period="quarter"), count(plan="pro")] == few
    assert kpi_series(Filters())[-1].customers_end == 13
