"""A planted hazard ratio is recovered: exponential lifetimes where the Annual plan leaves at
half the rate and MRR has no effect; the 95 % interval holds 0.5 and excludes 1, the MRR one
holds 1. Stored fits (``cox_row`` via ``lifetime_fit``) read the same way."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from tend.predict.cox import design, fit_frame
from tend.predict.models import RetentionFit, TrainingStatus
from tend.predict.retention import lifetime_fit
from tend.predict.tests.lifetime_data import plant_lives


def test_the_planted_hazard_ratio_is_inside_the_interval() -> None:
    rng = np.random.default_rng(11)
    n = 3000
    annual = (rng.random(n) < 0.4).astype(float)
    mrr = rng.gamma(2.0, 0.5, n)
    rate = 0.08 * np.where(annual == 1, 0.5, 1.0)
    life = rng.exponential(1 / rate)
    follow = rng.uniform(1, 36, n)
    frame = pd.DataFrame(
        {
            "annual": annual,
            "mrr": mrr,
            "t": np.minimum(life, follow),
            "e": (life <= follow).astype(int),
        }
    )
    got = {
        c["column"]: c
        for c in fit_frame(frame, duration="t", event="e", penalty=0.0)["coefficients"]
    }
    assert got["annual"]["lower"] < 0.5 < got["annual"]["upper"] < 1
    assert got["annual"]["p"] < 0.001
    assert got["mrr"]["lower"] < 1 < got["mrr"]["upper"]


def test_design_uses_the_most_common_level_as_reference_and_drops_rare_ones() -> None:
    n = 2000
    traits = {
        "plan": ["Monthly"] * 1400 + ["Annual"] * 590 + ["Legacy"] * 10,
        "channel": ["ads"] * n,  # constant: no column
        "industry": [""] * n,
        "size": [None] * n,
        "country": ["US"] * 1000 + ["DE"] * 1000,
        "mrr_start": [49.0] * n,  # no variation: no column
    }
    frame, described = design(traits)
    assert list(frame.columns) == ["plan=Annual", "country=US"] or list(frame.columns) == [
        "plan=Annual",
        "country=DE",
    ]
    assert described[0]["reference"] == "Monthly"  # Legacy (0.5 %) is too rare for a column


@pytest.mark.django_db
def test_the_stored_cox_fit_finds_the_annual_plan_lengthens_lifetime() -> None:
    now = datetime(2026, 6, 15, tzinfo=UTC)
    plant_lives(3000, now=now, months=24)
    lifetime_fit(now=now)
    cox = RetentionFit.objects.get(kind="cox")
    assert cox.status == TrainingStatus.TRAINED
    annual = next(c for c in cox.params["covariates"] if c["column"] == "plan=Annual")
    assert annual["reference"] == "Monthly"
    assert annual["upper"] < 1  # the planted θ halving: clearly lengthens lifetime
    assert 0.5 < cox.results["concordance"] < 1
