"""A goal "monthly logo churn ≤ 2 %" over a hand-made ledger: first reading, crossing,
no repeat, crossing back; each crossing emailed once to each active owner over real SMTP."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tend.accounts.actions import user_create
from tend.accounts.models import Role
from tend.goals.actions import goal_create, goals_evaluate
from tend.goals.models import AlertKind, Goal, GoalAlert
from tend.goals.tests.helpers import TODAY, build_ledger, smtp_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db: Any) -> dict[str, Any]:
    return {
        "owner": user_create(
            username="olga", password="x" * 12, role=Role.OWNER, email="olga@example.com"
        ),
        "owner_zh": user_create(
            username="wang", password="x" * 12, role=Role.OWNER, email="wang@example.com"
        ),
        "member": user_create(
            username="max", password="x" * 12, role=Role.MEMBER, email="max@example.com"
        ),
        "viewer": user_create(
            username="val", password="x" * 12, role=Role.VIEWER, email="val@example.com"
        ),
        "gone": user_create(
            username="gone", password="x" * 12, role=Role.OWNER, email="gone@example.com"
        ),
    }


@pytest.fixture
def setup(people: dict[str, Any]) -> dict[str, Any]:
    people["owner_zh"].language = "zh-hans"
    people["owner_zh"].save(update_fields=["language"])
    people["gone"].is_active = False
    people["gone"].save(update_fields=["is_active"])
    ledger = build_ledger()
    goal = goal_create(by=people["owner"], metric="logo_churn", target=Decimal(2))
    return {"ledger": ledger, "goal": goal, **people}


def subject(message: Any) -> str:
    # Python's email parser keeps the space of a folded "Subject:\n =?utf-8?…" header.
    return str(message["Subject"]).strip()


def evaluate(capture: Any) -> Any:
    with capture(execute=True):
        return goals_evaluate(today=TODAY)


def test_the_comparator_of_a_churn_goal_defaults_to_at_most(setup: dict[str, Any]) -> None:
    assert setup["goal"].comparator == "lte"
    assert str(setup["goal"].title) == "Logo churn rate ≤ 2%"


def test_churn_crossing_the_target_alerts_once_and_emails_each_active_owner(
    setup: dict[str, Any], settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ledger, goal = setup["ledger"], setup["goal"]
    with smtp_server(settings) as inbox:
        # Given one customer of 50 left in March: 2 %, the goal is met.
        ledger.churn(day=4)
        first = evaluate(django_capture_on_commit_callbacks)
        assert [(a.period, a.kind, a.value, a.met) for a in first.alerts] == [
            ("2026-02", AlertKind.INITIAL, Decimal("0.0000"), True),
            ("2026-03", AlertKind.INITIAL, Decimal("2.0000"), True),
        ]
        assert inbox.messages == []  # the first reading is a starting point, not news

        # When a second customer leaves: 4 % > 2 %.
        ledger.churn(day=9)
        crossed = evaluate(django_capture_on_commit_callbacks)

        # Then one alert and one email to each active owner, none to members or viewers.
        assert [(a.period, a.kind, a.value, a.met) for a in crossed.alerts] == [
            ("2026-03", AlertKind.MISSED, Decimal("4.0000"), False)
        ]
        assert sorted(to for _from, tos in inbox.envelopes for to in tos) == [
            "olga@example.com",
            "wang@example.com",
        ]
        english = next(m for m in inbox.messages if m["To"] == "olga@example.com")
        assert subject(english) == "Goal missed: Logo churn rate ≤ 2% — 4% in 2026-03"
        body = english.get_content()
        assert "Value: 4% (period to date)" in body
        assert "Target: ≤ 2%" in body
        assert "Period: 2026-03" in body
        assert (
            "Formula: Logo churn rate = customers active at start who churned during the "
            "period ÷ customers active at start × 100%" in body
        )
        assert "http://localhost:8000/metrics/?period=month" in body

        # Re-evaluating without a change records and sends nothing.
        again = evaluate(django_capture_on_commit_callbacks)
        assert again.alerts == []
        assert len(inbox.messages) == 2

        # When the customer comes back within March, churn is 2 % again: a second alert.
        ledger.win_back(day=15)
        back = evaluate(django_capture_on_commit_callbacks)
        assert [(a.kind, a.value) for a in back.alerts] == [(AlertKind.MET, Decimal("2.0000"))]
        assert len(inbox.messages) == 4
        assert subject(inbox.messages[-1]).startswith(("Goal met:", "目标"))

    timeline = list(GoalAlert.objects.filter(goal=goal).order_by("at", "pk"))
    assert [(a.period, a.seq, a.kind) for a in timeline] == [
        ("2026-02", 1, "initial"),
        ("2026-03", 1, "initial"),
        ("2026-03", 2, "missed"),
        ("2026-03", 3, "met"),
    ]
    assert all(a.notified_at is not None for a in timeline if a.kind != "initial")


def test_an_owner_who_chose_chinese_gets_the_email_in_chinese(
    setup: dict[str, Any], settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with smtp_server(settings) as inbox:
        evaluate(django_capture_on_commit_callbacks)
        setup["ledger"].churn(day=4)
        setup["ledger"].churn(day=5)
        evaluate(django_capture_on_commit_callbacks)
    chinese = next(m for m in inbox.messages if m["To"] == "wang@example.com")
    english = next(m for m in inbox.messages if m["To"] == "olga@example.com")
    # "Customers" is in the catalog already; the new goal strings follow with the lead's update.
    assert "客户: " in chinese.get_content()
    assert "Customers: All customers" in english.get_content()
    assert "4%" in subject(chinese) and "2026-03" in subject(chinese)


def test_an_edited_goal_starts_a_fresh_history_instead_of_alerting(
    setup: dict[str, Any], settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from tend.goals.actions import goal_update

    ledger, goal = setup["ledger"], setup["goal"]
    ledger.churn(day=4)
    ledger.churn(day=5)  # 4 %
    with smtp_server(settings) as inbox:
        evaluate(django_capture_on_commit_callbacks)  # initial: missed
        goal_update(goal=goal, by=setup["owner"], target=Decimal(5))  # now met by the edit
        result = evaluate(django_capture_on_commit_callbacks)
    assert [(a.kind, a.revision, a.met) for a in result.alerts] == [
        ("initial", 2, True),
        ("initial", 2, True),
    ]
    assert inbox.messages == []


def test_archived_goals_are_not_evaluated(
    setup: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    from tend.goals.actions import goal_archive

    goal_archive(goal=setup["goal"], by=setup["owner"])
    result = evaluate(django_capture_on_commit_callbacks)
    assert result.goals == 0 and result.alerts == []
    assert Goal.objects.active().count() == 0
