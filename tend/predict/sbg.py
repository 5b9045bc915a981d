"""Shifted-beta-geometric (sBG) retention model (Fader & Hardie 2007, 2010).

Each customer has a constant churn probability θ per period (a month here); θ varies across
customers as Beta(α, β). T ∈ {1, 2, …} is the period in which a customer leaves (does not
renew at its end). With B the beta function:

    P(T = t)  = B(α + 1, β + t − 1) / B(α, β)                        churn in period t
    S(t)      = P(T > t) = B(α, β + t) / B(α, β)                       survival, S(0) = 1
    r(t)      = S(t) / S(t − 1) = (β + t − 1) / (α + β + t − 1)       retention rate

Retention rises with t: the customers likely to leave leave first. Maximum likelihood over
customers who churned in period t (n_t of them) and customers still active after c periods
(right-censored, m_c of them):

    LL(α, β) = Σ_t n_t · ln P(T = t) + Σ_c m_c · ln S(c)

computed in log space with ``scipy.special.betaln`` and maximised over logit(α / (α + β)) and
ln(α + β) (so both stay positive) with L-BFGS-B and the analytic gradient (digamma).

Given survival after n periods, the remaining lifetime is again sBG with (α, β + n), so

    E[T − n | T > n]    = (α + β + n − 1) / (α − 1)     (infinite when α ≤ 1)
    DERL(d | n renewals) = Σ_{t ≥ n+1} S(t) / S(n) · (1 + d)^−(t − n − 1)
                         = (β + n) / (α + β + n) · ₂F₁(1, β + n + 1; α + β + n + 1; 1 / (1 + d))

DERL is Fader & Hardie (2010)'s discounted expected residual lifetime of a customer who has
made n renewals (is alive after n periods), in payments, the next one undiscounted.

References: P. S. Fader & B. G. S. Hardie (2007), "How to project customer retention",
Journal of Interactive Marketing 21(1); (2010), "Customer-base valuation in a contractual
setting: the perils of ignoring heterogeneity", Marketing Science 29(1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, special


@dataclass(frozen=True)
class SbgFit:
    alpha: float
    beta: float
    log_likelihood: float
    customers: int
    churned: int
    periods: int  # the last period observed

    def survival(self, t: Any) -> Any:
        return survival(self.alpha, self.beta, t)

    def retention_rate(self, t: Any) -> Any:
        return retention_rate(self.alpha, self.beta, t)


def survival(alpha: float, beta: float, t: Any) -> Any:
    """S(t) = B(α, β + t) / B(α, β): the share still active after t periods."""
    t = np.asarray(t, dtype=float)
    return np.exp(special.betaln(alpha, beta + t) - special.betaln(alpha, beta))


def churn_probability(alpha: float, beta: float, t: Any) -> Any:
    """P(T = t) = B(α + 1, β + t − 1) / B(α, β) for t ≥ 1."""
    t = np.asarray(t, dtype=float)
    return np.exp(special.betaln(alpha + 1, beta + t - 1) - special.betaln(alpha, beta))


def retention_rate(alpha: float, beta: float, t: Any) -> Any:
    """r(t) = (β + t − 1) / (α + β + t − 1): the share of those active after t − 1 periods who
    stay through period t (t ≥ 1)."""
    t = np.asarray(t, dtype=float)
    return (beta + t - 1) / (alpha + beta + t - 1)


def expected_remaining_lifetime(
    alpha: float, beta: float, *, alive_after: int = 0, horizon: int | None = None
) -> float:
    """Expected further periods of a customer active after ``alive_after`` periods.

    Without a horizon: (α + β + n − 1) / (α − 1), infinite when α ≤ 1 (the heavy tail of
    loyal customers). With one: E[min(T − n, H) | T > n] = Σ_{k=0}^{H−1} S(n + k) / S(n).
    """
    n = int(alive_after)
    if horizon is None:
        return math.inf if alpha <= 1 else (alpha + beta + n - 1) / (alpha - 1)
    k = np.arange(int(horizon))
    return float(np.sum(survival(alpha, beta + n, k)))


def derl(alpha: float, beta: float, *, renewals: int, discount: float) -> float:
    """Fader & Hardie (2010) DERL: discounted expected residual lifetime (in payments) of a
    customer who has made ``renewals`` renewals, at ``discount`` per period (> 0)."""
    if discount <= 0:
        raise ValueError("discount must be above 0 (without discounting DERL may be infinite)")
    n = int(renewals)
    z = 1 / (1 + discount)
    return float(
        (beta + n) / (alpha + beta + n) * special.hyp2f1(1, beta + n + 1, alpha + beta + n + 1, z)
    )


def discounted_sum(alpha: float, beta: float, *, months: int, discount: float) -> float:
    """Σ_{t=0}^{months−1} S(t) / (1 + d)^t: expected discounted payments of a new customer
    paying at the start of each period, over ``months`` periods."""
    t = np.arange(int(months), dtype=float)
    return float(np.sum(survival(alpha, beta, t) / (1 + discount) ** t))


def _check_counts(name: str, values: Any) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a list of counts")
    if np.isnan(array).any():
        raise ValueError(f"{name} contains NaN")
    if np.isinf(array).any():
        raise ValueError(f"{name} contains an infinite value")
    if (array < 0).any():
        raise ValueError(f"{name} contains a negative count")
    if (array != np.floor(array)).any():
        raise ValueError(f"{name} contains a count that is not a whole number")
    return array


def fit_survivors(survivors: Any) -> SbgFit:
    """Fit α, β to survivors at periods 0…T of one cohort (survivors at T right-censored).

    ``[1000, 631, 468, …]``: 1,000 customers started, 631 still active after period 1, …
    Raises ValueError naming the problem: fewer than two periods, NaN, negative counts, a
    count that grows, nobody at the start.
    """
    counts = _check_counts("survivors", survivors)
    if counts.size < 2:
        raise ValueError("survivors needs at least two periods (the start and one more)")
    if counts[0] <= 0:
        raise ValueError("survivors must start with at least one customer")
    if (np.diff(counts) > 0).any():
        raise ValueError("survivors must not increase from one period to the next")
    churned = -np.diff(counts)  # churned[t − 1] = churned in period t
    censored = np.zeros(counts.size)
    censored[-1] = counts[-1]
    return fit_counts(churned=churned, censored=censored)


def fit_counts(*, churned: Any, censored: Any) -> SbgFit:
    """Fit α, β by maximum likelihood.

    ``churned[t − 1]``: customers who churned in period t (t = 1…); ``censored[c]``: customers
    still active after c periods when last seen (c = 0…). Raises ValueError when there is
    nothing to fit (no churn, or nobody observed for a period).
    """
    n = _check_counts("churned", churned)
    m = _check_counts("censored", censored)
    if n.sum() <= 0:
        raise ValueError("no churned customers: the churn rate cannot be estimated")
    if n.sum() + m[1:].sum() <= 0:
        raise ValueError("nobody was observed for a whole period")
    t_churn = np.arange(1, n.size + 1, dtype=float)
    t_cens = np.arange(m.size, dtype=float)
    keep_n, keep_m = n > 0, m > 0
    n, t_churn, m, t_cens = n[keep_n], t_churn[keep_n], m[keep_m], t_cens[keep_m]

    # Optimised over u = logit(μ) and v = ln(α + β), μ = α / (α + β) the mean churn
    # probability: far better conditioned than (ln α, ln β) when customers are alike
    # (α + β large at a fixed μ), where (ln α, ln β) take thousands of small steps.
    def unpack(params: np.ndarray) -> tuple[float, float, float, float]:
        mu = float(special.expit(params[0]))
        size = float(np.exp(params[1]))
        return mu * size, (1 - mu) * size, mu, size

    def negative(params: np.ndarray) -> tuple[float, np.ndarray]:
        a, b, mu, size = unpack(params)
        base = special.betaln(a, b)
        ll = np.sum(n * (special.betaln(a + 1, b + t_churn - 1) - base)) + np.sum(
            m * (special.betaln(a, b + t_cens) - base)
        )
        # d/da, d/db of ln B(x, y) = ψ(x) − ψ(x + y), ψ(y) − ψ(x + y).
        d_base_a = special.digamma(a) - special.digamma(a + b)
        d_base_b = special.digamma(b) - special.digamma(a + b)
        s1 = special.digamma(a + b + t_churn)
        s2 = special.digamma(a + b + t_cens)
        da = np.sum(n * (special.digamma(a + 1) - s1 - d_base_a)) + np.sum(
            m * (special.digamma(a) - s2 - d_base_a)
        )
        db = np.sum(n * (special.digamma(b + t_churn - 1) - s1 - d_base_b)) + np.sum(
            m * (special.digamma(b + t_cens) - s2 - d_base_b)
        )
        # Chain rule: α = μs, β = (1 − μ)s; dμ/du = μ(1 − μ), ds/dv = s.
        du = size * (da - db) * mu * (1 - mu)
        dv = (mu * da + (1 - mu) * db) * size
        return -float(ll), -np.array([du, dv])

    # Start at the pooled churn rate (churns ÷ months at risk) and a moderate spread.
    exposure = float(np.sum(n * t_churn) + np.sum(m * t_cens))
    rate = min(max(float(n.sum()) / max(exposure, 1.0), 1e-4), 1 - 1e-4)
    best: Any = None
    for size0 in (2.0, 50.0):
        result = optimize.minimize(
            negative,
            np.array([float(special.logit(rate)), math.log(size0)]),
            jac=True,
            method="L-BFGS-B",
            bounds=[(-20.0, 20.0), (-10.0, 14.0)],
        )
        if np.isfinite(result.fun) and (best is None or result.fun < best.fun):
            best = result
    if best is None:
        raise ValueError("the likelihood could not be evaluated for these counts")
    alpha, beta, _mu, _size = unpack(best.x)
    total = int(n.sum() + m.sum())
    last = int(max(t_churn.max(initial=0), t_cens.max(initial=0)))
    return SbgFit(
        alpha=alpha,
        beta=beta,
        log_likelihood=-float(best.fun),
        customers=total,
        churned=int(n.sum()),
        periods=last,
    )


def durations_to_counts(periods: Any, churned: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per-customer whole periods and churn flags → (churned per period t = 1…, censored per
    c = 0…). A customer who churned after d periods (0 ≤ d < 1 means in the first) churned in
    period ⌊d⌋ + 1; one still active after d periods is censored at ⌊d⌋."""
    d = np.floor(np.asarray(periods, dtype=float)).astype(int)
    e = np.asarray(churned, dtype=bool)
    size = int(d.max(initial=0)) + 1
    churn_counts = np.bincount(d[e], minlength=size).astype(float)  # index t − 1
    censored_counts = np.bincount(d[~e], minlength=size).astype(float)
    return churn_counts, censored_counts


def actual_survival(churned: Any, censored: Any) -> list[float | None]:
    """The observed share still active after t = 0…T periods (product-limit over whole
    periods: of those at risk in period t, the share who stayed), None where nobody was at
    risk."""
    n = np.asarray(churned, dtype=float)
    m = np.asarray(censored, dtype=float)
    size = max(n.size, m.size)
    n = np.pad(n, (0, size - n.size))
    m = np.pad(m, (0, size - m.size))
    out: list[float | None] = [1.0]
    s = 1.0
    for t in range(1, size + 1):
        # At risk in period t: churned in period ≥ t, or censored after ≥ t periods.
        at_risk = n[t - 1 :].sum() + m[t:].sum()
        if at_risk <= 0:
            break
        s *= 1 - n[t - 1] / at_risk
        out.append(s)
    return out
