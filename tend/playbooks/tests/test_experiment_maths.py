"""The experiment's statistics against hand-computed examples and statsmodels' own documented
numbers (tend.playbooks.experiment_stats). Arithmetic is written out; z = Φ⁻¹(0.975)."""

from __future__ import annotations

from math import asin, ceil, sqrt

import pytest

from tend.playbooks.experiment_stats import (
    MIN_RELEVANT,
    compare_means,
    compare_proportions,
    proportion_target,
)

Z = 1.959963984540054  # Φ⁻¹(0.975)
Z_POWER = 0.8416212335729143  # Φ⁻¹(0.80)


def wilson(x: int, n: int) -> tuple[float, float]:
    """Wilson's score interval for x of n, the building block of Newcombe's interval."""
    p = x / n
    centre = (x + Z**2 / 2) / (n + Z**2)
    half = Z * sqrt(n) / (n + Z**2) * sqrt(p * (1 - p) + Z**2 / (4 * n))
    return centre - half, centre + half


# 120 treated with 96 retained (80 %), 60 control with 42 retained (70 %): difference 0.10.


def test_wald_interval_of_the_hand_example() -> None:
    # SE = √(.8 × .2 / 120 + .7 × .3 / 60) = √(.0013333 + .0035) = √.0048333 = .069522
    se = sqrt(0.8 * 0.2 / 120 + 0.7 * 0.3 / 60)
    assert se == pytest.approx(0.069522, abs=1e-6)
    # CI = .10 ± 1.96 × .069522 = .10 ± .136261 → (−.036261, .236261)
    result = compare_proportions(96, 120, 42, 60, method="wald")
    assert result.difference == pytest.approx(0.10)
    assert (result.low, result.high) == pytest.approx((0.10 - Z * se, 0.10 + Z * se))
    assert (result.low, result.high) == pytest.approx((-0.036261, 0.236261), abs=1e-6)
    assert not result.significant


def test_newcombe_interval_of_the_hand_example() -> None:
    # Wilson 96/120: (.719633, .861755); Wilson 42/60: (.574913, .801018)
    l1, u1 = wilson(96, 120)
    l2, u2 = wilson(42, 60)
    assert (l1, u1, l2, u2) == pytest.approx((0.719633, 0.861755, 0.574913, 0.801018), abs=1e-6)
    # low  = .10 − √((.8 − .719633)² + (.801018 − .7)²) = .10 − .129087 = −.029087
    # high = .10 + √((.861755 − .8)² + (.7 − .574913)²) = .10 + .139501 =  .239501
    low = 0.10 - sqrt((0.8 - l1) ** 2 + (u2 - 0.7) ** 2)
    high = 0.10 + sqrt((u1 - 0.8) ** 2 + (0.7 - l2) ** 2)
    result = compare_proportions(96, 120, 42, 60)
    assert result.method == "newcomb"
    assert (result.low, result.high) == pytest.approx((low, high))
    assert (result.low, result.high) == pytest.approx((-0.029087, 0.239501), abs=1e-6)


def test_p_value_is_the_pooled_two_proportion_z_test() -> None:
    # pooled p = 138 / 180 = .766667; SE₀ = √(.766667 × .233333 × (1/120 + 1/60)) = .066875
    # z = .10 / .066875 = 1.49533; two-sided p = 2 × (1 − Φ(1.49533)) = .13483
    pooled = 138 / 180
    z = 0.10 / sqrt(pooled * (1 - pooled) * (1 / 120 + 1 / 60))
    assert z == pytest.approx(1.49533, abs=1e-5)
    assert compare_proportions(96, 120, 42, 60).p_value == pytest.approx(0.13483, abs=1e-5)


def test_sample_size_for_80_percent_power() -> None:
    # Cohen's h = 2·asin(√.8) − 2·asin(√.7) = .231984; control:treated ratio = 60/120 = .5
    # n_treated = (1.959964 + .841621)² × (1 + 1/.5) / h² = 7.848879 × 3 / .053817 = 437.53 → 438
    # n_control = 437.53 × .5 = 218.77 → 219
    h = 2 * asin(sqrt(0.8)) - 2 * asin(sqrt(0.7))
    n_treated = (Z + Z_POWER) ** 2 * (1 + 1 / 0.5) / h**2
    assert n_treated == pytest.approx(437.53, abs=0.01)
    result = compare_proportions(96, 120, 42, 60)
    assert (result.needed_treated, result.needed_control) == (ceil(n_treated), 219)
    assert result.target == pytest.approx(0.10)


