"""``q`` searches like the web list's ``?q=``; a query parameter an endpoint does not declare is
a 422 naming it (it used to be ignored, and ``?q=`` returned every customer)."""

from __future__ import annotations

import pytest

from tend.api.main import openapi_schema
from tend.factories import make_customer

pytestmark = pytest.mark.django_db(transaction=True)


def _names(response):  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def test_q_searches_like_search_and_like_the_web_list(ro):
    make_customer("Acme Ltd", email="ops@acme.test")
    make_customer("Bolt GmbH")
    assert _names(ro.get("/customers", params={"q": "acme"})) == ["Acme Ltd"]
    assert _names(ro.get("/customers", params={"search": "acme"})) == ["Acme Ltd"]
    assert _names(ro.get("/customers", params={"q": "acme", "search": "acme"})) == ["Acme Ltd"]
    both = ro.get("/customers", params={"q": "acme", "search": "bolt"})
    assert both.status_code == 422
    assert both.json()["errors"][0]["field"] == "q"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/customers", {"qq": "acme"}),
        ("/customers", {"serach": "x", "stage": "trial", "colour": "red"}),
        ("/plans", {"q": "pro"}),
        ("/subscriptions", {"customer_id": "1"}),
        ("/metrics/summary", {"periods": "month"}),
        ("/goals", {"q": "x"}),
        ("/channels", {"archived": "1"}),
        ("/metrics/formulas", {"x": "1"}),
    ],
)
def test_an_unknown_query_parameter_is_a_422_naming_it(ro, path, params):
    response = ro.get(path, params=params)
    assert response.status_code == 422, (path, response.text)
    body = response.json()
    known = {"stage"}
    unknown = sorted(set(params) - known)
    assert [e["field"] for e in body["errors"]] == unknown
    assert {e["code"] for e in body["errors"]} == {"unknown_parameter"}
    for name in unknown:
        assert name in body["detail"]
    assert "this endpoint takes" in body["errors"][0]["message"]


def test_an_unknown_parameter_on_a_write_is_refused_and_changes_nothing(rw):
    customer = make_customer("Acme")
    response = rw.patch(f"/customers/{customer.pk}?dry_run=1", json={"name": "Renamed"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "dry_run"
    customer.refresh_from_db()
    assert customer.name == "Acme"


def test_without_a_key_the_answer_is_401_whatever_the_query_string(http):
    assert http().get("/customers", params={"nope": "1"}).status_code == 401


def test_every_documented_query_parameter_is_still_accepted(ro):
    make_customer("Acme")
    doc = openapi_schema()
    for path, item in doc["paths"].items():
        op = item.get("get")
        if op is None or "{" in path:
            continue
        names = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
        response = ro.get(path.removeprefix("/api/v1"), params={n: "" for n in names})
        # Empty values may be refused by a parameter's own rules, never as unknown.
        if response.status_code == 422:
            codes = {e["code"] for e in response.json()["errors"]}
            assert "unknown_parameter" not in codes, (path, response.text)


def test_the_document_says_q_and_search_are_the_same_filter():
    doc = openapi_schema()
    params = {p["name"]: p for p in doc["paths"]["/api/v1/customers"]["get"]["parameters"]}
    assert "q" in params and "search" in params
    assert "older name" in params["search"]["description"]
    assert "unknown_parameter" in doc["info"]["description"]
