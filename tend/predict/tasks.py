"""Background jobs for churn models: the weekly retrain (``TEND_SCHEDULES["churn-train"]``)."""

from __future__ import annotations

import logging

from django_tasks import task

from tend.predict.errors import NotEnoughData

log = logging.getLogger(__name__)


@task()
def churn_train_scheduled() -> int:
    """Retrain the churn model; returns the new version (0 when there was not enough data:
    the run is stored with its message, so the model page says why)."""
    from tend.predict.actions import churn_train

    try:
        return churn_train(label="schedule").version
    except NotEnoughData as exc:
        log.info("churn model not trained: %s", exc)
        return 0
