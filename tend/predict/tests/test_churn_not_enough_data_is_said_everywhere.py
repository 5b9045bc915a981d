"""Too few churned customers: the action stores a not-enough-data run (with message and
params for the page and API) and raises; ``tend train`` exits non-zero with the message."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import CommandError, call_command

from tend.predict.actions import churn_train
from tend.predict.errors import NotEnoughData
from tend.predict.models import ChurnModel, TrainingStatus
from tend.predict.tests.features_world import churn, moment, paying_customer, use

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 7)


def _few_churned() -> None:
    for i in range(6):
        customer, sub = paying_customer(started=date(2026, 1, 5), price=str(40 + i))
        use(customer, date(2026, 3, 1))
        if i < 3:
            churn(sub, moment(date(2026, 5 + i, 12)))


def test_the_action_stores_the_reason_and_raises() -> None:
    _few_churned()
    with pytest.raises(NotEnoughData) as caught:
        churn_train(label="cli", as_of=TODAY, measure_memory=False)
    assert str(caught.value) == "not enough data to train: 3 churned, need 20"
    run = ChurnModel.objects.get()
    assert run.status == TrainingStatus.NOT_ENOUGH_DATA
    assert run.message_params == {"have": 3, "need": 20}
    assert run.message.format(**run.message_params) == str(caught.value)
    assert run.version == 1 and not run.is_active and run.artifact is None
    assert ChurnModel.objects.active() is None


def test_the_command_exits_non_zero_with_the_message() -> None:
    _few_churned()
    with pytest.raises(CommandError) as failed:
        call_command("train", "--horizon", "30")
    assert failed.value.returncode == 1  # `tend train` exits 1, printing the message
    assert str(failed.value) == "not enough data to train: 3 churned, need 20"
    assert ChurnModel.objects.get().status == TrainingStatus.NOT_ENOUGH_DATA


def test_a_bad_horizon_is_refused_before_anything_is_stored() -> None:
    with pytest.raises(CommandError, match="neither a number of days nor"):
        call_command("train", "--horizon", "soon")
    assert not ChurnModel.objects.exists()


def test_the_weekly_retrain_stores_the_reason_without_failing(settings) -> None:  # type: ignore[no-untyped-def]
    from django.utils.module_loading import import_string

    _few_churned()
    task = import_string(settings.TEND_SCHEDULES["churn-train"]["task"])
    assert task.call() == 0
    run = ChurnModel.objects.get()
    assert run.status == TrainingStatus.NOT_ENOUGH_DATA and run.trained_by == "schedule"
