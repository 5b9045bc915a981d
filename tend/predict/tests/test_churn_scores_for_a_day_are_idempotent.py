"""Scoring a day twice leaves one row per customer with the same risk, percentile and
drivers; without a trained model the pipeline step scores nobody, quietly."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from tend.jobs.pipeline import step_names
from tend.predict import churn, serialise
from tend.predict.models import ChurnModel, ChurnScore, TrainingMode, TrainingStatus
from tend.predict.scoring import churn_pipeline_step, churn_score_day
from tend.predict.tests.features_world import paying_customer, use

pytestmark = pytest.mark.django_db
DAY = date(2026, 6, 1)


def _active_model() -> ChurnModel:
    rng = np.random.default_rng(0)
    n = 300
    X = pd.DataFrame(
        {
            "active_days_30d": rng.integers(0, 31, n).astype(float),
            "days_since_last_activity": rng.integers(0, 60, n).astype(float),
            "plan": rng.choice(["p41", "p42"], n),
        }
    )
    y = (rng.random(n) < 1 / (1 + np.exp((X["active_days_30d"] - 10) / 3))).astype(int)
    kinds = {
        "active_days_30d": "numeric",
        "days_since_last_activity": "numeric",
        "plan": "categorical",
    }
    model = churn.fit_calibrated("logistic", X, y.to_numpy(), kinds, None)
    fmt, artifact = serialise.dumps(model)
    return ChurnModel.objects.create(
        version=1,
        mode=TrainingMode.HISTORY,
        status=TrainingStatus.TRAINED,
        kind="logistic",
        is_active=True,
        features=model.layout.features,
        preprocessing=serialise.preprocessing(model),
        artifact_format=fmt,
        artifact=artifact,
    )


def test_scoring_a_day_twice_gives_the_same_rows() -> None:
    customers = []
    for i in range(4):
        customer, _sub = paying_customer(started=date(2026, 1, 10), price=str(41 + i % 2))
        use(customer, date(2026, 2, 1))  # active once long ago: counts are 0, not missing
        for d in range(i * 5):
            use(customer, date(2026, 5, 1 + d))
        customers.append(customer)
    model = _active_model()
    assert churn_score_day(DAY) == {"scored": 4}
    first = list(ChurnScore.objects.order_by("customer_id").values())
    assert churn_pipeline_step(DAY) == {"scored": 4}
    again = list(ChurnScore.objects.order_by("customer_id").values())
    strip = [{k: v for k, v in row.items() if k != "id"} for row in first]
    assert strip == [{k: v for k, v in row.items() if k != "id"} for row in again]
    assert {row["customer_id"] for row in again} == {c.pk for c in customers}
    assert all(row["model_id"] == model.pk and row["day"] == DAY for row in again)
    risks = {row["customer_id"]: row["risk"] for row in again}
    # The least active customer is the riskiest; percentiles rank that day's scores.
    assert max(risks, key=risks.__getitem__) == customers[0].pk
    assert sorted(row["percentile"] for row in again) == [0.0, 0.25, 0.5, 0.75]
    top = next(row for row in again if row["customer_id"] == customers[0].pk)
    assert top["drivers"][0]["feature"] == "active_days_30d"
    assert top["drivers"][0]["effect"] > 0


def test_without_a_trained_model_the_step_scores_nobody() -> None:
    paying_customer(started=date(2026, 1, 10))
    assert churn_pipeline_step(DAY) == {"scored": 0}
    assert not ChurnScore.objects.exists()
    names = step_names()
    assert names.index("rollups") < names.index("churn") < names.index("health")
