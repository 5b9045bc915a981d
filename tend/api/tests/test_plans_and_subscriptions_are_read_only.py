"""Plans and subscriptions can be read and filtered over HTTP, with money as decimal strings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tend.billing.actions import subscription_cancel
from tend.factories import make_customer, make_plan, make_subscription

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def subs():  # type: ignore[no-untyped-def]
    pro, basic = make_plan("pro", price="49"), make_plan("basic", price="9.99")
    acme, bolt = make_customer("Acme"), make_customer("Bolt")
    a = make_subscription(acme, pro, at=datetime(2025, 1, 1, tzinfo=UTC))
    b = make_subscription(bolt, basic, at=datetime(2025, 2, 1, tzinfo=UTC), quantity=2)
    c = make_subscription(bolt, pro, at=datetime(2025, 3, 1, tzinfo=UTC))
    subscription_cancel(subscription=c, by=None, at=datetime(2025, 4, 1, tzinfo=UTC))
    return {"acme": acme, "bolt": bolt, "a": a, "b": b, "c": c}


def test_plans_are_listed_cheapest_first_with_their_price(ro):
    make_plan("pro", price="49")
    make_plan("yearly", price="490", interval="year")
    make_plan("basic", price="9.99")
    page = ro.get("/plans").json()
    assert [p["code"] for p in page["items"]] == ["basic", "pro", "yearly"]
    assert page["items"][0]["price"] == {"amount": "9.99", "currency": "USD"}
    assert page["items"][2]["interval"] == "year"


def test_subscriptions_are_listed_newest_first_with_mrr_as_a_decimal_string(ro, subs):
    page = ro.get("/subscriptions").json()
    assert page["count"] == 3
    assert [s["id"] for s in page["items"]] == [subs["c"].pk, subs["b"].pk, subs["a"].pk]
    b = page["items"][1]
    assert b["mrr"] == {"amount": "19.98", "currency": "USD"}
    assert b["plan"] == "basic" and b["quantity"] == 2 and b["customer_id"] == subs["bolt"].pk
    assert b["started_at"] == "2025-02-01T00:00:00Z"
    assert page["items"][0]["canceled_at"] == "2025-04-01T00:00:00Z"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "active"}, ["b", "a"]),
        ({"status": "canceled"}, ["c"]),
        ({"plan": "pro"}, ["c", "a"]),
        ({"customer": "bolt"}, ["c", "b"]),
        ({"customer": "bolt", "status": "active", "plan": "basic"}, ["b"]),
    ],
)
def test_subscriptions_filter_by_customer_status_and_plan(ro, subs, query, expected):
    if "customer" in query:
        query = {**query, "customer": subs[query["customer"]].pk}
    ids = [s["id"] for s in ro.get("/subscriptions", params=query).json()["items"]]
    assert ids == [subs[name].pk for name in expected]


def test_one_subscription_is_read_by_id(ro, subs):
    response = ro.get(f"/subscriptions/{subs['a'].pk}")
    assert response.status_code == 200
    assert response.json()["mrr"] == {"amount": "49.00", "currency": "USD"}


def test_an_unknown_subscription_status_is_a_422_naming_status(ro):
    response = ro.get("/subscriptions", params={"status": "frozen"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["status"]
