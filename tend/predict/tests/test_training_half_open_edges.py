"""``at`` 00:00 UTC splits time: what happens exactly then is not a feature of ``at`` but is
inside its label window; a churn exactly at ``at + horizon`` is outside it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tend.predict import training
from tend.predict.tests.features_world import (
    AT,
    churn,
    expand,
    midnight,
    note,
    paying_customer,
    stage,
    use,
)

TICK = timedelta(microseconds=1)


def _row(customer):  # type: ignore[no-untyped-def]
    return training.feature_frame(at=AT, customer_ids=[customer.pk]).loc[customer.pk]


@pytest.mark.django_db
def test_usage_on_the_day_itself_is_not_a_feature_of_the_day() -> None:
    customer, _sub = paying_customer()
    use(customer, AT, count=40)
    use(customer, AT - timedelta(days=1), count=3)
    row = _row(customer)
    assert row["events_7d"] == 3
    assert row["active_days_7d"] == 1
    assert row["days_since_last_activity"] == 1


@pytest.mark.django_db
def test_a_failed_payment_on_the_day_itself_is_not_counted() -> None:
    customer, _sub = paying_customer()
    use(customer, AT, "Payment Failed")
    use(customer, AT - timedelta(days=90), "Payment Failed", 2)
    use(customer, AT - timedelta(days=91), "Payment Failed", 5)
    assert _row(customer)["payment_failures_90d"] == 2


@pytest.mark.django_db
def test_a_note_at_midnight_belongs_to_the_next_day() -> None:
    customer, _sub = paying_customer()
    note(customer, midnight(AT))
    assert _row(customer)["touches_90d"] == 0
    note(customer, midnight(AT) - TICK)
    row = _row(customer)
    assert row["touches_90d"] == 1
    assert row["days_since_last_touch"] == 0


@pytest.mark.django_db
def test_an_mrr_change_at_midnight_is_not_the_mrr_of_the_day() -> None:
    customer, sub = paying_customer(price="49")
    expand(sub, "99", midnight(AT))
    row = _row(customer)
    assert row["mrr"] == 49
    assert row["expansions_90d"] == 0


@pytest.mark.django_db
def test_a_stage_change_at_midnight_is_not_the_stage_of_the_day() -> None:
    customer, _sub = paying_customer()
    stage(customer, "adopting", midnight(AT) - TICK)
    stage(customer, "at_risk", midnight(AT))
    assert _row(customer)["stage"] == "adopting"


@pytest.mark.django_db
def test_a_customer_who_starts_paying_at_midnight_is_not_at_risk_that_day() -> None:
    starting, _ = paying_customer(started=midnight(AT))
    just_before, _ = paying_customer(started=midnight(AT) - TICK)
    assert training.population(AT) == [just_before.pk]
    assert training.population(AT + timedelta(days=1)) == [starting.pk, just_before.pk]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("when", "positive"),
    [
        (midnight(AT) - TICK, None),  # churned before: not at risk at all
        (midnight(AT), 1),
        (midnight(AT + timedelta(days=30)) - TICK, 1),
        (midnight(AT + timedelta(days=30)), 0),
    ],
)
def test_the_label_window_is_half_open(when, positive) -> None:  # type: ignore[no-untyped-def]
    customer, sub = paying_customer()
    churn(sub, when)
    at_risk = training.population(AT)
    if positive is None:
        assert customer.pk not in at_risk
        return
    assert at_risk == [customer.pk]
    assert list(training.labels(customer_ids=at_risk, at=AT, horizon_days=30)) == [positive]
