"""A trait-only table (a churned flag, no history) is evaluated by stratified 5-fold
cross-validation on the pooled out-of-fold predictions, with the same metrics."""

from __future__ import annotations

import numpy as np

from tend.predict import churn
from tend.predict.tests.churn_synthetic import frame


def test_five_stratified_folds_cover_every_row_once() -> None:
    X, y, ids, _days = frame(customers=300, dates=1, seed=4, churn_rate=0.2)
    X = X.drop(columns=["days_since_last_activity"])
    kinds = {
        "active_days_30": "numeric",
        "noise_a": "numeric",
        "noise_b": "numeric",
        "plan": "categorical",
    }
    result = churn.backtest_folds(X, y, kinds, customer_id=ids, measure_memory=False)
    metrics = result.metrics
    assert metrics["split"] == "cv5"
    assert metrics["baseline_name"] == "prior"  # no days-since-last-activity column
    assert metrics["baseline"]["auc"] == 0.5
    for kind in churn.KINDS:
        folds = metrics[kind]["folds"]
        assert [f["fold"] for f in folds] == [1, 2, 3, 4, 5]
        assert sum(f["rows"] for f in folds) == len(y)
        positives = [f["positives"] for f in folds]
        assert max(positives) - min(positives) <= 1  # stratified
        assert metrics[kind]["rows"] == len(y)
    assert metrics[result.chosen]["auc"] > 0.75
    assert result.test_start is None and result.train_start is None
    assert np.isfinite(result.model.predict(X)).all()
