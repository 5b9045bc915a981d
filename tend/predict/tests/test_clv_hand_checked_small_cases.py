"""Small cases whose answers we know by hand or by an independent formula."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate
from scipy.special import hyp2f1

from tend.predict.clv import BGNBDFit, GammaGammaFit, ParetoNBDFit, clv_discounted
from tend.predict.clv.pareto import _log_died, _log_died_quad

# The published CDNOW estimates (weeks).
BG = BGNBDFit(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0.0, n=2357)
PN = ParetoNBDFit(r=0.553, alpha=10.578, s=0.606, beta=11.669, log_likelihood=0.0, n=2357)
GG = GammaGammaFit(p=6.25, q=3.74, gamma=15.44, log_likelihood=0.0, n=946)
MODELS = [BG, PN]


def test_bgnbd_says_a_customer_who_never_came_back_is_alive() -> None:
    # In BG/NBD a customer can only leave right after a purchase.
    assert (BG.p_alive([0, 0, 0], [0, 0, 0], [0.0, 10.0, 500.0]) == 1.0).all()


def test_bgnbd_p_alive_right_after_a_purchase_is_the_chance_of_not_leaving_then() -> None:
    # tₓ = T: P = 1 / (1 + a/(b+x−1)).
    x = np.array([1.0, 2.0, 10.0])
    expected = 1.0 / (1.0 + BG.a / (BG.b + x - 1.0))
    assert BG.p_alive(x, [5.0, 5.0, 5.0], [5.0, 5.0, 5.0]) == pytest.approx(expected, rel=1e-12)


def test_pareto_nbd_says_a_customer_who_just_bought_is_alive() -> None:
    assert PN.p_alive([0, 3, 30], [0, 7, 7], [0, 7, 7]) == pytest.approx(1.0, abs=1e-12)


def test_bgnbd_conditional_expectation_equals_fhl_equation_10_evaluated_directly() -> None:
    # Customer 1 of CDNOW: x = 2, tₓ = 30.43, T = 38.86; next 39 weeks.
    x, tx, T, t = 2.0, 30.43, 38.86, 39.0
    r, al, a, b = BG.r, BG.alpha, BG.a, BG.b
    bracket = 1 - ((al + T) / (al + T + t)) ** (r + x) * hyp2f1(
        r + x, b + x, a + b + x - 1, t / (al + T + t)
    )
    direct = (
        (a + b + x - 1)
        / (a - 1)
        * bracket
        / (1 + a / (b + x - 1) * ((al + T) / (al + tx)) ** (r + x))
    )
    ours = BG.expected_purchases(t, [x], [tx], [T])[0]
    assert ours == pytest.approx(direct, rel=1e-10)
    assert round(ours, 3) == 1.226


@pytest.mark.parametrize("model", MODELS)
def test_a_customer_who_just_arrived_is_expected_to_buy_like_a_new_customer(model) -> None:  # type: ignore[no-untyped-def]
    t = np.array([0.5, 1.0, 10.0, 39.0, 520.0])
    zeros = np.zeros_like(t)
    assert model.expected_purchases(t, zeros, zeros, zeros) == pytest.approx(
        model.expected_purchases_new(t), rel=1e-9
    )


@pytest.mark.parametrize("model", MODELS)
def test_at_first_a_new_customer_buys_at_the_mean_rate(model) -> None:  # type: ignore[no-untyped-def]
    # E[X(t)] ≈ (r/α)·t for small t (nobody has left yet).
    t = 1e-6
    assert model.expected_purchases_new(t)[0] / t == pytest.approx(model.r / model.alpha, rel=1e-4)


@pytest.mark.parametrize("model", MODELS)
def test_predictions_move_the_right_way(model) -> None:  # type: ignore[no-untyped-def]
    # More recent last purchase → more likely alive; longer horizon → more purchases;
    # a longer silence since the last purchase → fewer expected purchases.
    tx = np.linspace(1.0, 38.0, 20)
    p = model.p_alive(np.full(20, 3.0), tx, np.full(20, 38.0))
    assert (np.diff(p) > 0).all()
    horizons = np.linspace(0.0, 200.0, 30)
    e = model.expected_purchases(horizons, [3.0], [20.0], [38.0])
    assert e[0] == 0.0
    assert (np.diff(e) > 0).all()
    silence = model.expected_purchases(
        10.0, np.full(5, 3.0), np.full(5, 20.0), [20.0, 30.0, 40.0, 60.0, 100.0]
    )
    assert (np.diff(silence) < 0).all()
    assert (np.diff(model.expected_purchases_new(horizons)) > 0).all()


def test_pareto_nbd_is_continuous_where_s_crosses_one() -> None:
    near = [
        ParetoNBDFit(r=0.5, alpha=10.0, s=s, beta=12.0, log_likelihood=0.0, n=1)
        for s in (1 - 1e-7, 1.0, 1 + 1e-7)
    ]
    values = [m.expected_purchases(39.0, [2.0], [20.0], [38.0])[0] for m in near]
    assert values[0] == pytest.approx(values[1], rel=1e-6)
    assert values[2] == pytest.approx(values[1], rel=1e-6)


def test_pareto_nbd_died_integral_matches_numerical_integration() -> None:
    # ln ∫_{tₓ}^{T} (α+τ)^−(r+x) (β+τ)^−(s+1) dτ: closed form (₂F₁) against adaptive quadrature.
    params = np.array([PN.r, PN.alpha, PN.s, PN.beta])
    r, al, s, be = params
    for x, tx, T in [(0.0, 0.0, 38.86), (2.0, 30.43, 38.86), (20.0, 1.0, 70.0), (1.0, 10.0, 10.5)]:

        def f(tau: float, x: float = x, tx: float = tx) -> float:
            return float(((al + tx) / (al + tau)) ** (r + x) * ((be + tx) / (be + tau)) ** (s + 1))

        scale = 1.0 / ((r + x) / (al + tx) + (s + 1) / (be + tx))
        points = [tx + k * scale for k in (1, 10) if tx + k * scale < T]
        direct, _ = integrate.quad(f, tx, T, points=points or None, epsrel=1e-12, limit=200)
        log_direct = np.log(direct) - (r + x) * np.log(al + tx) - (s + 1) * np.log(be + tx)
        ours = _log_died(params, np.array([x]), np.array([tx]), np.array([T]))[0]
        assert ours == pytest.approx(log_direct, rel=1e-10)


def test_pareto_nbd_numerical_fallback_agrees_with_the_closed_form() -> None:
    params = np.array([PN.r, PN.alpha, PN.s, PN.beta])
    for x, tx, T in [(200.0, 1.0, 70.0), (500.0, 3.0, 300.0), (5.0, 2.0, 1000.0)]:
        closed = _log_died(params, np.array([x]), np.array([tx]), np.array([T]))[0]
        assert _log_died_quad(*params, x, tx, T) == pytest.approx(closed, rel=1e-9)


def test_expected_spend_shrinks_a_customer_mean_toward_the_population_mean() -> None:
    pop = GG.mean_spend
    assert pop == pytest.approx(6.25 * 15.44 / 2.74)
    spend = GG.expected_spend([0, 1, 5, 50], [999.0, 100.0, 100.0, 100.0])
    assert spend[0] == pytest.approx(pop)  # no repeat purchase: only the population mean
    assert (spend[1:] > pop).all() and (spend[1:] < 100.0).all()
    assert (np.diff(spend[1:]) > 0).all()  # more purchases → closer to their own mean


def test_discounted_clv_is_the_lifetimes_monthly_sum() -> None:
    x, tx, T = (
        np.array([0.0, 2.0, 7.0]),
        np.array([0.0, 30.43, 35.0]),
        np.array([38.86, 38.86, 38.86]),
    )
    spend = GG.expected_spend(x, [0.0, 22.35, 40.0])
    monthly = 1.10 ** (1 / 12) - 1
    expected = np.zeros(3)
    for i in np.arange(1, 13) * 4.345:  # lifetimes' loop, freq="W"
        step = BG.expected_purchases(i, x, tx, T) - BG.expected_purchases(i - 4.345, x, tx, T)
        expected += spend * step / (1 + monthly) ** (i / 4.345)
    ours = clv_discounted(BG, x, tx, T, spend, months=12, annual_discount_rate=0.10, unit="week")
    assert ours == pytest.approx(expected, rel=1e-12)


def test_without_discounting_clv_is_spend_times_expected_purchases() -> None:
    x, tx, T = np.array([1.0, 4.0]), np.array([10.0, 30.0]), np.array([38.0, 38.0])
    clv = clv_discounted(PN, x, tx, T, [20.0, 30.0], months=24, annual_discount_rate=0.0)
    assert clv == pytest.approx(
        np.array([20.0, 30.0]) * PN.expected_purchases(24 * 4.345, x, tx, T)
    )
    assert (
        clv_discounted(PN, x, tx, T, [20.0, 30.0], months=24, annual_discount_rate=0.2) < clv
    ).all()
