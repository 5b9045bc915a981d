"""Remaining lifetime and DERL: closed forms agree with direct sums of the survival curve."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from tend.predict import sbg


def test_derl_closed_form_equals_the_discounted_sum_of_conditional_survival() -> None:
    alpha, beta, d = 0.704, 1.182, 0.1
    t = np.arange(0, 4000, dtype=float)
    s = sbg.survival(alpha, beta, t)
    for n in (0, 1, 4, 10):
        direct = float(np.sum(s[n + 1 :] / s[n] / (1 + d) ** (t[n + 1 :] - n - 1)))
        assert sbg.derl(alpha, beta, renewals=n, discount=d) == pytest.approx(direct, rel=1e-9)


def test_derl_grows_with_the_renewals_already_made() -> None:
    values = [sbg.derl(0.668, 3.806, renewals=n, discount=0.1) for n in range(10)]
    assert all(b > a for a, b in itertools.pairwise(values))


def test_derl_refuses_no_discount() -> None:
    with pytest.raises(ValueError, match="discount"):
        sbg.derl(0.7, 1.2, renewals=0, discount=0)


def test_expected_remaining_lifetime_is_infinite_below_alpha_one() -> None:
    assert sbg.expected_remaining_lifetime(0.704, 1.182) == math.inf


def test_expected_remaining_lifetime_closed_form_for_alpha_above_one() -> None:
    alpha, beta = 3.0, 8.0
    for n in (0, 5):
        exact = sbg.expected_remaining_lifetime(alpha, beta, alive_after=n)
        assert exact == pytest.approx((alpha + beta + n - 1) / (alpha - 1))
        truncated = sbg.expected_remaining_lifetime(alpha, beta, alive_after=n, horizon=200_000)
        assert truncated == pytest.approx(exact, rel=1e-3)


def test_a_horizon_caps_the_lifetime() -> None:
    capped = sbg.expected_remaining_lifetime(0.704, 1.182, alive_after=0, horizon=120)
    assert 1 < capped < 120
    assert capped == pytest.approx(float(np.sum(sbg.survival(0.704, 1.182, np.arange(120)))))
