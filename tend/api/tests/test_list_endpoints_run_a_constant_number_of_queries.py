"""List endpoints run the same number of queries for 2 rows as for 30: no N+1.

Uses Django's test client (in-process) so the queries can be counted."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tend.accounts.actions import apikey_create
from tend.customers.actions import customer_set_tags
from tend.factories import make_contact, make_customer, make_plan, make_subscription

pytestmark = pytest.mark.django_db


def add_customers(n: int, member) -> int:  # type: ignore[no-untyped-def]
    plan = make_plan("pro")
    last = 0
    for i in range(n):
        customer = make_customer(f"C{i}", plan=plan, owner=member)
        customer_set_tags(customer=customer, tags=[f"t{i}", "all"], by=None)
        make_contact(customer)
        make_subscription(customer, plan)
        last = customer.pk
    return last


def queries(client: Client, url: str) -> int:
    client.get(url)  # warm up: the key's last-used time is touched at most once a minute
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


@pytest.fixture
def key_client(owner) -> Client:  # type: ignore[no-untyped-def]
    _key, raw = apikey_create(name="counter", kind="read", by=owner)
    return Client(headers={"Authorization": f"Bearer {raw}"})


URLS: list[Callable[[int], str]] = [
    lambda _: "/api/v1/customers?limit=200",
    lambda _: "/api/v1/customers?tag=all&sort=-mrr",
    lambda _: "/api/v1/subscriptions?limit=200",
    lambda _: "/api/v1/plans",
    lambda pk: f"/api/v1/customers/{pk}/contacts",
]


@pytest.mark.parametrize("url", URLS)
def test_a_list_costs_the_same_queries_for_few_and_many_rows(key_client, member, url):
    last = add_customers(2, member)
    few = queries(key_client, url(last))
    add_customers(28, member)
    assert queries(key_client, url(last)) == few
    assert few <= 5


def test_the_customer_list_with_a_session_is_a_fixed_number_of_queries(member_client, member):
    add_customers(2, member)
    few = queries(member_client, "/api/v1/customers")
    add_customers(28, member)
    assert queries(member_client, "/api/v1/customers") == few
