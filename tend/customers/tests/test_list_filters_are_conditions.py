"""The customers list filters through the condition language: every filter, a saved segment
(evaluated live), the same customers as the hand-written filters gave, and no extra queries."""

from __future__ import annotations

import itertools
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tend.customers.actions import customer_set_tags
from tend.customers.models import Customer, Stage
from tend.customers.queries import ListFilters, customer_list
from tend.factories import make_customer, make_plan
from tend.segments.models import Segment, SegmentMember

pytestmark = pytest.mark.django_db
LIST = reverse("customers:list")


def names(response) -> list[str]:  # type: ignore[no-untyped-def]
    html = response.content.decode()
    return re.findall(r'class="customer-name[^"]*"[^>]*>([^<]+)</a>', html)


@pytest.fixture
def world(owner, member):  # type: ignore[no-untyped-def]
    gold, basic = make_plan("gold", price="300"), make_plan("basic", price="20")
    rows = [
        ("Acme", Stage.ESTABLISHED, gold, owner, ["vip"]),
        ("Beta", Stage.TRIAL, basic, member, ["vip", "eu"]),
        ("Cargo", Stage.AT_RISK, None, None, []),
        ("Dune", Stage.TRIAL, gold, None, ["eu"]),
        ("Echo", Stage.ESTABLISHED, basic, owner, []),
    ]
    out = {}
    for name, stage, plan, who, tags in rows:
        customer = make_customer(name, stage=stage, owner=who, plan=plan)
        if tags:
            customer_set_tags(customer=customer, tags=tags, by=None)
        out[name] = customer
    return {"gold": gold, "basic": basic, "owner": owner, "member": member, **out}


def segment(name: str, condition: dict) -> Segment:  # type: ignore[type-arg]
    return Segment.objects.create(name=name, condition=condition)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"stage": "trial"}, ["Beta", "Dune"]),
        ({"plan": "gold"}, ["Acme", "Dune"]),
        ({"owner": "owner"}, ["Acme", "Echo"]),
        ({"owner": "none"}, ["Cargo", "Dune"]),
        ({"tag": "eu"}, ["Beta", "Dune"]),
        ({"stage": "trial", "tag": "vip"}, ["Beta"]),
        ({"plan": "basic", "owner": "owner"}, ["Echo"]),
    ],
)
def test_each_filter_of_the_list_page(owner_client, world, params, expected):  # type: ignore[no-untyped-def]
    query = {
        k: (str(world[v].pk) if k in ("plan", "owner") and v in world else v)
        for k, v in params.items()
    }
    response = owner_client.get(LIST, query)
    assert response.status_code == 200
    assert names(response) == expected


def test_a_saved_segment_filters_the_list_and_is_offered_in_the_filter_bar(owner_client, world):  # type: ignore[no-untyped-def]
    html = owner_client.get(LIST).content.decode()
    assert 'name="segment"' not in html  # no segment saved yet: no empty select
    vip = segment(
        "VIP on gold",
        {
            "all": [
                {"field": "tags", "op": "has", "value": "vip"},
                {"field": "plan", "op": "eq", "value": world["gold"].pk},
            ]
        },
    )
    response = owner_client.get(LIST, {"segment": vip.pk})
    html = response.content.decode()
    assert names(response) == ["Acme"]
    assert f'<option value="{vip.pk}" selected>VIP on gold</option>' in html
    # The segment's rule in words, so the reader sees what the filter means.
    assert "Segment “VIP on gold”: Tags include “vip” and Plan is Gold" in html
    assert "(evaluated now)" in html
    assert "Clear filters" in html
    # The segment combines with the other filters (all must hold) and with the search.
    assert names(owner_client.get(LIST, {"segment": vip.pk, "stage": "trial"})) == []
    assert names(owner_client.get(LIST, {"segment": vip.pk, "q": "acm"})) == ["Acme"]


def test_membership_is_live_not_the_last_refresh(owner_client, world):  # type: ignore[no-untyped-def]
    eu = segment("Europe", {"field": "tags", "op": "has", "value": "eu"})
    # A stale stored membership (the daily refresh has not run) is not what the list shows.
    SegmentMember.objects.create(segment=eu, customer=world["Echo"], since="2026-01-01")
    assert names(owner_client.get(LIST, {"segment": eu.pk})) == ["Beta", "Dune"]
    # A change to a customer shows at once, without any refresh.
    customer_set_tags(customer=world["Cargo"], tags=["eu"], by=None)
    assert names(owner_client.get(LIST, {"segment": eu.pk})) == ["Beta", "Cargo", "Dune"]
    # And so does a change to the segment's condition.
    Segment.objects.filter(pk=eu.pk).update(
        condition={"field": "stage", "op": "eq", "value": "at_risk"}
    )
    assert names(owner_client.get(LIST, {"segment": eu.pk})) == ["Cargo"]


