"""Every write action leaves an audit row saying who, what, concerning which customer and
from which address: one representative action of every app, called as a page calls it
(inside the request's audit origin), and a few through real HTTP requests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from tend.accounts.actions import apikey_create, user_change_role
from tend.accounts.audit_context import AuditOrigin, audit_origin
from tend.accounts.models import AuditEntry, Role, User
from tend.factories import make_customer

IP = "203.0.113.7"


def _customer_update(by: User, c: Any) -> Any:
    from tend.customers.actions import customer_update

    customer_update(customer=c, by=by, name="Renamed")
    return c.pk


def _note(by: User, c: Any) -> Any:
    from tend.customers.actions import customer_add_note

    customer_add_note(customer=c, by=by, body="Called them")
    return c.pk


def _contact(by: User, c: Any) -> Any:
    from tend.customers.actions import contact_create

    contact_create(customer=c, by=by, name="Ann", email="ann@example.com")
    return c.pk


def _channel(by: User, c: Any) -> Any:
    from tend.customers.channels import channel_create

    channel_create(code="fairs", name="Fairs", by=by)
    return None


def _role(by: User, c: Any) -> Any:
    other = User.objects.create_user(username="sam", password="x", role=Role.MEMBER)
    user_change_role(user=other, role=Role.VIEWER, by=by)
    return None


def _apikey(by: User, c: Any) -> Any:
    apikey_create(name="ci", kind="read", by=by)
    return None


def _task(by: User, c: Any) -> Any:
    from tend.tasks.actions import task_create

    task_create(title="Call back", by=by, customer=c)
    return c.pk


def _goal(by: User, c: Any) -> Any:
    from tend.goals.actions import goal_create

    goal_create(by=by, metric="mrr", target=1000)
    return None


def _segment(by: User, c: Any) -> Any:
    from tend.segments.actions import segment_create

    segment_create(by=by, name="Big", condition={"field": "mrr", "op": "gte", "value": 50})
    return None


def _stage(by: User, c: Any) -> Any:
    from tend.lifecycle.actions import customer_set_stage_by_hand

    customer_set_stage_by_hand(customer=c, stage="churned", by=by, reason="asked")
    return c.pk


def _rule(by: User, c: Any) -> Any:
    from tend.lifecycle.actions import rule_create

    rule_create(by=by, name="r", condition={"all": []}, stage="onboarding")
    return None


def _plan(by: User, c: Any) -> Any:
    from tend.billing.actions import plan_create

    plan_create(code="pro", name="Pro", price="49.00", by=by)
    return None


def _subscription(by: User, c: Any) -> Any:
    from decimal import Decimal

    from tend.billing.actions import subscription_create

    subscription_create(customer=c, by=by, mrr=Decimal("20"))
    return c.pk


def _suppression(by: User, c: Any) -> Any:
    from tend.messaging.actions import suppression_add

    suppression_add(email="x@example.com", reason="manual", by=by)
    return None


def _template(by: User, c: Any) -> Any:
    from tend.messaging.template_actions import email_template_create

    email_template_create(by=by, name="Hi", subject_en="Hello", body_en="Hello there")
    return None


def _digest(by: User, c: Any) -> Any:
    from tend.digest.actions import digest_set_frequency

    digest_set_frequency(user=by, frequency="weekly", by=by)
    return None


def _playbook(by: User, c: Any) -> Any:
    from tend.playbooks.actions import playbook_create

    playbook_create(
        by=by,
        name="Welcome",
        trigger="manual",
        trigger_config={},
        steps=[{"id": "n1", "type": "note", "config": {"text": "Hello"}}],
    )
    return None


def _scorecard(by: User, c: Any) -> Any:
    from tend.health.scorecards import DEFAULT_SCORECARD, scorecard_save

    raw = copy.deepcopy(DEFAULT_SCORECARD)
    raw.update(name="Big accounts", condition={"all": []}, segment=None)
    scorecard_save(raw, by=by)
    return None


def _privacy_export(by: User, c: Any) -> Any:
    from tend.privacy.actions import customer_export

    customer_export(customer=c, by=by)
    return c.pk


def _privacy_erase(by: User, c: Any) -> Any:
    from tend.privacy.actions import customer_erase

    customer_erase(customer=c, by=by)
    return c.pk


# (action function, the audit action it must write)
ACTIONS: dict[str, tuple[Callable[[User, Any], Any], str]] = {
    "accounts-role": (_role, "user.role"),
    "accounts-apikey": (_apikey, "apikey.create"),
    "customers-update": (_customer_update, "customer.update"),
    "customers-note": (_note, "timeline.add"),
    "customers-contact": (_contact, "contact.create"),
    "customers-channel": (_channel, "channel.create"),
    "tasks-create": (_task, "task.create"),
    "goals-create": (_goal, "goal.create"),
    "segments-create": (_segment, "segment.create"),
    "lifecycle-stage": (_stage, "customer.stage"),
    "lifecycle-rule": (_rule, "lifecycle.rule.create"),
    "billing-plan": (_plan, "plan.create"),
    "billing-subscription": (_subscription, "subscription.create"),
    "messaging-suppression": (_suppression, "suppression.add"),
    "messaging-template": (_template, "emailtemplate.create"),
    "digest-frequency": (_digest, "user.digest"),
    "playbooks-create": (_playbook, "playbook.create"),
    "health-scorecard": (_scorecard, "scorecard.create"),
    "privacy-export": (_privacy_export, "privacy.export"),
    "privacy-erase": (_privacy_erase, "privacy.erase"),
}


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_a_web_write_records_who_what_which_customer_and_the_address(name, owner):
    fn, action = ACTIONS[name]
    customer = make_customer(name="Acme")
    before = AuditEntry.objects.count()
    with audit_origin(AuditOrigin(ip=IP, via="web")), transaction.atomic():
        customer_id = fn(owner, customer)
    new = AuditEntry.objects.order_by("pk")[before:]
    entry = next((e for e in new if e.action == action), None)
    assert entry is not None, [e.action for e in new]
    assert entry.actor == owner
    assert entry.actor_label == owner.username
    assert entry.ip == IP
    assert entry.via == "web"
    if customer_id is not None:
        assert entry.customer_id == customer_id
    # Nothing this call wrote left the address or origin out.
    assert all(e.ip == IP and e.via == "web" for e in new)


def test_every_app_with_write_actions_has_a_representative_above():
    apps_covered = {name.split("-")[0] for name in ACTIONS}
    assert {
        "accounts",
        "customers",
        "tasks",
        "goals",
        "segments",
        "lifecycle",
        "billing",
        "messaging",
        "digest",
        "playbooks",
        "health",
    } <= apps_covered
