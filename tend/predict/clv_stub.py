"""A stand-in for tend.predict.clv (BG/NBD and Gamma-Gamma) until it is merged: deleted then.

Only what clv_fit.py calls, in the same shape, so the app's surfaces can be built and tested.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, special

from tend.predict.errors import NotEnoughData


@dataclass
class Fit:
    kind: str
    params: dict[str, float]
    log_likelihood: float

    def p_alive(self, x: Any, tx: Any, T: Any) -> np.ndarray:
        r, alpha, a, b = (self.params[k] for k in ("r", "alpha", "a", "b"))
        x, tx, T = (np.asarray(v, dtype=float) for v in (x, tx, T))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(
                x > 0,
                a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x),
                0.0,
            )
        return np.asarray(1 / (1 + ratio))

    def expected_purchases(self, t: float, x: Any, tx: Any, T: Any) -> np.ndarray:
        r, alpha, a, b = (self.params[k] for k in ("r", "alpha", "a", "b"))
        x, tx, T = (np.asarray(v, dtype=float) for v in (x, tx, T))
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
        first = (a + b + x - 1) / (a - 1)
        second = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp
        return np.asarray(first * second * self.p_alive(x, tx, T))


@dataclass
class SpendFit:
    params: dict[str, float]
    log_likelihood: float

    def expected_spend(self, x: Any, m: Any) -> np.ndarray:
        p, q, g = (self.params[k] for k in ("p", "q", "v"))
        x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
        return np.asarray((g + m * x) * p / (p * x + q - 1))


def fit_bgnbd(x: Any, tx: Any, T: Any) -> Fit:
    x, tx, T = (np.asarray(v, dtype=float) for v in (x, tx, T))

    def nll(theta: np.ndarray) -> float:
        r, alpha, a, b = np.exp(theta)
        a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
        a2 = special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b)
        a2 -= special.gammaln(a + b + x)
        a3 = -(r + x) * np.log(alpha + T)
        with np.errstate(divide="ignore", invalid="ignore"):
            a4 = np.where(
                x > 0,
                np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) - (r + x) * np.log(alpha + tx),
                -np.inf,
            )
        return float(-(a1 + a2 + np.logaddexp(a3, a4)).sum())

    res = optimize.minimize(nll, np.zeros(4), method="Nelder-Mead", options={"maxiter": 4000})
    r, alpha, a, b = np.exp(res.x)
    return Fit("bgnbd", {"r": r, "alpha": alpha, "a": a, "b": b}, -float(res.fun))


def fit_pareto_nbd(x: Any, tx: Any, T: Any) -> Fit:
    raise NotEnoughData(have=0, need=1, message_id="Pareto/NBD is not in the stand-in")


def fit_gamma_gamma(x: Any, m: Any) -> SpendFit:
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)

    def nll(theta: np.ndarray) -> float:
        p, q, v = np.exp(theta)
        ll = (
            special.gammaln(p * x + q)
            - special.gammaln(p * x)
            - special.gammaln(q)
            + q * np.log(v)
            + (p * x - 1) * np.log(m)
            + p * x * np.log(x)
            - (p * x + q) * np.log(v + x * m)
        )
        return float(-ll.sum())

    res = optimize.minimize(nll, np.zeros(3), method="Nelder-Mead", options={"maxiter": 4000})
    p, q, v = np.exp(res.x)
    return SpendFit({"p": p, "q": q, "v": v}, -float(res.fun))
