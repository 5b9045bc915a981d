"""On data where one feature drives churn, the backtest picks a model that beats the baseline
(days since last activity) on the later dates, and says so in its metrics."""

from __future__ import annotations

from tend.predict import churn
from tend.predict.tests.churn_synthetic import KINDS, frame


def test_a_planted_signal_beats_the_baseline_on_later_dates() -> None:
    X, y, ids, days = frame(customers=40, seed=1)
    result = churn.backtest_time(X, y, days, KINDS, customer_id=ids, measure_memory=False)
    metrics = result.metrics
    assert metrics["split"] == "time"
    assert result.chosen in churn.KINDS
    assert metrics["chosen"] == result.chosen
    assert metrics[result.chosen]["auc"] > metrics["baseline"]["auc"] + 0.1
    assert metrics["baseline_wins"] is False
    for kind in (*churn.KINDS, "baseline"):
        for key in ("auc", "lift_top_decile", "brier", "reliability", "lift", "rows"):
            assert key in metrics[kind]
    assert all(point["count"] > 0 for point in metrics[result.chosen]["reliability"])
    assert metrics[result.chosen]["lift"][-1]["captured"] == 1.0
    # Permutation importance names the planted feature first, for both kinds.
    assert result.importances[0]["feature"] == "active_days_30"
    for kind in churn.KINDS:
        assert metrics[kind]["importances"][0]["feature"] == "active_days_30"


def test_calibrated_risk_is_an_honest_probability_despite_balanced_weights() -> None:
    X, y, _ids, days = frame(customers=40, seed=2)
    for kind in churn.KINDS:
        model = churn.fit_calibrated(kind, X, y, KINDS, days)
        # Balanced weights alone would put the mean near 0.5; calibrated, it is near the rate.
        assert abs(model.predict(X).mean() - y.mean()) < 0.08


def test_when_the_models_do_not_beat_the_baseline_the_metrics_say_so() -> None:
    metrics = {
        "logistic": {"auc": 0.61},
        "boosting": {"auc": 0.63},
        "baseline": {"auc": 0.70},
    }
    assert churn._choose(metrics) == "boosting"
    assert metrics["baseline_wins"] is True
