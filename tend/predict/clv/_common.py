"""Shared plumbing for the CLV models: input checks, unique-row weighting, the optimiser.

Pure numpy/scipy. Nothing here knows about Django models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import optimize
from threadpoolctl import ThreadpoolController

from tend.predict.errors import NotEnoughData

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike


def gettext_noop(message: str) -> str:
    """Django's ``gettext_noop`` without touching settings (this package is pure numpy/scipy).

    ``makemessages`` extracts calls by the name ``gettext_noop``, so the id is still translatable.
    """
    return message


#: Message id for too few repeat buyers (translatable; filled by ``NotEnoughData``).
NOT_ENOUGH_REPEATERS = gettext_noop("not enough data to fit: {have} repeat buyers, need {need}")

#: Default minimum number of customers with at least one repeat purchase before we fit.
MIN_REPEATERS = 10


def as_array(
    values: ArrayLike, field: str, *, allow_empty: bool = False, any_shape: bool = False
) -> FloatArray:
    """``values`` as a 1-D float array (any shape with ``any_shape``); ValueError naming ``field``
    when it is not usable (not numbers, not 1-D, empty, NaN, infinite, negative)."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{field}: not numbers ({exc})") from exc
    arr = np.atleast_1d(arr)
    if arr.ndim != 1 and not any_shape:
        raise ValueError(f"{field}: expected a 1-D sequence, got shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{field}: empty (no customers)")
    if np.isnan(arr).any():
        raise ValueError(f"{field}: contains NaN")
    if not np.isfinite(arr).all():
        raise ValueError(f"{field}: contains an infinite value")
    if (arr < 0).any():
        raise ValueError(f"{field}: negative value")
    return arr


def check_frt(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validated (x, tₓ, T) arrays of one length.

    Rules: no NaN/inf, nothing negative, frequency whole, recency ≤ T, recency 0 when frequency 0.
    """
    x = as_array(frequency, "frequency")
    tx = as_array(recency, "recency")
    t_ = as_array(T, "T")
    if not (x.shape == tx.shape == t_.shape):
        raise ValueError(
            f"frequency, recency, T: different lengths ({x.size}, {tx.size}, {t_.size})"
        )
    if (x != np.floor(x)).any():
        raise ValueError("frequency: must be whole numbers (repeat purchase days)")
    if (tx > t_).any():
        raise ValueError(
            "recency: greater than T (the last purchase is after the end of the period)"
        )
    if ((x == 0) & (tx > 0)).any():
        raise ValueError("recency: must be 0 when frequency is 0 (no repeat purchase)")
    return x, tx, t_


def check_horizon(t: ArrayLike, field: str = "t") -> FloatArray:
    """Horizon(s) ≥ 0; any shape, broadcast against the customers (e.g. (k, 1) → (k, n))."""
    return as_array(t, field, any_shape=True)


def check_weights(weights: ArrayLike | None, n: int) -> FloatArray:
    if weights is None:
        return np.ones(n)
    w = as_array(weights, "weights")
    if w.size != n:
        raise ValueError(f"weights: length {w.size}, expected {n}")
    return w


def unique_rows(*columns: FloatArray, weights: FloatArray) -> tuple[list[FloatArray], FloatArray]:
    """Distinct rows of the given columns, with the summed weights of each as the new weights.

    Fitting on distinct (x, tₓ, T) combinations is exact (the likelihood only depends on them)
    and much faster: every customer who never came back in one cohort is one row.
    """
    n = columns[0].size
    order = np.lexsort(columns[::-1])  # np.unique(axis=0) is ~100× slower on 10⁵ rows
    sorted_cols = [c[order] for c in columns]
    new_group = np.ones(n, dtype=bool)
    if n > 1:
        new_group[1:] = np.any([np.diff(c) != 0 for c in sorted_cols], axis=0)
    group = np.cumsum(new_group) - 1
    w = np.bincount(group, weights=weights[order]).astype(np.float64)
    keep = w > 0
    return [c[new_group][keep] for c in sorted_cols], w[keep]


def require_repeaters(x: FloatArray, weights: FloatArray, need: int) -> None:
    have = round(float(weights[x > 0].sum()))
    if have < need:
        raise NotEnoughData(have=have, need=need, message_id=NOT_ENOUGH_REPEATERS)


_CONTROLLER: list[ThreadpoolController] = []


def _controller() -> ThreadpoolController:
    """One ThreadpoolController per process (finding the BLAS libraries takes ~20 ms)."""
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


@dataclass(frozen=True)
class Optimum:
    params: FloatArray
    log_likelihood: float
    converged: bool
    iterations: int
    message: str


def maximise(
    loglik: Callable[[FloatArray], tuple[FloatArray, FloatArray | None]],
    start: FloatArray,
    weights: FloatArray,
    *,
    penalizer: float = 0.0,
    with_gradient: bool = True,
    log_bounds: tuple[float, float] = (-14.0, 14.0),
) -> Optimum:
    """Maximum likelihood over log-parameters with L-BFGS-B.

    ``loglik(params)`` returns the per-row log-likelihoods and (when ``with_gradient``) their
    derivatives with respect to the (natural) parameters, shape (rows, k). The objective is the
    weighted mean negative log-likelihood plus ``penalizer · Σ params²`` (the ``lifetimes``
    convention, so a penalised fit can be compared); the mean keeps the scale independent of
    the number of customers.
    """
    total = float(weights.sum())

    def objective(theta: FloatArray) -> tuple[float, FloatArray] | float:
        params = np.exp(theta)
        ll, grad = loglik(params)
        value = -float(weights @ ll) / total + penalizer * float(params @ params)
        if not np.isfinite(value):
            value = 1e300
        if not with_gradient:
            return value
        assert grad is not None
        g = -(weights @ grad) / total + 2.0 * penalizer * params
        g = g * params  # chain rule: d/dθ = d/dp · p
        if not np.isfinite(g).all():
            g = np.nan_to_num(g, nan=0.0, posinf=1e10, neginf=-1e10)
        return value, g

    theta0 = np.log(start)
    bounds = [log_bounds] * theta0.size
    options: dict[str, Any] = {"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9}
    # L-BFGS-B calls BLAS on 4-vectors: multithreaded BLAS only adds contention (10× slower on
    # a busy machine), so the fit runs with one BLAS thread.
    with _controller().limit(limits=1, user_api="blas"):
        if with_gradient:
            res = optimize.minimize(
                objective, theta0, jac=True, method="L-BFGS-B", bounds=bounds, options=options
            )
        else:
            options["eps"] = 1e-7
            res = optimize.minimize(
                objective, theta0, jac=False, method="L-BFGS-B", bounds=bounds, options=options
            )
    params = np.exp(res.x)
    ll, _ = loglik(params)
    return Optimum(
        params=params,
        log_likelihood=float(weights @ ll),
        converged=bool(res.success),
        iterations=int(res.nit),
        message=str(res.message),
    )
