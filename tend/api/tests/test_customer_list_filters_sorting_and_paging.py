"""The customer list filters by every documented field, sorts, and pages with limit/offset."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tend.customers.actions import customer_set_tags
from tend.customers.models import Customer
from tend.factories import make_customer, make_plan

pytestmark = pytest.mark.django_db(transaction=True)


def names(response):  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


@pytest.fixture
def book(member):  # type: ignore[no-untyped-def]
    pro, basic = make_plan("pro", price="49"), make_plan("basic", price="9")
    acme = make_customer("Acme", stage="trial", plan=pro, owner=member, external_id="a-1")
    make_customer("Bolt", stage="established", plan=basic, email="hello@bolt.test")
    cog = make_customer("Cog", stage="trial", plan=basic, owner=member)
    customer_set_tags(customer=acme, tags=["vip"], by=None)
    customer_set_tags(customer=cog, tags=["vip", "eu"], by=None)
    return {"acme": acme, "cog": cog}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["Acme", "Bolt", "Cog"]),
        ({"stage": "trial"}, ["Acme", "Cog"]),
        ({"plan": "basic"}, ["Bolt", "Cog"]),
        ({"owner": "mike"}, ["Acme", "Cog"]),
        ({"owner": "none"}, ["Bolt"]),
        ({"tag": "vip"}, ["Acme", "Cog"]),
        ({"tag": "eu", "stage": "trial"}, ["Cog"]),
        ({"search": "bolt.test"}, ["Bolt"]),
        ({"search": "cog"}, ["Cog"]),
        ({"external_id": "a-1"}, ["Acme"]),
        ({"sort": "-name"}, ["Cog", "Bolt", "Acme"]),
        ({"plan": "nope"}, []),
    ],
)
def test_the_list_filters_and_sorts(ro, book, query, expected):
    assert names(ro.get("/customers", params=query)) == expected


def test_updated_since_returns_only_customers_changed_at_or_after_that_time(ro, book):
    Customer.objects.update(updated_at=timezone.now() - timedelta(days=3))
    Customer.objects.filter(name="Bolt").update(updated_at=timezone.now())
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert names(ro.get("/customers", params={"updated_since": since})) == ["Bolt"]


def test_pages_walk_through_the_whole_list_without_gaps_or_repeats(ro):
    for i in range(7):
        make_customer(f"Customer {i:02}")
    seen: list[str] = []
    offset = 0
    while True:
        page = ro.get("/customers", params={"limit": 3, "offset": offset}).json()
        assert page["count"] == 7 and page["limit"] == 3 and page["offset"] == offset
        if not page["items"]:
            break
        seen += [item["name"] for item in page["items"]]
        offset += 3
    assert seen == [f"Customer {i:02}" for i in range(7)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 201}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"limit": "many"}, "limit"),
        ({"stage": "vip"}, "stage"),
        ({"sort": "password"}, "sort"),
        ({"updated_since": "yesterday"}, "updated_since"),
    ],
)
def test_a_bad_query_parameter_is_a_422_naming_it(ro, query, field):
    response = ro.get("/customers", params=query)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
