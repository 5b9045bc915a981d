"""The training set and the feature frame cost the same number of queries for 3 customers
as for 15: one grouped query per data source (per day for the usage rollups)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.predict import training
from tend.predict.tests.features_world import AT, history, note, paying_customer, use

DATES = [AT - timedelta(days=61), AT - timedelta(days=31), AT]


def _customers(n: int) -> list[int]:
    ids = []
    for i in range(n):
        customer, sub = paying_customer(price=str(10 + i), traits={"seats": i, "tier": "a"})
        if i % 2:
            history(customer, sub)
        use(customer, AT - timedelta(days=i + 1))
        note(customer, training.fb.day_start(AT - timedelta(days=3)))
        ids.append(customer.pk)
    return ids


def _count(call) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


@pytest.mark.django_db
def test_the_training_set_costs_the_same_queries_for_3_and_15_customers(
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    few = _customers(3)
    small = _count(lambda: training.training_set(dates=DATES, horizon_days=30))
    _customers(12)
    with django_assert_max_num_queries(small):
        result = training.training_set(dates=DATES, horizon_days=30)
    assert len(set(result.customer_id)) == 15
    assert set(few) <= set(result.customer_id)


@pytest.mark.django_db
def test_a_feature_frame_for_given_customers_costs_the_same_queries(
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    few = _customers(3)
    small = _count(lambda: training.feature_frame(at=AT, customer_ids=few))
    many = few + _customers(12)
    with django_assert_max_num_queries(small):
        frame = training.feature_frame(at=AT, customer_ids=many)
    assert list(frame.index) == many


@pytest.mark.django_db
def test_a_training_set_of_twelve_dates_stays_within_a_fixed_budget(
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    _customers(4)
    dates = training.observation_dates(end=AT, count=12, horizon_days=30)
    # Per day: usage window + last usage + labels; once: ledger, subscriptions, stage
    # changes, touches, customers.
    with django_assert_max_num_queries(3 * 12 + 6):
        training.training_set(dates=dates, horizon_days=30)
