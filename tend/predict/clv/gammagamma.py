"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie 2013 note).

A customer's transactions have values z ~ Gamma(p, ν), with ν ~ Gamma(q, γ) across customers
(independent of how often they buy). We observe x repeat transactions with mean value m.
Because a sum of x Gamma(p, ν) values is Gamma(px, ν), m ~ Gamma(px, νx); integrating ν out
gives the density of m, whose log is one customer's log-likelihood::

    ℓ = lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q·ln γ + (px−1)·ln m + px·ln x − (px+q)·ln(γ + m·x)

This is the full density of m (with the Jacobian terms (px−1)·ln m + px·ln x); on CDNOW it is
−4,055.9 at the maximum, the value Fader & Hardie report, so theirs includes those terms too.
Only customers with x ≥ 1 carry information; rows with x = 0 are ignored when fitting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import digamma, gammaln

from tend.predict.clv._common import (
    MIN_REPEATERS,
    ArrayLike,
    FloatArray,
    as_array,
    check_weights,
    maximise,
    require_repeaters,
    unique_rows,
)


def _check_xm(frequency: ArrayLike, monetary_value: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x = as_array(frequency, "frequency")
    m = as_array(monetary_value, "monetary_value")
    if x.shape != m.shape:
        raise ValueError(f"frequency, monetary_value: different lengths ({x.size}, {m.size})")
    if (x != np.floor(x)).any():
        raise ValueError("frequency: must be whole numbers (repeat purchase days)")
    if ((x > 0) & (m <= 0)).any():
        raise ValueError("monetary_value: must be positive for customers with repeat purchases")
    return x, m


def gamma_gamma_loglik(
    params: FloatArray, x: FloatArray, m: FloatArray, *, gradient: bool = False
) -> tuple[FloatArray, FloatArray | None]:
    """Per-customer log-likelihood of the mean spend ``m`` over ``x`` ≥ 1 transactions."""
    p, q, g = (float(v) for v in params)
    px = p * x
    log_gmx = np.log(g + m * x)
    ll = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * log_gmx
    )
    if not gradient:
        return ll, None
    psi = digamma(px + q)
    d_p = x * (psi - digamma(px) + np.log(m) + np.log(x) - log_gmx)
    d_q = psi - digamma(q) + np.log(g) - log_gmx
    d_g = q / g - (px + q) / (g + m * x)
    return ll, np.column_stack([d_p, d_q, d_g])


@dataclass(frozen=True)
class GammaGammaFit:
    """A fitted Gamma-Gamma spend model (``gamma`` is γ, the scale of the ν distribution)."""

    p: float
    q: float
    gamma: float
    log_likelihood: float
    n: int
    converged: bool = True
    iterations: int = 0

    @property
    def params(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    @property
    def mean_spend(self) -> float:
        """E[Z]: the population's mean transaction value, pγ/(q−1) (infinite when q ≤ 1)."""
        return self.p * self.gamma / (self.q - 1.0) if self.q > 1.0 else float("inf")

    def expected_spend(self, frequency: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
        """E[Z | x, m]: a customer's expected mean transaction value (FHL 2005 "RFM/CLV" eq. 5)::

            E[Z | x, m] = p(γ + m·x) / (px + q − 1)
                        = (q−1)/(px+q−1) · pγ/(q−1)  +  px/(px+q−1) · m

        a weighted average of the population mean and the customer's own mean m, the weight on m
        growing with x. Customers with x = 0 get the population mean (their ``monetary_value`` is
        ignored). Infinite where px + q ≤ 1 (q ≤ 1 means the population mean does not exist).
        """
        x, m = _check_xm(frequency, monetary_value)
        m = np.where(x > 0, m, 0.0)
        den = self.p * x + self.q - 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            out = self.p * (self.gamma + m * x) / den
        return np.asarray(np.where(den > 0, out, np.inf), dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": "gamma_gamma",
            **self.params,
            "log_likelihood": self.log_likelihood,
            "n": self.n,
        }


def fit_gamma_gamma(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
    min_repeaters: int = MIN_REPEATERS,
) -> GammaGammaFit:
    """Fit Gamma-Gamma by maximum likelihood on the customers with ``frequency`` ≥ 1.

    ``monetary_value`` is each customer's mean value of their repeat purchase days (see
    ``purchase_summary``; must be > 0 where frequency ≥ 1). ``n`` of the result counts the
    customers used (the repeat buyers). Errors as ``fit_bgnbd``.
    """
    x, m = _check_xm(frequency, monetary_value)
    w = check_weights(weights, x.size)
    require_repeaters(x, w, min_repeaters)
    rep = x > 0
    (ux, um), uw = unique_rows(x[rep], m[rep], weights=w[rep])

    # Start from the method of moments for a single Gamma (p from the spread of m, scaled).
    mean_m = float(uw @ um) / float(uw.sum())
    var_m = float(uw @ (um - mean_m) ** 2) / float(uw.sum())
    p0 = float(np.clip(mean_m**2 / var_m, 0.1, 50.0)) if var_m > 0 else 1.0
    q0 = 3.0
    start = np.array([p0, q0, max(mean_m * (q0 - 1.0) / p0, 1e-3)])

    def loglik(prm: FloatArray) -> tuple[FloatArray, FloatArray | None]:
        return gamma_gamma_loglik(prm, ux, um, gradient=True)

    opt = maximise(loglik, start, uw, penalizer=penalizer)
    p, q, g = (float(v) for v in opt.params)
    return GammaGammaFit(
        p=p,
        q=q,
        gamma=g,
        log_likelihood=opt.log_likelihood,
        n=round(float(uw.sum())),
        converged=opt.converged,
        iterations=opt.iterations,
    )
