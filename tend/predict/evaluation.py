"""How well a churn score would have done: AUC, top-decile lift, Brier score, a reliability
curve with counts and a cumulative lift (gains) curve, for any score (a model's calibrated
risk, or the baseline "days since last activity", which only needs to rank).

Every function takes the true labels ``y`` (0/1) and a score, and answers ``None`` where the
number means nothing (one class only, no rows) rather than raising: the model page shows "—".
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike


def _arrays(y: ArrayLike, score: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(y, dtype=float)
    scores = np.asarray(score, dtype=float)
    if labels.shape != scores.shape:
        raise ValueError(f"labels and scores differ in length: {labels.shape} vs {scores.shape}")
    return labels, scores


def auc(y: ArrayLike, score: ArrayLike) -> float | None:
    """Area under the ROC curve: the chance a churned row scores above a retained one (ties
    count half). Rank-based (Mann–Whitney), so any monotone score works. None with one class."""
    labels, scores = _arrays(y, score)
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    return float(
        (ranks[labels == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives)
    )


def lift_top_decile(y: ArrayLike, score: ArrayLike) -> float | None:
    """Churn rate among the 10% highest scores ÷ churn rate overall (1 = no better than random)."""
    labels, scores = _arrays(y, score)
    if len(labels) == 0 or labels.sum() == 0:
        return None
    top = max(1, math.ceil(len(labels) * 0.1))
    order = np.argsort(-scores, kind="stable")
    return float(labels[order[:top]].mean() / labels.mean())


def brier(y: ArrayLike, risk: ArrayLike) -> float | None:
    """Mean squared difference between predicted probability and what happened (0 is perfect).
    Only meaningful for probabilities: the baseline reports the base rate's Brier instead."""
    labels, risks = _arrays(y, risk)
    if len(labels) == 0:
        return None
    return float(np.mean((risks - labels) ** 2))


def reliability(y: ArrayLike, risk: ArrayLike, bins: int = 10) -> list[dict[str, float]]:
    """Reliability (calibration) curve: rows grouped by predicted risk into ``bins`` equal-width
    bins of [0, 1]; per non-empty bin the mean predicted risk, the observed churn rate and the
    number of rows (so the page can say how much to trust a point)."""
    labels, risks = _arrays(y, risk)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(risks, edges[1:-1], right=False), 0, bins - 1)
    curve = []
    for b in range(bins):
        mask = which == b
        count = int(mask.sum())
        if count:
            curve.append(
                {
                    "predicted": round(float(risks[mask].mean()), 4),
                    "observed": round(float(labels[mask].mean()), 4),
                    "count": count,
                }
            )
    return curve


def lift_curve(y: ArrayLike, score: ArrayLike, steps: int = 10) -> list[dict[str, float]]:
    """Cumulative gains by decile: contacting the top ``share`` of rows by score would reach
    ``captured`` of all churners; ``lift`` = captured ÷ share."""
    labels, scores = _arrays(y, score)
    total = labels.sum()
    if len(labels) == 0 or total == 0:
        return []
    order = np.argsort(-scores, kind="stable")
    cumulative = np.cumsum(labels[order])
    curve = []
    for step in range(1, steps + 1):
        share = step / steps
        top = max(1, math.ceil(len(labels) * share))
        captured = float(cumulative[top - 1] / total)
        curve.append(
            {
                "share": round(share, 2),
                "captured": round(captured, 4),
                "lift": round(captured / share, 4),
            }
        )
    return curve


def report(
    y: ArrayLike,
    score: ArrayLike,
    *,
    probabilities: bool = True,
    folds: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Every number the model page shows for one score on one set of test rows."""
    labels, scores = _arrays(y, score)
    positives = int(labels.sum())
    base_rate = float(labels.mean()) if len(labels) else 0.0
    result: dict[str, Any] = {
        "auc": _round(auc(labels, scores)),
        "lift_top_decile": _round(lift_top_decile(labels, scores)),
        "rows": len(labels),
        "positives": positives,
        "base_rate": round(base_rate, 4),
        "lift": lift_curve(labels, scores),
        "folds": folds or [],
    }
    if probabilities:
        result["brier"] = _round(brier(labels, scores))
        result["reliability"] = reliability(labels, scores)
    else:
        # A ranking, not a probability: its Brier is the base rate's (predicting the churn rate
        # for everyone), the honest "no model" reference for the models' Brier scores.
        result["brier"] = _round(base_rate * (1 - base_rate)) if len(labels) else None
        result["reliability"] = []
    return result


def _round(value: float | None, places: int = 4) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, places)
