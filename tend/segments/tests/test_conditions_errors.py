"""Bad conditions are refused with an error naming the path and the field, never a crash."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tend.segments.conditions import (
    MAX_DEPTH,
    ConditionError,
    condition_catalog,
    condition_parse,
    customers_matching,
)
from tend.segments.models import Segment

pytestmark = pytest.mark.django_db


def leaf(**kw: Any) -> dict[str, Any]:
    return {"field": "mrr", "op": "gt", "value": 1, **kw}


def nest(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = leaf()
    for _ in range(depth - 1):
        node = {"all": [node]}
    return node


BAD: list[tuple[Any, str, str, str]] = [
    # (raw, path, field, words in the message)
    ("mrr > 5", "", "", "is an object"),
    ([], "", "", "is an object"),
    (None, "", "", "is an object"),
    ({}, "", "", "needs “field”"),
    ({"all": {}}, "all", "", "takes a list"),
    ({"any": []}, "any", "", "at least one"),
    ({"all": [], "any": []}, "", "", "cannot stand next to"),
    ({"not": leaf(), "x": 1}, "", "", "cannot stand next to"),
    (
        {"all": [leaf(), {"any": [leaf(), {"field": "nope", "op": "eq", "value": 1}]}]},
        "all[1].any[1].field",
        "nope",
        "Unknown field",
    ),
    ({"not": {"field": 5, "op": "eq", "value": 1}}, "not.field", "", "name of a field"),
    ({"field": "", "op": "eq", "value": 1}, "field", "", "name of a field"),
    (leaf(extra=1), "", "mrr", "Unknown key “extra”"),
    (leaf(op="contains", value="x"), "op", "mrr", "does not apply to a number field"),
    (leaf(op="like"), "op", "mrr", "Unknown operator"),
    ({"field": "mrr", "value": 1}, "op", "mrr", "is required"),
    (leaf(op=None), "op", "mrr", "is required"),
    ({"field": "mrr", "op": "gt"}, "value", "mrr", "value is required"),
    (leaf(op="is_empty"), "value", "mrr", "takes no value"),
    (leaf(value="5"), "value", "mrr", "Give a number"),
    (leaf(value=True), "value", "mrr", "Give a number"),
    (leaf(value=math.nan), "value", "mrr", "finite"),
    (leaf(value=math.inf), "value", "mrr", "finite"),
    (leaf(value=10**16), "value", "mrr", "at most"),
    (leaf(value=[1, 2]), "value", "mrr", "Give a number"),
    (leaf(op="between", value=[5]), "value", "mrr", "two values"),
    (leaf(op="between", value=[5, 1]), "value", "mrr", "must not be after"),
    (leaf(op="between", value=[1, "x"]), "value[1]", "mrr", "Give a number"),
    ({"field": "name", "op": "eq", "value": ""}, "value", "name", "is_empty"),
    ({"field": "name", "op": "eq", "value": "x" * 501}, "value", "name", "500"),
    ({"field": "name", "op": "eq", "value": "a\x00b"}, "value", "name", "NUL"),
    ({"field": "name", "op": "eq", "value": "a\ud800b"}, "value", "name", "NUL"),
    ({"field": "name", "op": "eq", "value": 5}, "value", "name", "Give text"),
    ({"field": "name", "op": "in", "value": []}, "value", "name", "at least one"),
    ({"field": "name", "op": "in", "value": "abc"}, "value", "name", "at least one"),
    ({"field": "name", "op": "in", "value": ["a"] * 1001}, "value", "name", "1000"),
    ({"field": "name", "op": "in", "value": ["a", 3]}, "value[1]", "name", "Give text"),
    ({"field": "name", "op": "not_in", "value": ["a"]}, "op", "name", "does not apply"),
    ({"field": "stage", "op": "eq", "value": "nirvana"}, "value", "stage", "not a value"),
    ({"field": "country", "op": "eq", "value": "UK"}, "value", "country", "not a value"),
    (
        {"field": "health_colour", "op": "in", "value": ["red", "pink"]},
        "value[1]",
        "health_colour",
        "not a value",
    ),
    ({"field": "plan", "op": "eq", "value": "pro"}, "value", "plan", "an id"),
    ({"field": "plan", "op": "eq", "value": 0}, "value", "plan", "an id"),
    ({"field": "owner", "op": "eq", "value": True}, "value", "owner", "an id"),
    (
        {"field": "signed_up", "op": "before", "value": "2026-02-30"},
        "value",
        "signed_up",
        "YYYY-MM-DD",
    ),
    (
        {"field": "signed_up", "op": "before", "value": "2026-2-3"},
        "value",
        "signed_up",
        "YYYY-MM-DD",
    ),
    (
        {"field": "signed_up", "op": "before", "value": "２０２６-01-01"},
        "value",
        "signed_up",
        "YYYY-MM-DD",
    ),
    ({"field": "signed_up", "op": "before", "value": 20260101}, "value", "signed_up", "YYYY-MM-DD"),
    (
        {"field": "signed_up", "op": "within_last", "value": -1},
        "value",
        "signed_up",
        "whole number",
    ),
    (
        {"field": "signed_up", "op": "within_last", "value": 7.0},
        "value",
        "signed_up",
        "whole number",
    ),
    ({"field": "signed_up", "op": "within_last", "value": 36501}, "value", "signed_up", "36500"),
    (
        {"field": "signed_up", "op": "between", "value": ["2026-02-01", "2026-01-01"]},
        "value",
        "signed_up",
        "after",
    ),
    (
        {"field": "signed_up", "op": "gt", "value": "2026-01-01"},
        "op",
        "signed_up",
        "does not apply",
    ),
    ({"field": "tags", "op": "has", "value": ["vip"]}, "value", "tags", "Give text"),
    ({"field": "tags", "op": "eq", "value": "vip"}, "op", "tags", "does not apply"),
    (
        {"field": "has_active_subscription", "op": "is_true", "value": True},
        "value",
        "has_active_subscription",
        "takes no value",
    ),
    (
        {"field": "has_active_subscription", "op": "is_empty"},
        "op",
        "has_active_subscription",
        "does not apply",
    ),
    ({"field": "mrr", "type": "text", "op": "gt", "value": 1}, "type", "mrr", "number field"),
    ({"field": "trait:seats", "op": "gt", "value": 1}, "type", "trait:seats", "needs “type”"),
    (
        {"field": "trait:seats", "type": "tags", "op": "has", "value": "x"},
        "type",
        "trait:seats",
        "needs “type”",
    ),
    (
        {"field": "trait:", "type": "number", "op": "gt", "value": 1},
        "field",
        "trait:",
        "needs a name",
    ),
    (
        {"field": "trait:  ", "type": "number", "op": "gt", "value": 1},
        "field",
        "trait:  ",
        "needs a name",
    ),
    (
        {"field": "trait:" + "k" * 257, "type": "number", "op": "gt", "value": 1},
        "field",
        "trait:" + "k" * 74 + "…",
        "256",
    ),
    ({"field": "trait:a\x00", "type": "number", "op": "gt", "value": 1}, "field", "trait:a", "NUL"),
    (
        {"field": "trait:seats", "type": "number", "op": "contains", "value": "1"},
        "op",
        "trait:seats",
        "does not apply",
    ),
    ({"field": "segment", "op": "eq", "value": 999999}, "value", "segment", "no segment"),
    ({"field": "segment", "op": "is_empty"}, "op", "segment", "use one of: eq, ne, in, not_in"),
    (
        nest(MAX_DEPTH + 1),
        "all[0].all[0].all[0].all[0].all[0].all[0].all[0].all[0]",
        "",
        "8 levels",
    ),
    ({"all": [leaf()] * 201}, "all[200]", "", "200 fields"),
    ({"all": [{"all": []}] * 401}, "all", "", "400 parts"),
]


@pytest.mark.parametrize(
    ("raw", "path", "field", "words"), BAD, ids=[str(i) for i in range(len(BAD))]
)
def test_bad_condition_names_path_and_field(raw: Any, path: str, field: str, words: str) -> None:
    with pytest.raises(ConditionError) as caught:
        condition_parse(raw)
    error = caught.value
    assert (error.path, error.field) == (path, field), error.text()
    assert words in error.message, error.message
    text = error.text()
    assert "\n" not in text
    assert (path or "the top") in text
    if field:
        assert field[:20] in text
    # The raw form is refused the same way where a QuerySet is asked for.
    with pytest.raises(ConditionError):
        customers_matching(raw)


def test_deepest_allowed_and_biggest_allowed_conditions_parse() -> None:
    condition_parse(nest(MAX_DEPTH))
    condition_parse({"all": [leaf()] * 200})
    condition_parse({"field": "name", "op": "in", "value": [str(i) for i in range(1000)]})
    condition_parse({"field": "trait:" + "k" * 256, "type": "number", "op": "gt", "value": 1})


def test_hugely_deep_json_is_refused_without_recursing_through_it() -> None:
    node: Any = leaf()
    for _ in range(50_000):
        node = {"not": node}
    with pytest.raises(ConditionError) as caught:
        condition_parse(node)
    assert "8 levels" in caught.value.message


def test_a_segment_cannot_name_itself_or_a_circle() -> None:
    a = Segment.objects.create(name="A", condition={"all": []})
    b = Segment.objects.create(name="B", condition={"field": "segment", "op": "eq", "value": a.pk})
    # Editing A to point at B (which points at A) is a circle.
    with pytest.raises(ConditionError) as caught:
        condition_parse({"field": "segment", "op": "eq", "value": b.pk}, segment_id=a.pk)
    assert caught.value.field == "segment" and "circle" in caught.value.message
    with pytest.raises(ConditionError):
        condition_parse({"field": "segment", "op": "in", "value": [a.pk]}, segment_id=a.pk)
    # A circle already stored (written around the checks) is refused, not recursed forever.
    Segment.objects.filter(pk=a.pk).update(
        condition={"field": "segment", "op": "eq", "value": b.pk}
    )
    with pytest.raises(ConditionError) as caught:
        condition_parse({"field": "segment", "op": "eq", "value": a.pk})
    assert "circle" in caught.value.message
    assert caught.value.path == "value"


def test_a_segment_with_a_broken_condition_is_named() -> None:
    broken = Segment.objects.create(name="Old", condition={"field": "gone", "op": "eq", "value": 1})
    with pytest.raises(ConditionError) as caught:
        condition_parse({"not": {"field": "segment", "op": "eq", "value": broken.pk}})
    assert caught.value.path == "not.value"
    assert "Old" in caught.value.message and "gone" in caught.value.message


def test_errors_come_in_the_readers_language() -> None:
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ConditionError) as caught:
        condition_parse({"field": "nope", "op": "eq", "value": 1})
    assert caught.value.field == "nope"


def test_catalog_lists_every_field_with_operators_and_choices() -> None:
    catalog = {entry["name"]: entry for entry in condition_catalog()}
    for name in (
        "name", "email", "industry", "kind", "stage", "plan", "owner", "channel", "country",
        "size", "mrr", "tags", "signed_up", "first_paid", "last_seen", "churned", "birthday",
        "next_renewal", "has_active_subscription", "last_touch", "last_expansion", "segment",
        "health_score", "health_colour", "health_colour_since", "trait:",
    ):  # fmt: skip
        assert name in catalog, name
    stage = catalog["stage"]
    assert stage["type"] == "choice"
    assert {"value": "trial", "label": "Trial"} in stage["choices"]
    assert [o["name"] for o in stage["operators"]] == [
        "eq",
        "ne",
        "in",
        "not_in",
        "is_empty",
        "is_not_empty",
    ]
    assert catalog["mrr"]["operators"][6] == {
        "name": "between",
        "label": "is between",
        "value": "number_range",
    }
    assert catalog["signed_up"]["operators"][3]["value"] == "days"
    assert set(catalog["trait:"]["types"]) == {"number", "text", "bool", "date"}
    assert catalog["next_renewal"]["description"]


def test_as_json_round_trips() -> None:
    raw = {
        "all": [
            {"field": "name", "op": "in", "value": ["a", "b", "a"]},
            {"not": {"field": "trait:x", "type": "bool", "op": "is_true"}},
            {"any": [{"field": "mrr", "op": "between", "value": [1, 2.5]}]},
        ]
    }
    clean = condition_parse(raw).as_json()
    assert clean["all"][0]["value"] == ["a", "b"]
    assert condition_parse(clean).as_json() == clean


def test_any_json_is_either_a_condition_that_runs_or_a_condition_error() -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tend.segments.fields import OPERATORS

    names = st.sampled_from(
        ["mrr", "size", "name", "stage", "plan", "tags", "signed_up", "segment", "trait:x",
         "has_active_subscription", "next_renewal", "health_score", "nope", ""]
    )  # fmt: skip
    ops = st.sampled_from([*sorted({op for ops in OPERATORS.values() for op in ops}), "x"])
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**20), 10**20),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=8),
        st.sampled_from(["2026-01-01", "2026-02-30", "trial", "vip", "a\x00", "b\ud800"]),
    )
    values = st.one_of(scalars, st.lists(scalars, max_size=3))
    leaves = st.fixed_dictionaries(
        {"field": names, "op": ops},
        optional={"value": values, "type": st.sampled_from(["number", "text", "bool", "date", 1])},
    )
    trees = st.recursive(
        st.one_of(leaves, scalars),
        lambda kids: st.one_of(
            st.lists(kids, max_size=3).map(lambda xs: {"all": xs}),
            st.lists(kids, max_size=3).map(lambda xs: {"any": xs}),
            kids.map(lambda k: {"not": k}),
            st.dictionaries(st.sampled_from(["all", "any", "not", "field", "x"]), kids, max_size=2),
        ),
        max_leaves=6,
    )

    @settings(
        max_examples=200,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(trees)
    def parse_or_refuse(raw: Any) -> None:
        try:
            cond = condition_parse(raw)
        except ConditionError as error:
            assert error.text()
            return
        list(customers_matching(cond))

    parse_or_refuse()
