"""Snooze hides an item until its day; handled keeps it off until a reason with a new key."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from tend.accounts.models import AuditEntry
from tend.today.actions import today_handle, today_snooze
from tend.today.engine import today_pipeline_step
from tend.today.models import State, TodayItem
from tend.today.tests.helpers import DAY, customer, findings

pytestmark = pytest.mark.django_db


def one(name: str = "Acme") -> tuple[int, TodayItem]:
    c = customer(name, mrr="500")
    with findings({"a": {c.pk: ("a:1", 0.5)}}):
        today_pipeline_step(DAY)
    return c.pk, TodayItem.objects.get(customer_id=c.pk)


def test_a_snoozed_item_is_hidden_until_its_day_and_then_comes_back(owner) -> None:
    cid, item = one()
    today_snooze(item=item, days=3, by=owner)
    item.refresh_from_db()
    assert item.state == State.SNOOZED and item.snoozed_until == DAY + timedelta(days=3)
    assert item.snoozed_by == owner
    assert AuditEntry.objects.filter(action="today.snooze", actor=owner).count() == 1
    for offset in (0, 1, 2):
        assert not TodayItem.objects.showing(on=DAY + timedelta(days=offset)).exists()
    # On its day it shows even before the daily run …
    assert TodayItem.objects.showing(on=DAY + timedelta(days=3)).get() == item
    # … and the run on that day opens it again.
    with findings({"a": {cid: ("a:1", 0.5)}}):
        today_pipeline_step(DAY + timedelta(days=2))
        item.refresh_from_db()
        assert item.state == State.SNOOZED
        today_pipeline_step(DAY + timedelta(days=3))
    item.refresh_from_db()
    assert item.state == State.OPEN and item.snoozed_until is None


def test_a_snoozed_item_stays_snoozed_when_a_new_reason_appears(owner) -> None:
    cid, item = one()
    today_snooze(item=item, days=7, by=owner)
    with findings({"a": {cid: ("a:1", 0.5)}, "b": {cid: ("b:new", 0.3)}}):
        today_pipeline_step(DAY + timedelta(days=1))
    item.refresh_from_db()
    assert item.state == State.SNOOZED


def test_a_handled_item_comes_back_only_when_a_reason_with_a_new_key_appears(owner) -> None:
    cid, item = one()
    today_handle(item=item, by=owner)
    item.refresh_from_db()
    assert item.state == State.HANDLED and item.handled_by == owner and item.handled_at
    assert item.handled_keys == ["a:1"]
    # The same reason the next days: stays handled.
    with findings({"a": {cid: ("a:1", 0.5)}}):
        today_pipeline_step(DAY + timedelta(days=1))
    item.refresh_from_db()
    assert item.state == State.HANDLED
    assert not TodayItem.objects.showing(on=DAY + timedelta(days=1)).exists()
    # The reason goes away and the same key returns: still handled (it is the same occurrence).
    with findings({"a": {}}):
        today_pipeline_step(DAY + timedelta(days=2))
    with findings({"a": {cid: ("a:1", 0.5)}}):
        today_pipeline_step(DAY + timedelta(days=3))
    item.refresh_from_db()
    assert item.state == State.HANDLED
    # A new key (a new occurrence of the same signal) opens it again.
    with findings({"a": {cid: ("a:2", 0.5)}}):
        counts = today_pipeline_step(DAY + timedelta(days=4))
    item.refresh_from_db()
    assert counts["reopened"] == 1
    assert item.state == State.OPEN
    assert TodayItem.objects.showing(on=DAY + timedelta(days=4)).get() == item
    # Handled again: both keys are remembered.
    today_handle(item=item, by=owner)
    item.refresh_from_db()
    assert item.handled_keys == ["a:1", "a:2"]
    assert AuditEntry.objects.filter(action="today.handled").count() == 2


def test_a_second_signal_with_a_new_key_reopens_a_handled_item(owner) -> None:
    cid, item = one()
    today_handle(item=item, by=owner)
    with findings({"a": {cid: ("a:1", 0.5)}, "b": {cid: ("b:1", 0.2)}}):
        today_pipeline_step(DAY + timedelta(days=1))
    item.refresh_from_db()
    assert item.state == State.OPEN


@pytest.mark.parametrize("days", [0, -1, 91, 10**9, True, 1.5, "3", None])
def test_a_snooze_outside_1_to_90_whole_days_is_refused_and_changes_nothing(owner, days) -> None:
    _cid, item = one()
    with pytest.raises(ValidationError) as caught:
        today_snooze(item=item, days=days, by=owner)
    assert "days" in caught.value.message_dict
    item.refresh_from_db()
    assert item.state == State.OPEN and item.snoozed_until is None
    assert not AuditEntry.objects.filter(action="today.snooze").exists()


def test_an_item_no_longer_on_the_list_cannot_be_snoozed_or_handled(owner) -> None:
    _cid, item = one()
    with findings({"a": {}}):
        today_pipeline_step(DAY)
    for act in (
        lambda: today_snooze(item=item, days=1, by=owner),
        lambda: today_handle(item=item, by=owner),
    ):
        with pytest.raises(ValidationError) as caught:
            act()
        assert "item" in caught.value.message_dict
    item.refresh_from_db()
    assert item.state == State.OPEN
