"""Synthetic churn frames with a planted signal, for the churn tests (few hundred rows)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

KINDS = {
    "active_days_30": "numeric",
    "days_since_last_activity": "numeric",
    "noise_a": "numeric",
    "noise_b": "numeric",
    "plan": "categorical",
}


def frame(
    customers: int = 60,
    dates: int = 12,
    seed: int = 0,
    signal: float = 3.0,
    churn_rate: float = 0.1,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, customer_id, day): ``active_days_30`` drives churn strongly; days since last
    activity only weakly (the baseline), noise and plan not at all."""
    rng = np.random.default_rng(seed)
    n = customers * dates
    ids = np.tile(np.arange(1, customers + 1), dates)
    start = date(2026, 1, 1)
    days = np.repeat([start + timedelta(days=30 * i) for i in range(dates)], customers)
    active = rng.integers(0, 31, n).astype(float)
    recency = np.clip(rng.exponential(6, n) + (30 - active) * 0.05, 0, None).round()
    logit = -signal * (active - 15) / 8 + np.log(churn_rate / (1 - churn_rate)) - 1
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    X = pd.DataFrame(
        {
            "active_days_30": active,
            "days_since_last_activity": recency,
            "noise_a": rng.normal(size=n),
            "noise_b": rng.normal(size=n),
            "plan": rng.choice(["basic", "pro", "team"], n),
        }
    )
    X.loc[rng.random(n) < 0.05, "noise_a"] = np.nan
    return X, y, ids, days
