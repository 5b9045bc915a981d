"""Bad survivor counts are a ValueError naming the problem; any non-increasing counts with a
churn give a finite fit (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tend.predict import sbg


@pytest.mark.parametrize(
    ("survivors", "problem"),
    [
        ([1000, 900, 950], "must not increase"),
        ([1000, -5], "negative"),
        ([1000, float("nan"), 300], "NaN"),
        ([1000], "at least two periods"),
        ([], "at least two periods"),
        ([0, 0, 0], "at least one customer"),
        ([100, 100, 100], "no churned customers"),
        ([100, 50.5], "whole number"),
        ([100, float("inf")], "infinite"),
        ([[100, 50]], "list of counts"),
    ],
)
def test_bad_survivors_are_refused_naming_the_problem(survivors: list[float], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        sbg.fit_survivors(survivors)


@st.composite
def non_increasing(draw: st.DrawFn) -> list[int]:
    start = draw(st.integers(min_value=1, max_value=1_000_000))
    drops = draw(st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=30))
    counts = [start]
    for share in drops:
        counts.append(int(counts[-1] * share))
    return counts


@settings(max_examples=150, deadline=None)
@given(non_increasing())
def test_any_non_increasing_counts_fit_finitely_or_say_why_not(survivors: list[int]) -> None:
    try:
        fit = sbg.fit_survivors(survivors)
    except ValueError as error:
        assert "no churned customers" in str(error)
        assert survivors[0] == survivors[-1]
        return
    assert math.isfinite(fit.alpha) and fit.alpha > 0
    assert math.isfinite(fit.beta) and fit.beta > 0
    assert math.isfinite(fit.log_likelihood)
    s = fit.survival(np.arange(37))
    assert np.all(np.isfinite(s)) and np.all(np.diff(s) <= 1e-12) and s[0] == pytest.approx(1)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=40),
    st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=40),
)
def test_censored_counts_fit_finitely_or_say_why_not(
    churned: list[int], censored: list[int]
) -> None:
    try:
        fit = sbg.fit_counts(churned=churned, censored=censored)
    except ValueError as error:
        assert "no churned customers" in str(error) or "observed" in str(error)
        return
    assert math.isfinite(fit.alpha) and math.isfinite(fit.beta) and fit.alpha > 0
