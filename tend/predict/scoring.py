"""Daily churn scores: every customer at risk on a day, scored by the active model, with the
features that raise and lower each one's risk (``ChurnScore.drivers``).

The pipeline step "churn" (tend/jobs/pipeline.py, after the rollups, before health) calls
``churn_pipeline_step``; it does nothing (``{"scored": 0}``) until a model has been trained
(``tend train`` or the weekly ``churn-train`` schedule).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from tend.predict import churn, serialise
from tend.predict.models import ChurnModel

log = logging.getLogger(__name__)

BEFORE_DAYS = 30  # drivers compare each feature with its value this many days earlier

_cache: dict[tuple[int, int], Any] = {}


def model_load(model: ChurnModel) -> churn.LinearChurn | churn.BoostedChurn:
    """The stored model, ready to predict (safely restored; cached per row and version)."""
    key = (model.pk, model.version)
    if key not in _cache:
        if model.artifact is None:
            raise serialise.UnsafeArtifact(f"churn model v{model.version} has no artifact")
        _cache.clear()
        _cache[key] = serialise.loads(
            model.artifact_format, model.artifact, model.preprocessing or {}
        )
    return _cache[key]


def _traits_of(model: ChurnModel) -> dict[str, str]:
    from tend.predict.training import TRAIT_PREFIX

    kinds = (model.preprocessing or {}).get("kinds", {})
    return {
        name.removeprefix(TRAIT_PREFIX): kinds.get(name, "numeric")
        for name in model.features
        if name.startswith(TRAIT_PREFIX)
    }


def churn_score_day(as_of: date, *, model: ChurnModel | None = None) -> dict[str, int]:
    """Score ``population(as_of)`` with ``model`` (default: the active one) and store the
    day's rows (replacing any from an earlier run the same day)."""
    from tend.predict.actions import churn_scores_write
    from tend.predict.training import feature_frame, population

    model = model or ChurnModel.objects.active()
    if model is None:
        return {"scored": 0}
    predictor = model_load(model)
    ids = population(as_of)
    if not ids:
        churn_scores_write(model=model, day=as_of, rows=[])
        return {"scored": 0}
    traits = _traits_of(model)
    X = feature_frame(at=as_of, customer_ids=ids, traits=traits)
    before = feature_frame(at=as_of - timedelta(days=BEFORE_DAYS), customer_ids=ids, traits=traits)
    risks = predictor.predict(X)
    explained = churn.drivers(predictor, X, before)
    written = churn_scores_write(
        model=model,
        day=as_of,
        rows=[
            (int(cid), float(risk), drivers)
            for cid, risk, drivers in zip(X.index, risks, explained, strict=True)
        ],
    )
    return {"scored": written}


def churn_pipeline_step(as_of: date) -> dict[str, int]:
    """The daily pipeline's "churn" step."""
    return churn_score_day(as_of)
