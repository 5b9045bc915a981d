"""Who is at risk on a day comes from the billing history, not today's state; the label is a
churn movement in the window, or before the next renewal with horizon 0."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tend.predict import training
from tend.predict.tests.features_world import (
    AT,
    churn,
    midnight,
    moment,
    paying_customer,
    world,
)


@pytest.mark.django_db
def test_the_population_is_who_was_paying_then() -> None:
    w = world()
    assert training.population(AT) == sorted([w["active"][0].pk, w["quiet"][0].pk])
    # On 2026-03-01 "gone" was still paying; "quiet" too; "late" had not started.
    assert training.population(date(2026, 3, 1)) == sorted(
        [w["active"][0].pk, w["quiet"][0].pk, w["gone"][0].pk]
    )
    assert w["late"][0].pk in training.population(AT + timedelta(days=4))


@pytest.mark.django_db
def test_a_customer_who_came_back_is_at_risk_again() -> None:
    from tend.factories import make_subscription

    customer, sub = paying_customer(started=date(2026, 1, 1))
    churn(sub, moment(date(2026, 3, 1)))
    make_subscription(customer, sub.plan, at=moment(date(2026, 4, 1)))
    assert customer.pk not in training.population(date(2026, 3, 15))
    assert customer.pk in training.population(date(2026, 4, 2))


@pytest.mark.django_db
def test_labels_follow_the_order_of_the_ids() -> None:
    a, a_sub = paying_customer()
    b, _b_sub = paying_customer()
    churn(a_sub, moment(AT + timedelta(days=3)))
    assert list(training.labels(customer_ids=[b.pk, a.pk], at=AT, horizon_days=7)) == [0, 1]
    assert list(training.labels(customer_ids=[b.pk, a.pk], at=AT, horizon_days=3)) == [0, 0]


@pytest.mark.django_db
def test_horizon_zero_means_before_the_next_renewal() -> None:
    # Monthly from the 10th: at 2026-06-01 the period ends 2026-06-10 09:00.
    renews, renews_sub = paying_customer(started=datetime(2026, 1, 10, 9, tzinfo=UTC))
    later, later_sub = paying_customer(started=datetime(2026, 1, 10, 9, tzinfo=UTC))
    churn(renews_sub, datetime(2026, 6, 10, 9, tzinfo=UTC))  # at the renewal: inside
    churn(later_sub, midnight(date(2026, 6, 11)))  # the day after the renewal day: outside
    assert training.renewal_ends([renews.pk], AT) == {renews.pk: date(2026, 6, 11)}
    ids = [renews.pk, later.pk]
    assert list(training.labels(customer_ids=ids, at=AT, horizon_days=0)) == [1, 0]


@pytest.mark.parametrize(
    ("started", "interval", "after", "expected"),
    [
        (
            datetime(2026, 1, 31, tzinfo=UTC),
            "month",
            datetime(2026, 2, 1, tzinfo=UTC),
            datetime(2026, 2, 28, tzinfo=UTC),
        ),
        (
            datetime(2025, 3, 5, tzinfo=UTC),
            "year",
            datetime(2026, 3, 5, tzinfo=UTC),
            datetime(2027, 3, 5, tzinfo=UTC),
        ),
        (
            datetime(2026, 1, 1, tzinfo=UTC),
            "quarter",
            datetime(2026, 5, 1, tzinfo=UTC),
            datetime(2026, 7, 1, tzinfo=UTC),
        ),
        (
            datetime(2026, 1, 1, tzinfo=UTC),
            "week",
            datetime(2026, 1, 8, tzinfo=UTC),
            datetime(2026, 1, 15, tzinfo=UTC),
        ),
    ],
)
def test_the_next_renewal_follows_the_billing_interval(started, interval, after, expected) -> None:  # type: ignore[no-untyped-def]
    assert training.next_renewal(started, interval, after) == expected


def test_observation_dates_are_first_days_whose_window_has_passed() -> None:
    days = training.observation_dates(end=date(2026, 6, 15), count=3, horizon_days=30)
    assert days == [date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)]
    days = training.observation_dates(end=date(2026, 5, 31), count=2, horizon_days=30)
    assert days == [date(2026, 4, 1), date(2026, 5, 1)]  # [May 1, May 31) has passed
    days = training.observation_dates(end=date(2026, 5, 30), count=2, horizon_days=30)
    assert days == [date(2026, 3, 1), date(2026, 4, 1)]
    days = training.observation_dates(end=date(2026, 6, 15), count=12, horizon_days=90)
    assert len(days) == 12 and days[-1] == date(2026, 3, 1) and days[0] == date(2025, 4, 1)
