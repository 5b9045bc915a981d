"""Every operator of every field type on three hand-made customers: the compiled query and the
Python evaluation both give exactly the customers a person would name."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tend.accounts.models import User
from tend.customers.models import Customer
from tend.segments.conditions import (
    condition_describe,
    condition_matches,
    condition_parse,
    condition_q,
    customers_matching,
)
from tend.segments.models import Segment
from tend.segments.tests.helpers import NOW, customer, plan

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


@pytest.fixture
def people() -> dict[str, Any]:
    """A (Acme), B (beta corp, mostly empty), C (Cobalt)."""
    pro, basic = plan("pro"), plan("basic", "9")
    olivia = User.objects.create(username="olivia")
    a = customer(
        "Acme Tools",
        email="hello@acme.io",
        industry="SaaS",
        kind="company",
        stage="trial",
        plan=pro,
        owner=olivia,
        channel="organic",
        country="US",
        size=10,
        mrr=Decimal("100.10"),
        signed_up_at=NOW - 10 * DAY,
        first_paid_at=NOW - 5 * DAY,
        last_seen_at=NOW - DAY,
        birthday=date(1990, 6, 15),
        tags=("vip", "beta"),
        traits={"seats": 12, "region": "emea", "beta": True, "renew": "2026-07-01"},
        subscriptions=({"status": "active", "current_period_end": NOW + 20 * DAY},),
        timeline=(("note", NOW - 3 * DAY), ("system", NOW)),
        movements=(("expansion", NOW - 40 * DAY), ("contraction", NOW - DAY)),
        health={"score": 80, "colour": "green", "colour_since": date(2026, 6, 1)},
    )
    b = customer(
        "beta corp",
        kind="person",
        stage="churned",
        signed_up_at=NOW - 400 * DAY,
        churned_at=NOW - 30 * DAY,
        traits={"seats": "12", "beta": "yes", "region": ""},
        subscriptions=({"status": "canceled", "current_period_end": NOW + 5 * DAY},),
    )
    c = customer(
        "Cobalt",
        email="ops@cobalt.de",
        industry="Retail",
        stage="onboarding",
        plan=basic,
        channel="referral",
        country="DE",
        size=250,
        mrr=Decimal("49.50"),
        signed_up_at=NOW - 30 * DAY,
        last_seen_at=NOW - 90 * DAY,
        tags=("Trial",),
        traits={"seats": 3.5, "beta": False, "renew": "2026-06-15T10:00:00Z", "region": "APAC"},
        subscriptions=(
            {"status": "past_due", "current_period_end": NOW + 100 * DAY},
            {"status": "active", "current_period_end": NOW - DAY},
        ),
        timeline=(("stage", NOW - DAY), ("call", NOW - 60 * DAY)),
        movements=(("expansion", NOW - 2 * DAY),),
        health={"score": None, "colour": "", "colour_since": None},
    )
    return {"A": a, "B": b, "C": c, "pro": pro, "basic": basic, "olivia": olivia}


def names(raw: dict[str, Any], people: dict[str, Any]) -> set[str]:
    cond = condition_parse(raw)
    letters = {v.pk: k for k, v in people.items() if isinstance(v, Customer)}
    in_sql = {letters[pk] for pk in customers_matching(cond, now=NOW).values_list("pk", flat=True)}
    in_python = {
        letters[c.pk] for c in Customer.objects.all() if condition_matches(cond, c, now=NOW)
    }
    assert in_sql == in_python, raw
    assert condition_describe(cond)
    return in_sql


CASES: list[tuple[dict[str, Any], str]] = [
    # number (mrr: decimal column; size: nullable integer column)
    ({"field": "mrr", "op": "eq", "value": 100.1}, "A"),
    ({"field": "mrr", "op": "ne", "value": 100.1}, "BC"),
    ({"field": "mrr", "op": "gt", "value": 49.5}, "A"),
    ({"field": "mrr", "op": "gte", "value": 49.5}, "AC"),
    ({"field": "mrr", "op": "lt", "value": 49.5}, "B"),
    ({"field": "mrr", "op": "lte", "value": 49.5}, "BC"),
    ({"field": "mrr", "op": "between", "value": [49.5, 100.1]}, "AC"),
    ({"field": "mrr", "op": "is_empty"}, ""),
    ({"field": "mrr", "op": "is_not_empty"}, "ABC"),
    ({"field": "size", "op": "eq", "value": 10}, "A"),
    ({"field": "size", "op": "eq", "value": 10.5}, ""),
    ({"field": "size", "op": "ne", "value": 10}, "BC"),  # empty matches ne
    ({"field": "size", "op": "gt", "value": 9.5}, "AC"),
    ({"field": "size", "op": "gte", "value": 10.5}, "C"),
    ({"field": "size", "op": "lt", "value": 10.5}, "A"),
    ({"field": "size", "op": "lte", "value": 9.5}, ""),
    ({"field": "size", "op": "between", "value": [10, 250]}, "AC"),
    ({"field": "size", "op": "is_empty"}, "B"),
    ({"field": "size", "op": "is_not_empty"}, "AC"),
    ({"field": "health_score", "op": "gte", "value": 80}, "A"),
    ({"field": "health_score", "op": "ne", "value": 80}, "BC"),
    ({"field": "health_score", "op": "is_empty"}, "BC"),  # no row (B), no score (C)
    # text (eq/in exact; contains/starts_with case-insensitive)
    ({"field": "name", "op": "eq", "value": "Acme Tools"}, "A"),
    ({"field": "name", "op": "eq", "value": "acme tools"}, ""),
    ({"field": "name", "op": "ne", "value": "Acme Tools"}, "BC"),
    ({"field": "name", "op": "contains", "value": "CO"}, "BC"),
    ({"field": "name", "op": "not_contains", "value": "co"}, "A"),
    ({"field": "name", "op": "starts_with", "value": "BETA"}, "B"),
    ({"field": "name", "op": "in", "value": ["Cobalt", "cobalt", "Acme"]}, "C"),
    ({"field": "industry", "op": "is_empty"}, "B"),
    ({"field": "industry", "op": "is_not_empty"}, "AC"),
    ({"field": "industry", "op": "not_contains", "value": "saas"}, "BC"),
    ({"field": "email", "op": "contains", "value": "%"}, ""),  # LIKE wildcards are literal
    ({"field": "email", "op": "contains", "value": "_"}, ""),
    # choice
    ({"field": "stage", "op": "eq", "value": "trial"}, "A"),
    ({"field": "stage", "op": "ne", "value": "trial"}, "BC"),
    ({"field": "stage", "op": "in", "value": ["trial", "churned"]}, "AB"),
    ({"field": "stage", "op": "not_in", "value": ["trial", "churned"]}, "C"),
    ({"field": "kind", "op": "eq", "value": "person"}, "B"),
    ({"field": "channel", "op": "is_empty"}, "B"),
    ({"field": "channel", "op": "ne", "value": "organic"}, "BC"),
    ({"field": "country", "op": "in", "value": ["US", "DE"]}, "AC"),
    ({"field": "country", "op": "is_not_empty"}, "AC"),
    ({"field": "health_colour", "op": "eq", "value": "green"}, "A"),
    ({"field": "health_colour", "op": "is_empty"}, "BC"),
    ({"field": "health_colour", "op": "not_in", "value": ["green"]}, "BC"),
    # date (UTC; NOW is 2026-06-15 12:30)
    ({"field": "signed_up", "op": "before", "value": "2026-05-16"}, "B"),  # C: 05-16 12:30
    ({"field": "signed_up", "op": "on_or_after", "value": "2026-05-16"}, "AC"),
    ({"field": "signed_up", "op": "between", "value": ["2026-05-16", "2026-06-05"]}, "C"),
    ({"field": "signed_up", "op": "between", "value": ["2026-05-16", "2026-06-06"]}, "AC"),
    ({"field": "signed_up", "op": "within_last", "value": 10}, "A"),  # exactly 10 days: in
    ({"field": "signed_up", "op": "within_last", "value": 9}, ""),
    ({"field": "signed_up", "op": "more_than_days_ago", "value": 10}, "BC"),
    ({"field": "last_seen", "op": "more_than_days_ago", "value": 30}, "C"),
    ({"field": "last_seen", "op": "is_empty"}, "B"),
    ({"field": "last_seen", "op": "is_not_empty"}, "AC"),
    ({"field": "churned", "op": "within_last", "value": 30}, "B"),
    ({"field": "first_paid", "op": "within_next", "value": 5}, ""),
    ({"field": "birthday", "op": "before", "value": "2000-01-01"}, "A"),
    ({"field": "birthday", "op": "on_or_after", "value": "1990-06-15"}, "A"),
    # a day stands for its midnight: 06-01 00:00 is 14.5 days before NOW
    ({"field": "health_colour_since", "op": "within_last", "value": 15}, "A"),
    ({"field": "health_colour_since", "op": "within_last", "value": 14}, ""),
    ({"field": "next_renewal", "op": "within_next", "value": 30}, "A"),  # B canceled, C past
    ({"field": "next_renewal", "op": "within_next", "value": 101}, "AC"),
    ({"field": "next_renewal", "op": "is_empty"}, "B"),
    ({"field": "next_renewal", "op": "on_or_after", "value": "2026-07-06"}, "C"),
    ({"field": "last_touch", "op": "within_last", "value": 7}, "A"),  # C's stage entry no touch
    ({"field": "last_touch", "op": "more_than_days_ago", "value": 30}, "C"),
    ({"field": "last_touch", "op": "is_empty"}, "B"),
    ({"field": "last_expansion", "op": "within_last", "value": 30}, "C"),
    ({"field": "last_expansion", "op": "before", "value": "2026-06-01"}, "A"),
    # tags
    ({"field": "tags", "op": "has", "value": "vip"}, "A"),
    ({"field": "tags", "op": "has", "value": "trial"}, ""),  # names are exact
    ({"field": "tags", "op": "has_any", "value": ["beta", "Trial"]}, "AC"),
    ({"field": "tags", "op": "has_all", "value": ["vip", "beta"]}, "A"),
    ({"field": "tags", "op": "has_all", "value": ["vip", "Trial"]}, ""),
    ({"field": "tags", "op": "has_none", "value": ["vip"]}, "BC"),
    ({"field": "tags", "op": "is_empty"}, "B"),
    ({"field": "tags", "op": "is_not_empty"}, "AC"),
    # bool
    ({"field": "has_active_subscription", "op": "is_true"}, "AC"),
    ({"field": "has_active_subscription", "op": "is_false"}, "B"),
    # traits: a value of another JSON type is empty for that type
    ({"field": "trait:seats", "type": "number", "op": "gte", "value": 10}, "A"),
    ({"field": "trait:seats", "type": "number", "op": "lt", "value": 10}, "C"),
    ({"field": "trait:seats", "type": "number", "op": "ne", "value": 12}, "BC"),
    ({"field": "trait:seats", "type": "number", "op": "is_empty"}, "B"),
    ({"field": "trait:seats", "type": "text", "op": "eq", "value": "12"}, "B"),
    ({"field": "trait:seats", "type": "text", "op": "is_empty"}, "AC"),
    ({"field": "trait:region", "type": "text", "op": "contains", "value": "E"}, "A"),
    ({"field": "trait:region", "type": "text", "op": "starts_with", "value": "ap"}, "C"),
    ({"field": "trait:region", "type": "text", "op": "in", "value": ["emea", "APAC"]}, "AC"),
    ({"field": "trait:region", "type": "text", "op": "is_empty"}, "B"),
    ({"field": "trait:region", "type": "text", "op": "not_contains", "value": "e"}, "BC"),
    ({"field": "trait:beta", "type": "bool", "op": "is_true"}, "A"),
    ({"field": "trait:beta", "type": "bool", "op": "is_false"}, "C"),
    ({"field": "trait:beta", "type": "bool", "op": "is_empty"}, "B"),
    ({"field": "trait:beta", "type": "bool", "op": "is_not_empty"}, "AC"),
    ({"field": "trait:renew", "type": "date", "op": "on_or_after", "value": "2026-06-15"}, "AC"),
    ({"field": "trait:renew", "type": "date", "op": "before", "value": "2026-07-01"}, "C"),
    ({"field": "trait:renew", "type": "date", "op": "within_next", "value": 17}, "A"),
    ({"field": "trait:renew", "type": "date", "op": "within_last", "value": 1}, "C"),
    ({"field": "trait:renew", "type": "date", "op": "within_last", "value": 0}, ""),
    ({"field": "trait:renew", "type": "date", "op": "is_empty"}, "B"),
    ({"field": "trait:nothing", "type": "number", "op": "ne", "value": 1}, "ABC"),
    # groups
    ({"all": []}, "ABC"),
    ({"not": {"all": []}}, ""),
    (
        {
            "all": [
                {"field": "mrr", "op": "gt", "value": 0},
                {"field": "size", "op": "gt", "value": 100},
            ]
        },
        "C",
    ),
    (
        {
            "any": [
                {"field": "stage", "op": "eq", "value": "churned"},
                {"field": "size", "op": "gt", "value": 100},
            ]
        },
        "BC",
    ),
    (
        {
            "not": {
                "any": [
                    {"field": "stage", "op": "eq", "value": "churned"},
                    {"field": "size", "op": "gt", "value": 100},
                ]
            }
        },
        "A",
    ),
    (
        {
            "any": [
                {
                    "all": [
                        {"field": "tags", "op": "has", "value": "vip"},
                        {"not": {"field": "health_colour", "op": "eq", "value": "red"}},
                    ]
                },
                {
                    "all": [
                        {"field": "health_score", "op": "is_empty"},
                        {"field": "has_active_subscription", "op": "is_true"},
                    ]
                },
            ]
        },
        "AC",
    ),
]


@pytest.mark.parametrize(("raw", "expected"), CASES, ids=[str(i) for i in range(len(CASES))])
def test_operator(people: dict[str, Any], raw: dict[str, Any], expected: str) -> None:
    assert names(raw, people) == set(expected)


def test_every_operator_of_every_type_is_covered() -> None:
    from tend.segments.fields import OPERATORS

    seen = {(f["field"], f["op"]) for f, _e in CASES if "field" in f}
    types = {
        "mrr": "number",
        "size": "number",
        "name": "text",
        "stage": "choice",
        "signed_up": "date",
        "tags": "tags",
        "has_active_subscription": "bool",
    }
    for name, kind in types.items():
        ops = {op for field, op in seen if field == name}
        if kind == "number":
            ops |= {op for field, op in seen if field == "size"}
        if kind == "text":
            ops |= {op for field, op in seen if field in ("industry", "email")}
        if kind == "choice":
            ops |= {op for field, op in seen if field in ("channel", "country")}
        if kind == "date":
            ops |= {op for field, op in seen if field in ("last_seen", "first_paid")}
        assert set(OPERATORS[kind]) <= ops, (name, set(OPERATORS[kind]) - ops)


def test_plan_owner_and_segment_choices(people: dict[str, Any]) -> None:
    assert names({"field": "plan", "op": "eq", "value": people["pro"].pk}, people) == {"A"}
    assert names({"field": "plan", "op": "is_empty"}, people) == {"B"}
    assert names({"field": "plan", "op": "ne", "value": people["pro"].pk}, people) == {"B", "C"}
    assert names({"field": "owner", "op": "in", "value": [people["olivia"].pk]}, people) == {"A"}
    assert names({"field": "owner", "op": "is_not_empty"}, people) == {"A"}
    paying = Segment.objects.create(
        name="Paying", condition={"field": "mrr", "op": "gt", "value": 0}
    )
    big = Segment.objects.create(
        name="Big payers",
        condition={
            "all": [
                {"field": "segment", "op": "eq", "value": paying.pk},
                {"field": "size", "op": "gt", "value": 100},
            ]
        },
    )
    assert names({"field": "segment", "op": "eq", "value": paying.pk}, people) == {"A", "C"}
    assert names({"field": "segment", "op": "eq", "value": big.pk}, people) == {"C"}
    assert names({"field": "segment", "op": "ne", "value": big.pk}, people) == {"A", "B"}
    assert names({"field": "segment", "op": "in", "value": [big.pk, paying.pk]}, people) == {
        "A",
        "C",
    }
    assert names({"field": "segment", "op": "not_in", "value": [big.pk, paying.pk]}, people) == {
        "B"
    }


def test_no_health_row_reads_as_empty_in_sql_and_python(people: dict[str, Any]) -> None:
    # B has no CustomerHealth row: every comparison is false, every negation true.
    for raw, expected in [
        ({"field": "health_score", "op": "lt", "value": 1000}, {"A"}),
        ({"not": {"field": "health_score", "op": "lt", "value": 1000}}, {"B", "C"}),
        ({"field": "health_colour", "op": "ne", "value": "green"}, {"B", "C"}),
        ({"field": "health_colour_since", "op": "is_empty"}, {"B", "C"}),
    ]:
        assert names(raw, people) == expected


def test_condition_q_is_a_q_that_combines_with_other_filters(people: dict[str, Any]) -> None:
    q = condition_q({"field": "mrr", "op": "gt", "value": 0}, now=NOW)
    assert set(Customer.objects.filter(q, stage="trial")) == {people["A"]}
    assert set(Customer.objects.exclude(q)) == {people["B"]}
    only_c = Customer.objects.filter(pk=people["C"].pk)
    assert list(customers_matching({"field": "mrr", "op": "gt", "value": 0}, only_c)) == [
        people["C"]
    ]


def test_now_defaults_to_the_current_time(people: dict[str, Any]) -> None:
    # Signed up 10 days before NOW, and NOW is in the past: more than 10 days ago today.
    raw = {"field": "signed_up", "op": "within_last", "value": 1}
    assert not customers_matching(raw).exists()
    assert not condition_matches(raw, people["A"])


def test_describe_reads_as_a_sentence(people: dict[str, Any]) -> None:
    cond = condition_parse(
        {
            "all": [
                {"field": "mrr", "op": "gt", "value": 100},
                {
                    "any": [
                        {"field": "stage", "op": "eq", "value": "trial"},
                        {"field": "tags", "op": "has", "value": "vip"},
                    ]
                },
                {"field": "last_seen", "op": "more_than_days_ago", "value": 30},
                {"field": "trait:seats", "type": "number", "op": "between", "value": [1, 5]},
            ]
        }
    )
    assert condition_describe(cond) == (
        "MRR is more than 100 and (Lifecycle stage is Trial or Tags include “vip”) and "
        "Last seen is more than 30 days ago and trait “seats” is between 1 and 5"
    )
    assert condition_describe({"not": {"all": []}}) == "not (every customer)"
    assert (
        condition_describe({"field": "plan", "op": "eq", "value": people["pro"].pk})
        == "Plan is Pro"
    )


def test_describe_in_chinese(people: dict[str, Any], settings: Any) -> None:
    from django.utils import translation

    with translation.override("zh-hans"):
        text = condition_describe({"field": "mrr", "op": "gt", "value": 100})
    assert text  # the catalogue may not have the words yet; the call must work in any language


def test_double_negation_over_a_missing_row_keeps_the_empty_rule(people: dict[str, Any]) -> None:
    # Django drops its "IS NOT NULL" guard inside a double negation; B has no health row, so
    # "score ≠ 0 and colour = red" is false for B and its negation is true.
    raw = {
        "not": {
            "all": [
                {"field": "health_score", "op": "ne", "value": 0},
                {"field": "health_colour", "op": "eq", "value": "red"},
            ]
        }
    }
    assert names(raw, people) == {"A", "B", "C"}
    raw = {"not": {"any": [{"not": {"field": "size", "op": "gt", "value": 100}}]}}
    assert names(raw, people) == {"C"}
    raw = {
        "not": {
            "all": [
                {"field": "plan", "op": "ne", "value": people["pro"].pk},
                {"field": "owner", "op": "is_empty"},
            ]
        }
    }
    assert names(raw, people) == {"A"}
