"""Builders for the engine's tests: playbooks through the actions, a clock passed explicitly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tend.playbooks.actions import playbook_create, playbook_set_status
from tend.playbooks.models import Playbook, PlaybookRun, RunStep

T0 = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)


def active_playbook(
    by: Any = None,
    *,
    name: str = "P",
    trigger: str = "manual",
    trigger_config: dict[str, Any] | None = None,
    steps: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> Playbook:
    playbook = playbook_create(
        by=by,
        name=name,
        trigger=trigger,
        trigger_config=trigger_config or {},
        steps=steps if steps is not None else [note("n1")],
        **fields,
    )
    playbook_set_status(playbook=playbook, status="active", by=by)
    # Switched on at the start of the tests' clock, so changes "before" it are not ignored.
    Playbook.objects.filter(pk=playbook.pk).update(enabled_at=datetime(2000, 1, 1, tzinfo=UTC))
    playbook.refresh_from_db()
    return playbook


def note(step_id: str, text: str = "Hello") -> dict[str, Any]:
    return {"id": step_id, "type": "note", "config": {"text": text}}


def stage(step_id: str, value: str) -> dict[str, Any]:
    return {"id": step_id, "type": "stage", "config": {"stage": value}}


def wait(step_id: str, days: int) -> dict[str, Any]:
    return {"id": step_id, "type": "wait", "config": {"days": days}}


def outcomes(run: PlaybookRun) -> list[tuple[str, str]]:
    return list(
        RunStep.objects.filter(run=run).order_by("at", "pk").values_list("step_id", "outcome")
    )
