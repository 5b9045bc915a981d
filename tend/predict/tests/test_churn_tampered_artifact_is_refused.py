"""A stored model artifact holding a type Tend does not trust is refused before anything in
it is built or called."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import skops.io
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from tend.predict import churn, serialise
from tend.predict.tests.churn_synthetic import KINDS, frame


def test_an_artifact_with_an_untrusted_type_is_refused_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    evil = make_pipeline(FunctionTransformer(Path.touch, kw_args={"self": marker}))
    artifact = skops.io.dumps(evil)
    with pytest.raises(serialise.UnsafeArtifact, match="untrusted types"):
        serialise.loads("skops", artifact, {})
    assert not marker.exists()


def test_a_trusted_estimator_of_the_wrong_kind_is_refused() -> None:
    from sklearn.linear_model import LogisticRegression

    artifact = skops.io.dumps(LogisticRegression())
    with pytest.raises(serialise.UnsafeArtifact, match="not a boosted churn model"):
        serialise.loads("skops", artifact, {})


def test_garbage_and_unknown_formats_are_refused() -> None:
    with pytest.raises(serialise.UnsafeArtifact):
        serialise.loads("skops", b"PK\x03\x04 not a zip", {})
    with pytest.raises(serialise.UnsafeArtifact):
        serialise.loads("pickle", b"\x80\x04", {})
    with pytest.raises(serialise.UnsafeArtifact):
        serialise.loads("json-linear", b'{"format": "something else"}', {})


def test_a_linear_model_with_mismatched_lists_is_refused() -> None:
    X, y, _ids, days = frame(customers=30, seed=8)
    model = churn.fit_calibrated("logistic", X, y, KINDS, days)
    data = model.as_json()
    data["coef"] = data["coef"][:-1]
    with pytest.raises(serialise.UnsafeArtifact, match="differ in length"):
        serialise.loads("json-linear", json.dumps(data).encode(), {})