def test_an_unknown_or_malformed_segment_is_ignored_like_any_bad_list_value(owner_client, world):  # type: ignore[no-untyped-def]
    segment("Anyone", {"all": []})
    for value in ("999999", "abc", "-1", "1.5", "9" * 40):
        response = owner_client.get(LIST, {"segment": value})
        assert response.status_code == 200
        assert len(names(response)) == 5


def test_the_exports_and_bulk_selection_follow_the_segment(owner_client, world):  # type: ignore[no-untyped-def]
    vip = segment("VIP", {"field": "tags", "op": "has", "value": "vip"})
    csv = b"".join(
        owner_client.get(reverse("customers:export_csv"), {"segment": vip.pk}).streaming_content
    ).decode()
    assert "Acme" in csv and "Beta" in csv and "Cargo" not in csv and "Echo" not in csv
    response = owner_client.post(
        reverse("customers:bulk"),
        {
            "query": f"segment={vip.pk}",
            "bulk-action": "add_tag",
            "bulk-tag": "picked",
            "bulk-all_matching": "on",
        },
    )
    assert response.status_code == 302
    picked = set(Customer.objects.filter(tags__name="picked").values_list("name", flat=True))
    assert picked == {"Acme", "Beta"}


def _queries(client, params) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(LIST, params).status_code == 200
    return len(ctx.captured_queries)


def test_offering_and_using_segments_costs_the_list_no_query_per_row(owner_client, world):  # type: ignore[no-untyped-def]
    plain = _queries(owner_client, {})
    tagged = _queries(owner_client, {"tag": "vip"})
    for i in range(6):
        segment(f"S{i}", {"field": "tags", "op": "has", "value": "vip"})
    chosen = Segment.objects.get(name="S3")
    # Offering six segments in the filter bar: no query more (read with the tags).
    assert _queries(owner_client, {}) == plain
    with_segment = _queries(owner_client, {"segment": chosen.pk})
    for i in range(40):
        customer = make_customer(f"More {i:02d}")
        customer_set_tags(customer=customer, tags=["vip"], by=None)
    assert _queries(owner_client, {"segment": chosen.pk}) == with_segment
    # The segment's condition is read once (it names no other segment).
    assert with_segment <= tagged + 1


def _reference(filters: ListFilters):  # type: ignore[no-untyped-def]
    """The list's filters as they were written by hand before the condition language."""
    qs = Customer.objects.all()
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    if filters.plan:
        qs = qs.filter(plan_id=filters.plan)
    if filters.unowned:
        qs = qs.filter(owner__isnull=True)
    elif filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    if filters.tag:
        qs = qs.filter(tags__name=filters.tag)
    return set(qs.values_list("pk", flat=True))


def test_the_old_filters_and_their_condition_form_pick_the_same_customers(world):  # type: ignore[no-untyped-def]
    stages = ["", Stage.TRIAL, Stage.ESTABLISHED, Stage.AT_RISK]
    plans = [None, world["gold"].pk, world["basic"].pk]
    owners = [(None, False), (world["owner"].pk, False), (world["member"].pk, False), (None, True)]
    tags = ["", "vip", "eu", "nobody-has-it"]
    checked = 0
    for stage, plan, (owner, unowned), tag in itertools.product(stages, plans, owners, tags):
        filters = ListFilters(stage=stage, plan=plan, owner=owner, unowned=unowned, tag=tag)
        got = set(customer_list(filters).values_list("pk", flat=True))
        assert got == _reference(filters), filters
        checked += 1
    assert checked == 4 * 3 * 4 * 4
    # And the tree they compile from, for the record.
    assert ListFilters(stage="trial", tag="vip").condition() == {
        "all": [
            {"field": "stage", "op": "eq", "value": "trial"},
            {"field": "tags", "op": "has", "value": "vip"},
        ]
    }
    assert ListFilters().condition() is None


def test_a_segment_naming_a_deleted_segment_says_so_and_lists_nobody(owner_client, world):  # type: ignore[no-untyped-def]
    inner = segment("Inner", {"field": "tags", "op": "has", "value": "vip"})
    outer = segment("Outer", {"field": "segment", "op": "eq", "value": inner.pk})
    assert names(owner_client.get(LIST, {"segment": outer.pk})) == ["Acme", "Beta"]
    inner.delete()
    response = owner_client.get(LIST, {"segment": outer.pk})
    assert response.status_code == 200
    assert names(response) == []
    assert "This segment cannot be used as a filter" in response.content.decode()
    export = owner_client.get(reverse("customers:export_csv"), {"segment": outer.pk})
    assert export.status_code == 400
    assert "cannot be used" in export.content.decode()