def test_small_observed_differences_plan_for_five_points() -> None:
    # 50 % vs 49 %: planning for 1 point would need ~40,000 a group; 5 points is the floor.
    target, treated = proportion_target(0.49, 0.01)
    assert (target, treated) == pytest.approx((MIN_RELEVANT, 0.54))
    # Near 100 % the planned share goes below the control instead of above 100 %.
    assert proportion_target(0.98, 0.0) == pytest.approx((0.05, 0.93))


def test_statsmodels_documented_example_fagerland_2015() -> None:
    # statsmodels' test_confint_2indep: 7/34 vs 1/34 (Fagerland et al. 2015, table):
    # Newcombe hybrid score 0.019 to 0.340, Wald 0.029 to 0.324.
    newcombe = compare_proportions(7, 34, 1, 34)
    assert (newcombe.low, newcombe.high) == pytest.approx((0.019, 0.340), abs=0.005)
    wald = compare_proportions(7, 34, 1, 34, method="wald")
    assert (wald.low, wald.high) == pytest.approx((0.029, 0.324), abs=0.005)


def test_newcombe_1998_example_a() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, table II (a): 56/70 − 48/80 = 0.2;
    # method 1 (Wald) 0.0575 to 0.3425, method 10 (hybrid score) 0.0524 to 0.3339.
    assert compare_proportions(56, 70, 48, 80).low == pytest.approx(0.0524, abs=5e-5)
    assert compare_proportions(56, 70, 48, 80).high == pytest.approx(0.3339, abs=5e-5)
    wald = compare_proportions(56, 70, 48, 80, method="wald")
    assert (wald.low, wald.high) == pytest.approx((0.0575, 0.3425), abs=5e-5)
    assert compare_proportions(56, 70, 48, 80).significant


def test_everyone_retained_in_both_groups_is_no_difference_not_an_error() -> None:
    result = compare_proportions(30, 30, 20, 20)
    assert result.difference == 0
    assert result.p_value == 1.0
    assert result.low < 0 < result.high  # Newcombe's interval keeps a width; Wald's would be 0


def test_welch_difference_of_means_by_hand() -> None:
    treated = [1.0, 0.8, 1.2, 1.0, 0.5, 1.0]
    control = [0.6, 1.0, 0.4, 0.7, 0.0]
    # means .916667 and .54; sample variances .057667 and .138
    # SE = √(.057667/6 + .138/5) = √(.009611 + .0276) = .192902
    # df = (.009611 + .0276)² / (.009611²/5 + .0276²/4) = 6.6279
    # t(.975, 6.6279) = 2.391803 (scipy.stats.t.ppf); CI = .376667 ± 2.391803 × .192902
    se = sqrt(0.057667 / 6 + 0.138 / 5)
    assert se == pytest.approx(0.192902, abs=1e-5)
    df = (0.057667 / 6 + 0.138 / 5) ** 2 / ((0.057667 / 6) ** 2 / 5 + (0.138 / 5) ** 2 / 4)
    assert df == pytest.approx(6.6279, abs=1e-3)
    result = compare_means(treated, control)
    assert result.method == "welch"
    assert result.difference == pytest.approx(0.376667, abs=1e-6)
    half = 2.391803 * 0.192902
    assert (result.low, result.high) == pytest.approx((0.376667 - half, 0.376667 + half), abs=1e-4)
    assert (result.low, result.high) == pytest.approx((-0.084717, 0.838050), abs=1e-5)
    assert result.p_value == pytest.approx(0.094132, abs=1e-5)


def test_welch_without_any_spread() -> None:
    result = compare_means([1.0] * 25, [1.0] * 25)
    assert (result.difference, result.low, result.high, result.p_value) == (0, 0, 0, 1.0)
