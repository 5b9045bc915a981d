"""Saving a playbook: every error named by its field path, nothing half-saved."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tend.customers.models import Tag
from tend.messaging.models import EmailTemplate, WebhookEndpoint
from tend.playbooks.actions import PlaybookError, playbook_create, playbook_update
from tend.playbooks.models import Playbook
from tend.playbooks.steps import enter_arm, first_position, next_position, steps_clean
from tend.playbooks.tests.helpers import note

pytestmark = pytest.mark.django_db


def errors_of(**fields):  # type: ignore[no-untyped-def]
    fields.setdefault("name", "Check")
    fields.setdefault("trigger", "manual")
    before = Playbook.objects.count()
    with pytest.raises(PlaybookError) as caught:
        playbook_create(by=None, **fields)
    assert Playbook.objects.count() == before  # nothing half-saved
    return dict(caught.value.errors)


def test_unknown_action_and_duplicate_ids() -> None:
    errors = errors_of(
        steps=[note("a"), {"id": "a", "type": "fax", "config": {}}, {"id": "x y", "type": "note"}]
    )
    assert "is used twice" in errors["steps[1].id"]
    assert "“fax” is not a step type" in errors["steps[1].type"]
    assert "steps[2].id" in errors
    assert "steps[2].config.text" in errors  # a note needs text


def test_bad_branch_condition_names_the_path() -> None:
    errors = errors_of(
        steps=[
            {
                "id": "b1",
                "type": "branch",
                "config": {"condition": {"field": "nope", "op": "eq", "value": 1}},
                "then": [{"id": "s1", "type": "stage", "config": {"stage": "moon"}}],
            }
        ]
    )
    assert "steps[0].config.condition" in errors
    assert "Choose a stage" in errors["steps[0].then[0].config.stage"]


def test_deleted_template_tag_and_endpoint() -> None:
    gone = EmailTemplate.objects.create(
        name="Old", subject_en="Hi", body_en="Hi", archived_at=timezone.now()
    )
    ftp = WebhookEndpoint.objects.create(name="FTP", url="ftp://example.com/x", secret="s" * 32)
    errors = errors_of(
        steps=[
            {"id": "e1", "type": "email", "config": {"template": gone.pk}},
            {"id": "e2", "type": "email", "config": {"template": 999_999}},
            {"id": "t1", "type": "tag_add", "config": {"tag": "vip"}},
            {"id": "w1", "type": "webhook", "config": {"endpoint": 999_999}},
            {"id": "w2", "type": "webhook", "config": {"endpoint": ftp.pk}},
        ]
    )
    assert "deleted or archived" in errors["steps[0].config.template"]
    assert "deleted or archived" in errors["steps[1].config.template"]
    assert "There is no tag “vip”" in errors["steps[2].config.tag"]
    assert "deleted or archived" in errors["steps[3].config.endpoint"]
    assert "http:// or https://" in errors["steps[4].config.endpoint"]


def test_trigger_condition_and_fields() -> None:
    errors = errors_of(
        name="",
        trigger="stage_entered",
        trigger_config={"stage": "moon"},
        condition={"field": "mrr", "op": "gt"},
        reentry="sometimes",
        holdout_percent=95,
    )
    assert set(errors) >= {"name", "trigger_config.stage", "reentry", "holdout_percent"}
    assert any(k.startswith("condition") for k in errors)
    assert "trigger" in errors_of(trigger="telepathy")


def test_hostile_text_is_refused_with_the_field() -> None:
    errors = errors_of(name="a\x00b", steps=[note("n1", "x\ud800y")])
    assert "name" in errors
    assert "steps[0].config.text" in errors
    errors = errors_of(steps="not a list")
    assert "steps" in errors
    errors = errors_of(steps=[{"id": "w", "type": "wait", "config": {"days": 10**12}}])
    assert "steps[0].config.days" in errors


def test_update_validates_whole_and_keeps_the_old_version() -> None:
    Tag.objects.create(name="vip")
    playbook = playbook_create(
        by=None,
        name="Tags",
        trigger="manual",
        steps=[{"id": "t", "type": "tag_add", "config": {"tag": "vip"}}],
    )
    Tag.objects.filter(name="vip").delete()
    with pytest.raises(PlaybookError) as caught:
        playbook_update(playbook=playbook, by=None, name="Renamed")
    assert "steps[0].config.tag" in dict(caught.value.errors)
    playbook.refresh_from_db()
    assert playbook.name == "Tags" and playbook.version == 1


def test_navigation_through_branches() -> None:
    steps = steps_clean(
        [
            note("a"),
            {
                "id": "b",
                "type": "branch",
                "config": {"condition": {"field": "mrr", "op": "gt", "value": 0}},
                "then": [note("t1"), note("t2")],
                "else": [],
            },
            note("z"),
        ]
    )
    assert first_position(steps) == ["a"]
    assert next_position(steps, ["a"]) == ["b"]
    assert enter_arm(steps, ["b"], "then") == ["b", "then", "t1"]
    assert next_position(steps, ["b", "then", "t1"]) == ["b", "then", "t2"]
    assert next_position(steps, ["b", "then", "t2"]) == ["z"]
    assert enter_arm(steps, ["b"], "else") == ["z"]
    assert next_position(steps, ["z"]) == []
