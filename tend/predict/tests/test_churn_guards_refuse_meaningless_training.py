"""Too little data never yields a model: too few churned customers, too few rows, no churn
on the test dates, or no feature with a value raise NotEnoughData with a clear message."""

from __future__ import annotations

import numpy as np
import pytest

from tend.predict import churn
from tend.predict.errors import NotEnoughData
from tend.predict.tests.churn_synthetic import KINDS, frame


def test_too_few_churned_customers() -> None:
    X, y, ids, days = frame(customers=40, seed=9)
    y = np.zeros_like(y)
    y[:12] = 1
    with pytest.raises(NotEnoughData) as caught:
        churn.backtest_time(X, y, days, KINDS, customer_id=ids, measure_memory=False)
    assert str(caught.value) == "not enough data to train: 12 churned, need 20"
    assert caught.value.params == {"have": 12, "need": 20}


def test_no_churn_on_the_test_dates() -> None:
    X, y, ids, days = frame(customers=40, seed=10)
    late = days >= sorted(set(days))[-3]
    y = np.where(late, 0, y)
    with pytest.raises(NotEnoughData, match="0 churned on the test dates"):
        churn.backtest_time(X, y, days, KINDS, customer_id=ids, measure_memory=False)


def test_too_few_rows() -> None:
    X, _y, _ids, days = frame(customers=40, seed=11)
    with pytest.raises(NotEnoughData, match="rows"):
        churn.backtest_time(
            X.head(30), np.ones(30), days[:30], KINDS, customer_id=np.arange(30), min_churned=5
        )


def test_no_feature_with_a_value() -> None:
    X, y, ids, days = frame(customers=40, seed=12)
    X[:] = np.nan
    with pytest.raises(NotEnoughData, match="features with values"):
        churn.backtest_time(X, y, days, KINDS, customer_id=ids, measure_memory=False)
