"""Only an owner starts a training run from the page; a member or viewer gets 403 and
nothing changes. Without a training task in this installation the owner is told so."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tend.predict.models import ChurnModel
from tend.predict.tests.factories import make_churn_model
from tend.predict.training_queue import train_task

pytestmark = pytest.mark.django_db


def test_members_and_viewers_cannot_train(member_client: Client, viewer_client: Client) -> None:
    make_churn_model()
    before = list(ChurnModel.objects.values_list("version", "is_active", "status"))
    for client in (member_client, viewer_client):
        assert client.post(reverse("predict:churn_train")).status_code == 403
        assert client.get(reverse("predict:churn_train")).status_code == 405
    assert list(ChurnModel.objects.values_list("version", "is_active", "status")) == before


def test_an_owner_trains_or_is_told_why_not(owner_client: Client) -> None:
    response = owner_client.post(reverse("predict:churn_train"), follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    if train_task() is None:
        assert "Training is not available in this installation yet." in html
        assert not ChurnModel.objects.exists()
    else:
        # The immediate backend runs the task: a run is stored (trained or not enough data).
        assert ChurnModel.objects.exists()
        assert ChurnModel.objects.get().trained_by == "olivia"
