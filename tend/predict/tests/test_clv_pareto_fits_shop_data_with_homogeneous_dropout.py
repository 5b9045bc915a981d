"""Pareto/NBD on shop data whose best fit has s, β → ∞ (regression: this took a minute)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate
from scipy.special import gammaln

from tend.predict.clv import fit_pareto_nbd
from tend.predict.clv.pareto import pareto_nbd_loglik_grad

DATA = Path(__file__).parent / "data" / "shop" / "pareto_slow_summary.csv"


def shop_summary() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    df = pd.read_csv(DATA)
    x = df["frequency"].to_numpy(dtype=float)
    return x, df["recency_days"].to_numpy() / 7.0, df["T_days"].to_numpy() / 7.0


def brute_force_loglik(
    r: float, alpha: float, s: float, beta: float, x: float, tx: float, T: float
) -> float:
    """One customer's log-likelihood straight from the definition (F&H 2005 eq. 10): Poisson
    purchases while alive, alive past T or died at τ ∈ (tₓ, T), integrated by scipy.quad.

    L = Γ(r+x)/Γ(r) · α^r β^s · [(α+T)^−(r+x) (β+T)^−s + s ∫_{tₓ}^{T} (α+τ)^−(r+x) (β+τ)^−(s+1) dτ]
    with α^r β^s folded into the bracket (ln(1+τ/β) via log1p) so large s does not overflow.
    """

    def log_f(tau: float) -> float:
        return float(
            -r * np.log1p(tau / alpha)
            - x * np.log(alpha + tau)
            - s * np.log1p(tau / beta)
            - np.log(beta + tau)
        )

    alive = float(-r * np.log1p(T / alpha) - x * np.log(alpha + T) - s * np.log1p(T / beta))
    total = np.exp(alive)
    if tx < T:
        scale = log_f(tx)
        died, _err = integrate.quad(
            lambda tau: np.exp(log_f(tau) - scale), tx, T, epsabs=0.0, epsrel=1e-12, limit=500
        )
        total += s * died * np.exp(scale)
    return float(gammaln(r + x) - gammaln(r) + np.log(total))


def test_pareto_nbd_fit_on_shop_data_converges_to_the_brute_force_likelihood() -> None:
    x, tx, T = shop_summary()
    assert x.size == 552

    fit = fit_pareto_nbd(x, tx, T)

    assert fit.converged
    assert fit.n == 552
    # The data's dropout is nearly the same for everyone: s and β grow together, their ratio
    # (the mean dropout rate per week) stays put.
    assert fit.s / fit.beta == pytest.approx(0.0209, abs=5e-4)
    assert fit.r == pytest.approx(1.897, abs=2e-3)
    assert fit.alpha == pytest.approx(17.32, abs=2e-2)
    brute = sum(
        brute_force_loglik(fit.r, fit.alpha, fit.s, fit.beta, *row)
        for row in zip(x, tx, T, strict=True)
    )
    assert fit.log_likelihood == pytest.approx(brute, rel=1e-9)
    # Better than (or as good as) where the previous ₂F₁-based fit stopped (LL −4008.0682).
    assert fit.log_likelihood > -4008.068


def test_pareto_nbd_fit_on_shop_data_beats_nearby_parameters() -> None:
    x, tx, T = shop_summary()
    fit = fit_pareto_nbd(x, tx, T)
    best = fit.log_likelihood
    for k in range(4):
        for factor in (0.98, 1.02):
            p = [fit.r, fit.alpha, fit.s, fit.beta]
            p[k] *= factor
            if k == 3 and factor > 1:
                continue  # β sits at the optimiser's upper bound
            nearby = sum(brute_force_loglik(*p, *row) for row in zip(x, tx, T, strict=True))
            assert nearby <= best + 1e-6


def test_pareto_nbd_gradient_matches_finite_differences_of_the_likelihood() -> None:
    x, tx, T = shop_summary()
    for params in ([0.55, 10.6, 0.61, 11.7], [1.9, 17.3, 2.5e4, 1.2e6], [2.0, 0.5, 0.3, 40.0]):
        p = np.array(params)
        _ll, grad = pareto_nbd_loglik_grad(p, x, tx, T)
        for k in range(4):
            step = np.zeros(4)
            step[k] = p[k] * 1e-5
            up = pareto_nbd_loglik_grad(p + step, x, tx, T)[0].sum()
            down = pareto_nbd_loglik_grad(p - step, x, tx, T)[0].sum()
            numeric = (up - down) / (2 * step[k])
            assert grad[:, k].sum() == pytest.approx(numeric, rel=1e-5, abs=1e-6 / p[k])
