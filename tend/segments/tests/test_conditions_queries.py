"""A condition, however deep, is answered by one query for any number of customers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from tend.customers.models import Customer, Tag
from tend.health.models import CustomerHealth
from tend.segments.conditions import condition_parse, condition_q, customers_matching
from tend.segments.models import Segment
from tend.segments.tests.helpers import NOW

pytestmark = pytest.mark.django_db


def deep(segment_id: int) -> dict[str, Any]:
    return {
        "any": [
            {
                "all": [
                    {"field": "mrr", "op": "gte", "value": 50},
                    {"not": {"field": "tags", "op": "has_any", "value": ["vip", "beta"]}},
                    {
                        "any": [
                            {"field": "trait:seats", "type": "number", "op": "gt", "value": 3},
                            {
                                "field": "trait:region",
                                "type": "text",
                                "op": "contains",
                                "value": "em",
                            },
                            {"not": {"field": "health_score", "op": "lt", "value": 50}},
                        ]
                    },
                ]
            },
            {
                "all": [
                    {"field": "next_renewal", "op": "within_next", "value": 30},
                    {"field": "last_touch", "op": "more_than_days_ago", "value": 14},
                    {"field": "has_active_subscription", "op": "is_true"},
                    {"field": "last_expansion", "op": "is_empty"},
                ]
            },
            {"field": "segment", "op": "eq", "value": segment_id},
            {"field": "stage", "op": "in", "value": ["trial", "onboarding"]},
            {"field": "trait:renew", "type": "date", "op": "within_last", "value": 90},
        ]
    }


def test_deep_condition_over_200_customers_is_one_query(django_assert_num_queries: Any) -> None:
    vip = Tag.objects.create(name="vip")
    for i in range(200):
        c = Customer.objects.create(
            name=f"C{i}",
            mrr=Decimal(i),
            stage=["trial", "established", "churned"][i % 3],
            signed_up_at=NOW - timedelta(days=i),
            traits={
                "seats": i % 7,
                "region": ["emea", "apac", 3][i % 3],
                "renew": ["2026-05-01", "2020-01-01"][i % 2],
            },
        )
        if i % 5 == 0:
            c.tags.add(vip)
        if i % 2:
            CustomerHealth.objects.create(customer=c, day=NOW.date(), score=i % 100)
    inner = Segment.objects.create(
        name="Big", condition={"field": "size", "op": "gt", "value": 100}
    )
    cond = condition_parse(deep(inner.pk))  # reads the segment: outside the count
    with django_assert_num_queries(1):
        matched = list(customers_matching(cond, now=NOW))
    assert 0 < len(matched) < 200
    with django_assert_num_queries(1):
        assert Customer.objects.filter(condition_q(cond, now=NOW)).count() == len(matched)


def test_parsing_without_segments_runs_no_query(django_assert_num_queries: Any) -> None:
    raw = deep(1)
    raw["any"].pop(2)
    with django_assert_num_queries(0):
        condition_q(condition_parse(raw), now=NOW)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans")
def test_column_tests_use_the_customer_indexes() -> None:
    for i in range(50):
        Customer.objects.create(name=f"C{i}", mrr=Decimal(i))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    for raw, column in [
        ({"field": "mrr", "op": "gt", "value": 40}, "mrr"),
        ({"field": "last_seen", "op": "within_last", "value": 7}, "last_seen_at"),
        ({"field": "signed_up", "op": "before", "value": "2026-01-01"}, "signed_up_at"),
        ({"field": "stage", "op": "in", "value": ["trial", "churned"]}, "stage"),
    ]:
        plan = customers_matching(raw, now=NOW).explain()
        assert "Index Cond" in plan and column in plan.split("Index Cond")[1], (raw, plan)
        assert "Seq Scan" not in plan
