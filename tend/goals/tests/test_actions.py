"""Goal actions: validation that names the field, defaults, audit rows, progress, and the
evaluation's guarantees (no double alert when two runs race, emails retried after an SMTP
failure)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from tend.accounts.models import AuditEntry
from tend.goals import actions
from tend.goals.actions import goal_create, goal_update, goals_evaluate
from tend.goals.models import Goal, GoalAlert, goal_metrics
from tend.goals.tests.helpers import TODAY, build_ledger, free_port, smtp_server
from tend.metrics.formulas import FORMULAS

pytestmark = pytest.mark.django_db


def errors_of(**kwargs: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        goal_create(by=None, **{"metric": "logo_churn", "target": Decimal(2), **kwargs})
    return caught.value.message_dict


def test_goals_can_target_every_metric_the_series_computes_and_nothing_else() -> None:
    assert {"logo_churn", "nrr", "grr", "crr", "mrr", "arpa", "cac"} <= set(goal_metrics())
    assert set(goal_metrics()) <= set(FORMULAS)
    assert "nps" not in goal_metrics()  # in the registry, but not in the monthly series
    assert list(errors_of(metric="nps")) == ["metric"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"metric": "happiness"}, "metric"),
        ({"target": Decimal("1000.01")}, "target"),
        ({"target": Decimal("-100.5")}, "target"),
        ({"target": "lots"}, "target"),
        ({"metric": "mrr", "target": Decimal(-1)}, "target"),
        ({"comparator": "<"}, "comparator"),
        ({"period": "week"}, "period"),
        ({"filters": {"country": ["Germany"]}}, "filters.country"),
        ({"filters": {"segment": ["x"]}}, "filters"),
        ({"name": "x" * 121}, "name"),
    ],
)
def test_a_bad_goal_is_refused_with_an_error_naming_the_field(
    kwargs: dict[str, Any], field: str
) -> None:
    assert field in errors_of(**kwargs)
    assert not Goal.objects.exists()


def test_net_new_mrr_may_aim_below_zero_and_nrr_defaults_to_at_least(owner: Any) -> None:
    shrink = goal_create(by=owner, metric="net_new_mrr", target=Decimal(-500))
    assert shrink.comparator == "gte"
    assert goal_create(by=owner, metric="nrr", target=Decimal(105)).comparator == "gte"
    assert goal_create(by=owner, metric="cac", target=Decimal(300)).comparator == "lte"


def test_each_write_leaves_an_audit_row(owner: Any) -> None:
    from tend.factories import make_plan

    plan = make_plan("audited", "20")
    goal = goal_create(
        by=owner, metric="logo_churn", target=Decimal(2), filters={"plan": [plan.pk]}
    )
    assert goal.filters == {"plan": [str(plan.pk)]}
    goal_update(goal=goal, by=owner, name="Churn")  # not a definition: same revision
    assert goal.revision == 1
    goal_update(goal=goal, by=owner, period="quarter")
    assert goal.revision == 2
    goal_update(goal=goal, by=owner, period="quarter")  # no change, no row
    rows = list(
        AuditEntry.objects.filter(object_id=str(goal.pk), object_type="goals.goal")
        .order_by("pk")
        .values_list("action", "changes")
    )
    assert [action for action, _changes in rows] == ["goal.create", "goal.update", "goal.update"]
    assert rows[2][1] == {"period": ["month", "quarter"]}


@pytest.mark.parametrize(
    ("comparator", "target", "value", "progress"),
    [
        ("lte", "2", "1", 100.0),
        ("lte", "2", "3", 66.7),
        ("lte", "0", "1", 0.0),
        ("gte", "105", "84", 80.0),
        ("gte", "105", "110", 100.0),
        ("gte", "100", "-20", 0.0),
    ],
)
def test_progress_towards_the_target(
    comparator: str, target: str, value: str, progress: float
) -> None:
    goal = Goal(metric="nrr", comparator=comparator, target=Decimal(target))
    assert goal.progress(Decimal(value)) == progress


def test_two_racing_evaluations_record_a_crossing_once(
    owner: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ledger = build_ledger(customers=10)
    goal_create(by=owner, metric="logo_churn", target=Decimal(5))
    goals_evaluate(today=TODAY)
    ledger.churn(day=3)
    assert len(goals_evaluate(today=TODAY).crossings) == 1
    # A second run that read the history before the first one wrote its row:
    monkeypatch.setattr(actions, "_last_alerts", lambda goals, statuses: {})
    late = goals_evaluate(today=TODAY)
    assert late.alerts == []
    assert GoalAlert.objects.filter(kind="missed").count() == 1


def test_an_email_the_mail_server_could_not_take_is_retried_by_the_outbox(
    owner: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from tend.messaging.models import Message
    from tend.messaging.sending import messages_send_due

    ledger = build_ledger(customers=10)
    goal_create(by=owner, metric="logo_churn", target=Decimal(5))
    goals_evaluate(today=TODAY)
    ledger.churn(day=3)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    with django_capture_on_commit_callbacks(execute=True):
        goals_evaluate(today=TODAY)
    alert = GoalAlert.objects.get(kind="missed")
    assert alert.notified_at is not None  # handed to the outbox, once
    message = Message.objects.get(source="goal_alert", source_id=str(alert.pk))
    assert (message.status, message.attempts, message.to) == ("queued", 1, owner.email)
    assert "ConnectionRefusedError" in message.last_error

    with smtp_server(settings) as inbox, django_capture_on_commit_callbacks(execute=True):
        assert goals_evaluate(today=TODAY).alerts == []  # nothing new: not enqueued again
        assert inbox.messages == []
        # The outbox's retry, once its backoff has passed, delivers it.
        assert messages_send_due(now=message.next_attempt_at) == 1
    assert [m["To"] for m in inbox.messages] == [owner.email]
    assert Message.objects.filter(source="goal_alert").count() == 1
