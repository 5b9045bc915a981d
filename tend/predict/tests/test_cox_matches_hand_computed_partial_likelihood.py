"""The Cox fit (lifelines through ``tend.predict.cox.fit_frame``) agrees with an independent
Newton–Raphson on the partial likelihood written here in numpy, on a tiny data set without
tied event times (where Breslow's and Efron's likelihoods are the same)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tend.predict.cox import fit_frame

# 10 customers: months until churn (or censoring), churned?, annual plan?, MRR / 100.
TIMES = np.array([2.0, 3.0, 5.0, 6.0, 8.0, 9.0, 11.0, 13.0, 15.0, 20.0])
EVENTS = np.array([1, 1, 0, 1, 1, 0, 1, 1, 0, 1])
ANNUAL = np.array([0, 0, 1, 0, 1, 0, 1, 0, 1, 1], dtype=float)
MRR = np.array([0.5, 1.2, 0.9, 0.4, 2.0, 1.1, 0.7, 1.5, 1.0, 0.8])


def newton_raphson(x: np.ndarray, times: np.ndarray, events: np.ndarray) -> np.ndarray:
    """Maximise ℓ(b) = Σ_{i: event} [x_i·b − ln Σ_{j: t_j ≥ t_i} exp(x_j·b)] (Breslow)."""
    b = np.zeros(x.shape[1])
    for _ in range(100):
        gradient = np.zeros_like(b)
        hessian = np.zeros((b.size, b.size))
        for i in np.nonzero(events)[0]:
            risk = times >= times[i]
            w = np.exp(x[risk] @ b)
            mean = (w[:, None] * x[risk]).sum(0) / w.sum()
            second = (w[:, None, None] * np.einsum("ij,ik->ijk", x[risk], x[risk])).sum(0)
            gradient += x[i] - mean
            hessian -= second / w.sum() - np.outer(mean, mean)
        step = np.linalg.solve(hessian, gradient)
        b = b - step
        if np.abs(step).max() < 1e-12:
            break
    return b


def test_coefficients_equal_an_independent_newton_raphson() -> None:
    x = np.column_stack([ANNUAL, MRR])
    expected = newton_raphson(x, TIMES, EVENTS)
    frame = pd.DataFrame({"annual": ANNUAL, "mrr": MRR, "t": TIMES, "e": EVENTS})
    result = fit_frame(frame, duration="t", event="e", penalty=0.0)
    got = {c["column"]: c for c in result["coefficients"]}
    assert got["annual"]["coef"] == pytest.approx(
        expected[0], abs=1e-4
    )  # lifelines stops at its own tolerance
    assert got["mrr"]["coef"] == pytest.approx(expected[1], abs=1e-4)
    assert got["annual"]["hr"] == pytest.approx(np.exp(expected[0]), rel=1e-4)
    # The 95 % interval is exp(coef ± 1.96 se).
    c = got["annual"]
    assert c["lower"] == pytest.approx(np.exp(c["coef"] - 1.959964 * c["se"]), rel=1e-4)
    assert c["upper"] == pytest.approx(np.exp(c["coef"] + 1.959964 * c["se"]), rel=1e-4)
    assert 0 <= result["concordance"] <= 1


def test_one_covariate_by_hand() -> None:
    """With one binary covariate the score equation can be checked at the estimate: the
    gradient of the partial likelihood is zero there."""
    frame = pd.DataFrame({"annual": ANNUAL, "t": TIMES, "e": EVENTS})
    b = fit_frame(frame, duration="t", event="e", penalty=0.0)["coefficients"][0]["coef"]
    gradient = 0.0
    for i in np.nonzero(EVENTS)[0]:
        risk = TIMES[i] <= TIMES
        w = np.exp(ANNUAL[risk] * b)
        gradient += ANNUAL[i] - (w * ANNUAL[risk]).sum() / w.sum()
    assert gradient == pytest.approx(0.0, abs=1e-4)
