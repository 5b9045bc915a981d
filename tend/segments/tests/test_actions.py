"""Segment actions: validation names the field (and the condition's path), nothing is saved
half-way, names are unique in any case, a segment cannot contain itself, deleting one that
another uses is refused, every write is audited, and a new rule's members are there at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from tend.accounts.models import AuditEntry, User
from tend.changes.models import CustomerChange
from tend.segments.actions import segment_create, segment_delete, segment_update
from tend.segments.models import Segment, SegmentChange, SegmentMember
from tend.segments.tests.segment_helpers import BIG, customers

pytestmark = pytest.mark.django_db


def refused(**kwargs: Any) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        segment_create(by=None, **{"name": "Big", "condition": BIG, **kwargs})
    return caught.value


def test_a_new_segment_has_its_members_history_and_audit_row_at_once(owner: User) -> None:
    _small, big, bigger = customers(5, 100, 400)

    segment = segment_create(by=owner, name="  Big   accounts ", condition=BIG, description="x")

    assert segment.name == "Big accounts"
    assert segment.member_count == 2
    assert segment.refreshed_on is not None
    assert set(segment.members.values_list("customer_id", flat=True)) == {big.pk, bigger.pk}
    assert SegmentChange.objects.filter(segment=segment, entered=True).count() == 2
    assert CustomerChange.objects.filter(kind="segment").count() == 2
    entry = AuditEntry.objects.get(action="segment.create")
    assert entry.actor == owner
    assert entry.object_id == str(segment.pk)
    assert entry.changes["condition"] == BIG


@pytest.mark.parametrize(
    ("condition", "path"),
    [
        ({"field": "shoe_size", "op": "eq", "value": 1}, ""),
        ({"all": [BIG, {"field": "mrr", "op": "contains", "value": "1"}]}, "all[1].op"),
        ({"any": [BIG, {"all": [{"field": "mrr", "op": "gt", "value": "many"}]}]}, "any[1].all[0]"),
        ({"any": []}, "any"),
        ("size > 100", ""),
        ({"all": [{"field": "name", "op": "eq", "value": "a\x00b"}]}, "all[0].value"),
    ],
)
def test_a_bad_condition_is_refused_naming_its_path_and_nothing_is_saved(
    condition: Any, path: str
) -> None:
    customers(100)

    error = refused(condition=condition)

    assert list(error.message_dict) == ["condition"]
    [detail] = error.error_dict["condition"]
    assert detail.params is not None
    assert str(detail.params["path"]).startswith(path)
    if path:
        assert path in error.message_dict["condition"][0]
    assert not Segment.objects.exists()
    assert not SegmentMember.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="segment.").exists()
    assert not CustomerChange.objects.filter(kind="segment").exists()


def test_every_field_at_fault_is_named_at_once() -> None:
    error = refused(name="", description=7, condition={"field": "nope", "op": "eq", "value": 1})
    assert set(error.message_dict) == {"name", "description", "condition"}


@pytest.mark.parametrize(
    "name", ["   ", "x" * 121, "bad\x00name", "lone \ud800 surrogate", 42, None]
)
def test_bad_names_are_refused(name: Any) -> None:
    assert list(refused(name=name).message_dict) == ["name"]
    assert not Segment.objects.exists()


def test_names_are_unique_whatever_their_case() -> None:
    segment_create(by=None, name="Big", condition=BIG)
    error = refused(name="BIG")
    assert error.error_dict["name"][0].code == "unique"
    assert Segment.objects.count() == 1


def test_deep_and_huge_conditions_are_refused_not_crashed() -> None:
    deep: dict[str, Any] = BIG
    for _ in range(2_000):
        deep = {"not": deep}
    assert list(refused(condition=deep).message_dict) == ["condition"]
    wide = {"any": [BIG] * 5_000}
    assert list(refused(condition=wide).message_dict) == ["condition"]
    nan = {"field": "size", "op": "gt", "value": float("nan")}
    assert list(refused(condition=nan).message_dict) == ["condition"]
    assert not Segment.objects.exists()


def test_an_update_changes_members_and_audits_only_real_changes(member: User) -> None:
    small, _big = customers(5, 100)
    segment = segment_create(by=member, name="Big", condition=BIG)

    segment_update(segment=segment, by=member, name="Big", description="")
    assert not AuditEntry.objects.filter(action="segment.update").exists()

    segment_update(
        segment=segment, by=member, condition={"field": "size", "op": "lt", "value": 100}
    )
    segment.refresh_from_db()
    assert set(segment.members.values_list("customer_id", flat=True)) == {small.pk}
    assert segment.member_count == 1
    entry = AuditEntry.objects.get(action="segment.update")
    assert list(entry.changes) == ["condition"]
    # Entering and leaving on the same day as the create: net history of the day.
    assert set(SegmentChange.objects.values_list("customer_id", "entered")) == {(small.pk, True)}


def test_a_failed_update_changes_nothing() -> None:
    segment = segment_create(by=None, name="Big", condition=BIG)
    segment_create(by=None, name="Other", condition=BIG)
    with pytest.raises(ValidationError) as caught:
        segment_update(segment=segment, by=None, name="other", condition={"field": "x", "op": "eq"})
    assert set(caught.value.message_dict) == {"name", "condition"}
    segment.refresh_from_db()
    assert (segment.name, segment.condition) == ("Big", BIG)


def test_a_segment_cannot_contain_itself_directly_or_through_another() -> None:
    a = segment_create(by=None, name="A", condition=BIG)
    b = segment_create(by=None, name="B", condition={"field": "segment", "op": "eq", "value": a.pk})
    with pytest.raises(ValidationError) as caught:
        segment_update(
            segment=a,
            by=None,
            condition={"all": [BIG, {"field": "segment", "op": "in", "value": [b.pk]}]},
        )
    [detail] = caught.value.error_dict["condition"]
    assert detail.params is not None and str(detail.params["path"]).startswith("all[1]")
    a.refresh_from_db()
    assert a.condition == BIG


def test_a_segment_used_by_another_cannot_be_deleted(owner: User) -> None:
    a = segment_create(by=None, name="A", condition=BIG)
    b = segment_create(
        by=None, name="B", condition={"not": {"field": "segment", "op": "eq", "value": a.pk}}
    )
    with pytest.raises(ValidationError) as caught:
        segment_delete(segment=a, by=owner)
    assert "“B”" in caught.value.messages[0]
    assert Segment.objects.filter(pk=a.pk).exists()
    assert not AuditEntry.objects.filter(action="segment.delete").exists()

    segment_delete(segment=b, by=owner)
    segment_delete(segment=a, by=owner)
    assert not Segment.objects.exists()
    assert not SegmentMember.objects.exists() and not SegmentChange.objects.exists()
    assert AuditEntry.objects.filter(action="segment.delete").count() == 2


def test_an_unknown_field_to_update_is_a_programming_error() -> None:
    segment = segment_create(by=None, name="Big", condition=BIG)
    with pytest.raises(ValueError, match="member_count"):
        segment_update(segment=segment, by=None, member_count=3)
