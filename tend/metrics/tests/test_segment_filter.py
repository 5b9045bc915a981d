"""Metrics for a saved segment: the API, the CLI, the dashboard and its downloads give the same
figures as the equivalent plain filter, computed on demand from the segment's live condition."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from tend.accounts.actions import apikey_create
from tend.accounts.models import User
from tend.metrics.filters import FilterError, Filters
from tend.metrics.tests.ledger import Ledger, build_ledger
from tend.segments.models import Segment

pytestmark = pytest.mark.django_db

TABLES = ("series", "summary", "channels", "cac", "cohorts", "survival")


@pytest.fixture
def ledger() -> Ledger:
    return build_ledger()


@pytest.fixture
def ro(owner: User) -> Client:
    _key, raw = apikey_create(name="read", kind="read", by=owner)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def segment(name: str, condition: dict[str, Any]) -> Segment:
    return Segment.objects.create(name=name, condition=condition)


def api(client: Client, table: str, **params: Any) -> Any:
    response = client.get(f"/api/v1/metrics/{table}", params)
    assert response.status_code == 200, response.content
    body = response.json()
    body.pop("filters")
    return body


@pytest.mark.parametrize("table", TABLES)
def test_a_segment_gives_the_figures_of_the_filter_it_stands_for(ro, ledger, table):
    vip = segment("VIP", {"field": "tags", "op": "has", "value": "vip"})
    assert api(ro, table, segment=vip.pk) == api(ro, table, tag="vip")
    germans = segment("Germany", {"field": "country", "op": "eq", "value": "DE"})
    both = api(ro, table, segment=germans.pk, plan="basic")
    assert both == api(ro, table, country="DE", plan="basic")


def test_the_api_echoes_the_segment_and_refuses_a_bad_one_naming_it(ro, ledger):
    vip = segment("VIP", {"field": "tags", "op": "has", "value": "vip"})
    response = ro.get("/api/v1/metrics/series", {"segment": vip.pk})
    assert response.json()["filters"]["segment"] == vip.pk
    assert ro.get("/api/v1/metrics/series").json()["filters"]["segment"] is None
    missing = ro.get("/api/v1/metrics/summary", {"segment": vip.pk + 1000})
    assert missing.status_code == 422
    assert missing.json()["errors"] == [
        {"field": "segment", "message": f"no segment with id {vip.pk + 1000}", "code": "unknown"}
    ]
    for bad in ("x", "0", "1,2"):
        response = ro.get("/api/v1/metrics/series", {"segment": bad})
        assert response.status_code == 422, bad
        assert [e["field"] for e in response.json()["errors"]] == ["segment"]


def test_a_segment_is_computed_on_demand_and_follows_a_changed_condition(ro, ledger):
    place = segment("Place", {"field": "country", "op": "eq", "value": "DE"})
    filters = Filters.parse({"segment": [str(place.pk)]})
    assert filters.summary_key() is None and filters.is_filtered()
    assert filters.as_query()["segment"] == str(place.pk)
    assert api(ro, "series", segment=place.pk) == api(ro, "series", country="DE")
    # Saved again with another condition: the cached figures of the old one are not reused.
    Segment.objects.filter(pk=place.pk).update(
        condition={"field": "country", "op": "eq", "value": "US"}, updated_at=timezone.now()
    )
    assert api(ro, "series", segment=place.pk) == api(ro, "series", country="US")


def test_filters_parse_refuses_several_segments_and_unknown_ones():
    with pytest.raises(FilterError) as several:
        Filters.parse({"segment": ["1", "2"]})
    assert several.value.field == "segment"
    with pytest.raises(FilterError) as unknown:
        Filters.parse({"segment": "424242"})
    assert (unknown.value.field, unknown.value.code) == ("segment", "unknown")
    assert unknown.value.label == "Segment"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("metrics", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_cli_takes_a_segment_and_prints_what_the_api_answers(ro, ledger):
    vip = segment("VIP", {"field": "tags", "op": "has", "value": "vip"})
    printed = json.loads(run("--table", "summary", "--format", "json", "--segment", str(vip.pk)))
    assert printed["filters"]["segment"] == vip.pk
    printed.pop("filters")
    assert printed == api(ro, "summary", segment=vip.pk)
    with pytest.raises(CommandError) as caught:
        run("--segment", "999999")
    assert str(caught.value).startswith("--segment: no segment with id 999999")


def test_the_dashboard_offers_segments_and_filters_its_tables_and_downloads(owner_client, ledger):
    vip = segment("VIP", {"field": "tags", "op": "has", "value": "vip"})
    html = owner_client.get("/metrics/", {"segment": vip.pk}).content.decode()
    assert f'<option value="{vip.pk}" selected>VIP</option>' in html
    assert "segment=" in html  # links and downloads keep the segment
    by_segment = owner_client.get("/metrics/export/kpis.csv", {"segment": vip.pk})
    by_tag = owner_client.get("/metrics/export/kpis.csv", {"tag": "vip"})
    assert by_segment.status_code == 200
    assert by_segment.content == by_tag.content
    bad = owner_client.get("/metrics/", {"segment": "31337"})
    assert bad.status_code == 400
    assert "Segment" in bad.content.decode()
    report = owner_client.get("/metrics/report/", {"segment": vip.pk}).content.decode()
    assert "Segment: VIP" in report


def test_a_segment_naming_a_deleted_segment_is_refused_naming_segment(ro, owner, owner_client):
    inner = segment("Inner", {"all": []})
    outer = segment("Outer", {"field": "segment", "op": "eq", "value": inner.pk})
    assert ro.get("/api/v1/metrics/series", {"segment": outer.pk}).status_code == 200
    inner.delete()
    response = ro.get("/api/v1/metrics/series", {"segment": outer.pk})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["segment"]
    assert owner_client.get("/metrics/", {"segment": outer.pk}).status_code == 400
    # Filters parsed before the deletion still refuse cleanly when they are read.
    with pytest.raises(FilterError) as caught:
        Filters(segment=outer.pk).customer_sql()
    assert caught.value.field == "segment"
