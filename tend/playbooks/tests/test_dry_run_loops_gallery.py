"""Dry run (writes nothing), the loop guard (at save and at run time), re-entry, the gallery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.apps import apps

from tend.customers.actions import customer_change_stage
from tend.factories import make_customer, make_subscription
from tend.messaging.models import EmailTemplate
from tend.playbooks.actions import (
    PlaybookError,
    playbook_create,
    playbook_dry_run,
    playbook_install,
    playbook_set_status,
    playbook_start,
)
from tend.playbooks.engine import enroll, playbooks_react, runs_advance
from tend.playbooks.gallery import playbook_gallery
from tend.playbooks.models import Playbook, PlaybookRun, RunStatus, RunStep
from tend.playbooks.registry import Enrollment
from tend.playbooks.tests.helpers import T0, active_playbook, note, stage

pytestmark = pytest.mark.django_db


def row_counts() -> dict[str, int]:
    return {m._meta.label: m.objects.count() for m in apps.get_models()}


def test_dry_run_says_who_and_what_and_writes_nothing() -> None:
    playbook = active_playbook(
        trigger="stage_entered",
        trigger_config={"stage": "at_risk"},
        condition={"field": "country", "op": "eq", "value": "CN"},
        steps=[
            {
                "id": "b",
                "type": "branch",
                "config": {"condition": {"field": "mrr", "op": "gt", "value": 100}},
                "then": [stage("s", "established")],
                "else": [note("n", "Small")],
            }
        ],
    )
    cn = make_customer(country="CN", stage="at_risk")
    make_customer(country="US", stage="at_risk")
    make_customer(country="CN", stage="trial")
    before = row_counts()
    dry = playbook_dry_run(playbook=playbook)
    assert row_counts() == before
    assert [e.customer.pk for e in dry.customers] == [cn.pk]
    assert dry.candidates == 2 and dry.not_matching == 1
    texts = [s.text for s in dry.customers[0].steps]
    assert texts[0].endswith(": no") and texts[1] == "Add a timeline note: “Small”"
    assert dry.trigger == "Stage entered: At risk"


def test_dry_run_of_a_date_trigger_looks_at_the_next_days() -> None:
    playbook = active_playbook(trigger="renewal", trigger_config={"days_before": 30})
    soon, later = make_customer(), make_customer()
    now = datetime.now(UTC)
    make_subscription(soon, current_period_end=now + timedelta(days=33))
    make_subscription(later, current_period_end=now + timedelta(days=60))
    before = row_counts()
    dry = playbook_dry_run(playbook=playbook)
    assert row_counts() == before
    assert [e.customer.pk for e in dry.customers] == [soon.pk]


def test_a_loop_of_playbooks_is_refused_naming_the_circle() -> None:
    a = active_playbook(
        name="Rescue",
        trigger="stage_entered",
        trigger_config={"stage": "at_risk"},
        steps=[stage("s", "established")],
    )
    b = playbook_create(
        by=None,
        name="Watch",
        trigger="stage_entered",
        trigger_config={"stage": "established"},
        steps=[stage("s", "at_risk")],
    )
    with pytest.raises(PlaybookError) as caught:
        playbook_set_status(playbook=b, status="active", by=None)
    message = dict(caught.value.errors)["steps"]
    assert "“Watch” → “Rescue” → “Watch”" in message
    b.refresh_from_db()
    assert b.status == "draft"
    # Breaking the circle (A paused) lets B on.
    playbook_set_status(playbook=a, status="paused", by=None)
    playbook_set_status(playbook=b, status="active", by=None)


def test_the_daily_cap_stops_a_loop_at_run_time(settings: Any) -> None:
    settings.TEND_PLAYBOOK_DAILY_ENROLLMENTS = 2
    # A loop the static check cannot see: a playbook changed under the guard by the ORM.
    a = active_playbook(
        name="A",
        trigger="stage_entered",
        trigger_config={"stage": "at_risk"},
        steps=[stage("s", "established")],
    )
    b = active_playbook(
        name="B",
        trigger="stage_entered",
        trigger_config={"stage": "established"},
        steps=[note("n")],
    )
    Playbook.objects.filter(pk=b.pk).update(steps=[stage("s", "at_risk")])
    c = make_customer()
    from tend.lifecycle.actions import stage_override_clear

    customer_change_stage(customer=c, stage="at_risk", by=None)
    for _ in range(8):
        playbooks_react()
        runs_advance()
        stage_override_clear(customer=c, by=None)
    guarded = PlaybookRun.objects.filter(status=RunStatus.FAILED)
    assert guarded.count() == 1  # A's third entry is stopped, and with it the loop
    assert PlaybookRun.objects.filter(playbook=a).count() == 3
    assert PlaybookRun.objects.filter(playbook=b).count() == 2
    assert "Loop guard" in guarded.first().last_error
    step = RunStep.objects.get(run=guarded.first())
    assert step.detail == {"msg": "loop_guard", "cap": 2}


def test_reentry_once_occurrence_after_days() -> None:
    once = active_playbook(name="Once", reentry="once")
    each = active_playbook(name="Each")
    later = active_playbook(name="Later", reentry="after_days", reentry_days=10)
    c = make_customer()
    for playbook in (once, each, later):
        for day, occurrence in ((0, "x:1"), (0, "x:1"), (1, "x:2"), (11, "x:3")):
            enroll(playbook, [Enrollment(c.pk, occurrence)], now=T0 + timedelta(days=day))
    assert once.runs.count() == 1
    assert each.runs.count() == 3
    assert sorted(later.runs.values_list("occurrence", flat=True)) == ["x:1", "x:3"]


def test_bulk_enrollment_is_one_run_per_customer_and_idempotent() -> None:
    playbook = active_playbook(name="Bulk")
    ids = [make_customer().pk for _ in range(50)]
    first = enroll(playbook, [Enrollment(pk, "d:1") for pk in ids] * 2, now=T0)
    again = enroll(playbook, [Enrollment(pk, "d:1") for pk in ids], now=T0)
    assert first.created == 50 and again.created == 0 and playbook.runs.count() == 50


def test_manual_start_on_a_segment_queryset_once_a_day(owner: Any) -> None:
    from tend.customers.models import Customer

    playbook = active_playbook(owner, name="Manual")
    make_customer(country="CN"), make_customer(country="CN"), make_customer(country="US")
    members = Customer.objects.filter(country="CN")
    assert playbook_start(playbook=playbook, customers=members, by=owner, now=T0) == 2
    assert playbook_start(playbook=playbook, customers=members, by=owner, now=T0) == 0
    run = playbook.runs.first()
    assert run.started_by == owner and run.occurrence == "manual:2027-03-01"


def test_gallery_installs_each_as_a_valid_draft_once(owner: Any) -> None:
    pytest.importorskip("tend.messaging.templating")  # contract 2, on its owner's branch
    keys = [entry.key for entry in playbook_gallery()]
    assert keys == [
        "onboarding",
        "monthly-check-in",
        "renewal-reminders",
        "at-risk-rescue",
        "win-back",
        "referral-invitation",
        "birthday",
        "holiday-greeting",
    ]
    for key in keys:
        playbook = playbook_install(key=key, by=owner)
        assert playbook.status == "draft" and playbook.key == key
        assert playbook_install(key=key, by=owner).pk == playbook.pk
    assert Playbook.objects.count() == 8
    win_back = Playbook.objects.get(key="win-back")
    email = next(s for s in win_back.steps if s["type"] == "email")
    assert email["config"]["coupon"] == "WINBACK20"
    assert EmailTemplate.objects.get(pk=email["config"]["template"]).key == "win-back"
    # Every built-in can be switched on together (no loop among them).
    for playbook in Playbook.objects.all():
        playbook_set_status(playbook=playbook, status="active", by=owner)
    with pytest.raises(PlaybookError):
        playbook_install(key="nope", by=owner)


def test_gallery_names_in_chinese(owner: Any) -> None:
    from django.utils import translation

    with translation.override("zh-hans"):
        entries = {e.key: str(e.name) for e in playbook_gallery()}
    assert all(entries.values())


def test_a_loop_through_segments_and_tags_is_refused() -> None:
    from tend.customers.models import Tag
    from tend.segments.models import Segment

    Tag.objects.create(name="x")
    Tag.objects.create(name="y")
    s1 = Segment.objects.create(
        name="Has x", condition={"field": "tags", "op": "has_any", "value": ["x"]}
    )
    s2 = Segment.objects.create(
        name="Has y", condition={"field": "tags", "op": "has_any", "value": ["y"]}
    )
    mrr = Segment.objects.create(name="Paying", condition={"field": "mrr", "op": "gt", "value": 0})
    active_playbook(
        name="A",
        trigger="segment_entered",
        trigger_config={"segment": s1.pk},
        steps=[{"id": "t", "type": "tag_add", "config": {"tag": "y"}}],
    )
    safe = active_playbook(
        name="C",
        trigger="segment_entered",
        trigger_config={"segment": mrr.pk},
        steps=[{"id": "t", "type": "tag_add", "config": {"tag": "x"}}],
    )
    assert safe.status == "active"  # a segment on MRR is not set off by tags
    b = playbook_create(
        by=None,
        name="B",
        trigger="segment_entered",
        trigger_config={"segment": s2.pk},
        steps=[{"id": "t", "type": "tag_remove", "config": {"tag": "x"}}],
    )
    with pytest.raises(PlaybookError, match="“B” → “A” → “B”"):
        playbook_set_status(playbook=b, status="active", by=None)


def test_dry_run_of_an_unsaved_playbook() -> None:
    make_customer(stage="trial")
    draft = Playbook(
        name="Draft", trigger="stage_entered", trigger_config={"stage": "trial"}, steps=[note("n")]
    )
    dry = playbook_dry_run(playbook=draft)
    assert len(dry.customers) == 1 and dry.customers[0].steps[0].text.startswith("Add a timeline")
