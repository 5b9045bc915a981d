"""Stored churn models and scores with realistic numbers, for the pages, panel, API and CLI
tests (and the screenshots), in the shapes documented in tend/predict/models.py. The training
code is not run here: these rows are what it leaves behind."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from tend.predict.models import (
    ChurnModel,
    ChurnScore,
    ModelKind,
    TrainingMode,
    TrainingStatus,
)


def _reliability(bias: float) -> list[dict[str, Any]]:
    bands = [0.03, 0.08, 0.14, 0.22, 0.31, 0.42, 0.55, 0.68]
    return [
        {"predicted": p, "observed": round(min(1.0, p * (1 + bias) + 0.01), 3), "count": c}
        for p, c in zip(bands, [410, 260, 180, 120, 80, 55, 35, 20], strict=True)
    ]


def _lift(top: float) -> list[dict[str, Any]]:
    shares = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    # Lift decays from ``top`` at 10% to 1 at 100%.
    out = []
    for s in shares:
        lift = round(1 + (top - 1) * (1 - s) / 0.9, 2)
        out.append({"share": s, "captured": round(min(1.0, lift * s), 3), "lift": lift})
    return out


def metrics(
    auc: float = 0.81, lift: float = 3.4, brier: float = 0.071, base_auc: float = 0.66
) -> dict[str, Any]:
    return {
        "split": "time",
        "chosen": "boosting",
        "baseline_wins": auc <= base_auc,
        "baseline_name": "days_since_last_activity",
        "boosting": {
            "auc": auc,
            "lift_top_decile": lift,
            "brier": brier,
            "reliability": _reliability(0.05),
            "lift": _lift(lift),
        },
        "logistic": {
            "auc": auc - 0.03,
            "lift_top_decile": lift - 0.3,
            "brier": brier + 0.004,
            "reliability": _reliability(-0.08),
            "lift": _lift(lift - 0.3),
        },
        "baseline": {
            "auc": base_auc,
            "lift_top_decile": 1.9,
            "brier": 0.094,
            "reliability": _reliability(0.4),
            "lift": _lift(1.9),
        },
    }


IMPORTANCES = [
    {"feature": "days_since_last_activity", "importance": 0.214},
    {"feature": "active_days_30d", "importance": 0.171},
    {"feature": "active_days_change_30d", "importance": 0.122},
    {"feature": "events_per_active_day_30d", "importance": 0.081},
    {"feature": "payment_failures_90d", "importance": 0.064},
    {"feature": "mrr", "importance": 0.052},
    {"feature": "tenure_days", "importance": 0.041},
    {"feature": "breadth_30d", "importance": 0.033},
    {"feature": "plan", "importance": 0.018},
]


def make_churn_model(
    version: int | None = None, *, active: bool = True, kind: str = ModelKind.BOOSTING, **kw: Any
) -> ChurnModel:
    if version is None:
        version = (
            ChurnModel.objects.order_by("-version").values_list("version", flat=True).first() or 0
        ) + 1
    today = timezone.now().date()
    fields: dict[str, Any] = {
        "version": version,
        "mode": TrainingMode.HISTORY,
        "status": TrainingStatus.TRAINED,
        "kind": kind,
        "is_active": active,
        "horizon_days": 30,
        "train_start": today - timedelta(days=540),
        "train_end": today - timedelta(days=120),
        "test_start": today - timedelta(days=120),
        "test_end": today - timedelta(days=30),
        "rows": 14_280,
        "positives": 1_136,
        "customers": 1_190,
        "features": [f["feature"] for f in IMPORTANCES],
        "metrics": metrics(),
        "importances": IMPORTANCES,
        "seconds": 12.4,
        "trained_at": timezone.now() - timedelta(hours=3),
        "trained_by": "schedule",
    }
    fields.update(kw)
    if active:
        ChurnModel.objects.filter(is_active=True).update(is_active=False)
    return ChurnModel.objects.create(**fields)


def make_not_enough_data_model(
    version: int | None = None, have: int = 12, need: int = 20
) -> ChurnModel:
    if version is None:
        version = (
            ChurnModel.objects.order_by("-version").values_list("version", flat=True).first() or 0
        ) + 1
    return ChurnModel.objects.create(
        version=version,
        mode=TrainingMode.HISTORY,
        status=TrainingStatus.NOT_ENOUGH_DATA,
        message=f"not enough data to train: {have} churned, need {need}",
        message_params={"have": have, "need": need},
        rows=240,
        positives=have,
        customers=60,
        trained_by="cli",
    )


DRIVERS_UP = [
    {"feature": "active_days_30d", "effect": 0.11, "value": 4, "before": 21},
    {"feature": "days_since_last_activity", "effect": 0.07, "value": 12, "before": 1},
    {"feature": "payment_failures_90d", "effect": 0.03, "value": 1, "before": 0},
]
DRIVERS_DOWN = [
    {"feature": "tenure_days", "effect": -0.04, "value": 730, "before": 700},
    {"feature": "mrr", "effect": -0.02, "value": 490.0, "before": 490.0},
]


def make_score(
    customer: Any,
    *,
    model: ChurnModel,
    day: date | None = None,
    risk: float = 0.42,
    percentile: float = 0.95,
    drivers: list[dict[str, Any]] | None = None,
) -> ChurnScore:
    return ChurnScore.objects.create(
        customer=customer,
        model=model,
        day=day or timezone.now().date(),
        risk=risk,
        percentile=percentile,
        drivers=DRIVERS_UP + DRIVERS_DOWN if drivers is None else drivers,
    )


def make_history(
    customer: Any,
    *,
    model: ChurnModel,
    days: int = 90,
    start: float = 0.12,
    end: float = 0.42,
    percentile: float = 0.95,
    last: date | None = None,
) -> list[ChurnScore]:
    """A customer's daily scores over ``days`` days, rising from ``start`` to ``end``."""
    last = last or timezone.now().date()
    rng = random.Random(customer.pk)
    rows = []
    for i in range(days):
        t = i / max(days - 1, 1)
        risk = start + (end - start) * (t**2) + rng.uniform(-0.01, 0.01) * (0 < i < days - 1)
        rows.append(
            ChurnScore(
                customer=customer,
                model=model,
                day=last - timedelta(days=days - 1 - i),
                risk=round(min(max(risk, 0.0), 1.0), 4),
                percentile=percentile if i == days - 1 else round(0.5 + 0.45 * t, 3),
                drivers=DRIVERS_UP + DRIVERS_DOWN,
            )
        )
    return ChurnScore.objects.bulk_create(rows)


def make_day_of_scores(
    customers: list[Any], *, model: ChurnModel, day: date | None = None, seed: int = 7
) -> list[ChurnScore]:
    """One day's scores for many customers, risk skewed low like a real book (most stay)."""
    day = day or timezone.now().date()
    rng = random.Random(seed)
    risks = [min(0.97, math.exp(rng.gauss(-2.6, 0.9))) for _ in customers]
    order = sorted(range(len(risks)), key=lambda i: risks[i])
    ranks = {i: r for r, i in enumerate(order)}
    n = len(risks)
    return ChurnScore.objects.bulk_create(
        ChurnScore(
            customer=c,
            model=model,
            day=day,
            risk=round(risks[i], 4),
            percentile=round(ranks[i] / n, 4),
            drivers=DRIVERS_UP + DRIVERS_DOWN,
        )
        for i, c in enumerate(customers)
    )
