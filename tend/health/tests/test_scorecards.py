"""Scorecard validation: every bad input is an error naming the field, and nothing is saved
half-way; the default scorecard is seeded and cannot be deleted."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tend.health.models import Scorecard, ScorecardMeasure
from tend.health.scorecards import (
    DEFAULT_SCORECARD,
    ScorecardError,
    scorecard_delete,
    scorecard_save,
)

pytestmark = pytest.mark.django_db


def good(**over: Any) -> dict[str, Any]:
    raw = copy.deepcopy(DEFAULT_SCORECARD)
    raw.update(name="Big accounts", condition=None, segment=None)
    raw.update(over)
    return raw


def segment() -> int:
    from tend.segments.models import Segment

    return Segment.objects.create(
        name=f"Enterprise {Segment.objects.count()}", condition={"all": []}
    ).pk


def test_default_scorecard_is_seeded_and_valid() -> None:
    card = Scorecard.objects.get(is_default=True)
    assert card.name == "Default"
    assert [m.measure for m in card.measures.all()] == [
        m["measure"] for m in DEFAULT_SCORECARD["measures"]
    ]
    # It passes its own validation unchanged.
    scorecard_save({**copy.deepcopy(DEFAULT_SCORECARD)}, instance=card)
    with pytest.raises(ScorecardError):
        scorecard_delete(card)


def test_a_segment_scorecard_is_created_and_replaced() -> None:
    card = scorecard_save(good(segment=segment(), position=1))
    assert card.measures.count() == len(DEFAULT_SCORECARD["measures"])
    raw = good(
        segment=card.segment_id,
        measures=[{"measure": "breadth", "weight": 1, "mapping": "percentile"}],
    )
    scorecard_save(raw, instance=card)
    assert [m.measure for m in card.measures.all()] == ["breadth"]
    line = card.measures.get()
    assert line.params == {"days": 30} and line.direction == "higher"


def bad_cases() -> list[tuple[dict[str, Any], str]]:
    line = {"measure": "active_days", "weight": 1, "thresholds": [[1, 10], [5, 50]]}
    return [
        ({"measures": [{**line, "weight": 0}, {**line, "weight": 0}]}, "measures.weight"),
        ({"measures": [{**line, "weight": -1}]}, "measures[0].weight"),
        ({"measures": [{**line, "weight": float("nan")}]}, "measures[0].weight"),
        ({"measures": [{**line, "weight": "x"}]}, "measures[0].weight"),
        ({"measures": [{**line, "measure": "nope"}]}, "measures[0].measure"),
        ({"measures": [{**line, "params": {"days": 0}}]}, "measures[0].params.days"),
        (
            {"measures": [{**line, "thresholds": [[5, 10], [1, 50]]}]},
            "measures[0].thresholds[1].value",
        ),
        (
            {"measures": [{**line, "thresholds": [[1, 50], [5, 10]]}]},
            "measures[0].thresholds[1].points",
        ),
        (
            {"measures": [{**line, "direction": "lower", "thresholds": [[1, 10], [5, 50]]}]},
            "measures[0].thresholds[1].points",
        ),
        ({"measures": [{**line, "thresholds": [[1, 101]]}]}, "measures[0].thresholds[0].points"),
        ({"measures": [{**line, "thresholds": []}]}, "measures[0].thresholds"),
        ({"measures": [{**line, "thresholds": "1:2"}]}, "measures[0].thresholds"),
        ({"measures": [{**line, "mapping": "magic"}]}, "measures[0].mapping"),
        ({"measures": [{**line, "direction": "up"}]}, "measures[0].direction"),
        ({"measures": []}, "measures"),
        ({"measures": [line] * 21}, "measures"),
        ({"measures": "x"}, "measures"),
        ({"name": ""}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"name": "\ud800"}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": 5}, "name"),
        ({"red_below": 80, "green_from": 70}, "green_from"),
        ({"red_below": 101}, "red_below"),
        ({"green_from": "NaN"}, "green_from"),
        ({"segment": None}, "condition"),  # a non-default scorecard must say whom it is for
        ({"segment": 999999}, "segment"),
        ({"segment": "x"}, "segment"),
    ]


@pytest.mark.parametrize(("over", "field"), bad_cases())
def test_bad_input_names_the_field_and_saves_nothing(over: dict[str, Any], field: str) -> None:
    seg = segment()
    raw = good(segment=seg)
    raw.update(over)
    before = (Scorecard.objects.count(), ScorecardMeasure.objects.count())
    with pytest.raises(ScorecardError) as exc:
        scorecard_save(raw)
    assert exc.value.field == field, exc.value
    assert (Scorecard.objects.count(), ScorecardMeasure.objects.count()) == before


def test_a_failed_replace_keeps_the_old_measures() -> None:
    card = Scorecard.objects.get(is_default=True)
    lines = list(card.measures.values_list("measure", "weight"))
    raw = copy.deepcopy(DEFAULT_SCORECARD)
    raw["measures"][2]["weight"] = -5
    with pytest.raises(ScorecardError):
        scorecard_save(raw, instance=card)
    assert list(card.measures.values_list("measure", "weight")) == lines


def test_the_default_takes_no_condition_and_names_are_unique() -> None:
    card = Scorecard.objects.get(is_default=True)
    with pytest.raises(ScorecardError) as exc:
        scorecard_save({**copy.deepcopy(DEFAULT_SCORECARD), "segment": segment()}, instance=card)
    assert exc.value.field == "condition"
    with pytest.raises(ScorecardError) as exc:
        scorecard_save(good(name="Default", segment=segment()))
    assert exc.value.field == "name"


def test_a_huge_deep_condition_is_refused_not_a_crash() -> None:
    deep: Any = {"field": "mrr", "op": "gt", "value": 1}
    for _ in range(200):
        deep = {"not": deep}
    with pytest.raises(ScorecardError) as exc:
        scorecard_save(good(condition=deep))
    assert exc.value.field.startswith("condition")
