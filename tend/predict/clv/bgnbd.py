"""BG/NBD: the beta-geometric / negative binomial distribution model (Fader, Hardie & Lee 2005).

While "alive", a customer buys as a Poisson process with rate λ ~ Gamma(r, α) (shape r, rate α).
After every purchase they "die" (leave for good) with probability p ~ Beta(a, b).
We see, per customer, x = repeat purchases, tₓ = time of the last one, T = time since the first.

Log-likelihood of one customer (FHL 2005, eq. 6), in log space::

    A1 = lnΓ(r+x) − lnΓ(r) + r·ln α
    A2 = ln B(a, b+x) − ln B(a, b) − (r+x)·ln(α+T)
    A3 = ln B(a+1, b+x−1) − ln B(a, b) − (r+x)·ln(α+tₓ)          (only when x > 0)
    ℓ  = A1 + logaddexp(A2, A3)

with analytic gradients (digamma), maximised over log-parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

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


def bgnbd_loglik(
    params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, *, gradient: bool = False
) -> tuple[FloatArray, FloatArray | None]:
    """Per-customer log-likelihood (and its gradient in r, α, a, b when asked)."""
    r, alpha, a, b = (float(v) for v in params)
    rep = x > 0
    xs = np.where(rep, x, 1.0)  # keeps B(a+1, b+x−1) defined where it is masked out
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    lb = betaln(a, b)
    a2 = betaln(a, b + x) - lb - (r + x) * np.log(alpha + T)
    a3 = np.where(rep, betaln(a + 1.0, b + xs - 1.0) - lb - (r + x) * np.log(alpha + tx), -np.inf)
    ll = a1 + np.logaddexp(a2, a3)
    if not gradient:
        return ll, None
    w2 = expit(a2 - a3)  # share of the "still alive at T" term
    w3 = 1.0 - w2
    d_r = (
        digamma(r + x)
        - digamma(r)
        + np.log(alpha)
        - w2 * np.log(alpha + T)
        - w3 * np.log(alpha + tx)
    )
    d_alpha = r / alpha - w2 * (r + x) / (alpha + T) - w3 * (r + x) / (alpha + tx)
    psi_abx = digamma(a + b + x)
    d_lb_a = digamma(a) - digamma(a + b)
    d_lb_b = digamma(b) - digamma(a + b)
    d_a = w2 * (digamma(a) - psi_abx) + w3 * (digamma(a + 1.0) - psi_abx) - d_lb_a
    d_b = w2 * (digamma(b + x) - psi_abx) + w3 * (digamma(b + xs - 1.0) - psi_abx) - d_lb_b
    return ll, np.column_stack([d_r, d_alpha, d_a, d_b])


@dataclass(frozen=True)
class BGNBDFit:
    """A fitted BG/NBD model. Times are in the period unit of the data it was fitted on."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n: int
    converged: bool = True
    iterations: int = 0

    @property
    def params(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """P(still a customer at T | x, tₓ, T) (FHL 2005 eq. 11; 1 for x = 0 by the model)::

        P = 1 / (1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+tₓ))^(r+x))
        """
        x, tx, t_ = check_frt(frequency, recency, T)
        return self._p_alive(x, tx, t_)

    def _p_alive(self, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        rep = x > 0
        xs = np.where(rep, x, 1.0)
        log_odds_dead = (
            np.log(a)
            - np.log(np.maximum(b + xs - 1.0, 1e-300))
            + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        )
        return np.where(rep, expit(-log_odds_dead), 1.0)

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """E[Y(t) | x, tₓ, T]: expected repeat purchases in the next ``t`` periods (FHL eq. 10)::

            E = P(alive) · (a+b+x−1)/(a−1)
                · [1 − ((α+T)/(α+T+t))^(r+x) · ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))]

        ``t`` broadcasts against the customers (a scalar, one per customer, or (k, 1) for k
        horizons → (k, n)). See ``_mean_purchases_if_alive`` for how the bracket is evaluated.
        """
        x, tx, t_ = check_frt(frequency, recency, T)
        h = check_horizon(t)
        alive = self._p_alive(x, tx, t_)  # per customer; t broadcasts below
        return np.asarray(
            alive * self._mean_purchases_if_alive(h / (self.alpha + t_), x), dtype=np.float64
        )

    def _mean_purchases_if_alive(self, u: FloatArray, x: FloatArray) -> FloatArray:
        """E[purchases in the next t | alive, x] with u = t/(α+T)::

            (a+b+x−1)/(a−1) · [1 − (1+u)^(1−a) · ₂F₁(a+b−1−r, a−1; a+b+x−1; u/(1+u))]

        This is FHL's bracket after Pfaff's transform on both sides ((1−z)^A ₂F₁(A,B;C;z) =
        ₂F₁(A, C−B; C; z/(z−1)), then again with w = z/(z−1)): the ₂F₁ argument stays in [0, 1)
        and its first parameter no longer grows with x, so it converges quickly where FHL's form
        (parameters r+x, b+x) loses all precision (large x, long horizons). At a = 1 the formula
        is 0/0; we evaluate at a = 1 ± 1e-9 (relative error about 1e-9).
        """
        r, b = self.r, self.b
        a = self.a
        if abs(a - 1.0) < 1e-9:
            a = 1.0 + (1e-9 if a >= 1.0 else -1e-9)
        c = a + b + x - 1.0
        w = u / (1.0 + u)
        bracket = 1.0 - np.exp((1.0 - a) * np.log1p(u)) * hyp2f1(a + b - 1.0 - r, a - 1.0, c, w)
        out = c / (a - 1.0) * bracket
        return np.asarray(np.where(u == 0, 0.0, np.maximum(out, 0.0)), dtype=np.float64)

    def expected_purchases_new(self, t: ArrayLike) -> FloatArray:
        """E[X(t)]: a new customer's expected repeat purchases in their first ``t`` periods::

        E[X(t)] = (a+b−1)/(a−1) · [1 − (α/(α+t))^r · ₂F₁(r, b; a+b−1; t/(α+t))]   (FHL eq. 9)

        i.e. the "if alive" expectation above with x = 0 and u = t/α.
        """
        h = check_horizon(t)
        return self._mean_purchases_if_alive(h / self.alpha, np.zeros_like(h))

    def to_dict(self) -> dict[str, Any]:
        return {"model": "bgnbd", **self.params, "log_likelihood": self.log_likelihood, "n": self.n}


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
    min_repeaters: int = MIN_REPEATERS,
) -> BGNBDFit:
    """Fit BG/NBD by maximum likelihood.

    ``frequency`` x = repeat purchase days, ``recency`` tₓ and ``T`` in one period unit (see
    ``purchase_summary``). ``weights`` = how many customers each row stands for (default 1).
    ``penalizer`` adds ``penalizer · (r² + α² + a² + b²)`` to the mean negative
    log-likelihood (off by default; as in ``lifetimes``). Raises ValueError naming the field
    on bad input and ``NotEnoughData`` with fewer than ``min_repeaters`` repeat buyers.
    """
    x, tx, t_ = check_frt(frequency, recency, T)
    w = check_weights(weights, x.size)
    require_repeaters(x, w, min_repeaters)
    (ux, utx, ut), uw = unique_rows(x, tx, t_, weights=w)

    # Start: r = 1 and α so that r/α is the mean purchase rate; a = b = 1.
    rate = max(float(uw @ ux) / float(uw @ ut), 1e-6) if float(uw @ ut) > 0 else 1.0
    start = np.array([1.0, 1.0 / rate, 1.0, 1.0])

    def loglik(p: FloatArray) -> tuple[FloatArray, FloatArray | None]:
        return bgnbd_loglik(p, ux, utx, ut, gradient=True)

    opt = maximise(loglik, start, uw, penalizer=penalizer)
    r, alpha, a, b = (float(v) for v in opt.params)
    return BGNBDFit(
        r=r,
        alpha=alpha,
        a=a,
        b=b,
        log_likelihood=opt.log_likelihood,
        n=round(float(w.sum())),
        converged=opt.converged,
        iterations=opt.iterations,
    )
