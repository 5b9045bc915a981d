"""When no model could be trained the page says why ("Not enough data to train: 12 churned,
need 20") and what the founder can do; no charts, no error. Never trained: says so."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tend.predict.tests.factories import make_not_enough_data_model

pytestmark = pytest.mark.django_db


def test_not_enough_data_is_explained_with_the_numbers(
    owner_client: Client, viewer_client: Client
) -> None:
    make_not_enough_data_model(have=12, need=20)
    for client in (owner_client, viewer_client):
        response = client.get(reverse("predict:churn"))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Not enough data to train: 12 churned, need 20." in html
        assert 'id="empty-steps"' in html and "tend train --traits-csv" in html
        assert "data-figure" not in html and "plotly" not in html
        assert 'data-version="1"' in html  # the run is in the history, with its message


def test_never_trained_says_so(member_client: Client) -> None:
    html = member_client.get(reverse("predict:churn")).content.decode()
    assert "No churn model has been trained yet" in html
    assert "No training run yet." in html


def test_the_message_goes_through_the_readers_language(owner_client: Client) -> None:
    """The stored English message is not what the page shows: it is rebuilt from
    message_params by gettext, so a catalog entry changes it."""
    model = make_not_enough_data_model(have=3, need=20)
    model.message = "garbled stored text"
    model.save(update_fields=["message"])
    with translation.override("en"):
        html = owner_client.get(reverse("predict:churn")).content.decode()
    assert "Not enough data to train: 3 churned, need 20." in html
    assert "garbled stored text" not in html.split('id="empty-title"')[1].split("</h2>")[0]


def test_a_traits_only_run_is_shown_as_not_scoring_daily(viewer_client: Client) -> None:
    from tend.predict.models import TrainingMode
    from tend.predict.tests.factories import make_churn_model

    make_churn_model(version=1, active=False, mode=TrainingMode.TRAITS)
    html = viewer_client.get(reverse("predict:churn")).content.decode()
    assert 'id="shown-inactive"' in html and 'data-metric="auc"' in html
    assert "Traits only: stratified 5-fold cross-validation" in html
