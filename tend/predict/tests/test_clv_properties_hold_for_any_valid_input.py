"""Property tests: any valid customer gives finite, sensible predictions; invalid ones raise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tend.predict.clv import BGNBDFit, GammaGammaFit, ParetoNBDFit, clv_discounted, fit_bgnbd
from tend.predict.clv.bgnbd import bgnbd_loglik
from tend.predict.clv.gammagamma import gamma_gamma_loglik
from tend.predict.clv.pareto import pareto_nbd_loglik
from tend.predict.errors import NotEnoughData

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

positive = st.floats(min_value=0.02, max_value=50.0)


@st.composite
def customers(draw: st.DrawFn, max_size: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Valid (x, tₓ, T): x whole ≥ 0, 0 ≤ tₓ ≤ T, tₓ = 0 when x = 0."""
    n = draw(st.integers(min_value=1, max_value=max_size))
    x = np.array(draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n)), dtype=float)
    T = np.array(draw(st.lists(st.floats(0.0, 5000.0), min_size=n, max_size=n)))
    share = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    tx = np.where(x > 0, share * T, 0.0)
    return x, tx, T


@st.composite
def bgnbd_models(draw: st.DrawFn) -> BGNBDFit:
    return BGNBDFit(
        r=draw(positive),
        alpha=draw(positive),
        a=draw(positive),
        b=draw(positive),
        log_likelihood=0,
        n=1,
    )


@st.composite
def pareto_models(draw: st.DrawFn) -> ParetoNBDFit:
    return ParetoNBDFit(
        r=draw(positive),
        alpha=draw(positive),
        s=draw(positive),
        beta=draw(positive),
        log_likelihood=0,
        n=1,
    )


horizon = st.floats(0.0, 5000.0)


@SETTINGS
@given(model=st.one_of(bgnbd_models(), pareto_models()), data=customers(), t=horizon)
def test_predictions_are_finite_and_within_their_bounds(model, data, t) -> None:  # type: ignore[no-untyped-def]
    x, tx, T = data
    p = model.p_alive(x, tx, T)
    assert np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()
    e = model.expected_purchases(t, x, tx, T)
    assert np.isfinite(e).all() and (e >= 0).all()
    # Never more than an immortal customer's expected purchases, E[λ | x, T]·t.
    assert (e <= (model.r + x) / (model.alpha + T) * t * (1 + 1e-7) + 1e-9).all()
    new = model.expected_purchases_new([t])
    assert np.isfinite(new).all() and (new >= 0).all()


@SETTINGS
@given(bg=bgnbd_models(), pn=pareto_models(), data=customers())
def test_log_likelihoods_are_finite(bg, pn, data) -> None:  # type: ignore[no-untyped-def]
    # With x = 0 the likelihood is a probability (≤ 1); with x > 0 it is a density in tₓ and
    # may exceed 1, so only finiteness holds there.
    x, tx, T = data
    ll, grad = bgnbd_loglik(np.array(list(bg.params.values())), x, tx, T, gradient=True)
    assert np.isfinite(ll).all() and (ll[x == 0] <= 1e-9).all()
    assert grad is not None and np.isfinite(grad).all()
    ll = pareto_nbd_loglik(np.array(list(pn.params.values())), x, tx, T)
    assert np.isfinite(ll).all() and (ll[x == 0] <= 1e-9).all()


@SETTINGS
@given(
    p=positive,
    q=st.floats(1.01, 50.0),
    g=positive,
    x=st.lists(st.integers(0, 500), min_size=1, max_size=10),
    m=st.floats(0.01, 1e6),
)
def test_expected_spend_lies_between_the_population_mean_and_the_customer_mean(
    p, q, g, x, m
) -> None:  # type: ignore[no-untyped-def]
    model = GammaGammaFit(p=p, q=q, gamma=g, log_likelihood=0, n=1)
    spend = model.expected_spend(x, [m] * len(x))
    lo, hi = sorted([model.mean_spend, m])
    assert np.isfinite(spend).all()
    assert (spend >= lo * (1 - 1e-9)).all() and (spend <= hi * (1 + 1e-9)).all()
    rep = np.array(x) > 0
    if rep.any():
        ll, _ = gamma_gamma_loglik(
            np.array([p, q, g]), np.array(x, float)[rep], np.full(rep.sum(), m)
        )
        assert np.isfinite(ll).all()


@SETTINGS
@given(model=st.one_of(bgnbd_models(), pareto_models()), data=customers(), rate=st.floats(0.0, 1.0))
def test_discounted_clv_is_finite_and_not_negative(model, data, rate) -> None:  # type: ignore[no-untyped-def]
    x, tx, T = data
    clv = clv_discounted(
        model, x, tx, T, np.full(x.size, 25.0), months=6, annual_discount_rate=rate
    )
    assert np.isfinite(clv).all() and (clv >= -1e-9).all()


BAD = st.sampled_from([-1.0, math.nan, math.inf, -math.inf])


@SETTINGS
@given(
    data=customers(),
    field=st.sampled_from(["frequency", "recency", "T"]),
    bad=BAD,
    where=st.integers(0, 11),
)
def test_an_invalid_value_anywhere_is_refused_naming_its_field(data, field, bad, where) -> None:  # type: ignore[no-untyped-def]
    x, tx, T = (a.copy() for a in data)
    arrays = {"frequency": x, "recency": tx, "T": T}
    arrays[field][where % x.size] = bad
    with pytest.raises(ValueError, match=f"^{field}:"):
        BGNBDFit(r=1, alpha=1, a=1, b=1, log_likelihood=0, n=1).p_alive(x, tx, T)
    with pytest.raises(ValueError, match=f"^{field}:"):
        ParetoNBDFit(r=1, alpha=1, s=1, beta=1, log_likelihood=0, n=1).expected_purchases(
            1.0, x, tx, T
        )


@SETTINGS
@given(data=customers(), where=st.integers(0, 11), extra=st.floats(1e-6, 100.0))
def test_recency_after_t_or_without_repeat_purchases_is_refused(data, where, extra) -> None:  # type: ignore[no-untyped-def]
    x, tx, T = (a.copy() for a in data)
    i = where % x.size
    tx[i] = T[i] + extra if x[i] > 0 else extra  # after T, or a recency with frequency 0
    with pytest.raises(ValueError, match=r"^recency:"):
        fit_bgnbd(x, tx, T)


@settings(max_examples=25, deadline=None)
@given(data=customers(max_size=60))
def test_fitting_any_valid_data_gives_finite_parameters_or_not_enough_data(data) -> None:  # type: ignore[no-untyped-def]
    x, tx, T = data
    try:
        fit = fit_bgnbd(x, tx, T, min_repeaters=3)
    except NotEnoughData as exc:
        assert exc.params["have"] < 3
        return
    assert all(np.isfinite(v) and v > 0 for v in fit.params.values())
    assert np.isfinite(fit.log_likelihood)
