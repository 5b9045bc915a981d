"""Goals are evaluated after every metrics refresh, through the task queue."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tend.goals.actions import goal_create
from tend.goals.models import GoalAlert
from tend.goals.tasks import goals_evaluate_task
from tend.metrics.tasks import metrics_refresh

pytestmark = pytest.mark.django_db


def test_the_metrics_refresh_task_evaluates_the_goals(
    owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    goal_create(by=owner, metric="mrr", target=Decimal(0))
    with django_capture_on_commit_callbacks(execute=True):
        metrics_refresh.enqueue()  # the immediate backend runs it, and the goals task, now
    # MRR 0 ≥ 0 in the previous and the current month: two first readings, no crossing.
    assert list(GoalAlert.objects.values_list("kind", "met")) == [
        ("initial", True),
        ("initial", True),
    ]


def test_the_goals_task_is_safe_to_run_again(owner: Any) -> None:
    goal_create(by=owner, metric="mrr", target=Decimal(0))
    assert goals_evaluate_task.enqueue().return_value == 2
    assert goals_evaluate_task.enqueue().return_value == 0
    assert GoalAlert.objects.count() == 2
