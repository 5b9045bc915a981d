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
ln A₀ = ln F(tₓ) + ln(−expm1(ln F(T) − ln F(tₓ))). Since s/(r+s+x)·A₀ = s·∫_{tₓ}^{T}
(α+τ)^−(r+x) (β+τ)^−(s+1) dτ, each row is checked against that integral's bounds and, where
scipy's ₂F₁ fails, integrated numerically (see ``_log_died``).
The gradient is by finite differences (derivatives of ₂F₁ in its parameters have no closed form).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import integrate
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


def _log_died(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
    """ln I, I = ∫_{tₓ}^{T} (α+τ)^−(r+x) · (β+τ)^−(s+1) dτ = A₀ / (r+s+x)  (−inf when tₓ = T).

    I is the "died at τ between the last purchase and T" part of the likelihood. We compute it
    through A₀ and ₂F₁ (fast, vectorised) and check the result against bounds that hold because
    the integrand f is decreasing: (T−tₓ)·f(T) ≤ I ≤ (T−tₓ)·f(tₓ). Rows where ₂F₁ fails
    (non-finite or out of bounds; scipy's ₂F₁ loses accuracy for huge x over a tiny T) are
    integrated numerically instead (scipy.integrate.quad, rarely needed).
    """
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
        h = hyp2f1(1.0, rsx + 1.0 - t2, rsx + 1.0, z)
        return (1.0 - t2) * log_1mz + np.log(h) - rsx * np.log(hi + t)

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lf_tx = log_f(tx)
        lf_t = log_f(T)
        out = lf_tx + np.log(-np.expm1(np.minimum(lf_t - lf_tx, 0.0))) - np.log(rsx)
        span = tx < T
        log_len = np.log(np.where(span, T - tx, 1.0))

        def log_integrand(tau: FloatArray) -> FloatArray:
            return np.asarray(-(r + x) * np.log(alpha + tau) - (s + 1.0) * np.log(beta + tau))

        upper = log_len + log_integrand(tx)
        lower = log_len + log_integrand(T)
    slack = 1e-9 * (1.0 + np.abs(upper))
    bad = span & ~(np.isfinite(out) & (out <= upper + slack) & (out >= lower - slack))
    out = np.where(span, out, -np.inf)
    for i in np.flatnonzero(bad):
        out[i] = _log_died_quad(r, alpha, s, beta, float(x[i]), float(tx[i]), float(T[i]))
    return np.asarray(out, dtype=np.float64)


def _log_died_quad(
    r: float, alpha: float, s: float, beta: float, x: float, tx: float, T: float
) -> float:
    """ln I by adaptive quadrature, scaled by the integrand at tₓ, with break points at the
    integrand's decay scale 1/λ (λ = −d ln f/dτ at tₓ) so a sharp fall-off is not missed."""

    def g(tau: float) -> float:
        return float(-(r + x) * np.log(alpha + tau) - (s + 1.0) * np.log(beta + tau))

    g0 = g(tx)
    length = T - tx
    lam = (r + x) / (alpha + tx) + (s + 1.0) / (beta + tx)
    points = [k / (lam * length) for k in (1.0, 10.0, 100.0) if k / (lam * length) < 1.0]
    value, _err = integrate.quad(
        lambda v: np.exp(g(tx + length * v) - g0),
        0.0,
        1.0,
        points=points or None,
        limit=200,
        epsabs=0.0,
        epsrel=1e-11,
    )
    return float(np.log(value * length) + g0) if value > 0 else float(np.log(length) + g(T))


def pareto_nbd_loglik(
    params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray
) -> FloatArray:
    """Per-customer log-likelihood."""
    r, alpha, s, beta = (float(v) for v in params)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    died = np.log(s) + _log_died(params, x, tx, T)
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
            + (r + x) * np.log(alpha + T)
            + s * np.log(beta + T)
            + _log_died(self._arr(), x, tx, T)
        )
        return np.asarray(expit(-log_odds_dead), dtype=np.float64)

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """E[Y(t) | x, tₓ, T]: expected purchases in the next ``t`` periods (F&H 2005 eq. 20)::

        E = P(alive) · (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)]

        (the limit (r+x)/(α+T)·(β+T)·ln((β+T+t)/(β+T)) · P(alive) at s = 1). ``t`` broadcasts
        against the customers as in ``BGNBDFit.expected_purchases``.
        """
        x, tx, t_ = check_frt(frequency, recency, T)
        h = check_horizon(t)
        alive = self._p_alive(x, tx, t_)  # per customer; t only broadcasts below
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        log_u = np.log(beta + t_) - np.log(beta + t_ + h)
        out = alive * (r + x) * (beta + t_) / (alpha + t_) * _one_minus_pow_over(s - 1.0, log_u)
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
