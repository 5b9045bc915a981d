"""The dashboard's goals panel: an htmx partial with every goal's progress this period."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from tend.goals.actions import goal_create
from tend.goals.tests.helpers import build_ledger

pytestmark = pytest.mark.django_db


def test_the_panel_shows_each_goal_with_value_target_badge_and_formula(
    owner: Any, viewer_client: Any
) -> None:
    ledger = build_ledger(customers=4)
    ledger.subscriptions[0].refresh_from_db()
    goal_create(by=owner, metric="logo_churn", target=Decimal(2))
    goal_create(by=owner, metric="nrr", target=Decimal(105), period="quarter", name="Grow")
    goal_create(by=owner, metric="mrr", target=Decimal(1000), filters={"channel": ["organic"]})

    response = viewer_client.get(reverse("goals:panel"), {"period": "month"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # a partial, not a page
    assert "Logo churn rate ≤ 2%" in html
    assert "Grow" in html
    assert "Monthly recurring revenue (MRR) ≥ $1,000.00" in html
    assert "Channel: Organic search" in html
    assert "customers active at start who churned during the period" in html  # tooltip
    assert html.count('role="progressbar"') == 3


def test_the_panel_without_goals_invites_writers_to_set_one(
    owner_client: Any, viewer_client: Any
) -> None:
    assert "Set a goal" in owner_client.get(reverse("goals:panel")).content.decode()
    html = viewer_client.get(reverse("goals:panel")).content.decode()
    assert "No goals yet." in html and "Set a goal" not in html


def test_a_bad_dashboard_filter_does_not_break_the_panel(owner: Any, viewer_client: Any) -> None:
    goal_create(by=owner, metric="logo_churn", target=Decimal(2))
    response = viewer_client.get(reverse("goals:panel"), {"period": "week", "plan": "x"})
    assert response.status_code == 200
    assert "Logo churn rate ≤ 2%" in response.content.decode()
