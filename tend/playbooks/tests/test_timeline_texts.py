"""Every message id a playbook writes renders as a sentence, in English and in Chinese."""

from __future__ import annotations

import pytest
from django.utils import translation

from tend.customers.models import StageChange, TimelineEntry
from tend.customers.timeline import PLAYBOOK_RESULT_IDS, describe, playbook_result, stage_reason


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_each_result_id_renders(language: str) -> None:
    with translation.override(language):
        for msg in PLAYBOOK_RESULT_IDS:
            text = playbook_result(
                {
                    "msg": msg,
                    "title": "T",
                    "to": "a@b.c",
                    "subject": "S",
                    "stage": "at_risk",
                    "tag": "vip",
                    "endpoint": "CRM",
                    "until": "2027-03-29T08:00:00+00:00",
                    "arm": "then",
                    "cap": 3,
                    "attempt": 2,
                    "at": "2027-03-29T08:00:00+00:00",
                    "attempts": 5,
                }
            )
            assert text and text != msg
        for msg in ("playbook_step", "playbook_note", "playbook_done", "playbook_canceled"):
            entry = TimelineEntry(
                kind="playbook",
                data={
                    "msg": msg,
                    "playbook": "P",
                    "detail": {"msg": "stage_set", "stage": "trial"},
                },
            )
            assert "P" in describe(entry)
        change = StageChange(reason_data={"msg": "playbook", "playbook": "P"})
        assert "P" in stage_reason(change)


@pytest.mark.django_db
def test_gallery_texts_and_runstep_describe() -> None:
    from tend.playbooks.actions import runstep_describe
    from tend.playbooks.gallery import playbook_gallery
    from tend.playbooks.models import RunStep

    entry = next(e for e in playbook_gallery() if e.key == "renewal-reminders")
    assert entry.trigger_text == "60, 30, 7 days before a renewal"
    assert entry.steps_text == ["Send email “renewal-reminder”"]
    failed = RunStep(outcome="failed", detail={"msg": "failed", "attempts": 5}, error="boom")
    assert runstep_describe(failed) == "Failed after 5 attempts: boom"
