"""A stored model (JSON for the linear one, skops for the trees) predicts exactly as it did
before it was stored."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tend.predict import churn, serialise
from tend.predict.tests.churn_synthetic import KINDS, frame


@pytest.mark.parametrize("kind", churn.KINDS)
def test_a_stored_model_gives_identical_predictions(kind: str) -> None:
    X, y, _ids, days = frame(customers=30, seed=7)
    model = churn.fit_calibrated(kind, X, y, KINDS, days)
    fmt, artifact = serialise.dumps(model)
    preprocessing = json.loads(json.dumps(serialise.preprocessing(model)))
    restored = serialise.loads(fmt, memoryview(artifact), preprocessing)
    assert fmt == ("json-linear" if kind == "logistic" else "skops")
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert restored.layout.features == model.layout.features
