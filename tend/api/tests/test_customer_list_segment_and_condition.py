"""GET /api/v1/customers takes a saved segment (``segment=``) and a condition (``condition=``,
URL-encoded JSON of at most 8 KB); a bad one is a 422 naming the parameter and the path."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tend.api.main import openapi_schema
from tend.customers.actions import customer_set_tags
from tend.factories import make_customer, make_plan
from tend.segments.models import Segment

pytestmark = pytest.mark.django_db(transaction=True)


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def errors(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {e["field"]: e["message"] for e in response.json()["errors"]}


@pytest.fixture
def book(member):  # type: ignore[no-untyped-def]
    pro, basic = make_plan("pro", price="49"), make_plan("basic", price="9")
    acme = make_customer("Acme", stage="trial", plan=pro, owner=member, country="DE")
    make_customer("Bolt", stage="established", plan=basic, country="US")
    cog = make_customer("Cog", stage="trial", plan=basic, owner=member, country="DE")
    customer_set_tags(customer=acme, tags=["vip"], by=None)
    customer_set_tags(customer=cog, tags=["vip", "eu"], by=None)
    return {"pro": pro, "basic": basic}


def test_a_saved_segment_filters_the_list_and_combines_with_the_other_filters(ro, book):
    germans = Segment.objects.create(
        name="Germany", condition={"field": "country", "op": "eq", "value": "DE"}
    )
    assert names(ro.get("/customers", params={"segment": germans.pk})) == ["Acme", "Cog"]
    both = {"segment": germans.pk, "plan": "basic"}
    assert names(ro.get("/customers", params=both)) == ["Cog"]
    # Live: the segment's condition as it is now, no refresh needed.
    Segment.objects.filter(pk=germans.pk).update(
        condition={"field": "country", "op": "eq", "value": "US"}
    )
    assert names(ro.get("/customers", params={"segment": germans.pk})) == ["Bolt"]


def test_an_unknown_or_malformed_segment_is_a_422_naming_segment(ro, book):
    unknown = ro.get("/customers", params={"segment": 987654})
    assert errors(unknown) == {"segment": "No segment with id 987654."}
    assert unknown.json()["errors"][0]["code"] == "unknown"
    for bad in ("abc", "0", "-3", "1.5", "9" * 30):
        assert list(errors(ro.get("/customers", params={"segment": bad}))) == ["segment"]


def test_a_condition_filters_the_list(ro, book):
    condition = {
        "all": [
            {"field": "tags", "op": "has", "value": "vip"},
            {"not": {"field": "plan", "op": "eq", "value": book["pro"].pk}},
        ]
    }
    assert names(ro.get("/customers", params={"condition": json.dumps(condition)})) == ["Cog"]
    anyone = json.dumps({"all": []})
    assert names(ro.get("/customers", params={"condition": anyone, "stage": "trial"})) == [
        "Acme",
        "Cog",
    ]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"all": [{"field": "shoe_size", "op": "eq", "value": 3}]}', "condition.all[0]"),
        ("{not json", "condition"),
        ('{"field": "mrr", "op": "gt", "value": NaN}', "condition"),
        ("[" * 5000 + "]" * 5000, "condition"),
        ("7", "condition"),
    ],
)
def test_a_bad_condition_is_a_422_naming_the_path(ro, book, raw, field):
    found = errors(ro.get("/customers", params={"condition": raw}))
    assert any(name == field or name.startswith(field + ".") for name in found), found


def test_hostile_text_inside_the_condition_is_refused_not_a_500(ro, book):
    for raw in (
        '{"field": "name", "op": "eq", "value": "a\\u0000b"}',
        '{"field": "name", "op": "eq", "value": "\\ud800"}',
    ):
        found = errors(ro.get("/customers", params={"condition": raw}))
        assert all(name.startswith("condition") for name in found), found


def test_a_condition_over_8_kb_is_refused(ro, book):
    leaves = [{"field": "name", "op": "eq", "value": "x" * 40} for _ in range(200)]
    raw = json.dumps({"any": leaves})
    assert len(raw.encode()) > 8192
    found = errors(ro.get("/customers", params={"condition": raw}))
    assert list(found) == ["condition"]


def test_the_openapi_document_states_the_new_parameters_and_their_limits():
    operation = openapi_schema()["paths"]["/api/v1/customers"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["segment"]["schema"].get("minimum") == 1 or "anyOf" in params["segment"]["schema"]
    condition = params["condition"]
    text = json.dumps(condition)
    assert "8192" in text and "condition." in text
    assert "maxLength" in text


def test_unknown_parameters_are_still_refused(ro, book):
    found = errors(ro.get("/customers", params={"segmnt": 3}))
    assert "segmnt" in found
    assert "segment" in found["segmnt"] and "condition" in found["segmnt"]


def test_a_segment_naming_a_deleted_segment_is_a_422_naming_segment(ro, book):
    inner = Segment.objects.create(name="Inner", condition={"all": []})
    outer = Segment.objects.create(
        name="Outer", condition={"field": "segment", "op": "eq", "value": inner.pk}
    )
    assert len(names(ro.get("/customers", params={"segment": outer.pk}))) == 3
    inner.delete()
    assert list(errors(ro.get("/customers", params={"segment": outer.pk}))) == ["segment"]
    # A condition naming a deleted segment: the path names the value.
    raw = json.dumps({"all": [{"field": "segment", "op": "eq", "value": inner.pk}]})
    assert list(errors(ro.get("/customers", params={"condition": raw}))) == [
        "condition.all[0].value"
    ]
