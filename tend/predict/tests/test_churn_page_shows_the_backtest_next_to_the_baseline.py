"""The model page shows the active model's backtest next to the baseline, each metric with its
formula and a plain-words reading, a verdict, the charts' figures and the training history;
every role reads it, only owners see "Train now"."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from tend.factories import make_customer
from tend.predict.tests.factories import (
    make_churn_model,
    make_day_of_scores,
    make_not_enough_data_model,
    metrics,
)

pytestmark = pytest.mark.django_db


def _figure(html: str, name: str) -> dict:
    found = re.search(rf'<script id="{name}" type="application/json">(.*?)</script>', html, re.S)
    assert found, name
    return json.loads(found.group(1))


def test_every_role_reads_the_metrics_formulas_and_verdict(
    owner_client: Client, member_client: Client, viewer_client: Client
) -> None:
    model = make_churn_model()
    make_day_of_scores([make_customer() for _ in range(30)], model=model)
    for client in (owner_client, member_client, viewer_client):
        response = client.get(reverse("predict:churn"))
        assert response.status_code == 200
        html = response.content.decode()
        assert 'data-metric="auc"' in html and "0.81" in html and "0.66" in html
        assert "AUC = P(risk of a random churner &gt; risk of a random stayer)" in html
        assert "Top-decile lift = churn rate among the riskiest tenth" in html
        assert "Brier score = mean of (predicted risk − outcome)²" in html
        assert "The model ranks a churner above a stayer 81% of the time; the baseline 66%." in html
        assert 'data-earns="yes"' in html and "The model earns its place" in html
        assert 'data-feature="days_since_last_activity"' in html  # importance, largest first
        assert "Days since the last activity" in html
        for name in ("reliability-figure", "lift-figure", "distribution-figure"):
            assert _figure(html, name)["data"], name
        assert sum(_figure(html, "distribution-figure")["data"][0]["y"]) == 30
        assert f'data-version="{model.version}"' in html
    assert 'id="train-button"' in owner_client.get(reverse("predict:churn")).content.decode()
    for client in (member_client, viewer_client):
        assert 'id="train-button"' not in client.get(reverse("predict:churn")).content.decode()


def test_a_model_that_does_not_beat_the_baseline_says_so(owner_client: Client) -> None:
    make_churn_model(metrics=metrics(auc=0.64, base_auc=0.66))
    html = owner_client.get(reverse("predict:churn")).content.decode()
    assert 'data-earns="no"' in html
    assert "does not beat the simple rule" in html


def test_a_failed_latest_run_is_shown_above_the_model_that_still_scores(
    owner_client: Client,
) -> None:
    make_churn_model(version=1)
    make_not_enough_data_model(version=2, have=7)
    html = owner_client.get(reverse("predict:churn")).content.decode()
    assert 'id="latest-problem"' in html
    assert "Not enough data to train: 7 churned, need 20." in html
    assert 'data-metric="auc"' in html


def test_the_page_runs_a_fixed_number_of_queries(owner_client: Client) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    model = make_churn_model(version=1)
    make_day_of_scores([make_customer() for _ in range(5)], model=model)
    with CaptureQueriesContext(connection) as few:
        owner_client.get(reverse("predict:churn"))
    for v in range(2, 12):
        make_churn_model(version=v)
    make_day_of_scores(
        [make_customer() for _ in range(40)],
        model=model,
        day=model.trained_at.date().replace(day=1),
    )
    with CaptureQueriesContext(connection) as many:
        owner_client.get(reverse("predict:churn"))
    assert len(many) == len(few)
