"""Playbooks for the page and API tests, made through the engine's actions."""

from __future__ import annotations

import json
from typing import Any

from tend.accounts.models import Role, User
from tend.customers.models import Customer
from tend.factories import make_customer
from tend.playbooks.actions import playbook_create, playbook_set_status, playbook_start
from tend.playbooks.models import Playbook, PlaybookStatus


def good_steps() -> list[dict[str, Any]]:
    """A note, a wait, and a branch on MRR that moves big customers to "expansion"."""
    return [
        {"id": "s1", "type": "note", "config": {"text": "Say hello"}},
        {"id": "s2", "type": "wait", "config": {"days": 3}},
        {
            "id": "b1",
            "type": "branch",
            "config": {"condition": {"all": [{"field": "mrr", "op": "gt", "value": 100}]}},
            "then": [{"id": "s3", "type": "stage", "config": {"stage": "expansion"}}],
            "else": [{"id": "s4", "type": "note", "config": {"text": "Small one"}}],
        },
    ]


def an_owner() -> User:
    return User.objects.filter(role=Role.OWNER).first() or User.objects.create_user(
        username="pb-owner", password="x" * 12, role=Role.OWNER
    )


def make_playbook(name: str = "Welcome", *, active: bool = False, **fields: Any) -> Playbook:
    values: dict[str, Any] = {
        "name": name,
        "trigger": "manual",
        "trigger_config": {},
        "steps": good_steps(),
    }
    values.update(fields)
    playbook = playbook_create(by=an_owner(), **values)
    if active:
        playbook_set_status(playbook=playbook, status=PlaybookStatus.ACTIVE, by=an_owner())
        playbook.refresh_from_db()
    return playbook


def start_for(playbook: Playbook, *names: str) -> list[Customer]:
    customers = [make_customer(n) for n in names]
    playbook_start(playbook=playbook, customers=customers, by=an_owner())
    return customers


def form_data(**overrides: Any) -> dict[str, Any]:
    """What the editor posts for a valid manual playbook."""
    data: dict[str, Any] = {
        "name": "Onboarding by hand",
        "description": "",
        "trigger": "manual",
        "trigger_config": "{}",
        "condition": json.dumps({"all": []}),
        "steps": json.dumps(good_steps()),
        "reentry": "occurrence",
        "reentry_days": "0",
        "holdout_percent": "0",
        "outcome_kind": "",
        "outcome_days": "30",
        "outcome_event": "",
    }
    data.update(overrides)
    return data


def snapshot() -> tuple[Any, ...]:
    """Everything the playbook surfaces can change, comparable before and after."""
    from tend.playbooks.models import PlaybookRun

    return (
        sorted(
            Playbook.objects.values_list(
                "pk", "name", "status", "version", "trigger", "holdout_percent"
            )
        ),
        sorted(Playbook.objects.values_list("pk", "steps").order_by("pk"), key=lambda r: r[0]),
        sorted(PlaybookRun.objects.values_list("pk", "status", "customer_id")),
    )
