"""Churn-model features: plug-ins that describe each customer as of a day, with no leakage.

A ``Feature`` has a name, a label, a kind ("numeric" or "categorical") and a vectorised
``compute(customer_ids, as_of) -> {customer_id: value}`` (or a ``pandas.Series`` indexed by
customer id: the fast path the built-in features take) that reads only what happened
before ``as_of`` 00:00 UTC (the same rule as the health measures), in a fixed number of
queries whatever the number of customers. ``explain(now, before)`` says one feature's change
in plain words for the per-customer drivers ("active days fell from 21 to 4").

Apps register their features from ``AppConfig.ready()`` (surveys and support add theirs
later); ``tend.predict.training`` builds the feature frame from every registered feature.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.functional import Promise

from tend.lib.registry import Registry

Value = float | str | None


@dataclass(frozen=True)
class Feature:
    name: str
    label: str | Promise
    kind: str  # "numeric" | "categorical"
    compute: Callable[[Sequence[int], date], dict[int, Value]]
    explain: Callable[[Any, Any], str] | None = None  # (value now, value before) → words
    group: str = "usage"  # usage | billing | relationship | traits | … (for the model page)


features: Registry[Feature] = Registry("churn-model feature")


def register_builtin() -> None:
    """Register the features built from Tend's own data (rollups, billing, customers).

    Called once from ``PredictConfig.ready()``; a second call changes nothing."""
    from tend.predict.features_builtin import builtin_features

    for feature in builtin_features():
        if feature.name not in features:
            features.register(feature)
