"""The same filters give the same numbers on every surface: the series reader, the REST API,
``tend metrics --format json`` and the revenue dashboard's page context."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tend.accounts.actions import apikey_create
from tend.accounts.models import User
from tend.metrics.bodies import parse_filters
from tend.metrics.channels import by_channel, cac_by_channel_month
from tend.metrics.cohorts import cohorts, survival
from tend.metrics.kpis import PeriodKpis, kpi_series
from tend.metrics.schemas import FIGURE_NAMES, METRIC_NAMES
from tend.metrics.tests.ledger import Ledger, build_ledger
from tend.metrics.tiles import comparison, tiles
from tend.metrics.value import lifetime_value

pytestmark = pytest.mark.django_db

# Filters as a person would give them: plans by code, several values as lists.
CASES = {
    "everyone": {},
    "one plan": {"plan": ["pro"]},
    "a tag and a channel": {"tag": ["vip"], "channel": ["referral"]},
    "by quarter": {"period": "quarter"},
    "two countries by year": {"country": ["DE", "US"], "period": "year", "start": "2024-01"},
    "a plan and a tag by quarter": {"plan": ["basic"], "tag": ["vip"], "period": "quarter"},
}


@pytest.fixture
def ledger() -> Ledger:
    return build_ledger()


@pytest.fixture
def api(owner: User) -> Client:
    _key, raw = apikey_create(name="agree", kind="read", by=owner)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def api_get(client: Client, path: str, spec: dict[str, Any], **extra: str) -> Any:
    response = client.get(f"/api/v1/metrics/{path}", {**spec, **extra})
    assert response.status_code == 200, response.content
    return response.json()


def cli_json(table: str, spec: dict[str, Any], *extra: str) -> Any:
    args = ["--table", table, "--format", "json", *extra]
    for name, value in spec.items():
        args += [f"--{name}", *(value if isinstance(value, list) else [value])]
    out = io.StringIO()
    call_command("metrics", *args, stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue())


def web_context(client: Client, spec: dict[str, Any]) -> Any:
    # The page takes plan ids, the way its filter bar sends them.
    query = parse_filters(spec).as_query()
    response = client.get(reverse("metrics:dashboard"), query)
    assert response.status_code == 200
    return response.context


def plain(value: Any) -> Any:
    """A JSON value as a number: money objects to Decimal."""
    return Decimal(value["amount"]) if isinstance(value, dict) else value


def from_json(period: dict[str, Any]) -> dict[str, Any]:
    values = {**period["figures"], **period["metrics"]}
    return {"period": period["period"], **{k: plain(v) for k, v in values.items()}}


def from_series(period: PeriodKpis) -> dict[str, Any]:
    return {
        "period": period.label,
        **{name: getattr(period, name) for name in FIGURE_NAMES},
        **{name: period.metrics[name] for name in METRIC_NAMES},
    }


@pytest.mark.parametrize("spec", CASES.values(), ids=CASES.keys())
def test_every_period_has_the_same_numbers_on_every_surface(ledger, api, owner_client, spec):
    from_api = api_get(api, "series", spec)
    from_cli = cli_json("series", spec)
    assert from_api == from_cli
    expected = [from_series(p) for p in kpi_series(parse_filters(spec))]
    assert [from_json(p) for p in from_api["periods"]] == expected
    assert any(p["customers"] for p in expected), "the case must have numbers to compare"
    page = web_context(owner_client, spec)
    assert [from_series(p) for p in page["kpis"]] == expected


@pytest.mark.parametrize("spec", CASES.values(), ids=CASES.keys())
def test_headline_tiles_agree_on_every_surface(ledger, api, owner_client, spec):
    from_api = api_get(api, "summary", spec)
    assert from_api == cli_json("summary", spec)
    kpis = kpi_series(parse_filters(spec))
    compared = comparison(kpis, parse_filters(spec))
    assert compared is not None and compared.mode == "complete"
    expected = {t.key: (t.value, t.previous, t.change) for t in tiles(compared)}
    assert {
        t["key"]: (plain(t["value"]), plain(t["previous"]), t["change"]) for t in from_api["tiles"]
    } == expected
    value = lifetime_value(kpis[: compared.index + 1])
    rates = ("gross_margin", "clv_discount_rate", "clv_growth_rate")
    assert {k: plain(v) for k, v in from_api["lifetime_value"].items()} == {
        **value,
        **{k: float(value[k]) for k in rates},
    }
    # The page shows the last period's tiles, then lifetime value and CAC over the range.
    page = web_context(owner_client, spec)
    groups = {g["key"]: {t["key"]: t["value"] for t in g["tiles"]} for g in page["tile_groups"]}
    period_tiles = {**groups["revenue"], **groups["retention"]}
    assert period_tiles == {key: expected[key][0] for key in period_tiles}
    range_tiles = groups["value"]
    assert range_tiles.pop("referral_rate") == from_api["referral"]["referral_rate"]
    assert range_tiles == {key: value[key] for key in range_tiles}
    assert len(period_tiles) >= 10 and len(range_tiles) >= 3


@pytest.mark.parametrize("spec", CASES.values(), ids=CASES.keys())
def test_channels_cohorts_and_survival_agree_on_every_surface(ledger, api, owner_client, spec):
    filters = parse_filters(spec)
    channels = api_get(api, "channels", spec)
    assert channels == cli_json("channels", spec)
    assert [
        {k: plain(v) for k, v in item.items() if k != "label"} for item in channels["items"]
    ] == [row.__dict__ for row in by_channel(filters)]
    cac = api_get(api, "cac", spec)
    assert cac == cli_json("cac", spec)
    assert [(i["channel"], i["acquired"], plain(i["cac"])) for i in cac["items"]] == [
        (row.channel, row.acquired, row.cac) for row in cac_by_channel_month(filters)
    ]
    rows = cohorts(filters)
    for basis in ("logo", "revenue"):
        body = api_get(api, "cohorts", spec, basis=basis)
        assert body == cli_json("cohorts", spec, "--basis", basis)
        assert [(i["cohort"], i["customers"], i["retention"]) for i in body["items"]] == [
            (f"{r.cohort:%Y-%m}", r.customers, getattr(r, basis)) for r in rows
        ]
    survived = api_get(api, "survival", spec)
    assert survived == cli_json("survival", spec)
    curves = survival(filters, by="all")
    assert [g["survival"] for g in survived["groups"]] == [c["survival"] for c in curves.values()]
    page = web_context(owner_client, spec)
    assert [(r.cohort, r.logo, r.revenue) for r in page["cohorts"]] == [
        (r.cohort, r.logo, r.revenue) for r in rows
    ]
    assert [g["customers"] for g in page["survival_groups"]] == [
        g["customers"] for g in survived["groups"]
    ]
