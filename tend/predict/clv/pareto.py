"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987), as derived by Fader & Hardie (2005).

While alive a customer buys as Poisson(λ), λ ~ Gamma(r, α); the lifetime is exponential(μ),
μ ~ Gamma(s, β), in continuous time (unlike BG/NBD, dying is not tied to purchases).

Log-likelihood of one customer (Fader & Hardie 2005, "A note on deriving the Pareto/NBD model
and related expressions", eq. 22 and the log-sum-exp form of their MATLAB note)::

    ℓ = lnΓ(r+x) − lnΓ(r) + r·ln α + s·ln β
        + logaddexp( −(r+x)·ln(α+T) − s·ln(β+T),  ln s − ln(r+s+x) + ln A₀ )

    A₀ = F(tₓ) − F(T),   F(t) = ₂F₁(r+s+x, t₂; r+s+x+1; |α−β|/(m+t)) / (m+t)^(r+s+x)

where m = max(α, β) and t₂ = s+1 when α ≥ β, t₂ = r+x when α < β. We evaluate ln F with Euler's
transform ₂F₁(A,B;A+1;z) = (1−z)^(1−B) ₂F₁(1, A+1−B; A+1; z): the remaining series has
positive, shrinking terms, so nothing overflows for large x;
ln A₀ = ln F(tₓ) + ln(−expm1(ln F(T) − ln F(tₓ))).
The gradient is by finite differences (derivatives of ₂F₁ in its parameters have no closed form).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit, gammaln, hyp2f1

from tend.predict.clv._common import (
    MIN_REPEATERS,
    ArrayLike,
    FloatArray,
    check_frt,
    check_horizon,
    check_weights,
    maximise,
    require_repeaters,
    unique_rows,
)


def _log_a0(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
    r, alpha, s, beta = (float(v) for v in params)
    rsx = r + s + x
    if alpha >= beta:
        hi, lo, t2 = alpha, beta, np.full_like(x, s + 1.0)
    else:
        hi, lo, t2 = beta, alpha, r + x
    diff = hi - lo

    def log_f(t: FloatArray) -> FloatArray:
        z = diff / (hi + t)
        log_1mz = np.log(lo + t) - np.log(hi + t)
        return (
            (1.0 - t2) * log_1mz
            + np.log(hyp2f1(1.0, rsx + 1.0 - t2, rsx + 1.0, z))
            - rsx * np.log(hi + t)
        )

    lf_tx = log_f(tx)
    lf_t = log_f(T)
    with np.errstate(divide="ignore"):
        return lf_tx + np.log(-np.expm1(np.minimum(lf_t - lf_tx, 0.0)))


def pareto_nbd_loglik(
    params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray
) -> FloatArray:
    """Per-customer log-likelihood."""
    r, alpha, s, beta = (float(v) for v in params)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    died = np.log(s) - np.log(r + s + x) + _log_a0(params, x, tx, T)
    return np.asarray(a1 + np.logaddexp(alive, died), dtype=np.float64)


def _one_minus_pow_over(s_minus_1: float, log_u: FloatArray) -> FloatArray:
    """(1 − u^(s−1)) / (s−1) for ln u = ``log_u`` ≤ 0, with its limit −ln u at s = 1."""
    if abs(s_minus_1) < 1e-12:
        return np.asarray(-log_u, dtype=np.float64)
    return np.asarray(-np.expm1(s_minus_1 * log_u) / s_minus_1, dtype=np.float64)


@dataclass(frozen=True)
class ParetoNBDFit:
    """A fitted Pareto/NBD model. Times are in the period unit of the data it was fitted on."""

    r: float
    alpha: float
    s: float
    beta: float
    log_likelihood: float
    n: int
    converged: bool = True
    iterations: int = 0

    @property
    def params(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "s": self.s, "beta": self.beta}

    def _arr(self) -> FloatArray:
        return np.array([self.r, self.alpha, self.s, self.beta])

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """P(alive at T | x, tₓ, T) (Fader & Hardie 2005 eq. 18)::

        P = 1 / (1 + s/(r+s+x) · (α+T)^(r+x) · (β+T)^s · A₀)
        """
        x, tx, t_ = check_frt(frequency, recency, T)
        return self._p_alive(x, tx, t_)

    def _p_alive(self, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        log_odds_dead = (
            np.log(s)
            - np.log(r + s + x)
            + (r + x) * np.log(alpha + T)
            + s * np.log(beta + T)
            + _log_a0(self._arr(), x, tx, T)
        )
        return np.asarray(expit(-log_odds_dead), dtype=np.float64)

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """E[Y(t) | x, tₓ, T]: expected purchases in the next ``t`` periods (F&H 2005 eq. 20)::

        E = P(alive) · (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)]

        (the limit (r+x)/(α+T)·(β+T)·ln((β+T+t)/(β+T)) · P(alive) at s = 1).
        """
        x, tx, t_ = check_frt(frequency, recency, T)
        h = check_horizon(t)
        h, x, tx, t_ = np.broadcast_arrays(h, x, tx, t_)
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        log_u = np.log(beta + t_) - np.log(beta + t_ + h)
        out = (
            self._p_alive(x, tx, t_)
            * (r + x)
            * (beta + t_)
            / (alpha + t_)
            * _one_minus_pow_over(s - 1.0, log_u)
        )
        return np.asarray(out, dtype=np.float64)

    def expected_purchases_new(self, t: ArrayLike) -> FloatArray:
        """E[X(t)] for a new customer (F&H 2005 eq. 17)::

        E[X(t)] = rβ / (α(s−1)) · [1 − (β/(β+t))^(s−1)]
        """
        h = check_horizon(t)
        log_u = np.log(self.beta) - np.log(self.beta + h)
        return np.asarray(
            self.r * self.beta / self.alpha * _one_minus_pow_over(self.s - 1.0, log_u),
            dtype=np.float64,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": "pareto_nbd",
            **self.params,
            "log_likelihood": self.log_likelihood,
            "n": self.n,
        }


def fit_pareto_nbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
    min_repeaters: int = MIN_REPEATERS,
) -> ParetoNBDFit:
    """Fit Pareto/NBD by maximum likelihood (same inputs, errors and penalty as ``fit_bgnbd``)."""
    x, tx, t_ = check_frt(frequency, recency, T)
    w = check_weights(weights, x.size)
    require_repeaters(x, w, min_repeaters)
    (ux, utx, ut), uw = unique_rows(x, tx, t_, weights=w)

    rate = max(float(uw @ ux) / float(uw @ ut), 1e-6) if float(uw @ ut) > 0 else 1.0
    mean_t = max(float(uw @ ut) / float(uw.sum()), 1e-3)
    start = np.array([1.0, 1.0 / rate, 1.0, mean_t])

    def loglik(p: FloatArray) -> tuple[FloatArray, FloatArray | None]:
        return pareto_nbd_loglik(p, ux, utx, ut), None

    opt = maximise(loglik, start, uw, penalizer=penalizer, with_gradient=False)
    r, alpha, s, beta = (float(v) for v in opt.params)
    return ParetoNBDFit(
        r=r,
        alpha=alpha,
        s=s,
        beta=beta,
        log_likelihood=opt.log_likelihood,
        n=round(float(w.sum())),
        converged=opt.converged,
        iterations=opt.iterations,
    )
