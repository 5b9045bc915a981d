"""Background jobs for churn models: training (the weekly ``TEND_SCHEDULES["churn-train"]``
and the model page's "Train now")."""

from __future__ import annotations

import logging

from django_tasks import task

from tend.predict.errors import NotEnoughData

log = logging.getLogger(__name__)


@task()
def churn_train_task(trained_by: str = "schedule") -> int:
    """Train the churn model as ``trained_by`` (a user name; "schedule" for the weekly run).
    Returns the new version, or 0 when there was not enough data (the run is stored with its
    message, so the model page says why)."""
    from tend.accounts.models import User
    from tend.predict.actions import churn_train

    by = User.objects.filter(username=trained_by).first() if trained_by != "schedule" else None
    try:
        return churn_train(by=by, label="" if by is not None else trained_by).version
    except NotEnoughData as exc:
        log.info("churn model not trained: %s", exc)
        return 0


# The weekly schedule's entry point (TEND_SCHEDULES["churn-train"]).
churn_train_scheduled = churn_train_task
