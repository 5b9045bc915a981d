"""The sBG fit reproduces the published estimates of Fader & Hardie (2007), "How to project
customer retention", for both of its data sets (survivors of 1,000 customers, years 0–7)."""

from __future__ import annotations

import numpy as np
import pytest

from tend.predict import sbg

# Facts from the paper (Table 1 and the reported maximum-likelihood estimates).
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


@pytest.mark.parametrize(
    ("survivors", "alpha", "beta"),
    [(REGULAR, 0.704, 1.182), (HIGH_END, 0.668, 3.806)],
    ids=["regular", "high-end"],
)
def test_the_fit_matches_the_papers_alpha_and_beta_to_three_decimals(
    survivors: list[int], alpha: float, beta: float
) -> None:
    fit = sbg.fit_survivors(survivors)
    assert round(fit.alpha, 3) == alpha
    assert round(fit.beta, 3) == beta
    assert fit.customers == 1000
    assert fit.churned == 1000 - survivors[-1]
    assert fit.periods == 7


def test_the_fitted_curve_tracks_the_observed_survivors() -> None:
    fit = sbg.fit_survivors(REGULAR)
    projected = fit.survival(np.arange(8)) * 1000
    assert np.max(np.abs(projected - np.array(REGULAR))) < 15  # people, of 1,000


def test_retention_rises_with_tenure_as_the_paper_explains() -> None:
    fit = sbg.fit_survivors(REGULAR)
    rates = fit.retention_rate(np.arange(1, 13))
    assert np.all(np.diff(rates) > 0)
    # r(t) = S(t) / S(t − 1)
    s = fit.survival(np.arange(0, 13))
    assert np.allclose(rates, s[1:] / s[:-1])


def test_the_likelihood_is_maximal_at_the_estimate() -> None:
    fit = sbg.fit_survivors(HIGH_END)
    churned = -np.diff(HIGH_END)

    def ll(a: float, b: float) -> float:
        return float(
            np.sum(churned * np.log(sbg.churn_probability(a, b, np.arange(1, 8))))
            + HIGH_END[-1] * np.log(sbg.survival(a, b, 7))
        )

    assert ll(fit.alpha, fit.beta) == pytest.approx(fit.log_likelihood)
    for da, db in ((0.01, 0), (-0.01, 0), (0, 0.02), (0, -0.02)):
        assert ll(fit.alpha + da, fit.beta + db) < fit.log_likelihood
