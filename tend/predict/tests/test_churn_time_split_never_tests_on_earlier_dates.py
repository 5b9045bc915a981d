"""The time-based backtest trains on earlier observation dates and tests on later ones only,
leaving out training dates whose label window reaches into the test period."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from tend.predict import churn
from tend.predict.tests.churn_synthetic import KINDS, frame


def test_every_test_date_is_after_every_training_date() -> None:
    X, y, ids, days = frame(customers=40, seed=3)
    result = churn.backtest_time(X, y, days, KINDS, customer_id=ids, measure_memory=False)
    train = result.metrics["train_dates"]
    test = result.metrics["test_dates"]
    assert len(test) == 3  # the last quarter of 12 dates
    assert max(train) < min(test)
    assert result.test_start == date.fromisoformat(test[0])
    # The final model is refitted on every date for scoring.
    assert result.train_start == min(days) and result.train_end == max(days)


def test_training_dates_whose_labels_reach_the_test_dates_are_embargoed() -> None:
    start = date(2026, 1, 1)
    dates = np.array([start + timedelta(days=20 * i) for i in range(8)], dtype="datetime64[D]")
    train, test = churn.time_split(dates, horizon_days=30)
    assert len(test) == 2
    assert all(d + timedelta(days=30) <= test[0] for d in train)
    assert dates.astype(object)[5] not in train  # 20 days before the first test date
    assert set(train) | set(test) < set(dates.astype(object).tolist())
