"""The statistics of a playbook experiment, from statsmodels and scipy (no maths of our own).

Two kinds of outcome:

- a share (retention, an event done): the difference of two proportions, treated − control,
  with Newcombe's hybrid score interval (``confint_proportions_2indep(method="newcomb")``) and
  the score test's p-value (``test_proportions_2indep(method="score", correction=False)``, the
  classic pooled two-proportion z-test). Newcombe's interval keeps its 95 % coverage with small
  groups and shares near 0 or 1 (retention is often 90 %+), where the Wald interval is too
  narrow and can even have zero width (20 of 20 retained);
- a mean of per-customer ratios (MRR kept): Welch's t-test and its interval
  (``scipy.stats.ttest_ind(equal_var=False)``), which does not assume equal variances.

The sample size is the one that detects ``target`` (the observed difference, at least
``MIN_RELEVANT``) with 80 % power at a two-sided 5 % level (``NormalIndPower``), with the
observed control:treated ratio.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    test_proportions_2indep,
)

ALPHA = 0.05
POWER = 0.8
# The smallest difference worth detecting, as a fraction (0.05 = 5 percentage points).
MIN_RELEVANT = 0.05


@dataclass(frozen=True)
class Comparison:
    """Treated − control, as fractions (0.081 = 8.1 points); interval at 95 %."""

    treated: float  # the treated group's share or mean
    control: float
    difference: float
    low: float
    high: float
    p_value: float
    method: str  # "newcomb" or "welch"
    # Customers per group for 80 % power to detect ``target`` (treated, control).
    needed_treated: int
    needed_control: int
    target: float

    @property
    def significant(self) -> bool:
        """The interval leaves out 0 (the verdict follows the interval the reader sees)."""
        return self.low > 0 or self.high < 0


def _needed(effect: float, n_treated: int, n_control: int) -> tuple[int, int]:
    """Customers per group for 80 % power at effect size ``effect`` (Cohen's h or d)."""
    if not math.isfinite(effect) or effect == 0:
        return n_treated, n_control
    ratio = n_control / n_treated
    nobs1 = NormalIndPower().solve_power(
        effect_size=abs(effect), nobs1=None, alpha=ALPHA, power=POWER, ratio=ratio
    )
    return math.ceil(float(nobs1)), math.ceil(float(nobs1) * ratio)


def proportion_target(control: float, observed: float) -> tuple[float, float]:
    """The difference to plan for (``|observed|``, at least ``MIN_RELEVANT``) and the treated
    share it stands for: above the control's share, or below when that would pass 100 %."""
    target = max(abs(observed), MIN_RELEVANT)
    treated = control + target if control + target <= 1 else control - target
    return target, min(max(treated, 0.0), 1.0)


def compare_proportions(
    successes_treated: int,
    n_treated: int,
    successes_control: int,
    n_control: int,
    *,
    method: str = "newcomb",
) -> Comparison:
    """Difference of two shares with its interval (``method`` "newcomb" or "wald") and p-value."""
    p1 = successes_treated / n_treated
    p2 = successes_control / n_control
    low, high = confint_proportions_2indep(
        successes_treated, n_treated, successes_control, n_control,
        method=method, compare="diff", alpha=ALPHA,
    )  # fmt: skip
    if p1 == p2:
        p_value = 1.0  # the score statistic is 0/0 when both shares are 0 or 1
    else:
        test = test_proportions_2indep(
            successes_treated, n_treated, successes_control, n_control,
            method="score", compare="diff", correction=False,
        )  # fmt: skip
        p_value = float(test.pvalue)
    target, planned = proportion_target(p2, p1 - p2)
    effect = float(proportion_effectsize(planned, p2))
    needed = _needed(effect, n_treated, n_control)
    return Comparison(
        treated=p1,
        control=p2,
        difference=p1 - p2,
        low=float(low),
        high=float(high),
        p_value=p_value,
        method=method,
        needed_treated=needed[0],
        needed_control=needed[1],
        target=target,
    )


def compare_means(treated: Sequence[float], control: Sequence[float]) -> Comparison:
    """Welch's difference of means (treated − control) with its 95 % interval and p-value."""
    a = np.asarray(treated, dtype=float)
    b = np.asarray(control, dtype=float)
    difference = float(a.mean() - b.mean())
    var_a, var_b = float(a.var(ddof=1)), float(b.var(ddof=1))
    if var_a == 0 and var_b == 0:
        # No spread at all (everyone kept exactly 100 %): the t statistic is undefined.
        low = high = difference
        p_value = 1.0 if difference == 0 else 0.0
    else:
        result = stats.ttest_ind(a, b, equal_var=False)
        interval = result.confidence_interval(confidence_level=1 - ALPHA)
        low, high = float(interval.low), float(interval.high)
        p_value = float(result.pvalue)
    target = max(abs(difference), MIN_RELEVANT)
    pooled_sd = math.sqrt((var_a + var_b) / 2)
    effect = target / pooled_sd if pooled_sd > 0 else math.inf
    needed = _needed(effect, len(a), len(b))
    return Comparison(
        treated=float(a.mean()),
        control=float(b.mean()),
        difference=difference,
        low=low,
        high=high,
        p_value=p_value,
        method="welch",
        needed_treated=needed[0],
        needed_control=needed[1],
        target=target,
    )
