"""Features of a day read only what happened before it: adding anything from the day on
(events, failed payments, orders, MRR movements, notes, stage changes, scores) leaves them as
they were; data after the label window changes nothing at all."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from tend.health.models import HealthScore
from tend.predict import training
from tend.predict.tests.features_world import AT, churn, everything_after, midnight, world

HORIZON = 30
DATES = [AT - timedelta(days=31), AT]  # 2026-05-01 and 2026-06-01


def _scores(customers: list, day) -> None:  # type: ignore[no-untyped-def]
    HealthScore.objects.bulk_create(
        [HealthScore(customer=c, day=day, score=10, colour="red") for c in customers]
    )


def _same(a: training.TrainingSet, b: training.TrainingSet) -> None:
    pd.testing.assert_frame_equal(a.X, b.X)
    np.testing.assert_array_equal(a.customer_id, b.customer_id)
    np.testing.assert_array_equal(a.day, b.day)
    assert a.kinds == b.kinds


@pytest.mark.django_db
def test_training_set_at_a_date_reads_nothing_after_it() -> None:
    w = world()
    before = training.training_set(dates=DATES, horizon_days=HORIZON)
    assert len(before) > 0
    assert set(before.customer_id[before.day == np.datetime64(AT)]) == {
        w["active"][0].pk,
        w["quiet"][0].pk,
    }

    for customer, sub in (w["active"], w["quiet"]):
        everything_after(customer, sub, midnight(AT))
    churn(w["quiet"][1], midnight(AT + timedelta(days=5)))
    _scores([w["active"][0], w["quiet"][0]], AT)

    after = training.training_set(dates=DATES, horizon_days=HORIZON)
    _same(before, after)
    # The churn inside the window is the label of the last date, and only of it.
    quiet_rows = after.customer_id == w["quiet"][0].pk
    assert list(before.y[quiet_rows]) == [0, 0]
    assert list(after.y[quiet_rows]) == [0, 1]


@pytest.mark.django_db
def test_data_after_the_label_window_changes_nothing_at_all() -> None:
    w = world()
    before = training.training_set(dates=DATES, horizon_days=HORIZON)
    end = midnight(AT + timedelta(days=HORIZON))
    for customer, sub in (w["active"], w["quiet"]):
        everything_after(customer, sub, end)
    churn(w["quiet"][1], end)  # exactly at at + horizon: outside the window
    _scores([w["active"][0], w["quiet"][0]], AT + timedelta(days=HORIZON))

    after = training.training_set(dates=DATES, horizon_days=HORIZON)
    _same(before, after)
    np.testing.assert_array_equal(before.y, after.y)


@pytest.mark.django_db
def test_a_feature_frame_of_one_day_is_the_training_sets_rows_of_that_day() -> None:
    world()
    whole = training.training_set(dates=DATES, horizon_days=HORIZON)
    frame = training.feature_frame(at=AT, traits=whole.traits)
    rows = whole.X[whole.day == np.datetime64(AT)].set_index(
        pd.Index(whole.customer_id[whole.day == np.datetime64(AT)], name="customer_id")
    )
    pd.testing.assert_frame_equal(frame, rows)
