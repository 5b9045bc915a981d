"""The built-in features of a customer with a known past, and the words that explain them."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.utils import translation

from tend.predict import training
from tend.predict.features import features
from tend.predict.tests.features_world import AT, world


def test_the_builtin_features_are_registered_with_words() -> None:
    names = features.names()
    for name in (
        "events_30d",
        "active_days_30d",
        "events_trend_30d",
        "days_since_last_activity",
        "breadth_30d",
        "tenure_days",
        "mrr",
        "plan",
        "expansions_90d",
        "payment_failures_90d",
        "stage",
        "touches_90d",
        "industry",
        "size",
        "channel",
        "country",
    ):
        assert name in names
    for feature in features:
        assert feature.kind in {"numeric", "categorical"}
        assert feature.explain is not None
        assert str(feature.label)


def test_explain_says_what_changed_in_plain_words() -> None:
    active_days = features.get("active_days_30d")
    assert active_days.explain is not None
    assert active_days.explain(4.0, 21.0) == "active days in the last 30 days fell from 21 to 4"
    assert active_days.explain(4.0, None) == "active days in the last 30 days: 4"
    assert active_days.explain(float("nan"), 3.0) == "active days in the last 30 days: no data"
    since = features.get("days_since_last_activity")
    assert since.explain is not None
    assert since.explain(1.0, 30.0) == "days since the last activity fell from 30 days to 1 day"
    stage = features.get("stage")
    assert stage.explain is not None
    # Stages read as their labels, never as codes ("at_risk").
    assert stage.explain("at_risk", "adopting") == (
        "lifecycle stage changed from Adopting to At risk"
    )
    with translation.override("zh-hans"):
        assert active_days.explain(4.0, 21.0)  # translatable, never a crash
        assert "at_risk" not in stage.explain("at_risk", "adopting")


@pytest.mark.django_db
def test_the_features_of_a_customer_with_a_known_past() -> None:
    w = world()
    active, quiet = w["active"][0], w["quiet"][0]
    frame = training.feature_frame(at=AT)
    assert list(frame.index) == [active.pk, quiet.pk]
    a = frame.loc[active.pk]
    # Usage on days 1,2,3,5,8,13,21,34,55,70 before AT (count offset % 4 + 1), plus 2 exports
    # on day 4; a failed payment on day 10 is not usage.
    assert a["events_7d"] == 2 + 3 + 4 + 2 + 2  # days 1, 2, 3, 5 and the exports on day 4
    assert a["active_days_7d"] == 5
    assert a["active_days_30d"] == 8
    assert a["active_days_90d"] == 11
    assert a["breadth_30d"] == 2
    assert a["days_since_last_activity"] == 1
    assert a["payment_failures_90d"] == 1
    assert a["events_per_active_day_30d"] == a["events_30d"] / 8
    assert a["mrr"] == 79.0  # expanded from 49 twenty days before
    assert a["expansions_90d"] == 1
    assert a["contractions_90d"] == 0
    assert a["plan"] == "p49"
    assert a["stage"] == "adopting"
    assert a["days_in_stage"] == 39
    assert a["touches_90d"] == 1
    assert a["days_since_last_touch"] == 14
    assert a["tenure_days"] == (AT - w["active"][1].started_at.date()).days - 1
    assert a["days_since_signup"] == (AT - active.signed_up_at.date()).days - 1
    assert a["industry"] == "software"
    assert a["size"] == 12
    assert a["trait:seats"] == 5.0
    assert a["trait:tier"] == "gold"
    assert "trait:churn_reason" not in frame.columns  # looks like the outcome
    q = frame.loc[quiet.pk]
    assert math.isnan(q["events_30d"])  # never used the product: no data, not zero
    assert math.isnan(q["days_since_last_activity"])
    assert q["trait:seats"] == 7.0  # numeric text
    assert q["mrr"] == 99.0
    assert q["stage"] == "prospect"
    assert isinstance(q["channel"], float) and math.isnan(q["channel"])


@pytest.mark.django_db
def test_the_frame_keeps_its_column_types_and_order() -> None:
    world()
    frame = training.feature_frame(at=AT - timedelta(days=31))
    kinds = training.feature_kinds()
    assert list(frame.columns) == list(kinds)
    assert list(frame.columns)[: len(features)] == features.names()
    for name, kind in kinds.items():
        assert (frame[name].dtype == "float64") == (kind == "numeric"), name


@pytest.mark.django_db
def test_a_frame_of_nobody_is_empty_with_every_column() -> None:
    frame = training.feature_frame(at=AT, customer_ids=[])
    assert frame.empty
    assert list(frame.columns) == list(training.feature_kinds())
