"""Storing churn models safely: no pickle anywhere.

- The logistic model is plain numbers: JSON (coefficients, intercept, scaler means and
  scales, category levels, medians, calibration), read back by ``LinearChurn.from_json``.
- The boosted model's trees go through ``skops`` (a zip of JSON and numpy arrays whose loader
  builds only the types it is told to trust): ``skops.io.loads(data, trusted=TRUSTED)`` with
  the short explicit list below. Before loading, the artifact's types are listed with
  ``get_untrusted_types`` and anything outside that list is refused with ``UnsafeArtifact``
  — so a tampered row or a crafted backup cannot make ``tend`` import or call anything else.
  Its layout (features, medians, levels) and calibration are JSON in
  ``ChurnModel.preprocessing``, not in the artifact.
"""

from __future__ import annotations

import json
from typing import Any

from tend.predict.churn import BOOSTING, LOGISTIC, BoostedChurn, Calibration, Layout, LinearChurn

FORMAT_LINEAR = "json-linear"
FORMAT_SKOPS = "skops"

# The types a HistGradientBoostingClassifier needs beyond skops's defaults (scikit-learn
# estimators and numpy): its tree predictors, and the reference to ``check_array`` that
# scikit-learn keeps in a functools.partial. A reference is rebuilt, never called, on load.
TRUSTED = [
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
    "functools.partial",
]


class UnsafeArtifact(ValueError):
    """A stored model holds a type Tend does not trust; it was not loaded."""


def preprocessing(model: LinearChurn | BoostedChurn) -> dict[str, Any]:
    """What ``ChurnModel.preprocessing`` stores for either kind (the scorer needs it)."""
    data = {
        "kind": model.kind,
        **model.layout.as_json(),
        "calibration": model.calibration.as_json(),
    }
    if isinstance(model, LinearChurn):
        data["linear"] = {
            "columns": model.columns,
            "coef": model.coef,
            "intercept": model.intercept,
            "means": model.means,
            "scales": model.scales,
        }
    return data


def dumps(model: LinearChurn | BoostedChurn) -> tuple[str, bytes]:
    """(artifact_format, artifact bytes) for a fitted model."""
    if isinstance(model, LinearChurn):
        return FORMAT_LINEAR, json.dumps(model.as_json(), allow_nan=False).encode()
    import skops.io

    return FORMAT_SKOPS, bytes(skops.io.dumps(model.estimator))


def loads(
    artifact_format: str, artifact: bytes | memoryview, preprocessing: dict[str, Any]
) -> LinearChurn | BoostedChurn:
    """The stored model, ready to predict; ``UnsafeArtifact`` for anything untrusted."""
    data = bytes(artifact)
    if artifact_format == FORMAT_LINEAR:
        try:
            return LinearChurn.from_json(json.loads(data.decode()))
        except (UnicodeDecodeError, KeyError, TypeError, ValueError) as exc:
            raise UnsafeArtifact(f"not a linear churn model: {exc}") from exc
    if artifact_format == FORMAT_SKOPS:
        import skops.io

        try:
            found = skops.io.get_untrusted_types(data=data)
        except Exception as exc:  # a broken zip, a schema skops does not know
            raise UnsafeArtifact(f"unreadable model artifact: {exc}") from exc
        untrusted = sorted(set(found) - set(TRUSTED))
        if untrusted:
            raise UnsafeArtifact("model artifact holds untrusted types: " + ", ".join(untrusted))
        estimator = skops.io.loads(data, trusted=TRUSTED)
        if type(estimator).__name__ != "HistGradientBoostingClassifier":
            raise UnsafeArtifact(f"not a boosted churn model: {type(estimator).__name__}")
        model = BoostedChurn(Layout.from_json(preprocessing), estimator)
        model.calibration = Calibration.from_json(preprocessing["calibration"])
        return model
    raise UnsafeArtifact(f"unknown model format {artifact_format!r}")


def kind_of(artifact_format: str) -> str:
    return LOGISTIC if artifact_format == FORMAT_LINEAR else BOOSTING
